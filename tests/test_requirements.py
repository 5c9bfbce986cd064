"""Requirements table: quantile choice, handle times, Erlang for real-time, backlog for deferred."""

from __future__ import annotations

import datetime as dt
import types

import numpy as np
import pandas as pd
import pytest

from capplan.config import Config
from capplan.errors import ConfigError, InputError
from capplan.schema import REQUIREMENTS_COLUMNS
from capplan.staffing.erlang import erlang_c_service_level, required_agents
from capplan.staffing.requirements import EXTRA_COLUMNS, compute_requirements, volume_column

START = pd.Timestamp("2026-03-02T00:00:00Z")


def _ws(interval_minutes=60, history=None, **staffing):
    config = Config.model_validate({
        "planning": {"start": dt.date(2026, 3, 2), "interval_minutes": interval_minutes},
        "staffing": {"shrinkage": 0.3, "max_occupancy": 0.85, "deferred_max_utilisation": 0.95, **staffing},
    })
    queues = pd.DataFrame({
        "queue": ["live", "live_a", "video"],
        "kind": ["realtime", "realtime", "deferred"],
        "target": [0.8, 0.8, 0.9],
        "within_s": [20.0, 20.0, 4 * 3600.0],
        "severity": [1, 1, 2],
        "egregious": [True, True, False],
        "patience_s": [np.nan, 300.0, np.nan],
    })
    handle_times = pd.DataFrame({"queue": ["live", "live_a", "video"], "language": ["en", "en", "en"], "aht_s": [180.0, 180.0, 360.0]})
    if history is None:
        history = pd.DataFrame({"interval_start": [START - pd.Timedelta(hours=1)], "queue": ["video"], "language": ["es"],
                                "volume": [10.0], "aht_s": [np.nan]})
    return types.SimpleNamespace(config=config, queues=queues, handle_times=handle_times, history=history)


def _forecast(rows):
    """rows: (queue, language, hour offset, volume); hi/lo bands at +-20 % (80) and +-40 % (95)."""
    fc = pd.DataFrame(rows, columns=["queue", "language", "h", "volume"])
    fc["interval_start"] = START + pd.to_timedelta(fc.pop("h"), unit="h")
    for level, k in ((80, 0.2), (95, 0.4)):
        fc[f"volume_lo_{level}"] = fc["volume"] * (1 - k)
        fc[f"volume_hi_{level}"] = fc["volume"] * (1 + k)
    fc["model"] = "seasonal_naive"
    return fc


def test_realtime_erlang_c_row_is_the_textbook_case():
    # 200 items per hour at AHT 180 s = 10 Erlang, 80 % in 20 s: 14 moderators (100 per 30 min)
    req = compute_requirements(_forecast([("live", "en", 0, 200.0)]), _ws())
    row = req.iloc[0]
    assert row["method"] == "erlang_c"
    assert row["workload_hours"] == pytest.approx(10.0)
    assert row["offered_load"] == pytest.approx(10.0)
    assert row["required_productive_int"] == 14
    assert 13 < row["required_productive"] <= 14
    assert row["service_level"] >= 0.8
    assert row["required_paid"] == pytest.approx(row["required_productive"] / 0.7)
    assert row["shrinkage"] == 0.3
    assert (row["target"], row["within_s"], row["max_occupancy"]) == (0.8, 20.0, 0.85)
    assert float(erlang_c_service_level(row["required_productive"], 10.0, 180, 20)) == pytest.approx(row["service_level"])


def test_realtime_with_patience_uses_erlang_a():
    req = compute_requirements(_forecast([("live_a", "en", 0, 200.0), ("live", "en", 0, 200.0)]), _ws())
    a = req.set_index("queue").loc["live_a"]
    c = req.set_index("queue").loc["live"]
    assert a["method"] == "erlang_a"
    assert a["patience_s"] == 300.0
    assert 0 < a["abandon_rate"] < 0.05
    assert a["required_productive"] <= c["required_productive"]
    want = required_agents(200, 3600, 180, 0.8, 20, patience_s=300, max_occupancy=0.85, fractional=True)
    assert a["required_productive"] == pytest.approx(float(want.agents))


