"""Handle-time forecast (forecast.aht) and the within-hour split (forecast.subhour), on hand-built series."""

from __future__ import annotations

import datetime as dt
import types

import numpy as np
import pandas as pd
import pytest

from capplan.config import Config
from capplan.forecast import aht as ahtmod
from capplan.forecast.aht import forecast_aht, hourly_aht, workload_wape
from capplan.forecast.run import run_forecast
from capplan.forecast.subhour import split_hours, within_hour_shares
from capplan.staffing.requirements import compute_requirements

from _forecast_data import START, config, history

ORIGIN = pd.Timestamp(START)  # tz-naive UTC midnight, a Monday
WEEKDAY = np.array([1.00, 0.98, 1.00, 1.02, 1.00, 1.10, 1.12])  # AHT by weekday (Mon..Sun)
HOUR = 1.0 + 0.08 * np.cos(2 * np.pi * (np.arange(24) - 3) / 24)  # AHT by hour of day, mean 1


def _aht_history(cells: dict, weeks: int = 13, trend: float = 0.0, noise: float = 0.0, items: float = 1e5,
                 seed: int = 0) -> pd.DataFrame:
    """Hourly history ending at ORIGIN: AHT = base x weekday x hour x exp(trend x years to origin) [x noise]."""
    rng = np.random.default_rng(seed)
    times = pd.date_range(ORIGIN - pd.Timedelta(weeks=weeks), ORIGIN, freq="h", inclusive="left")
    years = ((times - ORIGIN) / pd.Timedelta(days=365.25)).to_numpy()
    shape = WEEKDAY[times.weekday] * HOUR[times.hour] * np.exp(trend * years)
    frames = []
    for (q, lang), base in sorted(cells.items()):
        aht = base * shape * np.exp(noise * rng.standard_normal(len(times)))
        frames.append(pd.DataFrame({"interval_start": times.tz_localize("UTC"), "queue": q, "language": lang,
                                    "volume": items, "aht_s": aht}))
    return pd.concat(frames, ignore_index=True)


def _fit(hist: pd.DataFrame, table: dict | None = None, horizon_days: int = 14):
    cells = hist[["queue", "language"]].drop_duplicates().sort_values(["queue", "language"]).reset_index(drop=True)
    start = pd.to_datetime(hist["interval_start"]).dt.tz_localize(None).min().floor("D")
    n_days = int((ORIGIN - start) / pd.Timedelta(days=1))
    items, work = hourly_aht(hist, cells, start, n_days * 24)
    tab = None if table is None else pd.Series(table).rename_axis(["queue", "language"])
    return forecast_aht(items, work, cells, start.weekday(), n_days, horizon_days, 13, tab), cells


def _truth(base: float, horizon_days: int = 14) -> np.ndarray:
    times = pd.date_range(ORIGIN, periods=horizon_days * 24, freq="h")
    return base * WEEKDAY[times.weekday] * HOUR[times.hour]


def test_level_weekday_and_hour_shape_are_recovered_exactly_without_noise():
    fc, _ = _fit(_aht_history({("video", "en"): 100.0}), table={("video", "en"): 90.0})
    assert fc.source[0] == "forecast"
    # 1e5 items an hour: credibility ~1, shrinkage negligible; the forecast is base x weekday x hour
    np.testing.assert_allclose(fc.aht_s[0], _truth(100.0), rtol=2e-3)
    assert fc.cells.at[0, "trend_per_year"] == 0.0
    assert fc.cells.at[0, "credibility"] > 0.999


def test_a_trend_is_found_and_damped_into_the_horizon():
    fc, _ = _fit(_aht_history({("video", "en"): 100.0}, trend=0.3))
    assert fc.cells.at[0, "trend_per_year"] == pytest.approx(0.3, rel=0.02)
    days_ahead = np.cumsum(ahtmod.TREND_DAMPING ** np.arange(1, 15))
    expected = _truth(100.0) * np.exp(0.3 / 365.25 * np.repeat(days_ahead, 24))
    np.testing.assert_allclose(fc.aht_s[0], expected, rtol=3e-3)


