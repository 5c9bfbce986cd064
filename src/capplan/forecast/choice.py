"""Model choice per cell: recent-weighted backtest scores and a paired test against the baseline.

A cell's backtest has ``W`` windows. For every candidate ``m`` and window ``k`` the window error
``e[m, k]`` is the mean absolute error over the window's hours. Windows are weighted toward the
recent ones, ``w[k] = 0.5 ** ((W - 1 - k) / forecast.window_half_life)`` (the last window weighs 1),
and a candidate's score is its weighted mean window error. The best-scoring candidate replaces the
**baseline** (the weekly seasonal naive, or the first configured candidate if it is not configured)
only if it wins by more than the noise between windows: with the paired differences
``d[k] = e[baseline, k] - e[best, k]``,

    d_bar = sum w d / sum w,    s^2 = sum w (d - d_bar)^2 / (V1 - V2 / V1),
    t = d_bar / (s * sqrt(V2) / V1),    V1 = sum w, V2 = sum w^2,

(a weighted paired t statistic; ``V1^2 / V2`` is the effective number of windows) and the best
candidate is chosen only if ``t > forecast.choice_min_t``, otherwise the baseline is kept. With one
window ``t`` is undefined and the lower score wins. Picking the best of several candidates and then
testing it is optimistic (the winner's curse), so the default threshold is a one-sided 90 % level
for about five degrees of freedom (1.5) rather than a looser 1.

References
----------
Diebold, F. X., Mariano, R. S. (1995). Comparing predictive accuracy. Journal of Business &
Economic Statistics 13(3), 253-263 (paired tests of forecast errors).
Taylor, J. W. (2008). A comparison of univariate time series methods for forecasting intraday
arrivals at a call center. Management Science 54(2), 253-265.
"""

from __future__ import annotations

import numpy as np


def window_weights(n_windows: int, half_life: float) -> np.ndarray:
    """Weights of the backtest windows, oldest first; the most recent weighs 1."""
    age = np.arange(n_windows)[::-1]
    return 0.5 ** (age / half_life)


def window_errors(actual: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Mean absolute error per cell and window, shape (n, W); NaN where the forecast has gaps.

    ``actual`` and ``pred`` have shape (n, W, T) [items per hour].
    """
    with np.errstate(invalid="ignore"):
        err = np.abs(actual - pred).mean(axis=2)
    return np.where(np.isnan(pred).any(axis=2), np.nan, err)


def paired_t(base: np.ndarray, other: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted paired t statistic of ``base - other`` across windows, per cell (see module notes).

    ``+inf`` when every window favours ``other`` by the same margin, NaN with fewer than two windows.
    """
    d = base - other
    w = np.broadcast_to(weights, d.shape)
    v1, v2 = w.sum(axis=1), (w * w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        d_bar = (w * d).sum(axis=1) / v1
        var = (w * (d - d_bar[:, None]) ** 2).sum(axis=1) / (v1 - v2 / v1)
        se = np.sqrt(var * v2) / v1
        t = np.where(se > 0, d_bar / se, np.where(d_bar > 0, np.inf, 0.0))
    return np.where(d.shape[1] >= 2, t, np.nan)


def choose(errors: dict[str, np.ndarray], order: list[str], baseline: str, half_life: float,
           min_t: float) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Per cell: the chosen model, every model's weighted score, and the t statistic of the best.

    Parameters
    ----------
    errors : dict model -> ndarray (n, W)
        Window errors (:func:`window_errors`); NaN marks a model without a full backtest.
    order : list of str
        Tie-break order (earlier wins).
    baseline : str
        The model kept unless another wins clearly.
    half_life, min_t : float
        ``forecast.window_half_life`` [windows] and ``forecast.choice_min_t``.

    Returns
    -------
    chosen : ndarray of str (n,)
    scores : dict model -> ndarray (n,) weighted mean window error (``inf`` when undefined)
    t : ndarray (n,) paired t of the best non-baseline model against the baseline (NaN if none)
    """
    models = [m for m in order if m in errors]
    n, n_w = next(iter(errors.values())).shape
    w = window_weights(n_w, half_life)
    scores = {}
    for m in models:
        e = errors[m]
        s = (e * w).sum(axis=1) / w.sum()
        scores[m] = np.where(np.isnan(e).any(axis=1), np.inf, s)
    table = np.stack([scores[m] for m in models], axis=1)  # (n, M); argmin takes the first of ties
    best = np.array(models, dtype=object)[np.argmin(table, axis=1)]
    if baseline not in errors:
        return best, scores, np.full(n, np.nan)
    others = [m for m in models if m != baseline]
    if not others:
        return best, scores, np.full(n, np.nan)
    other_tab = np.stack([scores[m] for m in others], axis=1)
    rival = np.array(others, dtype=object)[np.argmin(other_tab, axis=1)]
    t = np.full(n, np.nan)
    for m in others:
        rows = rival == m
        if rows.any():
            t[rows] = paired_t(errors[baseline][rows], errors[m][rows], w)
    base_ok = np.isfinite(scores[baseline])
    rival_score = other_tab.min(axis=1)
    clear = (rival_score < scores[baseline]) & ((t > min_t) | (n_w < 2))
    chosen = np.where(~base_ok, best, np.where(clear, rival, baseline))
    return chosen.astype(object), scores, t
