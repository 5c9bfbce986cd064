"""Hand-checkable tests of the numpy candidates, the combination, the paired-test model choice and the
pooled profile; plus the metric code of the real-data benchmark."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from capplan.config import parse_config
from capplan.errors import ConfigError
from capplan.forecast import daily, simple
from capplan.forecast.backtest import combine
from capplan.forecast.choice import choose, paired_t, window_weights


def _weeks(values: list[float]) -> np.ndarray:
    """One cell whose every hour of week ``i`` is ``values[i]``."""
    return np.concatenate([np.full(168, v) for v in values])[None, :]


def test_seasonal_naive_and_mean_of_the_last_weeks():
    h = _weeks([1, 2, 3, 4])
    np.testing.assert_allclose(simple.seasonal_naive(h, 28, 14), 4.0)
    np.testing.assert_allclose(simple.seasonal_mean(h, 28, 14, weeks=4), 2.5)
    np.testing.assert_allclose(simple.seasonal_mean(h, 28, 14, weeks=2), 3.5)
    # the origin inside the history: only the weeks before it count
    np.testing.assert_allclose(simple.seasonal_mean(h, 21, 7, weeks=4), 2.0)


def test_seasonal_mean_keeps_the_hour_of_week_shape_and_skips_missing_weeks():
    week = np.arange(168.0)
    h = np.concatenate([np.full(168, np.nan), week, week + 2])[None, :]
    out = simple.seasonal_mean(h, 21, 14, weeks=3)
    np.testing.assert_allclose(out[0, :168], week + 1)
    np.testing.assert_allclose(out[0, 168:], week + 1)


def test_level_after_shift_finds_a_clear_shift_and_ignores_noise():
    rng = np.random.default_rng(0)
    shifted = np.concatenate([100 + rng.normal(0, 2, 50), 150 + rng.normal(0, 2, 14)])[None, :]
    level, days = simple.level_after_shift(shifted)
    assert days[0] == 14 and level[0] == pytest.approx(150, abs=2)
    flat = (100 + rng.normal(0, 2, 64))[None, :]
    level, days = simple.level_after_shift(flat)
    assert days[0] == 0 and level[0] == pytest.approx(np.median(flat[0, -28:]))


def test_daily_shift_is_new_level_times_weekday_factor():
    factors = np.array([1.2, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9])  # mean 1
    level = np.r_[np.full(49, 100.0), np.full(14, 140.0)]  # a shift two weeks before the origin
    daily_totals = level * factors[np.arange(63) % 7]
    hourly = np.repeat(daily_totals / 24.0, 24)[None, :]
    out = simple.daily_shift(hourly, start_weekday=0, origin_day=63, horizon_days=7, profile_weeks=8)
    got = out.reshape(7, 24).sum(axis=1)
    # weekday factors come from 8 weeks that straddle the shift: their ratio is still exact
    np.testing.assert_allclose(got, 140.0 * factors, rtol=1e-9)


def test_paired_t_by_hand():
    base = np.array([[3.0, 3.0, 3.0]])
    other = np.array([[2.0, 2.0, 1.0]])
    # d = 1, 1, 2: mean 4/3, sample variance 1/3, standard error 1/3 -> t = 4
    assert paired_t(base, other, np.ones(3))[0] == pytest.approx(4.0)
    assert paired_t(base, base - 0.5, np.ones(3))[0] == np.inf  # a constant margin
    assert np.isnan(paired_t(base[:, :1], other[:, :1], np.ones(1))[0])


def test_window_weights_halve_every_half_life():
    np.testing.assert_allclose(window_weights(5, 2.0), [0.25, 0.5 ** 1.5, 0.5, 0.5 ** 0.5, 1.0])


def test_choice_keeps_the_naive_unless_the_win_beats_the_window_noise():
    naive = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    noisy = np.array([[0.4, 1.5, 0.4, 1.4], [0.8, 0.82, 0.79, 0.81]])  # row 0 lower on average but noisy
    chosen, scores, t = choose({"seasonal_naive": naive, "seasonal_mean": noisy}, ["seasonal_naive", "seasonal_mean"],
                               "seasonal_naive", half_life=1e9, min_t=1.5)
    assert scores["seasonal_mean"][0] < scores["seasonal_naive"][0] and t[0] < 1.5
    assert list(chosen) == ["seasonal_naive", "seasonal_mean"]
    # without the baseline's backtest (NaN) the best model wins
    failed = np.full_like(naive, np.nan)
    chosen, _, _ = choose({"seasonal_naive": failed, "seasonal_mean": noisy}, ["seasonal_naive", "seasonal_mean"],
                          "seasonal_naive", half_life=4, min_t=1.5)
    assert list(chosen) == ["seasonal_mean", "seasonal_mean"]


def test_recent_windows_weigh_more_in_the_score():
    old_good = np.array([[0.5, 0.5, 2.0]])
    recent_good = np.array([[2.0, 0.9, 0.9]])
    _, scores, _ = choose({"a": old_good, "b": recent_good}, ["a", "b"], "a", half_life=0.5, min_t=0.0)
    assert scores["b"][0] < scores["a"][0]
    _, scores, _ = choose({"a": old_good, "b": recent_good}, ["a", "b"], "a", half_life=1e9, min_t=0.0)
    assert scores["a"][0] < scores["b"][0]  # equal weights: plain means 1.0 vs 1.267


def test_combine_is_the_median_of_full_members():
    preds = {"a": np.array([[1.0, 1.0], [1.0, 1.0]]), "b": np.array([[2.0, 2.0], [2.0, np.nan]]),
             "c": np.array([[10.0, 10.0], [10.0, 10.0]])}
    out = combine(preds, ["a", "b", "c"])
    np.testing.assert_allclose(out[0], 2.0)
    assert np.isnan(out[1]).all()  # only two full members in row 1


def test_thin_cell_borrows_its_groups_intraday_shape():
    busy = np.zeros((14, 24))
    busy[:, 9:17] = 50.0  # a language's busy cell: open 09-17
    hourly = np.stack([busy.reshape(-1), np.zeros(14 * 24)])  # the second cell has no volume yet
    flat = daily.intraday_profile(hourly, 0, 14, 2)
    pooled = daily.intraday_profile(hourly, 0, 14, 2, groups=np.array([0, 0]))
    np.testing.assert_allclose(flat[1], 1 / 24)
    assert pooled[1, 0, 9:17].sum() > 0.95 and pooled.sum(axis=2) == pytest.approx(1.0)


def test_combo_needs_three_members():
    with pytest.raises(ConfigError, match="combo"):
        parse_config({"forecast": {"models": ["seasonal_naive", "croston", "combo"]}})
    parse_config({"forecast": {"models": ["seasonal_naive", "seasonal_mean", "daily_shift", "combo"]}})


def _bench():
    path = Path(__file__).parents[1] / "bench" / "forecast_real.py"
    spec = importlib.util.spec_from_file_location("forecast_real", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_real_benchmark_metrics_by_hand():
    bench = _bench()
    train = np.tile(np.r_[np.full(84, 2.0), np.full(84, 4.0)], 2)[None, :]  # 2 weeks, naive error 0
    train[0, 168:] += 1.0  # week 2 one higher: in-sample naive MAE = 1
    actual = np.full((1, 10), 5.0)
    pred = np.r_[np.full(5, 4.0), np.full(5, 7.0)][None, :]  # errors 1 x 5 and 2 x 5
    s = bench.cell_scores(train, actual, pred)
    assert s["abs_err"][0] == 15.0 and s["actual"][0] == 50.0 and s["mase"][0] == pytest.approx(1.5)
    np.testing.assert_allclose(bench.seasonal_naive(train, 200)[0, :168], train[0, 168:])


def test_outage_mid_series_is_replaced_but_a_final_level_drop_is_kept():
    from capplan.forecast.clean import replace_dips

    week = np.r_[np.full(24 * 5, 10.0), np.full(48, 4.0)]  # weekdays 240 items a day, weekends 96
    hourly = np.tile(week, 10)[None, :]
    out_ = hourly.copy()
    out_[0, 24 * 30: 24 * 40] = 0.0  # a ten-day outage in the middle
    cleaned, n = replace_dips(out_, 0.5)
    assert n == 10
    np.testing.assert_allclose(cleaned, hourly)
    drop = hourly.copy()
    drop[0, 24 * 56:] *= 0.3  # the last two weeks at 30 %: a level change, not an outage
    cleaned, n = replace_dips(drop, 0.5)
    assert n == 0 and np.array_equal(cleaned, drop)
    thin = np.random.default_rng(1).poisson(0.3, (3, 24 * 70)).astype(float)  # ~7 items a day: never judged
    assert replace_dips(thin, 0.5)[1] == 0
    assert replace_dips(out_, 0.0)[1] == 0  # off


def test_unknown_holiday_country_is_a_clear_config_error():
    with pytest.raises(ConfigError, match="'XX'.*holidays package"):
        parse_config({"forecast": {"holiday_countries": {"*": "XX"}}})
    with pytest.raises(ConfigError, match="AU-ZZ"):
        parse_config({"forecast": {"holiday_countries": {"en": "AU-ZZ"}}})
    parse_config({"forecast": {"holiday_countries": {"*": "US", "en": "au-vic"}}})


def test_holiday_in_the_horizon_is_forecast_with_its_past_effect():
    import holidays
    import pandas as pd

    from _forecast_data import config, history
    from capplan.forecast.run import run_forecast

    end = pd.Timestamp("2026-12-21")  # Monday; 25 December (Friday) and 1 January are in the horizon
    h = history({("video", "en"): 30.0, ("video", "es"): 30.0}, weeks=58, end=end.date(), seed=2)
    t = h["interval_start"].dt.tz_localize(None).dt.normalize()
    us = [pd.Timestamp(d) for d in holidays.country_holidays("US", years=[2025, 2026])]
    h.loc[t.isin(us) & (h["language"] == "en"), "volume"] *= 0.4  # US holidays at 40 % in the English cell
    cfg = config(models=["seasonal_naive", "seasonal_mean", "daily_shift"], holiday_countries={"en": "US"})
    cfg.planning.start = end.date()
    r = run_forecast(h, None, cfg)
    fc = r.forecast.assign(day=r.forecast["interval_start"].dt.tz_localize(None).dt.normalize())
    daily = fc.groupby(["language", "day"])["volume"].sum()
    ratio = daily["en"] / daily["es"]
    # last Christmas (a Thursday, ~790 items usually) at 40 %, shrunk toward 1 by 20 items: ~0.42
    assert ratio[pd.Timestamp("2026-12-25")] == pytest.approx(0.42, abs=0.05)
    assert ratio[pd.Timestamp("2027-01-01")] == pytest.approx(0.42, abs=0.05)
    assert ratio[pd.Timestamp("2026-12-24")] == pytest.approx(1.0, abs=0.1)  # an ordinary day
    assert any(w.startswith("holidays: 2 public holiday day(s)") for w in r.warnings)
    # with half a year of history last Christmas is unseen: not adjusted, and said so
    short = run_forecast(h[h["interval_start"] >= h["interval_start"].max() - pd.Timedelta(weeks=26)], None, cfg)
    assert any("no past occurrence" in w for w in short.warnings)
    fs = short.forecast.assign(day=short.forecast["interval_start"].dt.tz_localize(None).dt.normalize())
    d2 = fs.groupby(["language", "day"])["volume"].sum()
    assert (d2["en"] / d2["es"])[pd.Timestamp("2026-12-25")] == pytest.approx(1.0, abs=0.12)
