"""Tidy report tables: pure pandas, no Excel. The workbook writers only lay these out.

Every function returns a long (or, for the heatmap, deliberately wide) DataFrame sorted by its keys,
so two runs with the same inputs give byte-for-byte the same tables.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
import warnings

import numpy as np
import pandas as pd

from capplan.schema import (BACKLOG, CELL_KEYS, CURRENCY, DAY, HEADCOUNT, INHOUSE, INTERVAL_START, KIND, LANGUAGE,
                            MODEL, MONTH, PAID_HOURS, PLANNED_PRODUCTIVE, POOL, PRODUCTIVE_HOURS, QUEUE,
                            REQUIRED_PRODUCTIVE, SERIES_KEYS, SHIFT, SITE, START_LOCAL, START_UTC, UNMET, VENDOR,
                            VOLUME, WEEKDAYS, WEEK_START)

HOURS_PER_FTE_WEEK = 40.0  # paid hours of one full-time equivalent per week [h]
INHOUSE_SOURCING, VENDOR_SOURCING = "in-house", VENDOR  # the ``sourcing`` column of the finance tables


def sourcing(vendors: pd.Series) -> pd.Series:
    """``in-house`` for in-house pools, ``vendor`` for BPO vendors."""
    return vendors.map(lambda v: INHOUSE_SOURCING if v == INHOUSE else VENDOR_SOURCING)


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


MIN_PERIODS_FOR_CORRELATION = 3  # complete days (weeks) of residuals needed to estimate the correlation


def error_correlation(history: pd.DataFrame, period: str = "D") -> pd.Series:
    """Equicorrelation of the hourly errors within a day (``period="D"``) or week (``"W"``), per cell.

    The errors are the weekly-naive residuals of the history, ``e(t) = y(t) - y(t - 7 days)``. With
    ``sigma_h`` the standard deviation of the errors at hour position h of the period and ``S`` the
    period's sum of errors, the equicorrelation model ``Var(S) = sum sigma_h^2 + rho ((sum sigma_h)^2 -
    sum sigma_h^2)`` gives ``rho``, clipped to [0, 1]. Cells with fewer than
    ``MIN_PERIODS_FOR_CORRELATION`` complete periods get rho = 1 (the conservative sum of bounds).

    Returns a Series indexed by ``(queue, language)``.
    """
    if history.empty:
        return pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=CELL_KEYS))
    h = history[[*CELL_KEYS, INTERVAL_START, VOLUME]].copy()
    h[INTERVAL_START] = naive_utc(h[INTERVAL_START]).dt.floor("h")  # 15/30-minute history summed to hours
    wide = h.pivot_table(index=INTERVAL_START, columns=CELL_KEYS, values=VOLUME, aggfunc="sum")
    wide = wide.asfreq("h") if len(wide) > 1 else wide
    resid = wide - wide.shift(7 * 24)
    n_pos = 24 if period == "D" else 168
    t = resid.index
    offset = t.hour if period == "D" else t.weekday * 24 + t.hour
    first = int(np.argmax(offset == 0)) if (offset == 0).any() else len(t)
    n_periods = (len(t) - first) // n_pos
    e = resid.to_numpy(dtype=float)[first:first + n_periods * n_pos].reshape(n_periods, n_pos, -1)  # period x hour x cell
    complete = ~np.isnan(e).any(axis=1)  # period x cell
    e = np.where(complete[:, None, :], e, np.nan)
    counts = complete.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # cells with < 2 complete periods: NaN, handled below
        sigma = np.nan_to_num(np.nanstd(e, axis=0, ddof=1))  # hour x cell
        var_sum = np.nanvar(np.where(complete, e.sum(axis=1), np.nan), axis=0, ddof=1)
        s2, s1 = (sigma**2).sum(axis=0), sigma.sum(axis=0)
        rho = np.where(s1 * s1 - s2 > 0, (var_sum - s2) / (s1 * s1 - s2), 1.0)
    rho = np.where(counts >= MIN_PERIODS_FOR_CORRELATION, np.clip(np.nan_to_num(rho, nan=1.0), 0.0, 1.0), 1.0)
    return pd.Series(rho, index=resid.columns, dtype=float).rename_axis(CELL_KEYS)


def aggregate_bands(forecast: pd.DataFrame, keys: list[str], rho: pd.Series) -> pd.DataFrame:
    """Sum ``volume`` over ``keys`` groups and aggregate the prediction bands with correlation ``rho``.

    Each hourly band is taken as a multiple of the hour's error spread (half widths ``w_h = volume - lo``
    and ``hi - volume``); under equicorrelation the period's half width is
    ``sqrt((1 - rho) sum w_h^2 + rho (sum w_h)^2)``: the sum of bounds when rho = 1, the root sum of
    squares for independent hours. Lower bounds are clipped at 0.
    """
    bands = level_columns(forecast)
    f = forecast.copy()
    f["band_correlation"] = pd.MultiIndex.from_frame(f[CELL_KEYS]).map(rho.to_dict()).fillna(1.0) if len(f) else 1.0
    aggs = {VOLUME: (VOLUME, "sum"), "band_correlation": ("band_correlation", "first")}
    for col in bands:
        w = (f[VOLUME] - f[col]) if "_lo_" in col else (f[col] - f[VOLUME])
        f[f"_{col}_w"], f[f"_{col}_w2"] = w, w * w
        aggs[f"_{col}_w"], aggs[f"_{col}_w2"] = (f"_{col}_w", "sum"), (f"_{col}_w2", "sum")
    out = f.groupby(keys, sort=True).agg(**aggs).reset_index()
    r = out["band_correlation"]
    for col in bands:
        half = np.sqrt(((1 - r) * out[f"_{col}_w2"] + r * out[f"_{col}_w"] ** 2).clip(lower=0))
        out[col] = (out[VOLUME] - half).clip(lower=0) if "_lo_" in col else out[VOLUME] + half
    return out[[*keys, VOLUME, *bands, "band_correlation"]]


def daily_forecast(forecast: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Daily totals per queue and language: ``queue, language, date, volume, volume_lo_<L>..., band_correlation, model``.

    The daily bands aggregate the hourly bands with the within-day error correlation estimated from the
    history (:func:`error_correlation`, :func:`aggregate_bands`); without history they are the sums of the
    hourly bounds (rho = 1, conservative).
    """
    bands = level_columns(forecast)
    if forecast.empty:
        return pd.DataFrame(columns=[*CELL_KEYS, "date", VOLUME, *bands, "band_correlation"])
    rho = error_correlation(history, "D") if history is not None else pd.Series(dtype=float)
    f = forecast.assign(date=naive_utc(forecast[INTERVAL_START]).dt.normalize())
    out = aggregate_bands(f, [*CELL_KEYS, "date"], rho)
    if MODEL in f.columns:
        models = f.groupby(CELL_KEYS, sort=True)[MODEL].first().rename(MODEL)
        out = out.merge(models, on=CELL_KEYS, how="left")
    return out


