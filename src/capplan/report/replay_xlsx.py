"""``replay.xlsx``: planned vs achieved per cell-week (table and chart), pool occupancy, scenario risk.

Tables only (tidy frames from :mod:`capplan.simulate`), laid out with the helpers of
:mod:`capplan.report.xlsx`: every string from an input is written as text (never a formula), sheet
titles are cleaned, tables get headers, formats and frozen panes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from capplan.report import xlsx
from capplan.schema import KIND, LANGUAGE, POOL, PRODUCTIVE_HOURS, QUEUE, TARGET

MISSED_FILL = {"bg_color": "#F8CBAD"}
CM_PX = 37.8  # pixels per centimetre of chart size (XlsxWriter sizes charts in pixels at 96 dpi)
SUMMARY_KEYS = ("policy", "plan_run", "arrivals", "items", "items_judged", "on_time_share", "cell_weeks", "cell_weeks_met",
                "cell_weeks_met_share", "abandon_rate", "realtime_service_level", "deferred_on_time_share", "occupancy",
                "paths", "level", "p_all_met", "cells_at_risk", "cell_weeks_met_share_mean", "on_time_share_mean", "seed", "seconds")


def planned_vs_achieved(cell_weeks: pd.DataFrame | None, risk: pd.DataFrame | None, planned: pd.DataFrame | None) -> pd.DataFrame:
    """One row per cell-week: target, the plan's expectation, what the replay achieved (or its risk)."""
    if cell_weeks is not None:
        out = cell_weeks.rename(columns={"items": "judged_items"})[[QUEUE, LANGUAGE, "week", KIND, TARGET, "arrived",
                                                                   "judged_items", "on_time", "abandoned", "achieved", "met"]]
    else:
        out = risk[[QUEUE, LANGUAGE, "week", KIND, TARGET, "paths", "achieved_mean", "achieved_p10", "achieved_p90", "p_met"]].rename(
            columns={"achieved_mean": "achieved"})
    if planned is not None:
        out = out.merge(planned, on=[QUEUE, LANGUAGE, "week"], how="left")
    out.insert(3, "cell", out[QUEUE] + "/" + out[LANGUAGE])
    return out.sort_values([QUEUE, LANGUAGE, "week"], kind="stable").reset_index(drop=True)


def write_replay_workbook(path: Path, *, info: dict, summary: dict, cell_weeks: pd.DataFrame | None, pools: pd.DataFrame | None,
                          risk: pd.DataFrame | None, planned: pd.DataFrame | None) -> Path:
    """Write ``replay.xlsx``: README, Planned vs achieved (+ chart), Pools (per pool over the window), Risk."""
    book = xlsx.Book(path)
    readme_sheet = xlsx.new_sheet(book, "README")
    frame = planned_vs_achieved(cell_weeks, risk, planned)
    sheet = xlsx.new_sheet(book, "Planned vs achieved")
    pct = {c: xlsx.PCT for c in (TARGET, "achieved", "planned_service", "achieved_p10", "achieved_p90", "p_met")}
    ints = {c: xlsx.INT for c in ("arrived", "judged_items", "on_time", "abandoned", "planned_items", "paths")}
    placed = xlsx.write_table(sheet, frame, "planned_vs_achieved", formats={**pct, **ints})
    if len(frame) and "achieved" in placed.columns:
        a, t = placed.columns["achieved"], placed.columns[TARGET]
        last = max(placed.columns.values(), key=lambda c: (len(c), c))
        sheet.xl.conditional_format(f"A{placed.first_row}:{last}{placed.last_row}", {
            "type": "formula", "criteria": f"=AND(ISNUMBER(${a}{placed.first_row}),${a}{placed.first_row}<${t}{placed.first_row})",
            "format": book.fmt(None, MISSED_FILL)})
        _chart(book, sheet, placed, frame)
    xlsx.finish_sheet(sheet, freeze="E2")
    if pools is not None:
        _pools(book, pools)
    facts = [(k, info[k], None) for k in ("run_id", "created_utc", "capplan_version") if k in info]
    for key in SUMMARY_KEYS:
        if key in summary:
            value = summary[key]
            facts.append((key, json.dumps(value) if isinstance(value, (dict, list)) else value, None))
    row = xlsx.readme(readme_sheet, "capplan replay workbook", facts, [
        "Planned vs achieved: per queue, language and ISO week the target, what the plan expected (forecast items and the",
        "requirements' service level) and what the replay achieved; rows below target are shaded; the chart compares them.",
        "Pools: moderators on site, productive, busy, idle and egregious hours over the window, occupancy.",
        "With --scenarios: achieved is the mean over the paths, p_met the share of paths meeting the target (SLA risk).",
        "Interval-level tables are cells.parquet and pools.parquet in the same folder; see docs/replay.md for the model.",
    ])
    xlsx.put(readme_sheet, row, 1, "Inputs:", style=xlsx.BOLD)
    inputs = pd.DataFrame(info.get("inputs") or [], columns=["table", "file", "sha256"])
    xlsx.write_table(readme_sheet, inputs, "inputs", top=row + 1)
    readme_sheet.width(2, 70, exact=True)
    xlsx.set_properties(book, f"capplan replay {info.get('run_id', '')}", info.get("created_utc"))
    return book.close()


