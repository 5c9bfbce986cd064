"""Tidy report tables: pure pandas, no Excel. The workbook writers only lay these out.

Every function returns a long (or, for the heatmap, deliberately wide) DataFrame sorted by its keys,
so two runs with the same inputs give byte-for-byte the same tables.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re

import pandas as pd

from capplan.schema import INHOUSE, WEEKDAYS

HOURS_PER_FTE_WEEK = 40.0  # paid hours of one full-time equivalent per week [h]


def naive_utc(series: pd.Series) -> pd.Series:
    """Timestamps as naive UTC (what Excel can hold); tz-naive input is taken to be UTC already."""
    s = pd.to_datetime(series)
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s


def plan_start(config) -> pd.Timestamp:
    return pd.Timestamp(config.planning.start)


def level_columns(frame: pd.DataFrame) -> list[str]:
    """The prediction-interval columns of a forecast, sorted by level then lo/hi."""
    cols = [c for c in frame.columns if re.fullmatch(r"volume_(lo|hi)_\d+", str(c))]
    return sorted(cols, key=lambda c: (int(c.rsplit("_", 1)[1]), 0 if "_lo_" in c else 1))


def daily_forecast(forecast: pd.DataFrame) -> pd.DataFrame:
    """Daily totals per queue and language: ``queue, language, date, volume, volume_lo_<L>...``.

    Interval bounds are summed: the sum of per-interval bounds is wider than the bound of the daily
    total (a conservative band), which the README says.
    """
    bands = level_columns(forecast)
    if forecast.empty:
        return pd.DataFrame(columns=["queue", "language", "date", "volume", *bands])
    f = forecast.assign(date=naive_utc(forecast["interval_start"]).dt.normalize())
    out = f.groupby(["queue", "language", "date"], sort=True)[["volume", *bands]].sum().reset_index()
    if "model" in f.columns:
        models = f.groupby(["queue", "language"], sort=True)["model"].first().rename("model")
        out = out.merge(models, on=["queue", "language"], how="left")
    return out


def daily_history(history: pd.DataFrame, before: pd.Timestamp | None = None, days: int | None = None) -> pd.DataFrame:
    """Daily history totals per queue and language: ``queue, language, date, volume``."""
    if history.empty:
        return pd.DataFrame(columns=["queue", "language", "date", "volume"])
    h = history.assign(date=naive_utc(history["interval_start"]).dt.normalize())
    if before is not None:
        h = h[h["date"] < before]
        if days is not None:
            h = h[h["date"] >= before - pd.Timedelta(days=days)]
    return h.groupby(["queue", "language", "date"], sort=True)["volume"].sum().reset_index()


def chart_frame(history_daily: pd.DataFrame, forecast_daily: pd.DataFrame, level: int | None) -> pd.DataFrame:
    """Wide chart data: ``date`` then per queue ``<q> history, <q> forecast[, <q> lo L, <q> hi L]``.

    Volumes are summed over languages. History is blank on forecast days and vice versa.
    """
    parts = []
    queues = sorted(set(history_daily["queue"]).union(forecast_daily["queue"]))
    for q in queues:
        h = history_daily[history_daily["queue"] == q].groupby("date")["volume"].sum().rename(f"{q} history")
        fq = forecast_daily[forecast_daily["queue"] == q]
        cols = {"volume": f"{q} forecast"}
        if level is not None and f"volume_lo_{level}" in fq.columns:
            cols[f"volume_lo_{level}"] = f"{q} lo {level}%"
            cols[f"volume_hi_{level}"] = f"{q} hi {level}%"
        f = fq.groupby("date")[list(cols)].sum().rename(columns=cols)
        parts.extend([h, f])
    if not parts:
        return pd.DataFrame(columns=["date"])
    wide = pd.concat(parts, axis=1).sort_index()
    wide.index.name = "date"
    return wide.reset_index()


def cell_label(queue: str, language: str) -> str:
    return f"{queue} / {language}"


def coverage_detail(coverage: pd.DataFrame) -> pd.DataFrame:
    """Coverage per cell and interval with ``gap = planned_productive - required_productive``."""
    cols = ["queue", "language", "interval_start", "required_productive", "planned_productive", "backlog", "unmet"]
    c = coverage[[x for x in cols if x in coverage.columns]].copy()
    c["interval_start"] = naive_utc(c["interval_start"])
    return c.sort_values(["queue", "language", "interval_start"], kind="stable").reset_index(drop=True)


def coverage_heatmap(coverage: pd.DataFrame) -> pd.DataFrame:
    """Wide heatmap: one row per cell, one column per interval (``'Mon 01-26 08:00'``), values gap.

    gap = planned - required productive moderators; negative means under-staffed in that interval.
    """
    if coverage.empty:
        return pd.DataFrame(columns=["queue", "language"])
    c = coverage_detail(coverage)
    c["gap"] = c["planned_productive"] - c["required_productive"]
    wide = c.pivot_table(index=["queue", "language"], columns="interval_start", values="gap", aggfunc="sum", sort=True)
    wide.columns = [interval_label(t) for t in wide.columns]
    return wide.reset_index()


def interval_label(t: pd.Timestamp) -> str:
    return f"{WEEKDAYS[t.weekday()]} {t:%m-%d %H:%M}"


def week_start(value, start: pd.Timestamp) -> pd.Timestamp:
    """Start date of a plan week from whatever the optimizer wrote in ``week``.

    Accepts a week index (0, 1, ... counted from the plan start), a date or timestamp (the week's
    first day), or an ISO week ``2026-W05``.
    """
    if isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer()):
        n = int(value)
        return start + pd.Timedelta(days=7 * (n if n < 1000 else 0))
    text = str(value)
    m = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text)
    if m:
        return pd.Timestamp(dt.date.fromisocalendar(int(m[1]), int(m[2]), 1))
    if text.isdigit():
        return start + pd.Timedelta(days=7 * int(text))
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()


def with_week_start(frame: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    cache = {v: week_start(v, start) for v in frame["week"].unique()} if len(frame) else {}
    return frame.assign(week_start=frame["week"].map(cache))


def _iso_weeks(frame: pd.DataFrame) -> bool:
    return len(frame) > 0 and all(re.fullmatch(r"\d{4}-?W\d{1,2}", str(v)) for v in frame["week"].unique())


def interval_week_start(times: pd.Series, start: pd.Timestamp, iso: bool) -> pd.Series:
    """Week start of each interval: the ISO Monday, or plan weeks counted from ``start``."""
    t = naive_utc(times).dt.normalize()
    if iso:
        return t - pd.to_timedelta(t.dt.weekday, unit="D")
    return start + pd.to_timedelta(((t - start).dt.days // 7) * 7, unit="D")


def vendor_paid_hours(shift_plan: pd.DataFrame) -> pd.Series:
    """Paid hours per vendor over the whole plan: sum of ``paid_hours x headcount`` [h]."""
    if shift_plan.empty:
        return pd.Series(dtype=float)
    return (shift_plan["paid_hours"] * shift_plan["headcount"]).groupby(shift_plan["vendor"]).sum()


def finance_weekly(vendor_allocation: pd.DataFrame, start: pd.Timestamp, shift_plan: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cost by week x vendor x queue x language.

    Columns ``week_start, vendor, queue, language, productive_hours, paid_hours, items, cost``:
    ``productive_hours`` is vendor_allocation ``hours``; ``cost`` (reporting currency) as planned;
    ``paid_hours`` is the vendor's shift-plan paid hours split over its rows in proportion to productive
    hours (the same rule the optimizer uses to split cost), NaN without a shift plan.
    """
    cols = ["week_start", "vendor", "queue", "language", "productive_hours", "paid_hours", "items", "cost"]
    if vendor_allocation.empty:
        return pd.DataFrame(columns=cols)
    va = with_week_start(vendor_allocation, start)
    out = va.groupby(["week_start", "vendor", "queue", "language"], sort=True)[["hours", "items", "cost"]].sum().reset_index()
    out = out.rename(columns={"hours": "productive_hours"})
    paid = vendor_paid_hours(shift_plan) if shift_plan is not None else pd.Series(dtype=float)
    share = out["productive_hours"] / out.groupby("vendor")["productive_hours"].transform("sum")
    out["paid_hours"] = out["vendor"].map(paid) * share.where(share.notna(), 0.0)
    return out[cols]