def test_occupancy_cap_binds_for_large_loads():
    # 4000 per hour at 180 s = 200 Erlang: Erlang C alone needs ~210, the 85 % cap needs 235.3
    req = compute_requirements(_forecast([("live", "en", 0, 4000.0)]), _ws())
    assert req.loc[0, "required_productive"] == pytest.approx(200 / 0.85)
    assert req.loc[0, "occupancy"] == pytest.approx(0.85)


def test_deferred_spike_is_spread_over_its_window():
    # 50 items x 360 s = 5 h of work in hour 2, due within 4 h: 1.25 h of work per hour in hours 2-5
    rows = [("video", "en", h, 50.0 if h == 2 else 0.0) for h in range(10)]
    req = compute_requirements(_forecast(rows), _ws())
    assert (req["method"] == "backlog").all()
    want = np.array([0, 0, 1.25, 1.25, 1.25, 1.25, 0, 0, 0, 0]) / 0.95
    np.testing.assert_allclose(req["required_productive"], want, atol=1e-12)
    np.testing.assert_allclose(req["service_level"], 1.0)
    np.testing.assert_allclose(req["backlog_hours"], [0, 0, 3.75, 2.5, 1.25, 0, 0, 0, 0, 0], atol=1e-12)
    assert req["required_productive"].sum() * 0.95 == pytest.approx(req["workload_hours"].sum())
    assert req["target"].iloc[0] == 0.9


def test_deferred_with_missing_intervals_treats_them_as_no_work():
    rows = [("video", "en", h, 60.0) for h in (0, 1, 5, 6)]
    req = compute_requirements(_forecast(rows), _ws())
    assert req["required_productive"].sum() * 0.95 == pytest.approx(req["workload_hours"].sum())
    assert len(req) == 7  # the gap hours 2-4 are added with no volume: work may be done there
    assert list(req["model"]) == ["seasonal_naive"] * 2 + ["gap"] * 3 + ["seasonal_naive"] * 2
    assert req["required_productive"].iloc[2:5].sum() > 0


def test_quantile_columns():
    fc = _forecast([("live", "en", 0, 200.0)])
    assert volume_column(fc, 50) == "volume"
    assert volume_column(fc, 90) == "volume_hi_80"
    req90 = compute_requirements(fc, _ws(), 90)
    req50 = compute_requirements(fc, _ws(), 50)
    assert req90.loc[0, "volume"] == pytest.approx(240.0)
    assert req90.loc[0, "volume_quantile"] == 90
    assert req90.loc[0, "required_productive"] > req50.loc[0, "required_productive"]
    # the default comes from [staffing] quantile
    assert compute_requirements(fc, _ws(quantile=90)).loc[0, "volume"] == pytest.approx(240.0)


def test_missing_prediction_level_names_the_levels_and_the_fix():
    fc = _forecast([("live", "en", 0, 200.0)])
    with pytest.raises(ConfigError) as info:
        compute_requirements(fc, _ws(), 95)
    text = str(info.value)
    assert "volume_hi_90" in text and "80, 95" in text and "[forecast] levels" in text and "P90" in text
    with pytest.raises(ConfigError, match="volume_hi_60"):
        compute_requirements(fc, _ws(), 80)
    with pytest.raises(ConfigError, match="quantile"):
        compute_requirements(fc, _ws(), 70)


def test_handle_time_falls_back_to_history_volume_weighted():
    history = pd.DataFrame({
        "interval_start": [START - pd.Timedelta(hours=k) for k in (1, 2, 3)],
        "queue": ["video"] * 3, "language": ["es"] * 3,
        "volume": [10.0, 30.0, 5.0], "aht_s": [100.0, 200.0, np.nan],
    })
    req = compute_requirements(_forecast([("video", "es", 0, 10.0)]), _ws(history=history))
    assert req.loc[0, "aht_s"] == pytest.approx((10 * 100 + 30 * 200) / 40)


