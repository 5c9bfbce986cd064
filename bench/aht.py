"""Backtest of the handle-time forecast (capplan.forecast.aht) on the demo's history.

Usage::

    PYTHONPATH=src python3 bench/aht.py [--size default] [--seed 7] [--cuts 3] [--out bench/results/aht]

For each of ``--cuts`` cut points (the last ``4 * cuts`` weeks of the demo history, split into 4-week
blocks), the handle time of every cell is forecast from the history before the cut and compared on the
next 28 days at the actual volumes, so only the handle-time error counts:

* ``table``: ``handle_times.csv`` (one number per cell; what requirements use by default);
* ``recent_mean``: the items-weighted mean AHT of the cell's last 4 weeks (a planner's update of the table);
* ``forecast``: :func:`capplan.forecast.aht.forecast_aht` (level x trend x weekday x hour shape, shrunk
  toward the table).

Metrics over all cells, hours and cuts: workload WAPE ``sum |V (a - f)| / sum V a`` (hourly), the same on
daily workload per cell (the planning-relevant total), the workload bias ``sum V f / sum V a - 1``, and the
items-weighted MAE of the hourly AHT [s]. No public arrival set the benchmarks use carries handle times
(``bench/forecast_real.py``: bank calls, flights, electricity, bikes), so the demo generator is the only
test bed: its AHT has a per-queue trend, a local-night and weekend shape and noise (``capplan.demo``).
Writes ``<out>.json`` and prints the table.
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

from capplan.forecast.aht import forecast_aht, hourly_aht  # noqa: E402
from capplan.schema import AHT_S, INTERVAL_START, LANGUAGE, QUEUE  # noqa: E402

HOLD_DAYS = 28
RECENT_DAYS = 28


def load_demo(size: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from capplan.demo import build_demo_workspace
    from capplan.inputs import load_workspace

    with tempfile.TemporaryDirectory() as tmp:
        build_demo_workspace(Path(tmp) / "ws", size=size, seed=seed)
        ws = load_workspace(Path(tmp) / "ws")
        return ws.history.copy(), ws.handle_times.copy()


def evaluate(history: pd.DataFrame, table: pd.DataFrame, cuts: int, weeks: int) -> dict:
    cells = history[[QUEUE, LANGUAGE]].drop_duplicates().sort_values([QUEUE, LANGUAGE]).reset_index(drop=True)
    times = pd.to_datetime(history[INTERVAL_START], utc=True).dt.tz_localize(None)
    start, end = times.min().floor("D"), (times.max() + pd.Timedelta(hours=1)).floor("D")
    n_days = int((end - start) / pd.Timedelta(days=1))
    items, work = hourly_aht(history, cells, start, n_days * 24)
    tab = table.set_index([QUEUE, LANGUAGE])[AHT_S].astype(float)
    tab_cells = tab.reindex(pd.MultiIndex.from_frame(cells)).to_numpy(float)
    sums = {m: {"abs": 0.0, "abs_day": 0.0, "pred": 0.0, "ae_items": 0.0} for m in ("table", "recent_mean", "forecast")}
    true_total, items_total = 0.0, 0.0
    for k in range(cuts, 0, -1):
        origin = n_days - HOLD_DAYS * k
        fc = forecast_aht(items, work, cells, start.weekday(), origin, HOLD_DAYS, weeks, tab)
        sl = slice(origin * 24, (origin + HOLD_DAYS) * 24)
        v, w = items[:, sl], work[:, sl]
        with np.errstate(divide="ignore", invalid="ignore"):
            actual = np.where(v > 0, w / v, np.nan)
            rv, rw = items[:, (origin - RECENT_DAYS) * 24: origin * 24], work[:, (origin - RECENT_DAYS) * 24: origin * 24]
            recent = rw.sum(axis=1) / rv.sum(axis=1)
        preds = {"table": np.repeat(tab_cells[:, None], v.shape[1], axis=1),
                 "recent_mean": np.repeat(np.where(np.isfinite(recent), recent, tab_cells)[:, None], v.shape[1], axis=1),
                 "forecast": fc.aht_s}
        ok = v > 0
        true_total += w[ok].sum()
        items_total += v[ok].sum()
        n = len(cells)
        for m, p in preds.items():
            f = np.where(ok, v * p, 0.0)
            sums[m]["abs"] += np.abs(w - f)[ok].sum()
            sums[m]["abs_day"] += np.abs(w.reshape(n, HOLD_DAYS, 24).sum(axis=2) - f.reshape(n, HOLD_DAYS, 24).sum(axis=2)).sum()
            sums[m]["pred"] += f.sum()
            sums[m]["ae_items"] += (v * np.abs(np.nan_to_num(actual) - p))[ok].sum()
    return {m: {"workload_wape_hourly": s["abs"] / true_total, "workload_wape_daily": s["abs_day"] / true_total,
                "workload_bias": s["pred"] / true_total - 1.0, "aht_mae_s": s["ae_items"] / items_total}
            for m, s in sums.items()} | {"cells": len(cells), "days": n_days}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="default")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cuts", type=int, default=3)
    ap.add_argument("--weeks", type=int, default=13, help="forecast.aht_weeks")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "aht")
    a = ap.parse_args()
    t = time.perf_counter()
    history, table = load_demo(a.size, a.seed)
    res = evaluate(history, table, a.cuts, a.weeks)
    report = {"set": f"demo {a.size} seed {a.seed}", "cuts": a.cuts, "hold_days": HOLD_DAYS, "aht_weeks": a.weeks,
              "results": res, "seconds": round(time.perf_counter() - t, 1)}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{report['set']}: {res['cells']} cells, {a.cuts} cuts of {HOLD_DAYS} days")
    print(f"{'method':<12} {'WAPE hourly':>12} {'WAPE daily':>11} {'bias':>8} {'MAE [s]':>8}")
    for m in ("table", "recent_mean", "forecast"):
        r = res[m]
        print(f"{m:<12} {r['workload_wape_hourly']:>12.4f} {r['workload_wape_daily']:>11.4f} {r['workload_bias']:>8.4f} "
              f"{r['aht_mae_s']:>8.2f}")
    print(f"wrote {a.out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
