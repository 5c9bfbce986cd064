"""The fallback plan: the baseline's shifts, when the time limit runs out before the optimizer has any plan.

On a loaded machine the 3x demo's LP relaxation alone can take longer than ``[solver] time_limit_s``; the optimizer
then has no plan (:class:`capplan.errors.SolverTimeout`). Rather than nothing, the planner gets a runnable plan,
labelled as what it is:

1. **Shifts**: the baseline's (:func:`capplan.optimize.baseline.baseline_plan`, a competent planner's method, no
   solver; it runs for the comparison anyway), unchanged.
2. **Allocation**: the model's LP with those shifts fixed (:func:`capplan.optimize.solve.fixed_staff_lp`), the best
   routing of the baseline's staff, when it finishes within ``[solver] fallback_lp_share x time_limit_s`` more seconds;
   otherwise (or when HiGHS fails on it) the baseline's own dispatch.
3. **Honesty**: status ``fallback``; ``status_detail`` says so in words; ``bound`` is the best proven lower bound
   the optimizer had (the LP relaxation's when it finished, else the MIP's), ``gap`` the plan's distance to it when
   both exist (the fixed LP's objective is the model's; the baseline's own dispatch is not priced by the model, so
   its gap is unknown), else ``None`` ("no bound"). ``fallback`` in ``solve.json`` has the figures.

It never replaces a plan the optimizer found, and it answers only running out of time: every other solver failure
stays an error, and bad input fails before any solve. The plan goes through the same checker as any plan.
Measured on the 3x demo: ``bench/plan_fallback.py``, ``bench/results/plan_fallback_large.json``, docs/optimizer.md.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd

from capplan.errors import SolverError, SolverTimeout
from capplan.optimize.data import PlanData
from capplan.optimize.result import PlanResult, SolveStatus

BASELINE_DISPATCH = "baseline"  # method: the baseline's shifts and its own dispatch
FIXED_LP = "baseline_fixed_lp"  # method: the baseline's shifts, allocation by the fixed-staff LP


def fallback_plan(ws, requirements: pd.DataFrame, d: PlanData, b, timeout: SolverTimeout) -> tuple[PlanResult, PlanResult]:
    """(the fallback plan, the baseline plan it was made from) after ``timeout`` (see the module docstring)."""
    from capplan.optimize.baseline import baseline_plan
    from capplan.optimize.plan import model_plan, model_report
    from capplan.optimize.solve import fixed_staff_lp

    solver = ws.config.solver
    started = time.perf_counter()
    base = baseline_plan(ws, requirements, data=d)
    info = {"reason": f"the optimizer ran out of time: {timeout.reason} within time_limit_s = {float(solver.time_limit_s):g} s",
            "optimizer_seconds": timeout.seconds, "baseline_seconds": time.perf_counter() - started}
    budget = float(solver.fallback_lp_share) * float(solver.time_limit_s)
    lp = None
    if budget > 0:
        t = time.perf_counter()
        try:
            lp = fixed_staff_lp(b, solver, base.staff, t + budget)
        except SolverError as exc:  # keep the baseline's dispatch, say why
            info["lp_error"] = str(exc)
        info["lp_seconds"] = time.perf_counter() - t
        info["lp_budget_s"] = budget
    bound = timeout.bound if np.isfinite(timeout.bound) else None
    report = {"status": SolveStatus.FALLBACK.value, "solver": solver.backend, "phases": timeout.phases, "bound": bound,
              "seconds": timeout.seconds + time.perf_counter() - started}
    if lp is not None:
        objective = lp.objective
        gap = max(objective - bound, 0.0) / max(abs(objective), 1e-9) if bound is not None else None
        result = model_plan(ws, d, b, lp.values, {**report, "method": FIXED_LP, "objective": objective, "gap": gap})
        info["allocation"] = "the model's LP with the baseline's shifts fixed"
    else:
        gap = None
        solve = {**base.solve, **model_report(ws, b), **report, "method": BASELINE_DISPATCH, "objective": None, "gap": None}
        result = dataclasses.replace(base, solve=solve)
        info["allocation"] = "the baseline's own dispatch" + ("; fallback_lp_share = 0" if budget <= 0 else "; the fixed-staff LP failed"
                                                               if "lp_error" in info else f"; the fixed-staff LP did not finish in {budget:g} s")
    info["bound"] = "no bound" if bound is None else f"proven lower bound {bound:,.0f} {d.config.policy.currency}"
    result.solve["fallback"] = info
    result.solve["status_detail"] = status_detail(result.solve)
    return result, base


def status_detail(solve: dict) -> str:
    """The fallback in one line: what was written, why, and how good it is known to be."""
    info = solve["fallback"]
    gap = solve.get("gap")
    quality = (f"{gap:.2%} above the proven bound" if gap is not None else
               "no bound: how far it is from the best plan is unknown" if solve.get("bound") is None else
               f"{info['bound']}; the gap of the baseline's own dispatch is not computed")
    return f"fallback: baseline plan, optimizer ran out of time ({info['reason'].split(': ', 1)[1]}); allocation by {info['allocation']}; {quality}"
