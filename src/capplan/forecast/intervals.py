"""Prediction intervals: split-conformal on the backtest errors, scaled by the forecast level.

For each cell the backtest gives pairs (forecast ``f``, actual ``y``) for every hour of every
window. Count errors grow with the level (Poisson-like at low volume, proportional at high
volume), so errors are standardised by a per-cell scale

    s(f)^2 = a (f + 1) + c (f + 1)^2,    a, c >= 0 fitted to e^2 by least squares,

and the interval at level ``L`` is ``[f + q_lo s(f), f + q_hi s(f)]`` with ``q_lo`` / ``q_hi`` the
empirical ``(1 - L) / 2`` and ``(1 + L) / 2`` quantiles of ``z = (y - f) / s(f)`` (asymmetric,
so a biased model gets a shifted band). Bounds are then made monotone: ``0 <= lo <= f <= hi``,
and nested across levels.

Coverage is checked honestly by leaving one backtest window out: the band fitted on the other
windows is scored on the held-out window (:func:`loo_coverage`).

Cells without a backtest (short history) get a default band: normal quantiles with
``a = 1`` (Poisson) and ``c = 0.0625`` (a 25 % relative error).

Known limit: the errors come from ``forecast.backtest_horizon_days``-ahead forecasts; further
ahead the band is the same width, so coverage beyond the backtest horizon is not checked.

References
----------
Vovk, V., Gammerman, A., Shafer, G. (2005). Algorithmic Learning in a Random World, Springer
(split conformal prediction). Lei, J., G'Sell, M., Rinaldo, A., Tibshirani, R., Wasserman, L. (2018).
Distribution-free predictive inference for regression. JASA 113(523) (locally weighted residuals).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

DEFAULT_A = 1.0
DEFAULT_C = 0.0625


@dataclass
class IntervalModel:
    """Per-cell band parameters: scale (``a``, ``c``) and z-quantiles per level."""

    levels: list[int]
    a: np.ndarray  # (n,)
    c: np.ndarray  # (n,)
    q_lo: np.ndarray  # (n, n_levels)
    q_hi: np.ndarray  # (n, n_levels)

    def take(self, idx: np.ndarray) -> "IntervalModel":
        return IntervalModel(self.levels, self.a[idx], self.c[idx], self.q_lo[idx], self.q_hi[idx])


def _scale(f: np.ndarray, a: np.ndarray, c: np.ndarray) -> np.ndarray:
    x = np.clip(f, 0, None) + 1.0
    return np.sqrt(a[:, None] * x + c[:, None] * x * x)


def default_intervals(n: int, levels: list[int]) -> IntervalModel:
    z = np.array([NormalDist().inv_cdf(0.5 + lv / 200.0) for lv in levels])
    return IntervalModel(list(levels), np.full(n, DEFAULT_A), np.full(n, DEFAULT_C),
                         np.tile(-z, (n, 1)), np.tile(z, (n, 1)))


def fit_intervals(actual: np.ndarray, pred: np.ndarray, levels: list[int]) -> IntervalModel:
    """Fit the band of every cell from paired actuals and forecasts.

    Parameters
    ----------
    actual, pred : ndarray, shape (n_cells, m)
        Backtest actuals and forecasts [items]; NaN pairs are ignored.
    levels : list of int
        Interval levels [%].
    """
    n = actual.shape[0]
    ok = ~(np.isnan(actual) | np.isnan(pred))
    f = np.where(ok, np.clip(pred, 0, None), 0.0)
    e2 = np.where(ok, (actual - f) ** 2, 0.0)
    x = np.where(ok, f + 1.0, 0.0)
    s11, s12, s22 = (x**2).sum(1), (x**3).sum(1), (x**4).sum(1)
    t1, t2 = (e2 * x).sum(1), (e2 * x * x).sum(1)
    det = s11 * s22 - s12 * s12
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(det > 0, (t1 * s22 - t2 * s12) / det, np.nan)
        c = np.where(det > 0, (s11 * t2 - s12 * t1) / det, np.nan)
        only_c = np.where(s22 > 0, t2 / s22, 0.0)
        only_a = np.where(s11 > 0, t1 / s11, 0.0)
    full_ok = (det > 0) & (a >= 0) & (c >= 0)
    # otherwise refit one term only: the proportional term if the Poisson term came out negative
    c_alone = ~full_ok & (a < 0)
    a = np.where(full_ok, a, np.where(c_alone, 0.0, only_a))
    c = np.where(full_ok, c, np.where(c_alone, only_c, 0.0))
    a = np.maximum(a, 1e-12)

    s = _scale(f, a, c)
    z = np.where(ok, (actual - f) / s, np.nan)
    m = ok.sum(1)
    q_lo = np.zeros((n, len(levels)))
    q_hi = np.zeros((n, len(levels)))
    has = m > 0
    for count in np.unique(m[has]):  # rows with the same number of pairs share quantile levels
        rows = np.flatnonzero(m == count)
        zs = np.sort(z[rows], axis=1)[:, :count]  # NaNs sort last
        for j, lv in enumerate(levels):
            alpha = 1 - lv / 100.0
            # finite-sample (split-conformal) correction of the quantile level
            hi_p = min(1.0, (1 - alpha / 2) * (1 + 1 / count))
            q_hi[rows, j] = np.quantile(zs, hi_p, axis=1)
            q_lo[rows, j] = np.quantile(zs, 1 - hi_p, axis=1)
    model = IntervalModel(list(levels), a, c, q_lo, q_hi)
    if not has.all():
        d = default_intervals(int((~has).sum()), levels)
        model.a[~has], model.c[~has], model.q_lo[~has], model.q_hi[~has] = d.a, d.c, d.q_lo, d.q_hi
    return model


def apply_intervals(pred: np.ndarray, model: IntervalModel) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds for forecasts ``pred`` (n_cells, T) [items].

    Returns
    -------
    lo, hi : ndarray, shape (n_cells, n_levels, T); ``0 <= lo <= pred <= hi``, nested by level.
    """
    f = np.clip(pred, 0, None)
    s = _scale(f, model.a, model.c)
    n_lv = len(model.levels)
    lo = np.empty((f.shape[0], n_lv, f.shape[1]))
    hi = np.empty_like(lo)
    for j in range(n_lv):
        lo[:, j] = np.clip(f + model.q_lo[:, j:j + 1] * s, 0, None)
        hi[:, j] = f + model.q_hi[:, j:j + 1] * s
    lo = np.minimum(lo, f[:, None, :])
    hi = np.maximum(hi, f[:, None, :])
    # levels are ascending: wider levels must contain narrower ones
    lo = np.minimum.accumulate(lo, axis=1)
    hi = np.maximum.accumulate(hi, axis=1)
    return lo, hi


def loo_coverage(actual: np.ndarray, pred: np.ndarray, levels: list[int]) -> np.ndarray:
    """Share of held-out actuals inside the band fitted on the other backtest windows.

    Parameters
    ----------
    actual, pred : ndarray, shape (n_cells, n_windows, T)

    Returns
    -------
    ndarray, shape (n_cells, n_levels): coverage (0-1); with one window, in-sample coverage.
    """
    n, w, t = actual.shape
    hits = np.zeros((n, len(levels)))
    count = np.zeros((n, 1))
    for k in range(w):
        train = [j for j in range(w) if j != k] or [k]
        model = fit_intervals(actual[:, train].reshape(n, -1), pred[:, train].reshape(n, -1), levels)
        lo, hi = apply_intervals(np.nan_to_num(pred[:, k]), model)
        y = actual[:, k]
        ok = ~(np.isnan(y) | np.isnan(pred[:, k]))
        inside = (y[:, None, :] >= lo - 1e-9) & (y[:, None, :] <= hi + 1e-9) & ok[:, None, :]
        hits += inside.sum(axis=2)
        count += ok.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, hits / count, np.nan)
