"""Daily totals x intraday profile: how the daily-level models reach hourly resolution.

A daily model forecasts each cell's daily total; the **intraday profile** spreads a day's total
over its 24 UTC hours: the share of the day in each hour, by weekday, learned from the most
recent ``forecast.profile_weeks`` weeks before the forecast origin (so a backtest window never
sees its own future).

Sparse cells have noisy weekday-hour shares, so each weekday's shares are shrunk toward the
cell's pooled hour-of-day shares, which are in turn shrunk toward its group's hour-of-day shares
(the cells of the same language by default, ``forecast.profile_pool``: they share time zones and
so the shape of a day), which are shrunk toward a flat day, each by a pseudo-count of
:data:`PROFILE_PRIOR_ITEMS` items (a hierarchical Dirichlet-style prior):

    group[h] = (G[h] + a / 24) / (G + a)
    pooled[h] = (N[h] + a * group[h]) / (N + a)
    share[w, h] = (N[w, h] + a * pooled[h]) / (N[w] + a)

where ``N[w, h]`` is the cell's volume in weekday ``w`` hour ``h`` over the window and ``G[h]`` the
group's volume in hour ``h``. For busy cells (hundreds of items a day) the prior is negligible; for a
cell with a few items a day it dominates, and the cell borrows its group's intraday shape instead of
a flat one.

References
----------
Ibrahim, R., Ye, H., L'Ecuyer, P., Shen, H. (2016). Modeling and forecasting call center arrivals:
a literature survey and a case study. International Journal of Forecasting 32(3), 865-874
(fixed-proportion intraday profiles on top of daily-total forecasts).
"""

from __future__ import annotations

import numpy as np

#: Pseudo-count of the profile prior [items] (see module docstring).
PROFILE_PRIOR_ITEMS = 48.0


def weekday_of_days(start_weekday: int, first: int, n: int) -> np.ndarray:
    """Weekday (0 = Monday) of panel days ``first .. first + n - 1``."""
    return (start_weekday + first + np.arange(n)) % 7


def intraday_profile(hourly: np.ndarray, start_weekday: int, origin_day: int, weeks: int,
                     prior: float = PROFILE_PRIOR_ITEMS, groups: np.ndarray | None = None) -> np.ndarray:
    """Share of each weekday's volume in each UTC hour, learned before ``origin_day``.

    Parameters
    ----------
    hourly : ndarray, shape (n_cells, n_days * 24)
        Volumes [items], NaN where a cell has no history.
    start_weekday : int
        Weekday of panel day 0 (0 = Monday).
    origin_day : int
        Learn from days before this panel day index.
    weeks : int
        Window length [weeks].
    prior : float
        Pseudo-count [items] of the shrinkage toward the pooled, the group's and the flat profile.
    groups : ndarray of int, shape (n_cells,), optional
        Pooling group of each cell; ``None``: no group level (shrink toward a flat day).

    Returns
    -------
    ndarray, shape (n_cells, 7, 24)
        Shares; each (cell, weekday) row sums to 1.
    """
    n = hourly.shape[0]
    first = max(0, origin_day - 7 * weeks)
    days = origin_day - first
    block = np.nan_to_num(hourly[:, first * 24: origin_day * 24]).reshape(n, days, 24)
    wd = weekday_of_days(start_weekday, first, days)
    by_wd = np.zeros((n, 7, 24))
    for w in range(7):
        by_wd[:, w, :] = block[:, wd == w, :].sum(axis=1)
    pooled_n = by_wd.sum(axis=1)  # (n, 24)
    total = pooled_n.sum(axis=1, keepdims=True)
    base = np.full((n, 24), 1.0 / 24.0)
    if groups is not None and n:
        g = np.asarray(groups)
        g_n = np.zeros((g.max() + 1, 24))
        np.add.at(g_n, g, pooled_n)
        base = ((g_n + prior / 24.0) / (g_n.sum(axis=1, keepdims=True) + prior))[g]
    pooled = (pooled_n + prior * base) / (total + prior)
    day_n = by_wd.sum(axis=2, keepdims=True)  # (n, 7, 1)
    return (by_wd + prior * pooled[:, None, :]) / (day_n + prior)


def spread(daily: np.ndarray, profile: np.ndarray, start_weekday: int, first_day: int) -> np.ndarray:
    """Spread daily totals over hours.

    Parameters
    ----------
    daily : ndarray, shape (n_cells, n_days)
        Daily totals [items] for panel days ``first_day ..``.
    profile : ndarray, shape (n_cells, 7, 24)
    start_weekday, first_day : int
        Weekday of panel day 0 and the panel index of ``daily[:, 0]``.

    Returns
    -------
    ndarray, shape (n_cells, n_days * 24) [items]
    """
    n, d = daily.shape
    wd = weekday_of_days(start_weekday, first_day, d)
    shares = profile[:, wd, :]  # (n, d, 24)
    return (daily[:, :, None] * shares).reshape(n, d * 24)


def daily_mean_forecast(hourly: np.ndarray, start_weekday: int, origin_day: int, horizon_days: int,
                        profile_weeks: int, recent_days: int = 7) -> np.ndarray:
    """Last-resort fallback: mean daily total of the most recent days x profile.

    Returns an array of shape (n_cells, horizon_days * 24) [items].
    """
    n = hourly.shape[0]
    days = np.nansum(hourly[:, : origin_day * 24].reshape(n, origin_day, 24), axis=2)
    have = ~np.isnan(hourly[:, : origin_day * 24].reshape(n, origin_day, 24)).all(axis=2)
    out = np.zeros(n)
    for i in range(n):
        recent = days[i][have[i]][-recent_days:]
        out[i] = recent.mean() if len(recent) else 0.0
    profile = intraday_profile(hourly, start_weekday, origin_day, profile_weeks)
    daily = np.repeat(out[:, None], horizon_days, axis=1)
    return spread(daily, profile, start_weekday, origin_day)
