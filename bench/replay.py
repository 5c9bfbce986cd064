"""Benchmark: replay of a demo week (all cells, all pools) and ``--scenarios 20``; items simulated per second.

The demo's history ends where its plan starts, so there is nothing to replay. This script builds a demo
whose data runs one week *past* the planning start, keeps that week aside as the actual arrivals
(``actuals.csv``), forecasts and plans on the history before it, then replays the plan against the
actual week (``--arrivals actuals.csv``) with each routing policy, and runs ``--scenarios N``.

    PYTHONPATH=src python3 bench/replay.py [--size default] [--dir /tmp/capplan-replay-bench] [--scenarios 20]

Prints the figures and writes ``bench/results/replay.json``. Reuses the workspace in ``--dir`` when it
already holds a plan (building and planning the default demo takes several minutes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import time
from pathlib import Path

import pandas as pd

from capplan.config import CONFIG_FILE, load_config, to_toml
from capplan.demo import DEFAULT_START, DEMO_HEADER, build_demo_workspace, demo_spec, write_demo_backlog

RESULTS = Path(__file__).parent / "results" / "replay.json"
FAST_MODELS = ["seasonal_naive", "daily_ets", "croston"]


def prepare(directory: Path, size: str, seed: int = 7) -> Path:
    """A demo workspace planned for DEFAULT_START with the following week's arrivals in actuals.csv."""
    from capplan.pipeline import run_forecast_stage, run_plan_stage

    actuals = directory / "actuals.csv"
    if (directory / "plans" / "latest").is_file() and actuals.is_file():
        return actuals
    if (directory / "forecasts" / "latest").is_file() and actuals.is_file():  # resume: forecast done, plan missing
        run_plan_stage(directory)
        return actuals
    build_demo_workspace(directory, seed=seed, size=size, start=DEFAULT_START + dt.timedelta(days=7))
    config = load_config(directory)
    config.planning.start = DEFAULT_START
    config.forecast.models = FAST_MODELS  # the forecast is not what is measured here; MSTL would take minutes
    config.solver.time_limit_s = 900.0  # on a shared machine the default 60 s may not be enough
    (directory / CONFIG_FILE).write_text(f"{DEMO_HEADER} (size {size}, seed {seed}); planning start moved back a week for replay\n"
                                         + to_toml(config), encoding="utf-8")
    history_path = directory / "inputs" / "history.csv"
    history = pd.read_csv(history_path, dtype=str, keep_default_na=False)
    cut = pd.to_datetime(history["interval_start"], utc=True) >= pd.Timestamp(DEFAULT_START, tz="UTC")
    history[cut].to_csv(actuals, index=False)
    history[~cut].to_csv(history_path, index=False)
    if (directory / "inputs" / "backlog.csv").is_file():  # the opening backlog belongs to the moved start, not the demo's
        write_demo_backlog(directory / "inputs", demo_spec(size, DEFAULT_START), history[~cut])
    run_forecast_stage(directory)
    run_plan_stage(directory)
    return actuals


def planned_week(directory: Path, size: str):
    """The demo week of :func:`prepare` in ``directory`` and its latest plan run: (actuals path, workspace, plan folder,
    its solve.json, requirements, shift plan, allocation), for the benchmarks that replay it (contracts, iso_service)."""
    import json

    from capplan.inputs import load_workspace
    from capplan.runs import resolve_run

    directory.mkdir(parents=True, exist_ok=True)
    actuals = prepare(directory, size)
    ws = load_workspace(directory)
    plan_dir = resolve_run(directory / "plans", None, "plan")
    solve = json.loads((plan_dir / "solve.json").read_text())
    req = pd.read_parquet(plan_dir / "requirements.parquet")
    return actuals, ws, plan_dir, solve, req, pd.read_parquet(plan_dir / "shift_plan.parquet"), pd.read_parquet(plan_dir / "allocation.parquet")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="default", choices=["small", "default", "large"])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/capplan-replay-bench"))
    parser.add_argument("--scenarios", type=int, default=20)
    parser.add_argument("--engine", default="local", choices=["local", "dask"])
    args = parser.parse_args()
    from capplan.pipeline.replay import run_replay_stage

    directory = args.dir / args.size
    directory.mkdir(parents=True, exist_ok=True)
    actuals, prep_wall, _ = timed(lambda: prepare(directory, args.size))
    figures: dict = {"size": args.size, "workspace": str(directory), "prepare_s": round(prep_wall, 1),
                     "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()}, "policies": {}}
    for policy in ("priority", "plan"):
        run, wall, cpu = timed(lambda: run_replay_stage(directory, arrivals_file=actuals, policy=policy))
        s = run.summary
        figures["policies"][policy] = {
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "simulate_s": s["seconds"], "items": s["items"],
            "items_per_second": round(s["items_per_second"]), "cell_weeks": s["cell_weeks"], "cell_weeks_met_share": round(s["cell_weeks_met_share"], 4),
            "on_time_share": round(s["on_time_share"], 4), "abandon_rate": round(s["abandon_rate"], 4), "occupancy": round(s["occupancy"], 4)}
        print(f"replay {policy:8s}: {wall:6.1f} s wall ({cpu:.1f} s CPU; simulation {s['seconds']:.1f} s), {s['items']:,} items, "
              f"{s['items_per_second']:,.0f} items/s; cell-weeks met {s['cell_weeks_met_share']:.1%}, items on time {s['on_time_share']:.2%}")
    if args.scenarios:
        run, wall, cpu = timed(lambda: run_replay_stage(directory, scenarios=args.scenarios, engine=args.engine))
        s = run.summary
        figures["scenarios"] = {"paths": args.scenarios, "engine": args.engine, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                                "items_per_path": round(s["items_mean"]), "seconds_per_path": round(s["seconds_per_path"], 2),
                                "cell_weeks_met_share_mean": round(s["cell_weeks_met_share_mean"], 4), "p_all_met": s["p_all_met"],
                                "cells_at_risk": s["cells_at_risk"]}
        print(f"scenarios {args.scenarios} ({args.engine}): {wall:.1f} s wall ({cpu:.1f} s CPU in this process), "
              f"{s['seconds_per_path']:.1f} s per path; mean cell-weeks met {s['cell_weeks_met_share_mean']:.1%}, "
              f"{s['cells_at_risk']} cell-week(s) below 90 % probability")
    figures["peak_rss_mb"] = round(peak_rss_mb(), 0)
    print(f"peak memory (RSS) {figures['peak_rss_mb']:.0f} MB")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
