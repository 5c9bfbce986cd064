"""Tidy roster tables for a vendor's scheduler: moderators per shift and skill, weekly patterns, hourly need.

Pure pandas, no Excel; :mod:`capplan.report.vendor` lays them out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.report.tidy import naive_utc
from capplan.schema import (DAY, DAYS_PER_WEEK, INTERVAL_START, LANGUAGE, PAID_HOURS, POOL, PRODUCTIVE_HOURS, QUEUE,
                            SHIFT, SITE, START_LOCAL, START_UTC, WEEKDAYS)

NO_WORK = "(no work planned)"  # the skill of moderators on a shift with no allocated work


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split the integer ``total`` in proportion to ``weights`` (largest remainder; ties to the first).

    The parts are whole numbers adding up to ``total``; each is within 1 of its exact quota.

    References
    ----------
    Balinski, M. and Young, H. P. (2001), *Fair Representation*, 2nd ed., Brookings (Hamilton's method).
    """
    w = np.asarray(weights, dtype=float)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=int)
    quota = total * w / w.sum()
    parts = np.floor(quota).astype(int)
    left = int(total - parts.sum())
    order = np.argsort(-(quota - parts), kind="stable")
    parts[order[:left]] += 1
    return parts


def _shift_end(sp: pd.DataFrame) -> pd.Series:
    if "end_utc" in sp.columns:
        return naive_utc(sp["end_utc"])
    hours = sp["on_site_hours"] if "on_site_hours" in sp.columns else sp[PAID_HOURS]
    return naive_utc(sp[START_UTC]) + pd.to_timedelta(hours.astype(float), unit="h")


def roster_by_skill(shift_plan: pd.DataFrame, allocation: pd.DataFrame, interval_minutes: int = 60) -> pd.DataFrame:
    """Moderators per site, pool, day, shift start and skill (queue x language).

    Each shift's headcount is split in whole moderators in proportion to the productive hours its pool
    has planned on each queue x language while the shift is on site (shifts of one pool that overlap
    share the same mix). Columns ``site, pool, day, weekday, shift, start_local, start_utc,
    shift_headcount, queue, language, moderators``; per shift the moderators add up to the headcount.
    """
    cols = [SITE, POOL, DAY, "weekday", SHIFT, START_LOCAL, START_UTC, "shift_headcount", QUEUE, LANGUAGE, "moderators"]
    if shift_plan.empty:
        return pd.DataFrame(columns=cols)
    sp = shift_plan.assign(start=naive_utc(shift_plan[START_UTC]), end=_shift_end(shift_plan)).sort_values(
        [SITE, POOL, DAY, "start"], kind="stable")
    alloc = allocation.assign(t=naive_utc(allocation[INTERVAL_START])) if len(allocation) else allocation
    by_pool = {p: a for p, a in alloc.groupby(POOL, sort=False)} if len(alloc) else {}
    rows = []
    for r in sp.itertuples(index=False):
        a = by_pool.get(r.pool)
        mix = pd.Series(dtype=float)
        if a is not None:
            window = a[(a["t"] >= r.start) & (a["t"] < r.end)]
            mix = window.groupby([QUEUE, LANGUAGE], sort=True)[PRODUCTIVE_HOURS].sum()
            mix = mix[mix > 0]
        base = {SITE: r.site, POOL: r.pool, DAY: r.day, "weekday": WEEKDAYS[pd.Timestamp(r.day).weekday()],
                SHIFT: r.shift, START_LOCAL: r.start_local, START_UTC: r.start, "shift_headcount": int(r.headcount)}
        if mix.empty:
            rows.append({**base, QUEUE: NO_WORK, LANGUAGE: "", "moderators": int(r.headcount)})
            continue
        for (q, lang), n in zip(mix.index, apportion(int(r.headcount), mix.to_numpy())):
            if n > 0:
                rows.append({**base, QUEUE: q, LANGUAGE: lang, "moderators": int(n)})
    return pd.DataFrame(rows, columns=cols)


def pattern_table(patterns: pd.DataFrame, pools: pd.DataFrame) -> pd.DataFrame:
    """Weekly days-off patterns: ``site, pool, shift, start_day, days_per_week, days_worked, days_off,
    moderators, paid_hours_week``; ``moderators`` are people (their sum is the real headcount)."""
    cols = [SITE, POOL, SHIFT, "start_day", DAYS_PER_WEEK, "days_worked", "days_off", "moderators", "paid_hours_week"]
    if patterns.empty:
        return pd.DataFrame(columns=cols)
    p = patterns.copy()
    site = pools.set_index(POOL)[SITE] if len(pools) else pd.Series(dtype=str)
    p[SITE] = p[POOL].map(site)
    idx = p["start_day_index"] if "start_day_index" in p.columns else p["start_day"].map(WEEKDAYS.index)
    worked = [[(int(s) + k) % 7 for k in range(int(n))] for s, n in zip(idx, p[DAYS_PER_WEEK])]
    p["days_worked"] = [", ".join(WEEKDAYS[d] for d in w) for w in worked]
    p["days_off"] = [", ".join(WEEKDAYS[(w[0] + k) % 7] for k in range(len(w), 7)) for w in worked]  # in week order after the last day worked
    p["_order"] = idx
    p = p.sort_values([SITE, POOL, SHIFT, "_order"], kind="stable").reset_index(drop=True)
    return p[[c for c in cols if c in p.columns]]


def people(patterns: pd.DataFrame, shift_plan: pd.DataFrame) -> int | None:
    """Real headcount: moderators on weekly patterns (None when the patterns are not known)."""
    if patterns.empty:
        return None if len(shift_plan) else 0
    return int(patterns["moderators"].sum())


def hourly_requirement(allocation: pd.DataFrame, interval_minutes: int = 60) -> pd.DataFrame:
    """Productive moderators required per interval on each queue x language (columns ``queue / language``):
    the allocated productive hours divided by the interval length."""
    if allocation.empty:
        return pd.DataFrame(columns=[INTERVAL_START])
    a = allocation.assign(**{INTERVAL_START: naive_utc(allocation[INTERVAL_START])})
    a["cell"] = a[QUEUE].astype(str) + " / " + a[LANGUAGE].astype(str)
    wide = a.pivot_table(index=INTERVAL_START, columns="cell", values=PRODUCTIVE_HOURS, aggfunc="sum", fill_value=0.0, sort=True)
    wide = wide / (interval_minutes / 60)
    wide.columns = list(wide.columns)
    return wide.reset_index()
