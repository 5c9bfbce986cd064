"""The plans measured against REAL arrivals: capplan's walk-forward on a workspace whose history is public data.

Usage::

    PYTHONPATH=src python3 bench/evaluate_real.py [--weeks 4] [--variants P50,P90,checked] [--scenarios 10]
                                                  [--baseline | --no-baseline] [--models demo|default]
                                                  [--keep DIR] [--out bench/results/evaluate_real]

Everything that is not arrivals (queues and targets, handle times, pools, vendors, shifts, roster, config) is the
small demo's (:func:`capplan.demo.build_demo_workspace`, seed 7). The history is replaced by real public series
(:mod:`forecast_real`'s loaders, read from the downloaded wheels in ``bench/.cache/``), one series per
queue-language cell (:data:`MAPPING`):

* ``live/en`` (real-time, 60 s target) <- ``bank_calls``: calls to a North American bank, weekdays 07-21 (service
  arrivals: the one real-time series);
* ``video/en`` <- Capital Bikeshare registered rentals, ``comments/en`` <- Victoria electricity demand,
  ``comments/es`` <- Capital Bikeshare casual rentals, the other twelve deferred cells <- the twelve busiest
  (airport, airline) departure series of New York 2013, the busiest real series to the cell with most work;
* ``live/es`` and ``live/pt`` are dropped (no second real service-arrival series); the workspace stays valid (the
  pools keep the skills, the queue keeps its en cell).

Per cell: 34 whole Monday-to-Sunday weeks of the series (:data:`REAL_START`: the bank's 34 weeks from 3 March 2003;
the other sets from the Monday nearest 3 March of their year, the same season), summed to whole hours on the
series' local wall clock (the flights converted from UTC to New York's, the electricity from AEMO's UTC+10 to
Victoria's; the bank and the bikes are stamped so already), every clock then read as UTC (no daylight-saving
jumps), hours without a record = 0, shifted by a whole number of weeks so the 34 weeks end where the demo's
history ends (its planning start, Monday 30 November 2026): weekdays line up, holidays do not (each set keeps its
own country's and year's), and the demo's events.csv is emptied (its synthetic events are not in real data).
Each series is multiplied by one constant per cell, the demo cell's mean weekly volume over its last four weeks
over the series' mean weekly volume over the 34 weeks: level as in the demo, shape, daily and weekly pattern,
trend and noise real. A constant does not scale Poisson-type noise: a count's relative noise stays the original
series' (1 / sqrt(original count)), so a series scaled up (the flights, bikes) is noisier hour by hour than a
stream of that size would be. A series of whole counts scaled *down* (the bank, x0.14) is thinned instead: each
real call kept with probability ``scale`` (binomial thinning, seeded by the cell), which is exactly the stream a
queue receiving that share of the calls would see (a constant would make it too smooth). The synthetic
backlog.csv, drivers.csv and production.csv describe the demo's cells and are removed (evaluate plans past weeks
without an opening backlog in any case); the history has no ``aht_s``, so the replay draws exponential handle times
(CV 1) around handle_times.csv.

Walk-forward: :func:`capplan.evaluate.walk_forward` over the last ``--weeks`` whole weeks (routing policy
``priority``, seed 0) with the variants of ``bench/risk.py`` (:func:`risk._variants`: P50, per-interval P90,
``risk = "checked"``), each with its hindsight plan; and the honest baseline (``optimize/baseline.py``,
:func:`capplan.optimize.baseline_plan`, as ``bench/contracts.py`` makes it) from the same P50 requirements,
replayed the same way. Each week's outcome is cached (``bench/results/evaluate_real.parts/``, keyed by the
history's hash), so a run can be resumed or split (``--only-weeks``). Writes ``<out>.json`` and ``<out>.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from forecast_real import load_bank_calls, load_bikes, load_elec, load_flights  # noqa: E402
from risk import GOAL, _calibration, _variants  # noqa: E402

from capplan.schema import CELL_KEYS, INTERVAL_START, LANGUAGE, QUEUE, VOLUME  # noqa: E402

PARTS = ROOT / "bench" / "results" / "evaluate_real.parts"
WEEKS_OF_HISTORY = 34  # the bank's whole weeks (3 March - 26 October 2003; its last week ends on a Friday, the weekend is closed)
DEMO_LEVEL_WEEKS = 4  # the demo cell's level: mean weekly volume over its last weeks
HOUR = pd.Timedelta(hours=1)
WEEK = pd.Timedelta(days=7)

#: First Monday of each set's 34 weeks: the bank's first week; the others the Monday nearest 3 March (same season).
REAL_START = {"bank_calls": "2003-03-03", "bikes": "2011-02-28", "elec": "2014-03-03", "flights": "2013-03-04"}
#: demo cell (queue, language) <- (set, series queue, series language); realtime first, then by the cell's workload.
MAPPING = [
    (("live", "en"), ("bank_calls", "bank", "all")),
    (("video", "en"), ("bikes", "bikes", "registered")),
    (("comments", "en"), ("elec", "elec", "vic")),
    (("comments", "es"), ("bikes", "bikes", "casual")),
    (("video", "es"), ("flights", "EWR", "UA")),
    (("video", "pt"), ("flights", "EWR", "EV")),
    (("comments", "pt"), ("flights", "JFK", "B6")),
    (("video", "tl"), ("flights", "LGA", "DL")),
    (("appeals", "en"), ("flights", "JFK", "DL")),
    (("comments", "tl"), ("flights", "LGA", "MQ")),
    (("appeals", "es"), ("flights", "LGA", "AA")),
    (("appeals", "pt"), ("flights", "JFK", "9E")),
    (("video", "he"), ("flights", "JFK", "AA")),
    (("comments", "he"), ("flights", "LGA", "US")),
    (("appeals", "tl"), ("flights", "LGA", "EV")),
    (("appeals", "he"), ("flights", "LGA", "UA")),
]
DROPPED = [("live", "es"), ("live", "pt")]  # no second real service-arrival series
REMOVED_INPUTS = ("backlog.csv", "drivers.csv", "production.csv")  # synthetic, about the demo's cells


# --- the workspace ------------------------------------------------------------------------------

def on_local_clock(frame: pd.DataFrame, stamped: str, zone: str) -> pd.DataFrame:
    """Hourly rows stamped in ``stamped`` re-stamped on ``zone``'s wall clock, read as UTC (no daylight-saving jumps:
    the hour the clock repeats is summed, the hour it skips has no row)."""
    local = frame[INTERVAL_START].dt.tz_convert(None).dt.tz_localize(stamped).dt.tz_convert(zone).dt.tz_localize(None)
    return (frame.assign(**{INTERVAL_START: local.dt.tz_localize("UTC")})
            .groupby([QUEUE, LANGUAGE, INTERVAL_START], as_index=False)[VOLUME].sum())


def _flights_local() -> pd.DataFrame:
    """Departures per hour on New York's clock (the loader's stamps are true UTC)."""
    return on_local_clock(load_flights(), "UTC", "America/New_York")


def _elec_local() -> pd.DataFrame:
    """Demand per hour on Victoria's clock (the loader's stamps are AEMO's market time, UTC+10 all year)."""
    return on_local_clock(load_elec(), "Etc/GMT-10", "Australia/Melbourne")


