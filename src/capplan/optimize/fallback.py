"""The fallback plan, when the time limit runs out before the optimizer has any plan.

On a loaded machine the 3x demo's LP relaxation alone can take longer than ``[solver] time_limit_s``, or it finishes
and the rounded plan's LP does not; the optimizer then has no plan (:class:`capplan.errors.SolverTimeout`). Rather
than nothing, the planner gets a runnable plan, labelled as what it is. Within ``[solver] fallback_lp_share x
time_limit_s`` more seconds (one budget for both LPs below):

1. **The rounded relaxation** (method ``relaxation_fixed_lp``), when the LP relaxation finished: its staffing rounded
   and routed by the LP with that staffing fixed, then trimmed (:func:`capplan.optimize.solve.rounded_fixed_lp`), the
   roundings of relax-round-fix in its order (nearest, at 0.4, cover) until one is within ``relative_gap`` of the
   bound or the budget is spent, the cheapest kept: what relax-round-fix would have had with more time.
2. **The baseline's shifts** (:func:`capplan.optimize.baseline.baseline_plan`, a competent planner's method, no
   solver; it runs for the comparison anyway), routed by the model's LP with those shifts fixed
   (:func:`capplan.optimize.solve.fixed_staff_lp`, method ``baseline_fixed_lp``), in the budget left. Skipped when
   the rounded relaxation's plan is already within ``relative_gap`` of the proven bound (the optimizer's own stop
   rule: no plan can be more than that cheaper); tried otherwise, and the plan with the lower model objective is
   kept (the rounded relaxation's on a tie).
3. Neither LP finished (or HiGHS failed on both): the baseline's shifts with its own dispatch (method ``baseline``).

**Honesty**: status ``fallback``; ``status_detail`` says which plan and why in words; ``bound`` is the best proven
lower bound the optimizer had (the LP relaxation's when it finished, else the MIP's), ``gap`` the plan's distance
to it when both exist (a fixed LP's objective is the model's; the baseline's own dispatch is not priced by the
model, so its gap is unknown), else ``None`` ("no bound"). ``fallback`` in ``solve.json`` has the figures
(``candidates``: each finished LP's model objective). ``binding.csv`` prices the limits from the LP relaxation's duals
when the relaxation finished and the plan is its staffing rounded (what the optimizer's own plan would have been
priced from); otherwise it names the limits and each row's ``shadow_unit`` says why none is priced.

It never replaces a plan the optimizer found, and it answers only running out of time: every other solver failure
stays an error, and bad input fails before any solve. The plan goes through the same checker as any plan. The
checked risk mode (:mod:`capplan.optimize.checked`) uses :func:`fallback_staffing` for its P50 plan.
Measured on the 3x demo: ``bench/plan_fallback.py``, ``bench/results/plan_fallback_large.json`` (before the rounded
relaxation), ``bench/results/plan_fallback_large_relaxation.json`` (after), docs/optimizer.md.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capplan.errors import SolverError, SolverTimeout
from capplan.optimize.data import PlanData
from capplan.optimize.result import PlanResult, SolveStatus

BASELINE_DISPATCH = "baseline"  # method: the baseline's shifts and its own dispatch
FIXED_LP = "baseline_fixed_lp"  # method: the baseline's shifts, allocation by the fixed-staff LP
RELAXATION_FIXED_LP = "relaxation_fixed_lp"  # method: the LP relaxation's staffing rounded, allocation by the fixed-staff LP
UNPRICED = ("not priced: the optimizer ran out of time (a fallback plan), so there is no LP relaxation to take duals from")  # binding.csv
UNPRICED_PLAN = ("not priced: a fallback plan of the baseline's shifts, far from the LP relaxation whose duals price the optimizer's "
                 "plans; the relaxation's prices are in binding.csv only when the fallback rounds it")
PLAN_WORDS = {RELAXATION_FIXED_LP: "the LP relaxation's staffing rounded", FIXED_LP: "baseline plan", BASELINE_DISPATCH: "baseline plan"}


@dataclass
class FallbackChoice:
    """The fallback's plan: ``method``, the model's values and objective [currency] (None for the baseline's own
    dispatch), the best proven bound (None when none), the baseline plan, ``info`` for ``solve.json`` and seconds."""

    method: str
    values: dict | None
    objective: float | None
    bound: float | None
    base: PlanResult
    info: dict
    seconds: float

    @property
    def gap(self) -> float | None:
        from capplan.optimize.solve import _gap

        return None if self.objective is None or self.bound is None else _gap(self.objective, self.bound)


def _timed(info: dict, key: str, run):
    """``run()`` with its seconds in ``info[key + "_seconds"]``; a SolverError is kept in ``info[key + "_error"]`` (None)."""
    t = time.perf_counter()
    try:
        return run()
    except SolverError as exc:
        info[f"{key}_error"] = str(exc)
        return None
    finally:
        info[f"{key}_seconds"] = time.perf_counter() - t


def choose_fallback(d: PlanData, b, solver, timeout: SolverTimeout) -> FallbackChoice:
    """The fallback's plan after ``timeout`` (see the module docstring); ``solver`` is ``[solver]``."""
    from capplan.optimize.baseline import baseline_plan
    from capplan.optimize.solve import fixed_staff_lp

    started = time.perf_counter()
    base = baseline_plan(None, None, data=d)
    info = {"reason": f"the optimizer ran out of time: {timeout.reason} within time_limit_s = {float(solver.time_limit_s):g} s",
            "optimizer_seconds": timeout.seconds, "baseline_seconds": time.perf_counter() - started}
    bound = timeout.bound if np.isfinite(timeout.bound) else None
    budget = float(solver.fallback_lp_share) * float(solver.time_limit_s)
    deadline = time.perf_counter() + budget
    candidates: dict = {}  # method -> (values, model objective), in the order tried
    if budget > 0:
        info["lp_budget_s"] = budget
        if getattr(timeout, "relaxed", None) is not None:
            rounded = _timed(info, "relaxation_lp", lambda: _best_rounding(b, solver, timeout.relaxed, bound, deadline, info))
            if rounded is not None:
                candidates[RELAXATION_FIXED_LP] = rounded
        if RELAXATION_FIXED_LP in candidates and _near(candidates[RELAXATION_FIXED_LP][1], bound, solver):
            info["baseline_lp"] = f"skipped: the rounded relaxation's plan is within relative_gap = {float(solver.relative_gap):g} of the bound"
        else:
            lp = _timed(info, "lp", lambda: fixed_staff_lp(b, solver, base.staff, deadline))
            if lp is not None:
                candidates[FIXED_LP] = (lp.values, lp.objective)
    info["candidates"] = {m: float(obj) for m, (_, obj) in candidates.items()}
    if candidates:
        method, (values, objective) = min(candidates.items(), key=lambda kv: kv[1][1])  # first on a tie: the rounded relaxation
        info["allocation"] = "the model's LP with " + ("that staffing" if method == RELAXATION_FIXED_LP else "the baseline's shifts") + " fixed"
    else:
        method, values, objective = BASELINE_DISPATCH, None, None
        info["allocation"] = "the baseline's own dispatch" + _why_no_lp(info, budget)
    info["plan"] = PLAN_WORDS[method] + (f" ({info['rounding']})" if method == RELAXATION_FIXED_LP else "")
    info["bound"] = "no bound" if bound is None else f"proven lower bound {bound:,.0f} {d.config.policy.currency}"
    return FallbackChoice(method, values, objective, bound, base, info, time.perf_counter() - started)