def weekly_history_forecast(history: pd.DataFrame, forecast: pd.DataFrame, history_weeks: int = 8) -> pd.DataFrame:
    """Weekly history vs forecast per cell: ``queue, language, week_start, history, volume, volume_lo_<L>...``.

    Weeks start on Monday (UTC). The last ``history_weeks`` complete history weeks, then the forecast
    weeks with bands aggregated over the week (:func:`aggregate_bands` with the within-week correlation).
    A partial week is marked by ``hours`` below 168.
    """
    bands = level_columns(forecast)
    cols = [*CELL_KEYS, WEEK_START, "hours", "history", VOLUME, *bands, "band_correlation"]
    parts = []
    if not history.empty:
        h = history.assign(week_start=_monday(history[INTERVAL_START]))
        hw = h.groupby([*CELL_KEYS, WEEK_START], sort=True).agg(history=(VOLUME, "sum"), hours=(VOLUME, "size")).reset_index()
        last_weeks = sorted(hw.loc[hw["hours"] >= 168, WEEK_START].unique())[-history_weeks:]
        parts.append(hw[hw[WEEK_START].isin(last_weeks)])
    if not forecast.empty:
        rho = error_correlation(history, "W") if not history.empty else pd.Series(dtype=float)
        f = forecast.assign(week_start=_monday(forecast[INTERVAL_START]))
        fw = aggregate_bands(f, [*CELL_KEYS, WEEK_START], rho)
        fw["hours"] = f.groupby([*CELL_KEYS, WEEK_START], sort=True)[VOLUME].size().to_numpy()
        parts.append(fw)
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    out = out.groupby([*CELL_KEYS, WEEK_START], sort=True).first().reset_index()
    for c in cols:
        if c not in out.columns:
            out[c] = np.nan
    out["hours"] = out["hours"].astype("int64")
    return out[cols]


