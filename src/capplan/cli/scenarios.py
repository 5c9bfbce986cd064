"""``capplan diff`` and ``capplan scenarios``: compare two plan runs; plan every what-if scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from capplan.cli.present import Summary

_DIFF_TABLES = (("headline", "What changed (A -> B)"), ("cost", "Cost by vendor, site, queue, language"),
                ("moderators", "Moderators by pool and shift"), ("vendor_hours", "Vendor paid hours per week"),
                ("coverage", "Coverage and unmet work by cell [h]"), ("binding", "Binding limits"),
                ("why", "Why: settings that differ"), ("service", "Replayed service"))
_ROWS = 12  # rows of each table printed; the workbook has them all


def diff(
    run_a: str = typer.Argument(..., help="Plan run A: a run id in WS/plans/, 'latest', or a plan run folder."),
    run_b: str = typer.Argument(..., help="Plan run B (same workspace as A)."),
    workspace: Path = typer.Option(Path("."), "--workspace", "-w", help="Workspace folder holding plans/ (for run ids)."),
) -> None:
    """Compare two plan runs: cost, headcount, vendor hours, coverage, binding limits and why; writes diffs/<run-id>/."""
    from capplan.cli.main import print_summary
    from capplan.pipeline.diff import run_diff

    head, body = diff_summary(run_diff(run_a, run_b, workspace))
    print_summary(head)  # the sentences first: what a planner reads in 30 seconds
    print_summary(body)


def scenarios(
    workspace: Path = typer.Argument(Path("."), help="Workspace folder (holds scenarios/<name>.toml)."),
    only: Optional[list[str]] = typer.Option(None, "--scenario", help="Run only this scenario (repeat for several)."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Scenarios planned side by side (processes; 2 on a 2-core machine halves the time)."),
    workbooks: bool = typer.Option(False, "--workbooks/--no-workbooks", help="Also write each scenario plan's planner, finance and vendor workbooks."),
) -> None:
    """Plan every scenario in scenarios/ and compare each with the base plan; writes scenario_runs/<run-id>/scenarios.xlsx."""
    from capplan.cli.main import _progress, print_summary
    from capplan.pipeline.scenarios import run_scenarios

    with _progress() as progress:
        run = run_scenarios(workspace, names=list(only) if only else None, jobs=jobs, workbooks=workbooks, progress=progress)
    print_summary(scenarios_summary(run))


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as a planner reads them: thousands separators, one decimal, percentages for *_pct."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            fmt = "{:+.1%}" if column.endswith("_pct") else "{:+,.1f}" if "change" in column else "{:,.1f}"
            out[column] = [fmt.format(v) if pd.notna(v) else "" for v in out[column]]
    return out


def diff_summary(run) -> tuple[Summary, Summary]:
    """A :class:`capplan.pipeline.diff.DiffRun` as text: the sentences, then the tables (longest cut)."""
    d = run.diff
    tables = {}
    for name, title in _DIFF_TABLES:
        frame = getattr(d, name)
        if name == "cost":
            frame = frame[frame["change"].abs() > 0.5]
        if name == "moderators":
            frame = frame[frame["change"].abs() > 1e-9]
        if name == "binding":
            frame = frame[frame["status"] != "still"]
        if name == "coverage" and len(frame):
            frame = frame[["queue", "language", "required_productive_a", "required_productive_b", "unmet_a", "unmet_b", "unmet_change"]]
            frame = frame[(frame["required_productive_a"] - frame["required_productive_b"]).abs().gt(1e-6) | frame["unmet_change"].abs().gt(1e-6)]
        if len(frame):
            more = f" (first {_ROWS} of {len(frame)})" if len(frame) > _ROWS else ""
            tables[title + more] = _numbers(frame.head(_ROWS))
    head = Summary(lines=[f"plan B {d.b} compared with plan A {d.a}:", *d.sentences])
    return head, Summary(lines=[f"tables and chart: {run.folder / 'diff.xlsx'}"], tables=tables)


def scenarios_summary(run) -> Summary:
    """A :class:`capplan.pipeline.scenarios.ScenariosRun` as text: one row per scenario vs the base plan."""
    cols = [c for c in ("scenario", "status", "cost", "cost_change_pct", "moderators", "moderators_change", "unmet_hours",
                        "plan_run", "new_limits") if c in run.summary.columns]
    table = run.summary[cols].copy()
    if "cost_change_pct" in table:
        table["cost_change_pct"] = [f"{v:+.1%}" if pd.notna(v) else "" for v in table["cost_change_pct"]]
    for column in ("cost", "moderators", "moderators_change", "unmet_hours"):
        if column in table:
            table[column] = [f"{v:,.0f}" if column != "unmet_hours" and pd.notna(v) else (f"{v:,.1f}" if pd.notna(v) else "")
                             for v in table[column]]
    base = "reused" if run.reused_base else "planned"
    lines = [f"scenarios run {run.run_id}: base plan {run.base_plan} ({base}), forecast {run.forecast_run} -> "
             f"{run.folder / 'scenarios.xlsx'}",
             f"explain a row: capplan diff {run.base_plan} <plan_run> --workspace <WS>"]
    return Summary(lines=lines, tables={f"Scenarios vs the base plan [{run.currency}]": table}, warnings=list(run.warnings))
