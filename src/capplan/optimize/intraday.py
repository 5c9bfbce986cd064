"""The intraday re-plan: re-route the rest of the day with the shift plan fixed (a small LP, MathOpt/HiGHS).

The plan's shifts stay as they are; from the as-of interval ``s`` to the end of the UTC day ``e`` the
model decides, on the updated forecast:

* ``alloc[pool=..,cell=..,t=..]`` >= 0 [productive h]: hours of a pool on a skilled cell (as in
  :mod:`capplan.optimize.model`);
* ``vto[occ=..,t=..]`` in [0, heads] [moderators]: moderators of a shift occurrence released early
  (voluntary time off), non-decreasing over the shift (a released moderator goes home), saving their
  paid time at the pool's rate;
* ``ot[occ=..,t=..]`` in [0, heads] [moderators]: moderators staying after the shift's end, at most
  ``overtime_max_hours``, non-increasing (they leave one by one), paid at ``overtime_premium`` x rate;
* ``unmet`` (realtime), ``late`` and ``carry`` (deferred) [standard h]: priced slack, so the model is
  always feasible.

Constraint families (one ``add_*`` function each, as in :mod:`capplan.optimize.model`)
--------------------------------------------------------------------------------
* capacity: ``sum_c alloc[p, c, t] <= sum_o k_o(t) (heads_o - vto_o,t) + sum_o k'_o(t) ot_o,t`` with
  ``k_o(t) = overlap x paid / on_site x (1 - shrinkage)`` (the plan's capacity per moderator) and
  ``k'_o(t) = overlap x (1 - shrinkage)`` (overtime has no unpaid break);
* exposure share: egregious hours <= ``exposure_max_share`` x the same capacity;
* exposure per moderator-day: each shift occurrence's egregious hours today (the plan's before as-of,
  the re-plan's after) <= ``exposure_max_hours_per_day`` x its moderators (:func:`add_exposure_daily`);
* realtime coverage: ``sum_p alloc / a_p + unmet >= need`` (the updated requirements);
* deferred flow from the opening backlog at as-of (:func:`opening_backlog`) with its due times:
  ``e_t = e_{t-1} + a_t - done_t - late_t``, ``0 <= e_t <= arrived - due``; the backlog left at the
  end of the day may exceed what the plan handed to the next day (times the cell's multiplier) only
  through ``carry``, priced like late work, so early release never pushes work into tomorrow;
* moves: ``move >= alloc - planned`` priced 0.01 per hour, so among equal re-plans the one closest
  to the original allocation is chosen and every reported move is needed;
* vendor contracts over the plan window (:func:`add_vendor_contracts`): the plan's paid hours of the
  vendor's shifts (all fixed, so "used so far" and "still to come" alike) plus the re-plan's overtime less its
  VTO stay within ``max_weekly_hours x weeks``, and VTO never takes them below ``min_weekly_hours x weeks``;
* language shares over the plan window (:func:`add_language_share`): a provider's productive hours on a
  language, the plan's outside the re-planned intervals plus the re-plan's inside, stay within its cap (the
  vendor's ``max_language_share``; 90 % for critical languages) of the language's hours; an excess is priced
  at the highest unmet penalty, so the model stays feasible;
* vendor concentration over the plan window (:func:`add_vendor_concentration`): each vendor's productive hours,
  counted the same way, stay within ``[policy] vendor_max_share`` of all hours; an excess is priced as above.

Objective: overtime cost - VTO savings + penalties + moves + the plan's tie-breaker.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capplan.config import OVERTIME_PREMIUM
from capplan.errors import SolverError
from capplan.optimize.data import PlanData
from capplan.optimize.model import TIE_BREAK, mathopt
from capplan.schema import (DAY, HEADCOUNT, INHOUSE, INTERVAL_START, LANGUAGE, PAID_HOURS, POOL, PRODUCTIVE_HOURS, QUEUE, SHIFT,
                            VENDOR)
from capplan.staffing.erlang import erlang_a_metrics, erlang_c_service_level
from capplan.units import interval_index

MOVE_PRICE = 0.01  # per productive hour moved away from the original plan [currency]


@dataclass(frozen=True)
class IntradaySettings:
    """Prices and limits of the re-plan (``[reforecast]`` in capplan.toml)."""

    overtime_premium: float = OVERTIME_PREMIUM
    overtime_max_hours: float = 2.0
    vto: bool = True
    vto_vendor_pools: bool = False


@dataclass
class IntradayData:
    """What the re-plan is built from.

    Attributes
    ----------
    d : plan data prepared from the updated requirements of the rest of the day
    s, e : first and past-the-last interval index of the rest of the day
    heads : [O] moderators per shift occurrence (the fixed shift plan)
    planned : (pool, cell) -> [T] the original allocation [productive h]
    opening : [C] deferred backlog at as-of [standard h]
    opening_due : [C, e - s + 1] of it, the part due by the end of each interval (last slot: after the day)
    hand_over : [C] backlog the plan left at the day's end, times the cell's multiplier [standard h]
    """

    d: PlanData
    s: int
    e: int
    heads: np.ndarray
    planned: dict
    opening: np.ndarray
    opening_due: np.ndarray
    hand_over: np.ndarray
    settings: IntradaySettings = field(default_factory=IntradaySettings)
    paid_share: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.paid_share = paid_shares(self.d)

    @property
    def times(self) -> range:
        return range(self.s, self.e)


def occurrence_heads(d: PlanData, shift_plan: pd.DataFrame) -> np.ndarray:
    """[O] moderators on each shift occurrence of ``d`` from a shift plan (pool, shift, day, headcount)."""
    key = {(d.pools.at[o.pool, POOL], o.shift, o.day): i for i, o in enumerate(d.occurrences)}
    heads = np.zeros(len(d.occurrences))
    for pool, shift, day, n in shift_plan[[POOL, SHIFT, DAY, HEADCOUNT]].itertuples(index=False):
        i = key.get((pool, shift, pd.Timestamp(day).date()))
        if i is not None:
            heads[i] += float(n)
    return heads


def planned_hours(d: PlanData, allocation: pd.DataFrame) -> dict:
    """(pool, cell) -> [T] productive hours of an allocation table on ``d``'s grid."""
    pools = {p: i for i, p in enumerate(d.pools[POOL])}
    cells = {k: i for i, k in enumerate(zip(d.cells[QUEUE], d.cells[LANGUAGE]))}
    out: dict = {}
    t = interval_index(allocation[INTERVAL_START], d.start, d.h)
    for p, q, lang, ti, hrs in zip(allocation[POOL], allocation[QUEUE], allocation[LANGUAGE], t, allocation[PRODUCTIVE_HOURS]):
        key = (pools.get(p), cells.get((q, lang)))
        if None in key or not 0 <= ti < d.T:
            continue
        out.setdefault(key, np.zeros(d.T))[ti] += float(hrs)
    return out


