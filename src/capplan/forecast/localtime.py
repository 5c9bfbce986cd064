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

With ``time_zones = "auto"`` (the default, ``{"*": "auto"}``) the zone of each language is detected instead
(:func:`resolve_zones`, :func:`detect_zones`): among :data:`AUTO_ZONES`, one zone per daylight-saving rule, the
one whose changes inside the history a seasonal average explains clearly better on its clock than on UTC, else
none (UTC). History already stamped in local time, or on a clock without daylight saving, fits UTC better at
every change and is left alone. See docs/forecast.md for the test and what it found on real data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.schema import INTERVAL_START, LANGUAGE

HOUR = pd.Timedelta(hours=1)
HOURS_WEEK = 168

#: ``[forecast] time_zones`` value asking for the zone to be detected from the history (:func:`detect_zones`)
AUTO = "auto"
#: Zones standing for the distinct daylight-saving rules :func:`detect_zones` chooses among. Only the UTC instants
#: and directions of the changes matter (the shift onto the DST-free clock uses offset differences), so one zone
#: stands for every zone sharing its rule: America/New_York for the US and Canada (Chicago, Denver, Los Angeles
#: change 1-3 hours later in UTC), Europe/Berlin for the EU and the UK (Europe/London changes at the same instant).
AUTO_ZONES: dict[str, str] = {
    "America/New_York": "US and Canada: 2nd Sunday of March to 1st Sunday of November",
    "Europe/Berlin": "EU and UK: last Sunday of March to last Sunday of October, 01:00 UTC",
    "Asia/Jerusalem": "Israel: Friday before the last Sunday of March to the last Sunday of October",
    "Africa/Cairo": "Egypt (since 2023): last Friday of April to last Thursday of October",
    "Australia/Sydney": "south-east Australia: 1st Sunday of October to 1st Sunday of April",
    "Pacific/Auckland": "New Zealand: last Sunday of September to 1st Sunday of April",
    "America/Santiago": "Chile: early September to early April",
}
#: weeks before a change whose mean forecasts the week after it (a seasonal window average)
AUTO_WEEKS = 3
#: hours after a change compared (at most one week: a change of another rule may follow soon after) [h]
AUTO_AFTER_HOURS = HOURS_WEEK
#: fewest hours after a change for it to count [h]
AUTO_MIN_HOURS = 6
#: a zone is accepted when the naive's error on its clock is at most this share of the error on UTC ...
AUTO_MAX_RATIO = 0.8
#: ... with a paired t statistic across the (cell, day after a change) units of at least this ...
AUTO_MIN_T = 3.0
#: ... over at least this many items in the hours after the changes [items]
AUTO_MIN_ITEMS = 50.0


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


# --- automatic detection (time_zones = "auto") ------------------------------------------------------

def change_errors(values: np.ndarray, offset_h: np.ndarray, weeks: int = AUTO_WEEKS) -> tuple[np.ndarray, ...]:
    """A seasonal average's error after each offset change, on UTC and on the zone's clock, per cell and day.

    For a change at hour ``T`` with ``s = offset(before) - offset(after)`` hours, arrivals that follow the zone's
    clock satisfy ``y(T + h) ~ y(T + h - 168 k - s)``, arrivals on UTC (or already stamped in local time)
    ``y(T + h) ~ y(T + h - 168 k)``. Each hour ``h`` of the week after the change is forecast by the mean of
    the same hour ``k = 1 .. weeks`` weeks earlier on either clock (the seasonal window average of the weeks
    before the change; the mean damps their noise); the absolute errors are summed per 24-hour unit from ``T``.

    Parameters
    ----------
    values : ndarray, shape (n_cells, n_hours)
        Hourly volumes [items] on the UTC grid, NaN before a cell's history.
    offset_h : ndarray, shape (n_hours,)
        The zone's UTC offset at each hour of the grid [h].
    weeks : int
        Weeks before the change averaged [weeks].

    Returns
    -------
    err_utc, err_zone, items : ndarray, shape (n_cells, n_units)
        Summed absolute errors [items] and the items after the change, one column per (change, day after it);
        NaN where a cell lacks the history. ``n_units`` is 0 when no change has enough history on both sides.
    """
    n, hours = values.shape
    outs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for t in np.flatnonzero(np.diff(offset_h) != 0) + 1:
        s = int(round(offset_h[t - 1] - offset_h[t]))
        span = min(AUTO_AFTER_HOURS, hours - t)
        if span < AUTO_MIN_HOURS or t - weeks * HOURS_WEEK - max(s, 0) < 0 or s == 0:
            continue
        after = values[:, t:t + span]
        lags = t - HOURS_WEEK * np.arange(1, weeks + 1)
        e_utc = np.abs(after - np.mean([values[:, b:b + span] for b in lags], axis=0))
        e_zone = np.abs(after - np.mean([values[:, b - s:b - s + span] for b in lags], axis=0))
        days = np.arange(0, span, 24)
        outs.append((np.add.reduceat(e_utc, days, axis=1), np.add.reduceat(e_zone, days, axis=1),
                     np.add.reduceat(after, days, axis=1)))
    if not outs:
        empty = np.zeros((n, 0))
        return empty, empty, empty
    return tuple(np.concatenate([o[i] for o in outs], axis=1) for i in range(3))