def test_missing_handle_time_and_unknown_queue_are_input_errors():
    with pytest.raises(InputError, match="video/es"):
        compute_requirements(_forecast([("video", "es", 0, 10.0)]), _ws())
    with pytest.raises(InputError, match="chat"):
        compute_requirements(_forecast([("chat", "en", 0, 10.0)]), _ws())


def test_interval_mismatch_is_a_config_error():
    fc = _forecast([("live", "en", 0, 10.0), ("live", "en", 1, 10.0)])
    compute_requirements(fc, _ws(interval_minutes=30))  # hourly data on a 30-min grid: gaps, allowed
    fc = _forecast([("live", "en", 0, 10.0), ("live", "en", 0.5, 10.0)])
    with pytest.raises(ConfigError, match="interval_minutes = 60"):
        compute_requirements(fc, _ws())


def test_realtime_target_of_one_is_an_input_error():
    ws = _ws()
    ws.queues.loc[0, "target"] = 1.0
    with pytest.raises(InputError, match="target"):
        compute_requirements(_forecast([("live", "en", 0, 10.0)]), ws)


def test_zero_volume_and_output_contract():
    rows = [("video", "en", h, 0.0) for h in range(3)] + [("live", "en", h, 0.0) for h in range(3)] + [("live", "en", 3, -2.0)]
    fc = _forecast(rows).sample(frac=1.0, random_state=1)  # unsorted input
    req = compute_requirements(fc, _ws())
    assert list(req.columns) == REQUIREMENTS_COLUMNS + EXTRA_COLUMNS
    assert (req["required_productive"] == 0).all() and (req["required_paid"] == 0).all()
    assert (req["service_level"] == 1).all()
    assert req["volume"].min() == 0.0  # negative forecast clipped
    assert req[["queue", "language", "interval_start"]].equals(
        req.sort_values(["queue", "language", "interval_start"])[["queue", "language", "interval_start"]])
    assert str(req["interval_start"].dtype) == "datetime64[ns, UTC]"
    np.testing.assert_allclose(req["workload_hours"], req["volume"] * req["aht_s"] / 3600)


def test_waterfall_identities_on_a_mixed_week():
    rng = np.random.default_rng(0)
    hours = range(7 * 24)
    rows = [(q, "en", h, float(rng.poisson(80 + 60 * np.sin(h / 24 * 2 * np.pi)))) for q in ("live", "live_a", "video") for h in hours]
    req = compute_requirements(_forecast(rows), _ws())
    assert len(req) == 3 * 7 * 24
    assert req["required_productive"].ge(0).all()
    np.testing.assert_allclose(req["required_paid"], req["required_productive"] / 0.7)
    rt = req[req["method"] != "backlog"]
    erlang_c = rt[rt["method"] == "erlang_c"]
    assert (erlang_c["service_level"] >= erlang_c["target"] - 1e-9).all()  # concave SL: interpolation is safe
    erlang_a = rt[rt["method"] == "erlang_a"]
    assert len(erlang_a) and (erlang_a["service_level"] >= erlang_a["target"] - 0.01).all()
    assert (np.ceil(rt["required_productive"] - 1e-9) == rt["required_productive_int"]).all()
    video = req[req["queue"] == "video"]
    assert video["required_productive"].sum() * 0.95 == pytest.approx(video["workload_hours"].sum())
    assert video["required_productive"].max() < (video["workload_hours"] / 0.95).max()  # smoothed


def test_empty_forecast():
    fc = _forecast([]).astype({"volume": float})
    req = compute_requirements(fc, _ws())
    assert req.empty and list(req.columns) == REQUIREMENTS_COLUMNS + EXTRA_COLUMNS