LOADERS = {"bank_calls": load_bank_calls, "bikes": load_bikes, "elec": _elec_local, "flights": _flights_local}


def hourly_window(series: pd.DataFrame, start: pd.Timestamp, weeks: int) -> np.ndarray:
    """Hourly volumes of one series over ``weeks`` weeks from ``start`` (hours without a record are 0)."""
    grid = pd.date_range(start, periods=weeks * 168, freq="h")
    return series.groupby(INTERVAL_START)[VOLUME].sum().reindex(grid, fill_value=0.0).to_numpy(dtype=float)


def map_series(volume: np.ndarray, real_start: pd.Timestamp, calendar_start: pd.Timestamp, demo_weekly: float,
               cell: tuple[str, str]) -> tuple[pd.DataFrame, dict]:
    """One real series on the workspace's calendar, scaled to the demo cell's weekly volume.

    Parameters
    ----------
    volume : hourly counts of whole weeks from ``real_start`` [items per hour].
    real_start, calendar_start : Mondays 00:00 (UTC); the shift between them is a whole number of weeks.
    demo_weekly : the demo cell's mean weekly volume [items per week].
    cell : (queue, language) of the workspace.

    Returns
    -------
    The history rows (interval_start, queue, language, volume) and the mapping's facts (shift, scale).
    """
    shift = calendar_start - real_start
    if real_start.weekday() != 0 or calendar_start.weekday() != 0 or shift % WEEK != pd.Timedelta(0):
        raise ValueError(f"{cell}: {real_start} -> {calendar_start} is not a shift by whole weeks between Mondays")
    weeks = len(volume) / 168
    real_weekly = float(volume.sum()) / weeks
    scale = demo_weekly / real_weekly
    counts = np.round(volume)
    thinned = scale < 1.0 and np.allclose(volume, counts)
    if thinned:  # each real item kept with probability `scale`: the counts of a stream that size (Poisson-type noise)
        rng = np.random.default_rng(int(hashlib.sha256("/".join(cell).encode()).hexdigest()[:8], 16))
        scaled = rng.binomial(counts.astype(np.int64), scale).astype(float)
    else:
        scaled = volume * scale
    rows = pd.DataFrame({INTERVAL_START: pd.date_range(calendar_start, periods=len(volume), freq="h"), QUEUE: cell[0],
                         LANGUAGE: cell[1], VOLUME: scaled})
    facts = {"real_start": str(real_start.date()), "real_end": str((real_start + weeks * WEEK - HOUR).date()),
             "shift_weeks": int(shift / WEEK), "real_weekly": real_weekly, "demo_weekly": demo_weekly, "scale": scale,
             "thinned": bool(thinned)}
    return rows, facts


