"""The comparison workbooks: ``diffs/<run-id>/diff.xlsx`` (two plans) and ``scenarios.xlsx`` (one row per scenario).

Tidy tables come from :mod:`capplan.scenarios.diff` and :mod:`capplan.pipeline.scenarios`; this module
only lays them out with the shared helpers of :mod:`capplan.report.xlsx` (tables, formats, README sheet)
and adds a native bar chart.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from capplan.report import xlsx_openpyxl as xlsx  # openpyxl writer; the plan workbooks moved to XlsxWriter (report.xlsx)
from capplan.scenarios.diff import PlanDiff

_AB = ("a", "b", "change")


def write_diff_workbook(path: Path, diff: PlanDiff, info: dict) -> Path:
    """Summary (the sentences and headline metrics, with a cost-by-vendor chart) then one sheet per table."""
    wb, book = Workbook(), xlsx.Book()
    money = xlsx.money(diff.currency)
    ws = xlsx.new_sheet(wb, book, "Summary", first=True)
    row = xlsx.readme(ws, f"Plan {diff.b} compared with plan {diff.a}",
                      [("plan A", diff.a), ("plan B", diff.b), ("workspace", str(diff.workspace)), *info.items()],
                      diff.sentences)
    placed = xlsx.write_table(ws, book, diff.headline, "headline", top=row,
                              formats={c: "#,##0.0" for c in _AB} | {"change_pct": "0.0%"})
    vendors = diff.cost[diff.cost["by"] == "vendor"].drop(columns="by").reset_index(drop=True)
    chart_sheet = xlsx.new_sheet(wb, book, "Cost")
    cost_placed = None
    top = 1
    for dim in ("vendor", "site", "queue", "language"):
        part = diff.cost[diff.cost["by"] == dim].drop(columns="by").rename(columns={"name": dim}).reset_index(drop=True)
        if not len(part):
            continue
        p = xlsx.write_table(chart_sheet, book, part, f"cost_{dim}", top=top, formats={c: money for c in _AB}, totals=list(_AB))
        cost_placed = cost_placed or (p if dim == "vendor" else None)
        top = (p.total_row or p.last_row) + 3
    xlsx.finish_sheet(chart_sheet)
    if cost_placed is not None and len(vendors):
        _bar_chart(ws, chart_sheet, cost_placed, f"Cost by vendor [{diff.currency}]: A vs B", f"H{placed.header_row}")
    for title, frame, fmt in (("Moderators", diff.moderators, "#,##0.0"), ("Vendor hours", diff.vendor_hours, "#,##0.0"),
                              ("Coverage", diff.coverage, "#,##0.0"), ("Binding limits", diff.binding, None),
                              ("Why", diff.why, None), ("Replayed service", diff.service, None)):
        sheet = xlsx.new_sheet(wb, book, title)
        if len(frame):
            numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])] if fmt else []
            xlsx.write_table(sheet, book, frame.reset_index(drop=True), title.replace(" ", "_").lower(),
                             formats={c: fmt for c in numeric})
        else:
            xlsx.put(sheet, 1, 1, "no differences" if title != "Replayed service" else "neither plan has a replay (capplan replay)")
        xlsx.finish_sheet(sheet)
    xlsx.set_properties(wb, f"capplan diff {diff.a} {diff.b}", info.get("created_utc"))
    wb.save(path)
    return path


def _bar_chart(target, data_sheet, placed: xlsx.Placed, title: str, anchor: str) -> None:
    chart = BarChart()
    chart.type = "col"
    chart.title = title
    chart.y_axis.title = "cost"
    columns = placed.columns
    for key in ("a", "b"):
        col = _col_index(columns[key])
        chart.add_data(Reference(data_sheet, min_col=col, min_row=placed.header_row, max_row=placed.last_row), titles_from_data=True)
    first = _col_index(next(iter(columns.values())))
    chart.set_categories(Reference(data_sheet, min_col=first, min_row=placed.first_row, max_row=placed.last_row))
    chart.width, chart.height = 18, 9
    target.add_chart(chart, anchor)


def _col_index(letter: str) -> int:
    n = 0
    for ch in letter:
        n = n * 26 + ord(ch.upper()) - 64
    return n


def write_summary_workbook(path: Path, summary: pd.DataFrame, currency: str, info: dict) -> Path:
    """One row per scenario (and the base plan): cost, headcount, unmet work, each vs the base; a cost chart."""
    wb, book = Workbook(), xlsx.Book()
    money = xlsx.money(currency)
    ws = xlsx.new_sheet(wb, book, "README", first=True)
    xlsx.readme(ws, "capplan scenarios: one row per scenario, compared with the base plan", list(info.items()),
                ["Each scenario is scenarios/<name>.toml applied in memory to the workspace (docs/scenarios.md).",
                 "Columns *_change are the scenario minus the base plan; plan_run is the folder in plans/ to open.",
                 "capplan diff <base plan run> <scenario plan run> explains any row in detail."])
    sheet = xlsx.new_sheet(wb, book, "Scenarios")
    formats = {c: money for c in summary.columns if c.startswith("cost")}
    formats.update({c: "#,##0.0" for c in summary.columns if c.startswith(("unmet", "paid_hours", "moderators"))})
    formats.update({c: "0.0%" for c in summary.columns if c.endswith("_pct")})
    placed = xlsx.write_table(sheet, book, summary.reset_index(drop=True), "scenarios", formats=formats)
    xlsx.finish_sheet(sheet)
    if len(summary) and "cost" in placed.columns:
        chart = BarChart()
        chart.type = "bar"
        chart.title = f"Plan cost by scenario [{currency}]"
        chart.add_data(Reference(sheet, min_col=_col_index(placed.columns["cost"]), min_row=placed.header_row,
                                 max_row=placed.last_row), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=_col_index(placed.columns["scenario"]), min_row=placed.first_row,
                                       max_row=placed.last_row))
        chart.width, chart.height = 18, 9
        sheet.add_chart(chart, f"B{placed.last_row + 3}")
    xlsx.set_properties(wb, "capplan scenarios", info.get("created_utc"))
    wb.save(path)
    return path
