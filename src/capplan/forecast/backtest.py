"""Rolling-origin backtest of every candidate, scores, and the model choice per cell.

Windows: ``forecast.backtest_windows`` origins, ``backtest_step_days`` apart, each forecasting
``backtest_horizon_days`` ahead; the last window ends where the history ends. Every candidate is
trained (statsforecast ``cross_validation``, refit per window unless the candidate's
``backtest_refit`` is false, or numpy for the simple models) on at most its training window before
each origin and scored at **hourly** level (daily models are spread by the profile learned
before that origin).

Metrics, per cell over all windows
----------------------------------
* ``mase`` = mean |y - f| / mean |y_t - y_{t-168}|, the denominator being the in-sample error of
  the weekly seasonal naive on the training window before the first origin (Hyndman & Koehler 2006).
* ``wape`` = sum |y - f| / sum y.
* ``coverage_<L>``: share of held-out actuals inside the level-``L`` band
  (:func:`capplan.forecast.intervals.loo_coverage`).

Choice: :mod:`capplan.forecast.choice` (recent-weighted mean window MAE, which ranks candidates
within a cell as MASE and WAPE do, and a paired test across windows before leaving the seasonal
naive). A candidate with no score ranks last; ties go to the earlier model in
:data:`capplan.forecast.models.MODEL_ORDER`. ``numpy`` candidates (:mod:`capplan.forecast.simple`)
are computed per window directly; ``combo`` is the median of its members' backtest forecasts.

References
----------
Hyndman, R. J., Koehler, A. B. (2006). Another look at measures of forecast accuracy.
International Journal of Forecasting 22(4), 679-688.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from capplan.forecast import daily as dailymod
from capplan.forecast import simple
from capplan.forecast.intervals import loo_coverage
from capplan.forecast.models import COMBO_MIN_MEMBERS, HOURS_PER_WEEK, MIN_TRAIN_DAYS, MODEL_ORDER, Candidate, combo_members
from capplan.schema import LANGUAGE, MODEL, QUEUE

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)


@dataclass
class Backtest:
    """Backtest forecasts of every candidate on the cells long enough to backtest."""

    rows: np.ndarray  # panel row of each backtested cell
    cutoffs: list[int]  # panel day index of each window origin
    horizon_days: int
    actual: np.ndarray  # (n, W, horizon_days * 24)
    preds: dict[str, np.ndarray] = field(default_factory=dict)  # model -> (n, W, T)
    failures: list[tuple[int, str, str]] = field(default_factory=list)  # (panel row, model, reason)
    scale: np.ndarray | None = None  # MASE denominators (n,)
    sparse: np.ndarray | None = None  # (n,) bool
    seconds: dict[str, float] = field(default_factory=dict)


def window_span_days(fc) -> int:
    """Days from the first backtest origin to the end of the history [days]."""
    return fc.backtest_horizon_days + (fc.backtest_windows - 1) * fc.backtest_step_days


def min_backtest_days(fc) -> int:
    """Shortest history a cell needs to be backtested [days]."""
    return window_span_days(fc) + MIN_TRAIN_DAYS


def long_frame(arr: np.ndarray, first: np.ndarray, ids: list[str], start: pd.Timestamp, step: pd.Timedelta) -> pd.DataFrame:
    """statsforecast's long ``unique_id, ds, y`` frame from rows of ``arr`` from column ``first[i]``."""
    cols = np.arange(arr.shape[1])
    mask = cols[None, :] >= np.asarray(first)[:, None]
    r, c = np.nonzero(mask)
    return pd.DataFrame({
        "unique_id": np.asarray(ids, dtype=object)[r],
        "ds": start + c * step,
        "y": np.nan_to_num(arr[r, c]),
    })


def train_days(cand: Candidate, fc) -> int:
    return 7 * (min(cand.train_weeks, fc.train_weeks) if cand.train_weeks else fc.train_weeks)


