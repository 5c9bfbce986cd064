"""Optimize: cost-minimal multi-skill shift plan and BPO vendor allocation (OR-Tools MathOpt).

Public entry points: :func:`solve_plan`, :func:`baseline_plan`, :func:`check_plan`, :class:`PlanResult`.
The solver is imported only when :func:`solve_plan` runs.
"""

from capplan.optimize.check import check_plan
from capplan.optimize.baseline import baseline_plan
from capplan.optimize.plan import solve_plan
from capplan.optimize.result import PlanResult, SolveStatus

__all__ = ["solve_plan", "baseline_plan", "check_plan", "PlanResult", "SolveStatus"]
