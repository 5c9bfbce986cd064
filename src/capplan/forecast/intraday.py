"""Intraday update of today's forecast from the arrivals so far: a credibility-weighted ratio.

Method
------
For one cell (queue, language) and one day (the local day of the operation's time zone, see
:func:`day_bounds`; the UTC day by default), let ``F1`` be the forecast items from the day's
start to the as-of time, ``A1`` the items that actually arrived then, and
``r1 = A1 / F1 - 1`` the relative error so far. The rest of the day is forecast as

``updated_t = forecast_t x (1 + Z r1)``, for every interval t from as-of to the day's end,

with the credibility weight (Buhlmann-Straub; the best linear predictor of the rest-of-day error
``r2`` from ``r1``)

``Z = Cov(r1, r2) / Var(r1) = tau2 / (tau2 + b / F1 + c / n1)``  (clipped to [0, 1]),

where ``tau2`` is the variance of the day's level error that persists into the rest of the day,
``b / F1`` the count noise (Poisson: ``b = 1``; overdispersed: ``b > 1``) and ``c / n1`` the
interval-to-interval noise that averages out over the ``n1`` intervals seen. The weight grows with
the volume seen: a thin cell (small ``F1``) keeps its forecast, a busy cell whose morning ran 20 %
high gets most of that 20 % for the afternoon. With Poisson counts and a gamma day effect of
variance ``tau2`` (and ``c = 0``) this is exactly the posterior mean of the gamma-Poisson model,
``(alpha + A1) / (alpha + F1)`` with ``alpha = 1 / tau2``: the empirical-Bayes update of Weinberg,
Brown & Stroud (2007) for a day-level multiplier.

Fitting the weights (:func:`fit_credibility`)
---------------------------------------------
The three numbers are estimated once per run from the workspace history, pooled over cells, by the
method of moments, against a reference forecast that needs no model fitting: the mean of the same
weekday-hour over the previous :data:`REFERENCE_WEEKS` weeks (a seasonal mean, close to what the
planning forecasts achieve a week ahead). Every past day of the last ``weeks`` weeks is split at
the hours of :data:`SPLIT_HOURS`; ``tau2`` is the volume-weighted mean of ``r1 x r2`` (the two parts
of a day share the day's level error, their noise is independent), and ``b`` and ``c`` are the
non-negative least-squares coefficients of ``r1^2 - tau2`` on ``1 / F1`` and ``1 / n1``.

Bands
-----
Each band bound is scaled by the same multiplier (``f m + (bound - f) m``), not narrowed. Narrowing by
the model's day-level share of an interval's variance, ``sqrt(1 - Z tau2 / (tau2 + b / f + c))``, was
tried and measured (``bench/reforecast.py``): 80 % bands covered 60 % of the rest of the day on the
default demo's held-back weeks (80 % before the update), because the weights are fitted against a
reference forecast whose day-level error is larger than the planning forecast's; scaled only, they
keep their coverage.

References
----------
Weinberg, J., Brown, L. D. and Stroud, J. R. (2007). Bayesian forecasting of an inhomogeneous
Poisson process with applications to call center data. JASA 102(480), 1185-1198.
Buhlmann, H. and Gisler, A. (2005). A Course in Credibility Theory and its Applications, ch. 4
(the Buhlmann-Straub model). Springer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from capplan.schema import INTERVAL_START, LANGUAGE, QUEUE, VOLUME
from capplan.units import interval_index

REFERENCE_WEEKS = 4  # weeks averaged by the reference forecast used to fit the weights
SPLIT_HOURS = (4, 8, 12, 16, 20)  # hours after a day's start (the end passed to fit_credibility) at which past days are split
MIN_F1 = 1.0  # least forecast items seen for a day-split to enter the fit [items]
UPDATED = "volume_updated"
ORIGINAL = "volume_original"
MULTIPLIER = "multiplier"
WEIGHT = "weight"
SEEN_FORECAST = "seen_forecast"
SEEN_ACTUAL = "seen_actual"
SEEN_INTERVALS = "seen_intervals"
SEEN_ROWS = "seen_rows"


@dataclass(frozen=True)
class Credibility:
    """The pooled variance components of the update (see the module docstring).

    Attributes
    ----------
    tau2 : variance of the day-level relative error shared by the two parts of a day [-]
    b : count-noise coefficient (1 for Poisson counts) [items]
    c : interval-noise coefficient [intervals]
    samples : day-splits the estimate rests on (0 = not fitted: no update)
    """

    tau2: float
    b: float
    c: float
    samples: int

    def weight(self, seen_forecast, seen_intervals) -> np.ndarray:
        """Credibility weight ``Z = tau2 / (tau2 + b / F1 + c / n1)`` in [0, 1] (0 where nothing was seen)."""
        f1 = np.asarray(seen_forecast, dtype=float)
        n1 = np.asarray(seen_intervals, dtype=float)
        noise = np.divide(self.b, f1, out=np.full(f1.shape, np.inf), where=f1 > 0) + np.divide(
            self.c, n1, out=np.full(n1.shape, np.inf), where=n1 > 0)
        z = np.where(np.isfinite(noise) & (self.tau2 > 0), self.tau2 / (self.tau2 + noise), 0.0)
        return np.clip(z, 0.0, 1.0)

    def as_dict(self) -> dict:
        return asdict(self)


NO_UPDATE = Credibility(tau2=0.0, b=1.0, c=0.0, samples=0)


def _hourly_matrix(history: pd.DataFrame, end: pd.Timestamp, days: int) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Cells and a [cells, days, 24] array of hourly items over the ``days`` days before ``end`` (NaN = no row)."""
    h = history[[QUEUE, LANGUAGE, INTERVAL_START, VOLUME]].copy()
    h[INTERVAL_START] = pd.to_datetime(h[INTERVAL_START], utc=True)
    start = end - pd.Timedelta(days=days)
    h = h[(h[INTERVAL_START] >= start) & (h[INTERVAL_START] < end)]
    cells = sorted(set(zip(h[QUEUE], h[LANGUAGE])))
    out = np.full((len(cells), days * 24), np.nan)
    if not cells:
        return cells, out.reshape(0, days, 24)
    index = {k: i for i, k in enumerate(cells)}
    ci = np.array([index[k] for k in zip(h[QUEUE], h[LANGUAGE])])
    hi = interval_index(h[INTERVAL_START], start, 1.0)
    vol = h[VOLUME].to_numpy(float)
    out[ci, hi] = 0.0
    np.add.at(out, (ci, hi), vol)
    return cells, out.reshape(len(cells), days, 24)


