"""Weekly volume per (queue, language): totals from the hourly history, then a weekly forecast with intervals.

Weeks are anchored at the plan start (``[planning] start``, UTC midnight): week ``k`` of history covers
``[start + 7k d, start + 7(k+1) d)`` for ``k < 0``; only complete weeks (every interval of the cell's step
present) are used, so a cell launched mid-week starts at its first full week. Past events
(``events.csv``) are divided out of the hourly volume before summing, as the hourly forecast does; future
events multiply a forecast week by ``1 + (multiplier - 1) x share of the week's hours inside the event``.

Model: statsforecast ``AutoETS`` (non-seasonal: error, trend and damping chosen by AICc) on each cell's
weekly totals, with its prediction intervals. A year of weekly history is too short to estimate an
annual season reliably, so none is fitted (long-range seasonality such as holidays is not modelled).
Cells with fewer than :data:`MIN_WEEKS_ETS` complete weeks get the mean of their last (up to) four weeks
with normal intervals from the weekly standard deviation (model ``window_average``). Negative values
are clipped to zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from capplan.schema import CELL_KEYS, INTERVAL_START, LANGUAGE, QUEUE, WEEK, WEEK_START

MIN_WEEKS_ETS = 8
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
        ``model``; volumes in items per week, never negative.
    """
    need = sorted(set(levels) | ({QUANTILE_LEVEL[quantile]} if quantile != 50 else set()))
    last = weekly.groupby(CELL_KEYS, sort=True)[WEEK].max()
    horizon = int(weeks + (-1 - last.min())) if len(last) else weeks  # weeks between history end and plan start too
    long, short = [], []
    for key, group in weekly.groupby(CELL_KEYS, sort=True):
        (long if len(group) >= MIN_WEEKS_ETS else short).append((key, group))
    parts = []
    if long:
        parts.append(_ets(long, horizon, need))
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
    return fc.sort_values(CELL_KEYS + [WEEK], kind="stable").reset_index(drop=True)


def _ets(groups, horizon: int, levels: list[int]) -> pd.DataFrame:
    from statsforecast import StatsForecast  # slow import: only when a forecast runs
    from statsforecast.models import AutoETS

    frames = []
    for i, (_, group) in enumerate(groups):
        frames.append(pd.DataFrame({"unique_id": i, "ds": group[WEEK].to_numpy(), "y": group["volume"].to_numpy(float)}))
    df = pd.concat(frames, ignore_index=True)
    sf = StatsForecast(models=[AutoETS(season_length=1, model="ZZN")], freq=1, n_jobs=1)
    out = sf.forecast(df=df, h=horizon, level=levels)
    out = out.reset_index() if "unique_id" not in out.columns else out
    keys = pd.DataFrame([k for k, _ in groups], columns=CELL_KEYS)
    out = out.merge(keys.rename_axis("unique_id").reset_index(), on="unique_id")
    rename = {"ds": WEEK, "AutoETS": "volume"}
    for lv in levels:
        rename[f"AutoETS-lo-{lv}"] = f"volume_lo_{lv}"
        rename[f"AutoETS-hi-{lv}"] = f"volume_hi_{lv}"
    out = out.rename(columns=rename)
    out["model"] = "auto_ets"
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
                z = float(norm.ppf(0.5 + lv / 200))
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