def demo_weekly_volume(history: pd.DataFrame, end: pd.Timestamp, weeks: int = DEMO_LEVEL_WEEKS) -> pd.Series:
    """Mean weekly volume per cell over the ``weeks`` weeks before ``end`` [items per week]."""
    times = pd.to_datetime(history[INTERVAL_START], utc=True)
    recent = history[(times >= end - weeks * WEEK) & (times < end)]
    return recent.groupby(CELL_KEYS)[VOLUME].sum() / weeks


def build_workspace(directory: Path, *, size: str = "small", seed: int = 7, models: str = "demo") -> dict:
    """The small demo workspace with its history replaced by the real series of :data:`MAPPING`.

    Returns the mapping's facts per cell; writes them to ``mapping.json`` in the workspace too.
    """
    from capplan.config import CONFIG_FILE, Config, load_config, to_toml
    from capplan.demo import build_demo_workspace

    build_demo_workspace(directory, seed=seed, size=size)
    inputs = directory / "inputs"
    config = load_config(directory)
    end = pd.Timestamp(config.planning.start, tz="UTC")
    calendar_start = end - WEEKS_OF_HISTORY * WEEK
    demo = pd.read_csv(inputs / "history.csv")
    demo_weekly = demo_weekly_volume(demo, end)
    loaded = {name: LOADERS[name]() for name in sorted({src[0] for _, src in MAPPING})}
    parts, facts = [], {}
    for cell, (name, q, lang) in MAPPING:
        s = loaded[name]
        s = s[(s[QUEUE] == q) & (s[LANGUAGE] == lang)]
        real_start = pd.Timestamp(REAL_START[name], tz="UTC")
        rows, f = map_series(hourly_window(s, real_start, WEEKS_OF_HISTORY), real_start, calendar_start,
                             float(demo_weekly[cell]), cell)
        parts.append(rows)
        facts["/".join(cell)] = {"set": name, "series": f"{q}/{lang}", **f}
    history = pd.concat(parts, ignore_index=True)
    history[INTERVAL_START] = history[INTERVAL_START].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    history.to_csv(inputs / "history.csv", index=False, float_format="%.3f", lineterminator="\n")
    kept = {cell for cell, _ in MAPPING}
    ht = pd.read_csv(inputs / "handle_times.csv")
    ht[[tuple(c) in kept for c in ht[CELL_KEYS].itertuples(index=False)]].to_csv(inputs / "handle_times.csv", index=False,
                                                                                lineterminator="\n")
    events = pd.read_csv(inputs / "events.csv")
    events.iloc[0:0].to_csv(inputs / "events.csv", index=False, lineterminator="\n")
    for name in REMOVED_INPUTS:
        (inputs / name).unlink(missing_ok=True)
    if models == "default":
        config.forecast.models = list(Config().forecast.models)
        config.forecast.backtest_windows = Config().forecast.backtest_windows
    (directory / CONFIG_FILE).write_text(f"# capplan small demo with real arrivals (bench/evaluate_real.py, models {models})\n"
                                         + to_toml(config), encoding="utf-8")
    (directory / "mapping.json").write_text(json.dumps(facts, indent=2) + "\n")
    return facts


# --- the walk-forward and the baseline ------------------------------------------------------------------------

def _cached(part: Path, compute):
    """The pickled result in ``part``, computed (and saved with its CPU seconds) when missing."""
    if not part.is_file():
        cpu = time.process_time()
        value = compute()
        part.with_suffix(".cpu.json").write_text(json.dumps({"cpu_s": round(time.process_time() - cpu, 1)}))
        part.write_bytes(pickle.dumps(value))
    return pickle.loads(part.read_bytes())


def baseline_week(ws, week: pd.Timestamp, policy: str, seed: int) -> dict:
    """The honest baseline of one past week: P50 forecast and requirements (as the walk-forward makes them),
    ``baseline_plan`` (as ``bench/contracts.py``), replayed against the week with the same policy and seed."""
    from capplan.evaluate.walkforward import per_cell
    from capplan.evaluate.weeks import week_arrivals, week_config, workspace_before
    from capplan.forecast.run import run_forecast
    from capplan.optimize import baseline_plan
    from capplan.simulate import replay_plan
    from capplan.staffing.requirements import compute_requirements

    config = week_config(ws.config, week)
    past = workspace_before(ws, week, config)
    arrivals = week_arrivals(ws.history, week)
    fc = run_forecast(past.history, past.events, config, engine="local", handle_times=past.handle_times)
    base = baseline_plan(past, compute_requirements(fc.forecast, past, 50))
    replay = replay_plan(past, base.shift_plan, base.allocation, arrivals, policy=policy, seed=seed)
    cells = per_cell(replay.cell_weeks)
    cells.insert(0, "week", week)
    keep = ("status", "total_cost", "penalty", "unmet_hours", "committed_cost", "decidable_cost", "moderators", "baseline_remedies")
    return {"cells": cells, "solve": {k: base.solve.get(k) for k in keep},
            "replay": {k: replay.summary.get(k) for k in ("on_time_share", "cell_weeks_met_share", "abandon_rate", "items")}}