AUTO_COLUMNS = [LANGUAGE, "zone", "source", "candidate", "cells", "changes", "units", "items", "error_utc",
                "error_zone", "ratio", "t"]


def detect_zones(values: np.ndarray, start: pd.Timestamp, languages: np.ndarray,
                 zones: dict[str, str] = AUTO_ZONES) -> pd.DataFrame:
    """Per language: the daylight-saving rule whose changes inside the history best explain its cells, if any.

    Every zone of ``zones`` is tried on the cells of each language pooled: :func:`change_errors` gives the error
    of the mean of the same hour in the weeks before, over the week after each of the zone's changes, on UTC and
    on the zone's clock.
    The zone with the largest pooled reduction is the ``candidate``; it is accepted (``zone``) only when its
    error is at most :data:`AUTO_MAX_RATIO` of the UTC error, the paired t statistic of the reductions across
    the (cell, day after a change) units is at least :data:`AUTO_MIN_T`, and those days hold at least
    :data:`AUTO_MIN_ITEMS` items. History already stamped in local time, or following a clock without daylight
    saving, fits UTC better at every change (the zone's clock then moves the pattern by an hour) and keeps UTC.

    Parameters
    ----------
    values : ndarray, shape (n_cells, n_hours)
        Hourly volumes [items] on the UTC grid from ``start``, NaN before a cell's history.
    start : Timestamp
        First hour of the grid (UTC, tz-naive).
    languages : array of str, shape (n_cells,)
        Language code of each row; the evidence is pooled per language.
    zones : dict
        Zone name -> the rule it stands for.

    Returns
    -------
    DataFrame
        One row per language: :data:`AUTO_COLUMNS` (``zone`` empty when UTC is kept; ``ratio`` = error on the
        candidate's clock / error on UTC; ``changes`` = the candidate's changes with history on both sides).
    """
    codes, names = pd.factorize(np.asarray(languages, dtype=str))
    m = len(names)
    times = pd.date_range(start, periods=values.shape[1], freq="h")
    best = {"gain": np.full(m, -np.inf), "candidate": np.full(m, "", dtype=object), "changes": np.zeros(m, int),
            "units": np.zeros(m, int), "items": np.zeros(m), "error_utc": np.zeros(m), "error_zone": np.zeros(m),
            "t": np.zeros(m)}
    for zone in zones:
        off = _offset_hours(times, zone)
        e_utc, e_zone, items = change_errors(values, off)
        if not e_utc.shape[1]:
            continue
        ok = np.isfinite(e_utc) & np.isfinite(e_zone) & np.isfinite(items)
        d = np.where(ok, e_utc - e_zone, 0.0)
        pooled = {key: np.bincount(codes, weights=np.where(ok, a, 0.0).sum(axis=1), minlength=m)
                  for key, a in (("error_utc", e_utc), ("error_zone", e_zone), ("items", items), ("d2", d * d))}
        units = np.bincount(codes, weights=ok.sum(axis=1), minlength=m)
        gain = pooled["error_utc"] - pooled["error_zone"]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = gain / units
            var = (pooled["d2"] - units * mean * mean) / (units - 1)
            t = np.where(var > 0, mean / np.sqrt(var / units), np.where(mean > 0, np.inf, 0.0))  # equal gains: exact
        better = (units > 0) & (gain > best["gain"])
        for key, value in (("gain", gain), ("candidate", zone), ("units", units), ("items", pooled["items"]),
                           ("error_utc", pooled["error_utc"]), ("error_zone", pooled["error_zone"]), ("t", t)):
            best[key] = np.where(better, value, best[key])
        best["changes"] = np.where(better, _n_changes(off), best["changes"])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(best["error_utc"] > 0, best["error_zone"] / best["error_utc"], np.nan)
    accept = ((best["units"] > 0) & (ratio <= AUTO_MAX_RATIO) & (best["t"] >= AUTO_MIN_T)
              & (best["items"] >= AUTO_MIN_ITEMS))
    return pd.DataFrame({
        LANGUAGE: names, "zone": np.where(accept, best["candidate"], ""), "source": AUTO,
        "candidate": best["candidate"], "cells": np.bincount(codes, minlength=m), "changes": best["changes"],
        "units": best["units"].astype(int), "items": best["items"], "error_utc": best["error_utc"],
        "error_zone": best["error_zone"], "ratio": ratio, "t": best["t"],
    }).sort_values(LANGUAGE, kind="stable").reset_index(drop=True)


