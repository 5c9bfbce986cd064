"""Small synthetic histories for the forecast tests (owned by the forecast tests)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from capplan.config import Config

START = dt.date(2026, 3, 2)  # a Monday


def daily_shape() -> np.ndarray:
    h = np.arange(24)
    return 1.0 + 0.8 * np.exp(-((h - 14) ** 2) / 18.0)


def weekly_mean(level: float) -> np.ndarray:
    """Deterministic hourly mean for one week (168 values), weekday/weekend pattern."""
    day = np.array([1.0, 1.05, 1.0, 1.1, 1.15, 0.8, 0.7])
    shape = daily_shape() / daily_shape().sum() * 24
    return level * (day[:, None] * shape[None, :]).reshape(-1)


def history(cells: dict[tuple[str, str], float], weeks: int = 10, end: dt.date = START, noise: bool = True,
            seed: int = 0, sparse: set[tuple[str, str]] = frozenset()) -> pd.DataFrame:
    """Hourly history ending at ``end`` 00:00 UTC (exclusive), one row per cell-hour.

    ``cells`` maps (queue, language) -> mean items per hour; cells in ``sparse`` get Poisson
    volumes with a tiny mean. ``noise=False`` gives an exact repeating weekly pattern.
    """
    rng = np.random.default_rng(seed)
    n = weeks * 168
    start = pd.Timestamp(end) - pd.Timedelta(hours=n)
    times = pd.date_range(start, periods=n, freq="h", tz="UTC")
    frames = []
    for (q, lang), level in sorted(cells.items()):
        mean = np.roll(np.tile(weekly_mean(level), weeks), -times[0].weekday() * 24)
        if (q, lang) in sparse:
            y = rng.poisson(np.full(n, level))
        elif noise:
            y = rng.poisson(mean)
        else:
            y = mean
        frames.append(pd.DataFrame({"interval_start": times, "queue": q, "language": lang, "volume": y.astype(float)}))
    return pd.concat(frames, ignore_index=True)


def config(**forecast) -> Config:
    """Test config: 3 one-week backtest windows (the histories here are 6-10 weeks long)."""
    cfg = Config()
    cfg.planning.start = START
    cfg.planning.horizon_days = 14
    forecast = {"backtest_windows": 3, "backtest_horizon_days": 7, **forecast}
    for k, v in forecast.items():
        setattr(cfg.forecast, k, v)
    return cfg


def no_events() -> pd.DataFrame:
    return pd.DataFrame(columns=["name", "start", "end", "queues", "languages", "multiplier"])


def events(rows: list[tuple]) -> pd.DataFrame:
    """rows: (name, start, end, queues tuple, languages tuple, multiplier), times as strings (UTC)."""
    df = pd.DataFrame(rows, columns=["name", "start", "end", "queues", "languages", "multiplier"])
    df["start"] = pd.to_datetime(df["start"], utc=True)
    df["end"] = pd.to_datetime(df["end"], utc=True)
    return df