def test_noise_without_a_trend_gives_no_trend_and_a_level_near_the_truth():
    fc, _ = _fit(_aht_history({("video", "en"): 100.0}, noise=0.05, items=50.0, seed=3))
    assert fc.cells.at[0, "trend_per_year"] == 0.0
    assert fc.cells.at[0, "aht_level_s"] == pytest.approx(100.0 * np.exp(np.log(WEEKDAY).mean()), rel=0.02)


def test_thin_history_is_shrunk_toward_the_table_busy_history_is_not():
    hist = pd.concat([_aht_history({("video", "en"): 200.0}, weeks=2, items=1.0),
                      _aht_history({("video", "es"): 200.0}, weeks=2, items=1e4)], ignore_index=True)
    hist = hist[(hist["queue"] != "video") | (hist["language"] != "en") | (hist.index % 24 == 12)]  # 14 items in all
    fc, cells = _fit(hist, table={("video", "en"): 100.0, ("video", "es"): 100.0})
    en, es = (cells["language"] == "en").to_numpy(), (cells["language"] == "es").to_numpy()
    z = 14 / (14 + ahtmod.LEVEL_ITEMS)
    assert fc.cells.loc[en, "credibility"].iloc[0] == pytest.approx(z)
    assert np.exp(np.log(fc.aht_s[en]).mean()) == pytest.approx(100.0 * 2.0 ** z, rel=0.03)
    assert fc.aht_s[es].mean() == pytest.approx(200.0 * WEEKDAY.mean(), rel=0.03)


def test_sources_table_only_history_only_and_none():
    hist = _aht_history({("video", "en"): 100.0, ("video", "es"): 100.0}, weeks=2)
    hist.loc[hist["language"] == "es", "aht_s"] = np.nan
    fc, cells = _fit(hist, table={("video", "es"): 80.0})
    by = dict(zip(cells["language"], fc.source))
    assert by == {"en": "history", "es": "table"}
    assert (fc.aht_s[cells["language"] == "es"] == 80.0).all()
    fc2, _ = _fit(hist[hist["language"] == "es"])
    assert fc2.source[0] == "none" and np.isnan(fc2.aht_s).all()


def test_workload_wape_is_hand_checkable():
    items = np.array([[10.0, 0.0, 30.0]])
    assert workload_wape(items, np.array([[100.0, 50.0, 100.0]]), np.array([[110.0, 10.0, 100.0]])) == pytest.approx(100 / 4000)


# --- forecast stage and requirements ---------------------------------------------------------

@pytest.fixture(scope="module")
def staged():
    vol = history({("video", "en"): 50.0}, weeks=8)
    ahts = _aht_history({("video", "en"): 100.0}, weeks=8)
    vol["aht_s"] = ahts["aht_s"].to_numpy()
    cfg = config(models=["seasonal_naive"])
    table = pd.DataFrame({"queue": ["video"], "language": ["en"], "aht_s": [90.0]})
    return vol, cfg, table, run_forecast(vol, None, cfg, handle_times=table)


def test_forecast_table_gets_aht_columns_and_a_per_cell_table(staged):
    _, _, _, res = staged
    f = res.forecast
    assert {"aht_s", "aht_source"} <= set(f.columns) and (f["aht_source"] == "forecast").all()
    hours = f["interval_start"].dt.tz_localize(None)
    # Poisson volumes of ~50 items an hour: the hour shape is shrunk a little toward flat (HOUR_ITEMS)
    np.testing.assert_allclose(f["aht_s"], 100.0 * WEEKDAY[hours.dt.weekday] * HOUR[hours.dt.hour], rtol=0.015)
    assert list(res.aht["queue"]) == ["video"] and res.aht.at[0, "aht_table_s"] == 90.0


def test_history_without_aht_and_no_table_adds_no_aht_columns():
    res = run_forecast(history({("video", "en"): 50.0}, weeks=8), None, config(models=["seasonal_naive"]))
    assert "aht_s" not in res.forecast.columns and res.aht.empty


