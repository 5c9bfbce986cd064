"""Rolling weeks on the small demo: the Sunday/Monday seam and the end-of-week backlog, per week-end mode.

Builds the small demo (seed 3), forecasts once, then plans the same requirements with ``[planning] week_end``
= terminal with no opening backlog and a free end (the behaviour before rolling weeks), terminal with the demo's
opening backlog (priced end) and cyclic. For each: cost, end-of-week backlog [standard h], deferred productive
hours planned in the seam night (Sun 22:00 - Mon 06:00 UTC) against the mean of the other six nights, and the
deferred work dropped late. Writes bench/results/rolling_seam.json.

Run: ``PYTHONPATH=src python3 bench/rolling_seam.py``
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def night_hours(cov: pd.DataFrame, start: pd.Timestamp, within_s: dict, interval_h: float) -> dict:
    """Deferred hours 22:00-06:00 UTC per night (night 0 = Sun 22:00 - Mon 06:00, wrapped round the week).

    ``done``: productive standard hours the plan gives deferred cells; ``due``: the work falling due in the night
    in the repeating week (arrivals of interval ``t - due_shift``, counted round the week, whatever the mode:
    Sunday evening's work is due on Monday morning); ``ratio`` = done / due.
    """
    from capplan.staffing.backlog import due_shift

    d = cov[cov["kind"] != "realtime"].copy()
    d["t"] = ((d["interval_start"] - start).dt.total_seconds() // (interval_h * 3600)).astype(int)
    T = int(d["t"].max()) + 1
    done = np.zeros(T)
    due = np.zeros(T)
    for (q, _), g in d.groupby(["queue", "language"]):
        shift = due_shift(interval_h * 60.0, within_s[q])
        np.add.at(done, g["t"].to_numpy(), g["work_done_hours"].to_numpy(float))
        np.add.at(due, (g["t"].to_numpy() + shift) % T, g["workload_hours"].to_numpy(float))
    per_day = int(round(24 / interval_h))
    out = {"done": [], "due": []}
    for k in range(7):
        idx = [(per_day * k + j) % T for j in range(-int(2 / interval_h), int(6 / interval_h))]
        out["done"].append(round(float(done[idx].sum()), 1))
        out["due"].append(round(float(due[idx].sum()), 1))
    out["ratio"] = [round(a / b, 3) if b else None for a, b in zip(out["done"], out["due"])]
    return out


def main() -> int:
    from capplan.demo import build_demo_workspace
    from capplan.inputs.validate import load_workspace
    from capplan.optimize import solve_plan
    from capplan.pipeline.forecast import run_forecast_stage
    from capplan.staffing.requirements import compute_requirements

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        build_demo_workspace(root, seed=3, size="small")
        run_forecast_stage(root)
        ws = load_workspace(root)
        fc_dir = root / "forecasts" / (root / "forecasts" / "latest").read_text().strip()
        forecast = pd.read_parquet(fc_dir / "forecast.parquet")
        req = compute_requirements(forecast, ws)
        start = pd.Timestamp(ws.config.planning.start, tz="UTC")
        opening_items = float(ws.backlog["items"].sum()) if getattr(ws, "backlog", None) is not None else 0.0
        variants = {"before (terminal, no opening, free end)": ("terminal", None, True),
                    "terminal + demo opening backlog": ("terminal", ws.backlog, False),
                    "cyclic": ("cyclic", ws.backlog, False)}
        for name, (mode, backlog, free_end) in variants.items():
            cfg = ws.config.model_copy(deep=True)
            cfg.planning.week_end = mode
            w = dataclasses.replace(ws, config=cfg, backlog=backlog)
            clock = time.perf_counter()
            if free_end:
                import capplan.optimize.data as data_mod
                original = data_mod.set_week_end

                def free(d, b, _orig=original):
                    _orig(d, b)
                    d.terminal_price = np.zeros(len(d.cells))
                data_mod.set_week_end = free
                try:
                    res = solve_plan(w, req, with_baseline=False)
                finally:
                    data_mod.set_week_end = original
            else:
                res = solve_plan(w, req, with_baseline=False)
            cov = res.coverage
            nights = night_hours(cov, start, dict(zip(ws.queues["queue"], ws.queues["within_s"].astype(float))), cfg.planning.interval_minutes / 60)
            deferred = cov[cov["kind"] != "realtime"]
            end = deferred[deferred["interval_start"] == deferred["interval_start"].max()]["backlog"].sum()
            out[name] = {"cost": round(float(res.solve["cost"]), 2), "gap": res.solve.get("gap"), "seconds": round(time.perf_counter() - clock, 1),
                         "end_backlog_hours": round(float(end), 1), "late_hours": round(float(deferred["unmet"].sum()), 2),
                         "seam_night_done_over_due": nights["ratio"][0],
                         "other_nights_done_over_due": [min(nights["ratio"][1:]), max(nights["ratio"][1:])],
                         "nights": nights, "checks": len(res.checks),
                         "deferred_workload_hours": round(float(deferred["workload_hours"].sum()), 1)}
            print(name, json.dumps(out[name]))
        base = out["before (terminal, no opening, free end)"]["cost"]
        for name in out:
            out[name]["cost_vs_before"] = round(out[name]["cost"] / base - 1.0, 4)
        out["opening_backlog_items"] = opening_items
    path = Path(__file__).parent / "results" / "rolling_seam.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