def _monday(times: pd.Series) -> pd.Series:
    t = naive_utc(times).dt.normalize()
    return t - pd.to_timedelta(t.dt.weekday, unit="D")


def daily_history(history: pd.DataFrame, before: pd.Timestamp | None = None, days: int | None = None) -> pd.DataFrame:
    """Daily history totals per queue and language: ``queue, language, date, volume``."""
    if history.empty:
        return pd.DataFrame(columns=[*CELL_KEYS, "date", VOLUME])
    h = history.assign(date=naive_utc(history[INTERVAL_START]).dt.normalize())
    if before is not None:
        h = h[h["date"] < before]
        if days is not None:
            h = h[h["date"] >= before - pd.Timedelta(days=days)]
    return h.groupby([*CELL_KEYS, "date"], sort=True)[VOLUME].sum().reset_index()


def chart_frame(history_daily: pd.DataFrame, forecast_daily: pd.DataFrame, level: int | None) -> pd.DataFrame:
    """Wide chart data: ``date`` then per queue ``<q> history, <q> forecast[, <q> lo L, <q> hi L]``.

    Volumes are summed over languages. History is blank on forecast days and vice versa.
    """
    parts = []
    queues = sorted(set(history_daily[QUEUE]).union(forecast_daily[QUEUE]))
    for q in queues:
        h = history_daily[history_daily[QUEUE] == q].groupby("date")[VOLUME].sum().rename(f"{q} history")
        fq = forecast_daily[forecast_daily[QUEUE] == q]
        cols = {VOLUME: f"{q} forecast"}
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
    cols = [*SERIES_KEYS, REQUIRED_PRODUCTIVE, PLANNED_PRODUCTIVE, BACKLOG, UNMET]
    c = coverage[[x for x in cols if x in coverage.columns]].copy()
    c[INTERVAL_START] = naive_utc(c[INTERVAL_START])
    return c.sort_values([*SERIES_KEYS], kind="stable").reset_index(drop=True)


def coverage_heatmap(coverage: pd.DataFrame) -> pd.DataFrame:
    """Wide heatmap: one row per cell, one column per interval (``'Mon 01-26 08:00'``), values gap.

    gap = planned - required productive moderators; negative means under-staffed in that interval.
    """
    if coverage.empty:
        return pd.DataFrame(columns=CELL_KEYS)
    c = coverage_detail(coverage)
    c["gap"] = c[PLANNED_PRODUCTIVE] - c[REQUIRED_PRODUCTIVE]
    wide = c.pivot_table(index=CELL_KEYS, columns=INTERVAL_START, values="gap", aggfunc="sum", sort=True)
    wide.columns = [interval_label(t) for t in wide.columns]
    return wide.reset_index()


MET = "met"
SHORTFALL = "shortfall: work unmet"
BELOW_TARGET = "realtime: below requirement"
DEFERRED = "deferred: backlog within deadline"
GAP_TOL = 1e-9  # [moderators], [h]


