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
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

SERVICE = ("on_time_share", "cell_weeks_met_share", "abandon_rate", "occupancy", "items")


def replayed(ws, shift_plan, allocation, arrivals, policy: str, seed: int) -> dict:
    from capplan.simulate import replay_plan

    t = time.perf_counter()
    r = replay_plan(ws, shift_plan, allocation, arrivals, policy=policy, seed=seed)
    out = {k: r.summary.get(k) for k in SERVICE}
    out["replay_seconds"] = time.perf_counter() - t
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="small", choices=["small", "default", "large"])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/capplan-contracts-bench"))
    ap.add_argument("--policies", nargs="+", default=["priority", "plan"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "contracts.json")
    args = ap.parse_args(argv)
    from replay import prepare

    from capplan.inputs import load_workspace
    from capplan.inputs.arrivals import read_arrivals_file
    from capplan.optimize import baseline_plan, check_plan
    from capplan.optimize.plan import baseline_savings
    from capplan.runs import resolve_run

    directory = args.dir / args.size
    directory.mkdir(parents=True, exist_ok=True)
    actuals = prepare(directory, args.size)
    ws = load_workspace(directory)
    plan_dir = resolve_run(directory / "plans", None, "plan")
    solve = json.loads((plan_dir / "solve.json").read_text())
    req = pd.read_parquet(plan_dir / "requirements.parquet")
    opt_sp, opt_alloc = pd.read_parquet(plan_dir / "shift_plan.parquet"), pd.read_parquet(plan_dir / "allocation.parquet")
    t = time.perf_counter()
    base = baseline_plan(ws, req)
    base_seconds = time.perf_counter() - t
    arrivals = read_arrivals_file(actuals, ws.cells())
    row = {"size": args.size, "plan_run": plan_dir.name, "status": solve["status"], "gap": solve["gap"], "solve_seconds": solve["seconds"],
           "optimizer": {"total_cost": solve["total_cost"], "penalty": solve["penalty"], "unmet_hours": solve["unmet_hours"], "moderators": solve["moderators"]},
           "baseline": {"total_cost": base.solve["total_cost"], "penalty": base.solve["penalty"], "unmet_hours": base.solve["unmet_hours"], "moderators": base.solve["moderators"],
                        "checks": check_plan(ws, req, base), "seconds": base_seconds},
           **baseline_savings(solve, base.solve)}
    for policy in args.policies:
        row["optimizer"][f"replay_{policy}"] = replayed(ws, opt_sp, opt_alloc, arrivals, policy, args.seed)
        row["baseline"][f"replay_{policy}"] = replayed(ws, base.shift_plan, base.allocation, arrivals, policy, args.seed)
    print(json.dumps(row, indent=2, default=str))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(row, indent=2, default=str))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