def opening_backlog(arrived: np.ndarray, capacity: np.ndarray, due_shift: np.ndarray, s: int, e: int) -> tuple[np.ndarray, np.ndarray]:
    """Deferred backlog at interval ``s`` and when it falls due, from a first-in-first-out fluid queue.

    Parameters
    ----------
    arrived : [C, s] standard hours of work arriving in each interval before ``s``.
    capacity : [C, s] standard hours of work the plan's hours could do in each interval.
    due_shift : [C] intervals from arrival to due (:func:`capplan.staffing.backlog.due_shift`).

    Returns
    -------
    (opening [C], due [C, e - s + 1])
        The backlog ``e_t = max(e_{t-1} + a_t - cap_t, 0)`` at the end of ``s - 1``, and per interval
        of the rest of the day the part of it due by then (work already overdue is due in ``s``; the
        last slot holds work due after the day). FIFO leaves the latest arrivals waiting.
    """
    C = arrived.shape[0]
    opening = np.zeros(C)
    due = np.zeros((C, e - s + 1))
    for c in range(C):
        backlog = 0.0
        for t in range(s):
            backlog = max(backlog + arrived[c, t] - capacity[c, t], 0.0)
        opening[c] = backlog
        left = backlog
        for t in range(s - 1, -1, -1):  # the waiting work is the most recent arrivals
            if left <= 1e-12:
                break
            x = min(arrived[c, t], left)
            left -= x
            k = min(max(t + int(due_shift[c]) - s, 0), e - s)
            due[c, k] += x
    return opening, due


# --- building ------------------------------------------------------------------------------------
@dataclass
class IntradayBuilt:
    model: object
    data: IntradayData
    alloc: dict = field(default_factory=dict)  # (p, c) -> {t: var}
    vto: dict = field(default_factory=dict)  # o -> {t: var}
    ot: dict = field(default_factory=dict)  # o -> {t: var}
    unmet: dict = field(default_factory=dict)  # (c, t) -> var
    late: dict = field(default_factory=dict)  # (c, t) -> var
    carry: dict = field(default_factory=dict)  # c -> var
    share_over: dict = field(default_factory=dict)  # (provider, language) -> var: hours above the language share cap; (vendor, "*"): above vendor_max_share
    supply: dict = field(default_factory=dict)  # (p, t) -> [(coef, var or None)] productive hours on the floor
    occ_supply: dict = field(default_factory=dict)  # (o, t) -> [(coef, var or None)] the same per shift occurrence
    terms: dict = field(default_factory=dict)
    seconds: float = 0.0


