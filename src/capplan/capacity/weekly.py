"""Weekly volume per (queue, language): totals from the hourly history, then a weekly forecast with intervals.

Weeks are anchored at the plan start (``[planning] start``, UTC midnight): week ``k`` of history covers
``[start + 7k d, start + 7(k+1) d)`` for ``k < 0``; only complete weeks (every interval of the cell's step
present) are used, so a cell launched mid-week starts at its first full week. Past events
(``events.csv``) are divided out of the hourly volume before summing, as the hourly forecast does; future
events multiply a forecast week by ``1 + (multiplier - 1) x share of the week's hours inside the event``.

Models, chosen per cell by a backtest on its weekly series
----------------------------------------------------------
* ``auto_ets``: statsforecast ``AutoETS`` (non-seasonal ``ZZN``: error, trend and damping chosen by AICc)
  on the weekly totals, with its prediction intervals. AutoETS cannot carry a season of 52 weeks (its
  seasonal models fit at most 24 periods well, and need two full years), so the annual pattern is a
  separate step:
* ``fourier_ets``: the annual pattern as :data:`FOURIER_K` Fourier pairs of period
  :data:`SEASON_WEEKS` (365.25 / 7 weeks), fitted by least squares on ``log(1 + volume)`` together with a
  level and a linear trend (so growth is not read as season); the series divided by that seasonal factor
  (normalised to a mean of 1 over a year) goes through the same AutoETS (damped trend when AICc prefers
  it), and its forecast and intervals are multiplied back by the factor of each forecast week (Hyndman &
  Athanasopoulos 2021, section 12.1, "dynamic harmonic regression" with an ETS error instead of ARIMA).
  The intervals do not include the uncertainty of the seasonal coefficients.

A cell with at least :data:`MIN_WEEKS_SEASONAL` complete weeks (a year to fit the season plus
:data:`MIN_BACKTEST_WEEKS` to test it) is backtested: both models are fitted on its history less the
last ``min(26, n - 52)`` weeks and forecast those weeks; the model with the lower MAE there is refitted on
all the history (ties go to ``auto_ets``). With less history the cell falls back to ``auto_ets`` and no
annual pattern is modelled (the default demo has 53 weeks). ``backtest`` in :func:`forecast_weekly`'s
output says which. Cells with fewer than :data:`MIN_WEEKS_ETS` complete weeks get the mean of their last
(up to) four weeks with normal intervals from the weekly standard deviation (model ``window_average``).
Negative values are clipped to zero.

References
----------
Hyndman, R. J., Athanasopoulos, G. (2021). Forecasting: principles and practice, 3rd ed., OTexts:
section 12.1 (weekly data: Fourier terms for the annual season of 52.18 weeks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statistics import NormalDist

from capplan.schema import CELL_KEYS, INTERVAL_START, LANGUAGE, QUEUE, WEEK, WEEK_START

MIN_WEEKS_ETS = 8
SEASON_WEEKS = 365.25 / 7.0  # the annual period in weeks
FOURIER_K = 3  # Fourier pairs of the annual pattern
MIN_BACKTEST_WEEKS = 13
MAX_BACKTEST_WEEKS = 26
MIN_WEEKS_SEASONAL = 52 + MIN_BACKTEST_WEEKS
QUANTILE_LEVEL = {80: 60, 90: 80, 95: 90}  # forecast quantile -> central interval whose upper bound it is


def weekly_history(history: pd.DataFrame, events: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """Complete weekly totals per cell before ``start``: ``queue, language, week (negative), volume``.

    Parameters
    ----------
    history : hourly (or finer) history: ``queue, language, interval_start, volume``.
    events : ``events.csv`` rows (``start, end, queues, languages, multiplier``); past ones are divided out.
    start : plan start (UTC).
    """
    h = history[[QUEUE, LANGUAGE, INTERVAL_START, "volume"]]
    h = h[h[INTERVAL_START] < start].copy()
    h["volume"] = h["volume"].astype(float) / _event_factor(h, events)
    h[WEEK] = ((h[INTERVAL_START] - start) // pd.Timedelta(days=7)).astype(int)
    step = h.groupby(CELL_KEYS, sort=True)[INTERVAL_START].diff().dropna()
    per_week = int(round(pd.Timedelta(days=7) / step.mode().iloc[0])) if len(step) else 168
    weekly = h.groupby(CELL_KEYS + [WEEK], sort=True).agg(volume=("volume", "sum"), n=("volume", "size")).reset_index()
    weekly = weekly[weekly["n"] >= per_week].drop(columns="n")
    return weekly.reset_index(drop=True)


def _event_factor(h: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
    factor = np.ones(len(h))
    for ev in events.itertuples(index=False):
        mask = (h[INTERVAL_START] >= ev.start) & (h[INTERVAL_START] < ev.end)
        if "*" not in ev.queues:
            mask &= h[QUEUE].isin(ev.queues)
        if "*" not in ev.languages:
            mask &= h[LANGUAGE].isin(ev.languages)
        factor[mask.to_numpy()] *= float(ev.multiplier) if ev.multiplier > 0 else 1.0
    return factor


def forecast_weekly(weekly: pd.DataFrame, weeks: int, levels: list[int], quantile: int,
                    events: pd.DataFrame | None = None, start: pd.Timestamp | None = None) -> pd.DataFrame:
    """Weekly forecast per cell for plan weeks ``0 .. weeks-1`` with ``volume_lo_<L>`` / ``volume_hi_<L>``.

    Returns
    -------
    pandas.DataFrame
        ``queue, language, week, volume, volume_lo_<L>, volume_hi_<L>`` (each level), ``volume_planned``
        (the volume at ``quantile``: the mean for 50, else ``volume_hi_<QUANTILE_LEVEL[quantile]>``),
        ``model``; volumes in items per week, never negative. ``attrs["backtest"]`` holds the backtest of
        the cells with a year or more of history (:func:`choose_models`).
    """
    need = sorted(set(levels) | ({QUANTILE_LEVEL[quantile]} if quantile != 50 else set()))
    last = weekly.groupby(CELL_KEYS, sort=True)[WEEK].max()
    horizon = int(weeks + (-1 - last.min())) if len(last) else weeks  # weeks between history end and plan start too
    long, short = [], []
    for key, group in weekly.groupby(CELL_KEYS, sort=True):
        (long if len(group) >= MIN_WEEKS_ETS else short).append((key, group))
    parts, backtest = [], pd.DataFrame()
    if long:
        backtest = choose_models(long)
        seasonal = set(backtest.loc[backtest["chosen"] == "fourier_ets", "position"]) if len(backtest) else set()
        plain = [g for i, g in enumerate(long) if i not in seasonal]
        if plain:
            parts.append(_ets(plain, horizon, need))
        if seasonal:
            parts.append(_ets([g for i, g in enumerate(long) if i in seasonal], horizon, need, annual=True))
    if short:
        parts.append(_window_average(short, horizon, need))
    fc = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CELL_KEYS + [WEEK, "volume", "model"])
    fc = fc[(fc[WEEK] >= 0) & (fc[WEEK] < weeks)].copy()
    band = [c for c in fc.columns if c.startswith("volume")]
    if events is not None and start is not None and len(events):
        fc[band] = fc[band].to_numpy() * _future_event_factor(fc, events, start)[:, None]
    fc[band] = fc[band].clip(lower=0.0)
    fc["volume_planned"] = fc["volume"] if quantile == 50 else fc[f"volume_hi_{QUANTILE_LEVEL[quantile]}"]
    keep = [f"volume_{side}_{lv}" for lv in sorted(levels) for side in ("lo", "hi")]
    fc = fc[CELL_KEYS + [WEEK, "volume"] + keep + ["volume_planned", "model"]]
    fc = fc.sort_values(CELL_KEYS + [WEEK], kind="stable").reset_index(drop=True)
    fc.attrs["backtest"] = backtest.drop(columns="position") if len(backtest) else backtest
    return fc


def choose_models(groups) -> pd.DataFrame:
    """Backtest ``auto_ets`` against ``fourier_ets`` on every cell with :data:`MIN_WEEKS_SEASONAL` weeks or more.

    Returns
    -------
    pandas.DataFrame
        Per backtested cell: ``position`` (in ``groups``), ``queue, language, history_weeks, test_weeks``,
        ``mae_auto_ets``, ``mae_fourier_ets`` [items per week] and ``chosen``.
    """
    rows, cut = [], {}
    for i, (key, group) in enumerate(groups):
        if len(group) >= MIN_WEEKS_SEASONAL:
            cut[i] = min(MAX_BACKTEST_WEEKS, len(group) - 52)
    if not cut:
        return pd.DataFrame(columns=["position", QUEUE, LANGUAGE, "history_weeks", "test_weeks", "mae_auto_ets", "mae_fourier_ets", "chosen"])
    for test in sorted(set(cut.values())):  # one panel per test length (usually one)
        members = [i for i, t in cut.items() if t == test]
        train = [(groups[i][0], groups[i][1].iloc[:-test]) for i in members]
        plain, annual = _ets(train, test, []), _ets(train, test, [], annual=True)
        for i, (key, _) in zip(members, train):
            group = groups[i][1]
            actual = group["volume"].to_numpy(float)[-test:]
            errors = []
            for fc in (plain, annual):
                mine = fc[(fc[QUEUE] == key[0]) & (fc[LANGUAGE] == key[1])].sort_values(WEEK)
                errors.append(float(np.mean(np.abs(np.clip(mine["volume"].to_numpy(float), 0, None) - actual))))
            rows.append({"position": i, QUEUE: key[0], LANGUAGE: key[1], "history_weeks": len(group), "test_weeks": test,
                         "mae_auto_ets": errors[0], "mae_fourier_ets": errors[1],
                         "chosen": "fourier_ets" if errors[1] < errors[0] else "auto_ets"})
    return pd.DataFrame(rows).sort_values("position", kind="stable").reset_index(drop=True)


def fourier_terms(week: np.ndarray, k: int = FOURIER_K) -> np.ndarray:
    """``sin(2 pi j t / P), cos(2 pi j t / P)`` for ``j = 1..k``, ``P`` = :data:`SEASON_WEEKS`; one row per week index ``t``."""
    angle = 2.0 * np.pi * np.asarray(week, float)[:, None] * np.arange(1, k + 1)[None, :] / SEASON_WEEKS
    return np.hstack([np.sin(angle), np.cos(angle)])


def annual_factor(week: np.ndarray, volume: np.ndarray, future: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Multiplicative annual factor (mean 1 over a year) at the history weeks and at ``future`` weeks.

    Least squares of ``log(1 + volume)`` on a level, a linear trend and :func:`fourier_terms`; the factor
    is ``exp`` of the Fourier part, divided by its mean over one period.
    """
    t = np.asarray(week, float)
    scale = max(float(np.ptp(t)), 1.0)
    design = np.column_stack([np.ones(len(t)), (t - t.mean()) / scale, fourier_terms(t)])
    beta, *_ = np.linalg.lstsq(design, np.log1p(np.clip(volume, 0.0, None)), rcond=None)
    shape = beta[2:]
    norm_ = float(np.mean(np.exp(fourier_terms(np.linspace(0.0, SEASON_WEEKS, 365, endpoint=False)) @ shape)))
    return np.exp(fourier_terms(t) @ shape) / norm_, np.exp(fourier_terms(future) @ shape) / norm_


