"""The shift-plan MILP: build (one small function per constraint family), solve, extract values.

Variables (named from domain keys)
----------------------------------
* ``staff[pool=..,shift=..,start=Mon]`` integer: moderators on a weekly pattern (see :mod:`.data`).
* ``alloc[pool=..,cell=queue/lang,t=..]`` >= 0: productive hours of the pool on the cell in interval t,
  only on skilled cells and where the cell has work and the pool can be on site.
* ``unmet[cell=..,t=..]`` realtime: standard hours of requirement not covered.
* ``backlog[cell=..,t=..]`` / ``late[cell=..,t=..]`` deferred: live backlog (standard hours arrived,
  not done, not dropped) at the end of t; standard hours dropped as late in t.
* ``egr[pool=..,shift=..,t=..]`` egregious hours attributed to one shift (for the daily cap).
* ``commit_short[vendor=..]`` weekly paid hours below the vendor's committed minimum (take-or-pay).

Constraint families (each a function ``add_*``; returns its objective terms; no data, no rows)
---------------------------------------------------------------------------------------------
* :func:`add_staff_cost` paid-hour cost: moderators x paid hours in the window x rate x fx.
* :func:`add_pool_capacity` sum over cells of alloc <= productive capacity of the pool's patterns at t
  (one moderator-hour is spent once: multi-skill moderators are never counted twice).
* :func:`add_realtime_coverage` sum_p alloc/proficiency + unmet >= required_productive x h.
* :func:`add_deferred_flow` backlog_t = backlog_{t-1} + arrivals_t - done_t - late_t, done_t =
  sum_p alloc x deferred_max_utilisation / proficiency; 0 <= backlog_t <= (arrived, not yet due)_t:
  no work before it arrives, and work due by t is done or dropped as late by t. Late work is priced
  once and never worked afterwards (so it cannot be "reused" to excuse later lateness).
  Arrivals of interval i are due by the end of the interval containing ``start_i + within_s``. The
  window opens with no backlog; work still not due at the end may remain (closing backlog bounded by
  the arrivals of the last ``within``).
* :func:`add_pool_headcount` min <= moderators <= max per pool.
* :func:`add_exposure_caps` per pool and interval egregious alloc <= exposure_max_share x capacity;
  per pool, shift and local day egregious hours <= exposure_max_hours_per_day x moderators on it
  (egregious work is attributed to the shifts on site through ``egr`` variables).
* :func:`add_vendor_contracts` weekly paid hours <= max; weekly paid hours + commit_short >= min,
  commit_short priced at the vendor's average rate (take-or-pay: a minimum above demand is paid for,
  never infeasible).
* :func:`add_language_share` each provider's productive hours on a language <= its cap x all productive
  hours on it; for ``critical_languages`` served by >= 2 providers, every provider at most 90 % (a
  linear form of "at least two vendors": no binaries needed).

Objective: paid cost + unmet penalties (by severity) + take-or-pay + a tie-breaker of 0.001 per
productive hour x proficiency x (2 - quality), which prefers faster and better pools among equal
plans and makes the allocation unique in practice; it is in ``objective`` but not in ``cost``.

Solver choice
-------------
OR-Tools MathOpt with HiGHS (default). Measured on the demo workspace (``bench/plan.py``; 90 cells x
168 hourly intervals, 13 pools: about 74,000 variables, 286 integer, 24,000 rows) on a shared
2-core machine: the MIP through HiGHS found no plan in 60 s (its root LP by dual simplex alone took
over 90 s), while HiGHS's interior-point method solves the LP relaxation in 13-30 s. So
:func:`solve` runs **relax-round-fix**: the LP relaxation (barrier, no crossover) gives a proven
lower bound; the staffing is rounded (:func:`round_staff` to nearest, then at 0.4, then
:func:`cover_staff`, stopping at the first within the gap); an LP with the staffing fixed
re-optimizes the allocation; :func:`trim_staff` removes moderators nobody uses. The gap to the
relaxation bound is proven; the status is ``optimal`` when it is within ``relative_gap`` (the same
meaning as a MIP solver's stop rule). Small models (tests, <= 20,000 variables) try only the nearest
rounding, then :func:`restricted_mip` (the HiGHS MIP with every pattern boxed to [floor, ceil] of
the relaxation, root LP by interior point) and the full MIP only if still above the gap.

Measured (shared 2-core machine; gap to the relaxation bound):

=====================  ==========================  ===============================
instance               before (cover_staff)        now
=====================  ==========================  ===============================
small demo, 14.5k var  fixed LP 2.9 %, + MIP 17 s   nearest 1.5 %, + restricted MIP
                       -> 0.2 %, solve 20.4 s       2.1 s -> 0.24 %, solve 4.4 s
default demo, 74k var  1.43 %, solve 37-52 s        nearest 0.73 %, solve 19 s
large demo, 256k var   2.43 %, solve 190 s          nearest 0.61 %, solve 101 s
=====================  ==========================  ===============================

Why: covering the relaxed allocation in every interval (:func:`cover_staff`) rounds up about
every fractional pattern; nearest rounding leaves small deficits that the fixed LP absorbs by moving
multi-skilled and deferred work (rounding at 0.6 instead was 2-8 % worse: real unmet work). Without
crossover the relaxation takes half the time (default: 14 s vs 29 s) and nearest rounding of the
interior solution was as good or better on the default (0.30 % vs 0.55 %). The full MIP with an
interior-point root (``mip_lp_solver = "ipm"``) took 14 s on the small demo to 0.75 %; the restricted
one 2 s. On the default demo even the restricted MIP spends 45 s in its root LP, so large models stop
at the rounding. HiGHS ignored a warm-start basis for the fixed LP through MathOpt (as many simplex
iterations as cold), so each rounding costs a full LP (small 0.6 s, default 6 s). Figures: small from
``capplan plan`` on ``capplan demo --size small``; default and large from ``bench/plan.py``
(seasonal-naive requirements; with the demo's own forecast the default rounds to 0.30 %).

SCIP (``backend = "scip"``) runs the MIP directly and is far slower at demo size. CP-SAT needs integer coefficients for
every continuous hour (tens of thousands of allocation variables scaled to integers): not used
(the config accepts only ``highs`` and ``scip``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from capplan.errors import ConfigError, SolverError
from capplan.optimize.data import PlanData, provider
from capplan.optimize.result import SolveStatus

TIE_BREAK = 1e-3
CROSSOVER = False  # crossover doubled the default relaxation (28.7 s vs 14.2 s); nearest rounding needs no vertex


@dataclass
class Built:
    """The model with handles on every variable, keyed by domain indices."""

    model: object
    data: PlanData
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

    @property
    def n_integer(self) -> int:
        return len(self.staff)


def _mo():
    from ortools.math_opt.python import mathopt

    return mathopt


def _cell_name(d: PlanData, c: int) -> str:
    return f"{d.cells.at[c, 'queue']}/{d.cells.at[c, 'language']}"


def _t_name(d: PlanData, t: int) -> str:
    return d.times[t].strftime("%Y-%m-%dT%H:%M")


# --- variables ----------------------------------------------------------------------------------
def add_staff(b: Built) -> list:
    """Integer pattern variables and their paid-hour cost."""
    m, d = b.model, b.data
    terms = []
    for k, pat in enumerate(d.patterns):
        pool = d.pools.loc[pat.pool]
        var = m.add_integer_variable(lb=0, ub=float(pool["max_headcount"]),
                                     name=f"staff[pool={pool['pool']},shift={pat.shift},start={_WEEKDAYS[pat.start_day]}]")
        b.staff[k] = var
        if pat.paid_hours_horizon * pool["rate"] > 0:
            terms.append(pat.paid_hours_horizon * float(pool["rate"]) * var)
    return terms


def pool_capacity(d: PlanData) -> dict[int, dict[int, list[tuple[int, float]]]]:
    """pool -> t -> [(pattern, productive hours per moderator)]."""
    cap: dict[int, dict[int, list[tuple[int, float]]]] = {}
    for k, pat in enumerate(d.patterns):
        for t, v in pat.capacity.items():
            if v > 0:
                cap.setdefault(pat.pool, {}).setdefault(t, []).append((k, v))
    return cap


def add_alloc(b: Built, cap) -> list:
    """Allocation variables where the pool can be on site and the cell has work; tie-breaker terms."""
    m, d = b.model, b.data
    terms = []
    arrived = np.cumsum(d.workload, axis=1) > 0
    for p, c in d.skills:
        pool = d.pools.loc[p]
        realtime = d.cells.at[c, "kind"] == "realtime"
        open_t = d.need_hours[c] > 0 if realtime else arrived[c]
        ts = [t for t in sorted(cap.get(p, {})) if open_t[t]]
        if not ts:
            continue
        name = f"alloc[pool={pool['pool']},cell={_cell_name(d, c)},t="
        vars_ = {t: m.add_variable(lb=0.0, name=f"{name}{_t_name(d, t)}]") for t in ts}
        b.alloc[(p, c)] = vars_
        w = TIE_BREAK * float(pool["proficiency"]) * (2.0 - float(pool["quality"]))
        terms.extend(w * v for v in vars_.values())
    return terms


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# --- constraint families ------------------------------------------------------------------------
def add_pool_capacity(b: Built, cap) -> list:
    mo, m, d = _mo(), b.model, b.data
    by_pool_t: dict[tuple[int, int], list] = {}
    for (p, c), vars_ in b.alloc.items():
        for t, v in vars_.items():
            by_pool_t.setdefault((p, t), []).append(v)
    for (p, t), vs in sorted(by_pool_t.items()):
        expr = mo.fast_sum(vs) - mo.fast_sum(v * b.staff[k] for k, v in cap[p][t])
        m.add_linear_constraint(expr <= 0.0, name=f"capacity[pool={d.pools.at[p, 'pool']},t={_t_name(d, t)}]")
    return []


def add_realtime_coverage(b: Built) -> list:
    mo, m, d = _mo(), b.model, b.data
    terms = []
    by_cell_t: dict[tuple[int, int], list] = {}
    for (p, c), vars_ in b.alloc.items():
        if d.cells.at[c, "kind"] != "realtime":
            continue
        inv = 1.0 / float(d.pools.at[p, "proficiency"])
        for t, v in vars_.items():
            by_cell_t.setdefault((c, t), []).append(inv * v)
    for c in np.flatnonzero((d.cells["kind"] == "realtime").to_numpy()):
        price = float(d.cells.at[c, "penalty"])
        for t in np.flatnonzero(d.need_hours[c] > 0):
            need = float(d.need_hours[c, t])
            u = m.add_variable(lb=0.0, ub=need, name=f"unmet[cell={_cell_name(d, c)},t={_t_name(d, t)}]")
            b.unmet[(c, t)] = u
            terms.append(price * u)
            served = by_cell_t.get((c, t), [])
            m.add_linear_constraint(mo.fast_sum(served) + u >= need, name=f"cover[cell={_cell_name(d, c)},t={_t_name(d, t)}]")
    return terms


def deferred_profile(d: PlanData, c: int) -> tuple[np.ndarray, np.ndarray]:
    """(arrived, not-yet-due) standard hours by the end of each interval, for a deferred cell."""
    a = d.workload[c]
    shift = int(d.cells.at[c, "due_shift"])
    arrived = np.cumsum(a)
    due = np.concatenate([np.zeros(shift), arrived[: len(a) - shift]]) if shift else arrived.copy()
    return arrived, arrived - due


def add_deferred_flow(b: Built) -> list:
    """Deferred cells: live backlog e_t in [0, not_due_t]; e_t = e_{t-1} + a_t - done_t - late_t.

    ``late_t >= 0`` is work dropped as late in interval t (priced once, never worked afterwards);
    the upper bound on the live backlog forces every hour due by t to be done or dropped by t.
    """
    mo, m, d = _mo(), b.model, b.data
    util = float(d.config.staffing.deferred_max_utilisation)
    terms = []
    done: dict[tuple[int, int], list] = {}
    for (p, c), vars_ in b.alloc.items():
        if d.cells.at[c, "kind"] == "realtime":
            continue
        f = util / float(d.pools.at[p, "proficiency"])
        for t, v in vars_.items():
            done.setdefault((c, t), []).append(f * v)
    for c in np.flatnonzero((d.cells["kind"] != "realtime").to_numpy()):
        a = d.workload[c]
        if a.sum() <= 0:
            continue
        _, not_due = deferred_profile(d, c)
        shift = int(d.cells.at[c, "due_shift"])
        price = float(d.cells.at[c, "penalty"])
        t0 = int(np.flatnonzero(a > 0)[0])
        name = _cell_name(d, c)
        prev = None
        bl, lt = {}, {}
        for t in range(t0, d.T):
            et = m.add_variable(lb=0.0, ub=max(float(not_due[t]), 0.0), name=f"backlog[cell={name},t={_t_name(d, t)}]")
            bl[t] = et
            flow = et + mo.fast_sum(done.get((c, t), []))
            if prev is not None:
                flow = flow - prev
            if t - shift >= 0 and a[t - shift] > 0:  # something falls due in t: it may be dropped as late
                lt[t] = m.add_variable(lb=0.0, name=f"late[cell={name},t={_t_name(d, t)}]")
                flow = flow + lt[t]
                terms.append(price * lt[t])
            m.add_linear_constraint(flow == float(a[t]), name=f"flow[cell={name},t={_t_name(d, t)}]")
            prev = et
        b.backlog[c], b.late[c] = bl, lt
    return terms


def add_pool_headcount(b: Built) -> list:
    mo, m, d = _mo(), b.model, b.data
    by_pool: dict[int, list] = {}
    for k, pat in enumerate(d.patterns):
        by_pool.setdefault(pat.pool, []).append(b.staff[k])
    for p, vs in sorted(by_pool.items()):
        lo, hi = float(d.pools.at[p, "min_headcount"]), float(d.pools.at[p, "max_headcount"])
        m.add_linear_constraint(lb=lo, ub=hi, expr=mo.fast_sum(vs), name=f"headcount[pool={d.pools.at[p, 'pool']}]")
    return []


def add_exposure_caps(b: Built, cap) -> list:
    mo, m, d = _mo(), b.model, b.data
    policy = d.config.policy
    share, hours = float(policy.exposure_max_share), float(policy.exposure_max_hours_per_day)
    egregious = d.cells["egregious"].to_numpy()
    by_pool_t: dict[tuple[int, int], list] = {}
    for (p, c), vars_ in b.alloc.items():
        if egregious[c]:
            for t, v in vars_.items():
                by_pool_t.setdefault((p, t), []).append(v)
    if not by_pool_t:
        return []
    if share < 1.0:
        for (p, t), vs in sorted(by_pool_t.items()):
            expr = mo.fast_sum(vs) - share * mo.fast_sum(v * b.staff[k] for k, v in cap[p][t])
            m.add_linear_constraint(expr <= 0.0, name=f"exposure_share[pool={d.pools.at[p, 'pool']},t={_t_name(d, t)}]")
    # daily cap per moderator: attribute egregious hours to the shifts on site
    pools_egr = sorted({p for p, _ in by_pool_t})
    for p in pools_egr:
        pats = [k for k, pat in enumerate(d.patterns) if pat.pool == p]
        shifts = sorted({d.patterns[k].shift for k in pats})
        productive = {s: d.patterns[next(k for k in pats if d.patterns[k].shift == s)].paid_hours * (1 - float(d.pools.at[p, "shrinkage"])) for s in shifts}
        if all(productive[s] <= hours + 1e-9 for s in shifts):
            continue  # nobody can exceed the daily cap
        pool_name = d.pools.at[p, "pool"]
        ts = sorted(t for (pp, t) in by_pool_t if pp == p)
        ts_set = set(ts)
        per_t: dict[int, list] = {}
        for s in shifts:
            s_pats = [k for k in pats if d.patterns[k].shift == s]
            occs = sorted({o for k in s_pats for o in d.patterns[k].occurrences})
            owner: dict[int, tuple[float, int]] = {}
            for o in occs:
                for t, hrs in d.occurrences[o].overlap.items():
                    if t in ts_set and (t not in owner or hrs > owner[t][0]):
                        owner[t] = (hrs, o)
            ys = {}
            for t in sorted(owner):
                y = m.add_variable(lb=0.0, name=f"egr[pool={pool_name},shift={s},t={_t_name(d, t)}]")
                ys[t] = y
                per_t.setdefault(t, []).append(y)
                on = [(k, d.patterns[k].capacity.get(t, 0.0)) for k in s_pats]
                m.add_linear_constraint(y - mo.fast_sum(v * b.staff[k] for k, v in on if v > 0) <= 0.0,
                                        name=f"egr_on_site[pool={pool_name},shift={s},t={_t_name(d, t)}]")
            b.egr[(p, s)] = ys
            for o in occs:
                o_ts = [t for t, (_, oo) in owner.items() if oo == o]
                b.egr_occurrence[o] = sorted(o_ts)
                if not o_ts:
                    continue
                working = [b.staff[k] for k in s_pats if o in d.patterns[k].occurrences]
                m.add_linear_constraint(mo.fast_sum(ys[t] for t in o_ts) - hours * mo.fast_sum(working) <= 0.0,
                                        name=f"exposure_daily[pool={pool_name},shift={s},day={d.occurrences[o].day}]")
        for t in ts:
            m.add_linear_constraint(mo.fast_sum(per_t.get(t, [])) - mo.fast_sum(by_pool_t[(p, t)]) == 0.0,
                                    name=f"egr_split[pool={pool_name},t={_t_name(d, t)}]")
    return []


def add_vendor_contracts(b: Built) -> list:
    mo, m, d = _mo(), b.model, b.data
    terms = []
    for _, v in d.vendors.iterrows():
        ks = [k for k, pat in enumerate(d.patterns) if d.pools.at[pat.pool, "vendor"] == v["vendor"]]
        if not ks:
            continue
        weekly = mo.fast_sum(d.patterns[k].paid_hours_horizon / d.weeks * b.staff[k] for k in ks)
        hi, lo = float(v["max_weekly_hours"]), float(v["min_weekly_hours"])
        m.add_linear_constraint(weekly <= hi, name=f"vendor_max[vendor={v['vendor']}]")
        if lo > 0:
            s = m.add_variable(lb=0.0, ub=lo, name=f"commit_short[vendor={v['vendor']}]")
            b.short[v["vendor"]] = s
            m.add_linear_constraint(weekly + s >= lo, name=f"vendor_min[vendor={v['vendor']}]")
            terms.append(float(v["avg_rate"]) * d.weeks * s)
    return terms


def add_language_share(b: Built) -> list:
    mo, m, d = _mo(), b.model, b.data
    if not d.language_caps:
        return []
    langs = sorted({lang for _, lang in d.language_caps})
    by_lang: dict[str, list] = {}
    by_prov: dict[tuple[str, str], list] = {}
    for (p, c), vars_ in b.alloc.items():
        lang = d.cells.at[c, "language"]
        if lang not in langs:
            continue
        prov = provider(d.pools.at[p, "vendor"])
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


def build(d: PlanData) -> Built:
    """The whole model: variables, every constraint family, the objective."""
    mo = _mo()
    started = time.perf_counter()
    b = Built(model=mo.Model(name="capplan-plan"), data=d)
    cap = pool_capacity(d)
    b.terms["cost"] = add_staff(b)
    b.terms["tie_break"] = add_alloc(b, cap)
    b.terms["capacity"] = add_pool_capacity(b, cap)
    b.terms["penalty_realtime"] = add_realtime_coverage(b)
    b.terms["penalty_deferred"] = add_deferred_flow(b)
    b.terms["headcount"] = add_pool_headcount(b)
    b.terms["exposure"] = add_exposure_caps(b, cap)
    b.terms["take_or_pay"] = add_vendor_contracts(b)
    b.terms["language_share"] = add_language_share(b)
    b.model.minimize(mo.fast_sum(t for terms in b.terms.values() for t in terms))
    b.seconds = time.perf_counter() - started
    return b


@dataclass
class Solved:
    status: SolveStatus
    values: dict  # var -> value
    objective: float
    bound: float
    gap: float
    seconds: float
    solver: str
    method: str = "mip"  # "mip" | "relax_round_fix" | "restricted_mip"
    phases: dict = field(default_factory=dict)  # phase -> seconds / objective


SMALL_MODEL_VARIABLES = 20_000  # below this, the exact MIP runs whenever the heuristic misses the gap


def _call(mo, model, solver_type, params, backend: str):
    try:
        return mo.solve(model, solver_type, params=params)
    except (AttributeError, RuntimeError, ValueError) as exc:  # MathOpt hides StatusNotOk (or-tools #4606)
        raise SolverError(f"the {backend} solver failed on a model with {model.get_num_variables()} variables and "
                          f"{model.get_num_linear_constraints()} constraints: {exc!r}. Fix: try backend = \"scip\" or report the bug") from None


def _mip(b: Built, solver_config, solver_type, time_limit: float, highs=None):
    mo = _mo()
    extra = {"highs": highs} if highs is not None else {}
    params = mo.SolveParameters(time_limit=_timedelta(max(time_limit, 0.1)), relative_gap_tolerance=float(solver_config.relative_gap),
                                random_seed=int(solver_config.seed), **extra)
    result = _call(mo, b.model, solver_type, params, solver_config.backend)
    TR = mo.TerminationReason
    reason = result.termination.reason
    if reason == TR.OPTIMAL:
        status = SolveStatus.OPTIMAL
    elif reason == TR.FEASIBLE and result.has_primal_feasible_solution():
        status = SolveStatus.TIME_LIMIT_FEASIBLE if result.termination.limit == mo.Limit.TIME else SolveStatus.FEASIBLE
    else:
        return None, reason
    objective = float(result.objective_value())
    bound = float(result.best_objective_bound())
    if not np.isfinite(bound):
        bound = objective if status == SolveStatus.OPTIMAL else float("nan")
    return (status, result.variable_values(), objective, bound), reason


def _lp(b: Built, solver_type, time_limit: float, backend: str, barrier: bool, crossover: bool = False):
    """Solve the model as an LP (integrality relaxed by the caller); barrier when large, crossover optional."""
    mo = _mo()
    kwargs = {}
    if barrier:
        from ortools.math_opt.solvers import highs_pb2

        options = highs_pb2.HighsOptionsProto()
        options.string_options["run_crossover"] = "on" if crossover else "off"
        kwargs = {"lp_algorithm": mo.LPAlgorithm.BARRIER, "highs": options}
    params = mo.SolveParameters(time_limit=_timedelta(max(time_limit, 0.1)), **kwargs)
    result = _call(mo, b.model, solver_type, params, backend)
    if result.termination.reason != mo.TerminationReason.OPTIMAL:
        return None
    return result


def round_staff(d: PlanData, x: np.ndarray, threshold: float) -> np.ndarray:
    """Round the relaxed staffing at ``threshold``, then repair the hard staffing limits.

    A pattern is rounded up when its fractional part is at least ``threshold``. Round-ups are then
    undone (smallest fraction first) while a pool is above its max headcount or a vendor above its
    max weekly hours; a pool below its min headcount gets moderators on its most fractional patterns.
    Rounding down leaves small deficits that the fixed LP absorbs by moving multi-skilled and
    deferred work (or prices as unmet): on the demos far cheaper than covering every deficit.
    """
    floor = np.floor(x + 1e-6)
    frac = np.where(x - floor > 1e-6, x - floor, 0.0)
    n = (floor + ((frac > 0) & (frac >= threshold))).astype(int)
    pools = np.array([pat.pool for pat in d.patterns])
    weekly_hours = np.array([pat.paid_hours_horizon / d.weeks for pat in d.patterns])
    vendors = np.array([d.pools.at[p, "vendor"] for p in pools])
    ascending = np.argsort(frac, kind="stable")

    def undo(mask: np.ndarray, excess) -> None:
        for k in ascending:
            if excess() <= 1e-9:
                return
            if mask[k] and n[k] > floor[k]:
                n[k] -= 1

    for p in sorted(set(pools)):
        mask, hi = pools == p, int(d.pools.at[p, "max_headcount"])
        undo(mask, lambda: n[mask].sum() - hi)
    for v, hi in sorted(zip(d.vendors["vendor"], d.vendors["max_weekly_hours"].astype(float))):
        mask = vendors == v
        undo(mask, lambda: (n * weekly_hours)[mask].sum() - hi)
    for p in sorted(set(pools)):
        mask, lo = pools == p, int(d.pools.at[p, "min_headcount"])
        ks = [k for k in ascending[::-1] if mask[k]]
        i = 0
        while n[mask].sum() < lo:
            n[ks[i % len(ks)]] += 1
            i += 1
    return n


ROUNDINGS = (0.5, 0.4, "cover")  # tried in this order until the gap is met; measured in the module docstring


def relax_round_fix(b: Built, solver_config, deadline: float, roundings=ROUNDINGS) -> tuple | None:
    """LP relaxation (lower bound) -> round staff -> LP with staff fixed -> trim; best of a few roundings.

    The roundings of :data:`ROUNDINGS` (:func:`round_staff` at a threshold, or :func:`cover_staff`)
    are evaluated in order by the fixed LP and :func:`trim_staff`; the first whose gap is within
    ``relative_gap`` stops the search (a stop rule by gap, not by time). Returns (values, objective,
    bound, phases, x) with x the relaxed staffing, or None when the relaxation does not finish in time.
    The relaxation's objective is a valid lower bound of the MIP, so ``gap`` is proven.
    """
    mo = _mo()
    d = b.data
    tol = float(solver_config.relative_gap)
    phases = {}
    staff_vars = [b.staff[k] for k in range(len(d.patterns))]
    for v in staff_vars:
        v.integer = False
    saved = [(v.lower_bound, v.upper_bound) for v in staff_vars]
    best = None
    try:
        t = time.perf_counter()
        relaxed = _lp(b, mo.SolverType.HIGHS, deadline - time.perf_counter(), solver_config.backend, True, crossover=CROSSOVER)
        phases["relaxation_seconds"] = time.perf_counter() - t
        if relaxed is None:
            return None
        bound = float(relaxed.objective_value())
        phases["relaxation_objective"] = bound
        relaxed_values = relaxed.variable_values()
        x = np.array([relaxed_values[v] for v in staff_vars])
        for rounding in roundings:
            label = "cover" if rounding == "cover" else f"round_{rounding:g}"
            n = cover_staff(b, relaxed_values, x) if rounding == "cover" else round_staff(d, x, float(rounding))
            for v, k in zip(staff_vars, n):
                v.lower_bound = v.upper_bound = float(k)
            t = time.perf_counter()
            fixed = _lp(b, mo.SolverType.HIGHS, deadline - time.perf_counter(), solver_config.backend, True)
            phases[f"{label}_seconds"] = time.perf_counter() - t
            if fixed is None:
                break
            values = fixed.variable_values()
            n_trim, saved_cost = trim_staff(b, values, n)
            for v, k in zip(staff_vars, n_trim):
                values[v] = float(k)
            objective = float(fixed.objective_value()) - saved_cost
            phases[f"{label}_objective"] = objective
            phases[f"{label}_trimmed_moderators"] = int(n.sum() - n_trim.sum())
            if best is None or objective < best[1] - 1e-9:
                best = (values, objective)
                phases["rounding"] = label
            if _gap(best[1], bound) <= tol + 1e-9 or time.perf_counter() >= deadline:
                break
    finally:
        for v, (lo, hi) in zip(staff_vars, saved):
            v.lower_bound, v.upper_bound = lo, hi
        for v in staff_vars:
            v.integer = True
    if best is None:
        return None
    return best[0], best[1], bound, phases, x


def restricted_mip(b: Built, solver_config, x: np.ndarray, deadline: float):
    """The exact HiGHS MIP with every pattern boxed to [floor(x), ceil(x)] of the relaxed staffing x.

    The relaxation optimum lies in the box, so the root bound is the relaxation's and the search
    space is tiny (integral patterns are fixed); the root LP by interior point (``mip_lp_solver =
    ipm``), not HiGHS's default dual simplex. Returns what :func:`_mip` returns.
    """
    from ortools.math_opt.solvers import highs_pb2

    staff_vars = [b.staff[k] for k in range(len(b.data.patterns))]
    saved = [(v.lower_bound, v.upper_bound) for v in staff_vars]
    options = highs_pb2.HighsOptionsProto()
    options.string_options["mip_lp_solver"] = "ipm"
    try:
        for v, xk, (lo, hi) in zip(staff_vars, x, saved):
            v.lower_bound = max(lo, float(np.floor(xk + 1e-6)))
            v.upper_bound = min(hi, max(v.lower_bound, float(np.ceil(xk - 1e-6))))
        return _mip(b, solver_config, _mo().SolverType.HIGHS, deadline - time.perf_counter(), highs=options)
    finally:
        for v, (lo, hi) in zip(staff_vars, saved):
            v.lower_bound, v.upper_bound = lo, hi


def _usage(b: Built, values: dict):
    """Per pool and interval: allocated and egregious hours; per occurrence: egregious hours."""
    d = b.data
    P, T = len(d.pools), d.T
    egregious = d.cells["egregious"].to_numpy()
    used = np.zeros((P, T))
    egr = np.zeros((P, T))
    for (p, c), vars_ in b.alloc.items():
        for t, v in vars_.items():
            val = values[v]
            used[p, t] += val
            if egregious[c]:
                egr[p, t] += val
    occ_egr = {}
    for (p, s), ys in b.egr.items():
        for o, ts in b.egr_occurrence.items():
            if d.occurrences[o].pool == p and d.occurrences[o].shift == s:
                occ_egr[o] = sum(values[ys[t]] for t in ts)
    return used, egr, occ_egr


def _pattern_caps(d: PlanData) -> list[np.ndarray]:
    caps = []
    for pat in d.patterns:
        ck = np.zeros(d.T)
        for t, val in pat.capacity.items():
            ck[t] = val
        caps.append(ck)
    return caps


def cover_staff(b: Built, values: dict, x: np.ndarray) -> np.ndarray:
    """Integer staffing that keeps the relaxation's allocation feasible, greedily from floor(x).

    Start from the relaxed staffing rounded down; while a pool lacks capacity for the relaxed
    allocation in some interval (capacity, exposure share, per-moderator daily exposure), add one
    moderator on the pattern covering most of the deficit per unit of paid cost, within max
    headcount and vendor max weekly hours. Usually far cheaper than rounding every pattern up.
    """
    d = b.data
    tol = 1e-7
    share = float(d.config.policy.exposure_max_share)
    hours = float(d.config.policy.exposure_max_hours_per_day)
    used, egr, occ_egr = _usage(b, values)
    need = np.maximum(used, egr / share if share > 0 else 0.0 * egr)
    caps = _pattern_caps(d)
    n = np.floor(x + 1e-6).astype(int)
    vendor_max = dict(zip(d.vendors["vendor"], d.vendors["max_weekly_hours"].astype(float)))
    weekly: dict[str, float] = {}
    for k, pat in enumerate(d.patterns):
        v = d.pools.at[pat.pool, "vendor"]
        weekly[v] = weekly.get(v, 0.0) + n[k] * pat.paid_hours_horizon / d.weeks
    by_pool: dict[int, list[int]] = {}
    for k, pat in enumerate(d.patterns):
        by_pool.setdefault(pat.pool, []).append(k)
    for p, ks in sorted(by_pool.items()):
        cap = sum(caps[k] * n[k] for k in ks)
        heads_occ = {}
        for k in ks:
            for o in d.patterns[k].occurrences:
                heads_occ[o] = heads_occ.get(o, 0) + n[k]
        heads = int(sum(n[k] for k in ks))
        v = d.pools.at[p, "vendor"]
        rate = float(d.pools.at[p, "rate"])
        while True:
            deficit = np.maximum(need[p] - cap, 0.0)
            occ_def = {o: e / hours - heads_occ.get(o, 0) for o, e in occ_egr.items() if d.occurrences[o].pool == p and hours > 0}
            occ_def = {o: v_ for o, v_ in occ_def.items() if v_ > tol}
            if deficit.max() <= tol and not occ_def:
                break
            if heads >= int(d.pools.at[p, "max_headcount"]):
                break
            best, best_score = None, 0.0
            for k in ks:
                pat = d.patterns[k]
                if v in vendor_max and weekly.get(v, 0.0) + pat.paid_hours_horizon / d.weeks > vendor_max[v] + 1e-6:
                    continue
                gain = np.minimum(deficit, caps[k]).sum() + sum(min(occ_def.get(o, 0.0), 1.0) for o in pat.occurrences) * hours
                score = gain / max(pat.paid_hours_horizon * rate, 1e-9)
                if gain > tol and score > best_score:
                    best, best_score = k, score
            if best is None:
                break
            n[best] += 1
            heads += 1
            cap = cap + caps[best]
            for o in d.patterns[best].occurrences:
                heads_occ[o] = heads_occ.get(o, 0) + 1
            weekly[v] = weekly.get(v, 0.0) + d.patterns[best].paid_hours_horizon / d.weeks
    for p, ks in sorted(by_pool.items()):  # min headcount
        lo = int(d.pools.at[p, "min_headcount"])
        while sum(n[k] for k in ks) < lo:
            n[ks[0]] += 1
    return n


def trim_staff(b: Built, values: dict, n: np.ndarray) -> tuple[np.ndarray, float]:
    """Remove moderators the fixed allocation does not need, keeping every constraint satisfied.

    A moderator is removed from a pattern when, with the allocation unchanged, pool capacity, the
    exposure share, the per-moderator daily exposure, min headcount and the vendor minimum all
    still hold. Most expensive patterns first. Returns (staff, paid cost saved).
    """
    d = b.data
    P = len(d.pools)
    tol = 1e-7
    share = float(d.config.policy.exposure_max_share)
    hours = float(d.config.policy.exposure_max_hours_per_day)
    used, egr, occ_egr = _usage(b, values)
    caps = _pattern_caps(d)
    cap = np.zeros((P, d.T))
    for k, pat in enumerate(d.patterns):
        cap[pat.pool] += caps[k] * n[k]
    heads_occ = np.zeros(len(d.occurrences))
    for k, pat in enumerate(d.patterns):
        for o in pat.occurrences:
            heads_occ[o] += n[k]
    heads = np.zeros(P, dtype=int)
    for k, pat in enumerate(d.patterns):
        heads[pat.pool] += n[k]
    vendor_min = dict(zip(d.vendors["vendor"], d.vendors["min_weekly_hours"].astype(float)))
    weekly: dict[str, float] = {}
    for k, pat in enumerate(d.patterns):
        v = d.pools.at[pat.pool, "vendor"]
        weekly[v] = weekly.get(v, 0.0) + n[k] * pat.paid_hours_horizon / d.weeks
    n = n.copy()
    saved = 0.0
    order = sorted(range(len(d.patterns)), key=lambda k: (-d.patterns[k].paid_hours_horizon * float(d.pools.at[d.patterns[k].pool, "rate"]), k))
    for k in order:
        pat = d.patterns[k]
        p = pat.pool
        v = d.pools.at[p, "vendor"]
        rate = float(d.pools.at[p, "rate"])
        while n[k] > 0:
            if heads[p] - 1 < int(d.pools.at[p, "min_headcount"]):
                break
            if v in vendor_min and weekly[v] - pat.paid_hours_horizon / d.weeks < vendor_min[v] - 1e-9:
                break
            new_cap = cap[p] - caps[k]
            if (used[p] > new_cap + tol).any() or (egr[p] > share * new_cap + tol).any():
                break
            if any(o in occ_egr and occ_egr[o] > hours * (heads_occ[o] - 1) + tol for o in pat.occurrences):
                break
            n[k] -= 1
            heads[p] -= 1
            cap[p] = new_cap
            for o in pat.occurrences:
                heads_occ[o] -= 1
            weekly[v] -= pat.paid_hours_horizon / d.weeks
            saved += pat.paid_hours_horizon * rate
    return n, saved


def solve(b: Built, solver_config) -> Solved:
    """Solve with the configured backend; a result without a plan is a SolverError.

    HiGHS: first :func:`relax_round_fix` (barrier LPs; the relaxation bound makes the gap proven);
    if its gap is above ``relative_gap`` and the model is small, :func:`restricted_mip`, then the
    exact MIP with the remaining time; the best plan is kept. SCIP: the MIP directly.
    """
    mo = _mo()
    backend = solver_config.backend
    types = {"highs": mo.SolverType.HIGHS, "scip": mo.SolverType.GSCIP}
    if backend not in types:
        raise ConfigError(f"[solver] backend = {backend!r} is not supported by the optimizer; expected one of {', '.join(types)}. "
                          "Fix: set backend = \"highs\" in capplan.toml")
    started = time.perf_counter()
    deadline = started + float(solver_config.time_limit_s)
    tol = float(solver_config.relative_gap)
    best = None
    phases: dict = {}
    method = "mip"
    heur = None
    small = b.model.get_num_variables() <= SMALL_MODEL_VARIABLES
    if backend == "highs":  # small: nearest rounding, then the restricted MIP (cheaper than more roundings)
        heur = relax_round_fix(b, solver_config, deadline, ROUNDINGS[:1] if small else ROUNDINGS)
        if heur is not None:
            values, objective, bound, phases, x = heur
            method = "relax_round_fix"
    if heur is not None and small and _gap(objective, bound) > tol + 1e-9 and time.perf_counter() < deadline:
        t = time.perf_counter()
        boxed, _ = restricted_mip(b, solver_config, x, deadline)
        phases["restricted_mip_seconds"] = time.perf_counter() - t
        if boxed is not None and boxed[2] < objective - 1e-9:  # its bound holds in the box only: keep the relaxation's
            values, objective = boxed[1], boxed[2]
            phases["restricted_mip_objective"] = objective
            method = "restricted_mip"
    if heur is not None:
        status = SolveStatus.OPTIMAL if _gap(objective, bound) <= tol + 1e-9 else SolveStatus.FEASIBLE
        best = (status, values, objective, bound)
    reason = None
    if best is None or (best[0] != SolveStatus.OPTIMAL and (small or backend == "scip") and time.perf_counter() < deadline):
        t = time.perf_counter()
        mip, reason = _mip(b, solver_config, types[backend], deadline - time.perf_counter())
        phases["mip_seconds"] = time.perf_counter() - t
        if mip is not None and (best is None or mip[2] <= best[2] + 1e-9):
            bound = max(mip[3], best[3]) if best is not None and np.isfinite(mip[3]) else mip[3]
            best = (mip[0], mip[1], mip[2], bound)
            method = "mip"
        elif mip is not None and np.isfinite(mip[3]):
            best = (best[0], best[1], best[2], max(best[3], mip[3]))
    seconds = time.perf_counter() - started
    if best is None:
        raise SolverError(
            f"the {backend} solver found no plan in {seconds:.1f} s ({reason.name if reason else 'LP not finished'}). The model has priced "
            f"slack and is always feasible, so the time limit is too short for this size. "
            f"Fix: raise [solver] time_limit_s (now {solver_config.time_limit_s}) or shorten [planning] plan_days")
    status, values, objective, bound = best
    gap = _gap(objective, bound)
    if status != SolveStatus.OPTIMAL and gap <= tol + 1e-9:
        status = SolveStatus.OPTIMAL
    elif status == SolveStatus.FEASIBLE and time.perf_counter() >= deadline - 1e-3:
        status = SolveStatus.TIME_LIMIT_FEASIBLE
    return Solved(status, values, objective, bound, gap, seconds, backend, method, phases)


def _gap(objective: float, bound: float) -> float:
    if not np.isfinite(bound):
        return float("nan")
    return max(objective - bound, 0.0) / max(abs(objective), 1e-9)


def _timedelta(seconds: float):
    import datetime as dt

    return dt.timedelta(seconds=float(seconds))
