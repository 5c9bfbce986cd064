"""Within-hour shape: how an hour's forecast splits into 15- or 30-minute planning intervals.

Models forecast hours (:mod:`capplan.forecast.panel`). When ``[planning] interval_minutes`` is 15 or
30 and the history is that fine (or finer), each cell's share of the hour in each planning interval
is learned from the last ``forecast.profile_weeks`` weeks of history, per UTC hour of day (arrivals
often bunch at the top of the hour, when shifts, schedules or batch jobs start), and shrunk in three
levels like the intraday profile (:mod:`capplan.forecast.daily`), each by :data:`PRIOR_ITEMS`
pseudo-items (a hierarchical Dirichlet-style prior):

    group[j] = (G[j] + a / k) / (G + a)                   the cell's pool (same language or queue), toward flat
    cell[j] = (N[j] + a * group[j]) / (N + a)             the cell, all hours of day
    share[h, j] = (N[h, j] + a * cell[j]) / (N[h] + a)    the cell in UTC hour of day h

where ``k = 60 / interval_minutes``, ``N[h, j]`` is the cell's volume in slot ``j`` of hour ``h`` over
the window and ``G[j]`` the pool's volume in slot ``j``. A busy cell's own shape dominates; a thin one
borrows its pool's, and a cell whose history is hourly has no within-hour evidence and takes its
pool's shape (flat if no cell of the pool is finer than hourly). History at 30 minutes planned at 15
splits each half hour evenly; a history step that neither divides nor is a multiple of the planning
interval (e.g. 20 minutes planned at 15) gives no evidence (with a warning), nor does an hour exported as a
single whole-hour row inside a finer history (mixed granularity).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from capplan.schema import CELL_KEYS, INTERVAL_START, LANGUAGE, QUEUE, VOLUME

#: pseudo-count of each shrinkage level [items]
PRIOR_ITEMS = 100.0


def within_hour_shares(history: pd.DataFrame, cells: pd.DataFrame, interval_minutes: int, weeks: int,
                       groups: np.ndarray | None = None, warnings: list[str] | None = None) -> np.ndarray | None:
    """Share of each UTC hour of day's volume in each of its planning intervals, per cell.

    Parameters
    ----------
    history : DataFrame
        ``interval_start`` (UTC), ``queue``, ``language``, ``volume`` [items].
    cells : DataFrame
        ``queue``, ``language`` per forecast row (panel order).
    interval_minutes : int
        Planning interval [min]; 60 gives ``None`` (nothing to split).
    weeks : int
        Window before the end of the history [weeks].
    groups : ndarray of int, optional
        Pooling group per cell; ``None``: each cell shrinks toward flat.
    warnings : list of str, optional
        Appended to when a cell's history step does not fit the planning interval.

    Returns
    -------
    ndarray, shape (n_cells, 24, 60 // interval_minutes), or None
        Each (cell, hour) row sums to 1.
    """
    k = 60 // int(interval_minutes)
    if k <= 1:
        return None
    n = len(cells)
    counts = np.zeros((n, 24, k))
    if len(history) and n:
        counts = _slot_counts(history, cells, int(interval_minutes), weeks, warnings)
    cell_n = counts.sum(axis=1)  # (n, k)
    base = np.full((n, k), 1.0 / k)
    if groups is not None and n:
        g = np.asarray(groups)
        g_n = np.zeros((g.max() + 1, k))
        np.add.at(g_n, g, cell_n)
        base = ((g_n + PRIOR_ITEMS / k) / (g_n.sum(axis=1, keepdims=True) + PRIOR_ITEMS))[g]
    cell = (cell_n + PRIOR_ITEMS * base) / (cell_n.sum(axis=1, keepdims=True) + PRIOR_ITEMS)
    return (counts + PRIOR_ITEMS * cell[:, None, :]) / (counts.sum(axis=2, keepdims=True) + PRIOR_ITEMS)


def split_hours(hourly: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Split hourly values into planning intervals.

    Parameters
    ----------
    hourly : ndarray, shape (n_cells, T)
        Values per hour, column 0 at UTC midnight [items].
    shares : ndarray, shape (n_cells, 24, k) or (n_cells, k)
        Within-hour shares per hour of day (or the same for every hour).

    Returns
    -------
    ndarray, shape (n_cells, T * k)
    """
    n, t = hourly.shape
    if shares.ndim == 2:
        shares = np.repeat(shares[:, None, :], 24, axis=1)
    k = shares.shape[2]
    per_hour = shares[:, np.arange(t) % 24, :]  # (n, T, k)
    return (hourly[:, :, None] * per_hour).reshape(n, t * k)


def _slot_counts(history: pd.DataFrame, cells: pd.DataFrame, interval_minutes: int, weeks: int,
                 warnings: list[str] | None) -> np.ndarray:
    """Volume per cell, UTC hour of day and planning slot over the last ``weeks`` weeks, (n, 24, k)."""
    k = 60 // interval_minutes
    t = pd.to_datetime(history[INTERVAL_START], utc=True).dt.tz_localize(None)
    y = pd.to_numeric(history[VOLUME], errors="coerce").to_numpy(float)
    row = pd.MultiIndex.from_frame(cells[CELL_KEYS].astype(str)).get_indexer(
        pd.MultiIndex.from_arrays([history[QUEUE].astype(str), history[LANGUAGE].astype(str)]))
    recent = (t >= t.max().floor("h") - pd.Timedelta(weeks=weeks)).to_numpy()
    minute = (t.dt.minute.to_numpy() + t.dt.second.to_numpy() / 60.0)
    known = (row >= 0) & np.isfinite(y) & recent
    whole = np.zeros(len(y), dtype=bool)  # rows counted with an hour's zero rows too: exports may hold them
    whole[known] = _whole_hour_rows(row[known], t.dt.floor("h").to_numpy()[known], minute[known])
    ok = known & (y > 0)
    step = _cell_steps(row[ok], minute[ok], len(cells))
    counts = np.zeros((len(cells), 24, k))
    fits = (step < 60) & ((interval_minutes % np.maximum(step, 1) == 0) | (step % interval_minutes == 0))
    misfit = (step < 60) & ~fits
    if misfit.any() and warnings is not None:
        bad = int(np.flatnonzero(misfit)[0])
        warnings.append(f"history: {int(misfit.sum())} cell(s) have a within-hour step that does not fit the "
                        f"{interval_minutes}-minute planning interval (e.g. {cells.iloc[bad][QUEUE]}/{cells.iloc[bad][LANGUAGE]}: "
                        f"{step[bad]} min); their hours are split by their pool's within-hour shape")
    r, m, v, h = row[ok], minute[ok], y[ok], t.dt.hour.to_numpy()[ok]
    use = fits[r] & ~whole[ok]
    r, m, v, h = r[use], m[use], v[use], h[use]
    span = np.maximum(step[r] // interval_minutes, 1)  # planning slots one history row covers
    first = (m // interval_minutes).astype(int)
    for s in range(int(span.max()) if len(span) else 0):
        part = span > s
        np.add.at(counts, (r[part], h[part], np.minimum(first[part] + s, k - 1)), v[part] / span[part])
    return counts


def _whole_hour_rows(row: np.ndarray, hour: np.ndarray, minute: np.ndarray) -> np.ndarray:
    """Rows that look like whole-hour totals inside a finer history (mixed granularity, which the panel warns
    about): an hour's only row, at minute 0, at an hour of day that on most days has several rows. (An hour
    of day that always has one row, such as a closing time at 21:00, is a real first interval.)"""
    frame = pd.DataFrame({"r": row, "h": hour})
    alone = (frame.groupby(["r", "h"], sort=False)["r"].transform("size").to_numpy() == 1) & (np.round(minute) % 60 == 0)
    first = ~frame.duplicated(["r", "h"]).to_numpy()
    hod = pd.DatetimeIndex(hour).hour.to_numpy()
    per_hour = pd.DataFrame({"r": row[first], "hod": hod[first], "alone": alone[first]})
    usual = per_hour.groupby(["r", "hod"])["alone"].mean()
    share = usual.reindex(pd.MultiIndex.from_arrays([row, hod])).to_numpy()
    return alone & (share < 0.5)


def _cell_steps(row: np.ndarray, minute: np.ndarray, n: int) -> np.ndarray:
    """Each cell's within-hour grid [min]: gcd of its rows' minute offsets and 60 (60 = hourly)."""
    step = np.full(n, 60, dtype=np.int64)
    frame = pd.DataFrame({"r": row, "m": np.round(minute).astype(np.int64) % 60})
    for r, mins in frame.groupby("r")["m"].unique().items():
        step[int(r)] = math.gcd(60, *[int(x) for x in mins])
    return step
