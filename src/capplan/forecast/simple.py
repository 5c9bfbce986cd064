"""Candidates computed directly with numpy (no statsforecast fit): cheap enough for many backtest windows.

``seasonal_naive``
    The same hour one week earlier, the last week repeated (the baseline).
``seasonal_mean``
    The mean of the last ``forecast.seasonal_mean_weeks`` same-weekday-hours, repeated weekly: the
    "simple historical average" that is hard to beat one to four weeks ahead on service arrivals
    (Taylor 2008). For a stable Poisson-like hour it has about ``sqrt((1 + 1/k) / 2)`` of the weekly
    naive's RMSE (0.79 at ``k = 4``).
``daily_shift``
    A level-shift-aware daily model: daily totals divided by weekday factors (the share of each
    weekday over the last ``forecast.profile_weeks`` weeks) give a deseasonalised level; the most
    recent level shift is found as the split of the last :data:`SHIFT_SEARCH_DAYS` days with the
    largest two-sample t statistic, at least :data:`SHIFT_MIN_DAYS` days before the origin. If
    ``|t| > SHIFT_T`` the level is the median after the shift, otherwise the median of the last
    :data:`LEVEL_DAYS` days (a median, so one holiday or outage day does not move it). The forecast is
    level x weekday factor per day, spread over hours by the intraday profile.

Every function takes hourly volumes ``hourly`` (n_cells, n_hours) with NaN before a cell's first
day, an origin ``origin_day`` (panel day index; only hours before it are used) and returns hourly
forecasts (n_cells, horizon_days * 24) starting at the origin.

References
----------
Taylor, J. W. (2008). A comparison of univariate time series methods for forecasting intraday
arrivals at a call center. Management Science 54(2), 253-265.
Hinkley, D. V. (1970). Inference about the change-point in a sequence of random variables.
Biometrika 57(1), 1-17 (the maximal two-sample statistic over split points).
"""

from __future__ import annotations

import warnings

import numpy as np

from capplan.forecast import daily as dailymod

HOURS_PER_WEEK = 168
#: A level shift is searched for among the last days before the origin [days].
SHIFT_SEARCH_DAYS = 56
#: A shift is only recognised with at least this many days after it [days].
SHIFT_MIN_DAYS = 7
#: Two-sample t statistic above which a level shift is recognised (a strict threshold: the maximum
#: over ~50 split points of a stationary series rarely exceeds 4).
SHIFT_T = 5.0
#: Days in the level estimate when no shift is found [days].
LEVEL_DAYS = 28