def run_backtest(panel, values: np.ndarray, rows: np.ndarray, cands: list[Candidate], fc, engine,
                 progress: Callable[[float], None] | None = None, groups: np.ndarray | None = None) -> Backtest:
    """Backtest every candidate on panel rows ``rows`` (see module notes).

    Parameters
    ----------
    panel : capplan.forecast.panel.Panel
    values : ndarray
        Event-adjusted hourly volumes, same shape as ``panel.values``.
    rows : ndarray of int
        Panel rows to backtest (each with at least :func:`min_backtest_days` days of history).
    groups : ndarray of int, optional
        Profile pooling group of each of ``rows`` (see :func:`capplan.forecast.daily.intraday_profile`).
    """
    import time

    n_days = panel.n_days
    H, S, W = fc.backtest_horizon_days, fc.backtest_step_days, fc.backtest_windows
    cutoffs = [n_days - window_span_days(fc) + k * S for k in range(W)]
    sub = values[rows]
    actual = np.stack([sub[:, c * 24: c * 24 + H * 24] for c in cutoffs], axis=1)
    bt = Backtest(rows=rows, cutoffs=cutoffs, horizon_days=H, actual=actual)
    bt.scale, bt.sparse = _scale_and_sparsity(sub, panel.first_day[rows], cutoffs[0], fc)
    wd0 = panel.start.weekday()
    profiles = [dailymod.intraday_profile(sub, wd0, c, fc.profile_weeks, groups=groups) for c in cutoffs]
    for k, cand in enumerate(cands):
        t = time.perf_counter()
        try:
            if cand.kind == "combo":
                out = combine(bt.preds, combo_members(cands))
            elif cand.kind == "numpy":
                out = np.stack([simple_forecast(cand.name, sub, wd0, c, H, fc, profiles[k_w])
                                for k_w, c in enumerate(cutoffs)], axis=1)
            else:
                out = _cross_validate(panel, sub, rows, cand, fc, engine, cutoffs, profiles)
        except Exception as exc:  # a candidate failing must not stop the run
            out = np.full(actual.shape, np.nan)
            for r in rows:
                bt.failures.append((int(r), cand.name, f"backtest failed: {type(exc).__name__}: {exc}"[:300]))
        else:
            missing = np.isnan(out).any(axis=(1, 2))
            for r in rows[missing]:
                bt.failures.append((int(r), cand.name, "backtest gave no forecast for some hours"))
            out[missing] = np.nan
        bt.preds[cand.name] = out
        bt.seconds[cand.name] = time.perf_counter() - t
        if progress:
            progress((k + 1) / len(cands))
    return bt


def _scale_and_sparsity(sub: np.ndarray, first: np.ndarray, c0: int, fc) -> tuple[np.ndarray, np.ndarray]:
    """MASE denominators and the sparse flag of each row, from the training window before origin ``c0``."""
    lo = np.maximum(first, c0 - 7 * fc.train_weeks)
    scale = np.full(len(sub), np.nan)
    sparse = np.zeros(len(sub), bool)
    for i in range(len(sub)):
        x = sub[i, lo[i] * 24: c0 * 24]
        if len(x) > HOURS_PER_WEEK:
            scale[i] = np.nanmean(np.abs(x[HOURS_PER_WEEK:] - x[:-HOURS_PER_WEEK]))
        sparse[i] = np.mean(x == 0) > fc.sparse_zero_share if len(x) else True
    return scale, sparse


def _cross_validate(panel, sub: np.ndarray, rows: np.ndarray, cand: Candidate, fc, engine, cutoffs: list[int],
                    profiles: list[np.ndarray]) -> np.ndarray:
    """statsforecast ``cross_validation`` of one candidate: forecasts (n, W, H * 24) [items per hour]."""
    n_days = panel.n_days
    H, S, W = fc.backtest_horizon_days, fc.backtest_step_days, fc.backtest_windows
    ids = [f"{r:06d}" for r in rows]
    pos = {u: i for i, u in enumerate(ids)}
    tdays = train_days(cand, fc)
    begin = np.maximum(panel.first_day[rows], n_days - window_span_days(fc) - tdays)
    out = np.full((len(rows), W, H * 24), np.nan)
    if cand.grain == "hourly":
        df = long_frame(sub, begin * 24, ids, panel.start, HOUR)
        cv = engine.cross_validation([cand.build()], "h", df, h=H * 24, step_size=S * 24, n_windows=W,
                                     input_size=tdays * 24)
        i = cv["unique_id"].map(pos).to_numpy()
        cut = ((cv["cutoff"] - panel.start) / HOUR).to_numpy().astype(np.int64) + 1
        w = np.searchsorted(np.array(cutoffs) * 24, cut)
        step = ((cv["ds"] - cv["cutoff"]) / HOUR).to_numpy().astype(np.int64) - 1
        out[i, w, step] = cv[cand.name].to_numpy()
        return out
    daily_all = np.nan_to_num(sub).reshape(len(rows), n_days, 24).sum(axis=2)
    df = long_frame(daily_all, begin, ids, panel.start, DAY)
    cv = engine.cross_validation([cand.build()], "D", df, h=H, step_size=S, n_windows=W, input_size=tdays,
                                 refit=cand.backtest_refit)
    i = cv["unique_id"].map(pos).to_numpy()
    cut = ((cv["cutoff"] - panel.start) / DAY).to_numpy().astype(np.int64) + 1
    w = np.searchsorted(np.array(cutoffs), cut)
    step = ((cv["ds"] - cv["cutoff"]) / DAY).to_numpy().astype(np.int64) - 1
    d = np.full((len(rows), W, H), np.nan)
    d[i, w, step] = cv[cand.name].to_numpy()
    for k_w, c in enumerate(cutoffs):
        out[:, k_w] = dailymod.spread(d[:, k_w], profiles[k_w], panel.start.weekday(), c)
    return out


