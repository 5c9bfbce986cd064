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

from capplan.report import xlsx
from capplan.schema import MONTH, PAID_HOURS, PRODUCTIVE_HOURS, SITE, WEEK_START

RED = {"bg_color": "#F8CBAD"}
CM_PX = 37.8  # pixels per centimetre of chart size (XlsxWriter sizes charts in pixels at 96 dpi)


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
    book = xlsx.Book(path)
    money = xlsx.money(info["currency"])
    _readme(book, r, info)
    _assumptions(book, config)
    _hiring(book, r.hires)
    _supply_demand(book, r, config.capacity.fte_week_hours)
    _costs(book, r.cost_by_month, money)
    for title, frame, name in (("Weekly demand", r.demand, "weekly_demand"), ("Gap", r.gap, "gap"),
                               ("Vendor hours", r.vendor_hours, "vendor_hours")):
        sheet = xlsx.new_sheet(book, title)
        formats = {c: xlsx.HOURS for c in frame.columns if frame[c].dtype.kind == "f"}
        formats.update({c: money for c in ("cost",) if c in frame.columns})
        placed = xlsx.write_table(sheet, frame, name, formats=formats)
        if "shortfall_hours" in frame.columns and len(frame):
            _highlight(book, sheet, placed, "shortfall_hours", 0.05)
        xlsx.finish_sheet(sheet, freeze="A2")
    xlsx.set_properties(book, f"capplan capacity plan {info['run_id']}", info.get("created_utc"))
    return book.close()


def _highlight(book: xlsx.Book, sheet: xlsx.Sheet, placed: xlsx.Placed, column: str, above: float) -> None:
    """Shade the cells of one table column whose value exceeds ``above`` (red: a shortfall or an overspend)."""
    col = placed.columns[column]
    sheet.xl.conditional_format(f"{col}{placed.first_row}:{col}{placed.last_row}", {
        "type": "cell", "criteria": ">", "value": above, "format": book.fmt(None, RED)})


def _readme(book: xlsx.Book, r, info: dict) -> None:
    sheet = xlsx.new_sheet(book, "README")
    solve = r.solve
    facts = [("run id", info["run_id"], None), ("capplan version", info["capplan_version"], None),
             ("created (UTC)", info["created_utc"], None), ("workspace", info["workspace"], None),
             ("plan start", info["start"], None), ("weeks", info["weeks"], None),
             ("reporting currency", info["currency"], None), ("solver status", solve["status"], None),
             ("optimality gap", solve["gap"], "0.000%"), ("plan cost", solve["cost"], xlsx.money(info["currency"])),
             ("unmet productive hours", solve["shortfall_hours"], xlsx.HOURS)]
    facts += [(f"input {i['table']}", f"{i['file']} sha256 {i['sha256']}", None) for i in info["inputs"]]
    xlsx.readme(sheet, "capplan long-range capacity plan", facts, [
        "HOW TO READ:",
        "Hiring plan: classes per pool (site and language group) with their start week and first productive week; then hires per site and month.",
        "Supply vs demand: paid FTE on the roster or bought from vendors per site and week, against the FTE the plan uses there; one chart per site.",
        "Cost vs budget: plan cost per month and cost centre (a site's in-house pools, or a vendor) against budget.csv, prorated for part months.",
        "Weekly demand: weekly forecast volume -> workload hours -> x calibrated factor (the weekly plan's requirements maths on recent weeks) -> required hours and FTE.",
        "Gap: required vs covered standard productive hours per cell and week; a shortfall is priced, never infeasible.",
        "Assumptions: every named cell (cap_...) is the value this plan used; change capplan.toml and re-run to plan with other values.",
    ])


def _assumptions(book: xlsx.Book, config) -> None:
    sheet = xlsx.new_sheet(book, "Assumptions")
    for col, label in enumerate(("assumption", "value", "unit", "meaning"), start=1):
        xlsx.put(sheet, 1, col, label, style=xlsx.HEADER)
    for row, (name, value, unit, text) in enumerate(assumptions(config), start=2):
        xlsx.put(sheet, row, 1, name)
        xlsx.put(sheet, row, 2, value, style=xlsx.INPUT)
        xlsx.put(sheet, row, 3, unit)
        xlsx.put(sheet, row, 4, text)
        xlsx.define(book, "cap", name, sheet, row, 2)
    for col, width in enumerate((30, 12, 8, 100), start=1):
        sheet.width(col, width, exact=True)
    xlsx.finish_sheet(sheet)


def _hiring(book: xlsx.Book, hires: pd.DataFrame) -> None:
    sheet = xlsx.new_sheet(book, "Hiring plan")
    placed = xlsx.write_table(sheet, hires, "hiring_plan", formats={"class_start": xlsx.DATE}, totals=["hires"])
    pivot = hires.pivot_table(index=SITE, columns=MONTH, values="hires", aggfunc="sum", fill_value=0) if len(hires) else pd.DataFrame()
    if len(pivot):
        pivot = pivot.reset_index()
        pivot.columns = [str(c) for c in pivot.columns]
        top = (placed.total_row or placed.last_row) + 3
        xlsx.put(sheet, top - 1, 1, "Hires per site and month of class start", style=xlsx.BOLD)
        xlsx.write_table(sheet, pivot, "hires_by_site_month", top=top, totals=[c for c in pivot.columns if c != SITE])
    xlsx.finish_sheet(sheet)


