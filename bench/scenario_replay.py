"""Is the checked plan's statement wrong because of the scenarios or because of the judge? (issue 19, docs/risk.md)

Usage::

    PYTHONPATH=src python3 bench/scenario_replay.py [--workspace real|synthetic] [--week 0] [--scenarios 10]

One past week (``--week``: 0-based among the last four whole weeks) of the workspace (``real``: the small demo with
real arrivals, :func:`evaluate_real.build_workspace`; ``synthetic``: the small demo). The ``risk = "checked"`` plan is
made as the walk-forward makes it; its statement counts, per cell, the held-out scenarios in which the *linear
model* (the shift plan fixed, the allocation re-solved knowing the scenario) meets the target. Here the same plan
is also *replayed* (:func:`capplan.simulate.replay_plan`, ``--policy``, default priority, seed 0) against each held-out scenario's
volumes as if they had arrived, and against the actual week. Per cell: met in the model's check vs met in the
replays of the same scenarios; and for the actual week, met in the linear check (the actual arrivals as one more
scenario, :func:`capplan.optimize.checked.check_shortfall`) vs met in its replay. Writes ``<out>.json``.
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
    from capplan.evaluate.walkforward import hindsight_forecast, per_cell, with_config
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
    p50 = compute_requirements(fc.forecast, past, 50)
    plan = solve_checked_plan(past, p50, fc.forecast, fc.backtest_errors)  # the linear judge, as the walk-forward then did
    held = draw_scenarios(fc.forecast, fc.backtest_errors, config, args.scenarios, skip=args.scenarios)
    met = []
    for f in held.forecasts:
        arrivals = f[[INTERVAL_START, QUEUE, LANGUAGE, VOLUME]]
        met.append(per_cell(replay_plan(past, plan.shift_plan, plan.allocation, arrivals, policy=args.policy, seed=0).cell_weeks)
                   .set_index(CELL_KEYS)["met"])
    lp_actual = _lp_met(past, plan, p50, hindsight_forecast(week_arrivals(ws.history, week), fc.forecast[CELL_KEYS], week, config))
    actual = per_cell(replay_plan(past, plan.shift_plan, plan.allocation, week_arrivals(ws.history, week), policy=args.policy,
                                  seed=0).cell_weeks).set_index(CELL_KEYS)
    risk = plan.risk.set_index(CELL_KEYS)
    table = pd.DataFrame({"lp_met_held_out": risk["met_held_out"], "replay_met_held_out": pd.concat(met, axis=1).sum(axis=1),
                          "stated": risk["probability"], "lp_actual_met": lp_actual, "actual_met": actual["met"], "actual_achieved": actual["achieved"]})
    table["held_out"] = len(held.forecasts)
    print(table.to_string(float_format=lambda x: f"{x:.3f}"))
    result = {"command": "bench/scenario_replay.py " + " ".join(sys.argv[1:]), "week": str(week.date()), "policy": args.policy,
              "lp_met": int(table["lp_met_held_out"].sum()), "replay_met": int(table["replay_met_held_out"].sum()),
              "scenario_cell_weeks": int(table["held_out"].sum()), "actual_met": int(table["actual_met"].sum()),
              "lp_actual_met": int(table["lp_actual_met"].sum()),
              "cells": len(table), "cpu_s": round(time.process_time() - cpu, 1),
              "rows": table.reset_index().astype({"actual_met": bool, "lp_actual_met": bool}).to_dict("records")}
    out = args.out or ROOT / "bench" / "results" / f"scenario_replay_{args.workspace}_w{args.week}_{args.policy}"
    out.with_suffix(".json").write_text(json.dumps(result, indent=1, default=float) + "\n")
    print({k: v for k, v in result.items() if k != "rows"})


def _lp_met(ws, plan, p50, known: pd.DataFrame) -> pd.Series:
    """Per cell: does the linear check (shift plan fixed, allocation re-solved) meet the target on ``known``'s volumes?"""
    from capplan.optimize.checked import check_shortfall, met_counts
    from capplan.optimize.data import prepare, with_demand
    from capplan.optimize.stochastic import cell_targets, scenario_work
    from capplan.staffing.requirements import compute_requirements

    d = prepare(ws, p50)  # the plan's model (its patterns); the actual week's demand as its one scenario
    demands = [with_demand(d, compute_requirements(known, ws, 50))]
    target = cell_targets(ws, d)
    hours = check_shortfall(d, demands, target, plan.staff, float(ws.config.solver.time_limit_s))
    met = met_counts(hours, scenario_work(d, demands), target) == 1
    return pd.Series(met, index=pd.MultiIndex.from_frame(d.cells[CELL_KEYS]))


if __name__ == "__main__":
    main()
