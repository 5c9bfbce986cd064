"""Temporary AHT bumps after a dated change (a new policy, a tool change): find them and measure the fading.

Per queue the input is the daily mean residual ``r_d`` of log handle time (each pair's row minus the pair's
own mean, averaged over the queue's pairs on day ``d``). After a change on day ``d0`` the model is

    r_d = c + B * 0.5 ** ((d - d0) / H)  for d >= d0,      r_d = c  for the 28 days before,

fitted by least squares: for each half-life ``H`` on a grid (0.5 to 120 days) ``c`` and ``B`` are linear;
the ``H`` with the smallest residual sum of squares wins. Its interval is the set of ``H`` whose sum of
squares is within the F(1, n - 3) quantile of the best (a profile-likelihood interval).

Detection (no configured date): the day ``d`` where the mean of the next 7 days exceeds the mean of the
28 before by the most; a change when that jump is above ``DETECT_MIN_JUMP`` and above ``DETECT_Z`` standard
errors (noise from the median absolute day-to-day difference, robust to the jump itself).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

BEFORE_DAYS = 28
AFTER_DAYS = 7
FIT_DAYS = 180  # days after the change used in the fit
DETECT_MIN_JUMP = 0.03  # log AHT (about +3 %)
DETECT_Z = 6.0
HALF_LIVES = np.arange(0.5, 120.01, 0.25)  # [days]


def daily_series(day: np.ndarray, r: np.ndarray) -> pd.Series:
    """Residuals on a complete daily index (NaN for days without records)."""
    s = pd.Series(r, index=pd.Index(day.astype(np.int64)))
    return s.reindex(np.arange(int(day.min()), int(day.max()) + 1))


def detect_change(series: pd.Series) -> tuple[int, float, float] | None:
    """(day, jump, z) of the largest upward shift, or None when there is none worth reporting."""
    v = series.to_numpy(float)
    ok = np.isfinite(v)
    if ok.sum() < BEFORE_DAYS + AFTER_DAYS + 7:
        return None
    csum = np.concatenate([[0.0], np.cumsum(np.where(ok, v, 0.0))])
    ccnt = np.concatenate([[0.0], np.cumsum(ok)])
    idx = np.arange(BEFORE_DAYS, len(v) - AFTER_DAYS + 1)
    after = (csum[idx + AFTER_DAYS] - csum[idx]) / np.maximum(ccnt[idx + AFTER_DAYS] - ccnt[idx], 1)
    before = (csum[idx] - csum[idx - BEFORE_DAYS]) / np.maximum(ccnt[idx] - ccnt[idx - BEFORE_DAYS], 1)
    enough = ((ccnt[idx + AFTER_DAYS] - ccnt[idx]) >= AFTER_DAYS - 2) & ((ccnt[idx] - ccnt[idx - BEFORE_DAYS]) >= BEFORE_DAYS // 2)
    jump = np.where(enough, after - before, -np.inf)
    best = int(np.argmax(jump))
    diffs = np.diff(v[ok])
    sigma = 1.4826 * np.median(np.abs(diffs - np.median(diffs))) / np.sqrt(2.0) if len(diffs) else 0.0
    se = max(sigma * np.sqrt(1.0 / AFTER_DAYS + 1.0 / BEFORE_DAYS), 1e-9)
    z = float(jump[best] / se)
    if not np.isfinite(jump[best]) or jump[best] < DETECT_MIN_JUMP or z < DETECT_Z:
        return None
    return int(series.index[idx[best]]), float(jump[best]), z


def fit_bump(series: pd.Series, d0: int, level: float = 0.95) -> dict | None:
    """Bump ``B`` (log AHT), its standard error and the half-life ``H`` [days] with its interval, from day ``d0``."""
    window = series.loc[d0 - BEFORE_DAYS: d0 + FIT_DAYS].dropna()
    days, r = window.index.to_numpy(float), window.to_numpy(float)
    after = days >= d0
    if after.sum() < 5 or (~after).sum() < 5:
        return None
    age = np.where(after, days - d0, 0.0)
    sse = np.empty(len(HALF_LIVES))
    fits = []
    for k, hl in enumerate(HALF_LIVES):
        x = np.column_stack([np.ones_like(r), np.where(after, 0.5 ** (age / hl), 0.0)])
        coef, *_ = np.linalg.lstsq(x, r, rcond=None)
        res = r - x @ coef
        sse[k] = float(res @ res)
        fits.append((coef, x))
    best = int(np.argmin(sse))
    coef, x = fits[best]
    n = len(r)
    sigma2 = sse[best] / max(n - 3, 1)
    cov = sigma2 * np.linalg.inv(x.T @ x)
    f = stats.f.ppf(level, 1, max(n - 3, 1))
    inside = HALF_LIVES[sse <= sse[best] * (1.0 + f / max(n - 3, 1))]
    return {"day": int(d0), "baseline": float(coef[0]), "bump": float(coef[1]), "bump_se": float(np.sqrt(cov[1, 1])),
            "half_life_days": float(HALF_LIVES[best]), "half_life_lo": float(inside.min()), "half_life_hi": float(inside.max()),
            "days_used": int(n)}


def bump_at(day: np.ndarray, fit: dict) -> np.ndarray:
    """The fitted bump (log AHT) on each day (0 before the change)."""
    age = np.asarray(day, float) - fit["day"]
    return np.where(age >= 0, fit["bump"] * 0.5 ** (np.maximum(age, 0.0) / fit["half_life_days"]), 0.0)
