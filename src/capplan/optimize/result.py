"""What a plan is: the result tables, the solve report and the status vocabulary."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capplan.schema import INTERVAL_START, LANGUAGE, QUEUE


class SolveStatus(str, enum.Enum):
    """Solver outcome, as written to ``solve.json``."""

    OPTIMAL = "optimal"  # proven optimal within the configured relative gap
    FEASIBLE = "feasible"  # a plan, stopped for a reason other than time (e.g. node limit)
    TIME_LIMIT_FEASIBLE = "time_limit_feasible"  # time limit hit with a plan; see gap
    HEURISTIC = "heuristic"  # no solver: the baseline (spreadsheet) method
    FALLBACK = "fallback"  # the optimizer ran out of time without a plan: the baseline's shifts (optimize/fallback.py)


BINDING_KINDS = (
    "pool_max_headcount", "pool_min_headcount", "vendor_max_hours", "vendor_min_hours", "exposure_share",
    "exposure_daily", "language_share", "no_skilled_pool", "vendor_share", "vendor_notice_max", "vendor_notice_min",
)

SHORTFALL_COLUMNS = [QUEUE, LANGUAGE, INTERVAL_START, "unmet_hours", "severity", "penalty", "reason"]
BINDING_COLUMNS = ["kind", "name", "detail", "shadow_price", "shadow_unit"]  # shadow price per week, see extract.shadow_prices


@dataclass
class PlanResult:
    """A shift plan and everything reported about it (tables sorted by their keys, times UTC).

    Attributes
    ----------
    shift_plan : one row per pool, shift and local working day: ``SHIFT_PLAN_COLUMNS`` + timezone,
        end_utc, on_site_hours, paid_hours_total [h], cost [reporting currency].
    patterns : the integer decisions: pool, vendor, shift, start_day (Mon..Sun), days_per_week,
        moderators, paid_hours_week [h per moderator].
    allocation : ``ALLOCATION_COLUMNS`` + standard_hours (productive / proficiency) and work_hours
        (standard hours spent handling items).
    coverage : ``COVERAGE_COLUMNS`` (required/planned in moderators, backlog and unmet in hours) + kind,
        workload_hours, work_done_hours, required_hours.
    vendor_allocation : ``VENDOR_ALLOCATION_COLUMNS`` (hours = productive hours, cost in reporting currency).
    exposure : egregious hours per pool, shift and day against the per-moderator daily cap.
    shortfalls : ``SHORTFALL_COLUMNS``.
    binding : ``BINDING_COLUMNS`` (kind, name, detail, shadow_price, shadow_unit): the limits that bind and what one
        more unit of each would save per week (NaN when not priced).
    solve : the ``solve.json`` dict.
    checks : violations found by :func:`capplan.optimize.check.check_plan` (empty = valid).
    """

    shift_plan: pd.DataFrame
    patterns: pd.DataFrame
    allocation: pd.DataFrame
    coverage: pd.DataFrame
    vendor_allocation: pd.DataFrame
    exposure: pd.DataFrame
    shortfalls: pd.DataFrame
    binding: pd.DataFrame
    solve: dict
    checks: list[str] = field(default_factory=list)
    cost_breakdown: pd.DataFrame | None = None
    proficiency: pd.DataFrame | None = None  # staffing.proficiency.pool_cell_proficiency: the multipliers used, with their source
    risk: pd.DataFrame | None = None  # risk = "scenarios": per cell the probability of meeting its target (optimize.stochastic)
    staff: np.ndarray | None = None  # moderators per pattern of PlanData.patterns (set by the baseline: the fallback's shifts)