def _req_ws(cfg, hist, table):
    queues = pd.DataFrame({"queue": ["video"], "kind": ["deferred"], "target": [0.9], "within_s": [4 * 3600.0],
                           "severity": [2], "egregious": [False], "patience_s": [np.nan]})
    return types.SimpleNamespace(config=cfg, queues=queues, handle_times=table, history=hist)


def test_requirements_use_the_forecast_aht_only_when_configured(staged):
    hist, cfg, table, res = staged
    table_req = compute_requirements(res.forecast, _req_ws(cfg, hist, table))
    assert (table_req["aht_s"] == 90.0).all() and (table_req["aht_source"] == "table").all()
    cfg2 = cfg.model_copy(deep=True)
    cfg2.forecast.aht = "forecast"
    req = compute_requirements(res.forecast, _req_ws(cfg2, hist, table))
    np.testing.assert_allclose(req["aht_s"], res.forecast["aht_s"])
    assert (req["aht_source"] == "forecast").all() and (req["aht_table_s"] == 90.0).all()
    np.testing.assert_allclose(req["workload_hours"], req["volume"] * req["aht_s"] / 3600)
    from capplan.report.tidy import aht_effect

    eff = aht_effect(req)
    assert eff.at[0, "workload_change_hours"] == pytest.approx(req["workload_hours"].sum() - table_req["workload_hours"].sum())
    assert eff.at[0, "workload_change"] == pytest.approx(req["workload_hours"].sum() / table_req["workload_hours"].sum() - 1)


def test_a_table_changed_after_the_forecast_scales_the_forecast_aht(staged):
    hist, cfg, _, res = staged
    cfg2 = cfg.model_copy(deep=True)
    cfg2.forecast.aht = "forecast"
    scenario_table = pd.DataFrame({"queue": ["video"], "language": ["en"], "aht_s": [99.0]})  # +10 % (an AHT rule)
    req = compute_requirements(res.forecast, _req_ws(cfg2, hist, scenario_table))
    np.testing.assert_allclose(req["aht_s"], res.forecast["aht_s"] * 1.1)
    assert (res.forecast["aht_table_s"] == 90.0).all()


def test_config_rejects_an_unknown_aht_source():
    with pytest.raises(ValueError, match="aht"):
        Config.model_validate({"forecast": {"aht": "guess"}})


# --- within-hour shape ------------------------------------------------------------------------

SHAPE = np.array([0.4, 0.3, 0.2, 0.1])  # share of an hour in each quarter


