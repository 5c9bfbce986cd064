"""The long-range capacity model: hiring classes, transfers, vendor hours and overtime (OR-Tools MathOpt, HiGHS).

Variables (named from domain keys)
----------------------------------
* ``hire[pool=..,week=..]`` integer: new in-house hires whose class starts in that week (from week
  ``hiring_lead_weeks``); ``open[...]`` binary only when ``min_class_size > 1``.
* ``transfer[from=..,to=..,week=..]`` integer: trained moderators moved between in-house pools on an allowed
  route (:func:`capplan.capacity.supply.transfer_routes`) from week ``transfer_lead_weeks``.
* ``heads[pool=..,week=..]``, ``trained[pool=..,week=..]`` in-house heads on the payroll and heads past
  training (state variables defined by the week-by-week balance below).
* ``ot[pool=..,week=..]`` overtime paid hours of an in-house pool.
* ``vph[pool=..,week=..]`` paid hours bought from a vendor pool.
* ``alloc[pool=..,cell=q/l,week=..]`` productive hours of a pool on a cell it is skilled for.
* ``short[cell=..,week=..]`` standard productive hours of requirement not covered (priced slack).
* ``commit_short[vendor=..,week=..]`` hours below a vendor's committed minimum (take-or-pay).

Constraint families (each ``add_*`` returns its objective terms)
----------------------------------------------------------------
* :func:`add_transfers` moves per source pool and calendar month <= ``max_transfers_by_pool`` /
  ``max_transfers_per_pool_month``. Cost: ``transfer_cost`` per move (+ ``transfer_cross_site_cost`` across sites).
* :func:`add_inhouse` the balance ``heads[w] = s heads[w-1] + hires[w] + committed[w] + in[w] - out[w]`` and
  ``trained[w] = s trained[w-1] + s^T (hires + committed)[w-T] + s^X in[w-X] - out[w]`` (``T``
  training weeks, ``X`` cross-training weeks, week 0 starts from the roster today; ``trained >= 0`` lets only
  trained moderators move); productive hours of a pool <= (1 - shrinkage) x (fte_week_hours x effective FTE
  + overtime) with effective FTE = trained less the nesting deficit ``sum_k (1 - ramp_k) s^k class[w-k]``
  (see :mod:`.supply`); overtime <= overtime_max_share x fte_week_hours x trained. Cost: wages of every
  head on the payroll (training and cross-training included), hire_cost per hire, overtime at the premium.
* :func:`add_roster_floor` trained in-house heads + floor_short >= the pool's ``min_headcount`` (the weekly
  plan rosters at least that many every week), a soft floor: each missing moderator-week costs
  :data:`FLOOR_WEEKS_OF_WAGES` weeks of one moderator's wages, so the plan hires to hold the floor when
  a class can be trained in time and reports the gap (``pool_min_headcount``) when it cannot.
* :func:`add_vendors` vendor-pool productive hours <= (1 - shrinkage) x paid hours; per vendor and
  week: hours <= max_weekly_hours, hours + commit_short >= min_weekly_hours, week-on-week rise <=
  vendor_ramp_up_share x max, fall <= vendor_ramp_down_share x max (from the opening level), and at
  least the opening level during ``vendor_notice_weeks``. Cost: paid hours x the pool's rate.
* :func:`add_coverage` sum_p alloc / proficiency + short >= required (standard hours); short priced
  at ``[policy] unmet_penalty_per_hour`` by queue severity, so the model is always feasible.
* :func:`add_hiring_limits` hires per site and calendar month (of the class start) <= the limit.
* :func:`add_language_share` per week, a provider's productive hours on a language <= its cap x the
  language's productive hours (the weekly plan's ``max_language_share`` and critical-language rule).

Objective: cost + priced shortfall + take-or-pay + a tie-breaker of 1e-3 per productive hour x
proficiency (faster pools first). Solved as a MIP by HiGHS through MathOpt with the
``[solver] relative_gap`` stop rule, ``seed`` and ``time_limit_s`` (a safety net; the result is
deterministic when the gap, not the clock, stops the search).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from capplan.capacity.supply import CapacityData
from capplan.errors import SolverError

TIE_BREAK = 1e-3
FLOOR_WEEKS_OF_WAGES = 2.0


@dataclass
class CapacityModel:
    model: object
    data: CapacityData
    hire: dict = field(default_factory=dict)  # (pool, week) -> var
    ot: dict = field(default_factory=dict)  # (pool, week) -> var
    vph: dict = field(default_factory=dict)  # (pool, week) -> var
    alloc: dict = field(default_factory=dict)  # (pool, cell, week) -> var
    short: dict = field(default_factory=dict)  # (cell, week) -> var
    commit_short: dict = field(default_factory=dict)  # (vendor, week) -> var
    floor_short: dict = field(default_factory=dict)  # (pool, week) -> var
    heads: dict = field(default_factory=dict)  # (pool, week) -> var: in-house heads on the payroll
    trained: dict = field(default_factory=dict)  # (pool, week) -> var: in-house heads past training / cross-training
    xfer: dict = field(default_factory=dict)  # (route position, week) -> var: moderators moved
    lang_total: dict = field(default_factory=dict)  # (language, week) -> var
    pool_hires: dict = field(default_factory=dict)  # pool -> [(class week, var)] in week order
    constant: float = 0.0  # cost that no decision changes (0: wages are priced on the heads variables)
    terms: dict = field(default_factory=dict)


def _mo():
    from ortools.math_opt.python import mathopt

    return mathopt


def _cell(d: CapacityData, c: int) -> str:
    return d.cell_names[c]


def hire_limit(d: CapacityData, site: str) -> int:
    cap = d.config
    return int(cap.max_hires_by_site.get(site, cap.max_hires_per_site_month))


def ramp_deficit(d: CapacityData, p: int) -> list[tuple[int, float]]:
    """``(k, (1 - prof(k)) s^k)`` for the nesting weeks ``k`` after training: output a class of one still lacks."""
    s = float(d.pools.at[p, "survival"])
    return [(k, (1.0 - float(d.ramp[k])) * s ** k) for k in range(d.weeks) if 0.0 < d.ramp[k] < 1.0]


def committed_by_week(d: CapacityData, p: int) -> np.ndarray:
    """Committed hires (roster.csv classes) of pool ``p`` by class start week."""
    out = np.zeros(d.weeks)
    for r in d.committed[d.committed["pool"] == p].itertuples(index=False):
        out[r.week] += r.hires
    return out


def add_transfers(b: CapacityModel) -> list:
    """Integer moves ``transfer[from=..,to=..,week=..]`` on the allowed routes from ``transfer_lead_weeks``; per
    source pool and calendar month of the move at most its limit. Cost: ``transfer_cost`` (+ ``transfer_cross_site_cost``)."""
    mo, d, cap = _mo(), b.data, b.data.config
    m, terms, months, groups = b.model, [], d.month_of_week(), {}
    for r in d.routes.itertuples():
        source, target = d.pool_names[r.source], d.pool_names[r.target]
        cost = cap.transfer_cost + (cap.transfer_cross_site_cost if r.cross_site else 0.0)
        for w in range(cap.transfer_lead_weeks, d.weeks):
            var = m.add_integer_variable(lb=0, ub=int(r.limit), name=f"transfer[from={source},to={target},week={w}]")
            b.xfer[r.Index, w] = var
            terms.append(cost * var)
            groups.setdefault((r.source, months[w], int(r.limit)), []).append(var)
    for (source, month, limit), moves in sorted(groups.items()):
        m.add_linear_constraint(mo.fast_sum(moves) <= limit, name=f"transfer_limit[pool={d.pool_names[source]},month={month}]")
    return terms


def add_inhouse(b: CapacityModel) -> list:
    mo, d, cap = _mo(), b.data, b.data.config
    m, hours, terms = b.model, cap.fte_week_hours, []
    tw, ttw = cap.training_weeks, cap.transfer_training_weeks
    for p in d.inhouse:
        name, site, rate, s = d.pools.at[p, "pool"], d.pools.at[p, "site"], d.pools.at[p, "rate"], float(d.pools.at[p, "survival"])
        limit = hire_limit(d, site)
        for c in range(cap.hiring_lead_weeks, d.weeks):
            if limit > 0:
                b.hire[p, c] = m.add_integer_variable(lb=0, ub=limit, name=f"hire[pool={name},week={c}]")
                terms.append(cap.hire_cost * b.hire[p, c])
        b.pool_hires[p] = [(c, b.hire[p, c]) for c in range(d.weeks) if (p, c) in b.hire]
        committed, deficit, opening = committed_by_week(d, p), ramp_deficit(d, p), float(d.pools.at[p, "opening"])
        moves_in = {w: [v for (r, ww), v in b.xfer.items() if ww == w and d.routes.at[r, "target"] == p] for w in range(d.weeks)}
        moves_out = {w: [v for (r, ww), v in b.xfer.items() if ww == w and d.routes.at[r, "source"] == p] for w in range(d.weeks)}
        shrink = 1.0 - d.pools.at[p, "shrinkage"]
        for w in range(d.weeks):
            key = f"pool={name},week={w}"
            heads = b.heads[p, w] = m.add_variable(lb=0.0, name=f"heads[{key}]")
            trained = b.trained[p, w] = m.add_variable(lb=0.0, name=f"trained[{key}]")
            hire = b.hire.get((p, w), 0.0)
            graduating = b.hire.get((p, w - tw), 0.0) if w >= tw else 0.0
            m.add_linear_constraint(  # survivors of last week + this week's class + moves in - moves out
                heads - (s * b.heads[p, w - 1] if w else 0.0) - hire - mo.fast_sum(moves_in[w]) + mo.fast_sum(moves_out[w])
                == committed[w] + (0.0 if w else opening), name=f"headcount[{key}]")
            m.add_linear_constraint(  # trained: survivors + the class leaving training + moves done cross-training - moves out
                trained - (s * b.trained[p, w - 1] if w else 0.0) - s ** tw * graduating
                - s ** ttw * mo.fast_sum(moves_in[w - ttw] if w >= ttw else []) + mo.fast_sum(moves_out[w])
                == (s ** tw * committed[w - tw] if w >= tw else 0.0) + (0.0 if w else opening), name=f"trained[{key}]")
            terms.append(rate * hours * heads)
            nesting = [(coef, b.hire[p, w - k]) for k, coef in deficit if (p, w - k) in b.hire]
            nesting_fixed = sum(coef * committed[w - k] for k, coef in deficit if w - k >= 0)
            b.ot[p, w] = m.add_variable(lb=0.0, name=f"ot[{key}]")
            m.add_linear_constraint(b.ot[p, w] - cap.overtime_max_share * hours * trained <= 0.0, name=f"overtime_cap[{key}]")
            terms.append(rate * cap.overtime_premium * b.ot[p, w])
            used = mo.fast_sum(b.alloc[p, c, w] for c in d.skills[p] if (p, c, w) in b.alloc)
            m.add_linear_constraint(  # productive hours <= (1 - shrinkage) x (hours x effective FTE + overtime)
                used - shrink * hours * trained + shrink * hours * mo.fast_sum(coef * v for coef, v in nesting) - shrink * b.ot[p, w]
                <= -shrink * hours * nesting_fixed, name=f"inhouse_capacity[{key}]")
    return terms


def add_roster_floor(b: CapacityModel) -> list:
    d, cap = b.data, b.data.config
    terms = []
    for p in d.inhouse:
        floor = d.pools.at[p, "min_headcount"]
        if not floor > 0:
            continue
        name = d.pools.at[p, "pool"]
        price = FLOOR_WEEKS_OF_WAGES * d.pools.at[p, "rate"] * cap.fte_week_hours
        for w in range(d.weeks):
            b.floor_short[p, w] = b.model.add_variable(lb=0.0, name=f"floor_short[pool={name},week={w}]")
            b.model.add_linear_constraint(b.trained[p, w] + b.floor_short[p, w] >= floor, name=f"pool_min_headcount[pool={name},week={w}]")
            terms.append(price * b.floor_short[p, w])
    return terms


def add_language_share(b: CapacityModel) -> list:
    """``sum_{p of v} alloc[p, c, w] <= cap_{v,l} x sum_p alloc[p, c, w]`` over the cells of language l, per week [productive h].

    The weekly plan's caps (:func:`capplan.capacity.supply.language_caps`): a vendor's ``max_language_share``, and
    at most 90 % per provider (in-house counts as one) of a ``[policy] critical_languages`` language.
    """
    mo, d, m = _mo(), b.data, b.model
    if not d.language_caps:
        return []
    langs = {lang for _, lang in d.language_caps}
    by_lang: dict = {}
    by_prov: dict = {}
    for (p, c, w), var in b.alloc.items():
        lang = d.cells.at[c, "language"]
        if lang in langs:
            by_lang.setdefault((lang, w), []).append(var)
            by_prov.setdefault((d.pools.at[p, "vendor"], lang, w), []).append(var)
    for (lang, w), allocs in sorted(by_lang.items()):
        total = b.lang_total[lang, w] = m.add_variable(lb=0.0, name=f"lang_hours[language={lang},week={w}]")
        m.add_linear_constraint(total - mo.fast_sum(allocs) == 0.0, name=f"lang_total[language={lang},week={w}]")
        for (prov, lg), share in sorted(d.language_caps.items()):
            if lg == lang and by_prov.get((prov, lang, w)):
                m.add_linear_constraint(mo.fast_sum(by_prov[prov, lang, w]) - share * total <= 0.0,
                                        name=f"language_share[provider={prov},language={lang},week={w}]")
    return []


def vendor_hours(b: CapacityModel, v: int, w: int):
    mo = _mo()
    return mo.fast_sum(b.vph[p, w] for p in b.data.vendors.at[v, "pools"])


def add_vendors(b: CapacityModel) -> list:
    mo, d, cap = _mo(), b.data, b.data.config
    m, terms = b.model, []
    for v in range(len(d.vendors)):
        row = d.vendors.loc[v]
        for p in row["pools"]:
            shrink = 1.0 - d.pools.at[p, "shrinkage"]
            for w in range(d.weeks):
                b.vph[p, w] = m.add_variable(lb=0.0, name=f"vph[pool={d.pools.at[p, 'pool']},week={w}]")
                terms.append(d.pools.at[p, "rate"] * b.vph[p, w])
                used = mo.fast_sum(b.alloc[p, c, w] for c in d.skills[p] if (p, c, w) in b.alloc)
                m.add_linear_constraint(used - shrink * b.vph[p, w] <= 0.0, name=f"vendor_capacity[pool={d.pools.at[p, 'pool']},week={w}]")
        up, down = cap.vendor_ramp_up_share * row["max_weekly_hours"], cap.vendor_ramp_down_share * row["max_weekly_hours"]
        for w in range(d.weeks):
            hours = vendor_hours(b, v, w)
            previous = vendor_hours(b, v, w - 1) if w else row["opening_hours"]
            key = f"vendor={row['vendor']},week={w}"
            m.add_linear_constraint(hours <= row["max_weekly_hours"], name=f"vendor_max_hours[{key}]")
            m.add_linear_constraint(hours - previous <= up, name=f"vendor_ramp_up[{key}]")
            m.add_linear_constraint(previous - hours <= down, name=f"vendor_ramp_down[{key}]")
            if w < cap.vendor_notice_weeks:
                m.add_linear_constraint(hours >= row["opening_hours"], name=f"vendor_notice[{key}]")
            if row["min_weekly_hours"] > 0:
                b.commit_short[v, w] = m.add_variable(lb=0.0, name=f"commit_short[{key}]")
                m.add_linear_constraint(hours + b.commit_short[v, w] >= row["min_weekly_hours"], name=f"vendor_min_hours[{key}]")
                terms.append(row["rate"] * b.commit_short[v, w])
    return terms


def add_alloc(b: CapacityModel) -> list:
    """Allocation variables on skilled cells with work; returns the tie-break terms."""
    d, terms = b.data, []
    for p in range(len(d.pools)):
        prof, pool = d.proficiency[p], d.pool_names[p]
        for c in d.skills[p]:
            cell = d.cell_names[c]
            for w in np.flatnonzero(d.required[c] > 0):
                b.alloc[p, c, int(w)] = b.model.add_variable(lb=0.0, name=f"alloc[pool={pool},cell={cell},week={w}]")
                terms.append(TIE_BREAK * prof * b.alloc[p, c, int(w)])
    return terms


def add_coverage(b: CapacityModel) -> list:
    mo, d, terms = _mo(), b.data, []
    servers = {c: [p for p in range(len(d.pools)) if c in d.skills[p]] for c in range(len(d.cells))}
    penalty = [float(x) for x in d.cells["penalty"]]
    for c in range(len(d.cells)):
        cell = d.cell_names[c]
        for w in np.flatnonzero(d.required[c] > 0):
            w = int(w)
            b.short[c, w] = b.model.add_variable(lb=0.0, name=f"short[cell={cell},week={w}]")
            terms.append(penalty[c] * b.short[c, w])
            cover = mo.fast_sum((1.0 / d.proficiency[p]) * b.alloc[p, c, w] for p in servers[c])
            b.model.add_linear_constraint(cover + b.short[c, w] >= float(d.required[c, w]), name=f"coverage[cell={cell},week={w}]")
    return terms


def add_hiring_limits(b: CapacityModel) -> list:
    mo, d = _mo(), b.data
    months = d.month_of_week()
    groups: dict = {}
    for (p, c), var in b.hire.items():
        groups.setdefault((d.pools.at[p, "site"], months[c]), []).append(var)
    for (site, month), hires in sorted(groups.items()):
        b.model.add_linear_constraint(mo.fast_sum(hires) <= hire_limit(d, site), name=f"hiring_limit[site={site},month={month}]")
    if d.config.min_class_size > 1:
        for (p, c), var in b.hire.items():
            is_open = b.model.add_binary_variable(name=f"open[pool={d.pools.at[p, 'pool']},week={c}]")
            b.model.add_linear_constraint(var - d.config.min_class_size * is_open >= 0)
            b.model.add_linear_constraint(var - var.upper_bound * is_open <= 0)
    return []


def build(d: CapacityData) -> CapacityModel:
    """The whole model: allocation first (the capacity rows refer to it), then every family."""
    mo = _mo()
    b = CapacityModel(model=mo.Model(name="capplan-capacity"), data=d)
    b.terms["tie_break"] = add_alloc(b)
    b.terms["transfers"] = add_transfers(b)
    b.terms["inhouse"] = add_inhouse(b)
    b.terms["roster_floor"] = add_roster_floor(b)
    b.terms["vendors"] = add_vendors(b)
    b.terms["shortfall"] = add_coverage(b)
    b.terms["hiring_limits"] = add_hiring_limits(b)
    b.terms["language_share"] = add_language_share(b)
    b.model.minimize(mo.fast_sum(t for terms in b.terms.values() for t in terms) + b.constant)
    return b


@dataclass
class CapacitySolve:
    status: str
    values: dict
    objective: float
    bound: float
    gap: float
    seconds: float
    variables: int
    integers: int
    constraints: int


def solve(b: CapacityModel, solver_config) -> CapacitySolve:
    """Solve the MIP with HiGHS; a run without a plan is a :class:`capplan.errors.SolverError`."""
    mo = _mo()
    params = mo.SolveParameters(time_limit=_timedelta(solver_config.time_limit_s), relative_gap_tolerance=float(solver_config.relative_gap),
                                random_seed=int(solver_config.seed))
    started = time.perf_counter()
    try:
        result = mo.solve(b.model, mo.SolverType.HIGHS, params=params)
    except (AttributeError, RuntimeError, ValueError) as exc:  # MathOpt hides StatusNotOk (or-tools #4606)
        raise SolverError(f"HiGHS failed on the capacity model ({b.model.get_num_variables()} variables): {exc!r}") from None
    seconds = time.perf_counter() - started
    reason = result.termination.reason
    TR = mo.TerminationReason
    if reason not in (TR.OPTIMAL, TR.FEASIBLE) or not result.has_primal_feasible_solution():
        raise SolverError(f"HiGHS found no capacity plan in {seconds:.1f} s ({reason.name}); the model has priced slack and is "
                          f"always feasible, so the time limit is too short. Fix: raise [solver] time_limit_s (now {solver_config.time_limit_s})")
    objective = float(result.objective_value())
    bound = float(result.best_objective_bound())
    bound = bound if np.isfinite(bound) else objective
    gap = max(objective - bound, 0.0) / max(abs(objective), 1e-9)
    if reason == TR.OPTIMAL:
        status = "optimal"
    else:
        status = "time_limit_feasible" if result.termination.limit == mo.Limit.TIME else "feasible"
    integers = len(b.hire) + len(b.xfer) + (len(b.hire) if b.data.config.min_class_size > 1 else 0)
    return CapacitySolve(status, result.variable_values(), objective, bound, gap, seconds,
                         b.model.get_num_variables(), integers, b.model.get_num_linear_constraints())


def _timedelta(seconds: float):
    import datetime as dt

    return dt.timedelta(seconds=float(seconds))
