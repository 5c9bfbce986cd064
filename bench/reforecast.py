"""Benchmark: does the intraday update beat the original forecast for the rest of the day, and how fast is the re-plan?

The demo's history ends where its plan starts. This script builds a demo whose data runs three weeks past
the planning start, keeps those weeks aside as the actual arrivals (``actuals.csv``), forecasts (the
forecast covers the three weeks: lead times of 0 to 3 weeks) and plans the first week on the history
before them. Then:

1. **Forecast update**: for every day of the three weeks and as-of hours 04, 08, 12, 16, 20 UTC, the rest of
   the day's WAPE (pooled over cells) of the original forecast, of the credibility-weighted update
   (``capplan.forecast.intraday``, weights fitted on the history before the plan start) and of the raw
   ratio (weight 1, no shrinkage); and the coverage of the 80 % band before and after the update.
2. **Re-plan**: ``capplan reforecast --as-of`` on days of the planned week with the actual arrivals: wall time,
   LP size, expected service of the plan and of the re-plan on the updated forecast, overtime and VTO.

    PYTHONPATH=src python3 bench/reforecast.py [--size default] [--dir /tmp/capplan-reforecast-bench]

Prints the figures and writes ``bench/results/reforecast.json`` (other sizes: ``reforecast_<size>.json``). Reuses the workspace in ``--dir`` when it
already holds a plan.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from capplan.config import CONFIG_FILE, load_config, to_toml
from capplan.demo import DEFAULT_START, DEMO_HEADER, build_demo_workspace

RESULTS = Path(__file__).parent / "results" / "reforecast.json"
FAST_MODELS = ["seasonal_naive", "daily_ets", "croston"]  # as bench/replay.py: the plan's forecast, minutes not hours
WEEKS = 3
AS_OF_HOURS = (4, 8, 12, 16, 20)
REPLAN_AS_OF = ("2026-12-01T10:00Z", "2026-12-03T14:00Z", "2026-12-05T18:00Z")


def prepare(directory: Path, size: str, seed: int = 7) -> Path:
    """A demo workspace planned for DEFAULT_START with the next WEEKS weeks of arrivals in actuals.csv."""
    from capplan.pipeline import run_forecast_stage, run_plan_stage

    actuals = directory / "actuals.csv"
    if (directory / "plans" / "latest").is_file() and actuals.is_file():
        return actuals
    build_demo_workspace(directory, seed=seed, size=size, start=DEFAULT_START + dt.timedelta(weeks=WEEKS))
    config = load_config(directory)
    config.planning.start = DEFAULT_START
    config.forecast.models = FAST_MODELS
    config.solver.time_limit_s = 900.0
    (directory / CONFIG_FILE).write_text(f"{DEMO_HEADER} (size {size}, seed {seed}); planning start moved back {WEEKS} weeks\n"
                                         + to_toml(config), encoding="utf-8")
    history_path = directory / "inputs" / "history.csv"
    history = pd.read_csv(history_path, dtype=str, keep_default_na=False)
    cut = pd.to_datetime(history["interval_start"], utc=True) >= pd.Timestamp(DEFAULT_START, tz="UTC")
    history[cut].to_csv(actuals, index=False)
    history[~cut].to_csv(history_path, index=False)
    run_forecast_stage(directory)
    run_plan_stage(directory)
    return actuals


def update_accuracy(directory: Path, actuals: pd.DataFrame) -> dict:
    """Rest-of-day WAPE of the original forecast, the update and the raw ratio; 80 % band coverage."""
    from capplan.forecast.intraday import Credibility, fit_credibility, update_forecast, wape
    from capplan.inputs import load_workspace

    ws = load_workspace(directory)
    fc_dir = directory / "forecasts" / (directory / "forecasts" / "latest").read_text().strip()
    forecast = pd.read_parquet(fc_dir / "forecast.parquet")
    forecast["interval_start"] = pd.to_datetime(forecast["interval_start"], utc=True)
    start = pd.Timestamp(DEFAULT_START, tz="UTC")
    t = time.perf_counter()
    cred = fit_credibility(ws.history, start, int(ws.config.reforecast.credibility_weeks))
    fit_s = time.perf_counter() - t
    raw = Credibility(tau2=1.0, b=0.0, c=0.0, samples=-1)  # weight 1 wherever something was seen
    actuals = actuals.assign(interval_start=pd.to_datetime(actuals["interval_start"], utc=True),
                             volume=pd.to_numeric(actuals["volume"]))
    act = actuals.set_index(["queue", "language", "interval_start"])["volume"]
    rows = []
    for day in range(WEEKS * 7):
        for hour in AS_OF_HOURS:
            as_of = start + pd.Timedelta(days=day, hours=hour)
            seen = actuals[actuals["interval_start"] < as_of]
            upd, _ = update_forecast(forecast, seen, as_of, cred)
            rr, _ = update_forecast(forecast, seen, as_of, raw)
            y = act.reindex(pd.MultiIndex.from_frame(upd[["queue", "language", "interval_start"]])).fillna(0.0).to_numpy()
            band_lo, band_hi = "volume_lo_80", "volume_hi_80"
            orig_lo = forecast.set_index(["queue", "language", "interval_start"]).reindex(
                pd.MultiIndex.from_frame(upd[["queue", "language", "interval_start"]]))
            rows.append({"day": day, "week": day // 7, "hour": hour, "actual": float(y.sum()),
                         "wape_original": wape(y, upd["volume_original"]), "wape_updated": wape(y, upd["volume"]),
                         "wape_raw_ratio": wape(y, rr["volume"]),
                         "cover80_original": float(np.mean((y >= orig_lo[band_lo].to_numpy()) & (y <= orig_lo[band_hi].to_numpy()))),
                         "cover80_updated": float(np.mean((y >= upd[band_lo].to_numpy()) & (y <= upd[band_hi].to_numpy())))})
    table = pd.DataFrame(rows)
    by_hour = table.groupby("hour").agg(wape_original=("wape_original", "mean"), wape_updated=("wape_updated", "mean"),
                                        wape_raw_ratio=("wape_raw_ratio", "mean"), cover80_original=("cover80_original", "mean"),
                                        cover80_updated=("cover80_updated", "mean"),
                                        days_better=("wape_updated", lambda s: int((s < table.loc[s.index, "wape_original"]).sum())),
                                        days=("day", "size"))
    by_week = table.groupby("week")[["wape_original", "wape_updated", "wape_raw_ratio"]].mean()
    return {"credibility": cred.as_dict(), "fit_seconds": round(fit_s, 3), "evaluations": len(table),
            "by_hour": {int(h): {k: (round(float(v), 4) if isinstance(v, float) else int(v)) for k, v in r.items()} for h, r in by_hour.iterrows()},
            "by_week": {int(w): {k: round(float(v), 4) for k, v in r.items()} for w, r in by_week.iterrows()},
            "mean": {k: round(float(table[k].mean()), 4) for k in ("wape_original", "wape_updated", "wape_raw_ratio", "cover80_original", "cover80_updated")},
            "evaluations_better": int((table["wape_updated"] < table["wape_original"]).sum())}


def replan_runs(directory: Path, actuals_path: Path) -> list[dict]:
    """``capplan reforecast`` at a few as-of times of the planned week with the actual arrivals."""
    from capplan.pipeline.reforecast import run_reforecast_stage

    out = []
    for as_of in REPLAN_AS_OF:
        wall, cpu = time.perf_counter(), time.process_time()
        run = run_reforecast_stage(directory, as_of=as_of, arrivals_file=actuals_path)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        s = run.summary
        out.append({"as_of": as_of, "time_zone": s["time_zone"], "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "replan_s": s["seconds"],
                    "variables": s["variables"], "language_share_over_hours": round(s["language_share_over_hours"], 2),
                    "constraints": s["constraints"], "intervals": s["intervals"], "cells": s["cells"],
                    "cells_met_plan": s["cells_met_plan"], "cells_met_replan": s["cells_met_replan"],
                    "service_plan": s["service_plan"], "service_replan": s["service_replan"], "moved_hours": round(s["moved_hours"], 1),
                    "overtime_paid_hours": round(s["overtime_paid_hours"], 1), "overtime_cost": round(s["overtime_cost"]),
                    "vto_paid_hours": round(s["vto_paid_hours"], 1), "vto_saving": round(s["vto_saving"]),
                    "items_original": round(s["forecast_items_original"]), "items_updated": round(s["forecast_items_updated"]),
                    "timings_s": json.loads((run.folder / "run.json").read_text())["timings_s"]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="default", choices=["small", "default", "large"])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/capplan-reforecast-bench"))
    args = parser.parse_args()
    directory = args.dir / args.size
    directory.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    actuals_path = prepare(directory, args.size)
    figures: dict = {"size": args.size, "workspace": str(directory), "prepare_s": round(time.perf_counter() - t, 1),
                     "machine": {"python": platform.python_version(), "cpus": os.cpu_count()}}
    actuals = pd.read_csv(actuals_path)
    figures["update"] = update_accuracy(directory, actuals)
    figures["replan"] = replan_runs(directory, actuals_path)
    figures["load_average"] = os.getloadavg()
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    u = figures["update"]
    print(f"credibility weights: {u['credibility']} (fitted in {u['fit_seconds']} s)")
    print(f"rest-of-day WAPE over {u['evaluations']} day x as-of evaluations ({WEEKS} weeks): original {u['mean']['wape_original']:.4f}, "
          f"updated {u['mean']['wape_updated']:.4f}, raw ratio {u['mean']['wape_raw_ratio']:.4f}; updated better in "
          f"{u['evaluations_better']} of {u['evaluations']}")
    for h, r in u["by_hour"].items():
        print(f"  as of {h:02d}:00 UTC: WAPE original {r['wape_original']:.4f} updated {r['wape_updated']:.4f} raw {r['wape_raw_ratio']:.4f}; "
              f"better on {r['days_better']}/{r['days']} days; 80% band cover {r['cover80_original']:.3f} -> {r['cover80_updated']:.3f}")
    for r in figures["replan"]:
        print(f"re-plan as of {r['as_of']}: {r['wall_s']} s wall, {r['cpu_s']} s CPU ({r['replan_s']} s wall in requirements + LP, "
              f"{r['variables']:,} variables; stages {r['timings_s']}); "
              f"service plan {r['service_plan']:.3f} -> re-plan {r['service_replan']:.3f}; cells at target {r['cells_met_plan']} -> "
              f"{r['cells_met_replan']} of {r['cells']}; moved {r['moved_hours']} h; overtime {r['overtime_paid_hours']} h; VTO {r['vto_paid_hours']} h")
    print(f"peak RSS {figures['peak_rss_mb']} MB")
    path = RESULTS if args.size == "default" else RESULTS.with_name(f"reforecast_{args.size}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