def naive_errors(history: pd.DataFrame, week: pd.Timestamp) -> pd.DataFrame:
    """Per cell: the weekly seasonal naive's (last week repeated) absolute error and the actual, hour by hour."""
    times = pd.to_datetime(history[INTERVAL_START], utc=True)
    this = history[(times >= week) & (times < week + WEEK)].assign(**{INTERVAL_START: times})
    last = history[(times >= week - WEEK) & (times < week)].assign(**{INTERVAL_START: times + WEEK})
    j = this.merge(last, on=[*CELL_KEYS, INTERVAL_START], how="outer", suffixes=("", "_naive")).fillna({VOLUME: 0.0, "volume_naive": 0.0})
    j["naive_abs_error"] = (j[VOLUME] - j["volume_naive"]).abs()
    return j.groupby(CELL_KEYS, as_index=False).agg(naive_abs_error=("naive_abs_error", "sum"), naive_actual=(VOLUME, "sum"))


# --- figures ---------------------------------------------------------------------------------------------------

def _source(cell_weeks: pd.DataFrame, facts: dict) -> pd.Series:
    return pd.Series([facts[f"{q}/{lang}"]["set"] for q, lang in zip(cell_weeks[QUEUE], cell_weeks[LANGUAGE])],
                     index=cell_weeks.index)


def _service(cw: pd.DataFrame, prefix: str = "") -> dict:
    items = float(cw[f"{prefix}items"].sum())
    rt = cw["kind"] == "realtime"
    rt_items = float(cw.loc[rt, f"{prefix}items"].sum())
    met = cw[f"{prefix}met"].fillna(False).astype(bool)
    return {"cell_weeks": int(len(cw)), "cell_weeks_met": int(met.sum()), "cell_weeks_met_share": float(met.mean()) if len(cw) else None,
            "on_time_share": float(cw[f"{prefix}on_time"].sum()) / items if items else None,
            "abandon_rate": float(cw.loc[rt, f"{prefix}abandoned"].sum()) / rt_items if rt_items else None}


def _by_source(cw: pd.DataFrame, facts: dict, prefix: str = "") -> dict:
    src = _source(cw, facts)
    return {name: _service(cw[src == name], prefix) for name in sorted(src.unique())}


def variant_figures(name: str, outcomes: list, tables: dict, facts: dict, naive: pd.DataFrame, cpu: dict) -> dict:
    totals = tables["totals"].set_index("variant").loc[name]
    cw = tables["cell_weeks"][tables["cell_weeks"]["variant"] == name].copy()
    mine = [o for o in outcomes if o.variant == name]
    f = {k: (None if pd.isna(totals.get(k)) else float(totals.get(k))) for k in (
        "cell_weeks", "cell_weeks_met", "cell_weeks_met_share", "on_time_share", "abandon_rate", "hindsight_cell_weeks_met_share",
        "hindsight_on_time_share", "hindsight_abandon_rate", "plan_total_cost", "hindsight_total_cost", "total_cost_vs_hindsight", "wape", "bias")}
    joined = cw.merge(naive, on=["week", *CELL_KEYS], how="left")
    f["naive_wape"] = float(joined["naive_abs_error"].sum() / joined["naive_actual"].sum())
    f["by_source"] = _by_source(cw, facts)
    src = _source(cw, facts)
    f["wape_by_source"] = {s: {"capplan": float(cw.loc[src == s, "abs_error"].sum() / cw.loc[src == s, "actual"].sum()),
                               "naive": float(joined.loc[src.to_numpy() == s, "naive_abs_error"].sum()
                                              / joined.loc[src.to_numpy() == s, "naive_actual"].sum())} for s in sorted(src.unique())}
    f["plan_unmet_hours"] = sum(float(o.summary["plan_unmet_hours"]) for o in mine)  # work the plan itself leaves undone
    f["hindsight_unmet_hours"] = sum(float(o.summary["hindsight_unmet_hours"]) for o in mine)
    f["plan_total_cost_by_week"] = [round(float(o.summary["plan_total_cost"]), 1) for o in mine]
    f["plan_status"] = [o.summary.get("plan_status") for o in mine]
    f["plan_seconds"] = [round(float(o.summary["timings_s"].get("plan", 0.0)), 1) for o in mine]
    f["week_cpu_s"] = cpu.get(name, [])
    f["per_week"] = [{k: o.summary.get(k) for k in ("week", "cell_weeks_met", "cell_weeks", "on_time_share", "abandon_rate",
                                                     "total_cost_vs_hindsight", "wape", "bias")} for o in mine]
    f["calibration"] = _calibration(cw)
    f["missed"] = [{"week": str(r.week)[:10], "cell": f"{r.queue}/{r.language}", "source": facts[f"{r.queue}/{r.language}"]["set"],
                    "achieved": round(float(r.achieved), 4), "target": float(r.target), "bias": None if pd.isna(r.bias) else round(float(r.bias), 4),
                    "hindsight_met": bool(r.hindsight_met)} for r in cw[~cw["met"].astype(bool)].itertuples()]
    f["meets_goal"] = bool((f["cell_weeks_met_share"] or 0) >= GOAL["cell_weeks_met_share"] and (f["on_time_share"] or 0) >= GOAL["on_time_share"]
                           and (f["total_cost_vs_hindsight"] if f["total_cost_vs_hindsight"] is not None else 1) <= GOAL["total_cost_vs_hindsight"])
    return f


