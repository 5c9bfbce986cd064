"""Turn solved values (or any integer staffing + allocation) into the plan tables.

The same functions serve the optimizer and the baseline: :func:`plan_tables` takes moderators per
pattern, allocation hours per (pool, cell, t) and unmet hours, and lays out every output table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.optimize.data import PlanData
from capplan.optimize.result import BINDING_COLUMNS, SHORTFALL_COLUMNS
from capplan.staffing.backlog import deferred_flow
from capplan.units import interval_index
from capplan.schema import (
    AHT_S,
    BACKLOG,
    COVERAGE_COLUMNS,
    DAY,
    HEADCOUNT,
    INHOUSE,
    INTERVAL_START,
    LANGUAGE,
    PAID_HOURS,
    PLANNED_PRODUCTIVE,
    POOL,
    PRODUCTIVE_HOURS,
    QUEUE,
    REQUIRED_PRODUCTIVE,
    SHIFT,
    SHIFT_PLAN_COLUMNS,
    SITE,
    START_UTC,
    UNMET,
    VENDOR,
    VENDOR_ALLOCATION_COLUMNS,
)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TOL = 1e-6


def staff_table(d: PlanData, staff: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(shift_plan, patterns) from moderators per pattern."""
    pat_rows = []
    per_occ = np.zeros(len(d.occurrences))
    occ_cost = np.zeros(len(d.occurrences))  # charged cost of the moderators on each occurrence [currency]
    for k, pat in enumerate(d.patterns):
        n = int(staff[k])
        if n <= 0:
            continue
        pool = d.pools.loc[pat.pool]
        group = d.groups.loc[pat.group] if pat.group >= 0 else None
        pat_rows.append({POOL: pool[POOL], VENDOR: pool[VENDOR], SHIFT: pat.shift, "start_day": WEEKDAYS[pat.start_day],
                         "start_day_index": pat.start_day, "days_per_week": pat.days_per_week, "moderators": n,
                         "paid_hours_week": pat.paid_hours * pat.days_per_week, "contract": pat.kind,
                         "weekly_hours": float(group["weekly_hours"]) if group is not None else np.nan})
        for o in pat.occurrences:
            per_occ[o] += n
            occ_cost[o] += n * pat.charged_hours / len(pat.occurrences) * float(pool["rate"])
    patterns = pd.DataFrame(pat_rows, columns=[POOL, VENDOR, SHIFT, "start_day", "start_day_index", "days_per_week",
                                               "moderators", "paid_hours_week", "contract", "weekly_hours"])
    patterns = patterns.sort_values([POOL, SHIFT, "start_day_index"], kind="stable").reset_index(drop=True)
    rows = []
    paid_by_shift = dict(zip(d.shifts[SHIFT], d.shifts[PAID_HOURS].astype(float)))
    for o, occ in enumerate(d.occurrences):
        n = int(per_occ[o])
        if n <= 0:
            continue
        pool = d.pools.loc[occ.pool]
        paid = paid_by_shift[occ.shift]
        rows.append({
            POOL: pool[POOL], VENDOR: pool[VENDOR], SITE: pool[SITE], SHIFT: occ.shift, DAY: occ.day,
            "start_local": occ.start_local.replace(tzinfo=None).isoformat(timespec="minutes"),
            START_UTC: occ.start_utc, PAID_HOURS: paid, HEADCOUNT: n, "timezone": pool["timezone"],
            "end_utc": occ.start_utc + pd.Timedelta(hours=occ.on_site_hours), "on_site_hours": occ.on_site_hours,
            "paid_hours_total": paid * n, "cost": float(occ_cost[o]),
        })
    cols = SHIFT_PLAN_COLUMNS + ["timezone", "end_utc", "on_site_hours", "paid_hours_total", "cost"]
    shift_plan = pd.DataFrame(rows, columns=cols)
    if len(shift_plan):
        shift_plan[START_UTC] = pd.to_datetime(shift_plan[START_UTC], utc=True)
        shift_plan["end_utc"] = pd.to_datetime(shift_plan["end_utc"], utc=True)
        shift_plan[HEADCOUNT] = shift_plan[HEADCOUNT].astype(int)
    shift_plan = shift_plan.sort_values([POOL, SHIFT, DAY], kind="stable").reset_index(drop=True)
    return shift_plan, patterns


def allocation_table(d: PlanData, alloc: dict) -> pd.DataFrame:
    """alloc: (pool, cell) -> {t: productive hours}."""
    util = float(d.config.staffing.deferred_max_utilisation)
    parts = []
    for (p, c), vals in sorted(alloc.items()):
        ts = np.array([t for t, v in vals.items() if v > TOL], dtype=int)
        if not len(ts):
            continue
        hours = np.array([vals[t] for t in ts])
        prof = d.multiplier(p, c)
        std = hours / prof
        work = std * (util if d.cells.at[c, "kind"] != "realtime" else 1.0)
        parts.append(pd.DataFrame({
            POOL: d.pools.at[p, POOL], VENDOR: d.pools.at[p, VENDOR], QUEUE: d.cells.at[c, QUEUE],
            LANGUAGE: d.cells.at[c, LANGUAGE], INTERVAL_START: d.times[ts], PRODUCTIVE_HOURS: hours,
            "standard_hours": std, "work_hours": work,
        }))
    cols = [POOL, VENDOR, QUEUE, LANGUAGE, INTERVAL_START, PRODUCTIVE_HOURS, "standard_hours", "work_hours"]
    if not parts:
        out = pd.DataFrame(columns=cols)
        out[INTERVAL_START] = pd.to_datetime(out[INTERVAL_START], utc=True)
        return out
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values([POOL, QUEUE, LANGUAGE, INTERVAL_START], kind="stable").reset_index(drop=True)


