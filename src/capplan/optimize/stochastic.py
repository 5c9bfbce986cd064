"""Risk-aware planning: one shift plan for many demand scenarios (``[staffing] risk = "scenarios"``).

A two-stage model. The first stage is the shift plan (``staff`` per pattern, shared); the second stage is
the allocation, backlog and unmet work of every scenario (it adapts to each scenario's demand). Every
family of :mod:`capplan.optimize.model` is reused as is: the per-scenario families are called once per
scenario on a :class:`~capplan.optimize.model.Built` that shares the model and the staff variables but
carries that scenario's demand (:func:`capplan.optimize.data.with_demand`).

Scenarios (:func:`draw_scenarios`)
----------------------------------
Drawn from the forecast run's backtest errors (``backtest_errors.parquet``: the chosen model's backtest
forecasts beside the actuals, the same pairs the prediction bands are fitted on). Errors are
standardised as the bands are (:mod:`capplan.forecast.intervals`): ``z = (y - f) / s(f)`` with
``s(f)^2 = a (f + 1) + c (f + 1)^2`` fitted per cell. A scenario takes one **block of consecutive
backtest days** (one window, one offset) and applies its hour-by-hour ``z`` of every cell to the plan
week, ``v = max(f + z s(f), 0)``: the errors keep their correlation within a day, across the days of the
week and across cells (they are the same calendar days). Blocks are enumerated (window x offset),
shuffled with the solver seed and taken without replacement (with replacement only when more scenarios
are asked than blocks exist). Cells without backtest errors (short history) get independent normal
``z`` with the default band scale. Each scenario's volumes go through the ordinary requirements
(:func:`capplan.staffing.requirements.compute_requirements`, Erlang for real-time queues; the workspace's handle
times per cell are read once for all scenarios: :func:`scenario_demands`). A judge that needs only each scenario's work per
cell (the replay: :class:`ScenarioWork`, :func:`scenario_cell_work`) gets that alone.

Pricing: the target's allowance, the target probability (sample and discard)
----------------------------------------------------------------------------
A queue's service target lets a share of its items be late: ``target = 0.9`` allows ``1 - 0.9`` of a cell's
work in a week. The objective prices each scenario's late and unmet work at the cell's penalty weighted
``1 / S`` (the expected penalty over the scenarios: what the deterministic plan prices for the mean
forecast), and adds, per scenario and cell-week, the **excess** over the target's allowance,
``excess_sc >= late_sc - (1 - target_c) work_sc >= 0`` [standard h], priced at :data:`EXCESS_PRICE_SHARE` of
the penalty *per scenario* (:func:`add_target_excess`). So the plan buys what the target needs: lateness
within the allowance costs only its expected penalty (staff are bought for it only where that pays, as
for the mean forecast), lateness beyond it costs ``S`` times more than its expected share. For each cell the
``k = floor((1 - p) S)`` scenarios with the most work for that cell are *discarded*: their excess is not
priced, only their expected penalty (Campi & Garatti 2011), so the plan does not buy staff to meet the target
in a cell's worst ``1 - p`` tail. With S = 10 and p = 0.95, k = 0. The tie-breaker is weighted ``1 / S``.

That is ``[staffing] scenario_pricing = "expected"`` (the default). ``"mean"`` prices late and unmet work at the
penalty only in one more copy of the allocation, the mean forecast's (P50's objective, weight 1), and in the
scenarios only the excess over the allowance: at penalties of thousands per hour against staff at tens, the
expected penalty alone hedges nearly to the worst scenario (measured: docs/risk.md).

The stated risk (:func:`risk_table`)
------------------------------------
A cell-week **meets its target** in a scenario when its late (deferred) or unmet (real-time) work is at
most ``1 - target`` of its work, ``target`` being the queue's service target (``queues.csv``). The plan
states, per cell, the probability of meeting the target from ``m`` met of ``n`` **held-out** scenarios
(the next blocks of the shuffle, never seen by the model, each re-solved with the shift plan fixed):
``probability = (m + 1/2) / (n + 1)``, the posterior mean under the Jeffreys prior Beta(1/2, 1/2) (a
small-sample correction: 10 of 10 met states 0.955, not 1; Brown, Cai & DasGupta 2001). The raw count
(``met_held_out``) and the share met in the model's own scenarios (``p_in_sample``, optimistic: the
allocation was chosen knowing them) are kept beside it.

binding.csv's prices (:func:`price_scenario_binding`)
------------------------------------------------------
From the duals of the two-stage LP relaxation the bound comes from (no extra solve), summed over the rows of one name
(:func:`_lp`): a shared staff row once, a per-scenario exposure row over every scenario, the slope of this model's
objective in the limit moved in every scenario at once. Language and vendor shares and the rule limits (overtime cap,
quality floors) are not priced and say why; no other model's prices stand in for this one's (docs/risk.md).

References
----------
Birge, J. R., Louveaux, F. (2011). Introduction to Stochastic Programming, 2nd ed., Springer (two-stage
recourse models). Campi, M. C., Garatti, S. (2011). A sampling-and-discarding approach to chance-constrained
optimization: feasibility and optimality. J. Optimization Theory and Applications 148(2), 257-280.
Politis, D. N., Romano, J. P. (1994). The stationary bootstrap. JASA 89(428) (resampling blocks of days).
Brown, L. D., Cai, T. T., DasGupta, A. (2001). Interval estimation for a binomial proportion. Statistical Science
16(2), 101-133 (the Jeffreys prior for a binomial proportion).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capplan.errors import SolverError
from capplan.forecast.intervals import DEFAULT_A, DEFAULT_C, fit_intervals
from capplan.optimize import model as fam
from capplan.optimize.data import PlanData, prepare, with_demand
from capplan.optimize.model import Built, Scale, choose_scale, mathopt, unscale
from capplan.optimize.rounding import round_staff
from capplan.optimize.solve import _gap, within_gap
from capplan.schema import INTERVAL_START, LANGUAGE, QUEUE, VOLUME

EXCESS_PRICE_SHARE = 1.0  # an hour of a kept scenario's lateness beyond the target's allowance: this share of the penalty
# a late or unmet share up to 1 - target + this meets the target: the LP pushes a short cell to exactly its allowance,
# where barrier without crossover is accurate to about 1e-8 of a cell's work (bench/check_lp.py found misses by
# 1e-8 to 4e-8 h on a 6 h cell), so a finer rule decided (and lifted) by the solver's rounding, not by the plan
ALLOWANCE_SLACK = 1e-6
JEFFREYS = 0.5  # the stated probability is (met + JEFFREYS) / (held_out + 2 JEFFREYS): the Jeffreys posterior mean
ROUNDINGS = (0.5, 0.4, 0.0)  # relaxed staffing rounded up from these fractional parts (0.0 = every fraction up)
SMALL_MODEL_VARIABLES = 20_000  # below this the exact MIP (boxed, then full) runs when rounding misses the gap
RISK_COLUMNS = [QUEUE, LANGUAGE, "kind", "target", "probability", "p_in_sample", "scenarios", "held_out", "discarded",
                "mean_shortfall_share", "worst_shortfall_share", "met_held_out"]


# --- scenarios ----------------------------------------------------------------------------------
@dataclass
class ScenarioSet:
    """Demand scenarios of the plan window as forecast tables, and where each came from."""

    forecasts: list[pd.DataFrame]  # forecast tables (the data contract), every band equal to the volume
    blocks: list[tuple[int, int]]  # (backtest window, first day offset) of each scenario
    distinct: bool  # no block used twice


def _error_arrays(errors: pd.DataFrame, cells: list[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(actual, forecast) arrays (cells, windows, hours) from the backtest errors; NaN where a cell has none."""
    if not len(errors):
        return np.full((len(cells), 0, 0), np.nan), np.full((len(cells), 0, 0), np.nan), 0, 0
    W, H = int(errors["window"].max()) + 1, int(errors["hour"].max()) + 1
    index = {k: i for i, k in enumerate(cells)}
    ci = np.array([index.get(k, -1) for k in zip(errors[QUEUE], errors[LANGUAGE])])
    ok = ci >= 0
    actual = np.full((len(cells), W, H), np.nan)
    pred = np.full((len(cells), W, H), np.nan)
    w, h = errors["window"].to_numpy(int)[ok], errors["hour"].to_numpy(int)[ok]
    actual[ci[ok], w, h] = errors["actual"].to_numpy(float)[ok]
    pred[ci[ok], w, h] = errors["forecast"].to_numpy(float)[ok]
    return actual, pred, W, H


