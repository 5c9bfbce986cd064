"""Scenario dispersion (optimize/stochastic.py, docs/risk.md "Calibration on real arrivals"): a day-level swing of the
backtest reaches the scenarios whole, and its size moves with the forecast level only as the fitted scale says."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from capplan.optimize.stochastic import draw_scenarios
from _optimize_data import config

RATIOS = [1.2, 1.0, 0.9]  # the backtest's three days: actual / forecast, every hour of the day


def _errors(f: float = 10.0) -> pd.DataFrame:
    hours = np.arange(24 * len(RATIOS))
    return pd.DataFrame({"queue": "q", "language": "en", "window": 0, "origin": pd.Timestamp("2025-12-01", tz="UTC"),
                         "hour": hours, "forecast": f, "actual": np.repeat(RATIOS, 24) * f})


def _forecast(cfg, f: float) -> pd.DataFrame:
    start = pd.Timestamp(dt.datetime.combine(cfg.planning.start, dt.time(0)), tz="UTC")
    out = pd.DataFrame({"queue": "q", "language": "en", "volume": f, "model": "x",
                        "interval_start": pd.date_range(start, periods=24 * cfg.planning.plan_days, freq="h")})
    for level in cfg.forecast.levels:
        out[f"volume_lo_{level}"] = out[f"volume_hi_{level}"] = f
    return out


def _day_ratios(frame: pd.DataFrame, f: float) -> np.ndarray:
    return frame["volume"].to_numpy().reshape(-1, 24).sum(axis=1) / (24 * f)


def test_a_day_level_swing_is_not_shrunk_at_the_backtest_level():
    # plan forecast = backtest forecast: v = f + z s(f) = y whatever (a, c) were fitted, so the days are +20 %, 0, -10 %
    cfg = config(plan_days=3)
    got = draw_scenarios(_forecast(cfg, 10.0), _errors(10.0), cfg, n=1)
    assert got.blocks == [(0, 0)]
    assert _day_ratios(got.forecasts[0], 10.0) == pytest.approx(RATIOS, abs=1e-9)


def test_a_swing_moves_with_the_level_between_poisson_and_multiplicative_scaling():
    # at 4 x the backtest level the +20 % day (2 items an hour over 10) becomes between 2 sqrt(41 / 11) items over 40
    # (variance a (f + 1), Poisson-like: 9.7 %) and 8 over 40 (variance c (f + 1)^2, a relative swing: 20 %), as
    # s(f)^2 = a (f + 1) + c (f + 1)^2 puts it; a fit with c = 0 would shrink every day-level swing of a growing cell
    cfg = config(plan_days=3)
    up = _day_ratios(draw_scenarios(_forecast(cfg, 40.0), _errors(10.0), cfg, n=1).forecasts[0], 40.0)[0] - 1.0
    assert 2 * np.sqrt(41 / 11) / 40 - 1e-9 <= up <= 0.2 + 1e-9
