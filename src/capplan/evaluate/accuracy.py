"""Forecast accuracy tracking: past forecast runs (snapshots) against the actuals now in history.

Each forecast run is a snapshot made at its planning start ``t0``. Once the history covers part of
its horizon, the forecast (its ``volume``, the mean / P50) is compared hour by hour with what
arrived, and so is the **weekly seasonal naive made from the history before t0**: for an hour
``t >= t0`` it is the actual of ``t - 7 k`` days, with ``k = floor((t - t0) / 7 days) + 1`` (the last
week before the run, repeated). That is the benchmark any forecast should beat; a cell with no
history at that hour counts as zero there, as the forecast's own panel does.

Errors are summed over hours into WAPE and bias (:mod:`capplan.evaluate.metrics`) per cell, per
week of the horizon, per lead time (whole days from ``t0``) and per run; the trend across runs is
the least-squares slope of each run's WAPE against its planning start [WAPE points per week].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capplan.evaluate.metrics import errors_by, hourly
from capplan.schema import ACTUAL, CELL_KEYS, FORECAST, INTERVAL_START, LEAD_DAYS, NAIVE, RUN_ID, VOLUME, WAPE, WEEK

DAY = pd.Timedelta(days=1)
WEEK_DAYS = 7
START = "start"
MODEL = "model"
HOURS = "hours"
SKILL = "skill"  # 1 - WAPE / naive WAPE: positive when the forecast beats the naive


@dataclass
class Snapshot:
    """One forecast run: its id, planning start (UTC) and forecast table (the data contract)."""

    run_id: str
    start: pd.Timestamp
    forecast: pd.DataFrame


@dataclass
class AccuracyTables:
    """What :func:`forecast_accuracy` finds.

    Attributes
    ----------
    by_cell, by_week, by_lead, by_run : DataFrame
        ``run_id`` and the key (cell / ``week`` / ``lead_days`` / none), then ``hours`` compared,
        ``actual``, ``forecast``, ``wape``, ``bias``, ``naive``, ``naive_wape``, ``naive_bias``
        [items, shares]; ``by_cell`` adds the chosen ``model``, ``by_run`` the run's ``start``,
        its ``skill`` vs the naive and the ``end`` of the hours compared.
    by_lead_all : DataFrame
        The same per ``lead_days`` pooled over every run.
    trend : dict
        ``runs``, ``wape_slope_per_week``, ``naive_wape_slope_per_week`` (None with fewer than two runs),
        ``first_wape``, ``last_wape``.
    skipped : list of str
        Run ids with no hour of their horizon in the history yet.
    """

    by_cell: pd.DataFrame
    by_week: pd.DataFrame
    by_lead: pd.DataFrame
    by_run: pd.DataFrame
    by_lead_all: pd.DataFrame
    trend: dict
    skipped: list[str] = field(default_factory=list)


def compare_snapshot(snapshot: Snapshot, actuals_hourly: pd.DataFrame, history_end: pd.Timestamp) -> pd.DataFrame:
    """Hour-by-hour ``forecast``, ``actual`` and ``naive`` of one run where the history covers it.

    Parameters
    ----------
    snapshot : the run.
    actuals_hourly : ``queue, language, interval_start, actual`` summed to whole hours (UTC).
    history_end : exclusive end of the history [UTC]; hours at or after it are not compared.

    Returns
    -------
    DataFrame: ``run_id, queue, language, interval_start, lead_days, week, forecast, actual, naive``.
    """
    fc = hourly(snapshot.forecast, VOLUME, FORECAST)
    t0 = snapshot.start
    fc = fc[(fc[INTERVAL_START] >= t0) & (fc[INTERVAL_START] < history_end)]
    joined = fc.merge(actuals_hourly, on=[*CELL_KEYS, INTERVAL_START], how="left")
    joined[ACTUAL] = joined[ACTUAL].fillna(0.0)  # history covers these hours: no row means nothing arrived
    lead = ((joined[INTERVAL_START] - t0) // DAY).astype(int)
    back = (lead // WEEK_DAYS + 1) * WEEK_DAYS
    naive_at = joined[[*CELL_KEYS]].assign(**{INTERVAL_START: joined[INTERVAL_START] - pd.to_timedelta(back, unit="D")})
    naive = naive_at.merge(actuals_hourly, on=[*CELL_KEYS, INTERVAL_START], how="left")[ACTUAL]
    joined[NAIVE] = naive.fillna(0.0).to_numpy()
    joined[LEAD_DAYS] = lead.to_numpy()
    joined[WEEK] = t0 + pd.to_timedelta((lead // WEEK_DAYS) * WEEK_DAYS, unit="D")
    joined.insert(0, RUN_ID, snapshot.run_id)
    return joined


def forecast_accuracy(snapshots: list[Snapshot], history: pd.DataFrame) -> AccuracyTables:
    """Every snapshot against the history: errors per cell, week, lead time and run, and the trend.

    Parameters
    ----------
    snapshots : forecast runs, any order (reported by planning start, then run id).
    history : ``queue, language, interval_start, volume`` [items per interval, UTC].

    Returns
    -------
    AccuracyTables; a snapshot none of whose hours the history covers is listed in ``skipped``.
    """
    actuals = hourly(history, VOLUME, ACTUAL)
    history_end = actuals[INTERVAL_START].max() + pd.Timedelta(hours=1)
    parts, skipped, models = [], [], []
    for snap in sorted(snapshots, key=lambda s: (s.start, s.run_id)):
        rows = compare_snapshot(snap, actuals, history_end)
        if rows.empty:
            skipped.append(snap.run_id)
            continue
        parts.append(rows)
        models.append(snap.forecast[[*CELL_KEYS, MODEL]].drop_duplicates(CELL_KEYS).assign(**{RUN_ID: snap.run_id})
                      if MODEL in snap.forecast.columns else None)
    if not parts:
        return AccuracyTables(*(pd.DataFrame() for _ in range(5)), trend={"runs": 0}, skipped=skipped)
    rows = pd.concat(parts, ignore_index=True)
    by_cell = _errors(rows, [RUN_ID, *CELL_KEYS])
    known = [m for m in models if m is not None]
    if known:
        by_cell = by_cell.merge(pd.concat(known, ignore_index=True), on=[RUN_ID, *CELL_KEYS], how="left")
    by_run = _errors(rows, [RUN_ID])
    spans = rows.groupby(RUN_ID, sort=False)[INTERVAL_START].agg(["max"]).rename(columns={"max": "end"})
    starts = {s.run_id: s.start for s in snapshots}
    by_run.insert(1, START, by_run[RUN_ID].map(starts))
    by_run["end"] = by_run[RUN_ID].map(spans["end"] + pd.Timedelta(hours=1))
    by_run[SKILL] = 1.0 - by_run[WAPE] / by_run[f"{NAIVE}_{WAPE}"]
    by_run = by_run.sort_values([START, RUN_ID], kind="stable").reset_index(drop=True)
    return AccuracyTables(by_cell=by_cell, by_week=_errors(rows, [RUN_ID, WEEK]), by_lead=_errors(rows, [RUN_ID, LEAD_DAYS]),
                          by_run=by_run, by_lead_all=_errors(rows, [LEAD_DAYS]), trend=trend(by_run), skipped=skipped)


def _errors(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = errors_by(rows, keys, (FORECAST, NAIVE))
    out.insert(len(keys), HOURS, rows.groupby(keys, sort=True, observed=True).size().to_numpy())
    return out


def trend(by_run: pd.DataFrame) -> dict:
    """Least-squares slope of WAPE (and the naive's) against the runs' planning starts [per week].

    A negative ``wape_slope_per_week`` means the forecast is getting better over time.
    """
    result = {"runs": int(len(by_run)), "first_wape": _num(by_run[WAPE].iloc[0]) if len(by_run) else None,
              "last_wape": _num(by_run[WAPE].iloc[-1]) if len(by_run) else None,
              "wape_slope_per_week": None, "naive_wape_slope_per_week": None}
    ok = by_run[np.isfinite(by_run[WAPE].to_numpy(dtype=float))]
    weeks = ((ok[START] - ok[START].min()) / pd.Timedelta(weeks=1)).to_numpy(dtype=float)
    if len(ok) >= 2 and np.ptp(weeks) > 0:
        result["wape_slope_per_week"] = float(np.polyfit(weeks, ok[WAPE].to_numpy(dtype=float), 1)[0])
        result["naive_wape_slope_per_week"] = float(np.polyfit(weeks, ok[f"{NAIVE}_{WAPE}"].to_numpy(dtype=float), 1)[0])
    return result


def _num(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


__all__ = ["Snapshot", "AccuracyTables", "compare_snapshot", "forecast_accuracy", "trend", "SKILL", "START", "HOURS"]
