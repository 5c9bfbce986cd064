"""Handle-time (AHT) forecast per cell and hour: level x trend x weekday x hour-of-day shape.

The history's optional ``aht_s`` column (mean handle time of the items of an interval) is turned into
an hourly forecast of each cell's AHT over the forecast horizon, so that requirements can plan for the
handle time the work will have rather than one fixed number per cell (``[forecast] aht``).

Estimator (per cell, on the last ``forecast.aht_weeks`` weeks before the forecast origin)
------------------------------------------------------------------------------------------
History finer than an hour is combined per hour as workload / items (``sum(volume x aht_s) /
sum(volume)``, the items-weighted mean), so every level below is an items-weighted mean.

1. **Level, trend, weekday.** The daily AHT ``A[d] = W[d] / V[d]`` (workload over items of day ``d``)
   is regressed in logs on an intercept, the time to the origin ``t[d]`` [years] and weekday effects
   (effect coding: the seven effects sum to zero), by weighted least squares with weights

       w[d] = V[d] / (V[d] + DAY_ITEMS) * 0.5 ** (age[d] / HALF_LIFE_DAYS)

   (a day's weight grows with its items until the day-to-day variation of the handle-time mix, not the
   item count, limits its precision; recent days weigh more). The intercept is the log level at the
   origin; the slope (log change per year) is kept only if its t statistic is at least
   :data:`TREND_MIN_T` (else the model is refitted without it) and is damped by
   :data:`TREND_DAMPING` per day into the horizon (Gardner and McKenzie's damped trend).
2. **Hour-of-day shape.** ``s[h]``, the items-weighted mean over the window of the hour's AHT relative
   to its day's AHT (so its items-weighted mean is 1), shrunk toward the pooled group's shape
   (``forecast.profile_pool``: same language or same queue) and that toward a flat day, each by
   :data:`HOUR_ITEMS` pseudo-items: ``s_cell[h] = (N[h] s[h] + K s_group[h]) / (N[h] + K)``.
3. **Credibility toward the table.** The cell's level is a credibility-weighted mean (in logs) of the
   history's level and ``handle_times.csv``: ``Z = N / (N + LEVEL_ITEMS)`` with ``N`` the items with a
   handle time in the window (Buehlmann credibility); the weekday effects and the trend are scaled by
   ``Z`` too. A cell with no ``aht_s`` in its history uses the table (source ``table``); a cell absent
   from the table uses its history alone (source ``history``).

Forecast: ``aht[t] = exp(log L + trend(t) + c[weekday(t)]) * s[hour(t)]`` [s], UTC weekday and hour.

The history's ``aht_s`` is read as the handle time of a proficiency-1.0 moderator, like the table
(pool proficiency multiplies it later, in the optimizer); a history measured on a slower or faster mix
of pools should be normalised before it is used as the level.

References
----------
Buehlmann, H., Gisler, A. (2005). A Course in Credibility Theory and its Applications. Springer (ch. 3).
Gardner, E. S., McKenzie, E. (1985). Forecasting trends in time series. Management Science 31(10).
Ibrahim, R., Ye, H., L'Ecuyer, P., Shen, H. (2016). Modeling and forecasting call center arrivals: a
literature survey and a case study. IJF 32(3) (multiplicative level x day-of-week x intraday models).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from capplan.schema import AHT_S, CELL_KEYS, INTERVAL_START, LANGUAGE, QUEUE, VOLUME

# The pseudo-item constants are Buehlmann's k = sigma^2 / tau^2: with a per-item coefficient of variation of
# handle times near 0.7 (sigma^2 ~ 0.5), a day-to-day variation of a cell's mix of about 3.5 % (tau^2 ~ 1.2e-3),
# an hour-of-day shape of about 4 % (1.6e-3) and cells about 7 % off their table value (5e-3).
#: items a day needs to weigh half as much as a day whose AHT is known exactly [items]
DAY_ITEMS = 400.0
#: half-life of the recency weight of a day in the level / trend / weekday regression [days]
HALF_LIFE_DAYS = 42.0
#: |t| the trend slope needs to be used
TREND_MIN_T = 2.0
#: per-day damping of the trend into the horizon
TREND_DAMPING = 0.99
#: pseudo-items of the hour-of-day shape's shrinkage toward the group's and the flat shape [items]
HOUR_ITEMS = 300.0
#: pseudo-items of the level's credibility toward handle_times.csv [items]
LEVEL_ITEMS = 100.0
#: fewest days with items for the weekday effects (two weeks) and for the trend (four weeks)
MIN_DAYS_WEEKDAY, MIN_DAYS_TREND = 14, 28

SOURCE_FORECAST, SOURCE_TABLE, SOURCE_HISTORY, SOURCE_NONE = "forecast", "table", "history", "none"
AHT_SOURCE = "aht_source"  # forecast.parquet / requirements column: where a row's aht_s comes from
AHT_TABLE_S = "aht_table_s"  # requirements column: the handle_times.csv value of the cell [s]


@dataclass
class AhtForecast:
    """The AHT forecast of every panel cell.

    Attributes
    ----------
    aht_s : ndarray, shape (n_cells, hours)
        Forecast handle time per hour from the origin [s]; NaN where a cell has neither history nor table.
    source : ndarray of str, shape (n_cells,)
        ``forecast`` (history, shrunk toward the table), ``history`` (no table row), ``table`` (no ``aht_s``
        in the history) or ``none``.
    cells : DataFrame
        Per cell: ``queue``, ``language``, ``aht_table_s``, ``aht_level_s`` (the history's level at the
        origin), ``credibility``, ``trend_per_year`` (log change, 0 if not significant), ``items`` (in the
        window), ``aht_mean_s`` (items-unweighted mean of the forecast), ``aht_source``.
    """

    aht_s: np.ndarray
    source: np.ndarray
    cells: pd.DataFrame


def hourly_aht(history: pd.DataFrame, cells: pd.DataFrame, start: pd.Timestamp, n_hours: int) -> tuple[np.ndarray, np.ndarray]:
    """Items with a handle time and their workload per cell and hour on a panel grid.

    Parameters
    ----------
    history : DataFrame
        ``interval_start`` (UTC), ``queue``, ``language``, ``volume`` [items], ``aht_s`` [s] (may be NaN).
    cells : DataFrame
        ``queue``, ``language`` in panel row order.
    start : Timestamp
        Panel start (UTC midnight, tz-naive); ``n_hours`` columns from it.

    Returns
    -------
    items, workload : ndarray, shape (n_cells, n_hours)
        Items [items] and ``items x aht_s`` [item-seconds]; zero where nothing is known.
    """
    items = np.zeros((len(cells), n_hours))
    work = np.zeros((len(cells), n_hours))
    if AHT_S not in history.columns or not len(history):
        return items, work
    aht = pd.to_numeric(history[AHT_S], errors="coerce")
    vol = pd.to_numeric(history[VOLUME], errors="coerce")
    ok = aht.notna() & vol.notna() & (vol > 0) & (aht > 0)
    if not ok.any():
        return items, work
    h = history.loc[ok]
    t = pd.to_datetime(h[INTERVAL_START], utc=True).dt.tz_localize(None).dt.floor("h")
    col = ((t - start) / pd.Timedelta(hours=1)).to_numpy().astype(np.int64)
    row = pd.MultiIndex.from_frame(cells[CELL_KEYS].astype(str)).get_indexer(
        pd.MultiIndex.from_arrays([h[QUEUE].astype(str), h[LANGUAGE].astype(str)]))
    keep = (row >= 0) & (col >= 0) & (col < n_hours)
    v, a = vol[ok].to_numpy(float)[keep], aht[ok].to_numpy(float)[keep]
    flat = row[keep] * n_hours + col[keep]
    size = len(cells) * n_hours
    items = np.bincount(flat, weights=v, minlength=size).reshape(len(cells), n_hours)
    work = np.bincount(flat, weights=v * a, minlength=size).reshape(len(cells), n_hours)
    return items, work


def forecast_aht(items: np.ndarray, work: np.ndarray, cells: pd.DataFrame, start_weekday: int, origin_day: int,
                 horizon_days: int, weeks: int, table: pd.Series | None = None,
                 groups: np.ndarray | None = None) -> AhtForecast:
    """Forecast each cell's hourly AHT for ``horizon_days`` from panel day ``origin_day`` (see module notes).

    Parameters
    ----------
    items, work : ndarray, shape (n_cells, n_days * 24)
        From :func:`hourly_aht`; only days before ``origin_day`` are used.
    cells : DataFrame
        ``queue``, ``language`` per row.
    start_weekday : int
        Weekday of panel day 0 (0 = Monday).
    weeks : int
        Estimation window [weeks].
    table : Series, optional
        ``handle_times.csv`` AHT [s] indexed by (queue, language).
    groups : ndarray of int, optional
        Pooling group of each cell for the hour shape; ``None``: shrink toward flat only.
    """
    n = len(cells)
    first = max(0, origin_day - 7 * weeks)
    days = origin_day - first
    v = items[:, first * 24: origin_day * 24].reshape(n, days, 24)
    w = work[:, first * 24: origin_day * 24].reshape(n, days, 24)
    tab = _table_values(cells, table)
    shape = _hour_shape(v, w, groups)
    hours = horizon_days * 24
    day_idx = np.arange(hours) // 24
    wd_future = (start_weekday + origin_day + day_idx) % 7
    wd_past = (start_weekday + first + np.arange(days)) % 7
    trend_days = np.cumsum(TREND_DAMPING ** np.arange(1, horizon_days + 1))  # damped days ahead, per day
    out = np.full((n, hours), np.nan)
    source = np.full(n, SOURCE_NONE, dtype=object)
    rec = {k: np.full(n, np.nan) for k in ("aht_level_s", "credibility", "trend_per_year", "items")}
    for i in range(n):
        vd, wdd = v[i].sum(axis=1), w[i].sum(axis=1)
        fit = _fit_daily(vd, wdd, wd_past)
        rec["items"][i] = vd.sum()
        if fit is None:
            if np.isfinite(tab[i]):
                out[i], source[i] = tab[i], SOURCE_TABLE
            continue
        level, slope, effects = fit
        z = vd.sum() / (vd.sum() + LEVEL_ITEMS) if np.isfinite(tab[i]) else 1.0
        log_level = z * level + (1 - z) * (np.log(tab[i]) if np.isfinite(tab[i]) else level)
        log_aht = log_level + z * slope / 365.25 * trend_days[day_idx] + z * effects[wd_future]
        out[i] = np.exp(log_aht) * shape[i, np.arange(hours) % 24]
        source[i] = SOURCE_FORECAST if np.isfinite(tab[i]) else SOURCE_HISTORY
        rec["aht_level_s"][i], rec["credibility"][i], rec["trend_per_year"][i] = np.exp(level), z, slope
    table_out = cells[CELL_KEYS].reset_index(drop=True).copy()
    table_out[AHT_TABLE_S] = tab
    for k, val in rec.items():
        table_out[k] = val
    known = np.isfinite(out).any(axis=1)
    table_out["aht_mean_s"] = np.nan
    if hours and known.any():
        table_out.loc[known, "aht_mean_s"] = np.nanmean(out[known], axis=1)
    table_out[AHT_SOURCE] = source
    return AhtForecast(aht_s=out, source=source, cells=table_out)


def _table_values(cells: pd.DataFrame, table: pd.Series | None) -> np.ndarray:
    if table is None or not len(table):
        return np.full(len(cells), np.nan)
    t = table.groupby(level=[0, 1]).mean()
    t.index = t.index.set_levels([t.index.levels[0].astype(str), t.index.levels[1].astype(str)])
    vals = t.reindex(pd.MultiIndex.from_frame(cells[CELL_KEYS].astype(str))).to_numpy(float)
    return np.where(vals > 0, vals, np.nan)


def _fit_daily(vd: np.ndarray, wd_sum: np.ndarray, weekday: np.ndarray) -> tuple[float, float, np.ndarray] | None:
    """WLS of log daily AHT on intercept, time [years] and weekday effects: (log level, slope, effects(7))."""
    have = vd > 0
    n_days = int(have.sum())
    if n_days == 0:
        return None
    y = np.log(wd_sum[have] / vd[have])
    age = (len(vd) - 0.5 - np.flatnonzero(have)).astype(float)  # days before the origin (mid-day)
    weight = vd[have] / (vd[have] + DAY_ITEMS) * 0.5 ** (age / HALF_LIFE_DAYS)
    cols = [np.ones(n_days)]
    use_wd = n_days >= MIN_DAYS_WEEKDAY and len(np.unique(weekday[have])) == 7
    if use_wd:
        code = np.zeros((n_days, 6))
        wd = weekday[have]
        for k in range(6):
            code[:, k] = (wd == k).astype(float) - (wd == 6).astype(float)
        cols.extend(code.T)
    base = np.column_stack(cols)
    slope, level, beta = 0.0, None, None
    if n_days >= MIN_DAYS_TREND:
        X = np.column_stack([base, -age / 365.25])
        beta, se = _wls(X, y, weight)
        if se is not None and abs(beta[-1]) >= TREND_MIN_T * se:
            slope, level = float(beta[-1]), float(beta[0])
            beta = beta[:-1]
        else:
            beta = None
    if beta is None:
        beta, _ = _wls(base, y, weight)
    level = float(beta[0]) if level is None else level
    effects = np.zeros(7)
    if use_wd:
        effects[:6] = beta[1:7]
        effects[6] = -beta[1:7].sum()
    return level, slope, effects


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float | None]:
    """Weighted least squares: coefficients and the standard error of the last one (None if undefined)."""
    sw = np.sqrt(w)
    beta, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
    dof = len(y) - X.shape[1]
    if dof <= 0:
        return beta, None
    resid = (y - X @ beta) * sw
    sigma2 = float(resid @ resid) / dof
    try:
        cov = sigma2 * np.linalg.inv(X.T @ (X * w[:, None]))
    except np.linalg.LinAlgError:
        return beta, None
    return beta, float(np.sqrt(max(cov[-1, -1], 0.0)))


def _hour_shape(v: np.ndarray, w: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """Hour-of-day AHT relative to the day's, (n_cells, 24), shrunk toward the group's and flat."""
    n = v.shape[0]
    vd = v.sum(axis=2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        day_aht = np.where(vd > 0, w.sum(axis=2, keepdims=True) / vd, np.nan)
        ratio = np.where(v > 0, (w / v) / day_aht, 0.0)
    ratio = np.nan_to_num(ratio)
    num = (v * ratio).sum(axis=1)  # (n, 24): items x relative AHT
    cnt = v.sum(axis=1)  # (n, 24) items
    prior = np.ones((n, 24))
    if groups is not None and n:
        g = np.asarray(groups)
        g_num, g_cnt = np.zeros((g.max() + 1, 24)), np.zeros((g.max() + 1, 24))
        np.add.at(g_num, g, num)
        np.add.at(g_cnt, g, cnt)
        prior = ((g_num + HOUR_ITEMS) / (g_cnt + HOUR_ITEMS))[g]
    return (num + HOUR_ITEMS * prior) / (cnt + HOUR_ITEMS)


def workload_wape(items: np.ndarray, actual_aht: np.ndarray, forecast_aht: np.ndarray) -> float:
    """Pooled WAPE of the workload implied by an AHT forecast at the actual volumes.

    ``sum |V (a - f)| / sum V a`` over the cells and hours with items: isolates the handle-time error
    from the volume forecast's [share].
    """
    ok = (items > 0) & np.isfinite(actual_aht) & np.isfinite(forecast_aht)
    true = (items * actual_aht)[ok]
    return float(np.abs(true - (items * forecast_aht)[ok]).sum() / max(true.sum(), 1e-12))
