"""Prices of the two binding limits that are rules of the shift patterns and skills, not LP rows.

``binding.csv`` prices a limit from the LP relaxation's dual of its row (:func:`capplan.optimize.extract.shadow_prices`).
Two limits have no row: the overtime cap (``[contracts] overtime_max_hours_per_week`` decides which overtime patterns
exist, :func:`capplan.optimize.data.contract_patterns`) and the quality floor (``[policy] severe_graphic_min_quality``
decides which pools are skilled on severe graphic cells, :func:`capplan.optimize.data.severe_graphic_allowed`). Each
is priced here as a planner would (re-plan with the limit moved), done by the tool: the LP relaxation (the model
whose optimum is the plan's ``bound``, staffing and ``open`` pairs continuous) is solved again with the limit moved
one step, and

    saving [currency / week] = (relaxation cost before - relaxation cost after) / weeks

a finite difference of the relaxation, not of the integer plan (whose cost moves in whole moderators and carries
the rounding's gap). The relaxation's objective includes the tie-breaker (0.001 per productive hour), as the bound does.

Steps
-----
* ``overtime_cap`` (a row per pool with employees on overtime): the cap raised, for that pool only, to the next
  value at which an overtime pattern appears that the current cap does not allow (overtime is one extra shift whose
  hours above the contract fit the cap, within ``max_consecutive_days`` and ``min_rest_hours``); the price is per
  extra overtime hour per employee, ``saving / (cap' - cap)``. When no higher cap admits a pattern the saving is
  exactly 0 with no re-solve: those rules, not the cap, hold the pool's overtime.
* ``quality_floor`` (a row per severity with pools kept off): that severity's floor lowered to the quality of the
  best pool it keeps off (the next pool below it), admitting every pool of that quality on its cells of that
  severity; the price is the saving of that step.

Cost: first the relaxation's own duals (the plan's, no solve): a step only relaxes a limit (it adds shift patterns or
skills, so every plan of the relaxation before is one after, and the cost after is at most the cost before), and
by weak duality the cost after is at least the Lagrangian bound of the moved model at those duals
(:func:`dual_bound`). When the bound is within the noise (``_NOISE`` of the objective) of the cost before, the
step saves nothing and no relaxation is solved: a proof that the finite difference is 0, not a first-order
estimate. A floor step that admits a second provider on a critical language also caps both providers' shares
(``[policy] critical_languages``): it adds a limit, the cost after may be higher, and it is always re-solved. On the default demo the new overtime patterns price out at a reduced cost of 0 (a tie): one model build
and the bound, 2.9 s CPU, against 14.8 s for the re-solve. Otherwise the moved model's relaxation is solved from
scratch (HiGHS interior point, as the bound is), the reference method, in row order and only in the time left of
the solve's ``time_limit_s``: 13-17 s CPU a limit on the default demo with a 0.92 floor
(``bench/results/rule_prices_warm.json``). The bound needs the duals of the relaxation whose cost is ``before``;
without them (``backend = "scip"`` solves no relaxation) the relaxation is solved here with its duals. A limit not
priced says why in its ``shadow_unit``, with a NaN price.

Measured and not adopted (same bench): GLOP's primal simplex started from the base relaxation's optimal basis (new
columns nonbasic at 0, new rows basic; ``ModelSolveParameters(initial_basis=...)``) gives the same prices (to 2e-7
of the price) but needs a vertex: HiGHS crossover costs 25-31 s CPU once (barrier alone 11-13), then GLOP took 7.1 s
CPU (0 iterations) and 7.5 s (885) for the overtime steps, 24-26 s (12,000-13,000 iterations, 650-1,200 new rows)
for the quality floor steps, against 13-17 s for the cold re-solve: not cheaper in total in any case measured (the small demo's five
limits with a 0.92 floor: 2.4 + 7.2 s against 9.7). The reduced costs of
the new columns alone (the first-order rate) are a slope per unit of one pattern's staffing or one pair's hours,
not the saving of the step (which moves many columns at once and stops where other limits bind): they enter only
through the bound above, which is an exact statement when it meets the cost before and no statement otherwise.

References
----------
Bertsimas and Tsitsiklis, Introduction to Linear Optimization, 1997, section 5.2: a dual is the slope of the optimal
cost in a row's right-hand side; a rule that adds columns (patterns, skills) has no row, so the difference is measured;
section 4.3 (weak duality): any dual vector's Lagrangian bound is at most the optimal cost; section 4.4 (a column
added with a non-negative reduced cost leaves the optimum unchanged).
"""

