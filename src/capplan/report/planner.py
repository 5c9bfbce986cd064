"""``planner.xlsx``: the workforce planner's workbook (README, assumptions, forecast, requirements,
shift plan, coverage, vendors, shortfalls, issues)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from capplan.report import sheets, tidy, xlsx
from capplan.report.context import PlanContext
from capplan.schema import REQUIREMENTS_COLUMNS

MAX_TABLE_ROWS = xlsx.EXCEL_MAX_ROWS - 2  # data rows per sheet (header + total row kept free)
RED_FILL = PatternFill("solid", fgColor="F8CBAD")
RED_FONT = Font(color="9C0006", bold=True)

SHEET_GUIDE = [
    "How to read this workbook:",
    "Assumptions: the parameters of this run as named cells (yellow = input). Editing an assumption updates "
    "the formula columns (Requirements workload and paid hours, shift paid hours, vendor utilisation) but "
    "does NOT re-run the optimizer: re-run 'capplan plan' for a new plan.",
    "Forecast: daily totals per queue and language (UTC days) with prediction bands; bands are sums of "
    "interval bounds (wider than the band of the daily total). Forecast charts: history vs forecast per queue.",
    "Requirements: per cell and interval, volume x AHT -> workload hours (formula) -> productive moderators "
    "(service-target maths, method column) -> paid moderators = productive / (1 - shrinkage) (formula).",
    "Shift plan: moderators rostered by pool, site, day and shift; Headcount: the same by day.",
    "Coverage: planned minus required productive moderators per cell (rows) and interval (columns, UTC); "
    "red = under target. Coverage gaps: the intervals planned below requirement (deferred queues may "
    "catch up from the backlog later) or with unmet work, with backlog and unmet.",
    "Vendors: paid hours (shift plan) per week against contract limits, productive hours, items and cost per vendor; "
    "Vendor allocation: by week, queue and language (paid hours split in proportion to productive hours, as cost is).",
    "Shortfalls: unmet work priced by severity, and the limits that bind. Issues: validation and run warnings.",
    "All times are UTC unless a column says _local. Costs are in the reporting currency unless stated.",
]


def write_planner(path: Path, ctx: PlanContext) -> Path:
    """Write ``planner.xlsx`` for one plan run; returns the path."""
    wb = Workbook()
    book = xlsx.Book()
    cfg = ctx.config
    start = tidy.plan_start(cfg)
    rep = cfg.policy.currency
    notes: list[str] = []

    readme_sheet = xlsx.new_sheet(wb, book, "README", first=True)
    names = _assumptions(wb, book, ctx)
    sheets.forecast_sheets(wb, book, ctx.forecast, ctx.history, start)
    _requirements(wb, book, ctx, names, notes)
    _shift_plan(wb, book, ctx)
    _coverage(wb, book, ctx, notes)
    _vendors(wb, book, ctx, names)
    _shortfalls(wb, book, ctx, notes)
    _issues(wb, book, ctx)

    solve = ctx.solve or {}
    facts = [
        ("Run id", ctx.run_id), ("Created (UTC)", ctx.created_utc), ("capplan version", ctx.capplan_version),
        ("Plan start (UTC)", str(cfg.planning.start)), ("Plan days", cfg.planning.plan_days),
        ("Interval [min]", cfg.planning.interval_minutes), ("Forecast quantile", cfg.staffing.quantile),
        ("Reporting currency", rep),
        ("Solver status", solve.get("status")), ("Objective", solve.get("objective")), ("Bound", solve.get("bound")),
        ("Gap", solve.get("gap")), ("Solve time [s]", solve.get("seconds")),
        (f"Plan cost [{rep}]", solve.get("cost")), (f"Baseline cost [{rep}]", solve.get("baseline_cost")),
        ("Unmet work [h]", solve.get("unmet_hours")),
        ("Model size", f"{solve.get('variables', '?')} variables, {solve.get('constraints', '?')} constraints"),
    ]
    row = xlsx.readme(readme_sheet, "capplan planner workbook", facts, [
        "This workbook is the plan of one 'capplan plan' run. Every number comes from the run's tables "
        "(requirements, shift_plan, allocation, coverage, vendor_allocation parquet/csv files) in the same folder.",
        *SHEET_GUIDE, *notes])
    xlsx.put(readme_sheet, row, 1, "Inputs:").font = xlsx.BOLD
    inputs = pd.DataFrame(ctx.inputs, columns=["file", "sha256", "rows"]) if ctx.inputs else pd.DataFrame(columns=["file", "sha256", "rows"])
    xlsx.write_table(readme_sheet, book, inputs, "inputs", top=row + 1)
    readme_sheet.column_dimensions["B"].width = 70
    xlsx.set_properties(wb, f"capplan plan {ctx.run_id}", ctx.created_utc)
    wb.save(path)
    return path


def _assumptions(wb, book: xlsx.Book, ctx: PlanContext) -> dict[str, str]:
    """Named assumption cells; returns {key: defined name} for formulas."""
    cfg = ctx.config
    rows: list[tuple[str, str, object, str, str, str]] = []  # (prefix, text, value, format, unit, description)
    st, pol = cfg.staffing, cfg.policy
    rows.append(("shrinkage", "", st.shrinkage, xlsx.PCT, "share", "paid time not productive (global)"))
    for site, s in sorted(st.shrinkage_by_site.items()):
        rows.append(("shrinkage", site, s, xlsx.PCT, "share", f"shrinkage at site {site}"))
    rows.append(("max_occupancy", "", st.max_occupancy, xlsx.PCT, "share", "occupancy cap, realtime queues"))
    rows.append(("deferred_max_utilisation", "", st.deferred_max_utilisation, xlsx.PCT, "share", "productive time spent on deferred work"))
    rows.append(("quantile", "", st.quantile, xlsx.INT, "%", "forecast quantile planned for"))
    rows.append(("plan_weeks", "", cfg.planning.plan_days / 7, "0.00", "weeks", "weeks in the plan (weekly contract limits compare with paid hours / plan_weeks)"))
    rows.append(("exposure_max_share", "", pol.exposure_max_share, xlsx.PCT, "share", "wellbeing: max share of productive time on egregious queues"))
    rows.append(("exposure_max_hours_per_day", "", pol.exposure_max_hours_per_day, xlsx.HOURS, "h", "wellbeing: max egregious hours per moderator per day"))
    for cur, rate in sorted(pol.fx.items()):
        rows.append(("fx", cur, rate, "0.0000", f"{pol.currency} per {cur}", f"value of 1 {cur} in {pol.currency}"))
    for sev, pen in sorted(pol.unmet_penalty_per_hour.items()):
        rows.append(("penalty_severity", str(sev), pen, xlsx.money(pol.currency), f"{pol.currency}/h", f"price of an unmet hour, severity {sev}"))
    if not ctx.queues.empty:
        for q in ctx.queues.sort_values("queue").itertuples(index=False):
            rows.append(("target", q.queue, float(q.target), xlsx.PCT, "share", f"queue {q.queue}: share within threshold"))
            rows.append(("within_s", q.queue, float(q.within_s), xlsx.INT, "s", f"queue {q.queue}: time threshold"))
    if not ctx.pools.empty:
        for p in ctx.pools.sort_values("pool").itertuples(index=False):
            rows.append(("rate", p.pool, float(p.cost_per_hour), xlsx.money(p.currency), f"{p.currency}/paid h", f"pool {p.pool} ({p.vendor}, {p.site})"))

    sheet = xlsx.new_sheet(wb, book, "Assumptions")
    header = ["name", "value", "unit", "description"]
    for i, h in enumerate(header, start=1):
        c = xlsx.put(sheet, 1, i, h)
        c.font, c.fill = xlsx.HEADER_FONT, xlsx.HEADER_FILL
    names: dict[str, str] = {}
    for r, (prefix, text, value, fmt, unit, desc) in enumerate(rows, start=2):
        name = xlsx.define(wb, book, prefix, text, sheet, f"B{r}")
        names[f"{prefix}:{text}"] = name
        xlsx.put(sheet, r, 1, name)
        cell = xlsx.put(sheet, r, 2, value, fmt)
        xlsx.mark_input(cell)
        xlsx.put(sheet, r, 3, unit)
        xlsx.put(sheet, r, 4, desc)
    from openpyxl.worksheet.table import Table, TableStyleInfo

    t = Table(displayName=book.table_name("assumptions"), ref=f"A1:D{max(len(rows), 1) + 1}")
    t.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    sheet.add_table(t)
    for col, width in zip("ABCD", (32, 14, 16, 60)):
        sheet.column_dimensions[col].width = width
    xlsx.finish_sheet(sheet, freeze="A2")
    return names


def _requirements(wb, book, ctx: PlanContext, names: dict[str, str], notes: list[str]) -> None:
    req = ctx.requirements.copy()
    if req.empty:
        req = pd.DataFrame(columns=["queue", "language", "interval_start", "volume", "aht_s", "workload_hours", "required_productive", "required_paid"])
    keep = [c for c in REQUIREMENTS_COLUMNS if c in req.columns] + [c for c in ("model",) if c in req.columns]
    req = req[keep]
    req["interval_start"] = tidy.naive_utc(req["interval_start"]) if len(req) else req["interval_start"]
    req = req.sort_values(["queue", "language", "interval_start"], kind="stable").reset_index(drop=True)
    formulas: dict[str, str] = {}
    if {"volume", "aht_s", "workload_hours"} <= set(req.columns):
        expected = req["volume"] * req["aht_s"] / 3600
        if np.allclose(req["workload_hours"], expected, rtol=1e-9, atol=1e-9, equal_nan=True):
            formulas["workload_hours"] = "={volume}*{aht_s}/3600"
        else:
            notes.append("Requirements: workload_hours differs from volume x AHT / 3600 in some rows, so it is written as values.")
    if {"required_productive", "required_paid"} <= set(req.columns):
        global_s = ctx.config.staffing.shrinkage
        s = req["shrinkage"] if "shrinkage" in req.columns else pd.Series(global_s, index=req.index)
        expected = req["required_productive"] / (1 - s)
        if np.allclose(req["required_paid"], expected, rtol=1e-9, atol=1e-9, equal_nan=True):
            if np.allclose(s, global_s):
                formulas["required_paid"] = "={required_productive}/(1-" + names["shrinkage:"] + ")"
                req = req.drop(columns=[c for c in ("shrinkage",) if c in req.columns])  # it is the named cell
            else:
                formulas["required_paid"] = "={required_productive}/(1-{shrinkage})"
        else:
            notes.append("Requirements: required_paid differs from productive / (1 - shrinkage) in some rows, so it is written as values.")
    for c in formulas:  # the column keeps its place; write_table puts the formula in it
        req[c] = np.nan
    fmts = {"volume": xlsx.NUM, "aht_s": xlsx.HOURS, "workload_hours": xlsx.NUM, "target": xlsx.PCT, "within_s": xlsx.INT,
            "required_productive": xlsx.NUM, "service_level": xlsx.PCT, "shrinkage": xlsx.PCT, "required_paid": xlsx.NUM}
    written = sheets.split_table(
        wb, book, "Requirements", req, "requirements", max_rows=MAX_TABLE_ROWS,
        freeze="D2", formats=fmts, formulas=formulas, headers={"aht_s": "aht_s [s]", "within_s": "within_s [s]"})
    if len(written) > 1:
        notes.append(f"Requirements has {len(req):,} rows, more than one sheet holds: it continues on {len(written) - 1} more sheet(s).")


def _shift_plan(wb, book, ctx: PlanContext) -> None:
    sp = tidy.shift_plan_table(ctx.shift_plan) if not ctx.shift_plan.empty else pd.DataFrame(
        columns=["pool", "vendor", "site", "day", "shift", "start_local", "start_utc", "paid_hours", "headcount"])
    sheet = xlsx.new_sheet(wb, book, "Shift plan")
    formulas = {"paid_hours_total": "={paid_hours}*{headcount}"} if {"paid_hours", "headcount"} <= set(sp.columns) else {}
    xlsx.write_table(sheet, book, sp, "shift_plan", formats={"paid_hours": xlsx.HOURS, "headcount": xlsx.INT, "day": xlsx.DATE,
                     "paid_hours_total": xlsx.HOURS}, formulas=formulas, totals=[c for c in ("headcount", "paid_hours_total") if c in sp.columns or c in formulas],
                     headers={"day": "day (site-local)"})
    xlsx.finish_sheet(sheet, freeze="B2")
    if not ctx.shift_plan.empty:
        pivot = tidy.headcount_pivot(ctx.shift_plan)
        day_sheet = xlsx.new_sheet(wb, book, "Headcount")
        xlsx.write_table(day_sheet, book, pivot, "headcount", formats={c: xlsx.INT for c in pivot.columns[3:]}, totals=list(pivot.columns[3:]))
        xlsx.finish_sheet(day_sheet, freeze="D2")


def _coverage(wb, book, ctx: PlanContext, notes: list[str]) -> None:
    if ctx.coverage.empty:
        return
    heat = tidy.coverage_heatmap(ctx.coverage)
    sheet = xlsx.new_sheet(wb, book, "Coverage")
    value_cols = list(heat.columns[2:])
    placed = xlsx.write_table(sheet, book, heat, "coverage_heatmap", formats={c: "0.0" for c in value_cols}, style="TableStyleLight1")
    for i in range(len(value_cols)):
        sheet.column_dimensions[get_column_letter(3 + i)].width = 7
    if value_cols:
        rng = f"C{placed.first_row}:{get_column_letter(2 + len(value_cols))}{placed.last_row}"
        sheet.conditional_formatting.add(rng, ColorScaleRule(start_type="min", start_color="F8696B", mid_type="num", mid_value=0,
                                                          mid_color="FFFFFF", end_type="max", end_color="63BE7B"))
    xlsx.finish_sheet(sheet, freeze="C2")
    detail = tidy.coverage_detail(ctx.coverage)
    gaps = (detail["planned_productive"] < detail["required_productive"] - 1e-9) | (detail.get("unmet", 0) > 1e-9)
    detail = detail[gaps].reset_index(drop=True)
    written = sheets.split_table(
        wb, book, "Coverage gaps", detail, "coverage_gaps", max_rows=MAX_TABLE_ROWS, freeze="D2",
        formats={c: xlsx.NUM for c in ("required_productive", "planned_productive", "backlog", "unmet", "gap")},
        formulas={"gap": "={planned_productive}-{required_productive}"}, totals=["unmet"] if len(detail) <= MAX_TABLE_ROWS else None)
    for gap_sheet in written:
        last = gap_sheet.max_row
        cols = {gap_sheet.cell(1, c).value: get_column_letter(c) for c in range(1, gap_sheet.max_column + 1)}
        if "gap" in cols:
            gap_sheet.conditional_formatting.add(f"{cols['gap']}2:{cols['gap']}{last}", CellIsRule(operator="lessThan", formula=["0"], fill=RED_FILL))
        if "unmet" in cols:
            gap_sheet.conditional_formatting.add(f"{cols['unmet']}2:{cols['unmet']}{last}", CellIsRule(operator="greaterThan", formula=["0"], font=RED_FONT))


def _vendors(wb, book, ctx: PlanContext, names: dict[str, str]) -> None:
    start = tidy.plan_start(ctx.config)
    rep = ctx.config.policy.currency
    money = xlsx.money(rep)
    weekly = tidy.finance_weekly(ctx.vendor_allocation, start, ctx.shift_plan)
    summary = weekly.groupby("vendor", sort=True)[["productive_hours", "items", "cost"]].sum().reset_index()
    summary["paid_hours"] = summary["vendor"].map(tidy.vendor_paid_hours(ctx.shift_plan))
    formulas = {}
    if not ctx.vendors.empty:
        contract = ctx.vendors[[c for c in ("vendor", "currency", "quality", "min_weekly_hours", "max_weekly_hours") if c in ctx.vendors.columns]]
        summary = summary.merge(contract.rename(columns={"currency": "contract_currency"}), on="vendor", how="left")
        weeks = names["plan_weeks:"]
        summary["paid_hours_per_week"] = np.nan
        formulas["paid_hours_per_week"] = f"={{paid_hours}}/{weeks}"
        formulas["utilisation"] = '=IF(N({max_weekly_hours})>0,{paid_hours_per_week}/{max_weekly_hours},"")'
        formulas["below_minimum"] = '=IF(AND(N({min_weekly_hours})>0,{paid_hours_per_week}<{min_weekly_hours}),"yes","no")'
    order = ["vendor", "contract_currency", "quality", "productive_hours", "paid_hours", "paid_hours_per_week",
             "min_weekly_hours", "max_weekly_hours", "items", "cost"]
    summary = summary[[c for c in order if c in summary.columns]]
    sheet = xlsx.new_sheet(wb, book, "Vendors")
    xlsx.write_table(sheet, book, summary, "vendors", formats={"productive_hours": xlsx.HOURS, "paid_hours": xlsx.HOURS, "items": xlsx.INT,
                     "cost": money, "quality": xlsx.PCT, "min_weekly_hours": xlsx.HOURS, "max_weekly_hours": xlsx.HOURS,
                     "paid_hours_per_week": xlsx.HOURS, "utilisation": xlsx.PCT},
                     formulas=formulas, totals=["productive_hours", "paid_hours", "items", "cost"],
                     headers={"cost": f"cost [{rep}]"})
    xlsx.finish_sheet(sheet, freeze="B2")

    alloc = xlsx.new_sheet(wb, book, "Vendor allocation")
    xlsx.write_table(alloc, book, weekly, "vendor_allocation", formats={"week_start": xlsx.DATE, "productive_hours": xlsx.HOURS,
                     "paid_hours": xlsx.HOURS, "items": xlsx.INT, "cost": money, "cost_per_1000_items": money},
                     formulas={"cost_per_1000_items": '=IF({items}>0,{cost}/{items}*1000,"")'},
                     totals=["productive_hours", "paid_hours", "items", "cost"],
                     headers={"week_start": "week_start (UTC)", "cost": f"cost [{rep}]"})
    xlsx.finish_sheet(alloc, freeze="E2")


def _shortfalls(wb, book, ctx: PlanContext, notes: list[str]) -> None:
    sheet = xlsx.new_sheet(wb, book, "Shortfalls")
    sf = ctx.shortfalls.copy()
    if sf.empty:
        sf = pd.DataFrame(columns=["queue", "language", "interval_start", "unmet_hours", "severity", "penalty", "reason"])
    else:
        sf["interval_start"] = tidy.naive_utc(sf["interval_start"])
        sf = sf.sort_values([c for c in ("queue", "language", "interval_start") if c in sf.columns], kind="stable").reset_index(drop=True)
    if len(sf) > MAX_TABLE_ROWS:
        notes.append(f"Shortfalls: {len(sf):,} rows; the sheet shows the first {MAX_TABLE_ROWS:,} (all rows are in shortfalls.csv).")
        sf = sf.head(MAX_TABLE_ROWS)
    rep = ctx.config.policy.currency
    placed = xlsx.write_table(sheet, book, sf, "shortfalls", formats={"unmet_hours": xlsx.NUM, "severity": xlsx.INT, "penalty": xlsx.money(rep)},
                              totals=[c for c in ("unmet_hours", "penalty") if c in sf.columns], headers={"penalty": f"penalty [{rep}]"})
    binding = ctx.binding if not ctx.binding.empty else pd.DataFrame({"kind": [], "name": [], "detail": []})
    left = len(placed.columns) + 2
    xlsx.write_table(sheet, book, binding.reset_index(drop=True), "binding_limits", left=left, style="TableStyleMedium3",
                     headers={"kind": "binding limit kind"})
    xlsx.finish_sheet(sheet, freeze="A2")


def _issues(wb, book, ctx: PlanContext) -> None:
    sheet = xlsx.new_sheet(wb, book, "Issues")
    issues = pd.DataFrame({"number": range(1, len(ctx.warnings) + 1), "warning": [str(w) for w in ctx.warnings]})
    xlsx.write_table(sheet, book, issues, "issues", formats={"number": xlsx.INT})
    sheet.column_dimensions["B"].width = 120
    xlsx.finish_sheet(sheet)
