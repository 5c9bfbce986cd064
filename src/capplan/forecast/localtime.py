"""Daylight-saving time: model a cell's arrivals on its users' clock, not on UTC.

Arrivals follow local time (people post, call and fly by their clock), so where the daylight-saving offset
changes, the whole weekly pattern moves by an hour in UTC: a weekly seasonal naive or an intraday profile
learned across the change is an hour off for weeks (on scheduled departures from New York in November 2013
this doubled the naive's error). With ``[forecast] time_zones`` (IANA zone per language code, or ``"*"``),
each cell's history is shifted onto a *DST-free* clock before any model sees it:

    t' = t + (offset(t) - offset(t_ref))

where ``offset`` is the zone's UTC offset and ``t_ref`` the last hour of the history: hours already at the
current offset do not move, those from the other side of a change move by its size (one hour). Models forecast
on that clock; each UTC hour ``t`` of the horizon then reads the forecast at ``t + offset(t) - offset(t_ref)``,
so a change inside the horizon moves the pattern too. The hour that a change makes ambiguous (autumn) holds two
hours' arrivals and the one it skips (spring) none: they are a single hour a year, handled like any other
spike or gap (outage cleaning). Handle times, within-hour shapes and events stay on UTC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.schema import INTERVAL_START, LANGUAGE

HOUR = pd.Timedelta(hours=1)


def zone_of(language: str, time_zones: dict[str, str]) -> str | None:
    """The configured zone of a language code (its own entry, else ``"*"``), or None."""
    return time_zones.get(language, time_zones.get("*"))


def _offset_hours(times: pd.DatetimeIndex, zone: str) -> np.ndarray:
    """UTC offset [h] of tz-naive UTC ``times`` in ``zone``."""
    utc = times.tz_localize("UTC")
    local = utc.tz_convert(zone).tz_localize(None)
    return ((local - times) / HOUR).to_numpy(float)


def shift_history(history: pd.DataFrame, time_zones: dict[str, str], ref: pd.Timestamp | None) -> tuple[pd.DataFrame, int]:
    """History on the DST-free clock of each row's zone (module notes); returns (history, rows moved).

    ``ref`` is tz-naive UTC; languages without a zone keep UTC.
    """
    if not time_zones or history.empty or ref is None:
        return history, 0
    times = pd.to_datetime(history[INTERVAL_START], utc=True).dt.tz_localize(None)
    shift = np.zeros(len(history))
    langs = history[LANGUAGE].astype(str)
    for lang in langs.unique():
        zone = zone_of(lang, time_zones)
        if zone is None:
            continue
        rows = (langs == lang).to_numpy()
        t = pd.DatetimeIndex(times[rows])
        shift[rows] = _offset_hours(t, zone) - _offset_hours(pd.DatetimeIndex([ref]), zone)[0]
    if not shift.any():
        return history, 0
    out = history.copy()
    out[INTERVAL_START] = (times + pd.to_timedelta(shift, unit="h")).dt.tz_localize("UTC")
    return out, int((shift != 0).sum())


def horizon_index(languages: np.ndarray, time_zones: dict[str, str], origin: pd.Timestamp, hours: int,
                  ref: pd.Timestamp) -> np.ndarray | None:
    """Per cell and UTC hour from ``origin``: the hour of the DST-free forecast to read, (n_cells, hours).

    None when no cell has a zone. Indexes are clipped to ``[0, hours - 1]``.
    """
    if not time_zones:
        return None
    times = pd.date_range(origin, periods=hours, freq="h")
    base = np.arange(hours)
    out = np.tile(base, (len(languages), 1))
    any_zone = False
    cache: dict[str, np.ndarray] = {}
    for i, lang in enumerate(languages):
        zone = zone_of(str(lang), time_zones)
        if zone is None:
            continue
        if zone not in cache:
            shift = _offset_hours(times, zone) - _offset_hours(pd.DatetimeIndex([ref]), zone)[0]
            cache[zone] = np.clip(base + np.round(shift).astype(np.int64), 0, hours - 1)
        out[i] = cache[zone]
        any_zone = True
    return out if any_zone else None


#: a clock shift is reported when the one-hour-shifted profile correlates at least this well with the earlier
#: one and its distance (1 - correlation) is at most this share of the unshifted profile's
SHIFT_MIN_CORR, SHIFT_RATIO = 0.8, 0.3
#: fewest items the compared days need [items]
SHIFT_MIN_ITEMS = 30.0


def clock_shifted(values: np.ndarray) -> np.ndarray:
    """Cells whose hour-of-day pattern moved by one hour in the last weeks (a daylight-saving change?).

    Compares the hour-of-day profile of the last 3 days with that of the same weekdays two and three weeks
    earlier (mean-removed, correlation at lags -1, 0, +1 hours); a cell is flagged when a one-hour lag beats
    the unshifted profile by :data:`SHIFT_MARGIN`. Used for a warning pointing at ``forecast.time_zones``.

    Parameters
    ----------
    values : ndarray, shape (n_cells, n_days * 24)
        Hourly volumes [items], NaN before a cell's history.

    Returns
    -------
    ndarray of bool, shape (n_cells,)
    """
    n, hours = values.shape
    if hours < 28 * 24:
        return np.zeros(n, dtype=bool)
    recent = np.nan_to_num(values[:, -3 * 24:]).reshape(n, 3, 24).sum(axis=1)
    before = sum(np.nan_to_num(values[:, -(3 + w) * 24: hours - w * 24]).reshape(n, 3, 24).sum(axis=1)
                 for w in (14, 21)) / 2.0  # the same three weekdays two and three weeks earlier
    a = recent - recent.mean(axis=1, keepdims=True)
    b = before - before.mean(axis=1, keepdims=True)
    norm = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = {lag: (a * np.roll(b, lag, axis=1)).sum(axis=1) / norm for lag in (-1, 0, 1)}
    best = np.maximum(corr[-1], corr[1])
    shifted = (best > SHIFT_MIN_CORR) & ((1.0 - best) < SHIFT_RATIO * (1.0 - corr[0]))
    busy = (recent.sum(axis=1) >= SHIFT_MIN_ITEMS) & (before.sum(axis=1) >= SHIFT_MIN_ITEMS) & (norm > 0)
    return shifted & busy
