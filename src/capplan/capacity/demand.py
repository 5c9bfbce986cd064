"""Weekly demand: forecast weekly volume -> workload hours -> required productive and paid hours and FTE.

The calibrated weekly factor
----------------------------
A week's workload ``volume x aht_s / 3600`` [h] is not what it takes to meet a service target: real-time
queues need queueing slack (Erlang C / A at the occupancy cap), deferred queues need the turnaround
profile at ``deferred_max_utilisation``, and both depend on the hour-by-hour shape of the week. Rather
than a second set of formulas, the factor comes from the weekly plan's own maths: the last
``[capacity] calibration_weeks`` complete weeks of hourly history (at ``[planning] interval_minutes``)
go through :func:`capplan.staffing.requirements.compute_requirements` at P50, and per cell

    factor = sum_t required_productive_t x interval_h / sum_t workload_hours_t

(productive moderator-hours per hour of handling work). The weekly requirement is then
``required_productive_hours = volume_planned x aht_s / 3600 x factor`` (hours of a proficiency-1.0
moderator; pool proficiency and site shrinkage apply on the supply side), and for reporting
``required_paid_hours = required_productive_hours / (1 - [staffing] shrinkage)`` and
``required_fte = required_paid_hours / [capacity] fte_week_hours``. A cell with no work in the
calibration weeks gets the median factor of its queue, else ``1 / deferred_max_utilisation`` (deferred)
or ``1 / max_occupancy`` (real-time). The factor assumes the intraday shape of recent weeks holds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.schema import CAPACITY_DEMAND_COLUMNS, CELL_KEYS, INTERVAL_START, LANGUAGE, QUEUE, WEEK, WEEK_START


def calibration_factors(ws, start: pd.Timestamp, weeks: int) -> pd.DataFrame:
    """Per cell: ``queue, language, aht_s, workload_hours, required_productive_hours, factor`` over the calibration weeks."""
    from capplan.staffing.requirements import compute_requirements

    minutes = int(ws.config.planning.interval_minutes)
    begin = start - pd.Timedelta(weeks=weeks)
    h = ws.history[(ws.history[INTERVAL_START] >= begin) & (ws.history[INTERVAL_START] < start)]
    h = h.assign(**{INTERVAL_START: h[INTERVAL_START].dt.floor(f"{minutes}min")})
    frame = h.groupby(CELL_KEYS + [INTERVAL_START], sort=True, as_index=False)["volume"].sum()
    req = compute_requirements(frame, ws, 50)
    interval_h = minutes / 60.0
    per_cell = req.assign(prod=req["required_productive"] * interval_h).groupby(CELL_KEYS, sort=True).agg(
        aht_s=("aht_s", "mean"), workload_hours=("workload_hours", "sum"), required_productive_hours=("prod", "sum"),
        kind=("method", "first"))
    per_cell["factor"] = per_cell["required_productive_hours"] / per_cell["workload_hours"].where(per_cell["workload_hours"] > 0)
    return per_cell.reset_index()


def weekly_demand(forecast: pd.DataFrame, calibration: pd.DataFrame, ws, start: pd.Timestamp) -> pd.DataFrame:
    """The demand table (:data:`capplan.schema.CAPACITY_DEMAND_COLUMNS` plus the forecast bands).

    Parameters
    ----------
    forecast : :func:`capplan.capacity.weekly.forecast_weekly` output.
    calibration : :func:`calibration_factors` output.
    ws : the workspace (handle times, queues, staffing and capacity config).
    start : plan start (UTC).
    """
    config = ws.config
    out = forecast.merge(calibration[CELL_KEYS + ["aht_s", "factor"]], on=CELL_KEYS, how="left")
    out["aht_s"] = out["aht_s"].fillna(_handle_times(ws, out))
    out["factor"] = _fill_factors(out, calibration, ws)
    out[WEEK_START] = (start + pd.to_timedelta(out[WEEK] * 7, unit="D")).dt.date
    out["workload_hours"] = out["volume_planned"] * out["aht_s"] / 3600.0
    out["required_productive_hours"] = out["workload_hours"] * out["factor"]
    out["required_paid_hours"] = out["required_productive_hours"] / (1.0 - config.staffing.shrinkage)
    out["required_fte"] = out["required_paid_hours"] / config.capacity.fte_week_hours
    bands = [c for c in forecast.columns if c.startswith("volume_lo_") or c.startswith("volume_hi_")]
    out = out[CAPACITY_DEMAND_COLUMNS[:5] + bands + CAPACITY_DEMAND_COLUMNS[5:]]
    return out.sort_values([WEEK, QUEUE, LANGUAGE], kind="stable").reset_index(drop=True)


def _handle_times(ws, out: pd.DataFrame) -> pd.Series:
    ht = ws.handle_times.groupby(CELL_KEYS)["aht_s"].mean()
    aht = pd.Series(ht.reindex(pd.MultiIndex.from_frame(out[CELL_KEYS])).to_numpy(), index=out.index)
    return aht.fillna(float(ht.mean()) if len(ht) else 60.0)


def _fill_factors(out: pd.DataFrame, calibration: pd.DataFrame, ws) -> pd.Series:
    staffing = ws.config.staffing
    by_queue = calibration.groupby(QUEUE)["factor"].median()
    kind = ws.queues.set_index(QUEUE)["kind"]
    default = np.where(out[QUEUE].map(kind).eq("realtime"), 1.0 / staffing.max_occupancy, 1.0 / staffing.deferred_max_utilisation)
    return out["factor"].fillna(out[QUEUE].map(by_queue)).fillna(pd.Series(default, index=out.index))
