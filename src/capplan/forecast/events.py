"""Known events: taken out of the training history, multiplied into the forecast.

An event (``inputs/events.csv``) says that from ``start`` (inclusive) to ``end`` (exclusive) the
volume of some queues x languages is ``multiplier`` times its usual level. Overlapping events
multiply. An hour is affected when it overlaps the event window.

* **Past events** (inside the history): the affected hours are divided by the multiplier, so the
  models learn the usual level. A multiplier of 0 (an outage: nothing arrived) cannot be divided
  out; those hours are replaced by the same hour one week earlier (or later, if no earlier week is
  clean), i.e. by the weekly seasonal-naive value.
* **Future events** (inside the forecast horizon): the forecast and both bounds of every
  prediction interval are multiplied by the multiplier.

Example (the demo workspace's ``events.csv``): a Brazilian election week doubling Portuguese
comments, ``election-br,2026-10-02T00:00:00Z,2026-10-09T00:00:00Z,comments,pt,2.0``: if that week
is in the history its volumes are halved before fitting; if it is in the horizon the forecast for
``comments/pt`` in that week is doubled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.schema import LANGUAGE, QUEUE

HOUR = pd.Timedelta(hours=1)
WEEK_HOURS = 168


def event_multipliers(events: pd.DataFrame | None, cells: pd.DataFrame, hours: pd.DatetimeIndex,
                      hour_length: pd.Timedelta = HOUR) -> np.ndarray | None:
    """Volume multiplier of every cell x hour (product of overlapping events).

    Parameters
    ----------
    events : DataFrame or None
        ``start``, ``end`` (UTC), ``queues``, ``languages`` (tuples, ``('*',)`` = all), ``multiplier``.
    cells : DataFrame
        ``queue``, ``language``, one row per panel row.
    hours : DatetimeIndex
        Interval starts (tz-naive UTC or tz-aware), equally spaced by ``hour_length``.

    Returns
    -------
    ndarray, shape (n_cells, n_hours), or None when no event touches these hours.
    """
    if events is None or len(events) == 0:
        return None
    hours = _naive_utc(pd.DatetimeIndex(hours))
    mult = None
    queues = cells[QUEUE].to_numpy()
    langs = cells[LANGUAGE].to_numpy()
    for ev in events.itertuples(index=False):
        start, end = _naive_utc(pd.DatetimeIndex([ev.start]))[0], _naive_utc(pd.DatetimeIndex([ev.end]))[0]
        in_time = (hours + hour_length > start) & (hours < end)
        if not in_time.any():
            continue
        q_ok = np.ones(len(cells), bool) if "*" in tuple(ev.queues) else np.isin(queues, list(ev.queues))
        l_ok = np.ones(len(cells), bool) if "*" in tuple(ev.languages) else np.isin(langs, list(ev.languages))
        rows = q_ok & l_ok
        if not rows.any():
            continue
        if mult is None:
            mult = np.ones((len(cells), len(hours)))
        mult[np.ix_(rows, np.asarray(in_time))] *= float(ev.multiplier)
    return mult


def adjust_history(values: np.ndarray, mult: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Take past events out of hourly history (see module notes).

    Parameters
    ----------
    values : ndarray, shape (n_cells, n_hours) [items]
    mult : ndarray of the same shape, or None

    Returns
    -------
    (adjusted values, number of hours adjusted)
    """
    if mult is None:
        return values, 0
    affected = (mult != 1.0) & ~np.isnan(values)
    out = values.copy()
    scale = affected & (mult > 0)
    out[scale] = values[scale] / mult[scale]
    outage = affected & (mult == 0)
    if outage.any():
        out[outage] = np.nan
        for shift in (WEEK_HOURS, -WEEK_HOURS, 2 * WEEK_HOURS, -2 * WEEK_HOURS):
            todo = outage & np.isnan(out)
            if not todo.any():
                break
            src = np.roll(out, shift, axis=1)
            if shift > 0:
                src[:, :shift] = np.nan
            else:
                src[:, shift:] = np.nan
            out[todo] = src[todo]
        out[outage & np.isnan(out)] = 0.0
    return out, int(affected.sum())


def _naive_utc(idx: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return idx.tz_convert("UTC").tz_localize(None) if idx.tz is not None else idx
