"""Solving the shift-plan model: the strategies, each phase returning a named result.

HiGHS (default) runs **relax-round-fix** first: the LP relaxation (barrier, no crossover) gives a proven
lower bound; the staffing is rounded (:func:`~capplan.optimize.rounding.round_staff` to nearest, then at
0.4, then :func:`~capplan.optimize.rounding.cover_staff`, stopping at the first within the gap); an LP with
the staffing fixed re-optimizes the allocation; :func:`~capplan.optimize.rounding.trim_staff` removes
moderators nobody uses. The gap to the relaxation bound is proven; the status is ``optimal`` when it is
within ``relative_gap`` (the same meaning as a MIP solver's stop rule). Small models (tests, at most
:data:`SMALL_MODEL_VARIABLES` variables) try only the nearest rounding, then :func:`restricted_mip` (the
HiGHS MIP with every pattern boxed to [floor, ceil] of the relaxation) and the full MIP only if still above
the gap. SCIP (``backend = "scip"``) runs the MIP directly.

Why this strategy and what each choice measured: ``bench/results/plan_history.md``.

Every phase returns a dataclass (:class:`Candidate`, :class:`MipOutcome`, :class:`RoundFixResult`), and
:func:`solve` a :class:`Solved` holding a :class:`SolverReport` (status, objective, bound, gap, seconds).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import numpy as np

from capplan.errors import ConfigError, SolverError, SolverTimeout
from capplan.optimize.model import Built, highest_penalty, mathopt, unscale
from capplan.optimize.result import SolveStatus
from capplan.optimize.rounding import cover_staff, pool_thresholds, round_staff, trim_staff
from capplan.schema import POOL

CROSSOVER = False  # crossover doubled the default relaxation (28.7 s vs 14.2 s); nearest rounding needs no vertex
SMALL_MODEL_VARIABLES = 20_000  # below this, the exact MIP runs whenever the heuristic misses the gap
ROUNDINGS = (0.5, 0.4, "cover")  # tried in this order until the gap is met (bench/results/plan_history.md)
# with [contracts] min_pair_weekly_hours: each pool to the ceiling of its relaxed headcount first (rounding.pool_thresholds;
# 3x demo at 8 h: first fixed LP 0.43 % above the bound, against 1.24 % at 0.5 then 0.95 % at 0.4); bench/results/plan_slivers.md
SLIVER_ROUNDINGS = ("pool", 0.4, "cover")
BACKENDS = ("highs", "scip")
_EPS = 1e-9


@dataclass
class Candidate:
    """A plan found by one phase: solver values, objective and the best proven lower bound [currency]."""

    status: SolveStatus
    values: dict  # MathOpt variable -> value
    objective: float
    bound: float


@dataclass
class LpSolution:
    """An LP solved to optimality: values in domain units and the objective [currency]."""

    values: dict
    objective: float
    algorithm: str  # the rung of :data:`LP_LADDER` that solved it
    duals: dict = field(default_factory=dict)  # constraint name -> dual value in domain units (see :func:`_duals`)


@dataclass
class MipOutcome:
    """What a MIP solve gave: a candidate (None when no plan), the solver's termination reason and, without a
    plan, whether the time limit stopped it and the best proven bound it had [currency] (NaN when none)."""

    candidate: Candidate | None
    reason: object = None  # mathopt.TerminationReason
    timed_out: bool = False
    bound: float = float("nan")


@dataclass
class RoundFixResult:
    """Relax-round-fix: the best rounded plan, the relaxation bound, per-phase figures and the relaxed staffing."""

    values: dict
    objective: float
    bound: float
    phases: dict
    relaxed_staff: np.ndarray  # moderators per pattern in the LP relaxation (fractional)
    duals: dict = field(default_factory=dict)  # the relaxation's duals (see :func:`_duals`)


@dataclass
class RelaxedStaff:
    """The LP relaxation's staffing, kept when the rounded plan's LP runs out of time (the fallback rounds it again)."""

    staff: np.ndarray  # moderators per pattern in the relaxation (fractional)
    values: dict  # the relaxation's values (MathOpt variable -> value), the ones rounded
    closed: list = field(default_factory=list)  # (pool, cell) pairs closed before rounding (:func:`_lift_or_close`)
    duals: dict = field(default_factory=dict)  # the first relaxation's duals (:func:`_duals`): binding.csv's prices


@dataclass
class SolverReport:
    """The solver outcome as reported in ``solve.json``."""

    status: SolveStatus
    objective: float  # [currency], includes the tie-breaker
    bound: float  # proven lower bound [currency]
    gap: float  # (objective - bound) / |objective|
    seconds: float


@dataclass
class Solved:
    """The solved model: report, values of every variable, how they were found."""

    report: SolverReport
    values: dict  # MathOpt variable -> value
    solver: str
    method: str = "mip"  # "mip" | "relax_round_fix" | "restricted_mip"
    phases: dict = field(default_factory=dict)  # phase -> seconds / objective
    duals: dict = field(default_factory=dict)  # LP relaxation duals by constraint name (empty without a relaxation)

    @property
    def status(self) -> SolveStatus:
        return self.report.status

    @property
    def objective(self) -> float:
        return self.report.objective

    @property
    def bound(self) -> float:
        return self.report.bound

    @property
    def gap(self) -> float:
        return self.report.gap

    @property
    def seconds(self) -> float:
        return self.report.seconds


# --- solver calls -------------------------------------------------------------------------------
LP_LADDER = ("barrier", "barrier+crossover", "dual_simplex")  # tried in order when HiGHS fails on a badly scaled LP


class _SolverFailed(Exception):
    """MathOpt raised: the solver's own message (or-tools #4606 hides it behind an AttributeError)."""