def paid_shares(d: PlanData) -> np.ndarray:
    """[O] paid hours / on-site hours of each shift occurrence (the unpaid break is the rest)."""
    paid = dict(zip(d.shifts[SHIFT], d.shifts[PAID_HOURS].astype(float)))
    return np.array([paid[o.shift] / o.on_site_hours for o in d.occurrences])


def overtime_overlap(d: PlanData, o: int, hours: float) -> dict[int, float]:
    """Interval -> hours of the ``hours`` after occurrence ``o``'s end (cyclic window, like the shifts)."""
    occ = d.occurrences[o]
    a = (occ.start_utc - d.start).total_seconds() / 3600.0 / d.h + occ.on_site_hours / d.h
    b = a + hours / d.h
    out: dict[int, float] = {}
    k = math.floor(a)
    while k < b:
        over = (min(b, k + 1) - max(a, k)) * d.h
        if over > 1e-12:
            out[k % d.T] = out.get(k % d.T, 0.0) + over
        k += 1
    return out


def _supply(b: IntradayBuilt, p: int, o: int, t: int, coef: float, var) -> None:
    b.supply.setdefault((p, t), []).append((coef, var))
    b.occ_supply.setdefault((o, t), []).append((coef, var))


def add_staffing(b: IntradayBuilt, as_of_index: int) -> list:
    """VTO and overtime per occurrence; the productive hours they take or give in each interval.

    Objective terms: ``- rate x paid share x overlap x vto`` and ``premium x rate x overlap x ot`` [currency].
    """
    mo, m, x = mathopt(), b.model, b.data
    d, cfg, rest = x.d, x.settings, set(x.times)
    terms = []
    for o, occ in enumerate(d.occurrences):
        heads = float(x.heads[o])
        if heads <= 0:
            continue
        pool = d.pools.loc[occ.pool]
        shrink, rate, share = float(pool["shrinkage"]), float(pool["rate"]), x.paid_share[o]
        name = f"{pool[POOL]},shift={occ.shift},day={occ.day}"
        on = sorted(t for t in occ.overlap if t in rest)
        vto_ok = cfg.vto and (pool[VENDOR] == INHOUSE or cfg.vto_vendor_pools)
        prev = None
        for t in on:
            hrs = occ.overlap[t]
            _supply(b, occ.pool, o, t, hrs * share * (1 - shrink) * heads, None)
            if not vto_ok:
                continue
            v = m.add_variable(lb=0.0, ub=heads, name=f"vto[occ={name},t={t}]")
            b.vto.setdefault(o, {})[t] = v
            _supply(b, occ.pool, o, t, -hrs * share * (1 - shrink), v)
            terms.append(-rate * share * hrs * v)
            if prev is not None:
                m.add_linear_constraint(v - prev >= 0.0, name=f"vto_stays[occ={name},t={t}]")
            prev = v
        end = occ.start_utc + pd.Timedelta(hours=occ.on_site_hours)
        if cfg.overtime_max_hours <= 0 or (end - d.start).total_seconds() / 3600.0 / d.h < as_of_index:
            continue
        last_vto = prev
        prev = None
        for t, hrs in sorted(overtime_overlap(d, o, cfg.overtime_max_hours).items()):
            if t not in rest:
                continue
            v = m.add_variable(lb=0.0, ub=heads, name=f"ot[occ={name},t={t}]")
            b.ot.setdefault(o, {})[t] = v
            _supply(b, occ.pool, o, t, hrs * (1 - shrink), v)
            terms.append(cfg.overtime_premium * rate * hrs * v)
            if prev is not None:
                m.add_linear_constraint(v - prev <= 0.0, name=f"ot_leaves[occ={name},t={t}]")
            elif last_vto is not None:
                m.add_linear_constraint(v + last_vto <= heads, name=f"ot_not_released[occ={name}]")
            prev = v
    return terms


def _supply_expr(b: IntradayBuilt, p: int, t: int, factor: float = 1.0):
    mo = mathopt()
    const = sum(coef for coef, v in b.supply.get((p, t), []) if v is None)
    return factor * const + mo.fast_sum(factor * coef * v for coef, v in b.supply.get((p, t), []) if v is not None)


