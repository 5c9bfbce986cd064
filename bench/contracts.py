"""Benchmark (issue 12): optimizer vs the planner's baseline, both replayed against the week that arrived.

    PYTHONPATH=src python3 bench/contracts.py [--size small] [--dir /tmp/capplan-contracts-bench] [--out bench/results/contracts.json]

Builds (or reuses) a demo whose data runs one week past the planning start (``bench/replay.py``'s ``prepare``:
fast forecast models, the week after the start kept aside as ``actuals.csv``), plans it with the optimizer (the
plan run's tables), makes the baseline plan (``optimize/baseline.py``) from the same requirements, checks both
with the independent checker and replays both against the actual week with the same policy and seed
(``capplan.simulate.replay_plan``): cost, unmet hours as planned, and replayed service (on-time share,
cell-weeks meeting their target, abandonment), and the saving at comparable service (``baseline_savings``: with the
unmet penalty counted, and paid cost alone). Prints the figures and writes ``bench/results/contracts.json``
(``--size default --out bench/results/contracts_default.json`` for the default demo).

Equal service (issue 12): the baseline is also made without its remedies (``REMEDY_ROUNDS = 0``: no overtime, no
capacity bought after the repair rounds) to measure what they do; both plans' cost is split into committed and
decidable (``optimize.plan.cost_split``; the optimizer's from its ``solve.json``); ``equal_service`` says whether the
baseline reaches the optimizer's replayed service and, when not, the gap left and what closing it would cost at the
cheapest skilled rate with the binding limits lifted (``gap_cost_estimate``). Written with
``--out bench/results/contracts_equal.json`` / ``contracts_equal_default.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

SERVICE = ("on_time_share", "cell_weeks_met_share", "abandon_rate", "occupancy", "items")
COST = ("total_cost", "penalty", "committed_cost", "decidable_cost", "committed_roster_cost", "committed_vendor_cost")


def replayed(ws, shift_plan, allocation, arrivals, policy: str, seed: int) -> dict:
    from capplan.simulate import replay_plan

    t = time.perf_counter()
    r = replay_plan(ws, shift_plan, allocation, arrivals, policy=policy, seed=seed)
    out = {k: r.summary.get(k) for k in SERVICE}
    out["replay_seconds"] = time.perf_counter() - t
    return out


def equal_service(row: dict, policy: str) -> dict:
    """Does the baseline reach the optimizer's replayed service (on-time share and cell-weeks met, under ``policy``)?
    If so the paid-cost saving is the honest figure; if not, the gap and its estimated cost to close."""
    opt, base = row["optimizer"], row["baseline"]
    ro, rb = opt[f"replay_{policy}"], base[f"replay_{policy}"]
    reached = rb["on_time_share"] >= ro["on_time_share"] - 1e-4 and rb["cell_weeks_met_share"] >= ro["cell_weeks_met_share"] - 1e-9
    out = {"policy": policy, "reached": bool(reached),
           "on_time_share_gap": ro["on_time_share"] - rb["on_time_share"],
           "cell_weeks_met_gap": ro["cell_weeks_met_share"] - rb["cell_weeks_met_share"],
           "unmet_hours_gap": base["unmet_hours"] - opt["unmet_hours"]}
    if reached:
        out["saving_at_equal_service"] = 1.0 - opt["total_cost"] / base["total_cost"]
    else:
        gap = float((base.get("remedies") or {}).get("gap_cost_estimate", 0.0))
        out["gap_cost_estimate"] = gap
        out["baseline_cost_with_gap_closed_estimate"] = base["total_cost"] + gap
        out["saving_vs_gap_closed_estimate"] = 1.0 - opt["total_cost"] / (base["total_cost"] + gap)
        out["decidable_saving_vs_gap_closed_estimate"] = 1.0 - opt["decidable_cost"] / (base["decidable_cost"] + gap)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="small", choices=["small", "default", "large"])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/capplan-contracts-bench"))
    ap.add_argument("--policies", nargs="+", default=["priority", "plan"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "contracts.json")
    args = ap.parse_args(argv)
    from replay import planned_week

    from capplan.inputs.arrivals import read_arrivals_file
    from capplan.optimize import baseline_plan, check_plan
    from capplan.optimize import baseline as baseline_module
    from capplan.optimize.plan import baseline_savings

    actuals, ws, plan_dir, solve, req, opt_sp, opt_alloc = planned_week(args.dir / args.size, args.size)
    t = time.perf_counter()
    base = baseline_plan(ws, req)
    base_seconds = time.perf_counter() - t
    rounds = baseline_module.REMEDY_ROUNDS
    baseline_module.REMEDY_ROUNDS = 0
    try:
        plain = baseline_plan(ws, req)
    finally:
        baseline_module.REMEDY_ROUNDS = rounds
    arrivals = read_arrivals_file(actuals, ws.cells())
    row = {"size": args.size, "plan_run": plan_dir.name, "status": solve["status"], "gap": solve["gap"], "solve_seconds": solve["seconds"],
           "optimizer": {**{k: solve[k] for k in COST}, "unmet_hours": solve["unmet_hours"], "moderators": solve["moderators"]},
           "baseline": {**{k: base.solve[k] for k in COST}, "unmet_hours": base.solve["unmet_hours"], "moderators": base.solve["moderators"],
                        "remedies": base.solve.get("baseline_remedies"), "checks": check_plan(ws, req, base), "seconds": base_seconds},
           "baseline_without_remedies": {**{k: plain.solve[k] for k in COST}, "unmet_hours": plain.solve["unmet_hours"],
                                         "checks": check_plan(ws, req, plain)},
           **baseline_savings(solve, base.solve)}
    plans = {"optimizer": (opt_sp, opt_alloc), "baseline": (base.shift_plan, base.allocation),
             "baseline_without_remedies": (plain.shift_plan, plain.allocation)}
    for policy in args.policies:
        for name, (sp, alloc) in plans.items():
            row[name][f"replay_{policy}"] = replayed(ws, sp, alloc, arrivals, policy, args.seed)
    row["equal_service"] = equal_service(row, args.policies[0])
    print(json.dumps(row, indent=2, default=str))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(row, indent=2, default=str))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