def coverage_status(coverage: pd.DataFrame, queues: pd.DataFrame) -> pd.DataFrame:
    """Coverage detail with the queue ``kind`` and a ``status`` per cell and interval.

    ``shortfall`` where work is left unmet (past its deadline, priced by the optimizer); else, when planned
    is below required: ``deferred`` for deferred queues (the backlog is worked down later, within the
    turnaround deadline: deliberate, not a crisis) and ``below requirement`` for realtime queues; else ``met``.
    """
    c = coverage_detail(coverage)
    kinds = queues.set_index(QUEUE)[KIND] if not queues.empty and KIND in queues.columns else pd.Series(dtype=str)
    c.insert(3, KIND, c[QUEUE].map(kinds).fillna("deferred"))
    unmet = c[UNMET] if UNMET in c.columns else pd.Series(0.0, index=c.index)
    under = c[PLANNED_PRODUCTIVE] < c[REQUIRED_PRODUCTIVE] - GAP_TOL
    c["status"] = np.select([unmet > GAP_TOL, under & (c[KIND] == "realtime"), under], [SHORTFALL, BELOW_TARGET, DEFERRED], MET)
    return c


def status_grid(detail: pd.DataFrame) -> pd.DataFrame:
    """The ``status`` of :func:`coverage_status` in the heatmap's layout (rows cells, columns intervals)."""
    if detail.empty:
        return pd.DataFrame(columns=CELL_KEYS)
    wide = detail.pivot(index=CELL_KEYS, columns=INTERVAL_START, values="status").sort_index()
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
    return (shift_plan[PAID_HOURS] * shift_plan[HEADCOUNT]).groupby(shift_plan[VENDOR]).sum()