def hindsight_figures(tables: dict, outcomes: list, facts: dict, first: str) -> dict:
    cw = tables["cell_weeks"][tables["cell_weeks"]["variant"] == first]
    unmet = sum(float(o.summary["hindsight_unmet_hours"]) for o in outcomes if o.variant == first)
    return {**_service(cw, "hindsight_"), "by_source": _by_source(cw, facts, "hindsight_"), "unmet_hours": unmet}


def baseline_figures(base: list[dict], outcomes: list, facts: dict) -> dict:
    cw = pd.concat([b["cells"] for b in base], ignore_index=True)
    p50 = {o.week: o for o in outcomes if o.variant == "P50"}
    cost = sum(float(b["solve"]["total_cost"]) for b in base)
    weeks = [b["cells"]["week"].iloc[0] for b in base]
    hindsight = sum(p50[w].summary["hindsight_total_cost"] for w in weeks if w in p50)
    f = {**_service(cw), "by_source": _by_source(cw, facts), "total_cost": cost,
         "unmet_hours": sum(float(b["solve"]["unmet_hours"]) for b in base),
         "total_cost_vs_hindsight": cost / hindsight - 1.0 if hindsight and len(p50) >= len(weeks) else None,
         "per_week": [{"week": str(w)[:10], **b["replay"], **{k: b["solve"][k] for k in ("status", "total_cost", "unmet_hours")}}
                      for w, b in zip(weeks, base)]}
    if p50:
        opt = sum(p50[w].summary["plan_total_cost"] for w in weeks if w in p50)
        f["optimizer_P50_total_cost"] = opt
        f["optimizer_P50_unmet_hours"] = sum(p50[w].summary["plan_unmet_hours"] for w in weeks if w in p50)
        f["saving_P50_vs_baseline_paid"] = 1.0 - opt / cost if cost else None
    f["committed_cost"] = sum(float(b["solve"]["committed_cost"]) for b in base)  # roster pay and vendor minimums: every plan's
    f["decidable_cost"] = cost - f["committed_cost"]
    f["gap_cost_estimate"] = sum(float((b["solve"].get("baseline_remedies") or {}).get("gap_cost_estimate", 0.0)) for b in base)
    if p50:
        f["saving_P50_vs_gap_closed_estimate"] = 1.0 - f["optimizer_P50_total_cost"] / (cost + f["gap_cost_estimate"])
    f["vs_optimizer"] = {}
    for name in sorted({o.variant for o in outcomes}):  # issue 12: the saving, and whether it comes at equal or better service
        mine = pd.concat([o.cell_weeks for o in outcomes if o.variant == name and o.week in weeks], ignore_index=True)
        if len(mine) != len(cw):
            continue
        plan = sum(o.summary["plan_total_cost"] for o in outcomes if o.variant == name and o.week in weeks)
        s = _service(mine)
        f["vs_optimizer"][name] = {"saving_paid": 1.0 - plan / cost if cost else None, "cell_weeks_met": s["cell_weeks_met"],
                                   "saving_decidable": 1.0 - (plan - f["committed_cost"]) / f["decidable_cost"] if f["decidable_cost"] else None,
                                   "on_time_share": s["on_time_share"],
                                   "equal_or_better_service": bool(s["cell_weeks_met"] >= f["cell_weeks_met"]
                                                                   and s["on_time_share"] >= f["on_time_share"] - 1e-4)}
    f["missed"] = [{"week": str(r.week)[:10], "cell": f"{r.queue}/{r.language}", "achieved": round(float(r.achieved), 4),
                    "target": float(r.target)} for r in cw[~cw["met"].astype(bool)].itertuples()]
    return f