def _ets(groups, horizon: int, levels: list[int], annual: bool = False) -> pd.DataFrame:
    """AutoETS (ZZN) per cell; with ``annual`` on the series divided by its :func:`annual_factor`, multiplied back after."""
    from statsforecast import StatsForecast  # slow import: only when a forecast runs
    from statsforecast.models import AutoETS

    frames, factors = [], {}
    for i, (_, group) in enumerate(groups):
        week, y = group[WEEK].to_numpy(), group["volume"].to_numpy(float)
        if annual:
            past, future = annual_factor(week, y, week.max() + 1 + np.arange(horizon))
            y, factors[i] = y / past, future
        frames.append(pd.DataFrame({"unique_id": i, "ds": week, "y": y}))
    df = pd.concat(frames, ignore_index=True)
    sf = StatsForecast(models=[AutoETS(season_length=1, model="ZZN")], freq=1, n_jobs=1)
    out = sf.forecast(df=df, h=horizon, level=levels) if levels else sf.forecast(df=df, h=horizon)
    out = out.reset_index() if "unique_id" not in out.columns else out
    out = out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    rename = {"ds": WEEK, "AutoETS": "volume"}
    for lv in levels:
        rename[f"AutoETS-lo-{lv}"] = f"volume_lo_{lv}"
        rename[f"AutoETS-hi-{lv}"] = f"volume_hi_{lv}"
    out = out.rename(columns=rename)
    if annual:
        factor = np.concatenate([factors[i] for i in sorted(out["unique_id"].unique())])
        band = [c for c in out.columns if c.startswith("volume")]
        out[band] = out[band].to_numpy() * factor[:, None]
    keys = pd.DataFrame([k for k, _ in groups], columns=CELL_KEYS)
    out = out.merge(keys.rename_axis("unique_id").reset_index(), on="unique_id")
    out["model"] = "fourier_ets" if annual else "auto_ets"
    return out[CELL_KEYS + [WEEK, "volume"] + [c for c in out.columns if c.startswith("volume_")] + ["model"]]


