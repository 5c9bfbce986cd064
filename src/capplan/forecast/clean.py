"""Outage and holiday days in the history: found and replaced before any model sees them.

A day of a cell is a **dip** when its total is below ``forecast.outage_ratio`` times the median of
the same weekday's totals one to four weeks before and after it (at least :data:`MIN_REFERENCE_DAYS`
of them with history), and that median is at least :data:`MIN_REFERENCE_ITEMS` items (so Poisson
noise of a thin cell is not taken for an outage). A run of dips that reaches the end of the history
is a level change, not an outage, and is kept. Every other dip (a public holiday, an outage, a long
run of zeros in the middle of the series) is replaced by the hour-by-hour mean of its reference days,
so a seasonal naive or a weekday average does not copy a holiday into an ordinary week, and the
backtest scores models on ordinary days. The count is reported as a warning.

Known limit: a holiday in the forecast horizon is not predicted here (see the events file).
"""

from __future__ import annotations

import warnings

import numpy as np

#: Reference days needed to judge a day [days].
MIN_REFERENCE_DAYS = 3
#: Median daily total below which a cell's days are never judged [items per day].
MIN_REFERENCE_ITEMS = 20.0
#: Same-weekday offsets of the reference days [weeks].
REFERENCE_WEEKS = (-4, -3, -2, -1, 1, 2, 3, 4)


def reference_median(daily: np.ndarray) -> np.ndarray:
    """Median of the same weekday's totals one to four weeks around each day, shape (n_cells, n_days).

    NaN where fewer than :data:`MIN_REFERENCE_DAYS` reference days have history.
    """
    n, d = daily.shape
    shifted = []
    for w in REFERENCE_WEEKS:
        s = np.full((n, d), np.nan)
        k = 7 * w
        if k > 0:
            s[:, : max(d - k, 0)] = daily[:, k:]
        else:
            s[:, min(-k, d):] = daily[:, : max(d + k, 0)]
        shifted.append(s)
    ref = np.stack(shifted)  # (8, n, d)
    count = np.isfinite(ref).sum(axis=0)
    with warnings.catch_warnings():  # all-NaN slices: no reference
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(ref, axis=0)
    return np.where(count >= MIN_REFERENCE_DAYS, med, np.nan)


def find_dips(daily: np.ndarray, ratio: float) -> np.ndarray:
    """Dip days to replace, shape (n_cells, n_days) bool (see module notes).

    Parameters
    ----------
    daily : ndarray (n_cells, n_days)
        Daily totals [items], NaN before a cell's first day.
    ratio : float
        A day below ``ratio`` x its reference median is a dip; 0 disables.
    """
    n, d = daily.shape
    dips = np.zeros((n, d), bool)
    if ratio <= 0 or d < 8:
        return dips
    med = reference_median(daily)
    with np.errstate(invalid="ignore"):
        dips = np.isfinite(med) & (med >= MIN_REFERENCE_ITEMS) & (daily < ratio * med)
    # a run of dips reaching the end of the history is a level change: keep it
    trailing = np.flip(np.cumprod(np.flip(dips, axis=1), axis=1), axis=1).astype(bool)
    return dips & ~trailing


def replace_dips(hourly: np.ndarray, ratio: float, force: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """``hourly`` (n_cells, n_days * 24) with dip days replaced by their reference days' hourly mean.

    ``force`` (n_cells, n_days) marks days replaced whatever their volume (public holidays).
    Returns the cleaned copy and the number of cell-days replaced.
    """
    n = hourly.shape[0]
    d = hourly.shape[1] // 24
    days = hourly.reshape(n, d, 24)
    dips = find_dips(days.sum(axis=2), ratio)
    if force is not None:
        dips = dips | force
    if not dips.any():
        return hourly, 0
    out = days.copy()
    for i, t in zip(*np.nonzero(dips)):
        refs = [t + 7 * w for w in REFERENCE_WEEKS if 0 <= t + 7 * w < d and not dips[i, t + 7 * w]]
        block = days[i, refs]
        block = block[np.isfinite(block).all(axis=1)]
        if len(block):
            out[i, t] = block.mean(axis=0)
    return out.reshape(n, d * 24), int(dips.sum())