def finance_weekly(vendor_allocation: pd.DataFrame, start: pd.Timestamp, shift_plan: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cost by week x vendor x queue x language.

    Columns ``week_start, sourcing, vendor, queue, language, productive_hours, paid_hours, items, cost``:
    ``productive_hours`` is vendor_allocation ``hours``; ``cost`` (reporting currency) as planned;
    ``paid_hours`` is the vendor's shift-plan paid hours split over its rows in proportion to productive
    hours (the same rule the optimizer uses to split cost), NaN without a shift plan.
    """
    cols = [WEEK_START, "sourcing", VENDOR, QUEUE, LANGUAGE, PRODUCTIVE_HOURS, PAID_HOURS, "items", "cost"]
    if vendor_allocation.empty:
        return pd.DataFrame(columns=cols)
    va = with_week_start(vendor_allocation, start)
    out = va.groupby([WEEK_START, VENDOR, *CELL_KEYS], sort=True)[["hours", "items", "cost"]].sum().reset_index()
    out = out.rename(columns={"hours": PRODUCTIVE_HOURS})
    paid = vendor_paid_hours(shift_plan) if shift_plan is not None else pd.Series(dtype=float)
    share = out[PRODUCTIVE_HOURS] / out.groupby(VENDOR)[PRODUCTIVE_HOURS].transform("sum")
    out[PAID_HOURS] = out[VENDOR].map(paid) * share.where(share.notna(), 0.0)
    out["sourcing"] = sourcing(out[VENDOR])
    return out[cols]


def finance_monthly(vendor_allocation: pd.DataFrame, allocation: pd.DataFrame, start: pd.Timestamp,
                    shift_plan: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cost by month x vendor x queue x language (columns as :func:`finance_weekly`, ``month`` first).

    A week that spans two months is split pro rata to the allocation's productive hours in each month
    (same vendor, queue and language); without allocation rows the week goes to its first day's month.
    Totals are preserved exactly.
    """
    cols = [MONTH, "sourcing", VENDOR, QUEUE, LANGUAGE, PRODUCTIVE_HOURS, PAID_HOURS, "items", "cost"]
    weekly = finance_weekly(vendor_allocation, start, shift_plan)
    if weekly.empty:
        return pd.DataFrame(columns=cols)
    keys = [WEEK_START, VENDOR, *CELL_KEYS]
    if not allocation.empty:
        a = allocation[[VENDOR, *SERIES_KEYS, PRODUCTIVE_HOURS]].copy()
        a[WEEK_START] = interval_week_start(a[INTERVAL_START], start, _iso_weeks(vendor_allocation))
        a[MONTH] = naive_utc(a[INTERVAL_START]).dt.to_period("M").dt.to_timestamp()
        share = a.groupby([*keys, MONTH], sort=True)[PRODUCTIVE_HOURS].sum().reset_index()
        tot = share.groupby(keys)[PRODUCTIVE_HOURS].transform("sum")
        share["share"] = (share[PRODUCTIVE_HOURS] / tot).where(tot > 0)
        share = share.dropna(subset=["share"])[[*keys, MONTH, "share"]]
    else:
        share = pd.DataFrame(columns=[*keys, MONTH, "share"])
    m = weekly.merge(share, on=keys, how="left")
    fallback = m[MONTH].isna()
    m.loc[fallback, MONTH] = m.loc[fallback, WEEK_START].dt.to_period("M").dt.to_timestamp()
    m.loc[fallback, "share"] = 1.0
    m[MONTH] = pd.to_datetime(m[MONTH])
    values = [PRODUCTIVE_HOURS, PAID_HOURS, "items", "cost"]
    for c in values:
        m[c] = m[c] * m["share"]
    out = m.groupby([MONTH, "sourcing", VENDOR, QUEUE, LANGUAGE], sort=True)[values].sum(min_count=1).reset_index()
    return out[cols]


ALL_VENDORS = "(all)"  # the scope of a budget row that names no vendor


def budget_vs_plan(budget: pd.DataFrame, vendor_allocation: pd.DataFrame, allocation: pd.DataFrame, start: pd.Timestamp,
                   shift_plan: pd.DataFrame | None, fx: dict[str, float], currency: str) -> pd.DataFrame:
    """Budget against plan cost by month: ``month, scope, budget, plan_cost`` (reporting currency).

    ``budget`` has ``month`` (first day of the month), ``vendor`` (empty = the whole plan, in-house and
    vendors) and ``amount`` in ``currency`` (its own column), converted with ``fx`` (value of 1 unit in the
    reporting currency). Vendors match exactly. Months of the plan without a budget row get budget 0 in the
    ``(all)`` scope, so no planned cost is left out.
    """
    cols = [MONTH, "scope", "budget", "plan_cost"]
    b = budget.copy()
    rate = b[CURRENCY].map(lambda c: fx.get(str(c), np.nan)) if CURRENCY in b.columns else 1.0
    b["budget"] = b["amount"] * (rate / fx.get(currency, 1.0))
    b["scope"] = b[VENDOR].fillna("").astype(str).replace("", ALL_VENDORS) if VENDOR in b.columns else ALL_VENDORS
    b[MONTH] = pd.to_datetime(b[MONTH]).dt.to_period("M").dt.to_timestamp()
    b = b.groupby([MONTH, "scope"], sort=True)["budget"].sum().reset_index()
    monthly = finance_monthly(vendor_allocation, allocation, start, shift_plan)
    by_all = monthly.groupby(MONTH)["cost"].sum()
    by_vendor = monthly.groupby([MONTH, VENDOR])["cost"].sum()
    plan_months = pd.DataFrame({MONTH: by_all.index, "scope": ALL_VENDORS})
    out = b.merge(plan_months, on=[MONTH, "scope"], how="outer").fillna({"budget": 0.0})
    out["plan_cost"] = [float(by_all.get(m, 0.0)) if s == ALL_VENDORS else float(by_vendor.get((m, s), 0.0))
                        for m, s in zip(out[MONTH], out["scope"])]
    return out.sort_values([MONTH, "scope"], kind="stable").reset_index(drop=True)[cols]


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
    cols = [POOL, VENDOR, SITE, DAY, SHIFT, START_LOCAL, START_UTC, PAID_HOURS, HEADCOUNT]
    sp = shift_plan[[c for c in cols if c in shift_plan.columns]].copy()
    if START_UTC in sp.columns:
        sp[START_UTC] = naive_utc(sp[START_UTC])
    if DAY in sp.columns and pd.api.types.is_datetime64_any_dtype(sp[DAY]):
        sp[DAY] = naive_utc(sp[DAY])
    keys = [c for c in (POOL, SITE, DAY, SHIFT) if c in sp.columns]
    return sp.sort_values(keys, kind="stable").reset_index(drop=True)


def headcount_pivot(shift_plan: pd.DataFrame) -> pd.DataFrame:
    """Headcount: rows pool x site x shift, one column per day (``2026-01-26 Mon``)."""
    if shift_plan.empty:
        return pd.DataFrame(columns=[POOL, SITE, SHIFT])
    days = shift_plan[DAY].drop_duplicates().sort_values(kind="stable")
    order = list(dict.fromkeys(day_of(v) for v in days))
    sp = shift_plan.assign(day_label=[day_of(v) for v in shift_plan[DAY]])
    wide = sp.pivot_table(index=[POOL, SITE, SHIFT], columns="day_label", values=HEADCOUNT, aggfunc="sum", fill_value=0, sort=True)
    wide = wide.reindex(columns=order, fill_value=0)
    wide.columns = list(wide.columns)
    return wide.reset_index()


def plan_paid_hours(shift_plan: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """Paid hours per pool and plan week from the shift plan: ``pool, site, week_start, paid_hours``."""
    if shift_plan.empty:
        return pd.DataFrame(columns=[POOL, SITE, WEEK_START, PAID_HOURS])
    sp = shift_plan.copy()
    sp["paid"] = sp[PAID_HOURS] * sp[HEADCOUNT]
    try:
        days = naive_utc(sp[DAY]) if not pd.api.types.is_integer_dtype(sp[DAY]) else None
    except (ValueError, TypeError):
        days = None
    if days is not None:
        sp[WEEK_START] = start + pd.to_timedelta(((days.dt.normalize() - start).dt.days // 7) * 7, unit="D")
    else:
        sp[WEEK_START] = start
    return sp.groupby([POOL, SITE, WEEK_START], sort=True)["paid"].sum().rename(PAID_HOURS).reset_index()


def bpo_vendors(ctx) -> list[str]:
    """Every BPO vendor (not in-house) named in the vendors table, pools or plan, sorted."""
    names: set[str] = set()
    for frame in (ctx.vendors, ctx.pools, ctx.shift_plan, ctx.vendor_allocation):
        if not frame.empty and VENDOR in frame.columns:
            names.update(str(v) for v in frame[VENDOR].dropna().unique())
    names.discard(INHOUSE)
    return sorted(names)


QUALITY_COST_COLUMNS = ["vendor", "items", "cost", "quality", "rework_share", "rework_factor", "cost_per_item_first_review",
                        "quality_adjusted_cost_per_item", "rework_in_plan"]


def quality_cost_by_vendor(vendor_allocation: pd.DataFrame, allocation: pd.DataFrame, proficiency: pd.DataFrame,
                           rework_in_plan: bool, rework_aht_ratio: float) -> pd.DataFrame:
    """Cost per item by vendor (in-house as ``inhouse``), before and after the rework its quality causes.

    ``quality`` per vendor is the items-weighted mean of its pools' quality on the cells it works (within a cell,
    pools are weighted by their work hours); ``rework_factor = 1 + (1 - quality) x rework_aht_ratio`` likewise.
    With ``[staffing] rework`` on, the plan's hours already include the rework, so ``cost / items`` is the
    quality-adjusted cost and the first-review cost is that divided by the factor; with it off, the plan bought
    first reviews only and the quality-adjusted cost is ``cost / items x rework_factor`` (what the rework would add).
    """
    if not len(vendor_allocation) or proficiency is None or not len(proficiency):
        return pd.DataFrame(columns=QUALITY_COST_COLUMNS)
    ratio = float(rework_aht_ratio)
    prof = proficiency.assign(rf=1.0 + (1.0 - proficiency["quality"].clip(0, 1)) * ratio)
    a = allocation.groupby(["pool", "vendor", "queue", "language"], as_index=False)["work_hours"].sum()
    a = a.merge(prof[["pool", "queue", "language", "quality", "rf"]], on=["pool", "queue", "language"], how="left")
    a["wq"], a["wr"] = a["work_hours"] * a["quality"], a["work_hours"] * a["rf"]
    cell = a.groupby(["vendor", "queue", "language"], as_index=False)[["work_hours", "wq", "wr"]].sum()
    cell["quality"] = cell["wq"] / cell["work_hours"].where(cell["work_hours"] > 0)
    cell["rf"] = cell["wr"] / cell["work_hours"].where(cell["work_hours"] > 0)
    va = vendor_allocation.groupby(["vendor", "queue", "language"], as_index=False)[["items", "cost"]].sum()
    va = va.merge(cell[["vendor", "queue", "language", "quality", "rf"]], on=["vendor", "queue", "language"], how="left")
    va["iq"], va["ir"] = va["items"] * va["quality"], va["items"] * va["rf"]
    out = va.groupby("vendor", as_index=False)[["items", "cost", "iq", "ir"]].sum()
    items = out["items"].where(out["items"] > 0)
    out["quality"] = out["iq"] / items
    out["rework_share"] = 1.0 - out["quality"]
    out["rework_factor"] = out["ir"] / items
    per_item = out["cost"] / items
    out["cost_per_item_first_review"] = per_item / out["rework_factor"] if rework_in_plan else per_item
    out["quality_adjusted_cost_per_item"] = per_item if rework_in_plan else per_item * out["rework_factor"]
    out["rework_in_plan"] = bool(rework_in_plan)
    return out.sort_values("vendor", kind="stable").reset_index(drop=True)[QUALITY_COST_COLUMNS]


def aht_effect(requirements: pd.DataFrame) -> pd.DataFrame:
    """Per cell: the handle time requirements planned with against the table's, and its workload effect.

    Columns ``queue``, ``language``, ``aht_source``, ``aht_table_s`` (handle_times.csv) and ``aht_s``
    (volume-weighted mean of the planned handle time) [s], ``workload_table_hours`` (volume x table
    AHT), ``workload_hours`` (as planned) and ``workload_change_hours`` [h], ``workload_change`` (share).
    Empty when the requirements have no ``aht_table_s`` column.
    """
    cols = [QUEUE, LANGUAGE, "aht_source", "aht_table_s", "aht_s", "workload_table_hours", "workload_hours",
            "workload_change_hours", "workload_change"]
    if "aht_table_s" not in requirements.columns or requirements.empty:
        return pd.DataFrame(columns=cols)
    r = requirements.assign(workload_table_hours=requirements["volume"] * requirements["aht_table_s"] / 3600.0)
    g = r.groupby(CELL_KEYS, sort=True)
    out = g.agg(aht_source=("aht_source", lambda s: "/".join(sorted(set(map(str, s))))), volume=("volume", "sum"),
                aht_table_s=("aht_table_s", "mean"), workload_table_hours=("workload_table_hours", "sum"),
                workload_hours=("workload_hours", "sum")).reset_index()
    out["aht_s"] = (out["workload_hours"] * 3600.0 / out["volume"]).where(out["volume"] > 0, out["aht_table_s"])
    out["workload_change_hours"] = out["workload_hours"] - out["workload_table_hours"]
    out["workload_change"] = (out["workload_change_hours"] / out["workload_table_hours"]).where(out["workload_table_hours"] > 0)
    return out[cols]