def _pools(book: xlsx.Book, pools: pd.DataFrame) -> None:
    """Per pool over the window: moderators on site, productive, busy, idle and egregious hours, occupancy."""
    sheet = xlsx.new_sheet(book, "Pools")
    by_pool = pools.groupby(POOL, as_index=False).agg(
        on_shift_avg=("on_shift", "mean"), productive_hours=(PRODUCTIVE_HOURS, "sum"), busy_hours=("busy_hours", "sum"),
        idle_hours=("idle_hours", "sum"), egregious_hours=("egregious_hours", "sum"))
    productive = by_pool[PRODUCTIVE_HOURS].where(by_pool[PRODUCTIVE_HOURS] > 0)
    by_pool["occupancy"] = by_pool["busy_hours"] / productive
    by_pool["egregious_share"] = by_pool["egregious_hours"] / productive
    xlsx.write_table(sheet, by_pool, "pools", formats={"on_shift_avg": xlsx.NUM, PRODUCTIVE_HOURS: xlsx.HOURS, "busy_hours": xlsx.HOURS,
                                                     "idle_hours": xlsx.HOURS, "egregious_hours": xlsx.HOURS,
                                                     "occupancy": xlsx.PCT, "egregious_share": xlsx.PCT})
    xlsx.finish_sheet(sheet, freeze="B2")


def _chart(book: xlsx.Book, sheet: xlsx.Sheet, placed: xlsx.Placed, frame: pd.DataFrame) -> None:
    """Clustered columns per cell-week: target, planned service, achieved."""
    columns = list(placed.columns)
    chart = book.wb.add_chart({"type": "column"})
    chart.set_title({"name": "Service per cell-week: target, planned and achieved"})
    chart.set_y_axis({"name": "share on time", "num_format": "0%", "min": 0.0, "max": 1.0})
    chart.set_size({"width": int(CM_PX * max(18, min(60, 1.2 * len(frame)))), "height": int(CM_PX * 10)})
    cell = columns.index("cell")
    for name in (c for c in (TARGET, "planned_service", "achieved") if c in placed.columns):
        c = columns.index(name)
        chart.add_series({
            "name": [sheet.title, placed.header_row - 1, c],
            "categories": [sheet.title, placed.first_row - 1, cell, placed.last_row - 1, cell],
            "values": [sheet.title, placed.first_row - 1, c, placed.last_row - 1, c],
        })
    sheet.xl.insert_chart(1, len(frame.columns) + 1, chart)