def add_alloc(b: IntradayBuilt) -> list:
    """``alloc[p, c, t] >= 0`` where pool p can be on the floor in t and cell c has work; tie-breaker and move terms."""
    m, x = b.model, b.data
    d = x.d
    terms = []
    arrived = x.opening[:, None] + np.cumsum(d.workload[:, x.s:x.e], axis=1) > 0
    for p, c in d.skills:
        pool = d.pools.loc[p]
        realtime = d.cells.at[c, "kind"] == "realtime"
        ts = [t for t in x.times if (p, t) in b.supply and (d.need_hours[c, t] > 0 if realtime else arrived[c, t - x.s])]
        if not ts:
            continue
        cell = f"{d.cells.at[c, QUEUE]}/{d.cells.at[c, LANGUAGE]}"
        w = TIE_BREAK * d.multiplier(p, c) * (2.0 - float(pool["quality"]))
        planned = x.planned.get((p, c))
        vars_ = {}
        for t in ts:
            v = m.add_variable(lb=0.0, name=f"alloc[pool={pool[POOL]},cell={cell},t={t}]")
            vars_[t] = v
            terms.append(w * v)
            mv = m.add_variable(lb=0.0, name=f"move[pool={pool[POOL]},cell={cell},t={t}]")
            m.add_linear_constraint(mv - v >= -(float(planned[t]) if planned is not None else 0.0), name=f"move_def[pool={pool[POOL]},cell={cell},t={t}]")
            terms.append(MOVE_PRICE * mv)
        b.alloc[(p, c)] = vars_
    return terms


def add_capacity(b: IntradayBuilt) -> list:
    """Pool capacity and the exposure share per pool and interval (see the module docstring)."""
    mo, m, x = mathopt(), b.model, b.data
    d = x.d
    share = float(d.config.policy.exposure_max_share)
    egregious = d.cells["egregious"].to_numpy(bool)
    by_pt: dict = {}
    egr_pt: dict = {}
    for (p, c), vars_ in b.alloc.items():
        for t, v in vars_.items():
            by_pt.setdefault((p, t), []).append(v)
            if egregious[c]:
                egr_pt.setdefault((p, t), []).append(v)
    for (p, t), vs in sorted(by_pt.items()):
        m.add_linear_constraint(mo.fast_sum(vs) - _supply_expr(b, p, t) <= 0.0, name=f"capacity[pool={d.pools.at[p, POOL]},t={t}]")
    if share < 1.0:
        for (p, t), vs in sorted(egr_pt.items()):
            m.add_linear_constraint(mo.fast_sum(vs) - _supply_expr(b, p, t, share) <= 0.0,
                                    name=f"exposure_share[pool={d.pools.at[p, POOL]},t={t}]")
    return []


def _egregious_before(x: IntradayData) -> np.ndarray:
    """[O] egregious productive hours each occurrence worked under the plan before as-of (the pool's, pro rata to capacity)."""
    d = x.d
    egregious = d.cells["egregious"].to_numpy(bool)
    egr_pt = np.zeros((len(d.pools), d.T))
    for (p, c), hours in x.planned.items():
        if egregious[c]:
            egr_pt[p] += hours
    on = np.zeros((len(d.occurrences), d.T))
    for o, occ in enumerate(d.occurrences):
        for t, hrs in occ.overlap.items():
            on[o, t] = hrs * x.paid_share[o] * x.heads[o]
    pool_of = np.array([occ.pool for occ in d.occurrences], dtype=int)
    cap_pt = np.zeros((len(d.pools), d.T))
    np.add.at(cap_pt, pool_of, on)
    share = np.divide(on, cap_pt[pool_of], out=np.zeros_like(on), where=cap_pt[pool_of] > 0)
    return (share[:, : x.s] * egr_pt[pool_of, : x.s]).sum(axis=1)