def coverage_table(d: PlanData, allocation: pd.DataFrame) -> pd.DataFrame:
    """Coverage per cell and interval, recomputed from the allocation.

    Realtime: unmet = max(required - served standard hours, 0). Deferred: work done first-in
    first-out, never ahead of arrivals; what is not done by its due interval is unmet (counted once,
    in the interval it becomes late, then dropped); backlog = arrived - done - late, the live work
    waiting [standard hours].
    """
    C, T = len(d.cells), d.T
    cell_index = {k: i for i, k in enumerate(zip(d.cells[QUEUE], d.cells[LANGUAGE]))}
    std = np.zeros((C, T))
    work = np.zeros((C, T))
    if len(allocation):
        ci = np.array([cell_index[k] for k in zip(allocation[QUEUE], allocation[LANGUAGE])], dtype=int)
        ti = interval_index(allocation[INTERVAL_START], d.start, d.h)
        np.add.at(std, (ci, ti), allocation["standard_hours"].to_numpy(float))
        np.add.at(work, (ci, ti), allocation["work_hours"].to_numpy(float))
    backlog = np.zeros((C, T))
    unmet = np.zeros((C, T))
    realtime = (d.cells["kind"] == "realtime").to_numpy()
    for c in range(C):
        if realtime[c]:
            unmet[c] = np.maximum(d.need_hours[c] - std[c], 0.0)
            continue
        flow = deferred_flow(d.workload[c], int(d.cells.at[c, "due_shift"]), work[c], cyclic=d.week_end == "cyclic",
                             opening_due=None if d.opening_due is None else d.opening_due[c])
        unmet[c] = np.diff(flow.late, prepend=0.0)
        backlog[c] = flow.backlog
    frame = pd.DataFrame({
        QUEUE: np.repeat(d.cells[QUEUE].to_numpy(), T), LANGUAGE: np.repeat(d.cells[LANGUAGE].to_numpy(), T),
        INTERVAL_START: np.tile(d.times, C), REQUIRED_PRODUCTIVE: d.required_productive.ravel(),
        PLANNED_PRODUCTIVE: std.ravel() / d.h, BACKLOG: backlog.ravel(), UNMET: np.where(np.abs(unmet) < TOL, 0.0, unmet).ravel(),
        "kind": np.repeat(d.cells["kind"].to_numpy(), T), "workload_hours": d.workload.ravel(),
        "work_done_hours": work.ravel(), "required_hours": d.need_hours.ravel(),
    })
    frame[INTERVAL_START] = pd.to_datetime(frame[INTERVAL_START], utc=True)
    return frame[COVERAGE_COLUMNS + ["kind", "workload_hours", "work_done_hours", "required_hours"]]