def split_errors(y: np.ndarray, f: np.ndarray, split: int) -> tuple[np.ndarray, ...]:
    """(F1, r1, r2, n1) of day-splits at hour ``split`` from [.., 24] actual and forecast arrays."""
    f1, a1 = f[..., :split].sum(-1), y[..., :split].sum(-1)
    f2, a2 = f[..., split:].sum(-1), y[..., split:].sum(-1)
    ok = (f1 >= MIN_F1) & (f2 >= MIN_F1) & np.isfinite(a1) & np.isfinite(a2)
    r1 = np.divide(a1, f1, out=np.zeros_like(f1), where=ok) - 1.0
    r2 = np.divide(a2, f2, out=np.zeros_like(f2), where=ok) - 1.0
    return f1[ok], r1[ok], r2[ok], f2[ok], np.full(int(ok.sum()), float(split))


def estimate_credibility(f1: np.ndarray, r1: np.ndarray, r2: np.ndarray, f2: np.ndarray, n1: np.ndarray) -> Credibility:
    """Method-of-moments ``tau2``, ``b``, ``c`` from day-splits (see the module docstring)."""
    if len(f1) < 3:
        return NO_UPDATE
    w = f1 * f2 / (f1 + f2)  # weight of a split: its volume (harmonic, so both parts must be large)
    tau2 = max(float(np.sum(w * r1 * r2) / np.sum(w)), 0.0)
    x = np.column_stack([1.0 / f1, 1.0 / n1])
    y = r1 ** 2 - tau2
    coef = _nnls2(x, y)
    return Credibility(tau2=tau2, b=float(coef[0]), c=float(coef[1]), samples=int(len(f1)))


