"""run_forecast end to end on small synthetic histories (statsforecast fits, a few seconds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _forecast_data import START, config, events, history, no_events, weekly_mean
from capplan.errors import InputError
from capplan.forecast.run import ForecastResult, run_forecast

FAST = ["seasonal_naive", "daily_theta", "croston"]
CELLS = {("video", "en"): 40.0, ("video", "es"): 8.0, ("photo", "en"): 0.05, ("photo", "es"): 0.0}


@pytest.fixture(scope="module")
def result() -> ForecastResult:
    h = history(CELLS, weeks=8, sparse={("photo", "en")})
    h.loc[(h["queue"] == "photo") & (h["language"] == "es"), "volume"] = 0.0
    stages = []
    r = run_forecast(h, no_events(), config(models=FAST), progress=lambda s, f: stages.append((s, f)))
    r.stages = stages
    return r


def test_forecast_table_shape_columns_and_times(result):
    fc = result.forecast
    assert list(fc.columns) == ["queue", "language", "interval_start", "volume", "volume_lo_80", "volume_hi_80",
                                "volume_lo_95", "volume_hi_95", "model"]
    assert len(fc) == 4 * 14 * 24
    assert str(fc["interval_start"].dt.tz) == "UTC"
    first = fc.groupby(["queue", "language"])["interval_start"].agg(["min", "max", "count"])
    assert (first["min"] == pd.Timestamp(START, tz="UTC")).all()
    assert (first["max"] == pd.Timestamp(START, tz="UTC") + pd.Timedelta(hours=14 * 24 - 1)).all()
    assert fc.equals(fc.sort_values(["queue", "language", "interval_start"]).reset_index(drop=True))
    assert fc["volume"].notna().all() and (fc["volume"] >= 0).all()


def test_intervals_are_monotone_and_nonnegative(result):
    fc = result.forecast
    assert (fc["volume_lo_95"] >= 0).all()
    assert (fc["volume_lo_95"] <= fc["volume_lo_80"]).all()
    assert (fc["volume_lo_80"] <= fc["volume"]).all()
    assert (fc["volume"] <= fc["volume_hi_80"]).all()
    assert (fc["volume_hi_80"] <= fc["volume_hi_95"]).all()
    busy = fc[(fc["queue"] == "video") & (fc["language"] == "en")]
    assert (busy["volume_hi_95"] > busy["volume"]).all()  # a real band, not a point


def test_all_zero_cell_forecasts_zero_without_a_fit(result):
    z = result.forecast[(result.forecast["queue"] == "photo") & (result.forecast["language"] == "es")]
    assert (z[["volume", "volume_lo_95", "volume_hi_95"]].to_numpy() == 0).all()
    assert set(z["model"]) == {"zero"}
    assert not ((result.backtest["queue"] == "photo") & (result.backtest["language"] == "es")).any()


def test_backtest_has_every_candidate_and_one_chosen_per_cell(result):
    bt = result.backtest
    for (q, lang), g in bt.groupby(["queue", "language"]):
        assert sorted(g["model"]) == sorted(FAST)
        assert g["chosen"].sum() == 1
        assert sorted(g["rank"]) == [1, 2, 3]
        assert g.loc[g["chosen"], "rank"].item() == 1
        chosen_model = g.loc[g["chosen"], "model"].item()
        fc_model = set(result.forecast.loc[(result.forecast["queue"] == q) & (result.forecast["language"] == lang), "model"])
        assert fc_model == {chosen_model}
    sparse = bt[(bt["queue"] == "photo") & (bt["language"] == "en")]
    assert sparse["sparse"].all() and (sparse["metric"] == "wape").all()
    assert {"mase", "wape", "coverage_80", "coverage_95"} <= set(bt.columns)


def test_busy_cells_beat_the_seasonal_naive_and_bands_cover(result):
    bt = result.backtest
    busy = bt[(bt["queue"] == "video") & (bt["language"] == "en")].set_index("model")
    assert busy.loc["daily_theta", "mase"] < busy.loc["seasonal_naive", "mase"]
    chosen = bt[bt["chosen"]]
    assert chosen["coverage_80"].mean() == pytest.approx(0.8, abs=0.1)
    assert chosen["coverage_95"].mean() == pytest.approx(0.95, abs=0.06)
    assert result.summary["model"].iloc[-1] == "all"


def test_progress_and_timings_cover_every_stage(result):
    stages = ["prepare", "backtest", "choose", "fit", "intervals", "finish"]
    assert list(result.timings) == stages
    seen = [s for s, _ in result.stages]
    assert [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s] == stages
    assert all(0 <= f <= 1 for _, f in result.stages)


def test_pure_weekly_pattern_is_recovered_exactly():
    h = history({("video", "en"): 20.0}, weeks=6, noise=False)
    r = run_forecast(h, no_events(), config(models=["seasonal_naive", "daily_theta"]))
    bt = r.backtest.set_index("model")
    assert bt.loc["seasonal_naive", "mase"] == pytest.approx(0.0, abs=1e-9) or np.isnan(bt.loc["seasonal_naive", "mase"])
    assert bt.loc["seasonal_naive", "wape"] == pytest.approx(0.0, abs=1e-9)
    assert bt.loc["seasonal_naive", "chosen"]
    expected = np.tile(weekly_mean(20.0), 2)  # START is a Monday
    np.testing.assert_allclose(r.forecast["volume"].to_numpy(), expected, rtol=1e-9)
    np.testing.assert_allclose(r.forecast["volume_hi_95"].to_numpy(), expected, rtol=1e-6)  # zero error -> no width


def test_future_event_multiplies_forecast_and_bounds():
    h = history({("video", "en"): 20.0, ("photo", "en"): 5.0}, weeks=5)
    cfg = config(models=["seasonal_naive", "daily_theta"])
    base = run_forecast(h, no_events(), cfg).forecast
    ev = events([("launch", "2026-03-04T00:00:00Z", "2026-03-06T00:00:00Z", ("video",), ("*",), 1.5)])
    r = run_forecast(h, ev, cfg)
    fc = r.forecast
    inside = (fc["queue"] == "video") & (fc["interval_start"] >= "2026-03-04") & (fc["interval_start"] < "2026-03-06")
    assert inside.sum() == 48
    for col in ["volume", "volume_lo_80", "volume_hi_80", "volume_lo_95", "volume_hi_95"]:
        np.testing.assert_allclose(fc.loc[inside, col], 1.5 * base.loc[inside, col])
        np.testing.assert_allclose(fc.loc[~inside, col], base.loc[~inside, col])
    assert any("future events" in w for w in r.warnings)


def test_past_event_is_taken_out_of_training():
    clean = history({("video", "en"): 20.0}, weeks=6, noise=False)
    spiked = clean.copy()
    week = (spiked["interval_start"] >= "2026-02-23") & (spiked["interval_start"] < "2026-03-02")  # the last week
    spiked.loc[week, "volume"] *= 3.0
    cfg = config(models=["seasonal_naive"])
    ev = events([("viral", "2026-02-23T00:00:00Z", "2026-03-02T00:00:00Z", ("*",), ("en",), 3.0)])
    with_event = run_forecast(spiked, ev, cfg).forecast["volume"].to_numpy()
    without = run_forecast(spiked, no_events(), cfg).forecast["volume"].to_numpy()
    truth = run_forecast(clean, no_events(), cfg).forecast["volume"].to_numpy()
    np.testing.assert_allclose(with_event, truth, rtol=1e-9)  # the spike is divided out
    np.testing.assert_allclose(without, 3 * truth, rtol=1e-9)  # naive repeats the spiked week


def test_short_series_falls_back_with_a_warning():
    h = history({("video", "en"): 20.0}, weeks=6)
    new = history({("video", "pt"): 10.0}, weeks=2)  # 14 days: too short for the 3-window backtest
    tiny = history({("video", "fr"): 10.0}, weeks=1)
    tiny = tiny[tiny["interval_start"] >= tiny["interval_start"].max() - pd.Timedelta(hours=4 * 24 - 1)]
    r = run_forecast(pd.concat([h, new, tiny]), no_events(), config(models=["seasonal_naive", "daily_theta"]))
    models = r.forecast.groupby("language")["model"].first()
    assert models["pt"] == "seasonal_naive" and models["fr"] == "daily_mean"
    assert any("too short to backtest" in w for w in r.warnings)
    fb = r.fallbacks.set_index("language")
    assert "only 14 days" in fb.loc["pt", "reason"] and "only 4 days" in fb.loc["fr", "reason"]
    fr = r.forecast[r.forecast["language"] == "fr"].groupby(r.forecast["interval_start"].dt.date)["volume"].sum()
    recent = tiny.groupby(tiny["interval_start"].dt.date)["volume"].sum().mean()
    np.testing.assert_allclose(fr.to_numpy(), recent)  # daily mean x profile keeps the daily total


def test_history_too_old_is_an_input_error():
    h = history({("video", "en"): 20.0}, weeks=6, end=START - pd.Timedelta(days=30))
    with pytest.raises(InputError, match="before the planning start"):
        run_forecast(h, no_events(), config(models=["seasonal_naive"]))


def test_gap_between_history_and_start_and_quarter_hour_intervals():
    h = history({("video", "en"): 20.0}, weeks=6, end=START - pd.Timedelta(days=3))
    cfg = config(models=["seasonal_naive"])
    hourly = run_forecast(h, no_events(), cfg).forecast
    cfg.planning.interval_minutes = 15
    quarter = run_forecast(h, no_events(), cfg).forecast
    assert len(quarter) == 4 * len(hourly)
    assert quarter["interval_start"].iloc[1] - quarter["interval_start"].iloc[0] == pd.Timedelta(minutes=15)
    summed = quarter.groupby(quarter["interval_start"].dt.floor("h"))[["volume", "volume_hi_95"]].sum()
    np.testing.assert_allclose(summed["volume"].to_numpy(), hourly["volume"].to_numpy())
    # the seasonal naive 3 days past the history end is still the same weekday-hour a week back
    hist = h.set_index("interval_start")["volume"]
    t = hourly["interval_start"].iloc[0]
    assert hourly["volume"].iloc[0] == hist[t - pd.Timedelta(days=7)]


def test_runs_are_deterministic():
    h = history({("video", "en"): 20.0, ("video", "es"): 3.0}, weeks=5, seed=3)
    cfg = config(models=["seasonal_naive", "daily_ets", "croston"])
    a, b = run_forecast(h, no_events(), cfg), run_forecast(h, no_events(), cfg)
    pd.testing.assert_frame_equal(a.forecast, b.forecast)
    pd.testing.assert_frame_equal(a.backtest, b.backtest)


def test_demo_workspace_end_to_end(tmp_path):
    demo = pytest.importorskip("capplan.demo")
    from capplan.inputs import load_workspace

    ws = load_workspace(demo.build_demo_workspace(tmp_path / "ws", seed=7, size="small"))
    r = run_forecast(ws.history, ws.events, ws.config)
    cells = ws.history[["queue", "language"]].drop_duplicates()
    assert len(r.forecast) == len(cells) * ws.config.planning.horizon_days * 24
    assert set(r.backtest["model"]) == set(ws.config.forecast.models)
    assert (r.backtest.groupby(["queue", "language"])["chosen"].sum() == 1).all()
    all_row = r.summary.set_index("model").loc["all"]
    assert all_row["wape_pooled"] < all_row["naive_wape_pooled"]  # beats the weekly seasonal naive
    assert r.fallbacks.empty
    # the demo's future event multiplies its cells inside the horizon
    assert any("future events" in w for w in r.warnings)


def test_failing_candidate_is_listed_and_never_crashes(monkeypatch):
    from capplan.forecast import models

    real_build = models.Candidate.build

    class Broken:
        alias = "daily_theta"

        def __repr__(self):
            return "daily_theta"

        def new(self):
            return self

        def __getattr__(self, name):
            raise RuntimeError("theta exploded")

    def build(self):
        return Broken() if self.name == "daily_theta" else real_build(self)

    monkeypatch.setattr(models.Candidate, "build", build)
    h = history({("video", "en"): 20.0}, weeks=5)
    r = run_forecast(h, no_events(), config(models=["seasonal_naive", "daily_theta"]))
    assert set(r.forecast["model"]) == {"seasonal_naive"}
    assert r.forecast["volume"].notna().all()
    fb = r.fallbacks
    assert (fb["model"] == "daily_theta").all() and fb["reason"].str.contains("backtest failed").all()
    bt = r.backtest.set_index("model")
    assert bt.loc["daily_theta", "rank"] == 2 and np.isnan(bt.loc["daily_theta", "mase"])
    # the only candidate fails: the cell still gets a forecast (the weekly seasonal naive)
    r2 = run_forecast(h, no_events(), config(models=["daily_theta"]))
    assert set(r2.forecast["model"]) == {"seasonal_naive"} and (r2.forecast["volume"] > 0).any()
    assert "(all candidates)" in set(r2.fallbacks["model"])


NUMPY_MODELS = ["seasonal_naive", "seasonal_mean", "daily_shift", "combo"]


def test_outage_in_the_middle_is_not_copied_into_the_forecast():
    h = history({("video", "en"): 30.0}, weeks=10, seed=3)
    t = h["interval_start"]
    outage = (t >= t.max() - pd.Timedelta(days=12)) & (t < t.max() - pd.Timedelta(days=5))  # a week of zeros
    h.loc[outage, "volume"] = 0.0
    r = run_forecast(h, no_events(), config(models=NUMPY_MODELS))
    assert any("holidays, outages" in w for w in r.warnings)
    weekly = r.forecast["volume"].to_numpy()[:168].sum()
    assert weekly == pytest.approx(weekly_mean(30.0).sum(), rel=0.08)  # the usual week, not a week of zeros


def test_level_shift_is_followed():
    h = history({("video", "en"): 20.0}, weeks=12, seed=4)
    late = h["interval_start"] >= h["interval_start"].max() - pd.Timedelta(days=20)
    h.loc[late, "volume"] = np.random.default_rng(5).poisson(h.loc[late, "volume"].to_numpy() * 1.5)  # +50 %
    r = run_forecast(h, no_events(), config(models=NUMPY_MODELS))
    daily = r.forecast["volume"].to_numpy()[: 14 * 24].sum() / 14
    assert daily == pytest.approx(weekly_mean(30.0).sum() / 7, rel=0.1)  # the new level, 1.5 x the old