def site_fte(supply: pd.DataFrame, fte_hours: float) -> pd.DataFrame:
    """Wide weekly frame: ``week_start``, then per site ``<site> supply FTE`` and ``<site> used FTE``."""
    s = supply.assign(supply_fte=supply[PAID_HOURS] / fte_hours,
                      used_fte=supply["used_productive_hours"] / (supply[PRODUCTIVE_HOURS].where(supply[PRODUCTIVE_HOURS] > 0))
                      * supply[PAID_HOURS] / fte_hours)
    s["used_fte"] = s["used_fte"].fillna(0.0)
    g = s.groupby([WEEK_START, SITE], as_index=False)[["supply_fte", "used_fte"]].sum()
    wide = g.pivot(index=WEEK_START, columns=SITE, values=["supply_fte", "used_fte"])
    out = pd.DataFrame({WEEK_START: pd.to_datetime(wide.index)})
    for site in sorted(g[SITE].unique()):
        out[f"{site} supply FTE"] = wide[("supply_fte", site)].to_numpy()
        out[f"{site} used FTE"] = wide[("used_fte", site)].to_numpy()
    return out


def _supply_demand(book: xlsx.Book, r, fte_hours: float) -> None:
    sheet = xlsx.new_sheet(book, "Supply vs demand")
    wide = site_fte(r.supply, fte_hours)
    total = r.demand.groupby(WEEK_START)["required_fte"].sum()
    wide.insert(1, "required FTE (all cells)", total.reindex(wide[WEEK_START].dt.date).to_numpy())
    wide.insert(2, "supply FTE (all pools)", wide[[c for c in wide.columns if c.endswith("supply FTE")]].sum(axis=1))
    placed = xlsx.write_table(sheet, wide, "supply_demand", formats={c: xlsx.HOURS for c in wide.columns[1:]} | {WEEK_START: xlsx.DATE})
    cols = list(wide.columns)
    groups = [("All sites", ["required FTE (all cells)", "supply FTE (all pools)"])]
    groups += [(c[: -len(" supply FTE")], [c, c.replace("supply", "used")]) for c in cols if c.endswith(" supply FTE") and c != "supply FTE (all pools)"]
    for i, (title, series) in enumerate(groups):
        chart = book.wb.add_chart({"type": "line"})
        chart.set_title({"name": f"{title}: supply vs demand (FTE per week)"})
        chart.set_y_axis({"name": "FTE"})
        chart.set_x_axis({"name": "week starting", "num_format": xlsx.DATE, "date_axis": True})
        chart.set_size({"width": int(CM_PX * 18), "height": int(CM_PX * 7)})
        for name in series:
            _add_series(chart, sheet, placed, cols.index(name), 0)
        sheet.xl.insert_chart(15 * i, len(cols) + 1, chart)
    xlsx.finish_sheet(sheet, freeze="B2")


def _add_series(chart, sheet: xlsx.Sheet, placed: xlsx.Placed, col: int, categories: int, left: int = 1) -> None:
    """One chart series: table column ``col`` (0-based within the table at column ``left``), named by its header,
    against the table column ``categories``."""
    c, k = left - 1 + col, left - 1 + categories
    chart.add_series({
        "name": [sheet.title, placed.header_row - 1, c],
        "categories": [sheet.title, placed.first_row - 1, k, placed.last_row - 1, k],
        "values": [sheet.title, placed.first_row - 1, c, placed.last_row - 1, c],
    })


def _costs(book: xlsx.Book, costs: pd.DataFrame, money: str) -> None:
    sheet = xlsx.new_sheet(book, "Cost vs budget")
    formats = {c: money for c in ("plan_cost", "budget", "variance", "budget_full_month")}
    placed = xlsx.write_table(sheet, costs, "cost_by_month", formats=formats, totals=["plan_cost", "budget", "variance"])
    if len(costs):
        _highlight(book, sheet, placed, "variance", 0)
    monthly = costs.groupby(MONTH, as_index=False)[["plan_cost", "budget"]].sum(min_count=1)
    monthly["variance"] = monthly["plan_cost"] - monthly["budget"]
    left = len(costs.columns) + 3
    totals = xlsx.write_table(sheet, monthly, "cost_per_month", left=left, formats={c: money for c in monthly.columns[1:]})
    if len(monthly):
        chart = book.wb.add_chart({"type": "column"})
        chart.set_title({"name": "Plan cost vs budget per month"})
        chart.set_y_axis({"name": "cost"})
        chart.set_size({"width": int(CM_PX * 18), "height": int(CM_PX * 8)})
        for name in ("plan_cost", "budget"):
            _add_series(chart, sheet, totals, list(monthly.columns).index(name), 0, left=left)
        sheet.xl.insert_chart(totals.last_row + 2, left - 1, chart)
    xlsx.finish_sheet(sheet)