def _call(mo, model, solver_type, params):
    try:
        return mo.solve(model, solver_type, params=params)
    except (AttributeError, RuntimeError, ValueError) as exc:  # MathOpt hides StatusNotOk (or-tools #4606)
        inner = exc.__context__ if isinstance(exc, AttributeError) and exc.__context__ is not None else exc
        raise _SolverFailed(str(inner)) from None


def _failure(b: Built, backend: str, what: str, messages: list[str]) -> SolverError:
    """A SolverError with the solver's messages and the data's ranges, for a bug report."""
    d = b.data
    rates = d.pools["rate"].to_numpy(float) if len(d.pools) else np.zeros(1)
    penalties = d.cells["penalty"].to_numpy(float) if len(d.cells) else np.zeros(1)
    demand = np.concatenate([d.need_hours.ravel(), d.workload.ravel()])
    demand = demand[demand > 0]
    return SolverError(
        f"the {backend} solver failed on the {what} ({b.model.get_num_variables()} variables, {b.model.get_num_linear_constraints()} "
        f"constraints): {'; '.join(messages)}. Data ranges: pool rates {rates.min():.3g}-{rates.max():.3g}, penalties "
        f"{penalties.min():.3g}-{penalties.max():.3g} {d.config.policy.currency}/h, demand per cell-interval "
        f"{(demand.min() if len(demand) else 0):.3g}-{(demand.max() if len(demand) else 0):.3g} h; model units "
        f"{b.scale.money:g} {d.config.policy.currency} and {b.scale.hours:g} h. Fix: check those inputs for a unit error "
        f"(e.g. cents for dollars); if they are right, try [solver] backend = \"scip\" and report the bug")


def _mip(b: Built, solver_config, solver_type, time_limit: float, highs=None) -> MipOutcome:
    """The model as a MIP within ``time_limit`` seconds and the configured relative gap.

    With HiGHS options (the restricted MIP's interior-point root) a solver failure is retried once
    with HiGHS's defaults.
    """
    mo = mathopt()
    messages = []
    for options in ([highs, None] if highs is not None else [None]):
        extra = {"highs": options} if options is not None else {}
        params = mo.SolveParameters(time_limit=_timedelta(max(time_limit, 0.1)), relative_gap_tolerance=float(solver_config.relative_gap),
                                    random_seed=int(solver_config.seed), **extra)
        try:
            result = _call(mo, b.model, solver_type, params)
            break
        except _SolverFailed as exc:
            messages.append(str(exc))
    else:
        raise _failure(b, solver_config.backend, "MIP", messages)
    TR = mo.TerminationReason
    reason = result.termination.reason
    if reason == TR.OPTIMAL:
        status = SolveStatus.OPTIMAL
    elif reason == TR.FEASIBLE and result.has_primal_feasible_solution():
        status = SolveStatus.TIME_LIMIT_FEASIBLE if result.termination.limit == mo.Limit.TIME else SolveStatus.FEASIBLE
    else:  # no plan: out of time is a fallback (solve_plan), any other reason (e.g. infeasible: a bug, slack is priced) an error
        timed_out = reason == TR.NO_SOLUTION_FOUND  # stopped by a limit without a plan; time is the only limit set
        bound = float(result.termination.objective_bounds.dual_bound) * b.scale.money if timed_out else float("nan")
        return MipOutcome(None, reason, timed_out, bound if np.isfinite(bound) else float("nan"))
    objective = float(result.objective_value()) * b.scale.money
    bound = float(result.best_objective_bound()) * b.scale.money
    if not np.isfinite(bound):
        bound = objective if status == SolveStatus.OPTIMAL else float("nan")
    return MipOutcome(Candidate(status, unscale(b, result.variable_values()), objective, bound), reason)


def _lp_params(mo, rung: str, time_limit: float, crossover: bool):
    from ortools.math_opt.solvers import highs_pb2

    limit = _timedelta(max(time_limit, 0.1))
    if rung == "dual_simplex":
        return mo.SolveParameters(time_limit=limit, lp_algorithm=mo.LPAlgorithm.DUAL_SIMPLEX)
    options = highs_pb2.HighsOptionsProto()
    options.string_options["run_crossover"] = "on" if crossover or rung == "barrier+crossover" else "off"
    return mo.SolveParameters(time_limit=limit, lp_algorithm=mo.LPAlgorithm.BARRIER, highs=options)


_STAFF_ROWS = ("headcount[", "vendor_max[", "vendor_min[", "vendor_notice_max[", "vendor_notice_min[", "roster[")


