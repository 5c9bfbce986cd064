"""Plan, check, lift: a P50 plan that states its risk (``[staffing] risk = "checked"``).

The two-stage model (:mod:`capplan.optimize.stochastic`) optimises one shift plan for many scenarios at
once; this mode keeps the ordinary deterministic solve and uses the scenarios only to *check* and *state*:

1. **Plan.** The deterministic plan of the mean forecast (:func:`capplan.optimize.model.build`,
   :func:`capplan.optimize.solve.solve`: relax-round-fix to the proven ``relative_gap``).
2. **Check.** ``scenarios`` demand scenarios (:func:`~capplan.optimize.stochastic.draw_scenarios`: whole
   days of the backtest errors) are each solved with the shift plan fixed, an LP per scenario (the
   second stage of the scenario model at the full penalty, built once per run for every round and the statement:
   :class:`ShiftCheck`; on a large week solved by ``[staffing] check_workers`` processes: :class:`CheckPool`). A cell
   **meets its target** in a scenario when its late or unmet work is at most
   ``1 - target`` of its work; it **passes** when ``(met + 1/2) / (n + 1) >= target_probability``, the
   statement's own estimator (so a pass on the check set is a pass of the same rule).
3. **Lift.** For a cell that fails, the fewest failing scenarios that make it pass, those nearest to their
   allowance, are picked; each shows *where* (the intervals its late or unmet work falls in) and *how much*
   (its excess over the allowance) is missing. The cell's requirement is lifted by that excess, spread over
   those intervals in proportion to the scenario's shortfall there, and moved back to when the work arrived
   (``due_shift`` intervals earlier for deferred work): the upper envelope over the picked scenarios
   (:func:`lift_hours`). Only the aggregate a scenario misses is added, not every hour's own upper bound.
   The lifted plan is re-solved from scratch and checked again, for at most ``check_rounds`` rounds. A
   lifted cell whose met count did not rise is left alone from then on (its pools cannot serve it, e.g. at
   the headcount ceiling: its low probability is the truth); a round in which no cell improves is rejected
   and the loop stops with the plan before it.
4. **State.** The risk is stated from ``scenarios`` **held-out** scenarios (the next blocks of the shuffle,
   never used to choose a lift), each solved with the final shift plan fixed:
   :func:`~capplan.optimize.stochastic.risk_table` (Jeffreys estimate), ``risk.csv``, ``solve.json`` ``risk``.

The reported allocation is the mean forecast's on the final shifts (an LP with the staffing fixed), as for
the scenario model, so every table, check and workbook is unchanged. ``binding.csv`` is priced as the P50 plan's, from
the accepted round's LP relaxation (its duals; the overtime cap and quality floors by that relaxation moved one step):
the prices of the plan's own deterministic model, the mean forecast's requirements plus the lift, not of the scenarios
(:func:`_price_plan`).

References
----------
Birge, J. R., Louveaux, F. (2011). Introduction to Stochastic Programming, 2nd ed., Springer (the expected
value of the mean-value solution, evaluated on scenarios with the first stage fixed).
Brown, L. D., Cai, T. T., DasGupta, A. (2001). Interval estimation for a binomial proportion. Statistical
Science 16(2), 101-133 (the Jeffreys estimate used for passing and stating).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np

from capplan.errors import ConfigError, SolverError
from capplan.optimize.data import PlanData, prepare
from capplan.optimize.stochastic import (ALLOWANCE_SLACK, JEFFREYS, _mean_allocation, cell_targets, cell_work, draw_scenarios,
                                         judge_label, risk_table, scenario_demands, scenario_work, shortfall_share)


@dataclass
class Checked:
    """One plan and its check: staffing, solver report, (S, C, T) shortfall hours, met scenarios per cell.

    ``data`` is the plan data the round was solved with (the lifted requirements; the mean forecast's in round 0),
    ``duals`` and ``relaxation`` its LP relaxation's row duals and cost (empty and None for a fallback plan): the
    prices of ``binding.csv`` (:func:`_price_plan`)."""

    staff: np.ndarray
    report: dict
    shortfall: np.ndarray
    met: np.ndarray
    seconds: dict = field(default_factory=dict)
    data: PlanData | None = None
    duals: dict = field(default_factory=dict)
    relaxation: float | None = None
    allocation: tuple[dict, dict] | None = None  # the round's own allocation and egregious hours on its model's demand


def needed_met(n: int, probability: float) -> int:
    """Fewest of ``n`` scenarios met for ``(met + 1/2) / (n + 1) >= probability`` (``n`` if none is enough)."""
    return min(max(int(math.ceil(probability * (n + 2 * JEFFREYS) - JEFFREYS - 1e-9)), 0), n)


def met_counts(shortfall: np.ndarray, work: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(C,) scenarios in which each cell's late or unmet work is within its target's allowance.

    ``shortfall`` (S, C, T) [standard h]; ``work`` (S, C) each scenario's work per cell [standard h]; ``target`` (C,).
    """
    return (~_beyond(shortfall, work, target)).sum(axis=0)


def _beyond(shortfall: np.ndarray, work: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(S, C) late or unmet share beyond the target's allowance, by :func:`~capplan.optimize.stochastic.risk_table`'s rule."""
    return shortfall_share(shortfall, work) > (1.0 - target)[None, :] + ALLOWANCE_SLACK


def _arrivals(d: PlanData, c: int, hours: np.ndarray) -> np.ndarray:
    """Shortfall by interval moved to when its work arrived: deferred work late in t arrived ``due_shift`` earlier."""
    if d.cells.at[c, "kind"] == "realtime":
        return hours
    shift = int(d.cells.at[c, "due_shift"])
    if d.week_end == "cyclic":
        return np.roll(hours, -shift)
    out = np.zeros_like(hours)
    out[:max(d.T - shift, 0)] = hours[shift:]
    out[0] += hours[:shift].sum()  # due before the window's first arrivals fall due: the opening backlog's, lifted at the start
    return out


class ShiftCheck:
    """The fixed-staff second stage built once and re-solved per scenario with only its demand changed.

    :func:`~capplan.optimize.stochastic.fixed_stage_shortfall` builds one model per scenario; building costs more
    than the LP (small demo: 2.1 vs 1.3 CPU s per scenario). Here the model of
    :func:`~capplan.optimize.stochastic.build_two_stage` is built once on the **support** of the scenarios (per
    cell-interval the largest demand of any of them, so every variable and row any scenario needs exists), the staff
    fixed, and each :meth:`shortfall` only resets the demand's numbers: real-time cover rows and unmet bounds, deferred
    flow right-hand sides and not-yet-due bounds, and the target allowance. Where a scenario has no demand its row is 0:
    the same LP as a model built for that scenario alone (checked in ``tests/test_checked.py``). :meth:`fix` re-fixes the
    staffing (a lift round, the statement) on the same model.

    Every solve starts from scratch (HiGHS barrier): warm starts from the previous scenario's basis were measured no
    faster (``bench/check_lp.py``: the demand moves in every cell-hour, so a dual simplex needs thousands of iterations).
    Nor does a coarser time grid decide as this one does (``bench/check_lp.py --grid``: 2 h blocks are 3x cheaper and change
    cells' met decisions, 3-4 h blocks 6-9x cheaper and find none of the real misses; docs/risk.md).
    """

    def __init__(self, d: PlanData, demands: list[PlanData], target: np.ndarray, staff: np.ndarray | None = None):
        from capplan.optimize.stochastic import build_two_stage

        support = dataclasses.replace(d, need_hours=np.max([x.need_hours for x in demands], axis=0),
                                      workload=np.max([x.workload for x in demands], axis=0))
        self.target = target
        self.two = build_two_stage(d, [support], target)
        self.stage = self.two.scenarios[0]
        for v in self.two.master.staff_vars:
            v.integer = False
        if staff is not None:
            self.fix(staff)
        rows = {c.name: c for c in self.two.master.model.linear_constraints() if c.name.startswith(("cover[", "flow[", "target_excess["))}
        self._realtime, self._deferred, self._excess = self._handles(rows)

    def fix(self, staff: np.ndarray) -> None:
        """Fix the shift plan (moderators per pattern): only the staff bounds change, the model stays built."""
        for v, k in zip(self.two.master.staff_vars, staff):
            v.lower_bound = v.upper_bound = float(k)

    def shortfalls(self, demands: list[PlanData], staff: np.ndarray, time_limit_s: float) -> np.ndarray:
        """(S, C, T) shortfall hours of each of ``demands`` (all within the support) on the shift plan ``staff``."""
        self.fix(staff)
        d = self.stage.data
        return np.array([self.shortfall(ds, time_limit_s) for ds in demands]).reshape(len(demands), len(d.cells), d.T)

    def _handles(self, rows: dict) -> tuple[list, list, dict]:
        """(c, t, unmet, cover row) of real-time cells, (c, t, backlog, flow row) of deferred cells, c -> allowance row."""
        from capplan.optimize.model import _cell_name, _t_name

        b = self.stage
        d = b.data
        realtime = [(c, t, u, rows[f"cover[cell={_cell_name(d, c)},t={_t_name(d, t)}]"]) for (c, t), u in sorted(b.unmet.items())]
        deferred = [(c, t, e, rows[f"flow[cell={_cell_name(d, c)},t={_t_name(d, t)}]"])
                    for c, backlog in sorted(b.backlog.items()) for t, e in sorted(backlog.items())]
        excess = {c: rows[f"target_excess[cell={_cell_name(d, c)}]"] for c in range(len(d.cells)) if f"target_excess[cell={_cell_name(d, c)}]" in rows}
        return realtime, deferred, excess

    def _set_demand(self, ds: PlanData) -> None:
        from capplan.optimize.model import deferred_profile

        d, hours = self.stage.data, self.stage.scale.hours
        need = ds.need_hours / hours
        for c, t, u, row in self._realtime:
            u.upper_bound = row.lower_bound = float(need[c, t])
        cyclic = d.week_end == "cyclic"
        arrivals = ds.workload / hours
        not_due = {c: deferred_profile(ds, c)[1] / hours for c in {c for c, *_ in self._deferred}}
        opening = np.zeros(len(d.cells)) if cyclic or d.opening_due is None else d.opening_due.sum(axis=1) / hours
        for c, t, e, row in self._deferred:
            e.upper_bound = max(float(not_due[c][t]), 0.0)
            row.lower_bound = row.upper_bound = float(arrivals[c, t]) + (float(opening[c]) if t == 0 else 0.0)
        work = cell_work(ds)
        for c, row in self._excess.items():
            row.lower_bound = -max(1.0 - float(self.target[c]), 0.0) * float(work[c]) / hours

    def shortfall(self, ds: PlanData, time_limit_s: float) -> np.ndarray:
        """(C, T) late or unmet hours of scenario ``ds`` on the fixed shift plan [standard h]; the LP gets ``time_limit_s``."""
        from capplan.optimize.stochastic import _lp, shortfall_hours

        self._set_demand(ds)
        solved = _lp(self.two.master, time.perf_counter() + float(time_limit_s))
        if solved is None:
            raise SolverError(f"a scenario checked with the shift plan fixed did not solve within [solver] time_limit_s = {time_limit_s} s "
                              f"({self.two.master.model.get_num_variables()} variables). Fix: raise time_limit_s")
        return shortfall_hours(self.stage, solved[0])


POOL_CELL_INTERVALS = 5_000  # from this many cell-intervals (default demo 90 x 168) the scenario LPs go to worker processes
_WORKER: tuple | None = None  # in a worker process: (its ShiftCheck, the run's scenarios)


def _start_worker(d: PlanData, demands: list[PlanData], target: np.ndarray) -> None:
    global _WORKER
    _WORKER = (ShiftCheck(d, demands, target), demands)


def _worker_ready() -> bool:
    return _WORKER is not None


def _worker_shortfall(index: int, staff: np.ndarray, time_limit_s: float) -> np.ndarray:
    check, demands = _WORKER
    check.fix(staff)
    return check.shortfall(demands[index], time_limit_s)


class CheckPool:
    """The scenario LPs of :class:`ShiftCheck` solved by ``workers`` processes, each holding its own copy of the model.

    The LPs are independent and each is solved from scratch with the same settings, so the shortfalls do not depend on
    which worker solved which scenario, nor on timing (``tests/test_checked.py`` compares them with one process). The
    workers start (spawn) and build their models when the pool is made, so that runs beside the P50 solve. Same
    :meth:`shortfalls` as :class:`ShiftCheck`, for the scenarios the pool was made with. Use as a context manager.
    """

    def __init__(self, d: PlanData, demands: list[PlanData], target: np.ndarray, workers: int):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self.d = d
        self._index = {id(ds): i for i, ds in enumerate(demands)}
        self._pool = ProcessPoolExecutor(max_workers=int(workers), mp_context=mp.get_context("spawn"), initializer=_start_worker,
                                         initargs=(d, demands, target))
        self._started = [self._pool.submit(_worker_ready) for _ in range(int(workers))]  # one spawn per submit: all start now

    def shortfalls(self, demands: list[PlanData], staff: np.ndarray, time_limit_s: float) -> np.ndarray:
        """(S, C, T) shortfall hours of each of ``demands`` on the shift plan ``staff``, in the order given."""
        from itertools import repeat

        index = [self._index[id(ds)] for ds in demands]
        rows = list(self._pool.map(_worker_shortfall, index, repeat(np.asarray(staff)), repeat(float(time_limit_s))))
        return np.array(rows).reshape(len(demands), len(self.d.cells), self.d.T)

    def __enter__(self) -> CheckPool:
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(cancel_futures=True)


def check_processes(d: PlanData, scenarios: int, workers: int) -> int:
    """Processes to spread a run's scenario checks over: ``workers`` (at most one per scenario) on a week of at least
    :data:`POOL_CELL_INTERVALS` cell-intervals, else 1 (spawning costs more than it saves). Inside a daemonic process (a
    Dask worker of ``capplan evaluate``), which may not start children: 1."""
    import multiprocessing as mp

    big = len(d.cells) * d.T >= POOL_CELL_INTERVALS and scenarios > 1
    return min(int(workers), scenarios) if int(workers) > 1 and big and not mp.current_process().daemon else 1


def scenario_checks(d: PlanData, demands: list[PlanData], target: np.ndarray, workers: int):
    """The check of a run: a :class:`CheckPool` of :func:`check_processes` processes, or one :class:`ShiftCheck` here."""
    from contextlib import nullcontext

    processes = check_processes(d, len(demands), workers)
    if processes > 1:
        return CheckPool(d, demands, target, processes)
    return nullcontext(ShiftCheck(d, demands, target))


def check_shortfall(d: PlanData, demands: list[PlanData], target: np.ndarray, staff: np.ndarray, time_limit_s: float) -> np.ndarray:
    """(S, C, T) shortfall hours of each scenario on the fixed shift plan: one :class:`ShiftCheck`, one LP per scenario
    (each within ``time_limit_s``, like every solve of the plan)."""
    return ShiftCheck(d, demands, target).shortfalls(demands, staff, time_limit_s)


def lift_hours(d: PlanData, shortfall: np.ndarray, work: np.ndarray, target: np.ndarray, probability: float,
               cells: np.ndarray, at_arrival: bool = False) -> np.ndarray:
    """(C, T) standard hours to add to the requirement of ``cells`` (a (C,) mask) so the check would pass.

    Per cell, of the scenarios beyond the allowance, the ones nearest to it are picked, as many as the cell is short
    of :func:`needed_met`; each contributes its excess over the allowance, spread over the intervals of its shortfall
    in proportion and moved to the work's arrival (:func:`_arrivals`). The lift is the upper envelope of the picked
    scenarios' contributions (each is fixed by its own, so the largest per interval). ``at_arrival``: the shortfall is
    already placed where its work arrived (the replay judge's, :class:`capplan.judge.ReplayJudge`), not moved.
    """
    S = shortfall.shape[0]
    total = shortfall.sum(axis=2)
    excess = total - (1.0 - target)[None, :] * work
    need = needed_met(S, probability)
    beyond = _beyond(shortfall, work, target)
    out = np.zeros((len(d.cells), d.T))
    for c in np.flatnonzero(cells):
        failing = np.flatnonzero(beyond[:, c])
        missing = need - (S - len(failing))
        if missing <= 0:
            continue
        for s in failing[np.argsort(excess[failing, c], kind="stable")][:missing]:
            spread = shortfall[s, c] * (excess[s, c] / total[s, c])
            out[c] = np.maximum(out[c], spread if at_arrival else _arrivals(d, c, spread))
    return out


def lifted(d: PlanData, lift: np.ndarray) -> PlanData:
    """The plan data with ``lift`` (C, T) standard hours added: real-time need (and moderators), deferred workload."""
    realtime = (d.cells["kind"] == "realtime").to_numpy()[:, None]
    need = d.need_hours + np.where(realtime, lift, 0.0)
    return dataclasses.replace(d, need_hours=need, required_productive=np.where(realtime, need / d.h, d.required_productive),
                               workload=d.workload + np.where(realtime, 0.0, lift))


@dataclass
class Deterministic:
    """A deterministic plan's staffing and solver report, with its LP relaxation's row duals and cost (the prices)."""

    staff: np.ndarray
    report: dict
    duals: dict = field(default_factory=dict)
    relaxation: float | None = None
    allocation: tuple[dict, dict] | None = None  # the plan's own allocation and egregious hours (None for a fallback)


def _deterministic(d: PlanData, solver_config) -> Deterministic:
    """The ordinary plan of ``d`` (build, relax-round-fix to the gap), as :func:`capplan.optimize.solve_plan` solves it,
    with the relaxation's duals and objective it prices ``binding.csv`` from (``s.duals``,
    ``phases["relaxation_objective"]``).

    Out of time without a plan, the fallback's staffing (:func:`capplan.optimize.fallback.fallback_staffing`, status
    ``fallback``, as :func:`capplan.optimize.solve_plan`), whose risk is then checked and stated like any plan's; it has
    no relaxation, so no duals.
    """
    from capplan.errors import SolverTimeout
    from capplan.optimize.model import build
    from capplan.optimize.solve import solve

    b = build(d)
    try:
        s = solve(b, solver_config)
    except SolverTimeout as exc:
        if solver_config.fallback != "baseline":
            raise
        from capplan.optimize.fallback import fallback_staffing

        return Deterministic(*fallback_staffing(d, b, solver_config, exc))
    staff = np.array([int(round(s.values[b.staff[k]])) for k in range(len(d.patterns))], dtype=int)
    report = {"status": s.status.value, "solver": s.solver, "method": s.method, "phases": s.phases, "objective": s.objective,
              "bound": s.bound, "gap": s.gap, "seconds": s.seconds, "build_seconds": b.seconds,
              "variables": b.model.get_num_variables(), "integer_variables": b.n_integer,
              "constraints": b.model.get_num_linear_constraints()}
    alloc = {key: {t: max(float(s.values[v]), 0.0) for t, v in vars_.items()} for key, vars_ in b.alloc.items()}
    egr = {key: {t: max(float(s.values[v]), 0.0) for t, v in ys.items()} for key, ys in b.egr.items()}
    return Deterministic(staff, report, s.duals, s.phases.get("relaxation_objective"), (alloc, egr))


def _solve_deterministic(d: PlanData, solver_config) -> tuple[np.ndarray, dict]:
    """The ordinary plan of ``d`` (:func:`_deterministic`): moderators per pattern and the solver report."""
    plan = _deterministic(d, solver_config)
    return plan.staff, plan.report


def _plan_and_check(d: PlanData, lift: np.ndarray, demands: list[PlanData], target: np.ndarray, solver_config,
                    check: ShiftCheck | CheckPool) -> Checked:
    """Solve the plan of ``d`` lifted by ``lift`` and check its shifts against ``demands`` (one fixed-staff LP each)."""
    t = time.perf_counter()
    data = lifted(d, lift) if lift.any() else d
    plan = _deterministic(data, solver_config)
    solved = time.perf_counter()
    shortfall = check.shortfalls(demands, plan.staff, float(solver_config.time_limit_s))
    return Checked(staff=plan.staff, report=plan.report, shortfall=shortfall, met=met_counts(shortfall, scenario_work(d, demands), target),
                   seconds={"solve": solved - t, "check": time.perf_counter() - solved}, data=data, duals=plan.duals,
                   relaxation=plan.relaxation, allocation=plan.allocation)


def _cost(d: PlanData, staff: np.ndarray) -> float:
    """Paid cost of the staffing [currency] (take-or-pay aside): what a lift costs."""
    return float(sum(n * pat.charged_hours * float(d.pools.at[pat.pool, "rate"]) for n, pat in zip(staff, d.patterns) if n))


def _round_row(k: int, c: Checked, d: PlanData, lift: np.ndarray, lifted_cells: np.ndarray, accepted: bool, need: int) -> dict:
    return {"round": k, "accepted": accepted, "lifted_cells": int(lifted_cells.sum()), "lift_hours": float(lift.sum()),
            "paid_cost": _cost(d, c.staff), "cells_passing": int((c.met >= need).sum()), "scenarios_met": int(c.met.sum()),
            "status": c.report["status"], "gap": c.report["gap"], "solve_seconds": c.seconds["solve"], "check_seconds": c.seconds["check"]}


def plan_check_lift(d: PlanData, demands: list[PlanData], target: np.ndarray, probability: float, rounds: int,
                    solver_config, check: ShiftCheck | CheckPool | None = None) -> tuple[Checked, np.ndarray, list[dict]]:
    """The loop of the module notes: (the accepted plan and its check, the lift (C, T) it was solved with, the rounds).

    ``check``: the fixed-staff model to check with (built on a support covering ``demands``; one is built if None).
    """
    if not 0.0 < probability < 1.0:
        raise ConfigError(f"[staffing] target_probability must be strictly between 0 and 1 (e.g. 0.95), got {probability}")
    if int(rounds) < 0:
        raise ConfigError(f"[staffing] check_rounds must be 0 or more, got {rounds}. Fix: set check_rounds = 2 (or 0 to lift nothing)")
    work = scenario_work(d, demands)
    need = needed_met(len(demands), probability)
    lift = np.zeros((len(d.cells), d.T))
    check = ShiftCheck(d, demands, target) if check is None else check
    current = _plan_and_check(d, lift, demands, target, solver_config, check)
    history = [_round_row(0, current, d, lift, np.zeros(len(d.cells), bool), True, need)]
    left_alone = np.zeros(len(d.cells), dtype=bool)
    for k in range(1, int(rounds) + 1):
        cells = (current.met < need) & ~left_alone
        add = lift_hours(d, current.shortfall, work, target, probability, cells, getattr(check, "at_arrival", False))
        if not add.any():
            break
        trial = _plan_and_check(d, lift + add, demands, target, solver_config, check)
        raised = add.any(axis=1)
        improved = trial.met > current.met
        accepted = bool(trial.met.sum() > current.met.sum())
        history.append(_round_row(k, trial, d, lift + add, raised, accepted, need))
        if not accepted:
            break
        left_alone |= raised & ~improved
        lift, current = lift + add, trial
    return current, lift, history


def solve_checked_plan(ws, requirements, forecast, errors, *, progress=None, judge=None, price_rules: bool = True):
    """Plan at P50, check against scenarios, lift the cells that fall short, state the risk on held-out scenarios.

    Parameters
    ----------
    ws : Workspace.
    requirements : requirements of the mean forecast (``quantile = 50``): the plan and its reported allocation.
    forecast : the forecast table the scenarios are drawn around.
    errors : the forecast run's backtest errors (``backtest_errors.parquet``).
    judge : None to check with the linear model (:class:`ShiftCheck` / :class:`CheckPool`; each scenario's full
        requirements are computed for it); else a function of (plan data, the check and held-out scenarios, their volume
        tables) returning a context manager around an object with the same ``shortfalls``, the scenarios given as
        :class:`~capplan.optimize.stochastic.ScenarioWork` (their work per cell: no requirements are computed for a
        judge of the volumes) (``[staffing] check_judge = "replay"``: :func:`capplan.judge.replay_judge`,
        handed down from above since the simulator sits above this layer). ``[staffing] check_judge`` is honoured by
        :func:`capplan.judge.plan_for_risk` (``capplan plan``, ``capplan evaluate``), which passes the judge; called
        directly this function checks with the model unless given one, and ``solve["risk"]["judge"]`` says which.
    price_rules : False skips pricing the overtime cap and quality floors (as :func:`capplan.optimize.solve_plan`'s).

    Returns
    -------
    PlanResult, with ``risk`` the per-cell table of :func:`~capplan.optimize.stochastic.risk_table` and
    ``solve["risk"]`` its summary (``mode = "checked"``, the rounds, the lift per cell). ``binding`` is priced as
    :func:`capplan.optimize.solve_plan`'s, from the accepted round's deterministic model (the mean forecast's
    requirements plus the lift: the plan's own model), not from the scenarios (:func:`_price_plan`).
    """
    from capplan.optimize.check import check_plan
    from capplan.optimize.plan import realtime_target_report

    def step(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(f"optimize: {stage}", fraction)

    staffing, solver = ws.config.staffing, ws.config.solver
    p, S = float(staffing.target_probability), int(staffing.scenarios)
    step("scenarios", 0.0)
    started = time.perf_counter()
    d = prepare(ws, requirements)
    target = cell_targets(ws, d)
    drawn = draw_scenarios(forecast, errors, ws.config, S)
    check = draw_scenarios(forecast, errors, ws.config, S, skip=S)
    # the linear check solves each scenario's demand per interval (full requirements); a judge of the volumes (the
    # replay) needs of a scenario only its work per cell: as_hours, the met rule, the lift
    both = scenario_demands(ws, d, drawn.forecasts + check.forecasts, work_only=judge is not None)
    demands, held = both[:S], both[S:]
    step("plan, check, lift", 0.1)
    t = time.perf_counter()
    judged = (scenario_checks(d, demands + held, target, int(staffing.check_workers)) if judge is None
              else judge(d, demands + held, drawn.forecasts + check.forecasts))
    with judged as lp:  # one model (or replay judge) per process for every round
        setup_seconds = time.perf_counter() - t  # the model's build here; with a pool only the spawn (the build overlaps P50)
        final, lift, rounds = plan_check_lift(d, demands, target, p, int(staffing.check_rounds), solver, lp)
        step("held-out check", 0.7)
        t = time.perf_counter()
        held_hours = lp.shortfalls(held, final.staff, float(solver.time_limit_s))
        check_seconds = time.perf_counter() - t
    step("extract", 0.85)
    table = risk_table(d, target, shortfall_share(final.shortfall, scenario_work(d, demands)),
                       shortfall_share(held_hours, scenario_work(d, held)),
                       np.zeros((S, len(d.cells)), dtype=bool))
    report = dict(final.report, relative_gap_limit=float(solver.relative_gap), time_limit_s=float(solver.time_limit_s),
                  method=f"checked/{final.report['method']}", seconds=time.perf_counter() - started)
    report["risk"] = _risk_summary(d, table, p, S, rounds, lift, drawn, check, check_seconds)
    report["risk"]["check_setup_seconds"] = setup_seconds
    report["risk"]["judge"] = judge_label(judge, staffing)
    result = checked_tables(d, final, lift, solver, report, price_rules)
    result.solve["seconds"] = time.perf_counter() - started  # the mean allocation and the rule prices too
    result.risk = table
    result.solve["realtime_targets"] = realtime_target_report(requirements, result.coverage)
    step("check", 0.95)
    result.checks = check_plan(ws, requirements, result)
    step("done", 1.0)
    return result


def checked_tables(d: PlanData, final: Checked, lift: np.ndarray, solver_config, report: dict, price_rules: bool = True):
    """The tables of the accepted plan: the mean forecast's allocation on its shifts (an LP with the staffing fixed;
    when nothing was lifted, the P50 solve's own, which is that LP's optimum already), laid out by
    :func:`~capplan.optimize.plan.assemble` and priced from the accepted round's model (:func:`_price_plan`)."""
    from capplan.optimize.plan import assemble

    if final.allocation is not None and not lift.any():  # the mean forecast's model solved with these staff: no second LP
        alloc, egr = final.allocation
    else:
        alloc, egr = _mean_allocation(d, final.staff, solver_config, time.perf_counter() + float(solver_config.time_limit_s))
    result = assemble(d, final.staff, alloc, egr_values=egr, solve=report, duals=final.duals or None)
    result.staff = final.staff
    _price_plan(final, lift, result, solver_config, price_rules)
    return result


def _price_plan(final: Checked, lift: np.ndarray, result, solver_config, price_rules: bool) -> None:
    """Price ``result.binding`` as :func:`capplan.optimize.solve_plan` does, from the accepted round's model.

    The row limits come priced from ``final.duals`` (:func:`capplan.optimize.extract.shadow_prices`, in
    :func:`~capplan.optimize.plan.assemble`); the overtime cap and quality floors are priced here from the same
    relaxation moved one step (:func:`capplan.optimize.plan._price_rules`, on the lifted data, in the time left of the
    accepted solve's ``time_limit_s``). Every priced row's unit says whose prices they are: the deterministic model of
    the mean forecast's requirements, lifted by ``lift``, which the plan was solved as, not the scenarios. A fallback
    round has no relaxation: its rows say why they are not priced.
    """
    from capplan.optimize.extract import unpriced
    from capplan.optimize.fallback import UNPRICED
    from capplan.optimize.plan import _price_rules

    if not final.duals:
        result.binding = unpriced(result.binding, UNPRICED)
        return
    if price_rules:
        left = max(float(solver_config.time_limit_s) - float(final.seconds.get("solve", 0.0)), 0.0)
        _price_rules(final.data, final.duals, final.relaxation, result, solver_config, time.perf_counter() + left)
    hours = float(lift.sum())
    whose = (f"; the lifted deterministic model's (mean forecast's requirements + {hours:,.1f} standard h of lift), not the scenarios'"
             if hours > 0 else "; the mean forecast's deterministic model (nothing lifted), not the scenarios'")
    b = result.binding
    priced = b["shadow_price"].notna() & ~b["shadow_unit"].astype(str).str.startswith("not priced")
    result.binding = b.assign(shadow_unit=b["shadow_unit"].where(~priced, b["shadow_unit"].astype(str) + whose))


def _risk_summary(d: PlanData, table, p: float, S: int, rounds: list[dict], lift: np.ndarray, drawn, check, check_seconds: float) -> dict:
    """``solve.json`` ``risk`` of a checked plan: the scenario mode's keys plus the rounds and the lift per cell."""
    work = cell_work(d)
    lifted_cells = [{"queue": str(d.cells.at[c, "queue"]), "language": str(d.cells.at[c, "language"]), "lift_hours": float(lift[c].sum()),
                     "lift_share": float(lift[c].sum() / max(float(work[c]), 1e-12))} for c in np.flatnonzero(lift.sum(axis=1) > 0)]
    return {"mode": "checked", "target_probability": p, "scenarios": S, "discarded_per_cell": 0,
            "blocks": [list(map(int, b)) for b in drawn.blocks], "held_out_blocks": [list(map(int, b)) for b in check.blocks],
            "held_out_distinct": check.distinct, "check_seconds": check_seconds,
            "probability_estimate": "(met + 1/2) / (held_out + 1), Jeffreys", "rounds": rounds, "lifted_cells": lifted_cells,
            "p50_paid_cost": rounds[0]["paid_cost"],
            "cells_at_target_probability": int((table["probability"] >= p - 1e-9).sum()), "cells": int(len(table)),
            "min_probability": float(table["probability"].min()) if len(table) else None,
            "mean_probability": float(table["probability"].mean()) if len(table) else None}