def add_exposure_daily(b: IntradayBuilt) -> list:
    """Daily cap per moderator: each occurrence's egregious hours today <= ``exposure_max_hours_per_day`` x its moderators.

    The hours before as-of are the plan's (:func:`_egregious_before`); after it the pool's egregious hours
    in t are split over its occurrences on the floor (``egr[o, t]``, each at most the occurrence's own
    productive hours in t, overtime included), and each occurrence's sum stays within what is left of its
    budget. Rows only for occurrences that could reach the cap: share x (paid + overtime hours) x (1 - shrinkage) above it.
    """
    mo, m, x = mathopt(), b.model, b.data
    d, cfg = x.d, x.settings
    policy = d.config.policy
    cap_h, share = float(policy.exposure_max_hours_per_day), float(policy.exposure_max_share)
    paid = dict(zip(d.shifts[SHIFT], d.shifts[PAID_HOURS].astype(float)))
    egregious = d.cells["egregious"].to_numpy(bool)
    egr_pt: dict = {}
    for (p, c), vars_ in b.alloc.items():
        if egregious[c]:
            for t, v in vars_.items():
                egr_pt.setdefault((p, t), []).append(v)
    if not egr_pt:
        return []
    before = _egregious_before(x)
    capped: dict = {}  # (pool, t) -> {occurrence: egr var}
    for o, occ in enumerate(d.occurrences):
        shrink = float(d.pools.at[occ.pool, "shrinkage"])
        reach = share * (paid[occ.shift] + max(cfg.overtime_max_hours, 0.0)) * (1 - shrink)
        ts = [t for t in x.times if (o, t) in b.occ_supply and (occ.pool, t) in egr_pt]
        if x.heads[o] <= 0 or reach <= cap_h + 1e-9 or not ts:
            continue
        name = f"{d.pools.at[occ.pool, POOL]},shift={occ.shift},day={occ.day}"
        ys = []
        for t in ts:
            y = m.add_variable(lb=0.0, name=f"egr[occ={name},t={t}]")
            ys.append(y)
            capped.setdefault((occ.pool, t), {})[o] = y
            m.add_linear_constraint(y - _occ_supply_expr(b, o, t) <= 0.0, name=f"egr_on_floor[occ={name},t={t}]")
        left = max(cap_h * float(x.heads[o]) - float(before[o]), 0.0)
        m.add_linear_constraint(mo.fast_sum(ys) <= left, name=f"exposure_daily[occ={name}]")
    for (p, t), ys in sorted(capped.items()):
        free = [o for (o, tt) in b.occ_supply if tt == t and d.occurrences[o].pool == p and o not in ys]
        expr = mo.fast_sum(egr_pt[(p, t)]) - mo.fast_sum(ys.values()) - mo.fast_sum(_occ_supply_expr(b, o, t) for o in free)
        m.add_linear_constraint(expr <= 0.0, name=f"egr_split[pool={d.pools.at[p, POOL]},t={t}]")
    return []


def _occ_supply_expr(b: IntradayBuilt, o: int, t: int):
    """Productive hours occurrence ``o`` gives in ``t``: its moderators on the floor (less VTO) plus its overtime."""
    mo = mathopt()
    terms = b.occ_supply.get((o, t), [])
    return sum(coef for coef, v in terms if v is None) + mo.fast_sum(coef * v for coef, v in terms if v is not None)


def add_realtime(b: IntradayBuilt) -> list:
    """``sum_p alloc / a_p + unmet >= need`` per realtime cell and interval, unmet priced by severity."""
    mo, m, x = mathopt(), b.model, b.data
    d = x.d
    served: dict = {}
    for (p, c), vars_ in b.alloc.items():
        if d.cells.at[c, "kind"] == "realtime":
            for t, v in vars_.items():
                served.setdefault((c, t), []).append(v / d.multiplier(p, c))
    terms = []
    for c in np.flatnonzero((d.cells["kind"] == "realtime").to_numpy()):
        for t in x.times:
            need = float(d.need_hours[c, t])
            if need <= 0:
                continue
            u = m.add_variable(lb=0.0, ub=need, name=f"unmet[cell={c},t={t}]")
            b.unmet[(c, t)] = u
            terms.append(float(d.cells.at[c, "penalty"]) * u)
            m.add_linear_constraint(mo.fast_sum(served.get((c, t), [])) + u >= need, name=f"cover[cell={c},t={t}]")
    return terms


