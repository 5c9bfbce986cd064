"""Automatic detection of a cell's local clock (``[forecast] time_zones = "auto"``, forecast.localtime)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from capplan.config import Config, parse_config
from capplan.errors import ConfigError
from capplan.forecast.localtime import AUTO_MAX_RATIO, change_errors, detect_zones, resolve_zones
from capplan.forecast.run import run_forecast

from _forecast_data import config

LOCAL_SHAPE = np.array([2, 1, 1, 1, 1, 2, 4, 8, 12, 15, 16, 16, 15, 15, 16, 16, 15, 13, 11, 10, 9, 7, 5, 3], float)


def _arrivals(start: str, end: str, zone: str, language: str = "en", queue: str = "calls", level: float = 3.0,
              seed: int | None = 0, stamps: str = "utc") -> pd.DataFrame:
    """Hourly Poisson arrivals whose mean follows ``zone``'s clock (:data:`LOCAL_SHAPE` x ``level`` by local hour,
    about 650 items a weekday at the default level).

    ``stamps="utc"`` stamps them in true UTC (the pattern moves at the zone's changes); ``"local"`` writes the
    local wall-clock time as if it were UTC (an export in local time: the pattern never moves).
    """
    utc = pd.date_range(start, end, freq="h", inclusive="left", tz="UTC")
    local = utc.tz_convert(zone)
    mean = level * LOCAL_SHAPE[local.hour] * np.where(local.weekday >= 5, 0.6, 1.0)
    y = mean if seed is None else np.random.default_rng(seed).poisson(mean).astype(float)
    times = utc if stamps == "utc" else local.tz_localize(None).tz_localize("UTC")
    frame = pd.DataFrame({"interval_start": times, "queue": queue, "language": language, "volume": y})
    return frame.groupby(["interval_start", "queue", "language"], as_index=False)["volume"].sum()  # autumn's double hour


def _panel(hist: pd.DataFrame) -> tuple[np.ndarray, pd.Timestamp, np.ndarray]:
    """(values, start, languages) of the hourly grid of ``hist`` (one cell per language, whole UTC days)."""
    t = pd.to_datetime(hist["interval_start"], utc=True).dt.tz_localize(None)
    start = t.min().ceil("D")
    hours = int((t.max().floor("D") - start) / pd.Timedelta(hours=1))
    langs = sorted(hist["language"].unique())
    values = np.zeros((len(langs), hours))
    col = ((t - start) / pd.Timedelta(hours=1)).to_numpy().astype(int)
    row = hist["language"].map({lang: i for i, lang in enumerate(langs)}).to_numpy()
    ok = (col >= 0) & (col < hours)
    np.add.at(values, (row[ok], col[ok]), hist["volume"].to_numpy()[ok])
    return values, start, np.array(langs)


def test_the_errors_after_a_change_are_counted_by_hand():
    """One cell, a fall-back change (s = +1) at hour T: the zone's clock compares y(t) with y(t - 168 k - 1)."""
    change = 3 * 168 + 24  # the 3 weeks before, and one hour more on this side (s = +1)
    hours = change + 168
    offset = np.where(np.arange(hours) < change, -4.0, -5.0)
    pattern = (np.arange(hours) % 24 == 9).astype(float)  # one item at 09:00 UTC before the change ...
    y = np.where(np.arange(hours) >= change, np.roll(pattern, 1), pattern)  # ... at 10:00 UTC after it (same local hour)
    e_utc, e_zone, items = change_errors(y[None, :], offset, weeks=3)
    assert e_utc.shape == (1, 7)  # one unit per day of the week after the change
    np.testing.assert_allclose(e_utc, 2.0)  # per day: |1 - 0| at 10:00 and |0 - 1| at 09:00
    np.testing.assert_allclose(e_zone, 0.0)
    np.testing.assert_allclose(items, 1.0)
    assert change_errors(y[None, 24:], offset[24:], weeks=3)[0].shape == (1, 0)  # an hour short: not counted


@pytest.mark.parametrize("zone, start, end", [
    ("America/New_York", "2013-09-02", "2013-11-20"),  # US: 3 Nov 2013
    ("Europe/Berlin", "2013-03-04", "2013-05-06"),  # EU: 31 Mar 2013 (the US change of 10 Mar is inside too)
    ("Australia/Sydney", "2013-08-05", "2013-11-04"),  # south-east Australia: 6 Oct 2013 (NZ changes a week earlier)
])
def test_auto_finds_the_zone_of_arrivals_stamped_in_utc(zone, start, end):
    found = detect_zones(*_panel(_arrivals(start, end, zone)))
    row = found.iloc[0]
    assert row["zone"] == zone and row["candidate"] == zone
    assert row["ratio"] <= AUTO_MAX_RATIO and row["t"] >= 3


@pytest.mark.parametrize("zone, stamps", [
    ("Asia/Manila", "utc"),  # a clock without daylight saving, stamped in UTC
    ("America/New_York", "local"),  # a clock with daylight saving, exported in local time
    ("Europe/Berlin", "local"),
])
def test_auto_keeps_utc_for_clocks_that_never_move_in_the_stamps(zone, stamps):
    found = detect_zones(*_panel(_arrivals("2013-02-04", "2013-11-20", zone, stamps=stamps)))
    assert (found["zone"] == "").all()
    assert (found["ratio"] > 1).all()  # every zone's clock fits worse than the stamps' own


def test_auto_keeps_utc_for_a_flat_series():
    hist = _arrivals("2013-02-04", "2013-11-20", "America/New_York")
    hist["volume"] = np.random.default_rng(1).poisson(10.0, len(hist)).astype(float)
    assert (detect_zones(*_panel(hist))["zone"] == "").all()


def _one_a_day(start: str, end: str, zone: str, language: str) -> pd.DataFrame:
    """One arrival a day at 09:00 on ``zone``'s clock (a thin scheduled cell), stamped in UTC."""
    hist = _arrivals(start, end, zone, language=language, seed=None)
    hist["volume"] = (pd.to_datetime(hist["interval_start"]).dt.tz_convert(zone).dt.hour == 9).astype(float)
    return hist


def test_a_thin_language_borrows_the_pooled_decision_only_when_its_own_evidence_agrees():
    busy = _arrivals("2013-02-04", "2013-11-20", "America/New_York", language="en")  # both changes of 2013
    thin = _one_a_day("2013-02-04", "2013-11-20", "America/New_York", "es")
    other = _one_a_day("2013-02-04", "2013-11-20", "Asia/Manila", "tl")  # no daylight saving: UTC fits it
    values, start, langs = _panel(pd.concat([busy, thin, other]))
    own = detect_zones(values, start, langs).set_index("language")
    assert own.at["es", "zone"] == "" and own.at["es", "items"] < 50  # too thin to decide alone
    zones, record = resolve_zones(values, start, langs, {"*": "auto"})
    assert zones == {"en": "America/New_York", "es": "America/New_York"}
    assert record.set_index("language")["source"].to_dict() == {"en": "auto", "es": "auto (pooled)", "tl": "auto"}
    assert record.set_index("language").at["es", "ratio"] == 0.0  # its own figures for the borrowed zone


def test_auto_forecast_equals_the_configured_zone_and_an_explicit_zone_wins():
    hist = _arrivals("2013-09-02", "2013-11-06", "America/New_York", seed=None)  # last week straddles 3 Nov
    cfg = config(models=["seasonal_naive"])
    cfg.planning.start = dt.date(2013, 11, 6)
    assert cfg.forecast.time_zones == {"*": "auto"}  # the default
    auto = run_forecast(hist, None, cfg)
    assert auto.time_zones.set_index("language").at["en", "zone"] == "America/New_York"
    assert any("time zones (auto)" in w and "America/New_York" in w for w in auto.warnings)
    truth = _arrivals("2013-11-06", "2013-11-20", "America/New_York", seed=None)["volume"].to_numpy()
    wrong = np.flatnonzero(~np.isclose(auto.forecast["volume"].to_numpy(), truth))
    assert list(wrong) == [4 * 24 + 6, 11 * 24 + 6]  # Sundays 01:00 EST: the hour 3 Nov 2013 held twice (module notes)
    cfg.forecast.time_zones = {"*": "America/New_York"}
    np.testing.assert_allclose(run_forecast(hist, None, cfg).forecast["volume"].to_numpy(),
                               auto.forecast["volume"].to_numpy())
    cfg.forecast.time_zones = {"*": "auto", "en": "Europe/Berlin"}  # explicit beats auto, even when wrong
    explicit = run_forecast(hist, None, cfg)
    assert explicit.time_zones.set_index("language").loc["en", ["zone", "source", "cells"]].tolist() == [
        "Europe/Berlin", "config", 1]
    assert not any("time zones (auto)" in w for w in explicit.warnings)
    cfg.forecast.time_zones = {}  # off
    off = run_forecast(hist, None, cfg)
    assert off.time_zones.empty and np.abs(off.forecast["volume"].to_numpy() - truth).sum() > 0


def test_time_zones_config_shorthands_and_a_clear_error_for_an_unknown_zone():
    assert Config.model_validate({"forecast": {"time_zones": "auto"}}).forecast.time_zones == {"*": "auto"}
    assert Config.model_validate({"forecast": {"time_zones": "off"}}).forecast.time_zones == {}
    assert Config.model_validate({"forecast": {"time_zones": "Europe/Berlin"}}).forecast.time_zones == {"*": "Europe/Berlin"}
    with pytest.raises(ConfigError, match=r"capplan.toml: forecast.time_zones.*'Mars/Olympus'.*not an IANA zone"):
        parse_config({"forecast": {"time_zones": {"*": "auto", "de": "Mars/Olympus"}}})


def test_a_forecast_run_records_the_detected_zones(tmp_path):
    """The run folder says what auto chose: time_zones.csv, run.json and a warning naming languages and zone."""
    import json
    import re

    from _ws import make_workspace
    from capplan.pipeline import run_forecast_stage

    parts = [_arrivals("2025-10-06", "2026-03-02", "America/New_York", queue=q, language=lang, level=level, seed=i)
             for i, (q, lang, level) in enumerate([("video", "en", 3.0), ("video", "es", 1.0), ("live", "en", 2.0)])]
    hist = pd.concat(parts, ignore_index=True)
    hist["interval_start"] = hist["interval_start"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    ws = make_workspace(tmp_path / "ws", history=hist.to_csv(index=False))
    toml = ws / "capplan.toml"
    toml.write_text(re.sub(r"(?m)^models = .*$", 'models = ["seasonal_naive"]', toml.read_text()))
    run = run_forecast_stage(ws)
    record = pd.read_csv(run.folder / "time_zones.csv", keep_default_na=False).set_index("language")
    assert record.loc["en", ["zone", "source", "cells"]].tolist() == ["America/New_York", "auto", 2]
    meta = json.loads((run.folder / "run.json").read_text())
    assert meta["time_zones"]["en"] == "America/New_York (auto)"
    assert meta["config"]["forecast"]["time_zones"] == {"*": "auto"}
    assert any(w.startswith("time zones (auto)") and "en" in w for w in run.warnings)
