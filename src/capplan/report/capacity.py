"""``capacity.xlsx``: the long-range plan for finance and operations leads.

Sheets: README (provenance, how to read), Assumptions (every planning assumption as a named cell,
e.g. ``cap_attrition_monthly``), Hiring plan (classes, then hires per site and month, then transfers
between pools), Supply vs demand (weekly FTE per site with a line chart per site), Cost vs budget (per
month and cost centre, then monthly totals with a chart), Weekly demand, Gap, Vendor hours, Language share.
Tidy tables come from :mod:`capplan.pipeline.capacity`; the layout uses the XlsxWriter helpers of
:mod:`capplan.report.xlsx` (escaped strings, tables, formats, names), which write about five times faster
than openpyxl (the 52-week default demo's workbook holds some 120,000 cells).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capplan.report import xlsx
from capplan.schema import MONTH, PAID_HOURS, PRODUCTIVE_HOURS, SITE, WEEK_START

RED = {"bg_color": "#F8CBAD"}
CHART_ROWS = 15  # rows between two stacked charts


def assumptions(config) -> list[tuple[str, object, str, str]]:
    """(name, value, unit, description) of every capacity assumption, in the order shown."""
    cap = config.capacity
    fields = type(cap).model_fields
    rows = []
    for key, value in cap.model_dump().items():
        if isinstance(value, dict):
            for site, v in sorted(value.items()):
                shown = ";".join(map(str, v)) if isinstance(v, (list, tuple)) else v
                rows.append((f"{key}_{site}", shown, "", f"{fields[key].description} ({site})"))
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
    _hiring(book, r.hires, getattr(r, "transfers", None), money)
    _supply_demand(book, r, config.capacity.fte_week_hours)
    _costs(book, r.cost_by_month, money)
    shares = getattr(r, "language_share", None)
    for title, frame, name in (("Weekly demand", r.demand, "weekly_demand"), ("Gap", r.gap, "gap"),
                               ("Vendor hours", r.vendor_hours, "vendor_hours"),
                               ("Language share", shares if shares is not None else pd.DataFrame(), "language_share")):
        sheet = xlsx.new_sheet(book, title)
        formats = {c: xlsx.HOURS for c in frame.columns if frame[c].dtype.kind == "f"}
        formats.update({c: money for c in ("cost",) if c in frame.columns})
        formats.update({c: xlsx.PCT for c in ("share", "max_share") if c in frame.columns})
        placed = xlsx.write_table(sheet, frame, name, formats=formats)
        if "shortfall_hours" in frame.columns and len(frame):
            sheet.xl.conditional_format(placed.ref("shortfall_hours", absolute=False).split("!")[1],
                                        {"type": "cell", "criteria": ">", "value": 0.05, "format": book.fmt(None, RED)})
        xlsx.finish_sheet(sheet, freeze="A2")
    xlsx.set_properties(book, f"capplan capacity plan {info['run_id']}", info.get("created_utc"))
    return book.close()


def _readme(book, r, info: dict) -> None:
    sheet = xlsx.new_sheet(book, "README")
    solve = r.solve
    facts = [("run id", info["run_id"], None), ("capplan version", info["capplan_version"], None),
             ("created (UTC)", info["created_utc"], None), ("workspace", info["workspace"], None), ("plan start", info["start"], None),
             ("weeks", info["weeks"], None), ("reporting currency", info["currency"], None), ("solver status", solve["status"], None),
             ("optimality gap", solve["gap"], "0.000%"), ("plan cost", solve["cost"], xlsx.money(info["currency"])),
             ("unmet productive hours", solve["shortfall_hours"], xlsx.HOURS),
             ("moderators transferred", solve.get("transfers", 0), xlsx.INT)]
    facts += [(f"input {i['table']}", f"{i['file']} sha256 {i['sha256']}", None) for i in info["inputs"]]
    xlsx.readme(sheet, "capplan long-range capacity plan", facts, [
        "HOW TO READ:",
        "Hiring plan: classes per pool (site and language group) with their start week and first productive week; then hires per site "
        "and month; then transfers of trained moderators between in-house pools (start, first productive week after cross-training, cost).",
        "Supply vs demand: paid FTE on the roster or bought from vendors per site and week, against the FTE the plan uses there; one chart per site.",
        "Cost vs budget: plan cost per month and cost centre (a site's in-house pools, or a vendor) against budget.csv, prorated for part months.",
        "Weekly demand: weekly forecast volume -> workload hours -> x calibrated factor (the weekly plan's requirements maths on recent weeks) -> required hours and FTE.",
        "Gap: required vs covered standard productive hours per cell and week; a shortfall is priced, never infeasible.",
        "Language share: per week, each capped provider's share of a language's productive hours against its cap (vendors.csv max_language_share, critical languages).",
        "Assumptions: every named cell (cap_...) is the value this plan used; change capplan.toml and re-run to plan with other values.",
    ])


def _assumptions(book, config) -> None:
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


def _hiring(book, hires: pd.DataFrame, transfers: pd.DataFrame | None, money: str) -> None:
    sheet = xlsx.new_sheet(book, "Hiring plan")
    placed = xlsx.write_table(sheet, hires, "hiring_plan", formats={"class_start": xlsx.DATE}, totals=["hires"])
    bottom = placed.total_row or placed.last_row
    pivot = hires.pivot_table(index=SITE, columns=MONTH, values="hires", aggfunc="sum", fill_value=0) if len(hires) else pd.DataFrame()
    if len(pivot):
        pivot = pivot.reset_index()
        pivot.columns = [str(c) for c in pivot.columns]
        top = bottom + 3
        xlsx.put(sheet, top - 1, 1, "Hires per site and month of class start", style=xlsx.BOLD)
        at = xlsx.write_table(sheet, pivot, "hires_by_site_month", top=top, totals=[c for c in pivot.columns if c != SITE])
        bottom = at.total_row or at.last_row
    if transfers is not None:
        top = bottom + 3
        xlsx.put(sheet, top - 1, 1, "Transfers of trained moderators between in-house pools (cross-training paid by the receiving pool)",
                 style=xlsx.BOLD)
        xlsx.write_table(sheet, transfers, "transfers", top=top, formats={"start": xlsx.DATE, "cost": money},
                         totals=["moderators", "cost"] if len(transfers) else None)
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


def _line_chart(book, sheet, placed, cols: list[str], series: list[str], title: str):
    chart = book.wb.add_chart({"type": "line"})
    chart.set_title({"name": f"{title}: supply vs demand (FTE per week)"})
    chart.set_y_axis({"name": "FTE"})
    chart.set_x_axis({"name": "week starting", "num_format": "yyyy-mm-dd", "date_axis": True})
    chart.set_size({"width": 680, "height": 265})
    for name in series:
        c = cols.index(name)
        chart.add_series({"name": [sheet.title, placed.header_row - 1, c],
                          "categories": [sheet.title, placed.first_row - 1, 0, placed.last_row - 1, 0],
                          "values": [sheet.title, placed.first_row - 1, c, placed.last_row - 1, c]})
    return chart


def _supply_demand(book, r, fte_hours: float) -> None:
    sheet = xlsx.new_sheet(book, "Supply vs demand")
    wide = site_fte(r.supply, fte_hours)
    total = r.demand.groupby(WEEK_START)["required_fte"].sum()
    wide.insert(1, "required FTE (all cells)", total.reindex(wide[WEEK_START].dt.date).to_numpy())
    wide.insert(2, "supply FTE (all pools)", wide[[c for c in wide.columns if c.endswith("supply FTE")]].sum(axis=1))
    placed = xlsx.write_table(sheet, wide, "supply_demand", formats={c: xlsx.HOURS for c in wide.columns[1:]} | {"week_start": xlsx.DATE},
                              headers={"week_start": "week_start"})
    cols = list(wide.columns)
    groups = [("All sites", ["required FTE (all cells)", "supply FTE (all pools)"])]
    groups += [(c[: -len(" supply FTE")], [c, c.replace("supply", "used")]) for c in cols if c.endswith(" supply FTE") and c != "supply FTE (all pools)"]
    for i, (title, series) in enumerate(groups):
        sheet.xl.insert_chart(CHART_ROWS * i, len(cols) + 1, _line_chart(book, sheet, placed, cols, series, title))
    xlsx.finish_sheet(sheet, freeze="B2")


def _costs(book, costs: pd.DataFrame, money: str) -> None:
    sheet = xlsx.new_sheet(book, "Cost vs budget")
    formats = {c: money for c in ("plan_cost", "budget", "variance", "budget_full_month")}
    placed = xlsx.write_table(sheet, costs, "cost_by_month", formats=formats, totals=["plan_cost", "budget", "variance"])
    if len(costs):
        sheet.xl.conditional_format(placed.ref("variance", absolute=False).split("!")[1],
                                    {"type": "cell", "criteria": ">", "value": 0, "format": book.fmt(None, RED)})
    monthly = costs.groupby("month", as_index=False)[["plan_cost", "budget"]].sum(min_count=1)
    monthly["variance"] = monthly["plan_cost"] - monthly["budget"]
    left = len(costs.columns) + 3
    totals = xlsx.write_table(sheet, monthly, "cost_per_month", left=left, formats={c: money for c in monthly.columns[1:]})
    if len(monthly):
        chart = book.wb.add_chart({"type": "column"})
        chart.set_title({"name": "Plan cost vs budget per month"})
        chart.set_y_axis({"name": "cost"})
        chart.set_size({"width": 680, "height": 300})
        for name in ("plan_cost", "budget"):
            c = left - 1 + list(monthly.columns).index(name)
            chart.add_series({"name": [sheet.title, totals.header_row - 1, c],
                              "categories": [sheet.title, totals.first_row - 1, left - 1, totals.last_row - 1, left - 1],
                              "values": [sheet.title, totals.first_row - 1, c, totals.last_row - 1, c]})
        sheet.xl.insert_chart(totals.last_row + 2, left - 1, chart)
    xlsx.finish_sheet(sheet)