def _near(objective: float, bound: float | None, solver) -> bool:
    """Within ``relative_gap`` of the proven bound (the optimizer's stop rule, :func:`~capplan.optimize.solve.within_gap`)."""
    from capplan.optimize.solve import within_gap

    return bound is not None and within_gap(objective, bound, float(solver.relative_gap))


def _best_rounding(b, solver, relaxed, bound: float | None, deadline: float, info: dict) -> tuple[dict, float] | None:
    """The roundings of relax-round-fix on the finished relaxation, in order, until one is within the gap or time is
    out: (values, model objective) of the cheapest, None when none finished. ``info["roundings"]``: label -> objective."""
    from capplan.optimize.solve import rounded_fixed_lp, rounding_label, roundings_for

    best, info["roundings"] = None, {}
    for rounding in roundings_for(b):
        label = rounding_label(rounding)
        found = rounded_fixed_lp(b, solver, relaxed, deadline, rounding)
        if found is None:
            break
        info["roundings"][label] = float(found[1])
        if best is None or found[1] < best[1]:
            best, info["rounding"], info["relaxation_trimmed_moderators"] = found[:2], label, found[2]
        if _near(best[1], bound, solver) or time.perf_counter() >= deadline:
            break
    return best


def _why_no_lp(info: dict, budget: float) -> str:
    """Why the baseline's own dispatch was written, for ``info["allocation"]``."""
    if budget <= 0:
        return "; fallback_lp_share = 0"
    if "lp_error" in info or "relaxation_lp_error" in info:
        return "; the fixed-staff LP failed"
    return f"; the fixed-staff LP did not finish in {budget:g} s"