def _standardised(actual: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z = (y - f) / s(f) and the per-cell scale parameters (a, c), as the bands do; defaults where no pairs."""
    n = actual.shape[0]
    a, c = np.full(n, DEFAULT_A), np.full(n, DEFAULT_C)
    if actual.size == 0:
        return actual, a, c
    has = (~(np.isnan(actual) | np.isnan(pred))).reshape(n, -1).any(axis=1)
    if has.any():
        model = fit_intervals(actual[has].reshape(has.sum(), -1), pred[has].reshape(has.sum(), -1), [80])
        a[has], c[has] = model.a, model.c
    f = np.clip(np.nan_to_num(pred), 0, None) + 1.0
    s = np.sqrt(a[:, None, None] * f + c[:, None, None] * f * f)
    return (actual - pred) / s, a, c


def draw_scenarios(forecast: pd.DataFrame, errors: pd.DataFrame, config, n: int, skip: int = 0, *,
                   transfer_cap: float | None = None, z_clip: float | None = None) -> ScenarioSet:
    """``n`` demand scenarios of the plan window (see the module notes), after skipping the first ``skip`` blocks.

    Parameters
    ----------
    forecast : forecast table (``queue, language, interval_start, volume``...) covering the plan window.
    errors : backtest errors (:func:`capplan.forecast.run.backtest_errors`).
    config : Config (planning window, interval length; ``solver.seed`` seeds the shuffle).
    n, skip : scenarios wanted; blocks of the shuffle already used (the held-out check skips the model's).
    transfer_cap : at most this many times the backtest hour's own error is applied to a plan hour: the error
        ``z s(f)`` uses ``min(s(f_plan), transfer_cap x s(f_backtest))`` (an hour near empty in the backtest does not
        lend its large standardised error to a busy plan hour; docs/risk.md, *Calibration on real arrivals*); None:
        ``[staffing] scenario_error_cap``; ``inf``: no cap.
    z_clip : None, or standardised errors clipped to ``[-z_clip, z_clip]``.
    """
    planning = config.planning
    start = pd.Timestamp(dt.datetime.combine(planning.start, dt.time(0)), tz="UTC")
    days = int(planning.plan_days)
    fc = forecast[[QUEUE, LANGUAGE, INTERVAL_START, VOLUME] + [c for c in HANDLE_TIME_COLUMNS if c in forecast.columns]].copy()
    fc[INTERVAL_START] = pd.to_datetime(fc[INTERVAL_START], utc=True)
    fc = fc[(fc[INTERVAL_START] >= start) & (fc[INTERVAL_START] < start + pd.Timedelta(days=days))]
    cells = sorted(set(zip(fc[QUEUE], fc[LANGUAGE])))
    index = {k: i for i, k in enumerate(cells)}
    hour = ((fc[INTERVAL_START] - start) // pd.Timedelta(hours=1)).to_numpy(int)
    ci = np.array([index[k] for k in zip(fc[QUEUE], fc[LANGUAGE])], dtype=int)
    f_hour = np.zeros((len(cells), days * 24))
    np.add.at(f_hour, (ci, hour), fc[VOLUME].to_numpy(float))
    actual, pred, W, H = _error_arrays(errors, cells)
    z, a, c = _standardised(actual, pred)
    if z_clip is not None:
        z = np.clip(z, -float(z_clip), float(z_clip))
    transfer_cap = float(config.staffing.scenario_error_cap if transfer_cap is None else transfer_cap)
    f_back = np.clip(np.nan_to_num(pred), 0, None) + 1.0
    s_back = np.sqrt(a[:, None, None] * f_back + c[:, None, None] * f_back * f_back) if z.size else z
    rng = np.random.default_rng(int(config.solver.seed))
    span = H // 24
    blocks = [(w, o) for w in range(W) for o in range(max(span - days, 0) + 1)] if span >= 1 else [(0, 0)]
    order = [blocks[i] for i in rng.permutation(len(blocks))]
    need = skip + n
    picked = [order[i % len(order)] for i in range(skip, need)]
    no_errors = np.isnan(z).reshape(len(cells), -1).all(axis=1) if z.size else np.ones(len(cells), bool)
    scale = np.sqrt(a[:, None] * (f_hour + 1.0) + c[:, None] * (f_hour + 1.0) ** 2)
    minutes = int(planning.interval_minutes)
    frames = []
    for w, o in picked:
        zs = np.zeros_like(f_hour)
        cap = np.full_like(f_hour, np.inf)
        if z.size:
            for d in range(days):  # day d of the plan takes day (o + d) of the block, wrapping inside the window
                day = (o + d) % max(span, 1)
                zs[:, d * 24:(d + 1) * 24] = np.nan_to_num(z[:, w, day * 24:(day + 1) * 24])
                if np.isfinite(transfer_cap):
                    cap[:, d * 24:(d + 1) * 24] = float(transfer_cap) * s_back[:, w, day * 24:(day + 1) * 24]
        if no_errors.any():
            zs[no_errors] = rng.standard_normal((int(no_errors.sum()), f_hour.shape[1]))
            cap[no_errors] = np.inf
        v_hour = np.clip(f_hour + zs * np.minimum(scale, cap), 0, None)
        frames.append(_scenario_frame(fc, ci, hour, v_hour, minutes, config))
    return ScenarioSet(forecasts=frames, blocks=picked, distinct=need <= len(order))


# the forecast's handle-time columns a scenario keeps: with [forecast] aht = "forecast" its requirements use the same
# hourly handle times as the plan's (only the volume is drawn)
HANDLE_TIME_COLUMNS = ("aht_s", "aht_source", "aht_table_s")


def _scenario_frame(fc: pd.DataFrame, ci: np.ndarray, hour: np.ndarray, v_hour: np.ndarray, minutes: int, config) -> pd.DataFrame:
    """The forecast table with the scenario's volume (each hour split evenly over its intervals) in every volume
    column, the forecast's handle times (:data:`HANDLE_TIME_COLUMNS`) kept."""
    out = fc[[QUEUE, LANGUAGE, INTERVAL_START] + [c for c in HANDLE_TIME_COLUMNS if c in fc.columns]].copy()
    out[VOLUME] = v_hour[ci, hour] * minutes / 60.0
    for level in config.forecast.levels:
        out[f"volume_lo_{level}"] = out[VOLUME]
        out[f"volume_hi_{level}"] = out[VOLUME]
    out["model"] = "scenario"
    return out


# --- the two-stage model ------------------------------------------------------------------------
@dataclass
class TwoStage:
    """The model: the shared staff (in ``master``) and one :class:`Built` per scenario."""

    master: Built
    scenarios: list[Built] = field(default_factory=list)
    mean: Built | None = None  # pricing = "mean": the mean forecast's allocation, priced as the deterministic plan
    seconds: float = 0.0


def discarded(demands: list[PlanData], probability: float) -> np.ndarray:
    """(S, C) bool: per cell the ``floor((1 - p) S)`` scenarios with the most work for it (ties: later first)."""
    S = len(demands)
    k = int(math.floor((1.0 - probability) * S + 1e-9))
    work = np.stack([dd.workload.sum(axis=1) + dd.need_hours.sum(axis=1) for dd in demands])  # (S, C)
    out = np.zeros_like(work, dtype=bool)
    if k <= 0:
        return out
    order = np.argsort(-work, axis=0, kind="stable")
    for c in range(work.shape[1]):
        out[order[:k, c], c] = True
    return out


def _design_scale(d: PlanData, demands: list[PlanData]) -> Scale:
    peak = dataclasses.replace(d, need_hours=np.max([dd.need_hours for dd in demands], axis=0),
                               workload=np.max([dd.workload for dd in demands], axis=0))
    return choose_scale(peak)


def cell_work(d: PlanData) -> np.ndarray:
    """(C,) a cell's work in the window [standard h]: deferred workload plus real-time requirement hours."""
    return d.workload.sum(axis=1) + d.need_hours.sum(axis=1)


def add_target_excess(b: Built, target: np.ndarray, price_share: np.ndarray) -> list:
    """Per cell of one scenario: ``excess_c >= sum_t late[c, t] + sum_t unmet[c, t] - (1 - target_c) x work_c``,
    ``excess_c >= 0`` [standard h], priced at ``price_share_c`` x the cell's penalty [currency per standard h].

    Lateness within the target's allowance is left to the penalty families; only what exceeds it is priced here.
    Cells with ``price_share_c = 0`` (discarded scenarios) or no late / unmet variable get nothing.
    """
    mo, m, d = mathopt(), b.model, b.data
    short: dict[int, list] = {}
    for (c, _), u in b.unmet.items():
        short.setdefault(c, []).append(u)
    for c, late in b.late.items():
        short.setdefault(c, []).extend(late.values())
    work = cell_work(d)
    terms = []
    for c in sorted(short):
        if price_share[c] <= 0 or not short[c]:
            continue
        allowance = max(1.0 - float(target[c]), 0.0) * float(work[c]) / b.scale.hours
        name = f"{d.cells.at[c, QUEUE]}/{d.cells.at[c, LANGUAGE]}"
        x = m.add_variable(lb=0.0, name=f"excess[cell={name}]")
        m.add_linear_constraint(x - mo.fast_sum(short[c]) >= -allowance, name=f"target_excess[cell={name}]")
        terms.append(float(price_share[c]) * float(d.cells.at[c, "penalty"]) * (b.scale.hours / b.scale.money) * x)
    return terms


def _second_stage(b: Built, ds: PlanData, cap, target: np.ndarray, share: np.ndarray, penalty_weight: float,
                  tie_weight: float) -> Built:
    """One scenario's allocation families on the shared model: penalties x ``penalty_weight``, excess at ``share``."""
    bs = Built(model=b.model, data=ds, scale=b.scale, staff=b.staff)
    bs.terms["tie_break"] = [tie_weight * t for t in fam.add_alloc(bs, cap)]
    bs.terms["capacity"] = fam.add_pool_capacity(bs, cap)
    realtime, deferred = fam.add_realtime_coverage(bs), fam.add_deferred_flow(bs)
    bs.terms["penalty_realtime"] = [penalty_weight * t for t in realtime] if penalty_weight > 0 else []
    bs.terms["penalty_deferred"] = [penalty_weight * t for t in deferred] if penalty_weight > 0 else []
    bs.terms["target_excess"] = add_target_excess(bs, target, share)
    egregious = fam._egregious_alloc(bs)
    bs.terms["exposure_share"] = fam.add_exposure_share(bs, cap, egregious)
    bs.terms["exposure_daily"] = fam.add_exposure_daily(bs, egregious)
    bs.terms["language_share"] = fam.add_language_share(bs)
    bs.terms["vendor_share"] = fam.add_vendor_concentration(bs)
    # moving vendor hours from the previous plan is priced as in the deterministic model, weighted like the penalties
    bs.terms["vendor_stability"] = [penalty_weight * t for t in fam.add_vendor_stability(bs)] if penalty_weight > 0 else []
    return bs


def build_two_stage(d: PlanData, demands: list[PlanData], target: np.ndarray, drop: np.ndarray | None = None,
                    pricing: str = "expected") -> TwoStage:
    """Shared staff, headcount and vendor contracts once; every allocation family once per scenario.

    ``target`` (C,): each cell's service target (:func:`cell_targets`); ``drop`` (S, C): scenarios whose excess
    over a cell's allowance is not priced (:func:`discarded`). ``pricing = "expected"``: every scenario's late and
    unmet work at its penalty weighted ``1 / S`` (tie-breaker too). ``pricing = "mean"``: late and unmet work at
    the penalty only in one more copy of the allocation, the mean forecast ``d`` (the deterministic plan's
    objective, tie-breaker at weight 1), and in the scenarios only the excess over the allowance.

    The shared rows are the deterministic model's staff rows: cost, headcount, vendor contracts and the roster
    (everyone on it scheduled at the contract). Vendor stability against a previous plan is an allocation rule, so
    each priced scenario (and the mean copy) has its own, weighted like its penalties. Not in this model: the
    no-sliver minimum (``[contracts] min_pair_weekly_hours``, off by default: a binary per pair and scenario), so
    the shifts are chosen without it.
    """
    if pricing not in ("expected", "mean"):
        raise ValueError(f"pricing must be 'expected' or 'mean', got {pricing!r}")
    mo = mathopt()
    started = time.perf_counter()
    b = Built(model=mo.Model(name="capplan-scenarios"), data=d, scale=_design_scale(d, demands))
    cap = fam.pool_capacity(d)
    b.terms["cost"] = fam.add_staff(b)
    b.terms["headcount"] = fam.add_pool_headcount(b)
    b.terms["take_or_pay"] = fam.add_vendor_contracts(b)
    b.terms["roster"] = fam.add_roster(b)  # everyone on the roster scheduled: without it the bound was not the plan's
    two = TwoStage(master=b)
    weight = 1.0 / len(demands)
    C = len(d.cells)
    if pricing == "mean":
        two.mean = _second_stage(b, d, cap, target, np.zeros(C), 1.0, 1.0)
    for s, ds in enumerate(demands):
        share = np.full(C, EXCESS_PRICE_SHARE) if drop is None else np.where(drop[s], 0.0, EXCESS_PRICE_SHARE)
        two.scenarios.append(_second_stage(b, ds, cap, target, share, weight if pricing == "expected" else 0.0, weight))
    blocks = [b, *two.scenarios] + ([two.mean] if two.mean is not None else [])
    b.model.minimize(mo.fast_sum([t for blk in blocks for ts in blk.terms.values() for t in ts]))
    two.seconds = time.perf_counter() - started
    return two


# --- solving ------------------------------------------------------------------------------------
@dataclass
class TwoStageSolution:
    """Moderators per pattern, the solver values, the proven bound and how they were found."""

    staff: np.ndarray
    values: dict
    objective: float  # [currency], includes the scenario penalties and the tie-breaker
    bound: float  # the LP relaxation's objective: a lower bound of the two-stage MIP [currency]
    gap: float
    seconds: float
    phases: dict = field(default_factory=dict)
    method: str = "relax_round_fix"
    duals: dict = field(default_factory=dict)  # the LP relaxation's row duals by name, summed over the scenarios (:func:`_lp`)


def _solve(model, params, solver_type=None):
    """MathOpt solve with names removed (the scenarios repeat the deterministic model's names)."""
    mo = mathopt()
    try:
        return mo.solve(model, solver_type or mo.SolverType.HIGHS, params=params, remove_names=True)
    except (AttributeError, RuntimeError, ValueError) as exc:  # MathOpt hides StatusNotOk (or-tools #4606)
        inner = exc.__context__ if isinstance(exc, AttributeError) and exc.__context__ is not None else exc
        raise SolverError(f"the HiGHS solver failed on the scenario model: {inner}. Fix: lower [staffing] scenarios, "
                          "or plan with risk = \"quantile\" and report the bug") from None


def _lp(b: Built, deadline: float, duals: dict | None = None) -> tuple[dict, float] | None:
    """The model as an LP by interior point (no crossover), dual simplex if that fails: (values, objective) or None.

    ``duals``: a dict filled with the row duals by row name in domain units (:func:`capplan.optimize.solve.dual_unit`,
    MathOpt's signs), **summed over the rows of one name** (:func:`capplan.optimize.solve._duals`): a shared staff row is
    named once, a scenario's allocation row once per scenario, and their sum is the slope of the objective in a limit
    moved in every scenario at once."""
    from ortools.math_opt.solvers import highs_pb2

    mo = mathopt()
    options = highs_pb2.HighsOptionsProto()
    options.string_options["run_crossover"] = "off"
    reasons: list[str] = []
    for params in (mo.SolveParameters(time_limit=dt.timedelta(seconds=max(deadline - time.perf_counter(), 0.1)),
                                      lp_algorithm=mo.LPAlgorithm.BARRIER, highs=options),
                   mo.SolveParameters(time_limit=dt.timedelta(seconds=max(deadline - time.perf_counter(), 0.1)),
                                      lp_algorithm=mo.LPAlgorithm.DUAL_SIMPLEX)):
        result = _solve(b.model, params)
        reasons.append(f"{result.termination.reason.name} {result.termination.detail}".strip())
        if result.termination.reason == mo.TerminationReason.OPTIMAL:
            if duals is not None:
                from capplan.optimize.solve import _duals

                duals.update(_duals(b, result))
            return unscale(b, result.variable_values()), float(result.objective_value()) * b.scale.money
        if time.perf_counter() >= deadline:
            return None
    raise SolverError(f"the HiGHS solver failed on the scenario model's LP ({'; '.join(reasons)}). Fix: lower [staffing] scenarios, "
                      "or plan with risk = \"quantile\" and report the bug")


def _fixed(b: Built, n: np.ndarray, deadline: float):
    staff = b.staff_vars
    saved = [(v.lower_bound, v.upper_bound) for v in staff]
    try:
        for v, k in zip(staff, n):
            v.integer = False
            v.lower_bound = v.upper_bound = float(k)
        return _lp(b, deadline)
    finally:
        for v, (lo, hi) in zip(staff, saved):
            v.lower_bound, v.upper_bound = lo, hi
            v.integer = True


def _mip(b: Built, solver_config, deadline: float, box: np.ndarray | None = None):
    """The exact MIP (boxed to [floor, ceil] of ``box`` when given): (values, objective, bound) or None."""
    mo = mathopt()
    staff = b.staff_vars
    saved = [(v.lower_bound, v.upper_bound) for v in staff]
    try:
        if box is not None:
            for v, x, (lo, hi) in zip(staff, box, saved):
                v.lower_bound = max(lo, float(np.floor(x + 1e-6)))
                v.upper_bound = min(hi, max(v.lower_bound, float(np.ceil(x - 1e-6))))
        params = mo.SolveParameters(time_limit=dt.timedelta(seconds=max(deadline - time.perf_counter(), 0.1)),
                                    relative_gap_tolerance=float(solver_config.relative_gap), random_seed=int(solver_config.seed))
        result = _solve(b.model, params)
    finally:
        for v, (lo, hi) in zip(staff, saved):
            v.lower_bound, v.upper_bound = lo, hi
    if not result.has_primal_feasible_solution():
        return None
    return (unscale(b, result.variable_values()), float(result.objective_value()) * b.scale.money,
            float(result.best_objective_bound()) * b.scale.money)


def solve_two_stage(two: TwoStage, solver_config) -> TwoStageSolution:
    """Relax-round-fix as :func:`capplan.optimize.solve.relax_round_fix` does, on the two-stage model.

    The LP relaxation's objective is a proven lower bound; the relaxed staffing is rounded up from
    each fractional part in :data:`ROUNDINGS` (repaired to the hard limits by
    :func:`~capplan.optimize.rounding.round_staff`) and the allocations of every scenario re-optimized
    with that staffing, until one is within ``relative_gap``. Small models then try the exact MIP
    (boxed around the relaxation, then full) if still above the gap.
    """
    b, d = two.master, two.master.data
    started = time.perf_counter()
    deadline = started + float(solver_config.time_limit_s)
    tol = float(solver_config.relative_gap)
    staff = b.staff_vars
    phases: dict = {}
    for v in staff:
        v.integer = False
    duals: dict = {}
    try:
        relaxed = _lp(b, deadline, duals)
    finally:
        for v in staff:
            v.integer = True
    phases["relaxation_seconds"] = time.perf_counter() - started
    if relaxed is None:
        raise SolverError(f"the scenario model's LP relaxation did not finish in [solver] time_limit_s = {solver_config.time_limit_s} s "
                          f"({b.model.get_num_variables()} variables). Fix: lower [staffing] scenarios or raise time_limit_s")
    x = np.array([relaxed[0][v] for v in staff])
    bound = relaxed[1]
    best, method = None, "relax_round_fix"
    for threshold in ROUNDINGS:
        n = round_staff(d, x, threshold)
        t = time.perf_counter()
        fixed = _fixed(b, n, deadline)
        phases[f"round_{threshold:g}_seconds"] = time.perf_counter() - t
        if fixed is None:
            break
        phases[f"round_{threshold:g}_objective"] = fixed[1]
        if best is None or fixed[1] < best[2] - 1e-9:
            best = (n, fixed[0], fixed[1])
            phases["rounding"] = f"round_{threshold:g}"
        if within_gap(best[2], bound, tol) or time.perf_counter() >= deadline:
            break
    small = b.model.get_num_variables() <= SMALL_MODEL_VARIABLES
    if small and (best is None or not within_gap(best[2], bound, tol)):
        for box in (x, None):
            exact = _mip(b, solver_config, deadline, box)
            if exact is not None and (best is None or exact[1] < best[2] - 1e-9):
                best = (np.array([int(round(exact[0][v])) for v in staff]), exact[0], exact[1])
                method = "restricted_mip" if box is not None else "mip"
                if box is None:
                    bound = max(bound, exact[2])
            if best is not None and within_gap(best[2], bound, tol):
                break
    if best is None:
        raise SolverError("the scenario model found no plan within [solver] time_limit_s. Fix: raise time_limit_s or lower [staffing] scenarios")
    n, values, objective = best
    return TwoStageSolution(staff=np.asarray(n, dtype=int), values=values, objective=objective, bound=bound,
                            gap=_gap(objective, bound), seconds=time.perf_counter() - started, phases=phases, method=method,
                            duals=duals)


# --- the stated risk ----------------------------------------------------------------------------
def shortfall_hours(bs: Built, values: dict) -> np.ndarray:
    """(C, T) late (deferred, in the interval it falls due) or unmet (real-time) work of one scenario [standard h]."""
    d = bs.data
    out = np.zeros((len(d.cells), d.T))
    for (c, t), u in bs.unmet.items():
        out[c, t] += max(values[u], 0.0)
    for c, lt in bs.late.items():
        for t, v in lt.items():
            out[c, t] += max(values[v], 0.0)
    return out


def shortfall_shares(two: TwoStage, values: dict) -> np.ndarray:
    """(S, C) late (deferred) or unmet (real-time) work over the cell's work in each scenario (0 where no work)."""
    C = len(two.master.data.cells)
    out = np.zeros((len(two.scenarios), C))
    for s, bs in enumerate(two.scenarios):
        work = cell_work(bs.data)
        out[s] = np.divide(shortfall_hours(bs, values).sum(axis=1), work, out=np.zeros(C), where=work > 1e-12)
    return out


def fixed_stage_shortfall(d: PlanData, demands: list[PlanData], target: np.ndarray, staff: np.ndarray,
                          deadline: float) -> np.ndarray:
    """(S, C, T) shortfall hours (:func:`shortfall_hours`) of each scenario solved alone with the shift plan fixed.

    With the staffing fixed the scenarios share nothing, so one small LP per scenario gives the same allocation as
    one LP of all of them, at a fraction of the memory.
    """
    out = np.zeros((len(demands), len(d.cells), d.T))
    for s, ds in enumerate(demands):
        one = build_two_stage(d, [ds], target)
        fixed = _fixed(one.master, staff, deadline)
        if fixed is None:
            raise SolverError("the scenarios checked with the shift plan fixed did not solve within [solver] time_limit_s. "
                              "Fix: raise time_limit_s")
        out[s] = shortfall_hours(one.scenarios[0], fixed[0])
        del one
    return out


@dataclass(eq=False)
class ScenarioWork:
    """A demand scenario reduced to its work per cell, ``work`` (C,) [standard h] in the plan data's cell order: what a
    judge that replays the scenario's volumes needs of it (:class:`capplan.judge.ReplayJudge`; the volumes go to the judge
    beside it). Equal to :func:`cell_work` of the scenario's full requirements (:func:`scenario_cell_work`); a model
    judge, which needs the demand per interval, takes the scenario's :class:`~capplan.optimize.data.PlanData` instead."""

    work: np.ndarray


def scenario_work(d: PlanData, demands: list) -> np.ndarray:
    """(S, C) each scenario's work per cell [standard h] (:func:`cell_work`; a :class:`ScenarioWork` carries its own)."""
    return np.array([ds.work if isinstance(ds, ScenarioWork) else cell_work(ds) for ds in demands]).reshape(len(demands), len(d.cells))


def scenario_cell_work(ws, d: PlanData, forecasts: list[pd.DataFrame]) -> list[ScenarioWork]:
    """The work per cell of each scenario's volumes (``forecasts``: :attr:`ScenarioSet.forecasts`), without its
    requirements: the same numbers as ``cell_work(with_demand(d, compute_requirements(f, ws, 50)))``
    (``tests/test_scenario_work.py``).

    A cell's work is its deferred workload (volume x handle time) plus its real-time requirement hours (Erlang C / A,
    every target of the queue: standard hours of requirement, as the lift adds them), so real-time cells still take the
    Erlang search (:func:`capplan.staffing.requirements.work_requirements`); the deferred backlog profile, the metrics
    and the binding criterion are skipped, and the handle times per cell are read from the history once. On the default
    demo week (90 cells, 8 of them real-time) 20 scenarios cost about 1.4 CPU s this way, against 10.6 for their full
    requirements (3.5 with the handle times read once).
    """
    from capplan.staffing.requirements import cell_handle_times, work_requirements

    aht = cell_handle_times(ws)
    return [ScenarioWork(cell_work(with_demand(d, work_requirements(f, ws, 50, cell_aht=aht)))) for f in forecasts]


def shortfall_share(hours: np.ndarray, work: np.ndarray) -> np.ndarray:
    """(S, C) shortfall over work from (S, C, T) shortfall hours and (S, C) work (0 where no work)."""
    total = hours.sum(axis=2)
    return np.divide(total, work, out=np.zeros_like(total), where=work > 1e-12)


def held_out_shares(d: PlanData, demands: list[PlanData], target: np.ndarray, staff: np.ndarray, deadline: float) -> np.ndarray:
    """(S, C) shortfall shares of scenarios the model never saw, each solved alone with the shift plan fixed."""
    return shortfall_share(fixed_stage_shortfall(d, demands, target, staff, deadline), scenario_work(d, demands))


def cell_targets(ws, d: PlanData) -> np.ndarray:
    """Each cell's service target (share of items within the window, from ``queues.csv``)."""
    target = dict(zip(ws.queues[QUEUE], ws.queues["target"].astype(float)))
    return np.array([target.get(q, 1.0) for q in d.cells[QUEUE]])


def risk_table(d: PlanData, target: np.ndarray, in_sample: np.ndarray, held_out: np.ndarray, drop: np.ndarray) -> pd.DataFrame:
    """Per cell: the stated probability of meeting the target, ``(met + 1/2) / (held_out + 1)`` (Jeffreys), and the counts."""
    allowed = 1.0 - target[None, :] + ALLOWANCE_SLACK
    met = (held_out <= allowed).sum(axis=0)
    n = held_out.shape[0]
    return pd.DataFrame({
        QUEUE: d.cells[QUEUE].to_numpy(), LANGUAGE: d.cells[LANGUAGE].to_numpy(), "kind": d.cells["kind"].to_numpy(),
        "target": target, "probability": (met + JEFFREYS) / (n + 2 * JEFFREYS),
        "p_in_sample": (in_sample <= allowed).mean(axis=0), "scenarios": in_sample.shape[0], "held_out": n,
        "discarded": drop.sum(axis=0), "mean_shortfall_share": held_out.mean(axis=0), "worst_shortfall_share": held_out.max(axis=0),
        "met_held_out": met,
    })[RISK_COLUMNS]


def _demands(ws, d: PlanData, scenarios: ScenarioSet) -> list[PlanData]:
    """Each scenario's plan data: its full requirements (:func:`scenario_demands`)."""
    return scenario_demands(ws, d, scenarios.forecasts)


def scenario_demands(ws, d: PlanData, forecasts: list[pd.DataFrame], *, work_only: bool = False) -> list:
    """What a check needs of each scenario (``forecasts``: :attr:`ScenarioSet.forecasts`), the workspace's handle times
    per cell read once for all: its plan data with full requirements (:func:`~capplan.staffing.requirements.compute_requirements`)
    on ``d``'s cells for the linear check and the scenario model, or with ``work_only`` (a judge of the volumes: the
    replay) only its work per cell (:func:`scenario_cell_work`)."""
    from capplan.staffing.requirements import cell_handle_times, compute_requirements

    if work_only:
        return scenario_cell_work(ws, d, forecasts)
    aht = cell_handle_times(ws)
    return [with_demand(d, compute_requirements(f, ws, 50, cell_aht=aht)) for f in forecasts]


def _mean_allocation(d: PlanData, staff: np.ndarray, solver_config, deadline: float):
    """The deterministic model of the mean forecast with the staffing fixed: the plan's allocation tables."""
    from capplan.optimize.model import build
    from capplan.optimize.solve import _lp

    b = build(d)
    for v, k in zip(b.staff_vars, staff):
        v.integer = False
        v.lower_bound = v.upper_bound = float(k)
    lp = _lp(b, mathopt().SolverType.HIGHS, deadline, solver_config.backend)
    if lp is None:
        raise SolverError("the allocation of the mean forecast on the scenario plan's shifts did not finish in time. "
                          "Fix: raise [solver] time_limit_s")
    alloc = {key: {t: max(float(lp.values[v]), 0.0) for t, v in vars_.items()} for key, vars_ in b.alloc.items()}
    egr = {key: {t: max(float(lp.values[v]), 0.0) for t, v in ys.items()} for key, ys in b.egr.items()}
    return alloc, egr


# binding.csv of a scenario plan (docs/risk.md): the limits priced from the two-stage relaxation's duals, whose conversion
# to a price per unit needs only the plan's staffing (shared staff rows; a share of the staffed capacity), and why the rest are not
PRICED_ROWS = ("headcount[", "vendor_max[", "vendor_min[", "vendor_notice_max[", "vendor_notice_min[", "roster[",
               "exposure_share[", "exposure_daily[", "vendor_change_cap[")
SHARE_UNPRICED = ("not priced: in the scenario model this cap is a share of each scenario's own hours; its price would be the "
                  "sum over the scenarios of dual x that scenario's hours, which the relaxation does not report (not computed)")
RULE_UNPRICED = ("not priced: a rule of the patterns or skills, priced by re-solving the model with the limit moved; for the "
                 "scenario model that is one two-stage relaxation per row (not done: risk = \"checked\" plans price it)")
UNPRICED = "not priced: no dual of this limit in the two-stage relaxation (no such row in the scenario model)"


def price_scenario_binding(binding: pd.DataFrame, scenarios: int, pricing: str) -> pd.DataFrame:
    """A scenario plan's ``binding`` (priced by :func:`~capplan.optimize.plan.assemble` from the relaxation's duals of
    :data:`PRICED_ROWS`): each priced row's unit says whose prices they are, the others why they have none."""
    from capplan.optimize.extract import unpriced
    from capplan.optimize.rule_prices import RULE_KINDS

    if not len(binding):
        return binding
    out = binding.copy()
    rule = out["kind"].isin(RULE_KINDS)
    share = out["kind"].isin(["language_share", "vendor_share"])
    out.loc[rule | share, "shadow_price"] = float("nan")
    out.loc[rule, "shadow_unit"] = RULE_UNPRICED
    out.loc[share, "shadow_unit"] = SHARE_UNPRICED
    whose = (f"; the two-stage scenario model's LP relaxation (staff cost + the {scenarios} scenarios' "
             + ("expected penalties" if pricing == "expected" else "excess, the mean forecast's penalties") + "), not the mean forecast's deterministic model")
    priced = out["shadow_price"].notna()
    out.loc[priced, "shadow_unit"] = out.loc[priced, "shadow_unit"].astype(str) + whose
    return unpriced(out, UNPRICED)


def scenario_tables(d: PlanData, sol: TwoStageSolution, solver_config, report: dict, scenarios: int, pricing: str):
    """The scenario plan's tables: the mean forecast's allocation on its shifts (an LP with the staffing fixed), laid
    out by :func:`~capplan.optimize.plan.assemble` and priced from the two-stage relaxation (:func:`price_scenario_binding`)."""
    from capplan.optimize.plan import assemble

    alloc, egr = _mean_allocation(d, sol.staff, solver_config, time.perf_counter() + float(solver_config.time_limit_s))
    duals = {name: v for name, v in sol.duals.items() if name.startswith(PRICED_ROWS)}
    result = assemble(d, sol.staff, alloc, egr_values=egr, solve=report, duals=duals or None)
    result.binding = price_scenario_binding(result.binding, scenarios, pricing)
    result.staff = sol.staff
    return result


def judge_label(judge, staffing) -> str:
    """``solve.json`` ``risk.judge``: ``model`` (no judge handed down: the linear check) or ``replay (<policy> routing)``."""
    return "model" if judge is None else f"replay ({staffing.check_policy} routing)"


def solve_risk_plan(ws, requirements: pd.DataFrame, forecast: pd.DataFrame, errors: pd.DataFrame, *, progress=None, judge=None):
    """The cheapest shift plan meeting every cell's target in its scenarios (``[staffing] risk = "scenarios"``).

    Parameters
    ----------
    ws : Workspace.
    requirements : requirements of the mean forecast (``quantile = 50``): the allocation reported beside the plan.
    forecast : the forecast table the scenarios are drawn around.
    errors : the forecast run's backtest errors (``backtest_errors.parquet``).
    judge : None to state the risk from the held-out scenarios solved with the shifts fixed (an LP each); else, as for
        :func:`capplan.optimize.checked.solve_checked_plan`, the judge factory of ``[staffing] check_judge = "replay"``
        (:func:`capplan.judge.replay_judge`): the held-out scenarios are replayed on the plan's shifts.

    Returns
    -------
    PlanResult, with ``risk`` the per-cell table of :func:`risk_table` and ``solve["risk"]`` its summary. Its
    ``binding`` is priced from the two-stage LP relaxation's duals, summed over the scenarios (:func:`_lp`): the limits
    of :data:`PRICED_ROWS`; the language and vendor shares and the rule limits say why they are not
    (:func:`price_scenario_binding`).
    """
    from capplan.optimize.check import check_plan

    def step(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(f"optimize: {stage}", fraction)

    config = ws.config
    staffing, solver = config.staffing, config.solver
    p, S = float(staffing.target_probability), int(staffing.scenarios)
    step("scenarios", 0.0)
    d = prepare(ws, requirements)
    drawn = draw_scenarios(forecast, errors, config, S)
    demands = _demands(ws, d, drawn)
    drop = discarded(demands, p)
    target = cell_targets(ws, d)
    step("build", 0.1)
    pricing = str(staffing.scenario_pricing)
    two = build_two_stage(d, demands, target, drop, pricing)
    step("solve", 0.2)
    sol = solve_two_stage(two, solver)
    in_sample = shortfall_shares(two, sol.values)
    size = {"variables": two.master.model.get_num_variables(), "constraints": two.master.model.get_num_linear_constraints(),
            "build_seconds": two.seconds}
    del two
    step("held-out check", 0.6)
    started = time.perf_counter()
    check = draw_scenarios(forecast, errors, config, S, skip=S)
    held = scenario_demands(ws, d, check.forecasts, work_only=judge is not None)  # the replay judges the volumes
    if judge is None:
        held_out = held_out_shares(d, held, target, sol.staff, started + float(solver.time_limit_s))
    else:
        with judge(d, held, check.forecasts) as judged:
            held_out = shortfall_share(judged.shortfalls(held, sol.staff, float(solver.time_limit_s)), scenario_work(d, held))
    check_seconds = time.perf_counter() - started
    step("extract", 0.85)
    table = risk_table(d, target, in_sample, held_out, drop)
    report = {
        "status": "optimal" if sol.gap <= float(solver.relative_gap) + 1e-9 else "feasible", "solver": solver.backend,
        "method": f"scenarios/{sol.method}", "phases": sol.phases, "objective": sol.objective, "bound": sol.bound, "gap": sol.gap,
        "seconds": sol.seconds, **size, "integer_variables": len(d.patterns),
        "relative_gap_limit": float(solver.relative_gap), "time_limit_s": float(solver.time_limit_s),
        "risk": {"mode": "scenarios", "target_probability": p, "scenarios": S, "discarded_per_cell": int(drop.sum(axis=0).max(initial=0)),
                 "blocks": [list(map(int, b_)) for b_ in drawn.blocks], "held_out_blocks": [list(map(int, b_)) for b_ in check.blocks],
                 "held_out_distinct": check.distinct, "check_seconds": check_seconds,
                 "probability_estimate": "(met + 1/2) / (held_out + 1), Jeffreys", "excess_price_share": EXCESS_PRICE_SHARE,
                 "pricing": pricing, "judge": judge_label(judge, staffing),
                 "cells_at_target_probability": int((table["probability"] >= p - 1e-9).sum()), "cells": int(len(table)),
                 "min_probability": float(table["probability"].min()) if len(table) else None,
                 "mean_probability": float(table["probability"].mean()) if len(table) else None},
    }
    result = scenario_tables(d, sol, solver, report, S, pricing)
    result.risk = table
    step("check", 0.95)
    result.checks = check_plan(ws, requirements, result)
    step("done", 1.0)
    return result