def dual_unit(b: Built, name: str) -> float:
    """Domain units of one model unit of the dual of row ``name`` [currency per moderator, weekly paid hour or hour].

    Rows in model hours (all but headcount, roster and vendor rows) are rescaled by ``money / hours``, the others by
    ``money``: a dual in domain units is the model's dual times this.
    """
    return b.scale.money / (1.0 if name.startswith(_STAFF_ROWS) else b.scale.hours)


# the row families binding.csv prices from their duals (capplan.optimize.extract.shadow_prices): an exact zero dual of
# one of them is kept, so that a binding limit that saves nothing at the margin reads 0, not "no price"
PRICED_ROWS = _STAFF_ROWS + ("exposure_share[", "exposure_daily[", "language_share[", "vendor_share[", "pair_min[", "vendor_change_cap[")


def _duals(b: Built, result) -> dict:
    """Constraint name -> dual value in domain units [currency per unit of the row: moderator, weekly paid hour or hour].

    Model duals times :func:`dual_unit`; the sign is MathOpt's (for a minimization, a binding ``<=`` row has a dual <= 0).
    Rows sharing a name are summed: in the two-stage scenario model (:mod:`capplan.optimize.stochastic`) a scenario's
    allocation row exists once per scenario, and the sum is the slope of the objective in that limit moved in every one.
    Exact zeros are left out except on the rows of :data:`PRICED_ROWS` (a few per pool, vendor and interval, against
    the many coverage and allocation rows): there a 0 is a price (relaxing the limit saves nothing at the margin).

    A pool's ``max_headcount`` is also each of its patterns' own upper bound (:func:`capplan.optimize.model.add_staff`),
    so in a relaxation where one pattern holds all of a pool's moderators (always, for a pool with one pattern) the cap's
    dual can sit on that bound, the headcount row's at 0. The negative reduced costs of a pool's staff variables (at
    their upper bound) are therefore given too, summed per pool under ``headcount[pool=NAME,bound=staff]`` (no row of
    the model: :func:`capplan.optimize.rule_prices.dual_bound` reads rows by name and ignores it), in the same unit as
    the row's [currency per moderator]: the cap's price is the sum of both.
    """
    try:
        raw = result.dual_values()
    except (ValueError, RuntimeError, AttributeError):  # no dual solution (e.g. a MIP result)
        return {}
    out: dict[str, float] = {}
    for c, v in raw.items():  # rows of one name (the scenario model's per-scenario copies) are summed
        if v != 0.0 or c.name.startswith(PRICED_ROWS):
            out[c.name] = out.get(c.name, 0.0) + float(v) * dual_unit(b, c.name)
    out.update(_staff_bound_duals(b, result))
    return out


def _staff_bound_duals(b: Built, result) -> dict:
    """``headcount[pool=NAME,bound=staff]`` -> the sum of the pool's staff variables' negative reduced costs [currency
    per moderator] (see :func:`_duals`); pools with none left out."""
    try:
        reduced = result.reduced_costs(b.staff_vars)
    except (ValueError, RuntimeError, AttributeError, TypeError):
        return {}
    out: dict[str, float] = {}
    for pat, r in zip(b.data.patterns, reduced):
        if r < 0.0:
            key = f"headcount[pool={b.data.pools.at[pat.pool, POOL]},bound=staff]"
            out[key] = out.get(key, 0.0) + float(r) * b.scale.money
    return out


def _lp(b: Built, solver_type, deadline: float, backend: str, crossover: bool = False, duals: bool = False) -> LpSolution | None:
    """Solve the model as an LP (integrality relaxed by the caller) by interior point, crossover optional.

    When HiGHS fails (on badly scaled data its interior-point method can end with an unknown
    status) the next rung of :data:`LP_LADDER` is tried: barrier with crossover, then dual simplex.
    Returns None when the time runs out; a SolverError when every rung fails.
    """
    mo = mathopt()
    messages = []
    for rung in LP_LADDER[1:] if crossover else LP_LADDER:
        try:
            result = _call(mo, b.model, solver_type, _lp_params(mo, rung, deadline - time.perf_counter(), crossover))
        except _SolverFailed as exc:
            messages.append(f"{rung}: {exc}")
            continue
        reason = result.termination.reason
        if reason == mo.TerminationReason.OPTIMAL:
            values = unscale(b, result.variable_values())
            lifts = sum(price * values[b.pair_open[key]] for key, price in b.lift_price.items())  # the model's objective (_price_lift)
            return LpSolution(values, float(result.objective_value()) * b.scale.money + lifts, rung, _duals(b, result) if duals else {})
        if result.termination.limit == mo.Limit.TIME or time.perf_counter() >= deadline:
            return None
        messages.append(f"{rung}: {reason.name} {result.termination.detail}".strip())
    raise _failure(b, backend, "LP", messages)