def seasonal_naive(hourly: np.ndarray, origin_day: int, horizon_days: int) -> np.ndarray:
    """The last week before ``origin_day`` repeated [items per hour]."""
    last = np.nan_to_num(hourly[:, origin_day * 24 - HOURS_PER_WEEK: origin_day * 24])
    reps = -(-horizon_days * 24 // HOURS_PER_WEEK)
    return np.tile(last, (1, reps))[:, : horizon_days * 24]


def seasonal_mean(hourly: np.ndarray, origin_day: int, horizon_days: int, weeks: int) -> np.ndarray:
    """Mean of the last ``weeks`` same-weekday-hours, repeated weekly [items per hour].

    Weeks before a cell's first day (NaN) are left out of its mean.
    """
    n = hourly.shape[0]
    weeks = max(1, min(weeks, origin_day // 7))
    block = hourly[:, (origin_day - 7 * weeks) * 24: origin_day * 24].reshape(n, weeks, HOURS_PER_WEEK)
    have = ~np.isnan(block)
    with np.errstate(invalid="ignore"):
        week = np.where(have.any(axis=1), np.nansum(block, axis=1) / np.maximum(have.sum(axis=1), 1), 0.0)
    reps = -(-horizon_days * 24 // HOURS_PER_WEEK)
    return np.tile(week, (1, reps))[:, : horizon_days * 24]


def weekday_factors(daily: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """Each weekday's mean daily total over the overall mean daily total, shape (n, 7); 1 where undefined.

    Parameters
    ----------
    daily : ndarray (n, d)
        Daily totals [items], NaN where a cell has no history.
    weekdays : ndarray (d,)
        Weekday of each column (0 = Monday).
    """
    n = daily.shape[0]
    out = np.ones((n, 7))
    with np.errstate(invalid="ignore", divide="ignore"):
        overall = np.nanmean(daily, axis=1)
        for w in range(7):
            cols = daily[:, weekdays == w]
            if cols.shape[1]:
                m = np.nanmean(cols, axis=1) if np.isfinite(cols).any() else np.full(n, np.nan)
                out[:, w] = np.where((overall > 0) & np.isfinite(m), m / overall, 1.0)
    return out


def level_after_shift(level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recent level of deseasonalised daily totals, allowing one level shift (see module notes).

    Parameters
    ----------
    level : ndarray (n, d)
        Deseasonalised daily totals, oldest first, NaN where a cell has no history.

    Returns
    -------
    level : ndarray (n,)
        Median since the detected shift, else over the last :data:`LEVEL_DAYS` days [items per day].
    shift_days : ndarray of int (n,)
        Days since the detected shift, 0 where none was found.
    """
    n, d = level.shape
    x = level[:, -SHIFT_SEARCH_DAYS:]
    m = x.shape[1]
    best_t = np.zeros(n)
    best_k = np.zeros(n, dtype=int)
    for k in range(SHIFT_MIN_DAYS, m - SHIFT_MIN_DAYS + 1):  # k = days after the split
        a, b = x[:, : m - k], x[:, m - k:]
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows (cells without recent history) are expected
            na, nb = np.sum(np.isfinite(a), axis=1), np.sum(np.isfinite(b), axis=1)
            va, vb = np.nanvar(a, axis=1, ddof=1), np.nanvar(b, axis=1, ddof=1)
            pooled = ((na - 1) * va + (nb - 1) * vb) / np.maximum(na + nb - 2, 1)
            t = np.abs(np.nanmean(b, axis=1) - np.nanmean(a, axis=1)) / np.sqrt(pooled * (1 / na + 1 / nb))
        t = np.where((na >= SHIFT_MIN_DAYS) & (nb >= SHIFT_MIN_DAYS) & np.isfinite(t), t, 0.0)
        better = t > best_t
        best_t, best_k = np.where(better, t, best_t), np.where(better, k, best_k)
    shift = np.where(best_t > SHIFT_T, np.minimum(best_k, LEVEL_DAYS), 0)
    out = np.zeros(n)
    for i in range(n):
        recent = level[i, -(shift[i] or LEVEL_DAYS):]
        recent = recent[np.isfinite(recent)]
        out[i] = float(np.median(recent)) if len(recent) else 0.0
    return out, shift


def daily_shift(hourly: np.ndarray, start_weekday: int, origin_day: int, horizon_days: int, profile_weeks: int,
                profile: np.ndarray | None = None) -> np.ndarray:
    """The level-shift-aware daily model (see module notes) [items per hour].

    ``profile`` (n, 7, 24): the intraday profile to spread days with; default learned from ``hourly``.
    """
    n = hourly.shape[0]
    first = max(0, origin_day - max(SHIFT_SEARCH_DAYS, 7 * profile_weeks))
    days = hourly[:, first * 24: origin_day * 24].reshape(n, origin_day - first, 24).sum(axis=2)  # NaN stays NaN
    wd = dailymod.weekday_of_days(start_weekday, first, origin_day - first)
    recent = slice(-7 * profile_weeks, None)
    factors = weekday_factors(days[:, recent], wd[recent])
    with np.errstate(invalid="ignore", divide="ignore"):
        level = days / factors[:, wd]
    lvl, _ = level_after_shift(level)
    fwd = dailymod.weekday_of_days(start_weekday, origin_day, horizon_days)
    daily = lvl[:, None] * factors[:, fwd]
    if profile is None:
        profile = dailymod.intraday_profile(hourly, start_weekday, origin_day, profile_weeks)
    return dailymod.spread(daily, profile, start_weekday, origin_day)