def finance_monthly(vendor_allocation: pd.DataFrame, allocation: pd.DataFrame, start: pd.Timestamp,
                    shift_plan: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cost by month x vendor x queue x language (columns as :func:`finance_weekly`, ``month`` first).

    A week that spans two months is split pro rata to the allocation's productive hours in each month
    (same vendor, queue and language); without allocation rows the week goes to its first day's month.
    Totals are preserved exactly.
    """
    cols = ["month", "vendor", "queue", "language", "productive_hours", "paid_hours", "items", "cost"]
    weekly = finance_weekly(vendor_allocation, start, shift_plan)
    if weekly.empty:
        return pd.DataFrame(columns=cols)
    keys = ["week_start", "vendor", "queue", "language"]
    if not allocation.empty:
        a = allocation[["vendor", "queue", "language", "interval_start", "productive_hours"]].copy()
        a["week_start"] = interval_week_start(a["interval_start"], start, _iso_weeks(vendor_allocation))
        a["month"] = naive_utc(a["interval_start"]).dt.to_period("M").dt.to_timestamp()
        share = a.groupby([*keys, "month"], sort=True)["productive_hours"].sum().reset_index()
        tot = share.groupby(keys)["productive_hours"].transform("sum")
        share["share"] = (share["productive_hours"] / tot).where(tot > 0)
        share = share.dropna(subset=["share"])[[*keys, "month", "share"]]
    else:
        share = pd.DataFrame(columns=[*keys, "month", "share"])
    m = weekly.merge(share, on=keys, how="left")
    fallback = m["month"].isna()
    m.loc[fallback, "month"] = m.loc[fallback, "week_start"].dt.to_period("M").dt.to_timestamp()
    m.loc[fallback, "share"] = 1.0
    m["month"] = pd.to_datetime(m["month"])
    values = ["productive_hours", "paid_hours", "items", "cost"]
    for c in values:
        m[c] = m[c] * m["share"]
    out = m.groupby(["month", "vendor", "queue", "language"], sort=True)[values].sum(min_count=1).reset_index()
    return out[cols]


def day_of(value) -> str:
    """A shift-plan ``day`` as text: dates as ``2026-01-26 Mon``, weekday numbers as ``Mon``."""
    if isinstance(value, numbers.Integral) and 0 <= int(value) <= 6:
        return WEEKDAYS[value]
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return str(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return f"{ts:%Y-%m-%d} {WEEKDAYS[ts.weekday()]}"


def shift_plan_table(shift_plan: pd.DataFrame) -> pd.DataFrame:
    """The shift plan, sorted by pool, site, day and shift, with ``paid_hours_total`` left to a formula."""
    cols = ["pool", "vendor", "site", "day", "shift", "start_local", "start_utc", "paid_hours", "headcount"]
    sp = shift_plan[[c for c in cols if c in shift_plan.columns]].copy()
    if "start_utc" in sp.columns:
        sp["start_utc"] = naive_utc(sp["start_utc"])
    if "day" in sp.columns and pd.api.types.is_datetime64_any_dtype(sp["day"]):
        sp["day"] = naive_utc(sp["day"])
    keys = [c for c in ("pool", "site", "day", "shift") if c in sp.columns]
    return sp.sort_values(keys, kind="stable").reset_index(drop=True)


def headcount_pivot(shift_plan: pd.DataFrame) -> pd.DataFrame:
    """Headcount: rows pool x site x shift, one column per day (``2026-01-26 Mon``)."""
    if shift_plan.empty:
        return pd.DataFrame(columns=["pool", "site", "shift"])
    days = shift_plan["day"].drop_duplicates().sort_values(kind="stable")
    order = list(dict.fromkeys(day_of(v) for v in days))
    sp = shift_plan.assign(day_label=[day_of(v) for v in shift_plan["day"]])
    wide = sp.pivot_table(index=["pool", "site", "shift"], columns="day_label", values="headcount", aggfunc="sum", fill_value=0, sort=True)
    wide = wide.reindex(columns=order, fill_value=0)
    wide.columns = list(wide.columns)
    return wide.reset_index()


def plan_paid_hours(shift_plan: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """Paid hours per pool and plan week from the shift plan: ``pool, site, week_start, paid_hours``."""
    if shift_plan.empty:
        return pd.DataFrame(columns=["pool", "site", "week_start", "paid_hours"])
    sp = shift_plan.copy()
    sp["paid"] = sp["paid_hours"] * sp["headcount"]
    try:
        days = naive_utc(sp["day"]) if not pd.api.types.is_integer_dtype(sp["day"]) else None
    except (ValueError, TypeError):
        days = None
    if days is not None:
        sp["week_start"] = start + pd.to_timedelta(((days.dt.normalize() - start).dt.days // 7) * 7, unit="D")
    else:
        sp["week_start"] = start
    return sp.groupby(["pool", "site", "week_start"], sort=True)["paid"].sum().rename("paid_hours").reset_index()


def bpo_vendors(ctx) -> list[str]:
    """Every BPO vendor (not in-house) named in the vendors table, pools or plan, sorted."""
    names: set[str] = set()
    for frame in (ctx.vendors, ctx.pools, ctx.shift_plan, ctx.vendor_allocation):
        if not frame.empty and "vendor" in frame.columns:
            names.update(str(v) for v in frame["vendor"].dropna().unique())
    names.discard(INHOUSE)
    return sorted(names)