# --- strategies ---------------------------------------------------------------------------------
def _fix_and_trim(b: Built, solver_config, deadline: float, n: np.ndarray):
    """LP with the staffing fixed to ``n``, then trimmed: (values, objective) or None when the LP did not finish."""
    fixed = _lp(b, mathopt().SolverType.HIGHS, deadline, solver_config.backend)
    if fixed is None:
        return None
    fixed = close_slivers(b, solver_config, deadline, fixed)
    values = fixed.values
    n_trim, saved_cost = trim_staff(b, values, n)
    for v, k in zip(b.staff_vars, n_trim):
        values[v] = float(k)
    return values, fixed.objective - saved_cost, int(n.sum() - n_trim.sum())


SLIVER_PASSES = 8  # most fixed LPs that close slivers after the first
# lift or close: a pair the relaxation uses at least this share of its minimum is offered a priced lift to the minimum,
# a smaller one closed (3x demo at 8 h: closing all 128 relaxed slivers left the re-solved relaxation 5.0 % above the
# bound; a hard lift (open >= 1) made it infeasible: vendors at their weekly maximum); bench/results/plan_slivers.md
LIFT_SHARE = 0.5


def _pair_hours(b: Built, values: dict, key) -> float:
    """Productive hours of a (pool, cell) pair over the window [h]."""
    return sum(values[v] for v in b.alloc[key].values())


def _slivers(b: Built, values: dict) -> list:
    """(pool, cell) pairs used below their minimum hours (:func:`capplan.optimize.model.add_pair_min_hours`)."""
    return [key for key, least in b.pair_min.items() if 1e-6 < _pair_hours(b, values, key) < least - 1e-6]


def close_slivers(b: Built, solver_config, deadline: float, fixed: LpSolution) -> LpSolution:
    """No slivers in a fixed-staff LP: close pairs used below their minimum and solve again, until none is left.

    The ``open`` binaries are relaxed in relax-round-fix, where ``min x open <= hours <= M x open`` allows
    any hours; this closes (``open = 0``, so no hours) every pair below its minimum, and with them every pair
    not in use (so the work moves to pairs in use instead of into new slivers: without that each pass opened
    20-30 new slivers on the 3x demo), and re-solves (always feasible: closing only removes options, unmet work
    is priced), at most :data:`SLIVER_PASSES` passes within the deadline; slivers still left are kept (counted
    in ``Built.slivers_left``, named by the checker), so the plan stays consistent. Finally ``open`` is 1 on
    used pairs and 0 elsewhere. The relaxation bound stays valid (it relaxes more). Pairs the relaxation
    itself uses below their minimum are lifted (priced) or closed before rounding (:func:`_lift_or_close`).
    """
    if not b.pair_open:
        return fixed
    closed, frozen = [], []
    try:
        for _ in range(SLIVER_PASSES):
            found = _slivers(b, fixed.values)
            if not found or time.perf_counter() >= deadline:
                break
            for key in found:
                b.pair_open[key].upper_bound = 0.0
                closed.append(key)
            unused = [key for key, y in b.pair_open.items() if y.upper_bound > 0 and _pair_hours(b, fixed.values, key) <= 1e-6]
            for key in unused:  # the closed pairs' work is re-routed to pairs in use, not into new slivers
                b.pair_open[key].upper_bound = 0.0
            frozen.extend(unused)
            again = _lp(b, mathopt().SolverType.HIGHS, deadline, solver_config.backend)
            if again is None:
                break
            fixed = again
    finally:
        for key in closed + frozen:
            b.pair_open[key].upper_bound = 1.0
    values = fixed.values
    b.slivers_left = len(_slivers(b, values))  # only when out of passes or time: the checker names them
    for key, y in b.pair_open.items():
        values[y] = 1.0 if sum(values[v] for v in b.alloc[key].values()) > 1e-6 else 0.0
    b.slivers_closed = len(closed)
    return LpSolution(values, fixed.objective, fixed.algorithm, fixed.duals)


def _lift_or_close(b: Built, relaxed_values: dict) -> tuple[list, list]:
    """The relaxation's slivers: those at :data:`LIFT_SHARE` of their minimum or more get a priced lift
    (:func:`_price_lift`), the rest are closed (``open`` upper bound 0). Returns (lifted, closed)."""
    lifted, closed = [], []
    for key in _slivers(b, relaxed_values):
        if _pair_hours(b, relaxed_values, key) >= LIFT_SHARE * b.pair_min[key]:
            _price_lift(b, key)
            lifted.append(key)
        else:
            b.pair_open[key].upper_bound = 0.0
            closed.append(key)
    return lifted, closed


def _price_lift(b: Built, key) -> None:
    """A lift as a price, not a bound: ``open`` earns ``P x m_pc`` [currency], ``P`` the highest unmet penalty per
    hour, so the LP works the pair up to its minimum ``m_pc`` (``alloc >= m_pc x open``) whenever an hour there costs
    less than unmet work, and stops short (a sliver, closed afterwards) where a hard limit (a vendor's weekly maximum,
    a language share) forbids it; a bound ``open >= 1`` made the 3x demo's re-solve infeasible. :func:`_lp` adds the
    earning back, so every objective stays the model's."""
    b.lift_price[key] = highest_penalty(b.data.config) * b.pair_min[key]
    b.model.objective.set_linear_coefficient(b.pair_open[key], -b.lift_price[key] / b.scale.money)


