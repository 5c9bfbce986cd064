"""Unit tests of the forecast building blocks (no statsforecast fits): panel, profile, events,
intervals, charts."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from _forecast_data import START, config, events, history
from capplan.errors import ConfigError, InputError
from capplan.config import parse_config
from capplan.forecast import daily
from capplan.forecast.events import adjust_history, event_multipliers
from capplan.forecast.intervals import apply_intervals, fit_intervals, loo_coverage
from capplan.forecast.panel import build_panel


# --- panel ---------------------------------------------------------------------------------------

def test_panel_sums_finer_history_to_hours_and_fills_gaps_with_zero():
    h = history({("video", "en"): 4.0}, weeks=3, noise=False)
    # split every hour into four 15-minute rows of a quarter each, then drop two rows
    quarters = pd.concat([h.assign(interval_start=h["interval_start"] + pd.Timedelta(minutes=15 * k),
                                   volume=h["volume"] / 4) for k in range(4)], ignore_index=True)
    quarters = quarters.drop(index=[10, 11]).reset_index(drop=True)  # hour 10 and 11 lose one quarter each
    gone = h.loc[[200], "interval_start"].iloc[0]
    quarters = quarters[~quarters["interval_start"].between(gone, gone + pd.Timedelta(minutes=45))]
    warnings: list[str] = []
    p = build_panel(quarters, config(), warnings)
    assert p.values.shape == (1, 3 * 168)
    expected = h["volume"].to_numpy().copy()
    expected[10] -= h["volume"].iloc[10] / 4
    expected[11] -= h["volume"].iloc[11] / 4
    expected[200] = 0.0  # a whole missing hour reads as zero
    np.testing.assert_allclose(p.values[0], expected)
    assert p.filled_zero.tolist() == [1]
    assert any("read as zero" in w for w in warnings)


def test_panel_rejects_history_ending_long_before_the_start():
    h = history({("video", "en"): 4.0}, weeks=3, end=START - pd.Timedelta(days=21))
    with pytest.raises(InputError) as err:
        build_panel(h, config(), [])
    msg = str(err.value)
    assert "21 days before the planning start" in msg and "max_history_gap_days" in msg


def test_panel_rejects_daily_history_and_missing_columns():
    h = history({("video", "en"): 4.0}, weeks=3)
    daily_rows = h[h["interval_start"].dt.hour == 0]
    with pytest.raises(InputError, match="coarser than hourly"):
        build_panel(daily_rows, config(), [])
    with pytest.raises(InputError, match="missing column"):
        build_panel(h.drop(columns=["volume"]), config(), [])


def test_panel_keeps_a_last_business_day_that_ends_at_the_usual_closing_hour():
    h = history({("calls", "en"): 5.0}, weeks=5)
    open_hours = h[h["interval_start"].dt.hour.between(7, 20)]  # rows 07:00-20:00 only, nights omitted
    warnings: list[str] = []
    p = build_panel(open_hours, config(), warnings)
    assert p.end == pd.Timestamp(START)  # the last day is complete, not dropped
    assert not any("partial day" in w for w in warnings)
    early = open_hours[open_hours["interval_start"] < open_hours["interval_start"].max() - pd.Timedelta(hours=4)]
    p = build_panel(early, config(), warnings)
    assert p.end == pd.Timestamp(START) - pd.Timedelta(days=1)  # closed 4 h early: partial, dropped
    assert any("partial day" in w for w in warnings)


def test_panel_drops_partial_last_day_and_rows_after_the_start():
    h = history({("video", "en"): 4.0}, weeks=3)
    extra = h.iloc[-5:].assign(interval_start=lambda d: d["interval_start"] + pd.Timedelta(hours=5))  # after start
    partial = h[h["interval_start"] < h["interval_start"].max() - pd.Timedelta(hours=3)]
    warnings: list[str] = []
    p = build_panel(pd.concat([partial, extra]), config(), warnings)
    assert p.n_days == 3 * 7 - 1
    assert any("partial day" in w for w in warnings) and any("ignored" in w for w in warnings)


def test_unknown_model_name_is_a_config_error_listing_valid_names():
    with pytest.raises(ConfigError) as err:
        parse_config({"forecast": {"models": ["seasonal_naive", "prophet"]}})
    assert "prophet" in str(err.value) and "daily_ets" in str(err.value) and "imapa" in str(err.value)


# --- daily profile -------------------------------------------------------------------------------

def test_profile_is_hand_checkable_and_spread_keeps_daily_totals():
    # 14 days; Monday volume all in hour 3 (10 items), every other day flat 1/hour
    vals = np.ones((1, 14 * 24))
    for d in (0, 7):
        vals[0, d * 24: d * 24 + 24] = 0
        vals[0, d * 24 + 3] = 10
    prof = daily.intraday_profile(vals, start_weekday=0, origin_day=14, weeks=2, prior=0.0)
    assert prof.shape == (1, 7, 24)
    np.testing.assert_allclose(prof.sum(axis=2), 1.0)
    assert prof[0, 0, 3] == pytest.approx(1.0) and prof[0, 0, 4] == 0.0
    np.testing.assert_allclose(prof[0, 2], 1 / 24)
    # the prior pulls a weekday toward the pooled profile: (N + a p) / (N_day + a)
    a = 48.0
    prof_p = daily.intraday_profile(vals, 0, 14, 2, prior=a)
    pooled3 = (20 + 12 * 24 / 24 * 0 + 12 + a / 24) / (20 + 12 * 24 + a)  # hour 3: Mondays 20, 12 other days 1 each
    assert prof_p[0, 0, 3] == pytest.approx((20 + a * pooled3) / (20 + a))
    totals = np.array([[5.0, 7.0, 9.0]])
    spread = daily.spread(totals, prof, start_weekday=0, first_day=14)
    np.testing.assert_allclose(spread.reshape(1, 3, 24).sum(axis=2), totals)
    assert spread[0, 3] == pytest.approx(5.0)  # day 14 is a Monday


# --- events --------------------------------------------------------------------------------------

def test_event_multipliers_and_history_adjustment():
    cells = pd.DataFrame({"queue": ["video", "video", "photo"], "language": ["en", "pt", "pt"]})
    hours = pd.date_range("2026-01-05", periods=24 * 21, freq="h")
    ev = events([
        ("surge", "2026-01-13T00:00:00Z", "2026-01-14T00:00:00Z", ("video",), ("*",), 2.0),
        ("outage", "2026-01-20T10:00:00Z", "2026-01-20T12:00:00Z", ("*",), ("pt",), 0.0),
        ("later", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z", ("*",), ("*",), 3.0),
    ])
    m = event_multipliers(ev, cells, hours)
    day8 = slice(8 * 24, 9 * 24)
    assert (m[:2, day8] == 2.0).all() and (m[2, day8] == 1.0).all()
    assert m[1, 15 * 24 + 10] == 0.0 and m[0, 15 * 24 + 10] == 1.0
    vals = np.tile(np.arange(168, dtype=float) + 1, (3, 3))
    vals[:2, day8] *= 2.0
    vals[1, 15 * 24 + 10: 15 * 24 + 12] = 0.0
    adj, count = adjust_history(vals, m)
    expected = np.tile(np.arange(168, dtype=float) + 1, (3, 3))
    np.testing.assert_allclose(adj, expected)  # surge divided out, outage replaced by the week before
    assert count == 2 * 24 + 2 + 2  # surge on two cells; outage on two pt cells x 2 hours
    assert event_multipliers(ev.iloc[2:], cells, hours) is None


# --- intervals -----------------------------------------------------------------------------------

def test_fit_intervals_recovers_normal_quantiles_for_constant_scale():
    rng = np.random.default_rng(1)
    f = np.full((1, 20000), 100.0)
    y = f + 10.0 * rng.standard_normal(f.shape)
    model = fit_intervals(y, f, [80, 95])
    lo, hi = apply_intervals(f[:, :1], model)
    for j, lv in enumerate([80, 95]):
        z = NormalDist().inv_cdf(0.5 + lv / 200)
        assert hi[0, j, 0] == pytest.approx(100 + 10 * z, rel=0.01)
        assert lo[0, j, 0] == pytest.approx(100 - 10 * z, rel=0.01)


def test_bands_are_monotone_nonnegative_and_calibrated_on_poisson_counts():
    rng = np.random.default_rng(2)
    mean = np.tile(5 + 40 * (np.sin(np.arange(168) / 24 * 2 * np.pi) + 1), (30, 3)).reshape(30, 3, 168)
    y = rng.poisson(mean).astype(float)
    cov = loo_coverage(y, mean, [80, 95])
    assert abs(cov[:, 0].mean() - 0.80) < 0.03 and abs(cov[:, 1].mean() - 0.95) < 0.02
    model = fit_intervals(y.reshape(30, -1), mean.reshape(30, -1), [80, 95])
    pred = np.concatenate([mean[:, 0], np.zeros((30, 5))], axis=1)
    lo, hi = apply_intervals(pred, model)
    assert (lo >= 0).all()
    assert (lo[:, 1] <= lo[:, 0]).all() and (lo[:, 0] <= pred).all()
    assert (pred <= hi[:, 0]).all() and (hi[:, 0] <= hi[:, 1]).all()


# --- charts --------------------------------------------------------------------------------------

def test_charts_write_one_png_per_queue(tmp_path):
    t = pd.date_range("2026-03-02", periods=48, freq="h", tz="UTC")
    fc = pd.DataFrame({"queue": ["video"] * 48 + ["photo/x"] * 48, "language": "en",
                       "interval_start": list(t) * 2, "volume": 5.0, "volume_lo_80": 4.0, "volume_hi_80": 6.0,
                       "model": "m"})
    hist = fc[["queue", "language", "interval_start", "volume"]].assign(
        interval_start=lambda d: d["interval_start"] - pd.Timedelta(days=2))
    from capplan.forecast.charts import write_charts

    paths = write_charts(hist, fc, tmp_path / "charts")
    assert [p.name for p in paths] == ["forecast_photo_x.png", "forecast_video.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_panel_warns_about_mixed_granularities():
    h = history({("video", "en"): 4.0, ("photo", "en"): 2.0}, weeks=3, noise=False)
    video = h[h["queue"] == "video"]
    early, late = video.iloc[:200], video.iloc[200:]
    quarters = pd.concat([late.assign(interval_start=late["interval_start"] + pd.Timedelta(minutes=15 * k),
                                      volume=late["volume"] / 4) for k in range(4)])
    mixed = pd.concat([early, quarters, h[h["queue"] == "photo"]], ignore_index=True)
    warnings: list[str] = []
    p = build_panel(mixed, config(), warnings)
    assert any("mix whole-hour rows" in w and "video/en: 200 hour(s)" in w for w in warnings)
    np.testing.assert_allclose(np.nansum(p.values), h["volume"].sum())  # summed per hour, nothing lost
    warnings.clear()
    build_panel(h, config(), warnings)
    assert not any("mix whole-hour" in w for w in warnings)