def deferred_curves(x: IntradayData, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(arrivals [n], cumulative arrived [n], cumulative due [n]) of a deferred cell over the rest of the day [standard h]."""
    d = x.d
    a = d.workload[c, x.s:x.e]
    shift = int(d.cells.at[c, "due_shift"])
    n = x.e - x.s
    due_new = np.zeros(n)
    if shift < n:
        due_new[shift:] = a[: n - shift]
    arrived = x.opening[c] + np.cumsum(a)
    due = np.cumsum(x.opening_due[c, :n] + due_new)
    return a, arrived, due


def add_deferred(b: IntradayBuilt) -> list:
    """Deferred flow from the opening backlog, late work and the hand-over to the next day (module docstring)."""
    mo, m, x = mathopt(), b.model, b.data
    d = x.d
    util = float(d.config.staffing.deferred_max_utilisation)
    done: dict = {}
    for (p, c), vars_ in b.alloc.items():
        if d.cells.at[c, "kind"] != "realtime":
            for t, v in vars_.items():
                done.setdefault((c, t), []).append(util / d.multiplier(p, c) * v)
    terms = []
    for c in np.flatnonzero((d.cells["kind"] != "realtime").to_numpy()):
        a, arrived, due = deferred_curves(x, c)
        if arrived[-1] <= 0:
            continue
        price = float(d.cells.at[c, "penalty"])
        prev = float(x.opening[c])
        for k, t in enumerate(x.times):
            et = m.add_variable(lb=0.0, ub=max(float(arrived[k] - due[k]), 0.0), name=f"backlog[cell={c},t={t}]")
            lt = m.add_variable(lb=0.0, name=f"late[cell={c},t={t}]")
            b.late[(c, t)] = lt
            terms.append(price * lt)
            m.add_linear_constraint(et + mo.fast_sum(done.get((c, t), [])) + lt - prev == float(a[k]), name=f"flow[cell={c},t={t}]")
            prev = et
        carry = m.add_variable(lb=0.0, name=f"carry[cell={c}]")
        b.carry[c] = carry
        terms.append(price * carry)
        m.add_linear_constraint(prev - carry <= float(x.hand_over[c]), name=f"hand_over[cell={c}]")
    return terms


def vendor_paid_hours(x: IntradayData) -> dict[str, float]:
    """Vendor -> paid hours of its shift occurrences in the plan window under the fixed shift plan [paid h]."""
    d = x.d
    paid = dict(zip(d.shifts[SHIFT], d.shifts[PAID_HOURS].astype(float)))
    out: dict[str, float] = {}
    for o, occ in enumerate(d.occurrences):
        vendor = d.pools.at[occ.pool, VENDOR]
        out[vendor] = out.get(vendor, 0.0) + float(x.heads[o]) * paid[occ.shift]
    return out


def add_vendor_contracts(b: IntradayBuilt) -> list:
    """``P_v + OT_v - VTO_v <= max_v x weeks`` and, where VTO reaches vendor pools, ``>= min_v x weeks`` [paid h].

    ``P_v`` is the plan's paid hours of the vendor over the window (:func:`vendor_paid_hours`); ``OT_v`` and
    ``VTO_v`` the re-plan's overtime and released paid hours in its pools. A limit the plan itself already
    passes is kept at the plan (no more overtime, no net VTO), so the model stays feasible.
    """
    mo, m, x = mathopt(), b.model, b.data
    d, cfg = x.d, x.settings
    if not len(d.vendors):
        return []
    planned = vendor_paid_hours(x)
    change: dict[str, list] = {}
    for o, by_t in b.ot.items():
        hours = overtime_overlap(d, o, cfg.overtime_max_hours)
        change.setdefault(d.pools.at[d.occurrences[o].pool, VENDOR], []).extend(hours[t] * v for t, v in by_t.items())
    for o, by_t in b.vto.items():
        occ = d.occurrences[o]
        change.setdefault(d.pools.at[occ.pool, VENDOR], []).extend(-x.paid_share[o] * occ.overlap[t] * v for t, v in by_t.items())
    for vendor, hi, lo in zip(d.vendors[VENDOR], d.vendors["max_weekly_hours"].astype(float), d.vendors["min_weekly_hours"].astype(float)):
        terms = change.get(vendor)
        if not terms:
            continue
        used = planned.get(vendor, 0.0)
        m.add_linear_constraint(mo.fast_sum(terms) <= max(hi * d.weeks - used, 0.0), name=f"vendor_max[vendor={vendor}]")
        if lo > 0 and b.vto and any(d.pools.at[d.occurrences[o].pool, VENDOR] == vendor for o in b.vto):
            m.add_linear_constraint(mo.fast_sum(terms) >= min(lo * d.weeks - used, 0.0), name=f"vendor_min[vendor={vendor}]")
    return []


def _provider_hours(b: IntradayBuilt) -> tuple[dict, dict]:
    """Per (provider, language): the plan's productive hours outside the re-planned intervals (before as-of and after
    the day) [h], and the re-plan's allocation variables inside them."""
    x = b.data
    d = x.d
    inside = np.zeros(d.T, dtype=bool)
    inside[x.s:x.e] = True
    out: dict[tuple[str, str], float] = {}
    for (p, c), hours in x.planned.items():
        key = (d.pools.at[p, VENDOR], d.cells.at[c, LANGUAGE])
        out[key] = out.get(key, 0.0) + float(hours[~inside].sum())
    in_: dict[tuple[str, str], list] = {}
    for (p, c), vars_ in b.alloc.items():
        in_.setdefault((d.pools.at[p, VENDOR], d.cells.at[c, LANGUAGE]), []).extend(vars_.values())
    return out, in_