def roundings_for(b: Built) -> tuple:
    """The roundings relax-round-fix tries, in order: :data:`SLIVER_ROUNDINGS` with a pair minimum, else :data:`ROUNDINGS`."""
    return SLIVER_ROUNDINGS if b.pair_min else ROUNDINGS


def _rounded(b: Built, rounding, x: np.ndarray, relaxed_values: dict, lifted: list = ()) -> np.ndarray:
    """One rounding of the relaxed staffing ``x``: ``"cover"`` (:func:`cover_staff`), ``"pool"`` (each pool to the
    ceiling of its relaxed headcount, :func:`pool_thresholds`) or a threshold (:func:`round_staff`, :func:`_thresholds`)."""
    if rounding == "cover":
        return cover_staff(b, relaxed_values, x)
    if rounding == "pool":
        return round_staff(b.data, x, pool_thresholds(b.data, x))
    return round_staff(b.data, x, _thresholds(b.data, float(rounding), list(lifted)))


def _thresholds(d, threshold: float, lifted: list) -> np.ndarray:
    """Per-pattern rounding thresholds: any fraction of a pool with a lifted pair rounds up (its lift needs the
    staff; :func:`trim_staff` removes who the fixed LP leaves idle), ``threshold`` elsewhere."""
    pools = {p for p, _ in lifted}
    return np.array([1e-6 if pat.pool in pools else threshold for pat in d.patterns])


def _clear_lifts(b: Built) -> None:
    """End the lifts of relax-round-fix: ``open`` earns nothing again (the MIP phase and later solves never see a price)."""
    for key in b.lift_price:
        b.model.objective.set_linear_coefficient(b.pair_open[key], 0.0)
    b.lift_price.clear()


def _lift_or_close_relaxed(b: Built, relaxed_values: dict, phases: dict) -> list:
    """Lift or close the relaxation's slivers (:func:`_lift_or_close`) for the fixed LPs, counted in ``phases``; returns
    the lifted pairs. The first relaxation's staffing is rounded first; it is solved again (:func:`_resolve`) only when
    that rounding misses the gap: with each pool rounded to the ceiling of its relaxed headcount
    (:func:`capplan.optimize.rounding.pool_thresholds`) the 3x demo at 8 h ends 0.35 % from the bound without it, against
    0.43 % on a re-solve that took 78 CPU s; ``bench/results/plan_slivers.md``."""
    lifted, preclosed = _lift_or_close(b, relaxed_values)
    phases["slivers_preclosed"], phases["slivers_lifted"] = len(preclosed), len(lifted)
    phases["slivers_preclosed_hours"] = sum(_pair_hours(b, relaxed_values, key) for key in preclosed)
    return lifted


def _resolve(b: Built, solver_config, deadline: float, lifted: list, phases: dict) -> dict | None:
    """The relaxation solved again with the slivers lifted (priced) or closed, when rounding the first one missed the
    gap: not a bound, only staffing to round that carries the closed work and the lifts; its new slivers closed too.
    None when out of time. Tiny case (``test_contracts.py``): the 7 h evening pair reaches its 8 h only on the
    re-solved staffing (840 against 3,080 USD); 3x demo at 8 h: never needed since the pool rounding (it took 78 CPU s)."""
    t = time.perf_counter()
    again = _lp(b, mathopt().SolverType.HIGHS, deadline, solver_config.backend)
    phases["resolve_seconds"] = time.perf_counter() - t
    if again is None:
        return None
    phases["resolve_objective"] = again.objective
    phases["slivers_lifted_met"] = sum(1 for key in lifted if _pair_hours(b, again.values, key) >= b.pair_min[key] - 1e-6)
    new = _slivers(b, again.values)
    for key in new:
        b.pair_open[key].upper_bound = 0.0
    phases["slivers_preclosed_again"] = len(new)
    return again.values


