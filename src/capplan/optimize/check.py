"""The independent plan checker: no solver, no model, only the inputs and the plan tables.

:func:`check_plan` recomputes every constraint of a plan from ``shift_plan``, ``patterns``,
``allocation``, ``coverage`` and ``exposure`` and the workspace (it re-derives shift times with
:mod:`zoneinfo` and capacities itself, it does not reuse the optimizer's arrays), and recomputes the
paid-hour cost. Each ``check_*`` function returns a list of violation messages; an empty list
means the plan is valid.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from capplan.schema import (
    AHT_S,
    HEADCOUNT,
    INHOUSE,
    INTERVAL_START,
    LANGUAGE,
    PAID_HOURS,
    POOL,
    PRODUCTIVE_HOURS,
    QUEUE,
    REQUIRED_PRODUCTIVE,
    SHIFT,
    SITE,
    UNMET,
    VENDOR,
    VOLUME,
)
from capplan.staffing.backlog import due_shift
from capplan.staffing.proficiency import pool_cell_proficiency  # the multipliers the plan was made with
from capplan.units import interval_index

ABS_TOL = 1e-5
REL_TOL = 1e-6
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CRITICAL_MAX_SHARE = 0.90


def _bad(x: float, limit: float) -> bool:
    """x > limit beyond tolerance."""
    return x > limit + ABS_TOL + REL_TOL * abs(limit)


def _grid(ws):
    p = ws.config.planning
    start = pd.Timestamp(dt.datetime.combine(p.start, dt.time(0), tzinfo=dt.timezone.utc))
    h = p.interval_minutes / 60.0
    T = int(round(p.plan_days * 24 / h))
    return start, T, h


def _limit(messages: list[str], kind: str, found: list[str], show: int = 5) -> None:
    if found:
        more = f" (and {len(found) - show} more)" if len(found) > show else ""
        messages.append(f"{kind}: " + "; ".join(found[:show]) + more)


def capacity_from_shift_plan(ws, shift_plan: pd.DataFrame) -> dict[str, np.ndarray]:
    """Productive hours per pool and interval implied by the shift plan (cyclic window)."""
    start, T, h = _grid(ws)
    shifts = ws.shifts.set_index(SHIFT)
    pools = ws.pools.set_index(POOL)
    cap: dict[str, np.ndarray] = {p: np.zeros(T) for p in pools.index}
    for r in shift_plan.itertuples(index=False):
        sh = shifts.loc[r.shift]
        on_site = float(sh[PAID_HOURS]) + float(sh["break_minutes"]) / 60.0
        site = pools.at[r.pool, SITE]
        shrink = ws.config.staffing.shrinkage_by_site.get(site, ws.config.staffing.shrinkage)
        per_hour = float(sh[PAID_HOURS]) / on_site * (1 - shrink) * int(r.headcount)
        a = (pd.Timestamp(r.start_utc) - start).total_seconds() / 3600.0
        b = a + on_site
        k = math.floor(a / h)
        while k * h < b:
            over = min(b, (k + 1) * h) - max(a, k * h)
            if over > 0:
                cap[r.pool][k % T] += over * per_hour
            k += 1
    return cap


def check_shift_times(ws, result) -> list[str]:
    """Each shift-plan row starts at the shift's local time on its day, converted with zoneinfo."""
    found = []
    shifts = ws.shifts.set_index(SHIFT)
    pools = ws.pools.set_index(POOL)
    for r in result.shift_plan.itertuples(index=False):
        if r.shift not in pools.at[r.pool, "shifts"]:
            found.append(f"pool {r.pool} works shift {r.shift} it does not have")
        minute = int(shifts.at[r.shift, "start_minute"])
        local = dt.datetime.combine(r.day, dt.time(minute // 60, minute % 60), tzinfo=ZoneInfo(pools.at[r.pool, "timezone"]))
        if pd.Timestamp(local.astimezone(dt.timezone.utc)) != pd.Timestamp(r.start_utc):
            found.append(f"{r.pool}/{r.shift} on {r.day}: start_utc {r.start_utc} but {local.isoformat()} is {local.astimezone(dt.timezone.utc)}")
        if r.headcount < 0 or int(r.headcount) != r.headcount:
            found.append(f"{r.pool}/{r.shift} on {r.day}: headcount {r.headcount} is not a whole number >= 0")
    out: list[str] = []
    _limit(out, "shift times", found)
    return out


def check_patterns(ws, result) -> list[str]:
    """Patterns use allowed start days; their rota gives exactly the shift plan's headcount per day."""
    found = []
    shifts = ws.shifts.set_index(SHIFT)
    expected: dict[tuple[str, str, dt.date], int] = {}
    plan_dates = [ws.config.planning.start + dt.timedelta(days=k) for k in range(ws.config.planning.plan_days)]
    for r in result.patterns.itertuples(index=False):
        d0 = WEEKDAYS.index(r.start_day)
        if d0 not in tuple(shifts.at[r.shift, "start_days"]):
            found.append(f"{r.pool}/{r.shift} starts on {r.start_day}, not an allowed start day")
        dpw = int(shifts.at[r.shift, "days_per_week"])
        kind = getattr(r, "contract", "flex")
        if kind in ("contract", "overtime"):  # a roster group's pattern: its own days (check_contracts checks the limits)
            if int(r.days_per_week) > dpw + (kind == "overtime"):
                found.append(f"{r.pool}/{r.shift} {kind} pattern works {r.days_per_week} days > the shift's {dpw}{' + 1' if kind == 'overtime' else ''}")
            dpw = int(r.days_per_week)
        for day in plan_dates:
            if (day.weekday() - d0) % 7 < dpw:
                key = (r.pool, r.shift, day)
                expected[key] = expected.get(key, 0) + int(r.moderators)
    actual = {(r.pool, r.shift, r.day): int(r.headcount) for r in result.shift_plan.itertuples(index=False)}
    for key in sorted(set(expected) | set(actual), key=str):
        if expected.get(key, 0) != actual.get(key, 0):
            found.append(f"{key[0]}/{key[1]} on {key[2]}: shift plan has {actual.get(key, 0)} moderators, patterns give {expected.get(key, 0)}")
    out: list[str] = []
    _limit(out, "patterns", found)
    return out


def check_headcount(ws, result) -> list[str]:
    found = []
    n = result.patterns.groupby(POOL)["moderators"].sum() if len(result.patterns) else pd.Series(dtype=float)
    rostered = roster_today(ws).groupby(POOL)[HEADCOUNT].sum()
    temp_share = float(ws.config.contracts.temp_max_share)
    for p in ws.pools.itertuples(index=False):
        k = int(n.get(p.pool, 0))
        lo, hi = p.min_headcount, p.max_headcount
        if p.pool in rostered.index:  # the people on the roster, plus temps
            lo = int(rostered[p.pool])
            hi = lo + int(math.floor(temp_share * lo + 1e-9))
        if k < lo or k > hi:
            found.append(f"pool {p.pool}: {k} moderators outside [{lo}, {hi}]")
    out: list[str] = []
    _limit(out, "headcount", found)
    return out


def check_allocation(ws, result, cap: dict[str, np.ndarray]) -> list[str]:
    """Only skilled cells; never more productive hours than the pool's capacity in the interval."""
    out: list[str] = []
    a = result.allocation
    if not len(a):
        return out
    start, T, h = _grid(ws)
    skills = set(map(tuple, ws.skills()[[POOL, QUEUE, LANGUAGE]].to_numpy()))
    bad = sorted({f"{p} on {q}/{l}" for p, q, l in zip(a[POOL], a[QUEUE], a[LANGUAGE]) if (p, q, l) not in skills})
    _limit(out, "unskilled allocation", bad)
    neg = a[a[PRODUCTIVE_HOURS] < -ABS_TOL]
    _limit(out, "negative allocation", [f"{r.pool} {r.queue}/{r.language} {r.interval_start}" for r in neg.itertuples()])
    ti = interval_index(a[INTERVAL_START], start, h)
    outside = (ti < 0) | (ti >= T)
    _limit(out, "allocation outside the window", [str(x) for x in a.loc[outside, INTERVAL_START].unique()])
    used = a.assign(t=ti)[~outside].groupby([POOL, "t"])[PRODUCTIVE_HOURS].sum()
    over = [f"{p} t={t}: {v:.4f} h > capacity {cap[p][t]:.4f} h" for (p, t), v in used.items() if _bad(v, cap[p][t])]
    _limit(out, "pool capacity", over)
    return out


def _standard_work(ws, result) -> tuple[dict, np.ndarray, np.ndarray, list]:
    """Standard hours served per cell and interval (realtime) and work done (deferred)."""
    start, T, h = _grid(ws)
    prof = pool_cell_proficiency(ws).set_index([POOL, QUEUE, LANGUAGE])["multiplier"]
    kinds = ws.queues.set_index(QUEUE)["kind"]
    util = float(ws.config.staffing.deferred_max_utilisation)
    cov = result.coverage
    cells = sorted(set(zip(cov[QUEUE], cov[LANGUAGE])))
    index = {c: i for i, c in enumerate(cells)}
    std = np.zeros((len(cells), T))
    a = result.allocation
    if len(a):
        ti = interval_index(a[INTERVAL_START], start, h)
        ci = np.array([index.get(k, -1) for k in zip(a[QUEUE], a[LANGUAGE])])
        ok = (ci >= 0) & (ti >= 0) & (ti < T)
        s = a[PRODUCTIVE_HOURS].to_numpy(float) / prof.reindex(pd.MultiIndex.from_frame(a[[POOL, QUEUE, LANGUAGE]])).to_numpy(float)
        s = np.where(a[QUEUE].map(kinds).to_numpy() == "realtime", s, s * util)
        np.add.at(std, (ci[ok], ti[ok]), s[ok])
    return index, std, np.zeros(0), cells


def _opening(ws, requirements: pd.DataFrame, result, cell: tuple, a: np.ndarray, shift: int, start: pd.Timestamp, T: int,
             h: float, done_total: float) -> tuple[np.ndarray, list[str]]:
    """A deferred cell's opening backlog by due interval (length T + 1) and wrap violations.

    Terminal week: ``inputs/backlog.csv`` (``ws.backlog``) at the cell's handle time. Cyclic week: the end backlog
    the plan's coverage reports, carried to the start as the newest work (FIFO); the plan must end the week with
    exactly the backlog it started from (done + dropped + end backlog = arrived, round the week).
    """
    from capplan.optimize.data import resolve_week_end
    from capplan.staffing.backlog import carried_over, opening_due_hours

    backlog = getattr(ws, "backlog", None)
    mode = resolve_week_end(ws.config, backlog)
    if mode == "terminal":
        if backlog is None or not len(backlog):
            return np.zeros(T + 1), []
        g = backlog[(backlog[QUEUE] == cell[0]) & (backlog[LANGUAGE] == cell[1])]
        ht = ws.handle_times[(ws.handle_times[QUEUE] == cell[0]) & (ws.handle_times[LANGUAGE] == cell[1])]
        r = requirements[(requirements[QUEUE] == cell[0]) & (requirements[LANGUAGE] == cell[1])]
        aht = float(ht[AHT_S].iloc[0]) if len(ht) else float(pd.to_numeric(r[AHT_S]).mean())
        offset = np.floor((pd.to_datetime(g["arrived"], utc=True) - start).dt.total_seconds().to_numpy() / (h * 3600)).astype(np.int64)
        within = float(ws.queues.set_index(QUEUE).at[cell[0], "within_s"])
        return opening_due_hours(T, h * 60.0, within, offset, g["items"].to_numpy(float) * aht / 3600.0), []
    cov = result.coverage
    rows = cov[(cov[QUEUE] == cell[0]) & (cov[LANGUAGE] == cell[1])].sort_values(INTERVAL_START)
    if not len(rows):
        return np.zeros(T + 1), []
    end = float(rows["backlog"].iloc[-1])
    opening = carried_over(a, shift, end)
    left = float(opening.sum() + a.sum() - done_total - rows[UNMET].sum())
    if _bad(abs(left - end), 0.0):
        return opening, [f"{cell[0]}/{cell[1]}: the week does not wrap: starts with {end:.4f} h of backlog, ends with {left:.4f} h"]
    return opening, []


def _cell_demand(ws, requirements: pd.DataFrame, result) -> tuple[dict, dict, list[str], list[str]]:
    """Each cell's demand and what the plan serves, recomputed from the inputs and the allocation [standard h].

    Returns (cell -> demand, cell -> unmet per interval as the coverage table reports it, cells missing from the
    coverage table, cyclic weeks that do not wrap). A realtime cell's demand is ``("realtime", need, served)`` per
    interval; a deferred cell's ``("deferred", arrived, due, done)``, cumulative, the opening backlog included
    (:func:`_opening`).
    """
    start, T, h = _grid(ws)
    index, work, _, cells = _standard_work(ws, result)
    req = requirements.copy()
    req[INTERVAL_START] = pd.to_datetime(req[INTERVAL_START], utc=True)
    req["t"] = interval_index(req[INTERVAL_START], start, h)
    req = req[(req["t"] >= 0) & (req["t"] < T)]
    queues = ws.queues.set_index(QUEUE)
    unmet = np.zeros_like(work)
    cov = result.coverage
    if len(cov):
        ti = interval_index(cov[INTERVAL_START], start, h)
        ci = np.array([index[k] for k in zip(cov[QUEUE], cov[LANGUAGE])])
        np.add.at(unmet, (ci, ti), cov[UNMET].to_numpy(float))
    missing = sorted({f"{q}/{l}" for q, l in zip(req[QUEUE], req[LANGUAGE]) if (q, l) not in index})
    wraps: list[str] = []
    demand: dict = {}
    for (q, l), g in req.groupby([QUEUE, LANGUAGE]):
        if (q, l) not in index:
            continue
        c = index[(q, l)]
        if queues.at[q, "kind"] == "realtime":
            need = np.zeros(T)
            cnt = np.zeros(T)
            np.add.at(need, g["t"].to_numpy(), g[REQUIRED_PRODUCTIVE].fillna(0).to_numpy(float))
            np.add.at(cnt, g["t"].to_numpy(), 1.0)
            demand[(q, l)] = ("realtime", np.divide(need, cnt, out=np.zeros(T), where=cnt > 0) * h, work[c])
        else:
            wl = g["workload_hours"].fillna(g[VOLUME] * g[AHT_S] / 3600.0) if "workload_hours" in g else g[VOLUME] * g[AHT_S] / 3600.0
            a = np.zeros(T)
            np.add.at(a, g["t"].to_numpy(), wl.to_numpy(float))
            done = np.cumsum(work[c])
            shift = due_shift(h * 60.0, float(queues.at[q, "within_s"]))
            opening, wrap = _opening(ws, requirements, result, (q, l), a, shift, start, T, h, float(done[-1]) if T else 0.0)
            wraps.extend(wrap)
            arrived = float(opening.sum()) + np.cumsum(a)
            due = np.cumsum(opening[:T]) + (np.concatenate([np.zeros(shift), np.cumsum(a)[: T - shift]]) if shift else np.cumsum(a))
            demand[(q, l)] = ("deferred", arrived, due, done)
    return demand, {k: unmet[index[k]] for k in demand}, missing, wraps


def check_coverage(ws, requirements: pd.DataFrame, result) -> list[str]:
    """Realtime: served + unmet >= requirement. Deferred: done + unmet (dropped) <= arrived;
    done + unmet >= due (cumulative, standard hours)."""
    out: list[str] = []
    demand, unmet, missing, wraps = _cell_demand(ws, requirements, result)
    _limit(out, "cells missing from coverage", missing)
    short, ahead, late = [], [], list(wraps)
    for (q, l), dem in demand.items():
        u = unmet[(q, l)]
        if dem[0] == "realtime":
            need, work = dem[1], dem[2]
            for t in np.flatnonzero(need > 0):
                if _bad(need[t], work[t] + u[t]):
                    short.append(f"{q}/{l} t={t}: served {work[t]:.4f} + unmet {u[t]:.4f} < required {need[t]:.4f} h")
        else:
            _, arrived, due, done = dem
            cum_unmet = np.cumsum(u)
            for t in range(len(done)):
                if _bad(done[t] + cum_unmet[t], arrived[t]):
                    ahead.append(f"{q}/{l} t={t}: done {done[t]:.4f} + dropped {cum_unmet[t]:.4f} h > arrived {arrived[t]:.4f} h")
                if _bad(due[t], done[t] + cum_unmet[t]):
                    late.append(f"{q}/{l} t={t}: done {done[t]:.4f} + unmet {cum_unmet[t]:.4f} < due {due[t]:.4f} h")
    _limit(out, "realtime coverage", short)
    _limit(out, "deferred work before arrival", ahead)
    _limit(out, "deferred deadline", late)
    return out


def least_unmet(ws, requirements: pd.DataFrame, result) -> dict[tuple[str, str], float]:
    """(queue, language) -> the least unmet work the plan's allocation leaves over the window [standard h].

    Recomputed from the inputs and the allocation only (not the plan's coverage table): realtime
    ``sum_t max(need_t - served_t, 0)``; deferred the least work dropped as late, ``max_t max(due_t - done_t, 0)``
    (cumulative: what falls due and is not done by then must be dropped). A cyclic week's opening backlog is the
    plan's reported end backlog (:func:`_opening`).
    """
    demand = _cell_demand(ws, requirements, result)[0]
    out = {}
    for key, dem in sorted(demand.items()):
        if dem[0] == "realtime":
            out[key] = float(np.maximum(dem[1] - dem[2], 0.0).sum())
        else:
            _, _, due, done = dem
            out[key] = float(max(np.max(due - done, initial=0.0), 0.0))
    return out


def check_unmet_caps(ws, requirements: pd.DataFrame, result, caps: dict[tuple[str, str], float]) -> list[str]:
    """Cells whose least unmet work (:func:`least_unmet`) is above their cap [standard h a week] (the iso-service
    benchmark's caps, :func:`capplan.optimize.data.with_unmet_caps`); not part of :func:`check_plan`.

    A cap is a sum over the window's T intervals, each of which :func:`check_coverage` accepts within ``ABS_TOL``, so
    the cap is held within ``T x ABS_TOL`` (1.7e-3 h for a week of hours): the solver's tolerance, not a shortfall.
    """
    weeks = ws.config.planning.plan_days / 7.0
    T = _grid(ws)[1]
    unmet = least_unmet(ws, requirements, result)
    found = [f"{q}/{l}: {unmet[(q, l)]:.4f} h > cap {cap * weeks:.4f} h" for (q, l), cap in sorted(caps.items())
             if (q, l) in unmet and unmet[(q, l)] > cap * weeks + T * ABS_TOL + REL_TOL * cap * weeks]
    out: list[str] = []
    _limit(out, "unmet cap", found)
    return out


def notice_limits(ws) -> dict[str, tuple[float, float]]:
    """Vendor -> (low, high) weekly paid hours its notice allows: the previous plan's H x (1 -/+ flex_share).

    Only vendors whose ``notice_weeks`` (inputs/vendors.csv) is above ``[contracts] notice_lead_weeks``, and only
    with a previous plan (H = 0 for a vendor it did not use); empty flex_share = 0.
    """
    from capplan.optimize.data import previous_vendor_paid_hours  # reads plans/latest/shift_plan.csv

    if "notice_weeks" not in ws.vendors:
        return {}
    previous = previous_vendor_paid_hours(ws)
    if previous is None:
        return {}
    lead = float(ws.config.contracts.notice_lead_weeks)
    out = {}
    for r in ws.vendors.to_dict("records"):
        notice = float(r["notice_weeks"]) if pd.notna(r.get("notice_weeks")) else 0.0
        flex = float(r["flex_share"]) if pd.notna(r.get("flex_share")) else 0.0
        if notice > 0 and notice > lead:
            h = float(previous.get(r[VENDOR], 0.0))
            out[r[VENDOR]] = ((1.0 - flex) * h, (1.0 + flex) * h)
    return out


def check_vendors(ws, result) -> list[str]:
    """Weekly paid hours within contract maxima and notice bands (:func:`notice_limits`); take-or-pay charge as reported."""
    out: list[str] = []
    weeks = ws.config.planning.plan_days / 7.0
    sp = result.shift_plan
    weekly = (sp.assign(hours=sp[PAID_HOURS] * sp[HEADCOUNT]).groupby(VENDOR)["hours"].sum() / weeks) if len(sp) else pd.Series(dtype=float)
    fx = ws.config.policy.fx
    over = []
    take_or_pay = 0.0
    notice = notice_limits(ws)
    for v in ws.vendors.itertuples(index=False):
        w = float(weekly.get(v.vendor, 0.0))
        low, high = notice.get(v.vendor, (0.0, np.inf))
        if _bad(w, float(v.max_weekly_hours)):
            over.append(f"vendor {v.vendor}: {w:.2f} paid h/week > max {v.max_weekly_hours}")
        if _bad(w, high):
            over.append(f"vendor {v.vendor}: {w:.2f} paid h/week > {high:.2f}, the previous plan's hours + flex_share (notice)")
        pools = ws.pools[ws.pools[VENDOR] == v.vendor]
        if len(pools):
            rate = float(np.mean([r * fx[c] for r, c in zip(pools["cost_per_hour"], pools["currency"])]))
            take_or_pay += max(max(float(v.min_weekly_hours), low) - w, 0.0) * rate * weeks
    _limit(out, "vendor max hours", over)
    reported = float(result.solve.get("take_or_pay", 0.0))
    if abs(reported - take_or_pay) > 1e-3 + 1e-6 * abs(take_or_pay):
        out.append(f"take-or-pay: reported {reported:.4f} but the shift plan gives {take_or_pay:.4f}")
    return out


def check_language_share(ws, result) -> list[str]:
    out: list[str] = []
    a = result.allocation
    if not len(a):
        return out
    total = a.groupby(LANGUAGE)[PRODUCTIVE_HOURS].sum()
    by = a.groupby([VENDOR, LANGUAGE])[PRODUCTIVE_HOURS].sum()
    share = dict(zip(ws.vendors[VENDOR], ws.vendors["max_language_share"].astype(float)))
    critical = set(ws.config.policy.critical_languages)
    skills = ws.skills().merge(ws.pools[[POOL, VENDOR]], on=POOL)
    demand_cells = set(zip(result.coverage.loc[(result.coverage["required_hours"] + result.coverage["workload_hours"]) > 0, QUEUE],
                           result.coverage.loc[(result.coverage["required_hours"] + result.coverage["workload_hours"]) > 0, LANGUAGE])) \
        if "required_hours" in result.coverage else set(zip(a[QUEUE], a[LANGUAGE]))
    providers = {}
    for r in skills.itertuples(index=False):
        if (r.queue, r.language) in demand_cells:
            providers.setdefault(r.language, set()).add(r.vendor)
    found = []
    for (prov, lang), hrs in by.items():
        cap = share.get(prov, 1.0)
        if lang in critical and len(providers.get(lang, ())) >= 2:
            cap = min(cap, CRITICAL_MAX_SHARE)
        if _bad(hrs, cap * total[lang]):
            found.append(f"{prov} has {hrs / total[lang]:.2%} of {lang} hours > cap {cap:.0%}")
    _limit(out, "language share", found)
    return out


def _demand_providers(ws, result) -> set[str]:
    """Vendors (in-house as one) with a pool that may have staff, skilled on a cell that has work in the plan window."""
    cov = result.coverage
    if "required_hours" in cov:
        has = cov[(cov["required_hours"] + cov["workload_hours"]) > 0]
        cells = set(zip(has[QUEUE], has[LANGUAGE]))
    else:
        cells = set(zip(result.allocation[QUEUE], result.allocation[LANGUAGE]))
    staffed = ws.pools[ws.pools["max_headcount"].astype(int) > 0]
    skills = ws.skills().merge(staffed[[POOL, VENDOR]], on=POOL)
    return {r.vendor for r in skills.itertuples(index=False) if (r.queue, r.language) in cells}


def check_quality_floor(ws, result) -> list[str]:
    """Egregious work of severity 1-2 only on pools of quality >= [policy] severe_graphic_min_quality."""
    out: list[str] = []
    floor = float(ws.config.policy.severe_graphic_min_quality)
    a = result.allocation
    if floor <= 0 or not len(a):
        return out
    q = ws.queues.set_index(QUEUE)
    severe = {name for name in q.index if bool(q.at[name, "egregious"]) and int(q.at[name, "severity"]) <= 2}
    vendor_quality = dict(zip(ws.vendors[VENDOR], ws.vendors["quality"].astype(float)))
    quality = {p: (1.0 if v == INHOUSE else vendor_quality.get(v, 1.0)) for p, v in zip(ws.pools[POOL], ws.pools[VENDOR])}
    hit = a[a[QUEUE].isin(severe) & (a[PRODUCTIVE_HOURS] > ABS_TOL)]
    found = sorted({f"{p} (quality {quality[p]:.2f}) on {qq}/{ll}" for p, qq, ll in zip(hit[POOL], hit[QUEUE], hit[LANGUAGE])
                    if quality[p] < floor - 1e-12})
    _limit(out, "quality floor", found)
    return out


def check_vendor_concentration(ws, result) -> list[str]:
    """Each vendor's productive hours <= [policy] vendor_max_share x all productive hours (two or more providers)."""
    out: list[str] = []
    share = float(ws.config.policy.vendor_max_share)
    a = result.allocation
    if share >= 1.0 or not len(a) or len(_demand_providers(ws, result)) < 2:
        return out
    total = float(a[PRODUCTIVE_HOURS].sum())
    by = a.groupby(VENDOR)[PRODUCTIVE_HOURS].sum()
    found = [f"{v} has {h / total:.2%} of all productive hours > {share:.0%}" for v, h in by.items()
             if v != INHOUSE and _bad(float(h), share * total)]
    _limit(out, "vendor concentration", found)
    return out


def check_exposure(ws, result, cap: dict[str, np.ndarray]) -> list[str]:
    """Egregious hours per pool and interval <= share x capacity; per shift-day <= cap x headcount."""
    out: list[str] = []
    a = result.allocation
    if not len(a):
        return out
    start, T, h = _grid(ws)
    policy = ws.config.policy
    egregious = set(ws.queues.loc[ws.queues["egregious"].astype(bool), QUEUE])
    e = a[a[QUEUE].isin(egregious)]
    if not len(e):
        return out
    per = e.assign(t=interval_index(e[INTERVAL_START], start, h)).groupby([POOL, "t"])[PRODUCTIVE_HOURS].sum()
    found = [f"{p} t={t}: {v:.4f} h egregious > {policy.exposure_max_share:.0%} of capacity {cap[p][t]:.4f} h"
             for (p, t), v in per.items() if _bad(v, policy.exposure_max_share * cap[p][t])]
    _limit(out, "exposure share", found)
    ex = result.exposure
    heads = {(r.pool, r.shift, r.day): int(r.headcount) for r in result.shift_plan.itertuples(index=False)}
    daily = []
    for r in ex.itertuples(index=False):
        n = heads.get((r.pool, r.shift, r.day), 0)
        if _bad(r.egregious_hours, policy.exposure_max_hours_per_day * n):
            daily.append(f"{r.pool}/{r.shift} on {r.day}: {r.egregious_hours:.3f} egregious h > {policy.exposure_max_hours_per_day:g} h x {n}")
    totals_alloc = e.groupby(POOL)[PRODUCTIVE_HOURS].sum()
    totals_ex = ex.groupby(POOL)["egregious_hours"].sum() if len(ex) else pd.Series(dtype=float)
    for p, v in totals_alloc.items():
        if abs(v - float(totals_ex.get(p, 0.0))) > 1e-4 + 1e-6 * v:
            daily.append(f"{p}: exposure table has {float(totals_ex.get(p, 0.0)):.4f} egregious h, allocation {v:.4f} h")
    _limit(out, "exposure per moderator-day", daily)
    return out


def plan_cost(ws, shift_plan: pd.DataFrame) -> float:
    """Paid-hour cost of a shift plan in the reporting currency."""
    if not len(shift_plan):
        return 0.0
    pools = ws.pools.set_index(POOL)
    fx = ws.config.policy.fx
    rate = shift_plan[POOL].map(lambda p: float(pools.at[p, "cost_per_hour"]) * fx[pools.at[p, "currency"]])
    return float((shift_plan[PAID_HOURS] * shift_plan[HEADCOUNT] * rate).sum())


def check_cost(ws, result) -> list[str]:
    cost = plan_cost(ws, result.shift_plan) if not len(roster_today(ws)) else contract_cost(ws, result)
    reported = float(result.solve.get("cost", float("nan")))
    if not abs(cost - reported) <= 1e-4 + 1e-7 * abs(cost):
        return [f"cost: reported {reported:.4f} but the shift plan costs {cost:.4f}"]
    return []


def check_plan(ws, requirements: pd.DataFrame, result) -> list[str]:
    """Every violation found in a plan (empty list = valid). Uses no solver."""
    cap = capacity_from_shift_plan(ws, result.shift_plan)
    out: list[str] = []
    out += check_shift_times(ws, result)
    out += check_patterns(ws, result)
    out += check_headcount(ws, result)
    out += check_allocation(ws, result, cap)
    out += check_coverage(ws, requirements, result)
    out += check_vendors(ws, result)
    out += check_language_share(ws, result)
    out += check_vendor_concentration(ws, result)
    out += check_quality_floor(ws, result)
    out += check_exposure(ws, result, cap)
    out += check_cost(ws, result)
    out += check_contracts(ws, result)
    out += check_pair_min_hours(ws, result)
    return out


# --- employment contracts and routable allocations (issue 12) ----------------------------------------
def roster_today(ws) -> pd.DataFrame:
    """In-house employees on the roster today: ``pool``, ``weekly_hours``, ``headcount`` (empty without a roster)."""
    from pathlib import Path

    roster = getattr(ws, "roster", None)
    if roster is None and isinstance(getattr(ws, "root", None), (str, Path)):
        from capplan.inputs.roster import read_roster

        start, _, _ = _grid(ws)
        roster = read_roster(Path(ws.root), pools=ws.pools, start=start)
    cols = [POOL, "weekly_hours", HEADCOUNT]
    if roster is None or not len(roster):
        return pd.DataFrame(columns=cols)
    r = roster[roster["class_start"].isna()] if "class_start" in roster else roster
    inhouse = set(ws.pools.loc[ws.pools[VENDOR] == INHOUSE, POOL])
    r = r[r[POOL].isin(inhouse) & (r[HEADCOUNT].astype(int) > 0)]
    hours = pd.to_numeric(r["weekly_hours"], errors="coerce") if "weekly_hours" in r else pd.Series(np.nan, index=r.index)
    r = r.assign(weekly_hours=hours.fillna(float(ws.config.contracts.default_weekly_hours)))
    return r.groupby([POOL, "weekly_hours"], as_index=False)[HEADCOUNT].sum()[cols]


def _pattern_days(ws, r) -> list:
    """The plan dates a pattern row works."""
    plan_dates = [ws.config.planning.start + dt.timedelta(days=k) for k in range(ws.config.planning.plan_days)]
    d0 = WEEKDAYS.index(r.start_day)
    return [day for day in plan_dates if (day.weekday() - d0) % 7 < int(r.days_per_week)]


def contract_cost(ws, result) -> float:
    """Cost of a plan with a roster: hourly pools from the shift plan; rostered pools from their patterns.

    Per employee of a roster group: ``H x weeks`` contracted hours at the rate, plus ``overtime_premium`` x
    the rate for paid hours above them; temps ``temp_rate_factor`` x the rate per paid hour [currency].
    """
    rostered = set(roster_today(ws)[POOL])
    sp = result.shift_plan
    cost = plan_cost(ws, sp[~sp[POOL].isin(rostered)]) if len(sp) else 0.0
    pools = ws.pools.set_index(POOL)
    c = ws.config.contracts
    weeks = ws.config.planning.plan_days / 7.0
    paid = dict(zip(ws.shifts[SHIFT], ws.shifts[PAID_HOURS].astype(float)))
    for r in result.patterns.itertuples(index=False):
        if r.pool not in rostered:
            continue
        rate = float(pools.at[r.pool, "cost_per_hour"]) * ws.config.policy.fx[pools.at[r.pool, "currency"]]
        hours = paid[r.shift] * len(_pattern_days(ws, r))
        kind = getattr(r, "contract", "flex")
        if kind in ("contract", "overtime"):
            contracted = float(r.weekly_hours) * weeks
            cost += r.moderators * rate * (contracted + float(c.overtime_premium) * max(hours - contracted, 0.0))
        else:
            cost += r.moderators * rate * hours * (float(c.temp_rate_factor) if kind == "temp" else 1.0)
    return float(cost)


def check_contracts(ws, result) -> list[str]:
    """Rostered in-house pools: every employee scheduled once, within contract, rest and consecutive-day limits.

    Per roster group (pool, contracted weekly hours H): contract and overtime patterns hold exactly its
    headcount; a pattern's paid hours per week are at most ``H + overtime_max_hours_per_week`` (at most H
    for a contract pattern); it works at most ``max_consecutive_days`` consecutive days (cyclic week) and its
    shifts leave at least ``min_rest_hours`` between them (real UTC times of the shift plan's dates, DST
    included); no hourly (flex) pattern in a rostered pool, and temps only when ``temp_max_share > 0``.
    """
    roster = roster_today(ws)
    out: list[str] = []
    if not len(roster):
        return out
    c = ws.config.contracts
    pats = result.patterns
    kind = pats["contract"] if "contract" in pats else pd.Series("flex", index=pats.index)
    found = []
    for g in roster.itertuples(index=False):
        mine = pats[(pats[POOL] == g.pool) & kind.isin(["contract", "overtime"]) & (pats["weekly_hours"] == g.weekly_hours)] \
            if "weekly_hours" in pats else pats.iloc[0:0]
        if int(mine["moderators"].sum()) != int(g.headcount):
            found.append(f"{g.pool} ({g.weekly_hours:g} h contracts): {int(mine['moderators'].sum())} scheduled, roster has {g.headcount}")
    rostered = set(roster[POOL])
    paid = dict(zip(ws.shifts[SHIFT], ws.shifts[PAID_HOURS].astype(float)))
    on_site = dict(zip(ws.shifts[SHIFT], ws.shifts[PAID_HOURS].astype(float) + ws.shifts["break_minutes"].astype(float) / 60.0))
    minute = dict(zip(ws.shifts[SHIFT], ws.shifts["start_minute"].astype(int)))
    tz = dict(zip(ws.pools[POOL], ws.pools["timezone"]))
    for r, k in zip(pats.itertuples(index=False), kind):
        if r.pool not in rostered:
            continue
        if k == "flex" or (k == "temp" and float(c.temp_max_share) <= 0):
            found.append(f"{r.pool}/{r.shift}: {k} staff in a rostered pool")
            continue
        if k == "temp":
            continue
        weekly = paid[r.shift] * int(r.days_per_week)
        limit = float(r.weekly_hours) + (float(c.overtime_max_hours_per_week) if k == "overtime" else 0.0)
        if _bad(weekly, limit):
            found.append(f"{r.pool}/{r.shift} from {r.start_day}: {weekly:g} paid h/week > {limit:g} ({k})")
        if int(r.days_per_week) > int(c.max_consecutive_days):
            found.append(f"{r.pool}/{r.shift} from {r.start_day}: {r.days_per_week} consecutive days > {c.max_consecutive_days}")
        days = _pattern_days(ws, r)
        weekdays = {x.weekday() for x in days}
        for a in days:
            b = a + dt.timedelta(days=1)  # the real next day (the rota repeats weekly)
            if b.weekday() not in weekdays:
                continue
            starts = [dt.datetime.combine(x, dt.time(minute[r.shift] // 60, minute[r.shift] % 60), tzinfo=ZoneInfo(tz[r.pool])) for x in (a, b)]
            rest = (starts[1].astimezone(dt.timezone.utc) - starts[0].astimezone(dt.timezone.utc)).total_seconds() / 3600.0 - on_site[r.shift]
            if rest < float(c.min_rest_hours) - 1e-9:
                found.append(f"{r.pool}/{r.shift} {a} -> {b}: {rest:.2f} h rest < {c.min_rest_hours:g} h")
    _limit(out, "employment contracts", found)
    return out


def check_pair_min_hours(ws, result) -> list[str]:
    """No slivers: a pool works a cell at least ``min_pair_weekly_hours x weeks`` productive hours or not at all.

    Less is allowed only when it is all the pool could usefully give (the cell's whole demand at the pool's
    proficiency: requirement hours for realtime cells, workload / deferred utilisation for deferred ones).
    """
    out: list[str] = []
    weekly = float(ws.config.contracts.min_pair_weekly_hours)
    a = result.allocation
    if weekly <= 0 or not len(a):
        return out
    weeks = ws.config.planning.plan_days / 7.0
    cov = result.coverage
    util = float(ws.config.staffing.deferred_max_utilisation)
    demand = {}
    if "required_hours" in cov:
        start, T, h = _grid(ws)
        g = cov.groupby([QUEUE, LANGUAGE])[["required_hours", "workload_hours"]].sum()
        demand = {k: float(r.required_hours) + float(r.workload_hours) / max(util, 1e-9) for k, r in g.iterrows()}
    prof = pool_cell_proficiency(ws).set_index([POOL, QUEUE, LANGUAGE])["multiplier"]
    used = a.groupby([POOL, QUEUE, LANGUAGE])[PRODUCTIVE_HOURS].sum()
    found = []
    for (p, q, lang), hours in used.items():
        least = min(weekly * weeks, demand.get((q, lang), np.inf) * float(prof.get((p, q, lang), 1.0)))
        if hours > ABS_TOL and _bad(least, hours):
            found.append(f"{p} on {q}/{lang}: {hours:.2f} productive h < {least:.2f} h")
    _limit(out, "no slivers", found)
    return out
