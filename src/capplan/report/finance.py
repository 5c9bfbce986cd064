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

    readme_ws = xlsx.new_sheet(wb, book, "README", first=True)
    weekly = tidy.finance_weekly(ctx.vendor_allocation, start)
    n_weeks = max(weekly["week_start"].nunique(), 1) if len(weekly) else max(round(cfg.planning.plan_days / 7, 2), 1)

    # assumptions
    ws = xlsx.new_sheet(wb, book, "Assumptions")
    rows = [("fte_hours_per_week", "", tidy.HOURS_PER_FTE_WEEK, xlsx.HOURS, "paid hours of one full-time equivalent per week"),
            ("plan_weeks", "", n_weeks, "0.00", "weeks in the plan (FTE averages over these)")]
    rows += [("fx", cur, rate, "0.0000", f"value of 1 {cur} in {rep}") for cur, rate in sorted(cfg.policy.fx.items())]
    for i, h in enumerate(["name", "value", "description"], start=1):
        c = xlsx.put(ws, 1, i, h)
        c.font, c.fill = xlsx.HEADER_FONT, xlsx.HEADER_FILL
    names = {}
    for r, (prefix, text, value, fmt, desc) in enumerate(rows, start=2):
        name = xlsx.define(wb, book, prefix, text, ws, f"B{r}")
        names[prefix + (f"_{text}" if text else "")] = name
        xlsx.put(ws, r, 1, name)
        xlsx.mark_input(xlsx.put(ws, r, 2, value, fmt))
        xlsx.put(ws, r, 3, desc)
    for col, w in zip("ABC", (24, 14, 60)):
        ws.column_dimensions[col].width = w
    xlsx.finish_sheet(ws)
    fte, weeks = names["fte_hours_per_week"], names["plan_weeks"]

    per_1000 = '=IF({items}>0,{cost}/{items}*1000,"")'
    headers = {"hours": "paid hours", "cost": f"cost [{rep}]", "cost_per_1000_items": f"cost per 1,000 items [{rep}]"}
    fmts = {"week_start": xlsx.DATE, "month": "yyyy-mm", "hours": xlsx.HOURS, "items": xlsx.INT, "cost": money,
            "cost_per_1000_items": money, "fte": xlsx.NUM}

    # By vendor comes first but sums the weekly detail with SUMIFS
    ws_v = xlsx.new_sheet(wb, book, "By vendor")
    ws_w = xlsx.new_sheet(wb, book, "Cost by week")
    placed_w = xlsx.write_table(ws_w, book, weekly, "cost_by_week", formats=fmts,
                                formulas={"cost_per_1000_items": per_1000, "fte": f"={{hours}}/{fte}"},
                                totals=["hours", "items", "cost", "fte"], headers={**headers, "week_start": "week_start (UTC)", "fte": "FTE (paid h / 40)"})
    xlsx.finish_sheet(ws_w, freeze="E2")

    vendors = pd.DataFrame({"vendor": sorted(weekly["vendor"].unique())})
    sumifs = {c: f"=SUMIFS({placed_w.ref(c)},{placed_w.ref('vendor')},{{vendor}})" for c in ("hours", "items", "cost")}
    xlsx.write_table(ws_v, book, vendors, "cost_by_vendor", formats=fmts,
                     formulas={**sumifs, "cost_per_1000_items": per_1000, "fte": f"={{hours}}/({fte}*{weeks})"},
                     totals=["hours", "items", "cost", "fte"], headers={**headers, "fte": "FTE (average per week)"})
    xlsx.finish_sheet(ws_v, freeze="B2")

    monthly = tidy.finance_monthly(ctx.vendor_allocation, ctx.allocation, start)
    ws_m = xlsx.new_sheet(wb, book, "Cost by month")
    xlsx.write_table(ws_m, book, monthly, "cost_by_month", formats=fmts, formulas={"cost_per_1000_items": per_1000},
                     totals=["hours", "items", "cost"], headers=headers)
    xlsx.finish_sheet(ws_m, freeze="E2")

    p90 = ctx.p90_parts()
    if p90 is not None:
        va90, solve90 = p90
        w90 = tidy.finance_weekly(va90, start)
        cmp = pd.DataFrame({"vendor": sorted(set(weekly["vendor"]).union(w90["vendor"]))})
        cmp["p50_cost"] = cmp["vendor"].map(weekly.groupby("vendor")["cost"].sum()).fillna(0.0)
        cmp["p90_cost"] = cmp["vendor"].map(w90.groupby("vendor")["cost"].sum()).fillna(0.0)
        ws_p = xlsx.new_sheet(wb, book, "P50 vs P90")
        placed = xlsx.write_table(ws_p, book, cmp, "p50_vs_p90", formats={"p50_cost": money, "p90_cost": money, "difference": money, "change": xlsx.PCT},
                                  formulas={"difference": "={p90_cost}-{p50_cost}", "change": '=IF({p50_cost}>0,{p90_cost}/{p50_cost}-1,"")'},
                                  totals=["p50_cost", "p90_cost", "difference"],
                                  headers={"p50_cost": f"P50 plan cost [{rep}]", "p90_cost": f"P90 plan cost [{rep}]", "difference": f"difference [{rep}]"})
        r = placed.total_row + 2
        xlsx.put(ws_p, r, 1, "Solver plan cost, P50").font = xlsx.BOLD
        xlsx.put(ws_p, r, 2, (ctx.solve or {}).get("cost"), money)
        xlsx.put(ws_p, r + 1, 1, "Solver plan cost, P90").font = xlsx.BOLD
        xlsx.put(ws_p, r + 1, 2, solve90.get("cost"), money)
        xlsx.finish_sheet(ws_p, freeze="B2")

    solve = ctx.solve or {}
    facts = [("Run id", ctx.run_id), ("Created (UTC)", ctx.created_utc), ("capplan version", ctx.capplan_version),
             ("Plan start (UTC)", str(cfg.planning.start)), ("Plan days", cfg.planning.plan_days),
             ("Forecast quantile", cfg.staffing.quantile), ("Reporting currency", rep),
             (f"Plan cost [{rep}]", solve.get("cost")), (f"Baseline cost [{rep}]", solve.get("baseline_cost")),
             ("Solver status", solve.get("status")), ("Gap", solve.get("gap"))]
    xlsx.readme(readme_ws, "capplan finance workbook", facts, [
        "Plan cost of one 'capplan plan' run, from vendor_allocation.csv in the same folder.",
        f"Costs are in the reporting currency {rep}, converted with the fx rates on Assumptions; hours are paid hours.",
        "By vendor: totals per vendor (SUMIFS over Cost by week). Cost by week / Cost by month: vendor x queue x language.",
        "A week spanning two months is split pro rata to the planned productive hours in each month.",
        "FTE = paid hours / fte_hours_per_week (40); on By vendor it is averaged over plan_weeks.",
        "P50 vs P90: plan cost at the mean forecast and at the P90 forecast (present when both were planned).",
        "Totals are live SUM formulas; editing an assumption updates formulas but does not re-run the optimizer.",
    ])
    xlsx.set_properties(wb, f"capplan finance {ctx.run_id}", ctx.created_utc)
    wb.save(path)
    return path
