"""``capacity.xlsx``: the long-range plan for finance and operations leads.

Sheets: README (provenance, how to read), Assumptions (every planning assumption as a named cell,
e.g. ``cap_attrition_monthly``), Hiring plan (classes, then hires per site and month), Supply vs demand
(weekly FTE per site with a line chart per site), Cost vs budget (per month and cost centre, then monthly
totals with a chart), Weekly demand, Gap, Vendor hours. Tidy tables come from
:mod:`capplan.pipeline.capacity`; strings from inputs are escaped by :mod:`capplan.report.xlsx`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter

from capplan.report import xlsx_openpyxl as xlsx  # openpyxl writer; the plan workbooks moved to XlsxWriter (report.xlsx)

RED = PatternFill("solid", fgColor="F8CBAD")


def assumptions(config) -> list[tuple[str, object, str, str]]:
    """(name, value, unit, description) of every capacity assumption, in the order shown."""
    cap = config.capacity
    fields = type(cap).model_fields
    rows = []
    for key, value in cap.model_dump().items():
        if isinstance(value, dict):
            for site, v in sorted(value.items()):
                rows.append((f"{key}_{site}", v, "", f"{fields[key].description} ({site})"))
        elif isinstance(value, list):
            for i, v in enumerate(value, start=1):
                rows.append((f"{key}_week{i}", v, "share", f"{fields[key].description} (week {i} after training)"))
        else:
            rows.append((key, value, "", fields[key].description))
    rows += [("shrinkage", config.staffing.shrinkage, "share", type(config.staffing).model_fields["shrinkage"].description),
             ("relative_gap", config.solver.relative_gap, "share", "optimality gap at which the solver stops")]
    return rows


def write_capacity_workbook(path: Path, r, config, info: dict) -> Path:
    """Write the workbook; ``r`` is a :class:`capplan.pipeline.capacity.CapacityTables`."""
    wb = Workbook()
    book = xlsx.Book()
    money = xlsx.money(info["currency"])
    _readme(wb, book, r, info)
    _assumptions(wb, book, config)
    _hiring(wb, book, r.hires)
    _supply_demand(wb, book, r, config.capacity.fte_week_hours)
    _costs(wb, book, r.cost_by_month, money)
    for title, frame, name in (("Weekly demand", r.demand, "weekly_demand"), ("Gap", r.gap, "gap"),
                               ("Vendor hours", r.vendor_hours, "vendor_hours")):
        sheet = xlsx.new_sheet(wb, book, title)
        formats = {c: xlsx.HOURS for c in frame.columns if frame[c].dtype.kind == "f"}
        formats.update({c: money for c in ("cost",) if c in frame.columns})
        placed = xlsx.write_table(sheet, book, frame, name, formats=formats)
        if "shortfall_hours" in frame.columns and len(frame):
            sheet.conditional_formatting.add(placed.ref("shortfall_hours", absolute=False).split("!")[1],
                                             CellIsRule(operator="greaterThan", formula=["0.05"], fill=RED))
        xlsx.finish_sheet(sheet, freeze="A2")
    xlsx.set_properties(wb, f"capplan capacity plan {info['run_id']}", info.get("created_utc"))
    wb.save(path)
    return path


def _readme(wb, book, r, info: dict) -> None:
    sheet = xlsx.new_sheet(wb, book, "README", first=True)
    solve = r.solve
    facts = [("run id", info["run_id"]), ("capplan version", info["capplan_version"]), ("created (UTC)", info["created_utc"]),
             ("workspace", info["workspace"]), ("plan start", info["start"]), ("weeks", info["weeks"]),
             ("reporting currency", info["currency"]), ("solver status", solve["status"]), ("optimality gap", f"{solve['gap']:.3%}"),
             ("plan cost", round(solve["cost"], 2)), ("unmet productive hours", round(solve["shortfall_hours"], 1))]
    facts += [(f"input {i['table']}", f"{i['file']} sha256 {i['sha256']}") for i in info["inputs"]]
    xlsx.readme(sheet, "capplan long-range capacity plan", facts, [
        "HOW TO READ:",
        "Hiring plan: classes per pool (site and language group) with their start week and first productive week; then hires per site and month.",
        "Supply vs demand: paid FTE on the roster or bought from vendors per site and week, against the FTE the plan uses there; one chart per site.",
        "Cost vs budget: plan cost per month and cost centre (a site's in-house pools, or a vendor) against budget.csv, prorated for part months.",
        "Weekly demand: weekly forecast volume -> workload hours -> x calibrated factor (the weekly plan's requirements maths on recent weeks) -> required hours and FTE.",
        "Gap: required vs covered standard productive hours per cell and week; a shortfall is priced, never infeasible.",
        "Assumptions: every named cell (cap_...) is the value this plan used; change capplan.toml and re-run to plan with other values.",
    ])


def _assumptions(wb, book, config) -> None:
    sheet = xlsx.new_sheet(wb, book, "Assumptions")
    for col, label in enumerate(("assumption", "value", "unit", "meaning"), start=1):
        cell = xlsx.put(sheet, 1, col, label)
        cell.font, cell.fill = xlsx.HEADER_FONT, xlsx.HEADER_FILL
    for row, (name, value, unit, text) in enumerate(assumptions(config), start=2):
        xlsx.put(sheet, row, 1, name)
        cell = xlsx.put(sheet, row, 2, value)
        xlsx.mark_input(cell)
        xlsx.put(sheet, row, 3, unit)
        xlsx.put(sheet, row, 4, text)
        xlsx.define(wb, book, "cap", name, sheet, f"B{row}")
    for letter, width in zip("ABCD", (30, 12, 8, 100)):
        sheet.column_dimensions[letter].width = width
    xlsx.finish_sheet(sheet)


def _hiring(wb, book, hires: pd.DataFrame) -> None:
    sheet = xlsx.new_sheet(wb, book, "Hiring plan")
    placed = xlsx.write_table(sheet, book, hires, "hiring_plan", formats={"class_start": xlsx.DATE}, totals=["hires"])
    pivot = hires.pivot_table(index="site", columns="month", values="hires", aggfunc="sum", fill_value=0) if len(hires) else pd.DataFrame()
    if len(pivot):
        pivot = pivot.reset_index()
        pivot.columns = [str(c) for c in pivot.columns]
        top = (placed.total_row or placed.last_row) + 3
        xlsx.put(sheet, top - 1, 1, "Hires per site and month of class start").font = xlsx.BOLD
        xlsx.write_table(sheet, book, pivot, "hires_by_site_month", top=top, totals=[c for c in pivot.columns if c != "site"])
    xlsx.finish_sheet(sheet)


def site_fte(supply: pd.DataFrame, fte_hours: float) -> pd.DataFrame:
    """Wide weekly frame: ``week_start``, then per site ``<site> supply FTE`` and ``<site> used FTE``."""
    s = supply.assign(supply_fte=supply["paid_hours"] / fte_hours,
                      used_fte=supply["used_productive_hours"] / (supply["productive_hours"].where(supply["productive_hours"] > 0))
                      * supply["paid_hours"] / fte_hours)
    s["used_fte"] = s["used_fte"].fillna(0.0)
    g = s.groupby(["week_start", "site"], as_index=False)[["supply_fte", "used_fte"]].sum()
    wide = g.pivot(index="week_start", columns="site", values=["supply_fte", "used_fte"])
    out = pd.DataFrame({"week_start": pd.to_datetime(wide.index)})
    for site in sorted(g["site"].unique()):
        out[f"{site} supply FTE"] = wide[("supply_fte", site)].to_numpy()
        out[f"{site} used FTE"] = wide[("used_fte", site)].to_numpy()
    return out


def _supply_demand(wb, book, r, fte_hours: float) -> None:
    sheet = xlsx.new_sheet(wb, book, "Supply vs demand")
    wide = site_fte(r.supply, fte_hours)
    total = r.demand.groupby("week_start")["required_fte"].sum()
    wide.insert(1, "required FTE (all cells)", total.reindex(wide["week_start"].dt.date).to_numpy())
    wide.insert(2, "supply FTE (all pools)", wide[[c for c in wide.columns if c.endswith("supply FTE")]].sum(axis=1))
    placed = xlsx.write_table(sheet, book, wide, "supply_demand", formats={c: xlsx.HOURS for c in wide.columns[1:]} | {"week_start": xlsx.DATE})
    cols = list(wide.columns)
    anchor = get_column_letter(len(cols) + 2)
    groups = [("All sites", ["required FTE (all cells)", "supply FTE (all pools)"])]
    groups += [(c[: -len(" supply FTE")], [c, c.replace("supply", "used")]) for c in cols if c.endswith(" supply FTE") and c != "supply FTE (all pools)"]
    for i, (title, series) in enumerate(groups):
        chart = LineChart()
        chart.title = f"{title}: supply vs demand (FTE per week)"
        chart.y_axis.title, chart.x_axis.title = "FTE", "week starting"
        chart.x_axis.number_format = "yyyy-mm-dd"
        chart.x_axis.delete = chart.y_axis.delete = False
        chart.height, chart.width = 7, 18
        for name in series:
            c = cols.index(name) + 1
            chart.add_data(Reference(sheet, min_col=c, min_row=placed.header_row, max_row=placed.last_row), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=placed.first_row, max_row=placed.last_row))
        sheet.add_chart(chart, f"{anchor}{1 + 15 * i}")
    xlsx.finish_sheet(sheet, freeze="B2")


def _costs(wb, book, costs: pd.DataFrame, money: str) -> None:
    sheet = xlsx.new_sheet(wb, book, "Cost vs budget")
    formats = {c: money for c in ("plan_cost", "budget", "variance", "budget_full_month")}
    placed = xlsx.write_table(sheet, book, costs, "cost_by_month", formats=formats, totals=["plan_cost", "budget", "variance"])
    if len(costs):
        sheet.conditional_formatting.add(placed.ref("variance", absolute=False).split("!")[1],
                                         CellIsRule(operator="greaterThan", formula=["0"], fill=RED))
    monthly = costs.groupby("month", as_index=False)[["plan_cost", "budget"]].sum(min_count=1)
    monthly["variance"] = monthly["plan_cost"] - monthly["budget"]
    left = len(costs.columns) + 3
    totals = xlsx.write_table(sheet, book, monthly, "cost_per_month", left=left, formats={c: money for c in monthly.columns[1:]})
    if len(monthly):
        chart = BarChart()
        chart.title = "Plan cost vs budget per month"
        chart.y_axis.title = "cost"
        chart.x_axis.delete = chart.y_axis.delete = False
        chart.height, chart.width = 8, 18
        for name in ("plan_cost", "budget"):
            c = left + list(monthly.columns).index(name)
            chart.add_data(Reference(sheet, min_col=c, min_row=totals.header_row, max_row=totals.last_row), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=left, min_row=totals.first_row, max_row=totals.last_row))
        sheet.add_chart(chart, f"{get_column_letter(left)}{totals.last_row + 3}")
    xlsx.finish_sheet(sheet)
