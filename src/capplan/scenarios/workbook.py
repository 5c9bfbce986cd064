"""The comparison workbooks: ``diffs/<run-id>/diff.xlsx`` (two plans) and ``scenarios.xlsx`` (one row per scenario).

Tidy tables come from :mod:`capplan.scenarios.diff` and :mod:`capplan.pipeline.scenarios`; this module
only lays them out with the shared helpers of :mod:`capplan.report.xlsx` (tables, formats, README sheet)
and adds a native bar chart.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capplan.report import xlsx
from capplan.schema import LANGUAGE, PAID_HOURS, QUEUE, SITE, UNMET, VENDOR
from capplan.scenarios.diff import PlanDiff

_AB = ("a", "b", "change")
CM_PX = 37.8  # pixels per centimetre of chart size (XlsxWriter sizes charts in pixels at 96 dpi)


def write_diff_workbook(path: Path, diff: PlanDiff, info: dict) -> Path:
    """Summary (the sentences and headline metrics, with a cost-by-vendor chart) then one sheet per table."""
    book = xlsx.Book(path)
    money = xlsx.money(diff.currency)
    summary = xlsx.new_sheet(book, "Summary")
    facts = [("plan A", diff.a), ("plan B", diff.b), ("workspace", str(diff.workspace)), *info.items()]
    row = xlsx.readme(summary, f"Plan {diff.b} compared with plan {diff.a}", [(k, v, None) for k, v in facts], diff.sentences)
    placed = xlsx.write_table(summary, diff.headline, "headline", top=row,
                              formats={c: xlsx.HOURS for c in _AB} | {"change_pct": xlsx.PCT})
    vendors = diff.cost[diff.cost["by"] == VENDOR]
    cost_sheet = xlsx.new_sheet(book, "Cost")
    cost_placed = None
    top = 1
    for dim in (VENDOR, SITE, QUEUE, LANGUAGE):
        part = diff.cost[diff.cost["by"] == dim].drop(columns="by").rename(columns={"name": dim}).reset_index(drop=True)
        if not len(part):
            continue
        p = xlsx.write_table(cost_sheet, part, f"cost_{dim}", top=top, formats={c: money for c in _AB}, totals=list(_AB))
        cost_placed = cost_placed or (p if dim == VENDOR else None)
        top = (p.total_row or p.last_row) + 3
    xlsx.finish_sheet(cost_sheet)
    if cost_placed is not None and len(vendors):
        chart = _bar_chart(book, "column", f"Cost by vendor [{diff.currency}]: A vs B", cost_sheet, cost_placed, ("a", "b"), VENDOR)
        summary.xl.insert_chart(f"H{placed.header_row}", chart)
    for title, frame, fmt in (("Moderators", diff.moderators, xlsx.HOURS), ("Vendor hours", diff.vendor_hours, xlsx.HOURS),
                              ("Coverage", diff.coverage, xlsx.HOURS), ("Binding limits", diff.binding, None),
                              ("Why", diff.why, None), ("Replayed service", diff.service, None)):
        sheet = xlsx.new_sheet(book, title)
        if len(frame):
            numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])] if fmt else []
            xlsx.write_table(sheet, frame.reset_index(drop=True), title.replace(" ", "_").lower(),
                             formats={c: fmt for c in numeric})
        else:
            xlsx.put(sheet, 1, 1, "no differences" if title != "Replayed service" else "neither plan has a replay (capplan replay)")
        xlsx.finish_sheet(sheet)
    xlsx.set_properties(book, f"capplan diff {diff.a} {diff.b}", info.get("created_utc"))
    return book.close()


def _bar_chart(book: xlsx.Book, kind: str, title: str, data: xlsx.Sheet, placed: xlsx.Placed, series: tuple[str, ...],
               categories: str):
    """A native bar (``kind`` "bar") or column chart of the table columns ``series``, one bar per row, labelled
    by the table column ``categories``."""
    chart = book.wb.add_chart({"type": kind})
    chart.set_title({"name": title})
    chart.set_y_axis({"name": "cost"} if kind == "column" else {})
    first = _col_index(placed.columns[categories]) - 1
    for key in series:
        col = _col_index(placed.columns[key]) - 1
        chart.add_series({
            "name": [data.title, placed.header_row - 1, col],
            "categories": [data.title, placed.first_row - 1, first, placed.last_row - 1, first],
            "values": [data.title, placed.first_row - 1, col, placed.last_row - 1, col],
        })
    chart.set_size({"width": int(CM_PX * 18), "height": int(CM_PX * 9)})
    return chart


def _col_index(letter: str) -> int:
    n = 0
    for ch in letter:
        n = n * 26 + ord(ch.upper()) - 64
    return n


def write_summary_workbook(path: Path, summary: pd.DataFrame, currency: str, info: dict) -> Path:
    """One row per scenario (and the base plan): cost, headcount, unmet work, each vs the base; a cost chart."""
    book = xlsx.Book(path)
    money = xlsx.money(currency)
    readme = xlsx.new_sheet(book, "README")
    xlsx.readme(readme, "capplan scenarios: one row per scenario, compared with the base plan", [(k, v, None) for k, v in info.items()],
                ["Each scenario is scenarios/<name>.toml applied in memory to the workspace (docs/scenarios.md).",
                 "Columns *_change are the scenario minus the base plan; plan_run is the folder in plans/ to open.",
                 "capplan diff <base plan run> <scenario plan run> explains any row in detail."])
    sheet = xlsx.new_sheet(book, "Scenarios")
    formats = {c: money for c in summary.columns if c.startswith("cost")}
    formats.update({c: xlsx.HOURS for c in summary.columns if c.startswith((UNMET, PAID_HOURS, "moderators"))})
    formats.update({c: xlsx.PCT for c in summary.columns if c.endswith("_pct")})
    placed = xlsx.write_table(sheet, summary.reset_index(drop=True), "scenarios", formats=formats)
    xlsx.finish_sheet(sheet)
    if len(summary) and "cost" in placed.columns:
        chart = _bar_chart(book, "bar", f"Plan cost by scenario [{currency}]", sheet, placed, ("cost",), "scenario")
        sheet.xl.insert_chart(f"B{placed.last_row + 3}", chart)
    xlsx.set_properties(book, "capplan scenarios", info.get("created_utc"))
    return book.close()
