"""``capplan.units.interval_index``: the one time -> planning-interval arithmetic, by hand, and no inline copies left."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from capplan.units import interval_index

SRC = Path(__file__).resolve().parents[1] / "src" / "capplan"
START = pd.Timestamp("2026-03-02", tz="UTC")


def test_interval_index_by_hand():
    times = pd.Series(pd.to_datetime(["2026-03-02T00:00Z", "2026-03-02T00:59Z", "2026-03-02T01:00Z", "2026-03-01T23:30Z"], utc=True),
                      index=[5, 6, 7, 8])  # the index is not used: the result follows the order
    np.testing.assert_array_equal(interval_index(times, START, 1.0), [0, 0, 1, -1])  # before the start: negative (floor)
    np.testing.assert_array_equal(interval_index(times, START, 0.25), [0, 3, 4, -2])
    assert interval_index(START + pd.Timedelta(hours=5), START, 0.5) == 10  # one timestamp: an int
    np.testing.assert_array_equal(interval_index(pd.Series(["2026-03-02T02:00:00"]), START, 1.0), [2])  # naive = UTC
    assert interval_index(times.iloc[:0], START, 1.0).shape == (0,)


def test_no_inline_copies_of_the_interval_arithmetic():
    """``(time - start).total_seconds() // (h * 3600)`` lives in units.interval_index only (fractional positions are not floors)."""
    pattern = re.compile(r"total_seconds\(\)\s*//")
    found = [f"{p.relative_to(SRC)}:{i}" for p in sorted(SRC.rglob("*.py")) if p.name != "units.py"
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not found, f"use capplan.units.interval_index instead: {found}"


def test_as_utc_is_to_datetime_utc_for_datetimes_and_text():
    from capplan.units import as_utc

    aware = pd.Series(pd.date_range("2026-03-02", periods=200, freq="h", tz="Europe/Berlin"))
    naive = pd.Series(pd.date_range("2026-03-02", periods=200, freq="h"))
    text = naive.dt.strftime("%Y-%m-%dT%H:%M")
    for times in (aware, naive, text):
        pd.testing.assert_series_equal(as_utc(times), pd.to_datetime(times, utc=True))
    assert as_utc(aware).iloc[0] == pd.Timestamp("2026-03-01T23:00Z")  # Berlin is UTC+1 in March
