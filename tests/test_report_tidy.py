"""Tidy report tables and Excel naming helpers, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from capplan.report import tidy, xlsx
from capplan.report.vendor import vendor_file_names

START = pd.Timestamp("2026-01-26")


@pytest.mark.parametrize(
    "value, expected",
    [
        (0, "2026-01-26"),
        (1, "2026-02-02"),
        ("2026-01-26", "2026-01-26"),
        (pd.Timestamp("2026-02-02", tz="UTC"), "2026-02-02"),
        ("2026-W05", "2026-01-26"),
        ("1", "2026-02-02"),
    ],
)
def test_week_start_accepts_index_date_and_iso_week(value, expected):
    assert tidy.week_start(value, START) == pd.Timestamp(expected)


def test_finance_monthly_splits_a_week_pro_rata_and_keeps_totals():
    # one vendor-cell, week of Mon 26 Jan: 6 days in January, 1 day (Sun 1 Feb) in February
    va = pd.DataFrame({"vendor": ["V"], "queue": ["q"], "language": ["en"], "week": ["2026-01-26"],
                       "hours": [70.0], "items": [700.0], "cost": [1400.0]})
    t = pd.date_range("2026-01-26", periods=7, freq="D", tz="UTC")
    alloc = pd.DataFrame({"pool": "p", "vendor": "V", "queue": "q", "language": "en", "interval_start": t,
                          "productive_hours": [1.0, 1, 1, 1, 1, 1, 4]})  # 6 h in Jan, 4 h in Feb
    sp = pd.DataFrame({"pool": ["p"], "vendor": ["V"], "paid_hours": [10.0], "headcount": [10]})  # 100 paid h
    m = tidy.finance_monthly(va, alloc, START, sp)
    assert list(m["month"]) == [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")]
    assert m["cost"].tolist() == pytest.approx([1400 * 0.6, 1400 * 0.4])
    assert m["productive_hours"].sum() == pytest.approx(70.0)
    assert m["paid_hours"].tolist() == pytest.approx([60.0, 40.0])
    # without allocation the whole week goes to the month of its first day
    m2 = tidy.finance_monthly(va, alloc.iloc[0:0], START)
    assert m2["month"].tolist() == [pd.Timestamp("2026-01-01")] and m2["cost"].tolist() == [1400.0]
    w = tidy.finance_weekly(va, START, sp)
    assert w["paid_hours"].tolist() == [100.0]


def test_finance_monthly_with_iso_weeks_and_a_midweek_start():
    # plan starts Thursday 29 Jan; the optimizer labels weeks by ISO week (2026-W05 = Mon 26 Jan)
    start = pd.Timestamp("2026-01-29")
    va = pd.DataFrame({"vendor": ["V", "V"], "queue": "q", "language": "en", "week": ["2026-W05", "2026-W06"],
                       "hours": [4.0, 2.0], "items": [40.0, 20.0], "cost": [80.0, 40.0]})
    t = pd.to_datetime(["2026-01-30", "2026-02-01", "2026-02-03"], utc=True)
    alloc = pd.DataFrame({"vendor": "V", "queue": "q", "language": "en", "interval_start": t, "productive_hours": [3.0, 1.0, 2.0]})
    m = tidy.finance_monthly(va, alloc, start)
    assert m["cost"].tolist() == pytest.approx([60.0, 20.0 + 40.0])  # W05: 3/4 Jan, 1/4 Feb; W06 all Feb
    assert m["paid_hours"].isna().all()  # no shift plan given


def test_daily_forecast_sums_intervals_per_utc_day():
    t = pd.date_range("2026-01-26 22:00", periods=4, freq="h", tz="UTC")  # 2 h on the 26th, 2 h on the 27th
    f = pd.DataFrame({"queue": "q", "language": "en", "interval_start": t, "volume": [1.0, 2, 3, 4],
                      "volume_lo_80": [0.5, 1, 1.5, 2], "volume_hi_80": [2.0, 3, 4, 5], "model": "m"})
    d = tidy.daily_forecast(f)
    assert d["volume"].tolist() == [3.0, 7.0]
    assert d["volume_lo_80"].tolist() == [1.5, 3.5]
    assert d["date"].tolist() == [pd.Timestamp("2026-01-26"), pd.Timestamp("2026-01-27")]
    assert d["model"].tolist() == ["m", "m"]


def test_coverage_heatmap_is_planned_minus_required():
    t = pd.date_range("2026-01-26", periods=2, freq="h", tz="UTC")
    cov = pd.DataFrame({"queue": "q", "language": "en", "interval_start": t, "required_productive": [2.0, 3.0],
                        "planned_productive": [2.5, 1.0], "backlog": 0.0, "unmet": [0.0, 2.0]})
    heat = tidy.coverage_heatmap(cov)
    assert list(heat.columns) == ["queue", "language", "Mon 01-26 00:00", "Mon 01-26 01:00"]
    assert heat.iloc[0, 2:].tolist() == [0.5, -2.0]


def test_plan_paid_hours_by_pool_and_week():
    sp = pd.DataFrame({"pool": ["a", "a", "a"], "site": "S", "day": pd.to_datetime(["2026-01-26", "2026-01-27", "2026-02-02"], utc=True),
                       "paid_hours": [8.0, 8.0, 10.0], "headcount": [2, 3, 1]})
    out = tidy.plan_paid_hours(sp, START)
    assert out["paid_hours"].tolist() == [40.0, 10.0]
    assert out["week_start"].tolist() == [START, START + pd.Timedelta(days=7)]


def test_sheet_titles_are_cleaned_truncated_and_unique(tmp_path):
    book = xlsx.Book(tmp_path / "t.xlsx")
    t1 = book.sheet_title("a/b:c*d?e[f]g\\h plus a long tail of words")
    assert len(t1) <= 31 and not any(ch in t1 for ch in "[]:*?/\\")
    t2 = book.sheet_title("a/b:c*d?e[f]g\\h plus a long tail of words")
    assert t2 != t1 and len(t2) <= 31
    assert book.sheet_title("History") != "History"  # reserved by Excel


def test_defined_and_table_names_are_valid_and_unique(tmp_path):
    book = xlsx.Book(tmp_path / "t.xlsx")
    names = [book.defined_name("rate", "mnl-bpo1"), book.defined_name("rate", "mnl_bpo1"), book.defined_name("fx", "EUR")]
    assert names == ["rate_mnl_bpo1", "rate_mnl_bpo1_2", "fx_EUR"]
    assert book.table_name("x y") == "tbl_x_y" and book.table_name("x-y") == "tbl_x_y_2"


def test_vendor_file_names_are_safe_and_unique():
    out = vendor_file_names(["Acme BPO/PH", "Acme BPO:PH", "..", "=cmd"])
    assert out["Acme BPO/PH"] == "Acme_BPO_PH.xlsx"
    assert out["Acme BPO:PH"] == "Acme_BPO_PH-2.xlsx"
    assert out[".."] == "vendor.xlsx"
    assert out["=cmd"] == "cmd.xlsx"


def _history(daily_shock_sd: float, hourly_sd: float, days: int = 63, seed: int = 0) -> pd.DataFrame:
    """Hourly history of one cell: a flat level + a shock common to all hours of a day + hourly noise."""
    rng = np.random.default_rng(seed)
    t = pd.date_range("2025-11-03", periods=24 * days, freq="h", tz="UTC")
    day_shock = np.repeat(rng.normal(0, daily_shock_sd, days), 24)
    return pd.DataFrame({"queue": "q", "language": "en", "interval_start": t,
                         "volume": 100 + day_shock + rng.normal(0, hourly_sd, len(t))})


def test_error_correlation_independent_hours_is_near_zero():
    rho = tidy.error_correlation(_history(0.0, 10.0), "D")
    assert rho[("q", "en")] == pytest.approx(0.0, abs=0.06)


def test_error_correlation_of_a_common_daily_shock():
    """Equal shock and noise variances: rho = s^2 / (s^2 + e^2) = 0.5 for the hourly errors within a day."""
    rho = tidy.error_correlation(_history(10.0, 10.0, days=140), "D")
    assert rho[("q", "en")] == pytest.approx(0.5, abs=0.12)


def test_error_correlation_without_enough_history_is_conservative():
    assert tidy.error_correlation(_history(0.0, 10.0, days=9), "D")[("q", "en")] == 1.0


def test_aggregated_band_matches_monte_carlo_quantile():
    """Hourly errors N(0, s_h) equicorrelated with rho: the 80% band of the daily sum from aggregate_bands
    equals the simulated 10th and 90th percentiles of the sum (second method)."""
    rng = np.random.default_rng(7)
    sd = rng.uniform(2.0, 8.0, 24)
    rho, z80 = 0.3, 1.2815515655446004
    t = pd.date_range("2026-01-26", periods=24, freq="h", tz="UTC")
    f = pd.DataFrame({"queue": "q", "language": "en", "interval_start": t, "volume": 50.0,
                      "volume_lo_80": 50.0 - z80 * sd, "volume_hi_80": 50.0 + z80 * sd, "date": t.tz_localize(None).normalize()})
    band = tidy.aggregate_bands(f, ["queue", "language", "date"], pd.Series({("q", "en"): rho}))
    cov = rho * np.outer(sd, sd) + (1 - rho) * np.diag(sd**2)
    sums = rng.multivariate_normal(np.zeros(24), cov, size=200_000).sum(axis=1) + 50.0 * 24
    lo, hi = np.percentile(sums, [10, 90])
    assert band["volume_lo_80"].iloc[0] == pytest.approx(lo, rel=2e-3)
    assert band["volume_hi_80"].iloc[0] == pytest.approx(hi, rel=2e-3)
    summed = f["volume_hi_80"].sum() - f["volume"].sum()
    assert band["volume_hi_80"].iloc[0] - 1200 < 0.7 * summed  # much narrower than the sum of hourly bounds


def test_daily_forecast_uses_history_correlation():
    hist = _history(0.0, 10.0)
    t = pd.date_range("2026-01-05", periods=24, freq="h", tz="UTC")
    f = pd.DataFrame({"queue": "q", "language": "en", "interval_start": t, "volume": 100.0,
                      "volume_lo_80": 90.0, "volume_hi_80": 110.0, "model": "m"})
    d = tidy.daily_forecast(f, hist)
    half = d["volume_hi_80"].iloc[0] - 2400
    rho = d["band_correlation"].iloc[0]
    assert half == pytest.approx(np.sqrt((1 - rho) * 24 * 100 + rho * 240**2))
    assert half < 0.5 * 240