def simple_forecast(name: str, hourly: np.ndarray, start_weekday: int, origin_day: int, horizon_days: int, fc,
                    profile: np.ndarray | None = None) -> np.ndarray:
    """Forecast of a ``numpy`` candidate from ``origin_day`` (see :mod:`capplan.forecast.simple`)."""
    if name == "seasonal_naive":
        return simple.seasonal_naive(hourly, origin_day, horizon_days)
    if name == "seasonal_mean":
        return simple.seasonal_mean(hourly, origin_day, horizon_days, fc.seasonal_mean_weeks)
    if name == "daily_shift":
        return simple.daily_shift(hourly, start_weekday, origin_day, horizon_days, fc.profile_weeks, profile)
    raise KeyError(name)  # pragma: no cover - the registry lists every numpy candidate


def combine(preds: dict[str, np.ndarray], members: list[str]) -> np.ndarray:
    """The ``combo`` forecast: per cell the median of the members that gave a full forecast.

    NaN where fewer than :data:`~capplan.forecast.models.COMBO_MIN_MEMBERS` members did.
    """
    stack = np.stack([preds[m] for m in members if m in preds])  # (M, n, ...)
    ok = ~np.isnan(stack).reshape(stack.shape[0], stack.shape[1], -1).any(axis=2)  # (M, n)
    shaped = ok.reshape(ok.shape + (1,) * (stack.ndim - 2))
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(np.where(shaped, stack, np.nan), axis=0)
    med[ok.sum(axis=0) < COMBO_MIN_MEMBERS] = np.nan
    return med


def score(bt: Backtest, cells: pd.DataFrame, levels: list[int], metric: str, fc=None) -> pd.DataFrame:
    """Metrics of every candidate on every backtested cell, with the choice and rank.

    The choice is :func:`capplan.forecast.choice.choose` (recent-weighted window errors, a paired
    test against the seasonal naive); ``fc`` gives its settings (default: the config defaults).

    Returns
    -------
    DataFrame
        ``queue``, ``language``, ``model``, ``mase``, ``wape``, ``mae``, ``coverage_<L>``...,
        ``metric`` (the headline metric of the cell: ``wape`` for sparse cells), ``sparse``,
        ``score`` (recent-weighted mean window MAE [items per hour]), ``t_vs_naive`` (paired t of the
        best challenger against the baseline, on every row of the cell), ``chosen``, ``rank``
        (1 = chosen, then by score).
    """
    from capplan.config import ForecastConfig
    from capplan.forecast.choice import choose, window_errors

    fc = fc or ForecastConfig()
    n = len(bt.rows)
    frames = []
    y = bt.actual
    abs_y = np.nansum(np.abs(y), axis=(1, 2))
    errors = {}
    for name, pred in bt.preds.items():
        err = np.abs(y - pred)
        errors[name] = window_errors(y, pred)
        with np.errstate(invalid="ignore", divide="ignore"):
            mae = np.nanmean(err, axis=(1, 2)) if np.isfinite(err).any() else np.full(n, np.nan)
            ok = ~np.isnan(pred).any(axis=(1, 2))
            mae = np.where(ok, mae, np.nan)
            mase = np.where(bt.scale > 0, mae / bt.scale, np.nan)
            wape = np.where(abs_y > 0, np.where(ok, np.nansum(err, axis=(1, 2)), np.nan) / abs_y, np.nan)
        cov = loo_coverage(y, pred, levels)
        f = pd.DataFrame({"row": bt.rows, MODEL: name, "mase": mase, "wape": wape, "mae": mae})
        for j, lv in enumerate(levels):
            f[f"coverage_{lv}"] = cov[:, j]
        f["sparse"] = bt.sparse
        frames.append(f)
    order = sorted(bt.preds, key=lambda m: MODEL_ORDER.get(m, len(MODEL_ORDER)))
    baseline = "seasonal_naive" if "seasonal_naive" in bt.preds else order[0]
    chosen, scores, t = choose(errors, order, baseline, fc.window_half_life, fc.choice_min_t)
    for f in frames:
        name = f[MODEL].iloc[0] if len(f) else ""
        f["score"] = scores[name] if len(f) else []
        f["t_vs_naive"] = t
        f["chosen"] = chosen == name
    table = pd.concat(frames, ignore_index=True)
    table["metric"] = np.where(table["sparse"], "wape", metric)
    table["_order"] = table[MODEL].map(MODEL_ORDER)
    table = table.sort_values(["row", "chosen", "score", "_order"], ascending=[True, False, True, True], kind="stable")
    table["rank"] = table.groupby("row").cumcount() + 1
    table["score"] = table["score"].replace(np.inf, np.nan)
    table = table.merge(cells.reset_index(names="row"), on="row", how="left")
    cols = ["row", QUEUE, LANGUAGE, MODEL, "mase", "wape", "mae"] + [f"coverage_{lv}" for lv in levels] + [
        "metric", "sparse", "score", "t_vs_naive", "chosen", "rank"]
    return table[cols].reset_index(drop=True)