from __future__ import annotations

import dataclasses
import time
import types
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capplan.errors import SolverError
from capplan.optimize.data import (
    PlanData,
    _group_patterns,
    _language_caps,
    _shift_patterns,
    terminal_price,
)
from capplan.optimize.model import Built, build, mathopt
from capplan.optimize.solve import CROSSOVER, LpSolution, _lp, dual_unit
from capplan.schema import LANGUAGE, POOL, QUEUE

RULE_KINDS = ("overtime_cap", "quality_floor")
_NOISE = 1e-7  # a saving below this share of the objective is the interior-point solver's tolerance: 0
_DUAL_TOL = 1e-7  # [model money per model unit] a reduced cost or dual this close to 0 counts as 0 (HiGHS's default
# dual feasibility tolerance: the barrier's duals are feasible to about this)
METHODS = ("dual_bound", "re_solve")  # how a step's saving was found (solve.json's rule_prices records)


@dataclass
class Step:
    """One limit moved one step: the plan data with it moved, the step's size in the price's unit, and words."""

    kind: str
    name: str
    data: PlanData | None  # None: the step admits nothing, the saving is 0 without a re-solve
    size: float  # [h of cap per employee] for the overtime cap; 1 for a floor step
    what: str  # the step in words, for the unit
    relaxes: bool = True  # every plan before is one after at no higher cost (only columns added, no cost raised):
    # False when the step also adds a limit (a language share cap), and then the duals' bound proves nothing


def severity_name(severity: int) -> str:
    """binding.csv's name of a quality floor row."""
    return f"severity {int(severity)}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# --- the steps ----------------------------------------------------------------------------------
def _hourly_patterns(d: PlanData, p: int) -> list:
    """Pool p's hourly patterns (one per shift and start day), from which its contract and overtime patterns are made."""
    _, patterns = _shift_patterns(types.SimpleNamespace(shifts=d.shifts), d.pools.loc[[p]], d.plan_dates, d.start, d.T, d.h)
    return patterns


def overtime_step(d: PlanData, p: int) -> Step:
    """Pool p's overtime cap raised to the next value that admits an overtime pattern it has not got (see module)."""
    c = d.config.contracts
    cap, n_consec = float(c.overtime_max_hours_per_week), int(c.max_consecutive_days)
    pool = d.pools.at[p, POOL]
    mine = _hourly_patterns(d, p)
    groups = [(int(g), float(row["weekly_hours"])) for g, row in d.groups.iterrows() if int(row["pool_index"]) == p]
    shrinkage = float(d.pools.at[p, "shrinkage"])
    have = {(q.group, q.shift, q.start_day, q.days_per_week) for q in d.patterns if q.pool == p and q.group >= 0}
    needs = set()  # overtime hours of one more shift, per (group, shift): the caps at which a pattern appears
    for _, hours in groups:
        for q in mine:
            k = min(int(np.floor(hours / q.paid_hours + 1e-9)), q.days_per_week, n_consec, 7)
            if k >= 1 and k + 1 <= min(n_consec, 7) and (k + 1) * q.paid_hours - hours > cap + 1e-9:
                needs.add(round((k + 1) * q.paid_hours - hours, 9))
    for new_cap in sorted(needs):
        moved = c.model_copy(update={"overtime_max_hours_per_week": new_cap})
        new = [q for g, hours in groups for q in _group_patterns(moved, mine, d.occurrences, g, hours, d.weeks, n_consec, shrinkage)
               if (q.group, q.shift, q.start_day, q.days_per_week) not in have]
        if new:
            shifts = ", ".join(sorted({q.shift for q in new}))
            what = f"cap {cap:g} -> {new_cap:g} h for {pool}, the next cap that admits a pattern ({_count(len(new), 'overtime pattern')} on {shifts})"
            return Step("overtime_cap", pool, dataclasses.replace(d, patterns=list(d.patterns) + new), new_cap - cap, what)
    what = (f"no higher overtime_max_hours_per_week admits a pattern for {pool} (overtime is one extra shift a week, within "
            f"max_consecutive_days {n_consec} and min_rest_hours {float(c.min_rest_hours):g}): those rules hold its overtime, not the cap")
    return Step("overtime_cap", pool, None, 1.0, what)


