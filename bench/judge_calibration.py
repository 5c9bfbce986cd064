"""Does a plan's stated risk agree with the replayed week? The judge and the scenarios side by side (issue 19).

Usage::

    PYTHONPATH=src python3 bench/judge_calibration.py [--workspace real|synthetic|both] [--weeks 4] [--scenarios 10]
                                                      [--earlier 0] [--out bench/results/judge_calibration]

For each of the last ``--weeks`` whole weeks of the workspace (``real``: the small demo with real arrivals,
:func:`evaluate_real.build_workspace`; ``synthetic``: the small demo, seed 7), as ``capplan evaluate`` does: forecast
from the history before the week, the ``risk = "checked"`` plan with ``check_judge = "replay"`` (S = ``--scenarios``,
p = 0.95, 2 rounds), and that plan replayed against the week that arrived (routing ``priority``, seed 0: the
walk-forward's replay), which says per cell whether the target was met. The *same plan's* risk is then stated from
S held-out scenarios (the next blocks of the shuffle, as the product does) in several ways:

* judge ``replay`` (each scenario replayed on the plan's shifts, :class:`capplan.judge.ReplayJudge`, seeds as the
  product's) or ``model`` (the linear check, :class:`capplan.optimize.checked.ShiftCheck`);
* scenarios ``standardised`` (today's draw), ``cap2`` / ``cap1`` (``transfer_cap``: a plan hour takes at most 2x / 1x
  the backtest hour's own error), ``clip4`` (``z_clip = 4``).

Each statement is ``(met + 1/2) / (S + 1)`` per cell; scored against the replayed weeks by the Brier score (mean
squared difference of stated probability and met, 0 = perfect), beside the base rate's (every cell stated the share
met over all weeks: a forecaster that knows only the average). Nothing is tuned on the evaluated weeks: the variants
are fixed before the run. Writes ``<out>.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
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

SCENARIOS = {"standardised": {"transfer_cap": float("inf")}, "cap2": {"transfer_cap": 2.0}, "cap1": {"transfer_cap": 1.0}, "clip4": {"z_clip": 4.0}}
MODEL_JUDGED = ("standardised", "cap2")  # the linear check's statement for these (it costs an LP per scenario)


def week_rows(ws, week: pd.Timestamp, S: int) -> tuple[list[dict], dict]:
    """Per cell: met in the replayed week, and the stated probability of every (judge, scenarios) variant."""
    from capplan.evaluate.walkforward import per_cell
    from capplan.evaluate.weeks import week_arrivals, week_config, workspace_before
    from capplan.forecast.run import run_forecast
    from capplan.judge import ReplayJudge, plan_for_risk
    from capplan.optimize.checked import ShiftCheck, met_counts
    from capplan.optimize.data import prepare
    from capplan.optimize.stochastic import _demands, cell_targets, draw_scenarios, scenario_work
    from capplan.simulate import replay_plan
    from capplan.staffing.requirements import compute_requirements

    cpu = time.process_time()
    config = week_config(ws.config, week)
    past = workspace_before(ws, week, config)
    fc = run_forecast(past.history, past.events, config, engine="local", handle_times=past.handle_times)
    req = compute_requirements(fc.forecast, past, 50)
    plan = plan_for_risk(past, req, fc.forecast, fc.backtest_errors)
    actual = per_cell(replay_plan(past, plan.shift_plan, plan.allocation, week_arrivals(ws.history, week), policy="priority",
                                  seed=0).cell_weeks).set_index(CELL_KEYS)
    d = prepare(past, req)
    target = cell_targets(past, d)
    keys = list(zip(d.cells[QUEUE], d.cells[LANGUAGE]))
    stated = {}
    for name, kwargs in SCENARIOS.items():
        held = draw_scenarios(fc.forecast, fc.backtest_errors, config, S, skip=S, **kwargs)
        demands = _demands(past, d, held)
        work = scenario_work(d, demands)
        judge = ReplayJudge(past, d, demands, held.forecasts, seed=int(config.solver.seed) + S)  # the product's seeds
        stated[f"replay/{name}"] = met_counts(judge.shortfalls(demands, plan.staff, 60.0), work, target)
        if name in MODEL_JUDGED:
            lp = ShiftCheck(d, demands, target).shortfalls(demands, plan.staff, float(config.solver.time_limit_s))
            stated[f"model/{name}"] = met_counts(lp, work, target)
    rows = []
    for c, key in enumerate(keys):
        row = {"week": str(week.date()), "cell": "/".join(key), "met": bool(actual.at[key, "met"]) if key in actual.index else True,
               "achieved": float(actual.at[key, "achieved"]) if key in actual.index else 1.0}
        row.update({k: (float(v[c]) + 0.5) / (S + 1) for k, v in stated.items()})
        rows.append(row)
    info = {"week": str(week.date()), "plan_stated_equals_replay_standardised":
            bool(np.allclose(plan.risk.set_index(CELL_KEYS).loc[keys, "probability"].to_numpy(), [r["replay/standardised"] for r in rows])),
            "lifted_cells": len(plan.solve["risk"]["lifted_cells"]), "rounds": plan.solve["risk"]["rounds"],
            "cpu_s": round(time.process_time() - cpu, 1)}
    return rows, info


def scores(rows: pd.DataFrame) -> dict:
    met = rows["met"].astype(float)
    base = float(met.mean())
    out = {"cell_weeks": int(len(rows)), "met": int(met.sum()), "met_share": base, "brier_base_rate": float(((base - met) ** 2).mean())}
    for k in [c for c in rows.columns if "/" in c]:
        p = rows[k].astype(float)
        out[k] = {"brier": round(float(((p - met) ** 2).mean()), 4), "mean_stated": round(float(p.mean()), 4),
                  "stated_for_missed": round(float(p[met == 0].mean()), 4) if (met == 0).any() else None,
                  "stated_for_met": round(float(p[met == 1].mean()), 4)}
    return out


def build(kind: str, directory: Path):
    from capplan.demo import build_demo_workspace
    from capplan.inputs import load_workspace

    if kind == "real":
        from evaluate_real import build_workspace
        build_workspace(directory)
    else:
        build_demo_workspace(directory, seed=7, size="small")
    return load_workspace(directory)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", default="both", choices=["real", "synthetic", "both"])
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--scenarios", type=int, default=10)
    ap.add_argument("--earlier", type=int, default=0, help="take the --weeks weeks that end this many weeks before the last "
                    "(e.g. 4: weeks 5-8 back, to confirm a choice made on the last four out of sample)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "judge_calibration")
    args = ap.parse_args()
    from capplan.evaluate import evaluation_weeks
    from capplan.evaluate.walkforward import with_config

    started = time.perf_counter()
    result = {"command": "bench/judge_calibration.py " + " ".join(sys.argv[1:]), "scenarios": args.scenarios,
              "variants": list(SCENARIOS), "model_judged": list(MODEL_JUDGED), "workspaces": {}}
    kinds = ["real", "synthetic"] if args.workspace == "both" else [args.workspace]
    for kind in kinds:
        ws = build(kind, Path(tempfile.mkdtemp(prefix=f"capplan-judge-{kind}-")) / "ws")
        ws = with_config(ws, _variants(ws.config, ["replayed"], args.scenarios, 0.95, "expected", 2)["replayed"])
        rows, weeks = [], []
        for week in evaluation_weeks(ws.history, ws.config, args.weeks + args.earlier)[:args.weeks]:
            print(f"{kind} {week:%Y-%m-%d} ...", flush=True)
            r, info = week_rows(ws, week, args.scenarios)
            rows += r
            weeks.append(info)
        frame = pd.DataFrame(rows)
        result["workspaces"][kind] = {"scores": scores(frame), "weeks": weeks, "rows": rows}
        print(kind, json.dumps(result["workspaces"][kind]["scores"], indent=1))
    result.update({"wall_s": round(time.perf_counter() - started, 1), "cpu_s": round(time.process_time(), 1),
                   "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1, default=float) + "\n")
    print(f"wrote {args.out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