def vendor_allocation_table(d: PlanData, allocation: pd.DataFrame, shift_plan: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """Per vendor (in-house as 'inhouse'), cell and ISO week: productive hours, items, cost share."""
    if not len(allocation):
        return pd.DataFrame(columns=VENDOR_ALLOCATION_COLUMNS)
    a = allocation.copy()
    iso = a[INTERVAL_START].dt.isocalendar()
    a["week"] = iso["year"].astype(str) + "-W" + iso["week"].astype(int).map("{:02d}".format)
    aht = dict(zip(zip(d.cells[QUEUE], d.cells[LANGUAGE]), d.cells[AHT_S].astype(float)))
    kind = dict(zip(zip(d.cells[QUEUE], d.cells[LANGUAGE]), d.cells["kind"]))
    keys = list(zip(a[QUEUE], a[LANGUAGE]))
    # realtime: items served = volume x covered share, split by standard hours
    cov = coverage.set_index([QUEUE, LANGUAGE, INTERVAL_START])
    rt = np.array([kind[k] == "realtime" for k in keys])
    items = a["work_hours"].to_numpy(float) * 3600.0 / np.array([aht[k] for k in keys])
    if rt.any():
        cell_index = {k: i for i, k in enumerate(zip(d.cells[QUEUE], d.cells[LANGUAGE]))}
        ci = np.array([cell_index[k] for k in keys], dtype=int)
        ti = interval_index(a[INTERVAL_START], d.start, d.h)
        served_std = cov[PLANNED_PRODUCTIVE].reindex(list(zip(a[QUEUE], a[LANGUAGE], a[INTERVAL_START]))).to_numpy() * d.h
        need = d.need_hours[ci, ti]
        covered = np.minimum(1.0, np.divide(served_std, need, out=np.ones_like(need), where=need > 0))
        share = np.divide(a["standard_hours"].to_numpy(float), served_std, out=np.zeros_like(need), where=served_std > 0)
        items = np.where(rt, d.volume[ci, ti] * covered * share, items)
    a["items"] = items
    paid = shift_plan.groupby(VENDOR)["cost"].sum() if len(shift_plan) else pd.Series(dtype=float)
    total = a.groupby(VENDOR)[PRODUCTIVE_HOURS].sum()
    out = a.groupby([VENDOR, QUEUE, LANGUAGE, "week"], as_index=False).agg(hours=(PRODUCTIVE_HOURS, "sum"), items=("items", "sum"))
    out["cost"] = [paid.get(v, 0.0) * h / total[v] if total[v] > 0 else 0.0 for v, h in zip(out[VENDOR], out["hours"])]
    return out.sort_values([VENDOR, QUEUE, LANGUAGE, "week"], kind="stable").reset_index(drop=True)[VENDOR_ALLOCATION_COLUMNS]


def shortfall_table(d: PlanData, coverage: pd.DataFrame, binding: pd.DataFrame) -> pd.DataFrame:
    short = coverage[coverage[UNMET] > TOL]
    if not len(short):
        return pd.DataFrame(columns=SHORTFALL_COLUMNS)
    cells = d.cells.set_index([QUEUE, LANGUAGE])
    unskilled = {(d.cells.at[c, QUEUE], d.cells.at[c, LANGUAGE]) for c in d.unskilled_cells}
    skilled_pools: dict[tuple[str, str], set[str]] = {}
    for p, c in d.skills:
        skilled_pools.setdefault((d.cells.at[c, QUEUE], d.cells.at[c, LANGUAGE]), set()).add(d.pools.at[p, POOL])
    limits: dict[str, list[str]] = {}
    for row in binding.itertuples(index=False):
        limits.setdefault(row.name, []).append(row.kind)
    vendor_of = dict(zip(d.pools[POOL], d.pools[VENDOR]))
    floored = {(d.cells.at[c, QUEUE], d.cells.at[c, LANGUAGE]): f"severity {int(d.cells.at[c, 'severity'])}" for _, c in d.excluded}
    reasons: dict[tuple[str, str], str] = {}  # one per cell: a plan short in thousands of intervals (3x demo, no slivers) took minutes

    def reason_for(key: tuple[str, str]) -> str:
        if key in unskilled:
            return "no skilled pool: no pool has this queue and language"
        pools = sorted(skilled_pools.get(key, set()))
        vendors = sorted({vendor_of[p] for p in pools})
        bound = sorted({f"{k} {n}" for n in pools + vendors + [key[1]] for k in limits.get(n, [])})
        bound += sorted({f"{k} {n}" for n, ks in limits.items() for k in ks if n.endswith(f"/{key[1]}")})
        if key in floored:
            bound += [f"{k} {floored[key]}" for k in limits.get(floored[key], [])]
        return ("limits bind: " + "; ".join(bound)) if bound else "cheaper to leave unmet than to staff (penalty below cost) or no pool on site"

    rows = []
    for r in short.itertuples(index=False):
        key = (r.queue, r.language)
        if key not in reasons:
            reasons[key] = reason_for(key)
        reason = reasons[key]
        sev = int(cells.at[key, "severity"])
        rows.append({QUEUE: r.queue, LANGUAGE: r.language, INTERVAL_START: r.interval_start, "unmet_hours": float(r.unmet),
                     "severity": sev, "penalty": float(r.unmet) * float(cells.at[key, "penalty"]), "reason": reason})
    return pd.DataFrame(rows, columns=SHORTFALL_COLUMNS).sort_values([QUEUE, LANGUAGE, INTERVAL_START], kind="stable").reset_index(drop=True)


BINDING_RTOL = 1e-3  # a limit counts as binding within this relative distance (74.99 % of a 75 % cap binds)


def _at(x: float, limit: float) -> bool:
    """x at or above ``limit`` within :data:`BINDING_RTOL` (relative)."""
    return x >= limit * (1.0 - BINDING_RTOL) - 1e-9


def _rostered(d: PlanData) -> set[str]:
    return set(d.groups[POOL]) if len(d.groups) else set()


def _bind_headcount(d: PlanData, patterns: pd.DataFrame) -> list[tuple]:
    rows = []
    moderators = patterns.groupby(POOL)["moderators"].sum() if len(patterns) else pd.Series(dtype=float)
    rostered = _rostered(d)
    for _, pool in d.pools.iterrows():
        n = float(moderators.get(pool[POOL], 0))
        if pool[POOL] in rostered:  # a roster fixes the headcount: its rows are the roster's and the temp cap's
            temps = int(pool["max_headcount"] - pool["min_headcount"])
            if temps > 0 and n >= pool["max_headcount"] - TOL:
                share = float(d.config.contracts.temp_max_share)
                rows.append(("temp_cap", pool[POOL], f"{temps} temps = temp_max_share {share:g} x {int(pool['min_headcount'])} on the roster"))
            continue
        if pool["max_headcount"] > 0 and n >= pool["max_headcount"] - TOL:
            rows.append(("pool_max_headcount", pool[POOL], f"{int(n)} moderators = max_headcount {int(pool['max_headcount'])}"))
        elif pool["min_headcount"] > 0 and n <= pool["min_headcount"] + TOL:
            rows.append(("pool_min_headcount", pool[POOL], f"{int(n)} moderators = min_headcount {int(pool['min_headcount'])}"))
    return rows


def _bind_vendors(d: PlanData, shift_plan: pd.DataFrame, short: dict) -> list[tuple]:
    rows = []
    weekly = (shift_plan.groupby(VENDOR)["paid_hours_total"].sum() / d.weeks) if len(shift_plan) else pd.Series(dtype=float)
    for _, v in d.vendors.iterrows():
        w, hi, lo = float(weekly.get(v[VENDOR], 0.0)), float(v["max_weekly_hours"]), float(v["min_weekly_hours"])
        if (d.pools[VENDOR] == v[VENDOR]).any() and _at(w, hi):
            rows.append(("vendor_max_hours", v[VENDOR], f"{w:.1f} paid h/week = max_weekly_hours {hi:g}"))
        s = float(short.get(v[VENDOR], 0.0))
        if s > 1e-4:
            rows.append(("vendor_min_hours", v[VENDOR], f"{w:.1f} paid h/week < min_weekly_hours {lo:g}: {s:.1f} h/week paid unused (take-or-pay)"))
        elif lo > 0 and _at(lo, w):
            rows.append(("vendor_min_hours", v[VENDOR], f"{w:.1f} paid h/week = min_weekly_hours {lo:g}"))
    return rows


def _bind_notice(d: PlanData, shift_plan: pd.DataFrame, short: dict) -> tuple[list[tuple], set]:
    """Vendor limits set by the notice band (:func:`capplan.optimize.data.vendor_notice`) at their bound, and the
    ``(kind, vendor)`` rows of :func:`_bind_vendors` they replace (those name the contract's limits)."""
    rows, replaced = [], set()
    if "notice_high" not in d.vendors:
        return rows, replaced
    weekly = (shift_plan.groupby(VENDOR)["paid_hours_total"].sum() / d.weeks) if len(shift_plan) else pd.Series(dtype=float)
    lead = float(d.config.contracts.notice_lead_weeks)
    for _, v in d.vendors[d.vendors["notice_high"].notna()].iterrows():
        name, w, prev = v[VENDOR], float(weekly.get(v[VENDOR], 0.0)), float(v["previous_paid_hours"])
        why = f"notice_weeks {float(v['notice_weeks']):g} > notice_lead_weeks {lead:g}"
        hi, lo = float(v["max_weekly_hours"]), float(v["min_weekly_hours"])
        if hi < float(v["contract_max_weekly_hours"]):
            replaced.add(("vendor_max_hours", name))
            if (d.pools[VENDOR] == name).any() and _at(w, hi):
                rows.append(("vendor_notice_max", name, f"{w:.1f} paid h/week = {hi:.1f}, the previous plan's {prev:.1f} + flex_share ({why})"))
        if lo > float(v["contract_min_weekly_hours"]):
            replaced.add(("vendor_min_hours", name))
            s = float(short.get(name, 0.0))
            if s > 1e-4:
                rows.append(("vendor_notice_min", name, f"{w:.1f} paid h/week < {lo:.1f}, the previous plan's {prev:.1f} - flex_share ({why}): "
                                                        f"{s:.1f} h/week paid unused (take-or-pay)"))
            elif _at(lo, w):
                rows.append(("vendor_notice_min", name, f"{w:.1f} paid h/week = {lo:.1f}, the previous plan's {prev:.1f} - flex_share ({why})"))
    return rows, replaced


def _bind_exposure(d: PlanData, exposure: pd.DataFrame, capacity: pd.DataFrame) -> list[tuple]:
    rows = []
    policy = d.config.policy
    if len(capacity) and float(policy.exposure_max_share) < 1.0:  # a share of 1 is no cap (the model has no row)
        at = capacity[(capacity["exposure_limit"] > TOL) & (capacity["egregious_hours"] >= capacity["exposure_limit"] * (1 - BINDING_RTOL))]
        for pool, g in at.groupby(POOL):
            rows.append(("exposure_share", pool, f"egregious hours at {policy.exposure_max_share:.0%} of productive capacity in {len(g)} intervals"))
    if len(exposure):
        at = exposure[(exposure["limit_hours"] > TOL) & (exposure["egregious_hours"] >= exposure["limit_hours"] * (1 - BINDING_RTOL))]
        for pool, g in at.groupby(POOL):
            rows.append(("exposure_daily", pool, f"{policy.exposure_max_hours_per_day:g} h per moderator per day reached on {len(g)} shift-days"))
    return rows


def _bind_shares(d: PlanData, allocation: pd.DataFrame) -> list[tuple]:
    rows = []
    if d.language_caps and len(allocation):
        total = allocation.groupby(LANGUAGE)[PRODUCTIVE_HOURS].sum()
        by = allocation.groupby([VENDOR, LANGUAGE])[PRODUCTIVE_HOURS].sum()
        for (prov, lang), capshare in sorted(d.language_caps.items()):
            hrs, tot = float(by.get((prov, lang), 0.0)), float(total.get(lang, 0.0))
            if tot > TOL and _at(hrs, capshare * tot):
                rows.append(("language_share", f"{prov}/{lang}", f"{hrs / tot:.2%} of {lang} hours, cap {capshare:.0%}"))
    share = float(d.config.policy.vendor_max_share)
    if share < 1.0 and len(allocation) and allocation[VENDOR].nunique() >= 2:
        total = float(allocation[PRODUCTIVE_HOURS].sum())
        for v, hrs in allocation.groupby(VENDOR)[PRODUCTIVE_HOURS].sum().items():
            if v != INHOUSE and total > TOL and _at(float(hrs), share * total):
                rows.append(("vendor_share", v, f"{hrs / total:.2%} of all productive hours, vendor_max_share {share:.0%}"))
    return rows


def _bind_contracts(d: PlanData, patterns: pd.DataFrame) -> list[tuple]:
    """Roster groups (always at their count: everyone is scheduled and paid) and overtime at its cap per employee."""
    rows = []
    for _, g in d.groups.iterrows():
        rows.append(("roster", f"{g[POOL]}/{float(g['weekly_hours']):g}h",
                     f"{int(g[HEADCOUNT])} employees at {float(g['weekly_hours']):g} h/week, all scheduled and paid"))
    if len(patterns) and "contract" in patterns:
        ot = patterns[patterns["contract"] == "overtime"]
        cap = float(d.config.contracts.overtime_max_hours_per_week)
        for pool, g in ot.groupby(POOL):
            rows.append(("overtime_cap", pool, f"{int(g['moderators'].sum())} employees work one overtime shift, the most a shift "
                         f"pattern allows within overtime_max_hours_per_week {cap:g}"))
    return rows


def _bind_pairs(d: PlanData, allocation: pd.DataFrame) -> list[tuple]:
    """No slivers: pool-cell pairs worked at exactly their minimum weekly hours."""
    from capplan.optimize.model import pair_bound

    weekly = float(d.config.contracts.min_pair_weekly_hours)
    if weekly <= 0 or not len(allocation):
        return []
    pools = {p: i for i, p in enumerate(d.pools[POOL])}
    cells = {k: i for i, k in enumerate(zip(d.cells[QUEUE], d.cells[LANGUAGE]))}
    rows = []
    for (pool, q, lang), hrs in allocation.groupby([POOL, QUEUE, LANGUAGE])[PRODUCTIVE_HOURS].sum().items():
        least = min(weekly * d.weeks, pair_bound(d, pools[pool], cells[(q, lang)]))
        if hrs > TOL and least > 0 and abs(hrs - least) <= BINDING_RTOL * least + 1e-9:
            rows.append(("min_pair_hours", f"{pool}/{q}/{lang}", f"{hrs:.1f} productive h = the least a used pair works ({weekly:g} h/week)"))
    return rows


def _bind_stability(d: PlanData, allocation: pd.DataFrame) -> list[tuple]:
    """Vendor stability: weekly productive hours moved from the previous plan at ``vendor_max_change_share``."""
    share = float(d.config.contracts.vendor_max_change_share)
    if share >= 1 or not d.previous_vendor_hours:
        return []
    weekly = (allocation.groupby(VENDOR)[PRODUCTIVE_HOURS].sum() / d.weeks) if len(allocation) else pd.Series(dtype=float)
    rows = []
    for v, prev in sorted(d.previous_vendor_hours.items()):
        moved = abs(float(weekly.get(v, 0.0)) - float(prev))
        if v != INHOUSE and (d.vendors[VENDOR] == v).any() and prev > 0 and _at(moved, share * float(prev)):
            rows.append(("vendor_change_cap", v, f"{moved:.1f} weekly productive h moved from the previous plan's {float(prev):.1f} "
                         f"(vendor_max_change_share {share:.0%})"))
    return rows


def _bind_quality(d: PlanData) -> list[tuple]:
    """Quality floors, one row per severity: the severe graphic cells of that severity that pools skilled on them may
    not work (quality below the floor), named ``severity S`` and priced per floor step (:mod:`.rule_prices`)."""
    if not d.excluded:  # empty without a floor (capplan.optimize.data.quality_excluded)
        return []
    floor = float(d.config.policy.severe_graphic_min_quality)
    by_severity: dict[int, list[tuple[int, int]]] = {}
    for p, c in d.excluded:
        by_severity.setdefault(int(d.cells.at[c, "severity"]), []).append((p, c))
    rows = []
    for severity, pairs in sorted(by_severity.items()):
        pools = ", ".join(f"{d.pools.at[p, POOL]} ({float(d.pools.at[p, 'quality']):g})" for p in sorted({p for p, _ in pairs}))
        cells = sorted({c for _, c in pairs})
        names = ", ".join(f"{d.cells.at[c, QUEUE]}/{d.cells.at[c, LANGUAGE]}" for c in cells)
        rows.append(("quality_floor", f"severity {severity}",
                     f"severe_graphic_min_quality {floor:g} keeps {pools} off {len(cells)} cell{'' if len(cells) == 1 else 's'}: {names}"))
    return rows


# binding.csv's shadow_unit of a price of 0, of a limit with no dual, and of a cell no pool may work
AT_THE_MARGIN = ("0 at the margin: relaxing this limit alone saves nothing in the LP relaxation (another limit holds the "
                 "same hours, or the relaxation stays inside this one and only the whole-moderator plan reaches it)")
NO_DUAL = "not priced: the LP relaxation has no dual of this limit's row"
NO_POOL = (float("nan"), "not a limit to relax: no pool may work this cell (its unmet hours are priced at its penalty in shortfalls)")


def binding_table(d: PlanData, patterns: pd.DataFrame, shift_plan: pd.DataFrame, allocation: pd.DataFrame,
                  exposure: pd.DataFrame, capacity: pd.DataFrame, short: dict, duals: dict | None = None) -> pd.DataFrame:
    """The limits at their bound (within :data:`BINDING_RTOL`), each named and, when the LP relaxation's duals
    are given, priced: what relaxing it by one unit would save per week (:func:`shadow_prices`), in cents. A price of
    0 says why in its unit (:data:`AT_THE_MARGIN`); a limit the duals do not price has a NaN price and a reason
    (:data:`NO_DUAL`, :data:`NO_POOL`), except when no duals are given at all: then the caller says why (:func:`unpriced`)."""
    rows = _bind_headcount(d, patterns) + _bind_vendors(d, shift_plan, short) + _bind_exposure(d, exposure, capacity)
    notice, replaced = _bind_notice(d, shift_plan, short)
    rows = [r for r in rows if (r[0], r[1]) not in replaced] + notice
    rows += _bind_shares(d, allocation) + _bind_contracts(d, patterns) + _bind_pairs(d, allocation) + _bind_stability(d, allocation)
    rows += _bind_quality(d)
    floor = float(d.config.policy.severe_graphic_min_quality)
    for c in d.unskilled_cells:
        why = "no pool has this queue and language"
        if floor > 0 and bool(d.cells.at[c, "egregious"]) and int(d.cells.at[c, "severity"]) <= 2:
            why += f" at quality >= severe_graphic_min_quality {floor:g}"
        rows.append(("no_skilled_pool", f"{d.cells.at[c, QUEUE]}/{d.cells.at[c, LANGUAGE]}", f"work arrives but {why}; all of it is unmet"))
    prices = shadow_prices(d, duals or {}, exposure, capacity, allocation)
    no_dual = (float("nan"), NO_DUAL if duals else "")  # no duals at all: the caller says why (unpriced)
    rows = [r + (NO_POOL if r[0] == "no_skilled_pool" else prices.get((r[0], r[1]), no_dual)) for r in rows]
    rows = [(k, n, det, *_cents(price, unit)) for k, n, det, price, unit in rows]
    return pd.DataFrame(rows, columns=BINDING_COLUMNS).sort_values(["kind", "name"], kind="stable").reset_index(drop=True)


def _cents(price: float, unit: str) -> tuple[float, str]:
    """A price rounded to cents (duals of 1e-6 are noise) and its unit; a price of 0 says why it is 0 (:data:`AT_THE_MARGIN`)."""
    price = round(float(price), 2) + 0.0  # + 0.0: no -0.0
    if price == 0.0 and unit:
        unit = f"{unit}; {AT_THE_MARGIN}"
    return price, unit


def unpriced(binding: pd.DataFrame, why: str) -> pd.DataFrame:
    """``binding`` with ``why`` as the ``shadow_unit`` of every row without a price and without a reason already (or
    with only the generic :data:`NO_DUAL`: the caller's reason is the more specific)."""
    if not len(binding):
        return binding
    empty = binding["shadow_price"].isna() & binding["shadow_unit"].fillna("").astype(str).isin(["", NO_DUAL])
    return binding.assign(shadow_unit=binding["shadow_unit"].where(~empty, why))


def _dual_sums(duals: dict, family: str) -> dict[str, list[tuple[str, float]]]:
    """family rows ``family[first=NAME,rest]`` -> {NAME: [(rest, |dual|)]}."""
    out: dict[str, list[tuple[str, float]]] = {}
    head = family + "["
    for name, v in duals.items():
        if name.startswith(head):
            inner = name[len(head):-1]
            key, _, rest = inner.partition(",")
            out.setdefault(key.partition("=")[2], []).append((rest, abs(v)))
    return out


def shadow_prices(d: PlanData, duals: dict, exposure: pd.DataFrame, capacity: pd.DataFrame, allocation: pd.DataFrame) -> dict:
    """(kind, name) -> (saving per week of one more unit of the limit [reporting currency], unit).

    From the duals of the LP relaxation (marginal values at the relaxed optimum, so a first-order estimate
    for the integer plan): headcount per moderator, vendor hours per weekly paid hour, shares per percentage
    point (dual x the hours the share applies to / 100), the daily exposure cap per hour (dual x moderators
    on the shift-day). References: any LP text on sensitivity analysis, e.g. Bertsimas and Tsitsiklis,
    Introduction to Linear Optimization, 1997, section 5.2.
    """
    if not duals:
        return {}
    cur, w = d.config.policy.currency, d.weeks
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for pool, vals in _dual_sums(duals, "headcount").items():  # the cap: the row's dual and its patterns' bounds' (solve._duals)
        out[("pool_max_headcount", pool)] = (sum(v for _, v in vals) / w, f"{cur}/week per moderator")
        out[("pool_min_headcount", pool)] = (sum(v for rest, v in vals if not rest) / w, f"{cur}/week per moderator")
    for family, kind in (("vendor_max", "vendor_max_hours"), ("vendor_min", "vendor_min_hours"),
                         ("vendor_notice_max", "vendor_notice_max"), ("vendor_notice_min", "vendor_notice_min")):
        for vendor, vals in _dual_sums(duals, family).items():
            out[(kind, vendor)] = (sum(v for _, v in vals) / w, f"{cur}/week per weekly paid hour")
    if len(capacity):
        cap = dict(zip(zip(capacity[POOL], capacity[INTERVAL_START].dt.strftime("t=%Y-%m-%dT%H:%M")), capacity["capacity_hours"]))
        for pool, vals in _dual_sums(duals, "exposure_share").items():
            out[("exposure_share", pool)] = (sum(v * cap.get((pool, t), 0.0) for t, v in vals) / 100 / w, f"{cur}/week per +1 point of share")
    if len(exposure):
        heads = {(p, f"shift={s},day={day}"): n for p, s, day, n in zip(exposure[POOL], exposure[SHIFT], exposure[DAY], exposure[HEADCOUNT])}
        for pool, vals in _dual_sums(duals, "exposure_daily").items():
            out[("exposure_daily", pool)] = (sum(v * heads.get((pool, rest), 0) for rest, v in vals) / w, f"{cur}/week per +1 h a day")
    out.update(_contract_prices(d, duals))
    if len(allocation):
        lang_total = allocation.groupby(LANGUAGE)[PRODUCTIVE_HOURS].sum()
        for vendor, vals in _dual_sums(duals, "language_share").items():
            for rest, v in vals:
                lang = rest.partition("=")[2]
                out[("language_share", f"{vendor}/{lang}")] = (v * float(lang_total.get(lang, 0.0)) / 100 / w, f"{cur}/week per +1 point of share")
        total = float(allocation[PRODUCTIVE_HOURS].sum())
        for vendor, vals in _dual_sums(duals, "vendor_share").items():
            out[("vendor_share", vendor)] = (sum(v for _, v in vals) * total / 100 / w, f"{cur}/week per +1 point of share")
    return out


def _contract_prices(d: PlanData, duals: dict) -> dict:
    """Shadow prices of the issue-12 families [reporting currency per week and unit] (see :func:`shadow_prices`).

    A roster group's extra employee moves its roster row, its pool's headcount row and the pool's patterns' own upper
    bounds (all the roster's), so its value is ``-(dual_roster + dual_headcount + reduced costs at those bounds)``
    (negative: one more employee costs more than it saves; :func:`capplan.optimize.solve._duals`). The overtime cap and
    the quality floor are rules of the patterns and skills, not rows: no dual prices them; :func:`capplan.optimize.rule_prices.price_rules` prices them from the relaxation with the limit moved.
    """
    cur, w = d.config.policy.currency, d.weeks
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for _, g in d.groups.iterrows():
        hours = float(g["weekly_hours"])
        y = duals.get(f"roster[pool={g[POOL]},weekly_hours={hours:g}]", 0.0) + duals.get(f"headcount[pool={g[POOL]}]", 0.0) \
            + duals.get(f"headcount[pool={g[POOL]},bound=staff]", 0.0)
        out[("roster", f"{g[POOL]}/{hours:g}h")] = (-y / w, f"{cur}/week per extra employee at {hours:g} h (negative: costs more than it saves)")
    for pool, vals in _dual_sums(duals, "headcount").items():  # the row's dual and the patterns' bounds' (solve._duals)
        out[("temp_cap", pool)] = (sum(v for _, v in vals) / w, f"{cur}/week per extra temp allowed")
    for pair, vals in _dual_sums(duals, "pair_min").items():
        for rest, v in vals:
            out[("min_pair_hours", f"{pair}/{rest.partition('=')[2]}")] = (v / w, f"{cur}/week per productive h less minimum")
    for vendor, vals in _dual_sums(duals, "vendor_change_cap").items():
        out[("vendor_change_cap", vendor)] = (sum(v for _, v in vals) / w, f"{cur}/week per weekly productive h more change allowed")
    no_row = ("no LP row (a rule of the patterns or skills): not priced here; capplan plan's optimizer prices it from the "
              "LP relaxation with the limit moved one step ([solver] price_rules, true by default)")
    for pool in d.groups[POOL].unique() if len(d.groups) else []:
        out[("overtime_cap", pool)] = (float("nan"), no_row)
    for _, c in d.excluded:
        out[("quality_floor", f"severity {int(d.cells.at[c, 'severity'])}")] = (float("nan"), no_row)
    return out


def capacity_table(d: PlanData, staff: np.ndarray, allocation: pd.DataFrame) -> pd.DataFrame:
    """Per pool and interval: productive capacity, allocated, egregious hours and the share limit."""
    P, T = len(d.pools), d.T
    cap = np.zeros((P, T))
    for k, pat in enumerate(d.patterns):
        if staff[k] > 0:
            for t, v in pat.capacity.items():
                cap[pat.pool, t] += v * staff[k]
    used = np.zeros((P, T))
    egr = np.zeros((P, T))
    if len(allocation):
        pool_index = {p: i for i, p in enumerate(d.pools[POOL])}
        pi = allocation[POOL].map(pool_index).to_numpy(int)
        ti = interval_index(allocation[INTERVAL_START], d.start, d.h)
        np.add.at(used, (pi, ti), allocation[PRODUCTIVE_HOURS].to_numpy(float))
        egr_cells = set(zip(d.cells.loc[d.cells["egregious"], QUEUE], d.cells.loc[d.cells["egregious"], LANGUAGE]))
        is_egr = np.array([k in egr_cells for k in zip(allocation[QUEUE], allocation[LANGUAGE])])
        np.add.at(egr, (pi[is_egr], ti[is_egr]), allocation[PRODUCTIVE_HOURS].to_numpy(float)[is_egr])
    share = float(d.config.policy.exposure_max_share)
    frame = pd.DataFrame({
        POOL: np.repeat(d.pools[POOL].to_numpy(), T), INTERVAL_START: np.tile(d.times, P),
        "capacity_hours": cap.ravel(), "allocated_hours": used.ravel(), "egregious_hours": egr.ravel(),
        "exposure_limit": share * cap.ravel(),
    })
    return frame[frame["capacity_hours"] > 0].reset_index(drop=True)


def exposure_table(d: PlanData, staff: np.ndarray, allocation: pd.DataFrame, egr_values: dict | None = None,
                   egr_occurrence: dict | None = None) -> pd.DataFrame:
    """Egregious hours per pool, shift and local day against ``exposure_max_hours_per_day`` x headcount.

    ``egr_values``: (pool, shift) -> {t: hours} from the model; where absent, a pool's egregious
    hours in an interval are split over its shifts in proportion to their capacity there, and given
    to the occurrence of that shift with the largest overlap of the interval.
    """
    hours_cap = float(d.config.policy.exposure_max_hours_per_day)
    cols = [POOL, SHIFT, DAY, HEADCOUNT, "egregious_hours", "limit_hours"]
    if not len(allocation):
        return pd.DataFrame(columns=cols)
    egr_cells = set(zip(d.cells.loc[d.cells["egregious"], QUEUE], d.cells.loc[d.cells["egregious"], LANGUAGE]))
    a = allocation[[k in egr_cells for k in zip(allocation[QUEUE], allocation[LANGUAGE])]]
    if not len(a):
        return pd.DataFrame(columns=cols)
    pool_index = {p: i for i, p in enumerate(d.pools[POOL])}
    ti = interval_index(a[INTERVAL_START], d.start, d.h)
    egr_pt = pd.Series(a[PRODUCTIVE_HOURS].to_numpy(float), index=pd.MultiIndex.from_arrays([a[POOL].map(pool_index).to_numpy(), ti])).groupby(level=[0, 1]).sum()
    per_occ = np.zeros(len(d.occurrences))
    heads = np.zeros(len(d.occurrences))
    for k, pat in enumerate(d.patterns):
        for o in pat.occurrences:
            heads[o] += staff[k]
    egr_values = egr_values or {}
    for p in sorted({p for p, _ in egr_pt.index}):
        pats = [k for k, pat in enumerate(d.patterns) if pat.pool == p]
        shifts = sorted({d.patterns[k].shift for k in pats})
        owners = {}
        for s in shifts:
            occs = sorted({o for k in pats if d.patterns[k].shift == s for o in d.patterns[k].occurrences})
            own: dict[int, tuple[float, int]] = {}
            for o in occs:
                for t, hrs in d.occurrences[o].overlap.items():
                    if t not in own or hrs > own[t][0]:
                        own[t] = (hrs, o)
            owners[s] = own
        if all((p, s) in egr_values for s in shifts):
            for s in shifts:
                for t, v in egr_values[(p, s)].items():
                    if t in owners[s]:
                        per_occ[owners[s][t][1]] += v
            continue
        for t, e in egr_pt.loc[p].items():
            caps = {s: sum(d.patterns[k].capacity.get(t, 0.0) * staff[k] for k in pats if d.patterns[k].shift == s) for s in shifts}
            total = sum(caps.values())
            for s, cval in caps.items():
                if total > 0 and cval > 0 and t in owners[s]:
                    per_occ[owners[s][t][1]] += e * cval / total
    rows = []
    for o, occ in enumerate(d.occurrences):
        if heads[o] > 0 or per_occ[o] > TOL:
            if occ.pool in set(egr_pt.index.get_level_values(0)):
                rows.append({POOL: d.pools.at[occ.pool, POOL], SHIFT: occ.shift, DAY: occ.day, HEADCOUNT: int(heads[o]),
                             "egregious_hours": float(per_occ[o]), "limit_hours": hours_cap * heads[o]})
    return pd.DataFrame(rows, columns=cols).sort_values([POOL, SHIFT, DAY], kind="stable").reset_index(drop=True)