def quality_step(d: PlanData, severity: int) -> Step:
    """The floor of one severity lowered to admit the best pools it keeps off that severity's cells (see module)."""
    floor = float(d.config.policy.severe_graphic_min_quality)
    pairs = [(p, c) for p, c in d.excluded if int(d.cells.at[c, "severity"]) == severity]
    quality = {p: float(d.pools.at[p, "quality"]) for p, _ in pairs}
    best = max(quality.values())
    admitted = sorted((p, c) for p, c in pairs if quality[p] >= best - 1e-12)
    skills = sorted(set(d.skills) | set(admitted))
    caps = _language_caps(d.config.policy, d.cells, d.pools, d.vendors, skills)
    moved = dataclasses.replace(d, skills=skills, excluded=sorted(set(d.excluded) - set(admitted)), language_caps=caps)
    # a second provider on a critical language caps both providers' shares: a new limit, not only new columns
    relaxes = all(key in d.language_caps and cap >= d.language_caps[key] for key, cap in caps.items())
    moved.terminal_price = terminal_price(moved)  # a terminal week values its end backlog at the cheapest skilled hour
    pools = ", ".join(sorted({d.pools.at[p, POOL] for p, _ in admitted}))
    cells = sorted({c for _, c in admitted})
    what = (f"severity {severity} floor {floor:g} -> {best:g}: admitting {pools} on {_count(len(cells), 'cell')} "
            f"({', '.join(f'{d.cells.at[c, QUEUE]}/{d.cells.at[c, LANGUAGE]}' for c in cells)})")
    return Step("quality_floor", severity_name(severity), moved, 1.0, what, relaxes)


def steps_for(d: PlanData, binding: pd.DataFrame) -> list[Step]:
    """The step of every overtime_cap and quality_floor row of ``binding``, in row order."""
    pools = {name: i for i, name in enumerate(d.pools[POOL])}
    severities = {severity_name(int(d.cells.at[c, "severity"])): int(d.cells.at[c, "severity"]) for _, c in d.excluded}
    out = []
    for kind, name in zip(binding["kind"], binding["name"]):
        if kind == "overtime_cap" and name in pools:
            out.append(overtime_step(d, pools[name]))
        elif kind == "quality_floor" and name in severities:
            out.append(quality_step(d, severities[name]))
    return out


# --- solving ------------------------------------------------------------------------------------
def relaxed_model(d: PlanData) -> Built:
    """The model of ``d`` with staffing and ``open`` pairs continuous: the relaxation whose optimum is the bound."""
    b = build(d)
    for v in b.staff_vars + list(b.pair_open.values()):
        v.integer = False
    return b


def _solve_relaxation(b: Built, deadline: float, backend: str, duals: bool = False) -> LpSolution | None:
    """As :func:`capplan.optimize.solve.relax_round_fix` solves the relaxation for the bound: HiGHS interior point
    (:func:`capplan.optimize.solve._lp`, which falls back to other LP methods on failure); None past ``deadline``."""
    if time.perf_counter() >= deadline:
        return None
    return _lp(b, mathopt().SolverType.HIGHS, deadline, backend, crossover=CROSSOVER, duals=duals)


