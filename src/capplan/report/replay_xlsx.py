"""``replay.xlsx``: planned vs achieved per cell-week (table and chart), pool occupancy, scenario risk.

Tables only (tidy frames from :mod:`capplan.simulate`), laid out with the helpers of
:mod:`capplan.report.xlsx`: every string from an input is written as text (never a formula), sheet
titles are cleaned, tables get headers, formats and frozen panes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import PatternFill

from capplan.report import xlsx_openpyxl as xlsx  # openpyxl writer; the plan workbooks moved to XlsxWriter (report.xlsx)

MISSED_FILL = PatternFill("solid", fgColor="F8CBAD")
SUMMARY_KEYS = ("policy", "plan_run", "arrivals", "items", "items_judged", "on_time_share", "cell_weeks", "cell_weeks_met",
                "cell_weeks_met_share", "abandon_rate", "realtime_service_level", "deferred_on_time_share", "occupancy",
                "paths", "level", "p_all_met", "cells_at_risk", "cell_weeks_met_share_mean", "on_time_share_mean", "seed", "seconds")


def planned_vs_achieved(cell_weeks: pd.DataFrame | None, risk: pd.DataFrame | None, planned: pd.DataFrame | None) -> pd.DataFrame:
    """One row per cell-week: target, the plan's expectation, what the replay achieved (or its risk)."""
    if cell_weeks is not None:
        out = cell_weeks.rename(columns={"items": "judged_items"})[["queue", "language", "week", "kind", "target", "arrived",
                                                                   "judged_items", "on_time", "abandoned", "achieved", "met"]]
    else:
        out = risk[["queue", "language", "week", "kind", "target", "paths", "achieved_mean", "achieved_p10", "achieved_p90", "p_met"]].rename(
            columns={"achieved_mean": "achieved"})
    if planned is not None:
        out = out.merge(planned, on=["queue", "language", "week"], how="left")
    out.insert(3, "cell", out["queue"] + "/" + out["language"])
    return out.sort_values(["queue", "language", "week"], kind="stable").reset_index(drop=True)


def write_replay_workbook(path: Path, *, info: dict, summary: dict, cell_weeks: pd.DataFrame | None, pools: pd.DataFrame | None,
                          risk: pd.DataFrame | None, planned: pd.DataFrame | None) -> Path:
    """Write ``replay.xlsx``: README, Planned vs achieved (+ chart), Pools (per pool over the window), Risk."""
    wb = Workbook()
    book = xlsx.Book()
    readme_ws = xlsx.new_sheet(wb, book, "README", first=True)
    frame = planned_vs_achieved(cell_weeks, risk, planned)
    ws = xlsx.new_sheet(wb, book, "Planned vs achieved")
    pct = {c: xlsx.PCT for c in ("target", "achieved", "planned_service", "achieved_p10", "achieved_p90", "p_met")}
    ints = {c: xlsx.INT for c in ("arrived", "judged_items", "on_time", "abandoned", "planned_items", "paths")}
    placed = xlsx.write_table(ws, book, frame, "planned_vs_achieved", formats={**pct, **ints})
    if len(frame) and "achieved" in placed.columns:
        a, t = placed.columns["achieved"], placed.columns["target"]
        last = max(placed.columns.values(), key=lambda c: (len(c), c))
        ws.conditional_formatting.add(f"A{placed.first_row}:{last}{placed.last_row}",
                                      FormulaRule(formula=[f"AND(ISNUMBER(${a}{placed.first_row}),${a}{placed.first_row}<${t}{placed.first_row})"],
                                                  fill=MISSED_FILL))
        _chart(ws, placed, frame)
    xlsx.finish_sheet(ws, freeze="E2")
    if pools is not None:
        ps = xlsx.new_sheet(wb, book, "Pools")
        by_pool = pools.groupby("pool", as_index=False).agg(
            on_shift_avg=("on_shift", "mean"), productive_hours=("productive_hours", "sum"), busy_hours=("busy_hours", "sum"),
            idle_hours=("idle_hours", "sum"), egregious_hours=("egregious_hours", "sum"))
        by_pool["occupancy"] = by_pool["busy_hours"] / by_pool["productive_hours"].where(by_pool["productive_hours"] > 0)
        by_pool["egregious_share"] = by_pool["egregious_hours"] / by_pool["productive_hours"].where(by_pool["productive_hours"] > 0)
        xlsx.write_table(ps, book, by_pool, "pools", formats={"on_shift_avg": xlsx.NUM, "productive_hours": xlsx.HOURS, "busy_hours": xlsx.HOURS,
                                                              "idle_hours": xlsx.HOURS, "egregious_hours": xlsx.HOURS,
                                                              "occupancy": xlsx.PCT, "egregious_share": xlsx.PCT})
        xlsx.finish_sheet(ps, freeze="B2")
    facts = [(k, info[k]) for k in ("run_id", "created_utc", "capplan_version") if k in info]
    for key in SUMMARY_KEYS:
        if key in summary:
            value = summary[key]
            facts.append((key, json.dumps(value) if isinstance(value, (dict, list)) else value))
    row = xlsx.readme(readme_ws, "capplan replay workbook", facts, [
        "Planned vs achieved: per queue, language and ISO week the target, what the plan expected (forecast items and the",
        "requirements' service level) and what the replay achieved; rows below target are shaded; the chart compares them.",
        "Pools: moderators on site, productive, busy, idle and egregious hours over the window, occupancy.",
        "With --scenarios: achieved is the mean over the paths, p_met the share of paths meeting the target (SLA risk).",
        "Interval-level tables are cells.parquet and pools.parquet in the same folder; see docs/replay.md for the model.",
    ])
    xlsx.put(readme_ws, row, 1, "Inputs:").font = xlsx.BOLD
    inputs = pd.DataFrame(info.get("inputs") or [], columns=["table", "file", "sha256"])
    xlsx.write_table(readme_ws, book, inputs, "inputs", top=row + 1)
    xlsx.set_properties(wb, f"capplan replay {info.get('run_id', '')}", info.get("created_utc"))
    wb.save(path)
    return path


def _chart(ws, placed: xlsx.Placed, frame: pd.DataFrame) -> None:
    """Clustered bars per cell-week: target, planned service, achieved."""
    from openpyxl.utils import column_index_from_string

    series = [c for c in ("target", "planned_service", "achieved") if c in placed.columns]
    chart = BarChart()
    chart.type = "col"
    chart.title = "Service per cell-week: target, planned and achieved"
    chart.y_axis.title = "share on time"
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min = 0.0
    chart.y_axis.scaling.max = 1.0
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.height, chart.width = 10, max(18, min(60, 1.2 * len(frame)))
    for name in series:
        col = column_index_from_string(placed.columns[name])
        chart.add_data(Reference(ws, min_col=col, min_row=placed.header_row, max_row=placed.last_row), titles_from_data=True)
    cell_col = column_index_from_string(placed.columns["cell"])
    chart.set_categories(Reference(ws, min_col=cell_col, min_row=placed.first_row, max_row=placed.last_row))
    anchor = len(frame.columns) + 2
    from openpyxl.utils import get_column_letter

    ws.add_chart(chart, f"{get_column_letter(anchor)}2")
