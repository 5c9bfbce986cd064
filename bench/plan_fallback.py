"""What ``capplan plan`` writes on the 3x demo when the time limit is short: the optimizer's plan or the fallback.

Usage::

    PYTHONPATH=src python3 bench/plan_fallback.py [--limits 60 300] [--probe] [--lp-share X] [--out bench/results/plan_fallback_large.json]

Builds the 3x ("large") demo workspace and its requirements exactly as ``bench/plan.py`` does (seasonal-naive
forecast, ``compute_requirements``), then for each time limit runs :func:`capplan.optimize.solve_plan` and records
what it returned (status, method, the fallback's figures), its cost and unmet work against the optimal plan's known
cost (``bench/results/plan_contracts_final_large_rt.json``: optimal at 0.10 %), wall and CPU seconds and the
machine's load average before and after (the machine is shared: compare CPU seconds). ``--lp-share`` sets ``[solver] fallback_lp_share``. ``--probe`` first measures the
fallback's two allocations with no time limit: the baseline's own dispatch and the LP with the baseline's shifts
fixed (:func:`capplan.optimize.solve.fixed_staff_lp`), their CPU seconds and costs. Prints and writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

OPTIMAL = ROOT / "bench" / "results" / "plan_contracts_final_large_rt.json"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _plan_figures(s: dict) -> dict:
    keys = ("status", "method", "status_detail", "objective", "bound", "gap", "seconds", "cost", "total_cost", "penalty",
            "unmet_hours", "moderators", "baseline_cost", "baseline_penalty", "baseline_unmet_hours", "savings_vs_baseline", "fallback", "phases")
    return {k: s.get(k) for k in keys}


def probe(ws, req) -> dict:
    """The fallback's allocations measured without a time limit (CPU seconds, cost, unmet work)."""
    from capplan.optimize.baseline import baseline_plan
    from capplan.optimize.check import check_plan
    from capplan.optimize.data import prepare
    from capplan.optimize.model import build
    from capplan.optimize.plan import model_plan
    from capplan.optimize.solve import fixed_staff_lp

    d = prepare(ws, req)
    b = build(d)
    c0, t0 = time.process_time(), time.perf_counter()
    base = baseline_plan(ws, req, data=d)
    out = {"baseline_cpu_seconds": time.process_time() - c0, "baseline_wall_seconds": time.perf_counter() - t0,
           "baseline": {k: base.solve[k] for k in ("cost", "total_cost", "penalty", "unmet_hours", "moderators")}}
    c0, t0, load = time.process_time(), time.perf_counter(), _load()
    lp = fixed_staff_lp(b, ws.config.solver, base.staff, time.perf_counter() + 3600.0)
    out.update({"fixed_lp_cpu_seconds": time.process_time() - c0, "fixed_lp_wall_seconds": time.perf_counter() - t0,
                "fixed_lp_load_before": load, "fixed_lp_load_after": _load()})
    if lp is not None:
        r = model_plan(ws, d, b, lp.values, {"status": "probe"})
        out["fixed_lp"] = {"objective": lp.objective, "checks": check_plan(ws, req, r),
                           **{k: r.solve[k] for k in ("cost", "total_cost", "penalty", "unmet_hours", "moderators")}}
    return out


def run(ws, req, limit: float, lp_share: float | None = None) -> dict:
    from capplan.optimize import solve_plan

    config = ws.config
    ws.config = config.model_copy(deep=True)
    ws.config.solver.time_limit_s = limit
    if lp_share is not None:
        ws.config.solver.fallback_lp_share = lp_share
    load = _load()
    c0, t0 = time.process_time(), time.perf_counter()
    try:
        result = solve_plan(ws, req)
    finally:
        ws.config = config
    row = {"time_limit_s": limit, "fallback_lp_share": float(ws.config.solver.fallback_lp_share), "wall_seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
           "load_before": load, "load_after": _load(), **_plan_figures(result.solve), "checks": result.checks}
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limits", nargs="*", type=float, default=[60.0, 300.0])
    ap.add_argument("--probe", action="store_true")
    ap.add_argument("--size", default="large")
    ap.add_argument("--lp-share", type=float, default=None, help="[solver] fallback_lp_share for the runs (default: the config's)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "plan_fallback_large.json"))
    args = ap.parse_args(argv)
    from capplan.demo import build_demo_workspace
    from capplan.inputs import load_workspace
    from plan import make_requirements

    optimal = json.loads(OPTIMAL.read_text())["runs"][0]
    known = {k: optimal[k] for k in ("status", "gap", "objective", "bound", "total_cost", "penalty", "unmet_hours", "cpu_seconds", "solve_seconds")}
    report = {"size": args.size, "cpus": os.cpu_count(), "optimal_known": {"source": str(OPTIMAL.relative_to(ROOT)), **known}, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        build_demo_workspace(Path(tmp) / args.size, size=args.size)
        ws = load_workspace(Path(tmp) / args.size)
        req, source = make_requirements(ws)
        report["requirements"] = source
        if args.probe:
            report["probe"] = probe(ws, req)
            print(json.dumps(report["probe"], indent=1, default=str), flush=True)
        for limit in args.limits:
            row = run(ws, req, limit, args.lp_share)
            full, opt_full = row["total_cost"] + row["penalty"], known["total_cost"] + known["penalty"]
            row["vs_optimal"] = {"total_cost": row["total_cost"] / known["total_cost"] - 1.0, "cost_with_penalty": full / opt_full - 1.0,
                                 "unmet_hours": row["unmet_hours"] - known["unmet_hours"]}
            report["runs"].append(row)
            print(f"limit {limit:5.0f} s: {row['status']:10s} {row['method']:18s} wall {row['wall_seconds']:6.1f} s cpu {row['cpu_seconds']:6.1f} s "
                  f"load {row['load_before']} -> {row['load_after']}  total cost {row['total_cost']:,.0f} (+{row['vs_optimal']['total_cost']:.1%} vs optimal) "
                  f"with penalty +{row['vs_optimal']['cost_with_penalty']:.1%}, unmet {row['unmet_hours']:,.0f} h  checks {row['checks'] or 'ok'}\n"
                  f"   {row.get('status_detail') or ''}", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