def _worst_days(fc: pd.DataFrame, actual: pd.Series, top: int) -> tuple[float | None, list[dict]]:
    """Week's and days' actual / forecast - 1 of the forecast rows ``fc`` (one cell, or a queue's cells summed)."""
    daily = fc.groupby(fc[INTERVAL_START].dt.floor("D"))[VOLUME].sum()
    got = actual.groupby(level="day").sum().reindex(daily.index).fillna(0.0)
    ratio = (got / daily.where(daily > 0) - 1.0).dropna().sort_values(ascending=False).head(top)
    week = float(got.sum() / daily.sum() - 1.0) if daily.sum() else None
    return week, [{"day": f"{d:%a %Y-%m-%d}", "actual_vs_forecast": round(float(v), 3)} for d, v in ratio.items()]


def miss_days(outcomes: list, history: pd.DataFrame, missed: list[dict], name: str, top: int = 2) -> list[dict]:
    """For each missed cell-week of ``name``: the days whose actual ran most above the forecast (actual / forecast - 1),
    of the cell and of its whole queue (the cells of a queue share pools, severity and the exposure cap)."""
    times = pd.to_datetime(history[INTERVAL_START], utc=True)
    actual = history.assign(day=times.dt.floor("D")).groupby([*CELL_KEYS, "day"])[VOLUME].sum()
    out = []
    for m in missed:
        o = next(o for o in outcomes if o.variant == name and str(o.week)[:10] == m["week"])
        q, lang = m["cell"].split("/")
        cell_week, cell_days = _worst_days(o.forecast[(o.forecast[QUEUE] == q) & (o.forecast[LANGUAGE] == lang)],
                                           actual.loc[(q, lang)], top)
        queue_week, queue_days = _worst_days(o.forecast[o.forecast[QUEUE] == q], actual.loc[q], top)
        out.append({**m, "week_actual_vs_forecast": cell_week, "worst_days": cell_days,
                    "queue_week_actual_vs_forecast": queue_week, "queue_worst_days": queue_days})
    return out


def _pct(x, signed: bool = False) -> str:
    return "n/a" if x is None else (f"{x:+.1%}" if signed else f"{x:.1%}")


def _below(saving: float | None) -> str:
    """A saving as words: '2.4% below' the reference, or '7.7% above' it."""
    return "n/a" if saving is None else f"{abs(saving):.1%} {'below' if saving >= 0 else 'above'}"