def relax_round_fix(b: Built, solver_config, deadline: float, roundings=ROUNDINGS, phases: dict | None = None,
                    relaxed_out: dict | None = None) -> RoundFixResult | None:
    """LP relaxation (lower bound) -> round staff -> LP with staff fixed -> trim; best of a few roundings.

    The roundings of :data:`ROUNDINGS` (:func:`round_staff` at a threshold, or :func:`cover_staff`; :data:`SLIVER_ROUNDINGS`
    with a pair minimum, :func:`roundings_for`)
    are evaluated in order by the fixed LP and :func:`trim_staff`; the first whose gap is within
    ``relative_gap`` stops the search (a stop rule by gap, not by time). None when the relaxation does
    not finish in time. The relaxation's objective is a valid lower bound of the MIP, so ``gap`` is proven.
    No slivers (``[contracts] min_pair_weekly_hours``): the pairs the relaxation uses below their minimum are
    lifted (priced) or closed for the fixed LPs (:func:`_lift_or_close_relaxed`), and its staffing is rounded pool by pool
    (:func:`capplan.optimize.rounding.pool_thresholds`); when that first rounding misses the gap, the relaxation is solved
    again with the lifts and closures (:func:`_resolve`, not a bound) and the roundings go on on its staffing
    (``resolved_`` in ``phases``). ``phases``, when given, is filled as it goes, so
    that a run out of time still tells what finished (``relaxation_objective`` is then a proven bound);
    ``relaxed_out``, when given, gets the relaxed staffing (``staff``, ``values``) and the relaxation's duals as soon as
    they are known, for the fallback (:func:`rounded_fixed_lp`; its prices).
    """
    mo = mathopt()
    tol = float(solver_config.relative_gap)
    phases = {} if phases is None else phases
    staff_vars = b.staff_vars
    for v in staff_vars + list(b.pair_open.values()):
        v.integer = False
    saved = [(v.lower_bound, v.upper_bound) for v in staff_vars]
    best = None
    try:
        t = time.perf_counter()
        relaxed = _lp(b, mo.SolverType.HIGHS, deadline, solver_config.backend, crossover=CROSSOVER, duals=True)
        phases["relaxation_seconds"] = time.perf_counter() - t
        if relaxed is None:
            return None
        bound = relaxed.objective
        phases["relaxation_objective"] = bound
        if relaxed.algorithm != LP_LADDER[0]:
            phases["relaxation_algorithm"] = relaxed.algorithm
        lifted = _lift_or_close_relaxed(b, relaxed.values, phases)
        x = np.array([relaxed.values[v] for v in staff_vars])
        if relaxed_out is not None:
            relaxed_out.update(staff=x, values=relaxed.values, closed=[key for key, y in b.pair_open.items() if y.upper_bound == 0.0],
                               duals=relaxed.duals)

        def try_roundings(values_to_round: dict, x: np.ndarray, rs, prefix: str = "") -> bool:
            """The roundings ``rs`` of ``x`` by the fixed LP, keeping the best; True when the search stops (gap met, time out)."""
            nonlocal best
            for rounding in rs:
                label = prefix + rounding_label(rounding)
                n = _rounded(b, rounding, x, values_to_round, lifted)
                for v, k in zip(staff_vars, n):
                    v.lower_bound = v.upper_bound = float(k)
                t = time.perf_counter()
                fixed = _fix_and_trim(b, solver_config, deadline, n)
                phases[f"{label}_seconds"] = time.perf_counter() - t
                if fixed is None:
                    return True
                values, objective, trimmed = fixed
                phases[f"{label}_objective"] = objective
                phases[f"{label}_trimmed_moderators"] = trimmed
                phases[f"{label}_slivers_closed"] = b.slivers_closed
                phases[f"{label}_slivers_left"] = b.slivers_left
                if best is None or objective < best[1] - _EPS:
                    best = (values, objective)
                    phases["rounding"] = label
                if within_gap(best[1], bound, tol) or time.perf_counter() >= deadline:
                    return True
            return False

        resolve = bool(phases["slivers_preclosed"] or lifted)
        if not try_roundings(relaxed.values, x, roundings[:1] if resolve else roundings) and resolve:
            for v, (lo, hi) in zip(staff_vars, saved):
                v.lower_bound, v.upper_bound = lo, hi
            again = _resolve(b, solver_config, deadline, lifted, phases)
            if again is not None:
                x = np.array([again[v] for v in staff_vars])
                if relaxed_out is not None:
                    relaxed_out.update(staff=x, values=again, closed=[key for key, y in b.pair_open.items() if y.upper_bound == 0.0])
                try_roundings(again, x, roundings, "resolved_")
    finally:
        for v, (lo, hi) in zip(staff_vars, saved):
            v.lower_bound, v.upper_bound = lo, hi
        for v in staff_vars + list(b.pair_open.values()):
            v.integer = True
        for v in b.pair_open.values():
            v.upper_bound = 1.0
        _clear_lifts(b)
    if best is None:
        return None
    return RoundFixResult(best[0], best[1], bound, phases, x, relaxed.duals)  # x: the staffing last rounded


def restricted_mip(b: Built, solver_config, x: np.ndarray, deadline: float) -> MipOutcome:
    """The exact HiGHS MIP with every pattern boxed to [floor(x), ceil(x)] of the relaxed staffing x.

    The relaxation optimum lies in the box, so the root bound is the relaxation's and the search
    space is tiny (integral patterns are fixed); the root LP by interior point (``mip_lp_solver =
    ipm``), not HiGHS's default dual simplex. Its bound holds in the box only.
    """
    from ortools.math_opt.solvers import highs_pb2

    staff_vars = b.staff_vars
    saved = [(v.lower_bound, v.upper_bound) for v in staff_vars]
    options = highs_pb2.HighsOptionsProto()
    options.string_options["mip_lp_solver"] = "ipm"
    try:
        for v, xk, (lo, hi) in zip(staff_vars, x, saved):
            v.lower_bound = max(lo, float(np.floor(xk + 1e-6)))
            v.upper_bound = min(hi, max(v.lower_bound, float(np.ceil(xk - 1e-6))))
        return _mip(b, solver_config, mathopt().SolverType.HIGHS, deadline - time.perf_counter(), highs=options)
    finally:
        for v, (lo, hi) in zip(staff_vars, saved):
            v.lower_bound, v.upper_bound = lo, hi


