"""Everything the plan workbooks need, gathered by the pipeline into one object.

The pipeline fills a :class:`PlanContext` from the tables a plan run writes (see PRODUCT.md, "Files a run
writes") and hands it to :func:`capplan.report.write_plan_workbooks`. Frames may carry extra columns; the
writers use the columns they know and ignore the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from capplan.config import Config


def _empty() -> pd.DataFrame:
    return pd.DataFrame()


@dataclass
class ComparisonPlan:
    """A second plan of the same week at another forecast quantile (only its cost is compared)."""

    vendor_allocation: pd.DataFrame
    solve: dict
    quantile: int


@dataclass
class PlanContext:
    """One plan run, as the workbooks see it.

    Attributes
    ----------
    run_id, created_utc, capplan_version
        Provenance shown on every README sheet (``created_utc`` is an ISO 8601 string).
    inputs
        One dict per input file: ``file``, ``sha256``, ``rows``.
    config
        The run's configuration.
    solve
        ``solve.json``: ``status``, ``objective``, ``bound``, ``gap``, ``seconds``, ``cost``,
        ``baseline_cost``, ``unmet_hours``, model size...
    warnings
        Validation and run warnings, one sentence each.
    requirements, shift_plan, allocation, coverage, vendor_allocation, shortfalls, binding
        The plan tables (``capplan.schema`` columns). ``vendor_allocation.cost`` is in the reporting
        currency (``config.policy.currency``); ``vendor_allocation.hours`` are paid hours.
    forecast, history
        The forecast used (forecast contract) and the input history (interval level).
    pools, vendors, queues
        Workspace frames (see common inputs contract).
    patterns
        Moderators per weekly pattern: ``pool, vendor, shift, start_day, days_per_week, moderators,
        paid_hours_week`` (the optimizer's ``patterns`` table); empty when not known.
    budget
        Optional budget rows: ``month`` (timestamp of the month's first day), ``vendor`` (empty = whole
        plan), ``amount``, ``currency``.
    comparison
        Optional :class:`ComparisonPlan`: the same week planned at another forecast quantile (the median, when
        the plan is at P80/P90/P95), whose cost finance compares with this plan's.
    """

    run_id: str
    created_utc: str
    capplan_version: str
    config: Config
    inputs: list[dict] = field(default_factory=list)
    solve: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    requirements: pd.DataFrame = field(default_factory=_empty)
    shift_plan: pd.DataFrame = field(default_factory=_empty)
    allocation: pd.DataFrame = field(default_factory=_empty)
    coverage: pd.DataFrame = field(default_factory=_empty)
    vendor_allocation: pd.DataFrame = field(default_factory=_empty)
    shortfalls: pd.DataFrame = field(default_factory=_empty)
    binding: pd.DataFrame = field(default_factory=_empty)
    forecast: pd.DataFrame = field(default_factory=_empty)
    history: pd.DataFrame = field(default_factory=_empty)
    pools: pd.DataFrame = field(default_factory=_empty)
    vendors: pd.DataFrame = field(default_factory=_empty)
    queues: pd.DataFrame = field(default_factory=_empty)
    comparison: "ComparisonPlan | None" = None
    patterns: pd.DataFrame = field(default_factory=_empty)
    budget: pd.DataFrame = field(default_factory=_empty)
    proficiency: pd.DataFrame = field(default_factory=_empty)  # AHT multiplier per pool x cell, quality, rework factor, source
    risk: pd.DataFrame = field(default_factory=_empty)  # risk = "scenarios": per cell the probability of meeting its target

    def comparison_parts(self) -> tuple[pd.DataFrame, dict] | None:
        """``(vendor_allocation, solve)`` of the comparison plan, or None when there is none."""
        if self.comparison is None:
            return None
        return self.comparison.vendor_allocation, dict(self.comparison.solve)