def markdown(result: dict) -> str:
    v, b = result["variants"], result.get("baseline")
    lines = [f"Weeks {', '.join(w[:10] for w in result['weeks'])} (policy priority, seed 0); {result['cells']} real cells "
             f"({result['cell_sources']}); goal (issue 19): >= 98 % cell-weeks met, >= 99 % items on time, <= 3 % above hindsight.", "",
             "| plan | cell-weeks met | items on time | abandoned (live/en) | total cost vs hindsight | unmet as planned [h] | forecast WAPE | "
             "naive WAPE | stated P(met) | met share | Brier |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, f in v.items():
        cal = f.get("calibration") or {}
        lines.append(f"| {name} | {f['cell_weeks_met']:.0f}/{f['cell_weeks']:.0f} ({_pct(f['cell_weeks_met_share'])}) | {_pct(f['on_time_share'])} | "
                     f"{_pct(f['abandon_rate'])} | {_pct(f['total_cost_vs_hindsight'], True)} | {f['plan_unmet_hours']:,.0f} | {f['wape']:.3f} | "
                     f"{f['naive_wape']:.3f} | "
                     f"{_pct(cal.get('mean_stated_probability'))} | {_pct(cal.get('met_share')) if cal else ''} | "
                     f"{'' if not cal else format(cal['brier'], '.3f')} |")
    h = result.get("hindsight")
    if h:
        lines.append(f"| hindsight | {h['cell_weeks_met']}/{h['cell_weeks']} ({_pct(h['cell_weeks_met_share'])}) | {_pct(h['on_time_share'])} | "
                     f"{_pct(h['abandon_rate'])} | 0 | {h['unmet_hours']:,.0f} | 0 | | | | |")
    if b:
        lines.append(f"| honest baseline | {b['cell_weeks_met']}/{b['cell_weeks']} ({_pct(b['cell_weeks_met_share'])}) | {_pct(b['on_time_share'])} | "
                     f"{_pct(b['abandon_rate'])} | {_pct(b['total_cost_vs_hindsight'], True)} | {b['unmet_hours']:,.0f} | (P50's) | | | | |")
    lines += ["", "Against the goal (points above or below it):", ""]
    for name, f in v.items():
        cost = f["total_cost_vs_hindsight"]
        lines.append(f"- {name}: cell-weeks met {(f['cell_weeks_met_share'] - GOAL['cell_weeks_met_share']) * 100:+.1f}, items on time "
                     f"{(f['on_time_share'] - GOAL['on_time_share']) * 100:+.1f}, cost vs hindsight "
                     f"{'n/a' if cost is None else format((GOAL['total_cost_vs_hindsight'] - cost) * 100, '+.1f')}: "
                     + ("meets it" if f["meets_goal"] else "misses it"))
    lines += ["", "Cell-weeks met by source of the arrivals:", "",
              "| plan | " + " | ".join(result["sources"]) + " |", "|---" * (len(result["sources"]) + 1) + "|"]
    rows = list(v.items()) + ([("hindsight", h)] if h else []) + ([("honest baseline", b)] if b else [])
    for name, f in rows:
        lines.append(f"| {name} | " + " | ".join(f"{f['by_source'][s]['cell_weeks_met']}/{f['by_source'][s]['cell_weeks']}" for s in result["sources"]) + " |")
    first = next(iter(v.values()))
    lines += ["", "Forecast WAPE by source (capplan / weekly seasonal naive): "
              + "; ".join(f"{s} {w['capplan']:.3f} / {w['naive']:.3f}" for s, w in first["wape_by_source"].items()) + "."]
    if b and b.get("saving_P50_vs_baseline_paid") is not None:
        lines += ["", f"Issue 12: the optimizer's P50 plan costs {_below(b['saving_P50_vs_baseline_paid'])} the honest baseline "
                  f"({b['optimizer_P50_total_cost']:,.0f} vs {b['total_cost']:,.0f} {result['currency']}, unmet as planned "
                  f"{b['optimizer_P50_unmet_hours']:,.0f} h vs {b['unmet_hours']:,.0f} h); replayed: {v['P50']['cell_weeks_met']:.0f} vs "
                  f"{b['cell_weeks_met']} cell-weeks met, {_pct(v['P50']['on_time_share'])} vs {_pct(b['on_time_share'])} items on time."]
    if b:
        lines.append(f"- the baseline's own estimate of closing its planned shortfall at the cheapest skilled rate, limits lifted: "
                     f"{b['gap_cost_estimate']:,.0f} {result['currency']} ({b['gap_cost_estimate'] / b['total_cost']:.1%} of its cost; P50 "
                     f"{_below(b.get('saving_P50_vs_gap_closed_estimate'))} the baseline with it); "
                     f"committed cost (roster pay, vendor minimums) {b['committed_cost'] / b['total_cost']:.0%} of it")
    for name, c in (b or {}).get("vs_optimizer", {}).items():
        lines.append(f"- {name} vs the honest baseline: paid cost {_below(c['saving_paid'])} (decidable cost "
                     f"{_below(c['saving_decidable'])}), {c['cell_weeks_met']} vs "
                     f"{b['cell_weeks_met']} cell-weeks met, {_pct(c['on_time_share'])} vs {_pct(b['on_time_share'])} on time: "
                     + ("equal or better service" if c["equal_or_better_service"] else "WORSE service"))
    for name, f in v.items():
        if f.get("miss_days"):
            lines += ["", f"{name}: missed cell-weeks (achieved vs target; the week's actual vs forecast of the cell and of its "
                      "queue, with the two days most above the forecast):", ""]
            for m in f["miss_days"]:
                days = ", ".join(f"{d['day'][:3]} {d['actual_vs_forecast']:+.0%}" for d in m["worst_days"])
                queue = ", ".join(f"{d['day'][:3]} {d['actual_vs_forecast']:+.0%}" for d in m["queue_worst_days"])
                lines.append(f"- {m['week']} {m['cell']} ({m['source']}): {m['achieved']:.1%} vs {m['target']:.0%}; cell "
                             f"{_pct(m['week_actual_vs_forecast'], True)} ({days}); queue {m['cell'].split('/')[0]} "
                             f"{_pct(m['queue_week_actual_vs_forecast'], True)} ({queue})" + ("" if m["hindsight_met"] else "; hindsight missed it too"))
    return "\n".join(lines) + "\n"


def _label(name: str, args) -> str:
    return f"{name}-S{args.scenarios}-p{args.probability:g}-r{args.rounds}" if name in ("checked", "replayed") else name


def compute(ws, weeks: list[pd.Timestamp], variants: dict, key: str, args) -> tuple[list, dict, list]:
    """Every variant's walk-forward week and the baseline's, each from its cached part or computed and cached."""
    from capplan.evaluate import walk_forward

    PARTS.mkdir(parents=True, exist_ok=True)
    outcomes, cpu, base = [], {}, []
    for name, config in variants.items():
        config.solver.time_limit_s = args.time_limit
        for week in weeks:
            part = PARTS / f"{key}-{_label(name, args)}-{week:%Y%m%d}.pkl"
            print(f"{name} {week:%Y-%m-%d} ...", flush=True)
            outcomes += _cached(part, lambda: walk_forward(ws, [week], {name: config}, engine="local", policy="priority", seed=0))
            cpu.setdefault(name, []).append(json.loads(part.with_suffix(".cpu.json").read_text())["cpu_s"])
    for week in weeks if args.baseline else []:
        part = PARTS / f"{key}-baseline-{week:%Y%m%d}.pkl"
        print(f"baseline {week:%Y-%m-%d} ...", flush=True)
        base.append(_cached(part, lambda: baseline_week(ws, week, "priority", 0)))
        cpu.setdefault("baseline", []).append(json.loads(part.with_suffix(".cpu.json").read_text())["cpu_s"])
    return outcomes, cpu, base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--variants", default="P50,P90,checked")
    ap.add_argument("--scenarios", type=int, default=10, help="[staffing] scenarios of the checked plan")
    ap.add_argument("--probability", type=float, default=0.95, help="[staffing] target_probability of the checked plan")
    ap.add_argument("--rounds", type=int, default=2, help="[staffing] check_rounds of the checked plan")
    ap.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True, help="replay the honest baseline too")
    ap.add_argument("--models", default="demo", choices=["demo", "default"],
                    help="forecast models: the small demo's (fast) or capplan's default list (as bench/forecast_real.py)")
    ap.add_argument("--time-limit", type=float, default=3600.0, help="[solver] time_limit_s (plans stop at the gap, not the time)")
    ap.add_argument("--only-weeks", default=None, help="compute only these of the K weeks (0-based) and stop (parallel processes)")
    ap.add_argument("--keep", type=Path, default=None, help="build the workspace here (a new folder) and keep it")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "evaluate_real")
    args = ap.parse_args()

    from capplan.evaluate import evaluation_weeks
    from capplan.inputs import load_workspace
    from capplan.pipeline.evaluate import _tables

    started = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="capplan-real-")
    ws_dir = args.keep or Path(tmp) / "ws"
    try:
        facts = build_workspace(ws_dir, models=args.models)
        ws = load_workspace(ws_dir)
        key = hashlib.sha256((ws_dir / "inputs" / "history.csv").read_bytes()
                             + (ws_dir / "capplan.toml").read_bytes()).hexdigest()[:10]
        weeks = evaluation_weeks(ws.history, ws.config, args.weeks)
        names = [n for n in args.variants.split(",") if n]
        variants = _variants(ws.config, names, args.scenarios, args.probability, "expected", args.rounds)
        chosen = [weeks[int(i)] for i in args.only_weeks.split(",")] if args.only_weeks else weeks
        outcomes, cpu, base = compute(ws, chosen, variants, key, args)
        if args.only_weeks:
            print(f"saved weeks {args.only_weeks} in {PARTS} (key {key})")
            return
        tables = _tables(outcomes)
        naive = pd.concat([naive_errors(ws.history, w).assign(week=w) for w in weeks], ignore_index=True)
        result = {"command": "bench/evaluate_real.py " + " ".join(sys.argv[1:]), "key": key, "models": args.models,
                  "forecast_models": list(ws.config.forecast.models), "weeks": [w.isoformat() for w in weeks], "policy": "priority",
                  "goal": GOAL, "currency": ws.config.policy.currency, "cells": len(facts), "dropped_cells": ["/".join(c) for c in DROPPED],
                  "sources": sorted({f["set"] for f in facts.values()}), "mapping": facts,
                  "cell_sources": ", ".join(f"{s} {sum(f['set'] == s for f in facts.values())}" for s in sorted({f['set'] for f in facts.values()})),
                  "variants": {}}
        for name in names:
            f = variant_figures(name, outcomes, tables, facts, naive, cpu)
            f["miss_days"] = miss_days(outcomes, ws.history, f["missed"], name)
            result["variants"][name] = f
        result["hindsight"] = hindsight_figures(tables, outcomes, facts, names[0])
        if base:
            result["baseline"] = baseline_figures(base, outcomes, facts)
            result["baseline"]["week_cpu_s"] = cpu.get("baseline", [])
        if "P50" in result["variants"]:
            p50 = result["variants"]["P50"]["plan_total_cost"]
            for f in result["variants"].values():
                f["cost_vs_P50"] = f["plan_total_cost"] / p50 - 1.0 if p50 else None
        result.update({"wall_s": round(time.perf_counter() - started, 1), "cpus": 2, "python": platform.python_version(),
                       "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    md = markdown(result)
    args.out.with_suffix(".md").write_text(md)
    print(md)
    print(f"wrote {args.out.with_suffix('.json')} and .md")


if __name__ == "__main__":
    main()