def _share_row(b: IntradayBuilt, name: str, cap: float, mine: list, everyone: list, out: dict, price: float):
    """``H_out(mine) + sum alloc(mine) - over <= cap x (H_out(everyone) + sum alloc(everyone))``; ``over`` priced."""
    mo, m = mathopt(), b.model
    hours_out, hours_in = out
    over = m.add_variable(lb=0.0, name=f"share_over[{name}]")
    expr = (sum(hours_out.get(k, 0.0) for k in mine) + mo.fast_sum(v for k in mine for v in hours_in.get(k, [])) - over
            - cap * (sum(hours_out.get(k, 0.0) for k in everyone) + mo.fast_sum(v for k in everyone for v in hours_in.get(k, []))))
    m.add_linear_constraint(expr <= 0.0, name=name)
    return over, price * over


def add_language_share(b: IntradayBuilt) -> list:
    """``H_out(v, l) + sum alloc(v, l) - over <= cap x (H_out(l) + sum alloc(l))`` per capped provider and language [productive h].

    ``H_out`` are the plan's hours outside the re-planned intervals (before as-of and after the day), ``alloc``
    the re-plan's; ``over`` is priced at the highest unmet penalty (module docstring).
    """
    d = b.data.d
    if not d.language_caps:
        return []
    hours = _provider_hours(b)
    keys = sorted(set(hours[0]) | set(hours[1]))
    price = float(d.cells["penalty"].max()) if len(d.cells) else 0.0
    terms = []
    for (prov, lang), cap in sorted(d.language_caps.items()):
        if not hours[1].get((prov, lang)):
            continue
        over, term = _share_row(b, f"language_share[provider={prov},language={lang}]", cap, [(prov, lang)],
                                [k for k in keys if k[1] == lang], hours, price)
        b.share_over[(prov, lang)] = over
        terms.append(term)
    return terms


def add_vendor_concentration(b: IntradayBuilt) -> list:
    """``H_out(v) + sum alloc(v) - over <= vendor_max_share x (H_out + sum alloc)`` per vendor [productive h].

    The concentration cap of the weekly plan (:func:`capplan.optimize.model.add_vendor_concentration`) over the
    plan window: the plan's hours outside the re-planned intervals plus the re-plan's. Only when
    ``[policy] vendor_max_share < 1`` and two or more providers (in-house counted as one) have hours; ``over`` is
    priced at the highest unmet penalty, as the language share's.
    """
    d = b.data.d
    share = float(d.config.policy.vendor_max_share)
    hours = _provider_hours(b)
    keys = sorted(set(hours[0]) | set(hours[1]))
    vendors = sorted({k[0] for k in keys})
    if share >= 1.0 or len(vendors) < 2:
        return []
    price = float(d.cells["penalty"].max()) if len(d.cells) else 0.0
    terms = []
    for vendor in vendors:
        mine = [k for k in keys if k[0] == vendor]
        if vendor == INHOUSE or not any(hours[1].get(k) for k in mine):
            continue
        over, term = _share_row(b, f"vendor_share[vendor={vendor}]", share, mine, keys, hours, price)
        b.share_over[(vendor, "*")] = over
        terms.append(term)
    return terms


def build_intraday(x: IntradayData, as_of_index: int) -> IntradayBuilt:
    """The re-plan LP: every family in a fixed order, then the objective."""
    mo = mathopt()
    started = time.perf_counter()
    b = IntradayBuilt(model=mo.Model(name="capplan-intraday"), data=x)
    b.terms["staffing"] = add_staffing(b, as_of_index)
    b.terms["alloc"] = add_alloc(b)
    b.terms["capacity"] = add_capacity(b)
    b.terms["exposure_daily"] = add_exposure_daily(b)
    b.terms["realtime"] = add_realtime(b)
    b.terms["deferred"] = add_deferred(b)
    b.terms["vendor_contracts"] = add_vendor_contracts(b)
    b.terms["language_share"] = add_language_share(b)
    b.terms["vendor_concentration"] = add_vendor_concentration(b)
    b.model.minimize(mo.fast_sum(t for terms in b.terms.values() for t in terms))
    b.seconds = time.perf_counter() - started
    return b