def fixed_staff_lp(b: Built, solver_config, staff: np.ndarray, deadline: float) -> LpSolution | None:
    """The allocation LP with every pattern fixed to ``staff`` moderators: the best routing of given shifts.

    Used by the fallback (:mod:`capplan.optimize.fallback`) on the baseline's shifts; the ``open`` binaries are relaxed
    and slivers closed as in relax-round-fix (:func:`close_slivers`). Its objective is the model's at that plan
    [currency], so it compares with any proven bound. None when it does not finish by ``deadline``; a SolverError
    when HiGHS fails on it (e.g. shifts that break a hard limit of the model).
    """
    staff_vars = b.staff_vars
    saved = [(v.lower_bound, v.upper_bound) for v in staff_vars]
    for v in staff_vars + list(b.pair_open.values()):
        v.integer = False
    try:
        for v, k in zip(staff_vars, staff):
            v.lower_bound = v.upper_bound = float(k)
        fixed = _lp(b, mathopt().SolverType.HIGHS, deadline, solver_config.backend)
        if fixed is None:
            return None
        fixed = close_slivers(b, solver_config, deadline, fixed)
        for v, k in zip(staff_vars, staff):
            fixed.values[v] = float(k)
        return fixed
    finally:
        for v, (lo, hi) in zip(staff_vars, saved):
            v.lower_bound, v.upper_bound = lo, hi
        for v in staff_vars + list(b.pair_open.values()):
            v.integer = True


def rounded_fixed_lp(b: Built, solver_config, relaxed: RelaxedStaff, deadline: float,
                     rounding=ROUNDINGS[0]) -> tuple[dict, float, int] | None:
    """One rounding of relax-round-fix on a relaxation that already finished: (values, objective, moderators trimmed).

    The relaxed staffing rounded (``rounding`` of :data:`ROUNDINGS`: :func:`round_staff` at that threshold, or
    :func:`cover_staff`, or ``"pool"``), the pairs relax-round-fix had closed before rounding closed again,
    the allocation LP with that staffing fixed (:func:`fixed_staff_lp`), then :func:`trim_staff`: the plan
    relax-round-fix would have had from that rounding. The objective is the model's
    [currency]. None when the LP does not finish by ``deadline``; a SolverError when HiGHS fails on it. Used by the
    fallback (:mod:`capplan.optimize.fallback`) when the time limit stopped this very LP.
    """
    n = _rounded(b, rounding, relaxed.staff, relaxed.values)
    for key in relaxed.closed:
        b.pair_open[key].upper_bound = 0.0
    try:
        fixed = fixed_staff_lp(b, solver_config, n, deadline)
    finally:
        for key in relaxed.closed:
            b.pair_open[key].upper_bound = 1.0
    if fixed is None:
        return None
    values = fixed.values
    n_trim, saved_cost = trim_staff(b, values, n)
    for v, k in zip(b.staff_vars, n_trim):
        values[v] = float(k)
    return values, fixed.objective - saved_cost, int(n.sum() - n_trim.sum())


def _solver_type(backend: str):
    mo = mathopt()
    types = {"highs": mo.SolverType.HIGHS, "scip": mo.SolverType.GSCIP}
    if backend not in types:
        raise ConfigError(f"[solver] backend = {backend!r} is not supported by the optimizer; expected one of {', '.join(types)}. "
                          "Fix: set backend = \"highs\" in capplan.toml")
    return types[backend]


def _heuristic(b: Built, solver_config, deadline: float, small: bool, phases: dict,
               relaxed: dict | None = None) -> tuple[Candidate | None, str, dict]:
    """HiGHS: relax-round-fix, then (small models above the gap) the restricted MIP. (candidate, method, relaxation duals)."""
    tol = float(solver_config.relative_gap)
    roundings = roundings_for(b)
    heur = relax_round_fix(b, solver_config, deadline, roundings[:1] if small else roundings, phases, relaxed)
    if heur is None:
        return None, "mip", {}
    values, objective, method = heur.values, heur.objective, "relax_round_fix"
    if small and not within_gap(objective, heur.bound, tol) and time.perf_counter() < deadline:
        t = time.perf_counter()
        try:
            boxed = restricted_mip(b, solver_config, heur.relaxed_staff, deadline).candidate
        except SolverError as exc:  # keep the rounded plan
            boxed = None
            phases["restricted_mip_error"] = str(exc)
        phases["restricted_mip_seconds"] = time.perf_counter() - t
        if boxed is not None and boxed.objective < objective - _EPS:  # its bound holds in the box only: keep the relaxation's
            values, objective = boxed.values, boxed.objective
            phases["restricted_mip_objective"] = objective
            method = "restricted_mip"
    status = SolveStatus.OPTIMAL if within_gap(objective, heur.bound, tol) else SolveStatus.FEASIBLE
    return Candidate(status, values, objective, heur.bound), method, heur.duals