def _quarter_history(cells: dict, weeks: int = 4, shape=SHAPE, hour9=None, minutes: int = 15) -> pd.DataFrame:
    """15-minute (or ``minutes``) history ending at ORIGIN with a known within-hour shape (exact, no noise)."""
    k = 60 // minutes
    times = pd.date_range(ORIGIN - pd.Timedelta(weeks=weeks), ORIGIN, freq=f"{minutes}min", inclusive="left")
    slot = (times.minute // minutes).to_numpy()
    share = np.asarray(shape)[slot]
    if hour9 is not None:
        share = np.where(times.hour == 9, np.asarray(hour9)[slot], share)
    frames = [pd.DataFrame({"interval_start": times.tz_localize("UTC"), "queue": q, "language": lang,
                            "volume": per_hour * share * (4 / k if k != 4 else 1.0)})
              for (q, lang), per_hour in sorted(cells.items())]
    return pd.concat(frames, ignore_index=True)


def _cells(*pairs):
    return pd.DataFrame(pairs, columns=["queue", "language"])


def test_within_hour_shape_is_learned_per_hour_of_day():
    hist = _quarter_history({("video", "en"): 4000.0}, hour9=[0.7, 0.1, 0.1, 0.1])
    shares = within_hour_shares(hist, _cells(("video", "en")), 15, 8)
    np.testing.assert_allclose(shares[0, 3], SHAPE, atol=2e-3)
    np.testing.assert_allclose(shares[0, 9], [0.7, 0.1, 0.1, 0.1], atol=2e-3)
    np.testing.assert_allclose(shares.sum(axis=2), 1.0)


def test_thin_and_hourly_cells_borrow_their_pools_shape_else_flat():
    hist = pd.concat([_quarter_history({("video", "en"): 4000.0}),
                      _quarter_history({("photo", "en"): 0.2}),  # about 130 items in 4 weeks
                      history({("audio", "en"): 5.0, ("audio", "xx"): 5.0}, weeks=4, end=START, noise=False)],
                     ignore_index=True)
    cells = _cells(("audio", "en"), ("audio", "xx"), ("photo", "en"), ("video", "en"))
    groups = pd.factorize(cells["language"])[0]
    shares = within_hour_shares(hist, cells, 15, 8, groups=groups)
    np.testing.assert_allclose(shares[0, 12], SHAPE, atol=0.01)  # hourly: the language's shape
    np.testing.assert_allclose(shares[1, 12], 0.25)  # hourly, alone in its language: flat
    np.testing.assert_allclose(shares[2, 12], SHAPE, atol=0.01)  # thin: its own and the pool's agree
    assert within_hour_shares(hist, cells, 60, 8) is None


def test_half_hour_history_splits_each_half_evenly_at_15_minutes():
    hist = _quarter_history({("video", "en"): 4000.0}, shape=[0.8, 0.2], minutes=30)
    shares = within_hour_shares(hist, _cells(("video", "en")), 15, 8)
    np.testing.assert_allclose(shares[0, 5], [0.4, 0.4, 0.1, 0.1], atol=2e-3)


def test_a_step_that_does_not_fit_the_planning_interval_warns_and_stays_flat():
    times = pd.date_range(ORIGIN - pd.Timedelta(weeks=1), ORIGIN, freq="20min", inclusive="left")
    hist = pd.DataFrame({"interval_start": times.tz_localize("UTC"), "queue": "video", "language": "en",
                         "volume": np.where(times.minute == 0, 100.0, 10.0)})
    warnings: list[str] = []
    shares = within_hour_shares(hist, _cells(("video", "en")), 15, 8, warnings=warnings)
    np.testing.assert_allclose(shares, 0.25)
    assert "does not fit the 15-minute planning interval" in warnings[0]


def test_whole_hour_rows_in_a_finer_history_are_not_read_as_first_quarters():
    fine = _quarter_history({("video", "en"): 4000.0}, weeks=3)  # an export that switched to 15 minutes
    hourly = history({("video", "en"): 4000.0}, weeks=1, end=(ORIGIN - pd.Timedelta(weeks=3)).date(), noise=False)
    shares = within_hour_shares(pd.concat([hourly, fine], ignore_index=True), _cells(("video", "en")), 15, 8)
    np.testing.assert_allclose(shares[0, 12], SHAPE, atol=2e-3)


def test_split_hours_keeps_hourly_totals():
    hourly = np.arange(48, dtype=float).reshape(1, 48)
    shares = np.tile(SHAPE, (1, 24, 1))
    out = split_hours(hourly, shares)
    np.testing.assert_allclose(out.reshape(1, 48, 4).sum(axis=2), hourly)
    np.testing.assert_allclose(out[0, 4:8], 1.0 * SHAPE)


def test_forecast_at_15_minutes_follows_the_learned_shape():
    hist = _quarter_history({("video", "en"): 400.0}, weeks=6)
    cfg = config(models=["seasonal_naive"])
    cfg.planning.interval_minutes = 15
    f = run_forecast(hist, None, cfg).forecast
    v = f["volume"].to_numpy().reshape(-1, 4)
    np.testing.assert_allclose(v / v.sum(axis=1, keepdims=True), np.tile(SHAPE, (len(v), 1)), atol=2e-3)
    np.testing.assert_allclose(v.sum(axis=1), 400.0, rtol=1e-6)
    hi = f["volume_hi_80"].to_numpy().reshape(-1, 4)
    np.testing.assert_allclose(hi / hi.sum(axis=1, keepdims=True), np.tile(SHAPE, (len(v), 1)), atol=2e-3)


# --- daylight-saving time (forecast.localtime) ---------------------------------------------------

def _local_pattern(start: str, end: str, zone: str = "America/New_York") -> pd.DataFrame:
    """Hourly arrivals that follow the local clock exactly: 100 items at 09:00-17:00 local, else 0."""
    utc = pd.date_range(start, end, freq="h", inclusive="left", tz="UTC")
    local_hour = utc.tz_convert(zone).hour
    return pd.DataFrame({"interval_start": utc, "queue": "calls", "language": "en",
                         "volume": np.where((local_hour >= 9) & (local_hour < 17), 100.0, 0.0)})


def test_time_zones_keep_a_local_pattern_across_daylight_saving_changes():
    hist = _local_pattern("2013-09-02", "2013-11-06")  # DST ends on 3 Nov 2013 in New York
    cfg = config(models=["seasonal_naive"], time_zones={})  # off: every cell on UTC (the default "auto" detects it)
    cfg.planning.start = dt.date(2013, 11, 6)
    truth = _local_pattern("2013-11-06", "2013-11-20")["volume"].to_numpy()
    plain_run = run_forecast(hist, None, cfg)
    plain = plain_run.forecast["volume"].to_numpy()
    assert any("moved by one hour" in w and "time_zones" in w for w in plain_run.warnings)  # the hint
    cfg.forecast.time_zones = {"*": "America/New_York"}
    res = run_forecast(hist, None, cfg)
    assert np.abs(plain - truth).sum() > 0  # the naive's last week straddles the change: an hour off on some days
    np.testing.assert_allclose(res.forecast["volume"].to_numpy(), truth)
    assert any("daylight-saving" in w for w in res.warnings)
    assert not any("moved by one hour" in w for w in res.warnings)


def test_time_zones_follow_a_change_inside_the_horizon():
    hist = _local_pattern("2013-08-05", "2013-10-28")
    cfg = config(models=["seasonal_naive"])
    cfg.planning.start = dt.date(2013, 10, 28)
    cfg.forecast.time_zones = {"en": "America/New_York"}
    f = run_forecast(hist, None, cfg).forecast
    np.testing.assert_allclose(f["volume"].to_numpy(), _local_pattern("2013-10-28", "2013-11-11")["volume"].to_numpy())


def test_config_rejects_an_unknown_time_zone():
    with pytest.raises(ValueError, match="IANA"):
        Config.model_validate({"forecast": {"time_zones": {"*": "Mars/Olympus"}}})


def test_planner_workbook_shows_the_aht_step_of_the_waterfall(staged, tmp_path):
    import openpyxl

    from capplan.report import planner, tidy, xlsx

    hist, cfg, table, res = staged
    cfg2 = cfg.model_copy(deep=True)
    cfg2.forecast.aht = "forecast"
    req = compute_requirements(res.forecast, _req_ws(cfg2, hist, table))
    ctx = types.SimpleNamespace(requirements=req, config=cfg2)
    book = xlsx.Book(tmp_path / "planner.xlsx")  # the two sheets only (write_planner checks the rest)
    planner._requirements(book, ctx, {"shrinkage:": "shrinkage"}, [])
    planner._aht_effect(book, ctx)
    wb = openpyxl.load_workbook(book.close())
    assert wb.sheetnames == ["Requirements", "AHT"]
    rows = [r for r in wb["AHT"].iter_rows(values_only=True) if r[0] is not None and r[1] is not None]
    header, body = rows[0], rows[1:]
    expected = tidy.aht_effect(req)
    assert len(body) == len(expected) == 1
    assert body[0][header.index("workload_change")] == pytest.approx(expected.at[0, "workload_change"])
    assert body[0][header.index("aht_table_s [s]")] == 90.0
    req_header = [c.value for c in wb["Requirements"][1]]
    assert "aht_source" in req_header and "aht_table_s [s]" in req_header
    # without the forecast's AHT there is no AHT sheet: test_report_workbooks checks the plain sheet list