def _report(c: FallbackChoice, solver, timeout: SolverTimeout) -> dict:
    """The solver report of a fallback plan (the keys of a solved plan's): status, method, bound, gap and seconds."""
    return {"status": SolveStatus.FALLBACK.value, "solver": solver.backend, "method": c.method, "phases": timeout.phases,
            "objective": c.objective, "bound": c.bound, "gap": c.gap, "seconds": timeout.seconds + c.seconds}


def fallback_plan(ws, requirements: pd.DataFrame, d: PlanData, b, timeout: SolverTimeout) -> tuple[PlanResult, PlanResult]:
    """(the fallback plan, the baseline plan) after ``timeout`` (see the module docstring). When the LP relaxation
    finished and the fallback is its staffing rounded, ``binding`` is priced from the relaxation's duals as the
    optimizer's own plan would be (the same relaxation); otherwise its limits are not priced (:data:`UNPRICED`, or
    :data:`UNPRICED_PLAN` for the baseline's shifts, in their ``shadow_unit``)."""
    from capplan.optimize.extract import unpriced
    from capplan.optimize.plan import model_plan, model_report

    c = choose_fallback(d, b, ws.config.solver, timeout)
    report = _report(c, ws.config.solver, timeout)
    relaxed = getattr(timeout, "relaxed", None)
    duals = relaxed.duals if relaxed is not None and c.method == RELAXATION_FIXED_LP else None
    if c.values is not None:
        result = model_plan(ws, d, b, c.values, report, duals=duals)
    else:
        result = dataclasses.replace(c.base, solve={**c.base.solve, **model_report(ws, b), **report})
    result.binding = unpriced(result.binding, UNPRICED if relaxed is None else UNPRICED_PLAN)
    result.solve["fallback"] = c.info
    result.solve["status_detail"] = status_detail(result.solve)
    return result, c.base


def fallback_staffing(d: PlanData, b, solver, timeout: SolverTimeout) -> tuple[np.ndarray, dict]:
    """The fallback's moderators per pattern and its solver report (the keys of a solved plan's), for the checked
    risk mode's P50 plan (:mod:`capplan.optimize.checked`), which routes and checks the shifts itself."""
    c = choose_fallback(d, b, solver, timeout)
    staff = (np.array([int(round(c.values[v])) for v in b.staff_vars], dtype=int) if c.values is not None
             else np.asarray(c.base.staff, dtype=int))
    report = {**_report(c, solver, timeout), "build_seconds": b.seconds, "variables": b.model.get_num_variables(), "integer_variables": b.n_integer,
              "constraints": b.model.get_num_linear_constraints(), "fallback": c.info}
    report["status_detail"] = status_detail(report)
    return staff, report


def status_detail(solve: dict) -> str:
    """The fallback in one line: what was written, why, and how good it is known to be."""
    info = solve["fallback"]
    gap = solve.get("gap")
    quality = (f"{gap:.2%} above the proven bound" if gap is not None else
               "no bound: how far it is from the best plan is unknown" if solve.get("bound") is None else
               f"{info['bound']}; the gap of the baseline's own dispatch is not computed")
    return (f"fallback: {info.get('plan', PLAN_WORDS[BASELINE_DISPATCH])}, optimizer ran out of time ({info['reason'].split(': ', 1)[1]}); "
            f"allocation by {info['allocation']}; {quality}")