def relaxation_cost(d: PlanData, deadline: float, backend: str = "highs") -> float | None:
    """Optimal cost of the model's LP relaxation [currency over the window]; None when ``deadline`` comes first."""
    lp = _solve_relaxation(relaxed_model(d), deadline, backend)
    return None if lp is None else lp.objective


def dual_bound(b: Built, duals: dict) -> float:
    """Lagrangian lower bound of ``b``'s LP relaxation at the row duals ``duals`` [currency over the window].

    Parameters
    ----------
    duals : row name -> dual in domain units (as :func:`capplan.optimize.solve._duals` gives them, MathOpt's signs);
        a row not named has dual 0 (e.g. a row the moved model has and the solved one had not).

    With y the duals in model units and r = c - A'y the reduced costs, the bound is
    ``offset + sum_i (y_i lb_i if y_i > 0 else y_i ub_i) + sum_j (r_j l_j if r_j > 0 else r_j u_j)`` over rows i and
    columns j with their bounds (weak duality: at most the LP's optimum for any y). A y or r within ``_DUAL_TOL`` of
    0 counts as 0; one of the wrong sign against an infinite bound makes the bound -inf (no statement).
    """
    proto = b.model.export_model()
    if proto.objective.maximize:
        raise ValueError("dual_bound: the plan's model minimizes")
    V, C, A = proto.variables, proto.linear_constraints, proto.linear_constraint_matrix
    var_ids, row_ids = np.asarray(V.ids, dtype=np.int64), np.asarray(C.ids, dtype=np.int64)
    c = np.zeros(len(var_ids))
    c[np.searchsorted(var_ids, np.asarray(proto.objective.linear_coefficients.ids, dtype=np.int64))] = \
        np.asarray(proto.objective.linear_coefficients.values)
    y = np.array([duals.get(name, 0.0) / dual_unit(b, name) for name in C.names])
    rows = np.searchsorted(row_ids, np.asarray(A.row_ids, dtype=np.int64))
    cols = np.searchsorted(var_ids, np.asarray(A.column_ids, dtype=np.int64))
    r = c - np.bincount(cols, weights=np.asarray(A.coefficients) * y[rows], minlength=len(var_ids))

    def terms(z: np.ndarray, lower, upper) -> float:
        z = np.where(np.abs(z) <= _DUAL_TOL, 0.0, z)
        lower, upper = np.asarray(lower), np.asarray(upper)
        if np.any((z > 0) & ~np.isfinite(lower)) or np.any((z < 0) & ~np.isfinite(upper)):
            return -np.inf
        return float(np.sum(np.where(z > 0, z * np.where(np.isfinite(lower), lower, 0.0), 0.0))
                     + np.sum(np.where(z < 0, z * np.where(np.isfinite(upper), upper, 0.0), 0.0)))

    return (proto.objective.offset + terms(r, V.lower_bounds, V.upper_bounds) + terms(y, C.lower_bounds, C.upper_bounds)) * b.scale.money


def _unit(cur: str, step: Step, saving: float, method: str) -> str:
    how = ("the LP relaxation's duals prove the step saves nothing" if method == "dual_bound" else "LP relaxation re-solved")
    if step.kind == "overtime_cap":
        return f"{cur}/week per extra overtime hour per employee ({step.what}; {how}: {saving:,.0f} {cur}/week for the step)"
    return f"{cur}/week per quality floor step of {step.name} ({step.what}; {how})"


def _zero(saving: float, before: float) -> float:
    return 0.0 if abs(saving) <= _NOISE * max(abs(before), 1.0) else saving


