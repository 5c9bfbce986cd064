"""``finance.xlsx``: plan cost by week and month x vendor x queue x language, cost per 1,000 items,
paid hours and FTE, P50 vs P90 plan cost; totals are live SUM formulas.

FTE = paid hours / (40 paid hours per FTE-week x weeks); the 40 is a named, editable cell
(``fte_hours_per_week``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook

from capplan.report import tidy, xlsx
from capplan.report.context import PlanContext


def write_finance(path: Path, ctx: PlanContext) -> Path:
    """Write ``finance.xlsx`` for one plan run; returns the path."""
    wb = Workbook()
    book = xlsx.Book()
    cfg = ctx.config
    start = tidy.plan_start(cfg)
    rep = cfg.policy.currency
    money = xlsx.money(rep)

    readme_sheet = xlsx.new_sheet(wb, book, "README", first=True)
    weekly = tidy.finance_weekly(ctx.vendor_allocation, start, ctx.shift_plan)
    n_weeks = cfg.planning.plan_days / 7

    # assumptions
    sheet = xlsx.new_sheet(wb, book, "Assumptions")
    rows = [("fte_hours_per_week", "", tidy.HOURS_PER_FTE_WEEK, xlsx.HOURS, "paid hours of one full-time equivalent per week"),
            ("plan_weeks", "", n_weeks, "0.00", "weeks in the plan (FTE averages over these)")]
    rows += [("fx", cur, rate, "0.0000", f"value of 1 {cur} in {rep}") for cur, rate in sorted(cfg.policy.fx.items())]
    for i, h in enumerate(["name", "value", "description"], start=1):
        c = xlsx.put(sheet, 1, i, h)
        c.font, c.fill = xlsx.HEADER_FONT, xlsx.HEADER_FILL
    names = {}
    for r, (prefix, text, value, fmt, desc) in enumerate(rows, start=2):
        name = xlsx.define(wb, book, prefix, text, sheet, f"B{r}")
        names[prefix + (f"_{text}" if text else "")] = name
        xlsx.put(sheet, r, 1, name)
        xlsx.mark_input(xlsx.put(sheet, r, 2, value, fmt))
        xlsx.put(sheet, r, 3, desc)
    for col, w in zip("ABC", (24, 14, 60)):
        sheet.column_dimensions[col].width = w
    xlsx.finish_sheet(sheet)
    fte, weeks = names["fte_hours_per_week"], names["plan_weeks"]

    per_1000 = '=IF({items}>0,{cost}/{items}*1000,"")'
    headers = {"cost": f"cost [{rep}]", "cost_per_1000_items": f"cost per 1,000 items [{rep}]", "month": "month"}
    fmts = {"week_start": xlsx.DATE, "month": "yyyy-mm", "productive_hours": xlsx.HOURS, "paid_hours": xlsx.HOURS, "items": xlsx.INT,
            "cost": money, "cost_per_1000_items": money, "fte": xlsx.NUM}
    sums = ["productive_hours", "paid_hours", "items", "cost"]

    # By vendor comes first but sums the weekly detail with SUMIFS
    vendor_sheet = xlsx.new_sheet(wb, book, "By vendor")
    week_sheet = xlsx.new_sheet(wb, book, "Cost by week")
    placed_w = xlsx.write_table(week_sheet, book, weekly, "cost_by_week", formats=fmts,
                                formulas={"cost_per_1000_items": per_1000, "fte": f"={{paid_hours}}/{fte}"},
                                totals=[*sums, "fte"], headers={**headers, "week_start": "week_start (UTC)", "fte": "FTE (paid h / 40)"})
    xlsx.finish_sheet(week_sheet, freeze="E2")

    vendors = pd.DataFrame({"vendor": sorted(weekly["vendor"].unique())})
    sumifs = {c: f"=SUMIFS({placed_w.ref(c)},{placed_w.ref('vendor')},{{vendor}})" for c in sums}
    xlsx.write_table(vendor_sheet, book, vendors, "cost_by_vendor", formats=fmts,
                     formulas={**sumifs, "cost_per_1000_items": per_1000, "fte": f"={{paid_hours}}/({fte}*{weeks})"},
                     totals=[*sums, "fte"], headers={**headers, "fte": "FTE (average per week)"})
    xlsx.finish_sheet(vendor_sheet, freeze="B2")

    monthly = tidy.finance_monthly(ctx.vendor_allocation, ctx.allocation, start, ctx.shift_plan)
    month_sheet = xlsx.new_sheet(wb, book, "Cost by month")
    xlsx.write_table(month_sheet, book, monthly, "cost_by_month", formats=fmts, formulas={"cost_per_1000_items": per_1000},
                     totals=sums, headers=headers)
    xlsx.finish_sheet(month_sheet, freeze="E2")

    other = ctx.p90_parts()
    if other is not None:
        _compare(wb, book, ctx, weekly, other, start, money)
    solve = ctx.solve or {}
    facts = [("Run id", ctx.run_id), ("Created (UTC)", ctx.created_utc), ("capplan version", ctx.capplan_version),
             ("Plan start (UTC)", str(cfg.planning.start)), ("Plan days", cfg.planning.plan_days),
             ("Forecast quantile", cfg.staffing.quantile), ("Reporting currency", rep),
             (f"Plan cost [{rep}]", solve.get("cost")), (f"Baseline cost [{rep}]", solve.get("baseline_cost")),
             ("Solver status", solve.get("status")), ("Gap", solve.get("gap"))]
    xlsx.readme(readme_sheet, "capplan finance workbook", facts, [
        "Plan cost of one 'capplan plan' run, from vendor_allocation.csv in the same folder.",
        f"Costs are in the reporting currency {rep}, converted with the fx rates on Assumptions.",
        "productive_hours: planned work time; paid_hours: the vendor's shift-plan paid hours split over its rows in "
        "proportion to productive hours (the rule that splits cost).",
        "By vendor: totals per vendor (SUMIFS over Cost by week). Cost by week / Cost by month: vendor x queue x language.",
        "A week spanning two months is split pro rata to the planned productive hours in each month.",
        "FTE = paid hours / fte_hours_per_week (40); on By vendor it is averaged over plan_weeks.",
        "P50 vs P90 (or another pair of quantiles): plan cost per vendor at both forecast quantiles, when both were planned.",
        "Totals are live SUM formulas; editing an assumption updates formulas but does not re-run the optimizer.",
    ])
    xlsx.set_properties(wb, f"capplan finance {ctx.run_id}", ctx.created_utc)
    wb.save(path)
    return path


def _compare(wb, book, ctx: PlanContext, weekly: pd.DataFrame, other: tuple, start, money: str) -> None:
    """Plan cost per vendor at two forecast quantiles (lower quantile first), difference as formulas."""
    va2, solve2 = other
    rep = ctx.config.policy.currency
    q_main = int((ctx.solve or {}).get("quantile") or ctx.config.staffing.quantile)
    q_other = int(solve2.get("quantile") or (ctx.p90.get("quantile") if isinstance(ctx.p90, dict) else None) or 90)
    w2 = tidy.finance_weekly(va2, start)
    main_cost, other_cost = weekly.groupby("vendor")["cost"].sum(), w2.groupby("vendor")["cost"].sum()
    (q_lo, lo, s_lo), (q_hi, hi, s_hi) = sorted([(q_main, main_cost, ctx.solve or {}), (q_other, other_cost, solve2)], key=lambda x: x[0])
    cmp = pd.DataFrame({"vendor": sorted(set(main_cost.index).union(other_cost.index))})
    a, b = f"p{q_lo}_cost", f"p{q_hi}_cost"
    cmp[a] = cmp["vendor"].map(lo).fillna(0.0)
    cmp[b] = cmp["vendor"].map(hi).fillna(0.0)
    sheet = xlsx.new_sheet(wb, book, f"P{q_lo} vs P{q_hi}")
    placed = xlsx.write_table(sheet, book, cmp, f"p{q_lo}_vs_p{q_hi}", formats={a: money, b: money, "difference": money, "change": xlsx.PCT},
                              formulas={"difference": f"={{{b}}}-{{{a}}}", "change": f'=IF({{{a}}}>0,{{{b}}}/{{{a}}}-1,"")'},
                              totals=[a, b, "difference"],
                              headers={a: f"P{q_lo} plan cost [{rep}]", b: f"P{q_hi} plan cost [{rep}]", "difference": f"difference [{rep}]"})
    r = placed.total_row + 2
    for i, (q, solve) in enumerate(((q_lo, s_lo), (q_hi, s_hi))):
        xlsx.put(sheet, r + i, 1, f"Solver plan cost, P{q} [{rep}]").font = xlsx.BOLD
        xlsx.put(sheet, r + i, 2, solve.get("cost"), money)
    xlsx.finish_sheet(sheet, freeze="B2")