def solve_intraday(b: IntradayBuilt, time_limit_s: float) -> dict:
    """Solve the LP with HiGHS (dual simplex: deterministic); variable -> value.

    Raises
    ------
    SolverError
        The solver failed or stopped without an optimal solution (the model has priced slack and is
        always feasible, so this is a bug or a time limit far too short).
    """
    from capplan.optimize.solve import _SolverFailed, _call

    mo = mathopt()
    params = mo.SolveParameters(time_limit=dt.timedelta(seconds=float(time_limit_s)), lp_algorithm=mo.LPAlgorithm.DUAL_SIMPLEX)
    try:
        result = _call(mo, b.model, mo.SolverType.HIGHS, params)
    except _SolverFailed as exc:
        raise SolverError(f"the HiGHS solver failed on the intraday re-plan ({b.model.get_num_variables()} variables): {exc}. "
                          "Fix: report the bug with the workspace") from None
    if result.termination.reason != mo.TerminationReason.OPTIMAL:
        raise SolverError(f"the intraday re-plan stopped with {result.termination.reason.name} after {time_limit_s:g} s. "
                          "Fix: raise [solver] time_limit_s")
    values = result.variable_values()
    values["__objective__"] = float(result.objective_value())
    return values


# --- expected service ----------------------------------------------------------------------------
def expected_service(x: IntradayData, hours: dict, volume: np.ndarray) -> pd.DataFrame:
    """Expected service per cell over the rest of the day for an allocation (Erlang / fluid backlog maths).

    Parameters
    ----------
    hours : (pool, cell) -> {t: productive hours}
    volume : [C, T] forecast items per interval (the updated forecast)

    Returns
    -------
    DataFrame per cell: ``kind``, ``items`` (rest of the day), ``target``, ``service`` and ``late_hours``.
    Realtime: volume-weighted Erlang C service level (Erlang A with patience) at the standard moderators
    the allocation gives (``sum_p hours / a_p / h``). Deferred: share of the work falling due today done
    by its due time in a first-in-first-out fluid queue served by the allocation.
    """
    d = x.d
    util = float(d.config.staffing.deferred_max_utilisation)
    C, n = len(d.cells), x.e - x.s
    std = np.zeros((C, n))
    for (p, c), by_t in hours.items():
        prof = d.multiplier(p, c)
        for t, v in by_t.items():
            if x.s <= t < x.e:
                std[c, t - x.s] += v / prof
    rows = []
    for c in range(C):
        kind = d.cells.at[c, "kind"]
        vol = volume[c, x.s:x.e]
        if kind == "realtime":
            service, late = _realtime_service(d, c, vol, std[c] / d.h), 0.0
        else:
            service, late = _deferred_service(x, c, std[c] * util)
        rows.append({QUEUE: d.cells.at[c, QUEUE], LANGUAGE: d.cells.at[c, LANGUAGE], "kind": kind, "items": float(vol.sum()),
                     "service": service, "late_hours": late})
    return pd.DataFrame(rows)


def _realtime_service(d: PlanData, c: int, vol: np.ndarray, agents: np.ndarray) -> float:
    aht, within = float(d.cells.at[c, "aht_s"]), float(d.cells.at[c, "within_s"])
    load = vol * aht / (d.h * 3600.0)
    patience = float(d.cells.at[c, "patience_s"]) if "patience_s" in d.cells else float("nan")
    if math.isfinite(patience) and patience > 0:
        sl = erlang_a_metrics(agents, load, aht, patience, within).service_level
    else:
        sl = erlang_c_service_level(agents, load, aht, within)
    sl = np.where(load > 0, np.nan_to_num(np.asarray(sl, float), nan=0.0), 1.0)
    return float(np.sum(sl * vol) / vol.sum()) if vol.sum() > 0 else float("nan")


def _deferred_service(x: IntradayData, c: int, capacity: np.ndarray) -> tuple[float, float]:
    a, arrived, due = deferred_curves(x, c)
    backlog, done = float(x.opening[c]), np.zeros(len(a))
    for k in range(len(a)):
        work = min(backlog + a[k], capacity[k])
        backlog = backlog + a[k] - work
        done[k] = (done[k - 1] if k else 0.0) + work
    prev_due = np.concatenate([[0.0], due[:-1]])
    late = float(np.sum(np.maximum(due - np.maximum(prev_due, done), 0.0)))
    total = float(due[-1]) if len(due) else 0.0
    return (1.0 - late / total if total > 0 else float("nan")), late


__all__ = ["IntradaySettings", "IntradayData", "IntradayBuilt", "occurrence_heads", "planned_hours", "opening_backlog",
           "build_intraday", "solve_intraday", "expected_service", "overtime_overlap", "deferred_curves", "vendor_paid_hours",
           "add_vendor_contracts", "add_language_share", "add_vendor_concentration"]