def price_rules(d: PlanData, binding: pd.DataFrame, solver_config, *, before: float | None, deadline: float,
                duals: dict | None = None, certify: bool = True) -> tuple[dict, list[dict]]:
    """Prices of the overtime_cap and quality_floor rows of ``binding``: the relaxation's saving of each step (see module).

    Parameters
    ----------
    before : the relaxation's cost with the limits where they are [currency over the window] (the solve's
        ``relaxation_objective``); None to solve it here (with its duals).
    deadline : ``time.perf_counter()`` value after which no re-solve starts or continues.
    duals : the duals of that relaxation by row name, domain units (the solve's ``duals``); None or empty: every step
        is re-solved (e.g. ``backend = "scip"``, which solves no relaxation).
    certify : False re-solves every step (the reference method; ``bench/rule_prices.py`` compares both).

    Returns
    -------
    ``{(kind, name): (price [currency / week per unit], unit)}`` for every such row (NaN and the reason when not
    priced), and one record per step priced for ``solve.json`` (step, method, costs before and after, the dual bound
    when computed, saving, seconds).
    """
    rows = binding[binding["kind"].isin(RULE_KINDS)]
    if not len(rows):
        return {}, []
    cur = d.config.policy.currency
    keys = list(zip(rows["kind"], rows["name"]))
    if not solver_config.price_rules:
        why = "not priced: [solver] price_rules = false; set [solver] price_rules = true to price the overtime cap and quality floors"
        return {k: (float("nan"), why) for k in keys}, []
    out: dict[tuple[str, str], tuple[float, str]] = {}
    records = []
    duals = duals if certify else None
    for step in steps_for(d, rows):
        key = (step.kind, step.name)
        if step.data is None:
            out[key] = (0.0, f"{cur}/week: 0, {step.what}")
            continue
        started, cpu = time.perf_counter(), time.process_time()
        bound, method = None, "re_solve"
        try:
            if before is None:
                base = _solve_relaxation(relaxed_model(d), deadline, solver_config.backend, duals=certify)
                if base is None:
                    out[key] = (float("nan"), _late(solver_config, step))
                    continue
                before, duals = base.objective, (base.duals if certify else None)
            moved = relaxed_model(step.data)
            if duals and step.relaxes:
                bound = dual_bound(moved, duals)
            if bound is not None and _zero(before - bound, before) == 0.0:
                after, method = before, "dual_bound"
            else:
                lp = _solve_relaxation(moved, deadline, solver_config.backend)
                after = None if lp is None else lp.objective
        except SolverError as exc:
            out[key] = (float("nan"), f"not priced: the re-solve failed ({exc})")
            continue
        if after is None:
            out[key] = (float("nan"), _late(solver_config, step))
            continue
        weekly = _zero(before - after, before) / d.weeks
        out[key] = (weekly / step.size, _unit(cur, step, weekly, method))
        records.append({"kind": step.kind, "name": step.name, "step": step.what, "method": method, "relaxation_before": before,
                        "relaxation_after": None if method == "dual_bound" else after,
                        "dual_bound": bound if bound is not None and np.isfinite(bound) else None,  # None: not computed or -inf
                        "saving_per_week": weekly, "price": weekly / step.size, "seconds": time.perf_counter() - started,
                        "cpu_seconds": time.process_time() - cpu})
    for key in keys:
        out.setdefault(key, (float("nan"), "not priced: the limit moved one step admits nothing this plan's data can price"))
    return out, records


def _late(solver_config, step: Step) -> str:
    return f"not priced: no time left of [solver] time_limit_s {float(solver_config.time_limit_s):g} for the re-solve ({step.what})"


def with_prices(binding: pd.DataFrame, prices: dict) -> pd.DataFrame:
    """``binding`` with the rows in ``prices`` re-priced (cents, as :func:`capplan.optimize.extract.binding_table`)."""
    if not prices:
        return binding
    out = binding.copy()
    for i, (kind, name) in enumerate(zip(out["kind"], out["name"])):
        if (kind, name) in prices:
            price, unit = prices[(kind, name)]
            out.iloc[i, out.columns.get_loc("shadow_price")] = round(float(price), 2)
            out.iloc[i, out.columns.get_loc("shadow_unit")] = unit
    return out


__all__ = ["price_rules", "with_prices", "relaxation_cost", "relaxed_model", "dual_bound", "overtime_step", "quality_step",
           "RULE_KINDS", "METHODS"]