def _window_average(groups, horizon: int, levels: list[int]) -> pd.DataFrame:
    rows = []
    for (queue, language), group in groups:
        y = group["volume"].to_numpy(float)
        recent = y[-4:]
        mean = float(recent.mean())
        sd = float(np.std(y, ddof=1)) if len(y) > 1 else 0.1 * mean
        sd *= np.sqrt(1 + 1 / len(recent))
        first = int(group[WEEK].max()) + 1
        for k in range(horizon):
            row = {QUEUE: queue, LANGUAGE: language, WEEK: first + k, "volume": mean, "model": "window_average"}
            for lv in levels:
                z = NormalDist().inv_cdf(0.5 + lv / 200)
                row[f"volume_lo_{lv}"] = mean - z * sd
                row[f"volume_hi_{lv}"] = mean + z * sd
            rows.append(row)
    return pd.DataFrame(rows)


def _future_event_factor(fc: pd.DataFrame, events: pd.DataFrame, start: pd.Timestamp) -> np.ndarray:
    factor = np.ones(len(fc))
    week_start = start + pd.to_timedelta(fc[WEEK].to_numpy() * 7, unit="D")
    for ev in events.itertuples(index=False):
        if ev.end <= start:
            continue
        lo = np.maximum(week_start.asi8, ev.start.value)
        hi = np.minimum((week_start + pd.Timedelta(days=7)).asi8, ev.end.value)
        share = np.clip((hi - lo) / pd.Timedelta(days=7).value, 0.0, 1.0)
        mask = np.ones(len(fc), bool)
        if "*" not in ev.queues:
            mask &= fc[QUEUE].isin(ev.queues).to_numpy()
        if "*" not in ev.languages:
            mask &= fc[LANGUAGE].isin(ev.languages).to_numpy()
        factor *= np.where(mask, 1.0 + (float(ev.multiplier) - 1.0) * share, 1.0)
    return factor


def week_starts(start: pd.Timestamp, weeks: int) -> pd.DatetimeIndex:
    """The first instant (UTC midnight) of each plan week."""
    return pd.date_range(start, periods=weeks, freq="7D")


__all__ = ["weekly_history", "forecast_weekly", "week_starts", "WEEK_START"]