def _merge_mip(best: Candidate | None, mip: Candidate | None) -> tuple[Candidate | None, bool]:
    """Keep the better plan and the higher proven bound; True when the MIP's plan is kept."""
    if mip is None:
        return best, False
    if best is None or mip.objective <= best.objective + _EPS:
        bound = max(mip.bound, best.bound) if best is not None and np.isfinite(mip.bound) else mip.bound
        return Candidate(mip.status, mip.values, mip.objective, bound), True
    if np.isfinite(mip.bound):
        return Candidate(best.status, best.values, best.objective, max(best.bound, mip.bound)), False
    return best, False


def solve(b: Built, solver_config) -> Solved:
    """Solve with the configured backend; no plan is a :class:`SolverTimeout` when time ran out, else a SolverError.

    HiGHS: first :func:`relax_round_fix` (barrier LPs; the relaxation bound makes the gap proven);
    if its gap is above ``relative_gap`` and the model is small, :func:`restricted_mip`, then the
    exact MIP with the remaining time; the best plan is kept. SCIP: the MIP directly.
    """
    backend = solver_config.backend
    solver_type = _solver_type(backend)
    started = time.perf_counter()
    deadline = started + float(solver_config.time_limit_s)
    tol = float(solver_config.relative_gap)
    phases: dict = {}
    small = b.model.get_num_variables() <= SMALL_MODEL_VARIABLES
    best, method, duals, relaxed = None, "mip", {}, {}
    if backend == "highs":  # small: nearest rounding, then the restricted MIP (cheaper than more roundings)
        best, method, duals = _heuristic(b, solver_config, deadline, small, phases, relaxed)
    outcome = MipOutcome(None)
    if best is None or (best.status != SolveStatus.OPTIMAL and (small or backend == "scip") and time.perf_counter() < deadline):
        t = time.perf_counter()
        try:
            outcome = _mip(b, solver_config, solver_type, deadline - time.perf_counter())
        except SolverError as exc:  # a plan is in hand: keep it and say why the MIP did not improve it
            if best is None:
                raise
            outcome = MipOutcome(None)
            phases["mip_error"] = str(exc)
        phases["mip_seconds"] = time.perf_counter() - t
        best, took = _merge_mip(best, outcome.candidate)
        if took:
            method = "mip"
    seconds = time.perf_counter() - started
    if best is None:
        raise _no_plan(backend, solver_config, seconds, outcome, phases, RelaxedStaff(**relaxed) if relaxed else None)
    gap = _gap(best.objective, best.bound)
    status = best.status
    if status != SolveStatus.OPTIMAL and gap <= tol + _EPS:
        status = SolveStatus.OPTIMAL
    elif status == SolveStatus.FEASIBLE and time.perf_counter() >= deadline - 1e-3:
        status = SolveStatus.TIME_LIMIT_FEASIBLE
    return Solved(SolverReport(status, best.objective, best.bound, gap, seconds), best.values, backend, method, phases, duals)


def _no_plan(backend: str, solver_config, seconds: float, outcome: MipOutcome, phases: dict,
             relaxed: RelaxedStaff | None = None) -> SolverError:
    """No plan at all: a :class:`SolverTimeout` when time ran out (the fallback's cue), else a SolverError (a bug:
    the model has priced slack and is always feasible, so e.g. "infeasible" must never be answered by a fallback)."""
    if outcome.reason is not None and not outcome.timed_out:
        return SolverError(f"the {backend} solver found no plan in {seconds:.1f} s ({outcome.reason.name}), but the model has priced "
                           "slack and is always feasible: this is a bug. Fix: try [solver] backend = \"scip\" and report it")
    if "relaxation_objective" in phases:
        what = "the LP relaxation finished, the rounded plan's LP did not finish"
    elif backend == "highs":
        what = "the LP relaxation did not finish"
    else:
        what = "the MIP found no plan"
    bounds = [x for x in (phases.get("relaxation_objective", np.nan), outcome.bound) if np.isfinite(x)]
    return SolverTimeout(
        f"the {backend} solver found no plan in {seconds:.1f} s ({what}). The model has priced slack and is always feasible, so the "
        f"time limit is too short for this size on this machine now. Fix: raise [solver] time_limit_s (now {solver_config.time_limit_s}) "
        "or shorten [planning] plan_days", seconds=seconds, reason=what, bound=max(bounds) if bounds else float("nan"), phases=phases,
        relaxed=relaxed)


def _gap(objective: float, bound: float) -> float:
    """Relative distance of a plan's objective above a proven lower bound (NaN without a bound)."""
    if not np.isfinite(bound):
        return float("nan")
    return max(objective - bound, 0.0) / max(abs(objective), 1e-9)


def within_gap(objective: float, bound: float, tol: float) -> bool:
    """The optimizer's stop rule: the plan is within ``tol`` (``[solver] relative_gap``) of the proven bound."""
    return _gap(objective, bound) <= tol + _EPS


def rounding_label(rounding) -> str:
    """A rounding of :data:`ROUNDINGS` or :data:`SLIVER_ROUNDINGS` as named in ``phases``: ``round_0.5``, ``pool`` or ``cover``."""
    return rounding if rounding in ("cover", "pool") else f"round_{rounding:g}"


def _timedelta(seconds: float) -> dt.timedelta:
    return dt.timedelta(seconds=float(seconds))
