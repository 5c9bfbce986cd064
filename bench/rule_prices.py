"""Benchmark the re-solve prices of binding.csv's rule limits (overtime cap, quality floors) on the demo workspaces.

Usage::

    PYTHONPATH=src python3 bench/rule_prices.py [--cases default small_floor] [--out bench/results/rule_prices.json]

Each case builds a demo workspace, makes the week's requirements as ``bench/plan.py`` does (seasonal-naive forecast),
plans it (no baseline) with ``[solver] price_rules = true`` and the case's settings, and reports the plan's solve
time, the re-solves' wall and CPU seconds, and every overtime_cap / quality_floor row of binding.csv with its price.
Wall times depend on the machine's load: compare the CPU seconds on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

CASES = {  # name: (demo size, settings)
    "default": ("default", {}),
    "small": ("small", {}),
    "small_floor": ("small", {("policy", "severe_graphic_min_quality"): 0.92}),
    "default_floor": ("default", {("policy", "severe_graphic_min_quality"): 0.92}),
}


def run(case: str) -> dict:
    from capplan.demo import build_demo_workspace
    from capplan.inputs import load_workspace
    from capplan.optimize import solve_plan
    from plan import make_requirements

    size, settings = CASES[case]
    with tempfile.TemporaryDirectory() as tmp:
        build_demo_workspace(Path(tmp) / size, size=size)
        ws = load_workspace(Path(tmp) / size)
        ws.config.solver.time_limit_s = 300.0
        ws.config.solver.price_rules = True
        for (section, key), value in settings.items():
            setattr(getattr(ws.config, section), key, value)
        req, _ = make_requirements(ws)
        t0, c0 = time.perf_counter(), time.process_time()
        r = solve_plan(ws, req, with_baseline=False)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = r.solve
    rows = r.binding[r.binding["kind"].isin(["overtime_cap", "quality_floor"])]
    return {"case": case, "size": size, "settings": {f"{a}.{b}": v for (a, b), v in settings.items()}, "status": s["status"],
            "plan_wall_seconds": wall, "plan_cpu_seconds": cpu, "solve_seconds": s["seconds"], "build_seconds": s["build_seconds"],
            "relaxation_seconds": s["phases"].get("relaxation_seconds"), "variables": s["variables"], "gap": s["gap"],
            "rule_price_seconds": s.get("rule_price_seconds"), "re_solves": s.get("rule_prices", []),
            "rows": rows.to_dict("records"), "checks": r.checks}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=["default", "small_floor"], choices=sorted(CASES))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "rule_prices.json"))
    args = ap.parse_args(argv)
    out = []
    for case in args.cases:
        row = run(case)
        out.append(row)
        resolves = row["re_solves"]
        print(f"{case:14s} {row['status']:8s} plan {row['plan_wall_seconds']:6.1f} s wall {row['plan_cpu_seconds']:6.1f} s CPU "
              f"(solve {row['solve_seconds']:.1f} s, relaxation {row['relaxation_seconds'] or 0:.1f} s, {row['variables']:,} variables); "
              f"{len(resolves)} re-solves {sum(x['seconds'] for x in resolves):.1f} s wall "
              f"{sum(x['cpu_seconds'] for x in resolves):.1f} s CPU", flush=True)
        for b in row["rows"]:
            print(f"    {b['kind']:14s} {b['name']:12s} {b['shadow_price']:>12,.2f}  {b['shadow_unit']}", flush=True)
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"runs": out}, indent=2, default=str))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
