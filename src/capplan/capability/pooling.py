"""Partial pooling: pool x cell effects shrunk toward additive pool and cell effects (empirical Bayes).

The model (a normal-normal random-effects meta-regression, one observation per pool x cell pair ``i``)::

    y_i = x_i' b + u_i + e_i,     u_i ~ N(0, tau^2),     e_i ~ N(0, s_i^2) with s_i known

``y_i`` is the pair's summary on a log or logit scale with its sampling variance ``s_i^2`` (from the data:
the variance of a weighted mean of days, or the binomial variance of a logit proportion); ``x_i' b`` is an
intercept plus the pool's and the cell's effects; ``u_i`` is what is special about the pair. The pool and
cell effects carry a weak N(0, ``PRIOR_SD``^2) prior (ridge rows), so a pool or cell without data still has
a defined, uncertain effect. ``tau^2`` is the Paule-Mandel method-of-moments estimate: the value at which
the weighted residual sum of squares equals its degrees of freedom (zero if even ``tau^2 = 0`` gives less).

Given ``tau^2`` the estimate of the pair is the posterior mean
``m_i = x_i' b + B_i (y_i - x_i' b)`` with ``B_i = tau^2 / (tau^2 + s_i^2)`` (the weight on the pair's own
data: near 1 with plenty of data, near 0 where it is thin, so thin pairs fall back on pool + cell), and its
variance ``B_i s_i^2 + (1 - B_i)^2 h_i`` (``h_i`` the variance of the fitted ``x_i' b``), Morris's
approximation, which adds the uncertainty of the fitted pool and cell effects to the shrunk data's.
A pair with no data (``s_i = inf``) gets ``x_i' b`` with variance ``tau^2 + h_i``: intervals widen with less
data instead of the estimate going wild.

References
----------
Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications. JASA 78(381), 47-55.
Paule, R. C. and Mandel, J. (1982). Consensus values and weighting factors. J. Res. NBS 87(5), 377-385.
DerSimonian, R. and Laird, N. (1986). Meta-analysis in clinical trials. Controlled Clinical Trials 7, 177-188.
Barlow, R. E. et al. (1972). Statistical Inference under Order Restrictions (pool-adjacent-violators).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

PRIOR_SD = 1.0  # weak prior on each pool and cell effect (log / logit scale)


@dataclass
class Pooled:
    """Posterior summaries per pair (arrays in input order) and the fitted variance component."""

    estimate: np.ndarray
    variance: np.ndarray
    weight: np.ndarray  # B_i: weight on the pair's own data (0..1)
    prior_mean: np.ndarray  # x_i' b: the pool + cell value it shrinks toward
    tau2: float


def _design(pool_idx: np.ndarray, cell_idx: np.ndarray, n_pools: int, n_cells: int) -> np.ndarray:
    k = len(pool_idx)
    x = np.zeros((k, 1 + n_pools + n_cells))
    x[:, 0] = 1.0
    x[np.arange(k), 1 + pool_idx] = 1.0
    x[np.arange(k), 1 + n_pools + cell_idx] = 1.0
    return x


def _fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted ridge least squares: coefficients and the posterior covariance of ``b`` (intercept unpenalised)."""
    p = x.shape[1]
    penalty = np.full(p, 1.0 / PRIOR_SD**2)
    penalty[0] = 1e-9
    a = x.T @ (w[:, None] * x) + np.diag(penalty)
    cov = np.linalg.inv(a)
    return cov @ (x.T @ (w * y)), cov


def partial_pool(y, s2, pool_idx, cell_idx, n_pools: int, n_cells: int) -> Pooled:
    """Shrink each pair's ``y`` (sampling variance ``s2``; ``inf`` = no data) toward pool + cell effects.

    Parameters
    ----------
    y, s2 : array-like
        Pair summaries and their sampling variances (NaN ``y`` with ``inf`` variance for pairs without data).
    pool_idx, cell_idx : array-like of int
        Pool and cell index of each pair (0-based).
    """
    with _one_blas_thread():  # small dense solves: BLAS threads only contend on a busy 2-core machine (14x slower)
        return _partial_pool(np.asarray(y, float), np.asarray(s2, float), pool_idx, cell_idx, n_pools, n_cells)


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it the maths is the same, only slower on a loaded machine
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _partial_pool(y: np.ndarray, s2: np.ndarray, pool_idx, cell_idx, n_pools: int, n_cells: int) -> Pooled:
    x = _design(np.asarray(pool_idx, int), np.asarray(cell_idx, int), n_pools, n_cells)
    has = np.isfinite(s2) & np.isfinite(y)
    yy = np.where(has, y, 0.0)

    def q_minus_df(tau2: float) -> tuple[float, np.ndarray, np.ndarray]:
        w = np.where(has, 1.0 / (np.where(has, s2, 1.0) + tau2), 0.0)
        b, cov = _fit(x, yy, w)
        r = yy - x @ b
        lev = np.einsum("ij,jk,ik->i", x, cov, x) * w  # leverage of each observation
        return float(np.sum(w * r * r) - (has.sum() - lev[has].sum())), b, cov

    tau2 = 0.0
    if has.sum() > 2 and q_minus_df(0.0)[0] > 0:
        lo, hi = 0.0, max(float(np.var(yy[has])), 1e-6)
        while q_minus_df(hi)[0] > 0 and hi < 1e3:
            hi *= 4.0
        for _ in range(60):  # bisection: Q(tau2) - df falls as tau2 grows
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if q_minus_df(mid)[0] > 0 else (lo, mid)
        tau2 = 0.5 * (lo + hi)
    _, b, cov = q_minus_df(tau2)
    prior = x @ b
    h = np.einsum("ij,jk,ik->i", x, cov, x)
    weight = np.where(has, tau2 / (tau2 + np.where(has, s2, 1.0)), 0.0)
    estimate = prior + weight * (yy - prior)
    variance = np.where(has, weight * np.where(has, s2, 0.0), tau2) + (1 - weight) ** 2 * h
    return Pooled(estimate, variance, weight, prior, tau2)


def isotonic_decreasing(y, w) -> np.ndarray:
    """Weighted least-squares fit of ``y`` that never increases (pool-adjacent-violators algorithm)."""
    y, w = np.asarray(y, float), np.asarray(w, float)
    blocks: list[list[float]] = []  # [mean, weight, count]
    for yi, wi in zip(y, w):
        blocks.append([yi, wi, 1])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            ww = w1 + w2
            blocks.append([(m1 * w1 + m2 * w2) / ww if ww > 0 else 0.5 * (m1 + m2), ww, n1 + n2])
    return np.concatenate([np.full(int(n), m) for m, _, n in blocks]) if blocks else np.zeros(0)
