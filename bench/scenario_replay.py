"""Is the checked plan's statement wrong because of the scenarios or because of the judge? (issue 19, docs/risk.md)

Usage::

    PYTHONPATH=src python3 bench/scenario_replay.py [--workspace real|synthetic] [--week 0] [--scenarios 10]

One past week (``--week``: 0-based among the last four whole weeks) of the workspace (``real``: the small demo with
real arrivals, :func:`evaluate_real.build_workspace`; ``synthetic``: the small demo). The ``risk = "checked"`` plan is
made as the walk-forward makes it; its statement counts, per cell, the held-out scenarios in which the *linear
model* (the shift plan fixed, the allocation re-solved knowing the scenario) meets the target. Here the same plan
is also *replayed* (:func:`capplan.simulate.replay_plan`, ``--policy``, default priority, seed 0) against each held-out scenario's
volumes as if they had arrived, and against the actual week. Per cell: met in the model's check vs met in the
replays of the same scenarios vs met in the actual week's replay. Writes ``<out>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from risk import _variants  # noqa: E402

from capplan.schema import CELL_KEYS, INTERVAL_START, LANGUAGE, QUEUE, VOLUME  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", default="real", choices=["real", "synthetic"])
    ap.add_argument("--week", type=int, default=0)
    ap.add_argument("--scenarios", type=int, default=10)
    ap.add_argument("--policy", default="priority", help="the replay's routing policy (capplan.simulate.POLICIES)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    from capplan.evaluate import evaluation_weeks
    from capplan.evaluate.walkforward import per_cell, with_config
    from capplan.evaluate.weeks import week_arrivals, week_config, workspace_before
    from capplan.forecast.run import run_forecast
    from capplan.inputs import load_workspace
    from capplan.optimize.checked import solve_checked_plan
    from capplan.optimize.stochastic import draw_scenarios
    from capplan.simulate import replay_plan
    from capplan.staffing.requirements import compute_requirements

    cpu = time.process_time()
    ws_dir = Path(tempfile.mkdtemp(prefix="capplan-screplay-")) / "ws"
    if args.workspace == "real":
        from evaluate_real import build_workspace
        build_workspace(ws_dir)
    else:
        from capplan.demo import build_demo_workspace
        build_demo_workspace(ws_dir, seed=7, size="small")
    ws = load_workspace(ws_dir)
    week = evaluation_weeks(ws.history, ws.config, 4)[args.week]
    ws = with_config(ws, _variants(ws.config, ["checked"], args.scenarios, 0.95, "expected", 2)["checked"])
    config = week_config(ws.config, week)
    past = workspace_before(ws, week, config)
    fc = run_forecast(past.history, past.events, config, engine="local", handle_times=past.handle_times)
    plan = solve_checked_plan(past, compute_requirements(fc.forecast, past, 50), fc.forecast, fc.backtest_errors)
    held = draw_scenarios(fc.forecast, fc.backtest_errors, config, args.scenarios, skip=args.scenarios)
    met = []
    for f in held.forecasts:
        arrivals = f[[INTERVAL_START, QUEUE, LANGUAGE, VOLUME]]
        met.append(per_cell(replay_plan(past, plan.shift_plan, plan.allocation, arrivals, policy=args.policy, seed=0).cell_weeks)
                   .set_index(CELL_KEYS)["met"])
    actual = per_cell(replay_plan(past, plan.shift_plan, plan.allocation, week_arrivals(ws.history, week), policy=args.policy,
                                  seed=0).cell_weeks).set_index(CELL_KEYS)
    risk = plan.risk.set_index(CELL_KEYS)
    table = pd.DataFrame({"lp_met_held_out": risk["met_held_out"], "replay_met_held_out": pd.concat(met, axis=1).sum(axis=1),
                          "stated": risk["probability"], "actual_met": actual["met"], "actual_achieved": actual["achieved"]})
    table["held_out"] = len(held.forecasts)
    print(table.to_string(float_format=lambda x: f"{x:.3f}"))
    result = {"command": "bench/scenario_replay.py " + " ".join(sys.argv[1:]), "week": str(week.date()), "policy": args.policy,
              "lp_met": int(table["lp_met_held_out"].sum()), "replay_met": int(table["replay_met_held_out"].sum()),
              "scenario_cell_weeks": int(table["held_out"].sum()), "actual_met": int(table["actual_met"].sum()),
              "cells": len(table), "cpu_s": round(time.process_time() - cpu, 1),
              "rows": table.reset_index().astype({"actual_met": bool}).to_dict("records")}
    out = args.out or ROOT / "bench" / "results" / f"scenario_replay_{args.workspace}_w{args.week}_{args.policy}"
    out.with_suffix(".json").write_text(json.dumps(result, indent=1, default=float) + "\n")
    print({k: v for k, v in result.items() if k != "rows"})


if __name__ == "__main__":
    main()
