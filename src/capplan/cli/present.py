"""What the CLI prints for each command's result: every sentence and column label lives here.

The library returns data (:mod:`capplan.pipeline` dataclasses); these functions turn it into a
:class:`Summary` (warnings, titled tables, lines) that :func:`capplan.cli.main.print_summary` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

_FORECAST_LABELS = {"model": "model", "cells": "cells", "mase": "MASE", "naive_mase": "naive MASE",
                    "wape_pooled": "WAPE", "naive_wape_pooled": "naive WAPE", "beats_naive_share": "beats naive"}


@dataclass
class Summary:
    """Text for the terminal: warnings (stderr), tables with titles, then lines (stdout)."""

    lines: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def extend(self, other: "Summary") -> "Summary":
        self.lines += other.lines
        self.tables.update(other.tables)
        self.warnings += other.warnings
        return self


def forecast_summary(run) -> Summary:
    """A :class:`capplan.pipeline.ForecastRun` as text: the model table vs the weekly seasonal naive."""
    labels = dict(_FORECAST_LABELS)
    labels.update({c: c.replace("coverage_", "cover ") + "%" for c in run.summary.columns if c.startswith("coverage_")})
    table = run.summary[[c for c in labels if c in run.summary.columns]].rename(columns=labels)
    return Summary(lines=[f"forecast run {run.run_id}: {run.cells} cells, {run.rows:,} rows -> {run.folder}"],
                   tables={"Forecast: models chosen by backtest vs the weekly seasonal naive": table},
                   warnings=list(run.warnings))


def plan_summary(run) -> Summary:
    """A :class:`capplan.pipeline.PlanRun` as text: solver outcome, cost vs the baseline, unmet work."""
    solve, cur = run.solve, run.currency
    lines = [
        f"plan run {run.run_id} (forecast {run.forecast_run}, P{run.quantile}) -> {run.folder}",
        f"solver: {solve.get('status')} in {solve.get('seconds', 0):.1f} s, gap {solve.get('gap', float('nan')):.2%}",
        f"cost of the {run.plan_days}-day plan {solve.get('cost', 0):,.0f} {cur} vs the spreadsheet baseline "
        f"{solve.get('baseline_cost', float('nan')):,.0f} {cur}; unmet work {run.unmet_hours:,.1f} h "
        f"(baseline {solve.get('baseline_unmet_hours', float('nan')):,.1f} h)",
    ]
    return Summary(lines=lines, warnings=list(run.warnings))


def demo_summary(run) -> Summary:
    """A :class:`capplan.pipeline.DemoRun` as text: where the workspace is, then its runs."""
    summary = Summary(lines=[f"demo workspace written to {run.directory} (seed {run.seed}, size {run.size})"])
    if run.forecast is not None:
        summary.extend(forecast_summary(run.forecast))
    if run.plan is not None:
        summary.extend(plan_summary(run.plan))
    return summary