def _n_changes(offset_h: np.ndarray) -> int:
    """Offset changes on the grid with enough history on both sides for :func:`change_errors`."""
    t = np.flatnonzero(np.diff(offset_h) != 0) + 1
    return int(((t - AUTO_WEEKS * HOURS_WEEK - 1 >= 0) & (len(offset_h) - t >= AUTO_MIN_HOURS)).sum())


def resolve_zones(values: np.ndarray | None, start: pd.Timestamp | None, languages: np.ndarray,
                  time_zones: dict[str, str]) -> tuple[dict[str, str], pd.DataFrame]:
    """Each language's zone: configured, or detected where the configuration says ``"auto"``.

    ``values`` and ``start`` are the hourly UTC panel of :func:`detect_zones` (one row per ``languages``
    entry); they are read only when a language is "auto".

    Detection (:func:`detect_zones`) pools the cells of each "auto" language. A language too thin to be decided
    alone (its best zone fails the t or the items test) borrows the zone accepted on all "auto" cells pooled,
    when its own cells' error on that zone's clock is below their error on UTC (``source`` = ``"auto
    (pooled)"``, the figures are then its own for that zone): sparse cells are not decided alone, and never
    against their own evidence.

    Returns
    -------
    zones : dict
        Language -> IANA zone of every language not kept on UTC (no ``"*"`` key).
    record : DataFrame
        One row per language with a configured or "auto" zone, :data:`AUTO_COLUMNS`; ``source`` is ``"config"``,
        ``"auto"`` or ``"auto (pooled)"`` (the detection figures are empty for configured zones).
    """
    langs = np.asarray(languages, dtype=str)
    configured = {lang: zone_of(lang, time_zones) for lang in pd.unique(langs)}
    zones = {lang: z for lang, z in configured.items() if z is not None and z != AUTO}
    cells = pd.Series(langs).value_counts()
    rows = [pd.DataFrame({LANGUAGE: list(zones), "zone": list(zones.values()), "source": "config",
                          "cells": [int(cells[lang]) for lang in zones]})]
    auto = np.array([configured[lang] == AUTO for lang in langs], dtype=bool)
    if auto.any():
        found = detect_zones(values[auto], start, langs[auto])
        pooled = detect_zones(values[auto], start, np.full(int(auto.sum()), "*")).iloc[0]
        if pooled["zone"]:
            thin = (found["zone"] == "") & ((found["t"] < AUTO_MIN_T) | (found["items"] < AUTO_MIN_ITEMS))
            own = detect_zones(values[auto], start, langs[auto], {pooled["zone"]: ""})  # same language order
            borrow = thin & (own["ratio"] < 1.0)
            found.loc[borrow, :] = own.loc[borrow].assign(zone=pooled["zone"], source=f"{AUTO} (pooled)")
        zones.update({lang: z for lang, z in zip(found[LANGUAGE], found["zone"]) if z})
        rows.append(found)
    rows = [r for r in rows if len(r)]
    record = (pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()).reindex(columns=AUTO_COLUMNS)
    return zones, record.sort_values(LANGUAGE, kind="stable").reset_index(drop=True)