def _nnls2(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares with two non-negative coefficients (the best of the four active sets)."""
    best, best_err = np.zeros(2), float(np.sum(y ** 2))
    for cols in ((0, 1), (0,), (1,)):
        sub = x[:, cols]
        coef, *_ = np.linalg.lstsq(sub, y, rcond=None)
        if np.all(coef >= 0):
            full = np.zeros(2)
            full[list(cols)] = coef
            err = float(np.sum((y - x @ full) ** 2))
            if err < best_err:
                best, best_err = full, err
    return best


def fit_credibility(history: pd.DataFrame, end: pd.Timestamp, weeks: int = 8) -> Credibility:
    """Fit the update's weights on the ``weeks`` whole weeks of hourly history before ``end`` (the start of a day:
    a UTC midnight, or the operation's local one from :func:`day_bounds`, so the days fitted are the days updated).

    The reference forecast of a day is the mean of the same weekday-hour over the
    :data:`REFERENCE_WEEKS` weeks before it (those of them with history); days without any are skipped, and
    with fewer than three usable day-splits the result is :data:`NO_UPDATE` (no update).
    """
    days = (weeks + REFERENCE_WEEKS) * 7
    _, y = _hourly_matrix(history, end, days)
    if not y.size:
        return NO_UPDATE
    lagged = np.stack([y[:, (REFERENCE_WEEKS - k) * 7:days - k * 7] for k in range(1, REFERENCE_WEEKS + 1)])
    count = np.isfinite(lagged).sum(axis=0)
    ref = np.where(count > 0, np.nansum(lagged, axis=0) / np.maximum(count, 1), np.nan)  # weeks without history left out
    target = y[:, REFERENCE_WEEKS * 7:]
    parts = [split_errors(target, ref, s) for s in SPLIT_HOURS]
    return estimate_credibility(*(np.concatenate([p[i] for p in parts]) for i in range(5)))


def day_bounds(as_of: pd.Timestamp, zone: str = "UTC", step_min: int = 60) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The local day of ``zone`` holding ``as_of`` as UTC times on the interval grid: (its start, the next day's start).

    A local midnight is taken to the first interval that starts at or after it (Asia/Kolkata's 00:00 is
    18:30 UTC: its day runs from 19:00 UTC on a 60-minute grid); a day with a daylight-saving change has 23 or
    25 hours. ``zone = "UTC"`` gives the UTC day.
    """
    local = as_of.tz_convert(zone)

    def start_of(day) -> pd.Timestamp:
        midnight = pd.Timestamp(day).tz_localize(zone, nonexistent="shift_forward", ambiguous=True)
        return midnight.tz_convert("UTC").ceil(f"{int(step_min)}min")

    start = start_of(local.date())
    if start > as_of:  # as_of lies before the first whole interval of its local day: it belongs to the day before
        start = start_of(local.date() - dt.timedelta(days=1))
        return start, start_of(local.date())
    return start, start_of(local.date() + dt.timedelta(days=1))


def seen_so_far(forecast: pd.DataFrame, arrivals: pd.DataFrame, as_of: pd.Timestamp, day_start: pd.Timestamp | None = None) -> pd.DataFrame:
    """Per cell: forecast and actual items from the day's start (``day_start``, default the UTC day's) to ``as_of``, and the intervals seen.

    ``forecast`` and ``arrivals`` are long tables (queue, language, interval_start, volume); arrival
    rows count when they start in [day start, as_of). ``seen_rows`` counts them: a cell without rows today is
    not observed (a gap in the feed is not zero arrivals) and is not updated.
    """
    day0 = day_bounds(as_of)[0] if day_start is None else day_start
    fc = forecast[(forecast[INTERVAL_START] >= day0) & (forecast[INTERVAL_START] < as_of)]
    seen = fc.groupby([QUEUE, LANGUAGE], sort=True).agg(**{SEEN_FORECAST: (VOLUME, "sum"), SEEN_INTERVALS: (VOLUME, "size")})
    times = pd.to_datetime(arrivals[INTERVAL_START], utc=True)
    ar = arrivals[(times >= day0) & (times < as_of)]
    actual = ar.groupby([QUEUE, LANGUAGE])[VOLUME].agg(["sum", "size"]).rename(columns={"sum": SEEN_ACTUAL, "size": SEEN_ROWS})
    cells = forecast[[QUEUE, LANGUAGE]].drop_duplicates().set_index([QUEUE, LANGUAGE]).index
    out = pd.DataFrame(index=cells).join(seen).join(actual).fillna(0.0).sort_index()
    return out.reset_index()


def update_forecast(forecast: pd.DataFrame, arrivals: pd.DataFrame, as_of: pd.Timestamp,
                    credibility: Credibility, day: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rest of today's forecast updated from the arrivals so far (see the module docstring).

    Parameters
    ----------
    forecast : forecast table (``queue, language, interval_start, volume, volume_lo_<L>, volume_hi_<L>``) [items].
    arrivals : arrivals so far (``queue, language, interval_start, volume``) [items].
    as_of : tz-aware UTC time on the forecast's interval grid.
    credibility : the fitted weights.
    day : (start, end) of "today" in UTC (:func:`day_bounds` of the operation's time zone); default the UTC day.

    Returns
    -------
    (rest, cells)
        ``rest``: the forecast rows from ``as_of`` to the end of its day with ``volume`` and bands
        updated and ``volume_original`` kept; ``cells``: per cell ``seen_forecast``, ``seen_actual``,
        ``seen_intervals``, ``weight`` (Z) and ``multiplier`` (1 + Z r1).
    """
    fc = forecast.copy()
    fc[INTERVAL_START] = pd.to_datetime(fc[INTERVAL_START], utc=True)
    day0, day_end = day_bounds(as_of) if day is None else day
    cells = seen_so_far(fc, arrivals, as_of, day0)
    f1 = cells[SEEN_FORECAST].to_numpy(float)
    r1 = np.divide(cells[SEEN_ACTUAL].to_numpy(float), f1, out=np.zeros_like(f1), where=f1 > 0) - 1.0
    z = np.where(cells[SEEN_ROWS].to_numpy() > 0, credibility.weight(f1, cells[SEEN_INTERVALS].to_numpy(float)), 0.0)
    cells[WEIGHT] = z
    cells[MULTIPLIER] = np.maximum(1.0 + z * np.where(f1 > 0, r1, 0.0), 0.0)
    rest = fc[(fc[INTERVAL_START] >= as_of) & (fc[INTERVAL_START] < day_end)].copy()
    rest = rest.merge(cells[[QUEUE, LANGUAGE, WEIGHT, MULTIPLIER]], on=[QUEUE, LANGUAGE], how="left")
    m = rest[MULTIPLIER].fillna(1.0).to_numpy()
    f = rest[VOLUME].to_numpy(float)
    rest[ORIGINAL] = f
    for col in [c for c in rest.columns if c.startswith(("volume_lo_", "volume_hi_"))]:
        rest[col] = _band(f, rest[col].to_numpy(float), m)
    rest[VOLUME] = f * m
    rest = rest.sort_values([QUEUE, LANGUAGE, INTERVAL_START], kind="stable").reset_index(drop=True)
    return rest, cells


def _band(f: np.ndarray, bound: np.ndarray, m: np.ndarray) -> np.ndarray:
    """One band bound scaled by the multiplier ``m`` around the updated forecast (module docstring)."""
    return np.maximum(f * m + (bound - f) * m, 0.0)


def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Weighted absolute percentage error ``sum |a - p| / sum a`` [-] (NaN when nothing arrived)."""
    total = float(np.sum(actual))
    return float(np.sum(np.abs(np.asarray(actual) - np.asarray(predicted))) / total) if total > 0 else float("nan")


__all__ = ["Credibility", "NO_UPDATE", "fit_credibility", "estimate_credibility", "split_errors", "update_forecast",
           "seen_so_far", "day_bounds", "wape", "UPDATED", "ORIGINAL", "MULTIPLIER", "WEIGHT"]
