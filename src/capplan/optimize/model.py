"""The shift-plan model: variables and one small function per constraint family (no solving here).

Solving is :mod:`capplan.optimize.solve`; turning values into tables is :mod:`capplan.optimize.extract`.
Units: hours are hours per interval (``h`` hours long) unless a name says weekly; money is the reporting
currency (``[policy] currency``); ``a_p`` is a pool's proficiency (1.3 = takes 30 % longer), so a
productive hour of pool p does ``1 / a_p`` standard hours of work.

Variables (named from domain keys)
----------------------------------
* ``staff[pool=..,shift=..,start=Mon]`` integer: moderators on a weekly pattern (see :mod:`.data`).
* ``alloc[pool=..,cell=queue/lang,t=..]`` >= 0 [productive h]: hours of the pool on the cell in interval t,
  only on skilled cells and where the cell has work and the pool can be on site.
* ``unmet[cell=..,t=..]`` realtime [standard h]: requirement not covered.
* ``backlog[cell=..,t=..]`` / ``late[cell=..,t=..]`` deferred [standard h]: live backlog (arrived, not done,
  not dropped) at the end of t; work dropped as late in t.
* ``egr[pool=..,shift=..,t=..]`` [productive h] egregious hours attributed to one shift (for the daily cap).
* ``commit_short[vendor=..]`` [paid h / week] below the vendor's committed minimum (take-or-pay).
* ``open[pool=..,cell=..]`` binary: the pool works the cell at all (no slivers, :func:`add_pair_min_hours`).
* ``change_up/change_down[vendor=..]`` [productive h / week] moved from the previous plan (:func:`add_vendor_stability`).
* ``unmet_over[cell=..]`` [standard h] unmet work above the cell's cap (:func:`add_unmet_caps`; benchmark only).

Rostered in-house pools (``inputs/roster.csv``) have contract, overtime and temp patterns instead of hourly
ones (:func:`capplan.optimize.data.contract_patterns`); a pattern's cost is its ``charged_hours`` x the
pool's rate (contracted hours whether scheduled or not, the overtime premium, the temp factor).

Constraint families
-------------------
Each ``add_*`` function adds its rows, returns its objective terms and does nothing when it has no data;
its docstring states its inequality. :func:`build` calls them in a fixed order (the order of rows and
columns is part of the determinism: do not reorder). To add a family, write an ``add_*`` function, call it
from :func:`build`, and extend the independent checker (:mod:`capplan.optimize.check`) with a ``check_*``.

Objective: paid cost + unmet penalties (by severity) + take-or-pay + a tie-breaker of 0.001 per
productive hour x proficiency x (2 - quality), which prefers faster and better pools among equal
plans and makes the allocation unique in practice; it is in ``objective`` but not in ``cost``.
The iso-service benchmark (``bench/iso_service.py``, :func:`capplan.optimize.data.with_unmet_caps`) may replace the
unmet penalties by one price (:func:`unmet_price`, e.g. :func:`unmet_tie_break_price`) and cap each cell's unmet work.

Numeric scaling
---------------
Valid inputs can be badly scaled (a cost per hour of 1e5 in a weak currency, one cell with 10,000
times the volume of the others) and HiGHS's interior-point method then stops with an unknown status.
The model is therefore written in units chosen from the data (:func:`choose_scale`): one model money
unit is ``Scale.money`` [currency] and one model hour is ``Scale.hours`` [h], both powers of ten that
are 1 for ordinary inputs (rates of 1-1,000 per hour, up to 1,000 hours of demand per cell and
interval), so an ordinary plan is solved exactly as written. Every hour variable except
``commit_short`` (weekly paid hours of a contract) is in model hours; :func:`unscale` turns solver
values back into hours. The tie-breaker is 0.001 model money units per model hour, so it keeps its
size relative to the costs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from capplan.optimize.data import PlanData
from capplan.schema import HEADCOUNT, INHOUSE, LANGUAGE, POOL, QUEUE, VENDOR
from capplan.staffing.backlog import not_due_bound

TIE_BREAK = 1e-3
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Scale:
    """Model units: one model money unit is ``money`` [currency]; one model hour is ``hours`` [h]."""

    money: float = 1.0
    hours: float = 1.0


def _decade(x: float, keep_below: float = 1000.0) -> float:
    """A power of ten u with x / u in [1, keep_below) when x is outside [1, keep_below), else 1."""
    if not (np.isfinite(x) and x > 0) or 1.0 <= x < keep_below:
        return 1.0
    k = math.floor(math.log10(x))
    return 10.0 ** (k - math.floor(math.log10(keep_below)) + 1 if x >= keep_below else k)


def choose_scale(d: PlanData) -> Scale:
    """Model units from the data: money from the median pool rate, hours from the largest demand per cell-interval."""
    rates = d.pools["rate"].to_numpy(float) if len(d.pools) else np.zeros(0)
    rates = rates[rates > 0]
    money = _decade(float(np.median(rates))) if len(rates) else 1.0
    demand = max(float(d.need_hours.max(initial=0.0)), float(d.workload.max(initial=0.0)))
    return Scale(money=money, hours=_decade(demand))


@dataclass
class Built:
    """The model with handles on every variable, keyed by domain indices."""

    model: object
    data: PlanData
    scale: Scale = field(default_factory=Scale)
    staff: dict = field(default_factory=dict)  # pattern index -> var
    alloc: dict = field(default_factory=dict)  # (pool, cell) -> {t: var}
    unmet: dict = field(default_factory=dict)  # (cell, t) -> var (realtime)
    backlog: dict = field(default_factory=dict)  # cell -> {t: var}
    late: dict = field(default_factory=dict)  # cell -> {t: var}
    egr: dict = field(default_factory=dict)  # (pool, shift) -> {t: var}
    egr_occurrence: dict = field(default_factory=dict)  # occurrence -> [t] intervals attributed to it
    short: dict = field(default_factory=dict)  # vendor -> var
    terms: dict = field(default_factory=dict)  # family -> list of objective expressions
    seconds: float = 0.0
    pair_open: dict = field(default_factory=dict)  # (pool, cell) -> binary var: the pool works the cell at all (no slivers)
    pair_min: dict = field(default_factory=dict)  # (pool, cell) -> least productive hours over the window when open [h]
    lift_price: dict = field(default_factory=dict)  # (pool, cell) -> what `open` earns while relax-round-fix lifts it [currency]
    change: dict = field(default_factory=dict)  # vendor -> (up, down) weekly productive hours moved from the previous plan
    slivers_closed: int = 0  # pairs the last fixed LP closed for being below their minimum (solve.close_slivers)
    slivers_left: int = 0  # pairs still below their minimum after the passes (out of passes or time)
    unmet_over: dict = field(default_factory=dict)  # cell -> var: unmet work above the cell's cap (add_unmet_caps)

    @property
    def n_integer(self) -> int:
        return len(self.staff)

    @property
    def staff_vars(self) -> list:
        """The integer pattern variables in pattern order."""
        return [self.staff[k] for k in range(len(self.data.patterns))]


def unscale(b: Built, values: dict) -> dict:
    """Solver values -> domain units: hour variables (all but staff and commit_short) times ``Scale.hours``."""
    h = b.scale.hours
    if h == 1.0:
        return values
    keep = set(b.staff.values()) | set(b.short.values()) | set(b.pair_open.values())
    return {v: (x if v in keep else x * h) for v, x in values.items()}


def mathopt():
    """The MathOpt module, imported on first use (the solver is heavy to import)."""
    from ortools.math_opt.python import mathopt as mo

    return mo


_mo = mathopt


def _cell_name(d: PlanData, c: int) -> str:
    return f"{d.cells.at[c, QUEUE]}/{d.cells.at[c, LANGUAGE]}"


def _t_name(d: PlanData, t: int) -> str:
    return d.times[t].strftime("%Y-%m-%dT%H:%M")


def _kind_name(d: PlanData, pat) -> str:
    """Name suffix of a roster or temp pattern, e.g. ``,contract=20h`` (empty for hourly patterns)."""
    if pat.kind == "flex":
        return ""
    if pat.group >= 0:
        return f",{pat.kind}={float(d.groups.at[pat.group, 'weekly_hours']):g}h"
    return f",{pat.kind}"


# --- variables ----------------------------------------------------------------------------------
def add_staff(b: Built) -> list:
    """Integer pattern variables ``staff[k]`` in [0, max_headcount] and their paid cost.

    Objective term: ``sum_k paid_hours_window_k [h/moderator] x rate_p [currency/h] x staff_k``.
    """
    m, d = b.model, b.data
    terms = []
    for k, pat in enumerate(d.patterns):
        pool = d.pools.loc[pat.pool]
        var = m.add_integer_variable(lb=0, ub=float(pool["max_headcount"]),
                                     name=f"staff[pool={pool[POOL]},shift={pat.shift},start={_WEEKDAYS[pat.start_day]}{_kind_name(d, pat)}]")
        b.staff[k] = var
        if pat.charged_hours * pool["rate"] > 0:  # paid hours; contracted hours, overtime premium or temp factor included
            terms.append(pat.charged_hours * (float(pool["rate"]) / b.scale.money) * var)
    return terms


def pool_capacity(d: PlanData) -> dict[int, dict[int, list[tuple[int, float]]]]:
    """pool -> t -> [(pattern, productive hours per moderator in t [h])]."""
    cap: dict[int, dict[int, list[tuple[int, float]]]] = {}
    for k, pat in enumerate(d.patterns):
        for t, v in pat.capacity.items():
            if v > 0:
                cap.setdefault(pat.pool, {}).setdefault(t, []).append((k, v))
    return cap


def add_alloc(b: Built, cap) -> list:
    """Allocation variables ``alloc[p, c, t] >= 0`` [productive h] where pool p can be on site in t and cell c has work.

    Objective term (tie-breaker, not a cost): ``0.001 x a_p x (2 - quality_p) x alloc`` [currency].
    """
    m, d = b.model, b.data
    terms = []
    arrived = deferred_open(d)
    for p, c in d.skills:
        pool = d.pools.loc[p]
        realtime = d.cells.at[c, "kind"] == "realtime"
        open_t = d.need_hours[c] > 0 if realtime else arrived[c]
        ts = [t for t in sorted(cap.get(p, {})) if open_t[t]]
        if not ts:
            continue
        name = f"alloc[pool={pool[POOL]},cell={_cell_name(d, c)},t="
        vars_ = {t: m.add_variable(lb=0.0, name=f"{name}{_t_name(d, t)}]") for t in ts}
        b.alloc[(p, c)] = vars_
        w = TIE_BREAK * d.multiplier(p, c) * (2.0 - float(pool["quality"]))  # per model hour, in model money
        terms.extend(w * v for v in vars_.values())
    return terms


# --- constraint families ------------------------------------------------------------------------
def add_pool_capacity(b: Built, cap) -> list:
    """One moderator-hour is spent once: ``sum_c alloc[p, c, t] <= sum_k cap_k(t) x staff_k`` [productive h].

    ``cap_k(t)`` is the productive hours one moderator on pattern k gives in interval t (overlap x paid /
    on-site x (1 - shrinkage)). A multi-skilled moderator is never counted toward two cells at once.
    """
    mo, m, d = _mo(), b.model, b.data
    by_pool_t: dict[tuple[int, int], list] = {}
    for (p, c), vars_ in b.alloc.items():
        for t, v in vars_.items():
            by_pool_t.setdefault((p, t), []).append(v)
    for (p, t), vs in sorted(by_pool_t.items()):
        expr = mo.fast_sum(vs) - mo.fast_sum(v / b.scale.hours * b.staff[k] for k, v in cap[p][t])
        m.add_linear_constraint(expr <= 0.0, name=f"capacity[pool={d.pools.at[p, POOL]},t={_t_name(d, t)}]")
    return []


def add_realtime_coverage(b: Built) -> list:
    """Realtime cells: ``sum_p alloc[p, c, t] / a_p + unmet[c, t] >= need[c, t]`` [standard h].

    ``need = required_productive x h``; ``0 <= unmet <= need``, priced at the severity's penalty
    [currency per standard hour].
    """
    mo, m, d = _mo(), b.model, b.data
    terms = []
    by_cell_t: dict[tuple[int, int], list] = {}
    for (p, c), vars_ in b.alloc.items():
        if d.cells.at[c, "kind"] != "realtime":
            continue
        inv = 1.0 / d.multiplier(p, c)
        for t, v in vars_.items():
            by_cell_t.setdefault((c, t), []).append(inv * v)
    for c in np.flatnonzero((d.cells["kind"] == "realtime").to_numpy()):
        price = unmet_price(d, c) * (b.scale.hours / b.scale.money)
        for t in np.flatnonzero(d.need_hours[c] > 0):
            need = float(d.need_hours[c, t]) / b.scale.hours
            u = m.add_variable(lb=0.0, ub=need, name=f"unmet[cell={_cell_name(d, c)},t={_t_name(d, t)}]")
            b.unmet[(c, t)] = u
            terms.append(price * u)
            served = by_cell_t.get((c, t), [])
            m.add_linear_constraint(mo.fast_sum(served) + u >= need, name=f"cover[cell={_cell_name(d, c)},t={_t_name(d, t)}]")
    return terms


def unmet_price(d: PlanData, c: int) -> float:
    """Price of an unmet standard hour of cell ``c`` in the objective [currency per standard h]: the severity's penalty
    (``cells.penalty``) unless ``d.unmet_price`` replaces it (:func:`capplan.optimize.data.with_unmet_caps`)."""
    return float(d.cells.at[c, "penalty"] if d.unmet_price is None else d.unmet_price[c])


UNMET_TIE_BREAK = 10.0  # how many times the allocation tie-breaker of a standard hour an unmet hour costs (unmet_tie_break_price)


def unmet_tie_break_price(d: PlanData) -> float:
    """The smallest price of unmet work that still makes the model use capacity it pays for anyway [currency per standard h].

    :data:`UNMET_TIE_BREAK` times the largest allocation tie-breaker of a standard hour over the skilled pairs
    (``0.001 x a_p^2 x (2 - quality_p)`` model money per model hour, divided by ``deferred_max_utilisation``, as if every
    cell were deferred), in currency: with it a plan minimises paid cost, leaves work unmet rather than buy capacity,
    and never leaves it unmet while a paid moderator could do it.
    """
    util = min(float(d.config.staffing.deferred_max_utilisation), 1.0)
    worst = max((d.multiplier(p, c) ** 2 * (2.0 - float(d.pools.at[p, "quality"])) for p, c in d.skills), default=1.0)
    scale = choose_scale(d)
    return UNMET_TIE_BREAK * TIE_BREAK * worst / max(util, 1e-9) * scale.money / scale.hours


def _opening_due(d: PlanData, c: int) -> np.ndarray | None:
    return None if d.opening_due is None else d.opening_due[c]


def deferred_profile(d: PlanData, c: int) -> tuple[np.ndarray, np.ndarray]:
    """(arrived, not-yet-due) standard hours by the end of each interval, for a deferred cell [h].

    Terminal week: arrived includes the opening backlog; cyclic week: arrived is the week's own arrivals and
    not-yet-due counts round the week (:func:`capplan.staffing.backlog.not_due_bound`).
    """
    a = d.workload[c]
    shift = int(d.cells.at[c, "due_shift"])
    cyclic = d.week_end == "cyclic"
    opening = None if cyclic else _opening_due(d, c)
    arrived = np.cumsum(a) + (0.0 if opening is None else float(opening.sum()))
    return arrived, not_due_bound(a, shift, opening_due=opening, cyclic=cyclic)


def deferred_open(d: PlanData) -> np.ndarray:
    """[C, T] whether deferred work can be waiting in t: arrived (terminal, opening included) or any work (cyclic)."""
    arrived = np.cumsum(d.workload, axis=1)
    if d.week_end == "cyclic":
        return np.broadcast_to(arrived[:, -1:] > 0, arrived.shape) if d.T else arrived > 0
    if d.opening_due is not None:
        arrived = arrived + d.opening_due.sum(axis=1, keepdims=True)
    return arrived > 0


def add_deferred_flow(b: Built) -> list:
    """Deferred cells: ``e_t = e_{t-1} + a_t - done_t - late_t``, ``0 <= e_t <= not_due_t`` [standard h].

    ``a_t`` work arriving in t; ``done_t = sum_p alloc[p, c, t] x deferred_max_utilisation / a_p``;
    ``not_due_t`` arrived by t and not yet due (due index from
    :func:`capplan.staffing.backlog.due_interval_index`): no work before it arrives, and work due by t is
    done or dropped by t. ``late_t >= 0`` is work dropped as late in interval t, priced once at the severity's
    penalty and never worked afterwards (so it cannot be "reused" to excuse later lateness).

    Ends of the window (``d.week_end``, docs/rolling.md): *cyclic*: ``e_{-1} = e_{T-1}`` (the week wraps, work
    due after Sunday counts against Monday of the same plan, ``not_due`` counted round the week); *terminal*:
    ``e_{-1} = O`` (the opening backlog of ``d.opening_due``) and the end backlog ``e_{T-1}`` (bounded by
    ``not_due_{T-1}``) priced at ``d.terminal_price`` per standard hour. Uses only ``b.data`` and ``b.alloc``
    (a scenario model may call it on a Built whose ``data.workload`` is the scenario's).
    """
    mo, m, d = _mo(), b.model, b.data
    util = float(d.config.staffing.deferred_max_utilisation)
    terms = []
    done: dict[tuple[int, int], list] = {}
    for (p, c), vars_ in b.alloc.items():
        if d.cells.at[c, "kind"] == "realtime":
            continue
        f = util / d.multiplier(p, c)
        for t, v in vars_.items():
            done.setdefault((c, t), []).append(f * v)
    cyclic = d.week_end == "cyclic"
    for c in np.flatnonzero((d.cells["kind"] != "realtime").to_numpy()):
        a = d.workload[c] / b.scale.hours
        opening = None if cyclic else _opening_due(d, c)
        o_due = np.zeros(d.T + 1) if opening is None else opening / b.scale.hours
        if a.sum() + o_due.sum() <= 0:
            continue
        _, not_due = deferred_profile(d, c)
        not_due = not_due / b.scale.hours
        shift = int(d.cells.at[c, "due_shift"])
        price = unmet_price(d, c) * (b.scale.hours / b.scale.money)
        t0 = 0 if cyclic or o_due.sum() > 0 else int(np.flatnonzero(a > 0)[0])
        name = _cell_name(d, c)
        prev = None
        bl, lt = {}, {}
        for t in range(t0, d.T):
            et = m.add_variable(lb=0.0, ub=max(float(not_due[t]), 0.0), name=f"backlog[cell={name},t={_t_name(d, t)}]")
            bl[t] = et
            flow = et + mo.fast_sum(done.get((c, t), []))
            if prev is not None:
                flow = flow - prev
            falls_due = a[(t - shift) % d.T] > 0 if cyclic else (t - shift >= 0 and a[t - shift] > 0) or o_due[t] > 0
            if falls_due:  # something falls due in t: it may be dropped as late
                lt[t] = m.add_variable(lb=0.0, name=f"late[cell={name},t={_t_name(d, t)}]")
                flow = flow + lt[t]
                terms.append(price * lt[t])
            rhs = float(a[t]) + (float(o_due.sum()) if t == 0 and not cyclic else 0.0)
            if t == 0 and cyclic:
                first = (flow, rhs)
            else:
                m.add_linear_constraint(flow == rhs, name=f"flow[cell={name},t={_t_name(d, t)}]")
            prev = et
        if cyclic:  # the week wraps: the backlog Sunday night leaves is the backlog Monday morning starts with
            m.add_linear_constraint(first[0] - prev == first[1], name=f"flow[cell={name},t={_t_name(d, 0)}]")
        elif d.terminal_price is not None and d.terminal_price[c] > 0:
            terms.append(float(d.terminal_price[c]) * (b.scale.hours / b.scale.money) * prev)
        b.backlog[c], b.late[c] = bl, lt
    return terms


def add_pool_headcount(b: Built) -> list:
    """``min_headcount_p <= sum_{k of p} staff_k <= max_headcount_p`` [moderators]."""
    mo, m, d = _mo(), b.model, b.data
    by_pool: dict[int, list] = {}
    for k, pat in enumerate(d.patterns):
        by_pool.setdefault(pat.pool, []).append(b.staff[k])
    for p, vs in sorted(by_pool.items()):
        lo, hi = float(d.pools.at[p, "min_headcount"]), float(d.pools.at[p, "max_headcount"])
        m.add_linear_constraint(lb=lo, ub=hi, expr=mo.fast_sum(vs), name=f"headcount[pool={d.pools.at[p, POOL]}]")
    return []


def _egregious_alloc(b: Built) -> dict[tuple[int, int], list]:
    """(pool, t) -> allocation variables on egregious cells."""
    egregious = b.data.cells["egregious"].to_numpy()
    by_pool_t: dict[tuple[int, int], list] = {}
    for (p, c), vars_ in b.alloc.items():
        if egregious[c]:
            for t, v in vars_.items():
                by_pool_t.setdefault((p, t), []).append(v)
    return by_pool_t


def add_exposure_share(b: Built, cap, by_pool_t: dict) -> list:
    """Wellbeing share cap: ``sum_{c egregious} alloc[p, c, t] <= exposure_max_share x sum_k cap_k(t) x staff_k`` [productive h].

    No rows when the share is 1 (no cap) or no pool works an egregious cell.
    """
    mo, m, d = _mo(), b.model, b.data
    share = float(d.config.policy.exposure_max_share)
    if not by_pool_t or share >= 1.0:
        return []
    for (p, t), vs in sorted(by_pool_t.items()):
        expr = mo.fast_sum(vs) - share * mo.fast_sum(v / b.scale.hours * b.staff[k] for k, v in cap[p][t])
        m.add_linear_constraint(expr <= 0.0, name=f"exposure_share[pool={d.pools.at[p, POOL]},t={_t_name(d, t)}]")
    return []


def _shift_owners(d: PlanData, s_pats: list[int], ts_set: set) -> tuple[list[int], dict[int, tuple[float, int]]]:
    """The occurrences of one pool's shift and, per interval, the occurrence with the largest overlap."""
    occs = sorted({o for k in s_pats for o in d.patterns[k].occurrences})
    owner: dict[int, tuple[float, int]] = {}
    for o in occs:
        for t, hrs in d.occurrences[o].overlap.items():
            if t in ts_set and (t not in owner or hrs > owner[t][0]):
                owner[t] = (hrs, o)
    return occs, owner


def add_exposure_daily(b: Built, by_pool_t: dict) -> list:
    """Wellbeing daily cap per moderator: ``sum_{t of shift-day o} egr[p, s, t] <= exposure_max_hours_per_day x staff on o`` [h].

    The egregious hours of a pool in interval t are split over the shifts on site
    (``sum_s egr[p, s, t] = sum_{c egregious} alloc[p, c, t]``), each at most that shift's productive
    capacity in t, and every interval is attributed to the shift-day occurrence overlapping it most.
    Pools whose shifts are all shorter (productive) than the cap get no rows.
    """
    mo, m, d = _mo(), b.model, b.data
    hours = float(d.config.policy.exposure_max_hours_per_day)
    model_hours = hours / b.scale.hours
    for p in sorted({p for p, _ in by_pool_t}):
        pats = [k for k, pat in enumerate(d.patterns) if pat.pool == p]
        shifts = sorted({d.patterns[k].shift for k in pats})
        productive = {s: d.patterns[next(k for k in pats if d.patterns[k].shift == s)].paid_hours * (1 - float(d.pools.at[p, "shrinkage"])) for s in shifts}
        if all(productive[s] <= hours + 1e-9 for s in shifts):
            continue  # nobody can exceed the daily cap
        pool_name = d.pools.at[p, POOL]
        ts = sorted(t for (pp, t) in by_pool_t if pp == p)
        per_t: dict[int, list] = {}
        for s in shifts:
            s_pats = [k for k in pats if d.patterns[k].shift == s]
            occs, owner = _shift_owners(d, s_pats, set(ts))
            ys = {}
            for t in sorted(owner):
                y = m.add_variable(lb=0.0, name=f"egr[pool={pool_name},shift={s},t={_t_name(d, t)}]")
                ys[t] = y
                per_t.setdefault(t, []).append(y)
                on = [(k, d.patterns[k].capacity.get(t, 0.0)) for k in s_pats]
                m.add_linear_constraint(y - mo.fast_sum(v / b.scale.hours * b.staff[k] for k, v in on if v > 0) <= 0.0,
                                        name=f"egr_on_site[pool={pool_name},shift={s},t={_t_name(d, t)}]")
            b.egr[(p, s)] = ys
            for o in occs:
                o_ts = [t for t, (_, oo) in owner.items() if oo == o]
                b.egr_occurrence[o] = sorted(o_ts)
                if not o_ts:
                    continue
                working = [b.staff[k] for k in s_pats if o in d.patterns[k].occurrences]
                m.add_linear_constraint(mo.fast_sum(ys[t] for t in o_ts) - model_hours * mo.fast_sum(working) <= 0.0,
                                        name=f"exposure_daily[pool={pool_name},shift={s},day={d.occurrences[o].day}]")
        for t in ts:
            m.add_linear_constraint(mo.fast_sum(per_t.get(t, [])) - mo.fast_sum(by_pool_t[(p, t)]) == 0.0,
                                    name=f"egr_split[pool={pool_name},t={_t_name(d, t)}]")
    return []


def add_vendor_contracts(b: Built) -> list:
    """Vendor contracts in paid hours per week: ``W_v <= max_v`` and ``W_v + short_v >= min_v``.

    ``W_v = sum_{k of v} paid_hours_window_k / weeks x staff_k``; ``0 <= short_v <= min_v`` is the
    take-or-pay shortfall, priced at the vendor's average rate x weeks [currency], so a minimum above
    demand is paid for, never infeasible. The limits are the contract's tightened by the vendor's notice band
    (:func:`capplan.optimize.data.vendor_notice`); a row the band sets is named ``vendor_notice_max`` /
    ``vendor_notice_min`` instead.
    """
    mo, m, d = _mo(), b.model, b.data
    terms = []
    for _, v in d.vendors.iterrows():
        ks = [k for k, pat in enumerate(d.patterns) if d.pools.at[pat.pool, VENDOR] == v[VENDOR]]
        if not ks:
            continue
        weekly = mo.fast_sum(d.patterns[k].paid_hours_horizon / d.weeks * b.staff[k] for k in ks)
        hi, lo = float(v["max_weekly_hours"]), float(v["min_weekly_hours"])
        notice_hi, notice_lo = hi < float(v.get("contract_max_weekly_hours", hi)), lo > float(v.get("contract_min_weekly_hours", lo))
        m.add_linear_constraint(weekly <= hi, name=f"vendor_{'notice_' if notice_hi else ''}max[vendor={v[VENDOR]}]")
        if lo > 0:
            s = m.add_variable(lb=0.0, ub=lo, name=f"commit_short[vendor={v[VENDOR]}]")
            b.short[v[VENDOR]] = s
            m.add_linear_constraint(weekly + s >= lo, name=f"vendor_{'notice_' if notice_lo else ''}min[vendor={v[VENDOR]}]")
            terms.append(float(v["avg_rate"]) / b.scale.money * d.weeks * s)
    return terms


def add_language_share(b: Built) -> list:
    """``sum_{p of v} alloc[p, c, t] <= cap_{v,l} x sum_p alloc[p, c, t]`` over cells and intervals of language l [productive h].

    ``cap_{v,l}`` is the vendor's ``max_language_share``; for ``critical_languages`` served by two or
    more providers every provider is at most 90 % (a linear form of "at least two vendors").
    """
    mo, m, d = _mo(), b.model, b.data
    if not d.language_caps:
        return []
    langs = sorted({lang for _, lang in d.language_caps})
    by_lang: dict[str, list] = {}
    by_prov: dict[tuple[str, str], list] = {}
    for (p, c), vars_ in b.alloc.items():
        lang = d.cells.at[c, LANGUAGE]
        if lang not in langs:
            continue
        prov = d.pools.at[p, VENDOR]
        by_lang.setdefault(lang, []).extend(vars_.values())
        by_prov.setdefault((prov, lang), []).extend(vars_.values())
    for lang in langs:
        if not by_lang.get(lang):
            continue
        total = m.add_variable(lb=0.0, name=f"lang_hours[language={lang}]")
        m.add_linear_constraint(total - mo.fast_sum(by_lang[lang]) == 0.0, name=f"lang_total[language={lang}]")
        for (prov, lg), capshare in sorted(d.language_caps.items()):
            if lg == lang and by_prov.get((prov, lang)):
                m.add_linear_constraint(mo.fast_sum(by_prov[(prov, lang)]) - capshare * total <= 0.0,
                                        name=f"language_share[provider={prov},language={lang}]")
    return []


def add_vendor_concentration(b: Built) -> list:
    """Concentration: ``sum_{p of v} alloc[p, c, t] <= vendor_max_share x sum_{p, c, t} alloc[p, c, t]`` [productive h].

    One row per vendor (in-house pools are not a vendor) when ``[policy] vendor_max_share < 1`` and the
    plan has at least two providers (vendors, and in-house counted as one) with pools that may have staff
    (max_headcount > 0) on cells with work.
    """
    mo, m, d = _mo(), b.model, b.data
    share = float(d.config.policy.vendor_max_share)
    if share >= 1.0 or not b.alloc:
        return []
    by_vendor: dict[str, list] = {}
    for (p, _), vars_ in b.alloc.items():
        if int(d.pools.at[p, "max_headcount"]) > 0:
            by_vendor.setdefault(d.pools.at[p, VENDOR], []).extend(vars_.values())
    if len(by_vendor) < 2:
        return []
    total = m.add_variable(lb=0.0, name="all_hours")
    m.add_linear_constraint(total - mo.fast_sum(v for vs in by_vendor.values() for v in vs) == 0.0, name="all_hours_total")
    for vendor in sorted(by_vendor):
        if vendor != INHOUSE:
            m.add_linear_constraint(mo.fast_sum(by_vendor[vendor]) - share * total <= 0.0, name=f"vendor_share[vendor={vendor}]")
    return []


def add_roster(b: Built) -> list:
    """Employment contracts: ``sum_{k of group g} staff_k = N_g`` [employees] for every roster group.

    A group is a pool's employees with the same contracted weekly hours (``inputs/roster.csv``); its
    patterns are contract and overtime patterns (:func:`capplan.optimize.data.contract_patterns`), each
    charged the contracted hours whether scheduled or not (plus the overtime premium), so everyone on
    the roster is scheduled and paid. No rows without a roster.
    """
    mo, m, d = _mo(), b.model, b.data
    by_group: dict[int, list] = {}
    for k, pat in enumerate(d.patterns):
        if pat.group >= 0:
            by_group.setdefault(pat.group, []).append(b.staff[k])
    for g, vs in sorted(by_group.items()):
        row = d.groups.loc[g]
        n = float(row[HEADCOUNT])
        m.add_linear_constraint(lb=n, ub=n, expr=mo.fast_sum(vs), name=f"roster[pool={row[POOL]},weekly_hours={float(row['weekly_hours']):g}]")
    return []


def pair_bound(d: PlanData, p: int, c: int) -> float:
    """Most productive hours pool p can usefully give cell c over the window [h]: its whole demand at p's speed."""
    prof = d.multiplier(p, c)
    if d.cells.at[c, "kind"] == "realtime":
        return float(d.need_hours[c].sum()) * prof
    return float(d.workload[c].sum()) * prof / max(float(d.config.staffing.deferred_max_utilisation), 1e-9)


def add_pair_min_hours(b: Built) -> list:
    """No slivers: ``m_pc x open_pc <= sum_t alloc[p, c, t] <= M_pc x open_pc``, ``open_pc`` binary [productive h].

    ``M_pc`` (:func:`pair_bound`) is the cell's whole demand at the pool's speed (no plan gives more);
    ``m_pc = min(min_pair_weekly_hours x weeks, M_pc)``: a pool works a cell at least the configured
    weekly hours or not at all (or the cell's whole demand when that is less). No rows when
    ``[contracts] min_pair_weekly_hours = 0``. The relax-round-fix heuristic relaxes ``open`` and closes
    slivers after the fixed LP (:func:`capplan.optimize.solve.close_slivers`).
    """
    mo, m, d = _mo(), b.model, b.data
    weekly = float(d.config.contracts.min_pair_weekly_hours)
    if weekly <= 0:
        return []
    for (p, c), vars_ in sorted(b.alloc.items()):
        big = pair_bound(d, p, c)
        least = min(weekly * d.weeks, big)
        if big <= 0:
            continue
        name = f"pool={d.pools.at[p, POOL]},cell={_cell_name(d, c)}"
        y = m.add_binary_variable(name=f"open[{name}]")
        b.pair_open[(p, c)] = y
        b.pair_min[(p, c)] = least
        total = mo.fast_sum(vars_.values())
        m.add_linear_constraint(total - (big / b.scale.hours) * y <= 0.0, name=f"pair_max[{name}]")
        m.add_linear_constraint(total - (least / b.scale.hours) * y >= 0.0, name=f"pair_min[{name}]")
    return []


def highest_penalty(config) -> float:
    """The highest price of an unmet hour over the severity tiers [currency / h]: what a priced limit's slack costs."""
    return max((float(x) for x in config.policy.unmet_penalty_per_hour.values()), default=0.0)


def add_vendor_stability(b: Built) -> list:
    """Stability: ``W_v - up_v + down_v = H_v`` per vendor with a previous plan [weekly productive h].

    ``W_v = sum_{p of v, c, t} alloc[p, c, t] / weeks``; ``H_v`` the previous plan's weekly hours
    (:func:`capplan.optimize.data.previous_vendor_hours`, 0 for a vendor it did not use). Objective:
    ``vendor_change_price_per_hour x weeks x (up_v + down_v)`` [currency]; with ``vendor_max_change_share < 1``
    also ``up_v + down_v - over_v <= share x H_v``, ``over_v`` priced at the highest unmet penalty (a limit
    that can bind, never an infeasible plan). Not in ``cost``. No rows without a previous plan.
    """
    mo, m, d = _mo(), b.model, b.data
    c = d.config.contracts
    price, share = float(c.vendor_change_price_per_hour), float(c.vendor_max_change_share)
    if not d.previous_vendor_hours or (price <= 0 and share >= 1):
        return []
    by_vendor: dict[str, list] = {}
    for (p, _), vars_ in b.alloc.items():
        if d.pools.at[p, VENDOR] != INHOUSE:
            by_vendor.setdefault(d.pools.at[p, VENDOR], []).extend(vars_.values())
    hours, money = b.scale.hours, b.scale.money
    penalty = highest_penalty(d.config)
    terms = []
    for vendor in sorted(set(by_vendor) | set(d.previous_vendor_hours)):
        if not (d.vendors[VENDOR] == vendor).any():
            continue
        prev = float(d.previous_vendor_hours.get(vendor, 0.0)) / hours
        up = m.add_variable(lb=0.0, name=f"change_up[vendor={vendor}]")
        down = m.add_variable(lb=0.0, name=f"change_down[vendor={vendor}]")
        b.change[vendor] = (up, down)
        m.add_linear_constraint(mo.fast_sum(by_vendor.get(vendor, [])) / d.weeks - up + down == prev, name=f"vendor_change[vendor={vendor}]")
        if price > 0:
            terms.append(price * d.weeks * hours / money * (up + down))
        if share < 1:
            over = m.add_variable(lb=0.0, name=f"change_over[vendor={vendor}]")
            m.add_linear_constraint(up + down - over <= share * prev, name=f"vendor_change_cap[vendor={vendor}]")
            terms.append(penalty * d.weeks * hours / money * over)
    return terms


def add_unmet_caps(b: Built) -> list:
    """Per-cell cap on unmet work: ``sum_t unmet[c, t] + sum_t late[c, t] - over_c <= cap_c`` [standard h over the window].

    ``cap_c`` from ``d.unmet_caps`` (:func:`capplan.optimize.data.with_unmet_caps`; the iso-service benchmark, never a
    plan of ``capplan plan``): realtime work not covered, deferred work dropped as late (the end backlog of a terminal
    week is not unmet). ``over_c >= 0`` is priced at 10 x the highest unmet penalty, so a cap no plan can keep is a
    named overshoot, not an infeasible model. No rows without caps, nor for a capped cell with no unmet variable.
    """
    mo, m, d = _mo(), b.model, b.data
    price = 10.0 * highest_penalty(d.config) * (b.scale.hours / b.scale.money)
    terms = []
    by_cell: dict[int, list] = {}
    for (c, _), u in b.unmet.items():
        by_cell.setdefault(c, []).append(u)
    for c, cap in sorted(d.unmet_caps.items()):
        vs = by_cell.get(c, []) + list(b.late.get(c, {}).values())
        if not vs:
            continue
        name = _cell_name(d, c)
        over = m.add_variable(lb=0.0, name=f"unmet_over[cell={name}]")
        b.unmet_over[c] = over
        m.add_linear_constraint(mo.fast_sum(vs) - over <= float(cap) / b.scale.hours, name=f"unmet_cap[cell={name}]")
        terms.append(price * over)
    return terms


def build(d: PlanData) -> Built:
    """The whole model: variables, every constraint family (in a fixed order), the objective."""
    mo = _mo()
    started = time.perf_counter()
    b = Built(model=mo.Model(name="capplan-plan"), data=d, scale=choose_scale(d))
    cap = pool_capacity(d)
    b.terms["cost"] = add_staff(b)
    b.terms["tie_break"] = add_alloc(b, cap)
    b.terms["capacity"] = add_pool_capacity(b, cap)
    b.terms["penalty_realtime"] = add_realtime_coverage(b)
    b.terms["penalty_deferred"] = add_deferred_flow(b)
    b.terms["headcount"] = add_pool_headcount(b)
    egregious = _egregious_alloc(b)
    b.terms["exposure_share"] = add_exposure_share(b, cap, egregious)
    b.terms["exposure_daily"] = add_exposure_daily(b, egregious)
    b.terms["take_or_pay"] = add_vendor_contracts(b)
    b.terms["language_share"] = add_language_share(b)
    b.terms["vendor_share"] = add_vendor_concentration(b)
    b.terms["roster"] = add_roster(b)
    b.terms["pair_min_hours"] = add_pair_min_hours(b)
    b.terms["vendor_stability"] = add_vendor_stability(b)
    b.terms["unmet_caps"] = add_unmet_caps(b)
    b.model.minimize(mo.fast_sum(t for terms in b.terms.values() for t in terms))
    b.seconds = time.perf_counter() - started
    return b


