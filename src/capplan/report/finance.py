"""``finance.xlsx``: plan cost by week and month x vendor x queue x language, in-house and vendors apart,
cost per item and per productive hour, budget vs plan, P50 vs the plan's quantile.

Every formula is stored with its value (readable by pandas, BI tools and previews). Lookups match names
exactly: the per-vendor totals are ``SUMPRODUCT(EXACT(...)*...)``, never ``SUMIFS`` (whose criteria treat
``*``, ``?``, ``~`` as wildcards and ignore case, so vendors ``Acme``, ``acme`` and ``A*`` would double count).

FTE = paid hours / (40 paid hours per FTE-week x weeks); the 40 is a named, editable cell
(``fte_hours_per_week``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from capplan.report import tidy, xlsx
from capplan.report.context import PlanContext
from capplan.schema import MONTH, PAID_HOURS, PRODUCTIVE_HOURS, QUEUE, VENDOR, WEEK_START

SUMS = [PRODUCTIVE_HOURS, PAID_HOURS, "items", "cost"]
PER_1000 = '=IF({items}>0,{cost}/{items}*1000,"")'


def write_finance(path: Path, ctx: PlanContext) -> Path:
    """Write ``finance.xlsx`` for one plan run; returns the path."""
    book = xlsx.Book(path)
    cfg = ctx.config
    start = tidy.plan_start(cfg)
    rep = cfg.policy.currency
    readme_sheet = xlsx.new_sheet(book, "README")
    names = _assumptions(book, ctx)
    weekly = tidy.finance_weekly(ctx.vendor_allocation, start, ctx.shift_plan)
    fmts = _formats(rep)
    headers = {"cost": f"cost [{rep}]", "cost_per_1000_items": f"cost per 1,000 items [{rep}]", MONTH: "month"}
    _sourcing(book, weekly, fmts, headers)
    vendor_sheet = xlsx.new_sheet(book, "By vendor")  # first in the tab order, filled once Cost by week is placed
    _unit_cost(book, weekly, fmts, rep)
    placed_week = _cost_by_week(book, weekly, names, fmts, headers)
    _by_vendor(vendor_sheet, weekly, placed_week, names, fmts, headers, cfg.planning.plan_days / 7)
    _cost_by_month(book, ctx, start, fmts, headers)
    write_quality_cost_sheet(book, ctx)
    if not ctx.budget.empty:
        _budget(book, ctx, start, rep)
    other = ctx.comparison_parts()
    if other is not None:
        _compare(book, ctx, weekly, other, start, xlsx.money(rep))
    xlsx.readme(readme_sheet, "capplan finance workbook", _facts(ctx), _guide(ctx))
    xlsx.set_properties(book, f"capplan finance {ctx.run_id}", ctx.created_utc)
    return book.close()


def _formats(rep: str) -> dict[str, str]:
    money = xlsx.money(rep)
    return {WEEK_START: xlsx.DATE, MONTH: xlsx.MONTH, PRODUCTIVE_HOURS: xlsx.HOURS, PAID_HOURS: xlsx.HOURS,
            "items": xlsx.INT, "cost": money, "cost_per_1000_items": money, "cost_per_item": money,
            "cost_per_productive_hour": money, "fte": xlsx.NUM, "share": xlsx.PCT}


def _assumptions(book: xlsx.Book, ctx: PlanContext) -> dict[str, str]:
    """Named assumption cells (FTE hours, plan weeks, FX at full precision); returns {key: defined name}."""
    cfg = ctx.config
    rep = cfg.policy.currency
    rows = [("fte_hours_per_week", "", tidy.HOURS_PER_FTE_WEEK, xlsx.HOURS, "paid hours of one full-time equivalent per week"),
            ("plan_weeks", "", cfg.planning.plan_days / 7, "0.00", "weeks in the plan (FTE averages over these)")]
    rows += [("fx", cur, float(rate), xlsx.FX, f"value of 1 {cur} in {rep}") for cur, rate in sorted(cfg.policy.fx.items())]
    sheet = xlsx.new_sheet(book, "Assumptions")
    names, table = {}, []
    for r, (prefix, text, value, _fmt, desc) in enumerate(rows, start=2):
        name = xlsx.define(book, prefix, text, sheet, r, 2)
        names[prefix + (f"_{text}" if text else "")] = name
        table.append([name, value, desc])
    xlsx.key_value_sheet(sheet, ["name", "value", "description"], table, [r[3] for r in rows], "assumptions",
                         (24, 14, 60), input_col=2)
    return names


def _sourcing(book: xlsx.Book, weekly: pd.DataFrame, fmts: dict, headers: dict) -> None:
    """In-house vs vendors: totals, share of cost, cost per item and per productive hour."""
    sheet = xlsx.new_sheet(book, "In-house vs vendor")
    frame = weekly.groupby("sourcing", sort=True)[SUMS].sum().reset_index()
    total = frame["cost"].sum()
    formulas = {
        "share": xlsx.Formula(f"={{cost}}/SUM({_col_range(frame, 'cost', 2)})", (frame["cost"] / total if total else frame["cost"] * np.nan).tolist()),
        **_unit_formulas(frame),
    }
    xlsx.write_table(sheet, frame, "sourcing", formats=fmts, formulas=formulas, totals=SUMS,
                     headers={**headers, "share": "share of cost", **_unit_headers(fmts)})
    xlsx.finish_sheet(sheet, freeze="B2")


def _col_range(frame: pd.DataFrame, column: str, first: int) -> str:
    col = xlsx.letter(list(frame.columns).index(column) + 1)
    return f"${col}${first}:${col}${first + max(len(frame), 1) - 1}"


def _unit_formulas(frame: pd.DataFrame) -> dict[str, xlsx.Formula]:
    with np.errstate(divide="ignore", invalid="ignore"):
        per_item = np.where(frame["items"] > 0, frame["cost"] / frame["items"].where(frame["items"] > 0), np.nan)
        per_hour = np.where(frame[PRODUCTIVE_HOURS] > 0, frame["cost"] / frame[PRODUCTIVE_HOURS].where(frame[PRODUCTIVE_HOURS] > 0), np.nan)
    return {"cost_per_item": xlsx.Formula('=IF({items}>0,{cost}/{items},"")', per_item.tolist()),
            "cost_per_productive_hour": xlsx.Formula('=IF({productive_hours}>0,{cost}/{productive_hours},"")', per_hour.tolist())}


def _unit_headers(fmts: dict) -> dict[str, str]:
    code = fmts["cost"].split('"')[1]
    return {"cost_per_item": f"cost per item [{code}]", "cost_per_productive_hour": f"cost per productive hour [{code}]"}


def _unit_cost(book: xlsx.Book, weekly: pd.DataFrame, fmts: dict, rep: str) -> None:
    """Cost per item and per productive hour by vendor (in-house included, marked) and queue."""
    sheet = xlsx.new_sheet(book, "Unit cost")
    frame = weekly.groupby(["sourcing", VENDOR, QUEUE], sort=True)[[PRODUCTIVE_HOURS, "items", "cost"]].sum().reset_index()
    xlsx.write_table(sheet, frame, "unit_cost", formats=fmts, formulas=_unit_formulas(frame),
                     headers={"cost": f"cost [{rep}]", **_unit_headers(fmts)})
    xlsx.finish_sheet(sheet, freeze="D2")


def _cost_by_week(book: xlsx.Book, weekly: pd.DataFrame, names: dict, fmts: dict, headers: dict) -> xlsx.Placed:
    sheet = xlsx.new_sheet(book, "Cost by week")
    fte = names["fte_hours_per_week"]
    formulas = {"cost_per_1000_items": _per_1000(weekly),
                "fte": xlsx.Formula(f"={{paid_hours}}/{fte}", (weekly[PAID_HOURS] / tidy.HOURS_PER_FTE_WEEK).tolist())}
    placed = xlsx.write_table(sheet, weekly, "cost_by_week", formats=fmts, formulas=formulas, totals=[*SUMS, "fte"],
                              headers={**headers, WEEK_START: "week_start (UTC)", "fte": "FTE (paid h / 40)"})
    xlsx.finish_sheet(sheet, freeze="F2")
    return placed


def _per_1000(frame: pd.DataFrame) -> xlsx.Formula:
    values = (frame["cost"] / frame["items"] * 1000).where(frame["items"] > 0)
    return xlsx.Formula(PER_1000, values.tolist())


def _by_vendor(sheet: xlsx.Sheet, weekly: pd.DataFrame, placed_week: xlsx.Placed, names: dict, fmts: dict, headers: dict,
               plan_weeks: float) -> None:
    """BPO vendors only (in-house is on 'In-house vs vendor'): totals summed from Cost by week by exact name."""
    bpo = weekly[weekly["sourcing"] == tidy.VENDOR_SOURCING]
    totals = bpo.groupby(VENDOR, sort=True)[SUMS].sum(min_count=1).fillna(0.0)
    vendors = pd.DataFrame({VENDOR: totals.index.tolist()})
    weeks = names["plan_weeks"]
    key = placed_week.ref(VENDOR)
    formulas = {c: xlsx.Formula(f"=SUMPRODUCT(EXACT({key},{{vendor}})*{placed_week.ref(c)})", totals[c].tolist()) for c in SUMS}
    formulas["cost_per_1000_items"] = _per_1000(totals.reset_index())
    fte = totals[PAID_HOURS] / (tidy.HOURS_PER_FTE_WEEK * plan_weeks)
    formulas["fte"] = xlsx.Formula(f"={{paid_hours}}/({names['fte_hours_per_week']}*{weeks})", fte.tolist())
    xlsx.write_table(sheet, vendors, "cost_by_vendor", formats=fmts, formulas=formulas, totals=[*SUMS, "fte"],
                     headers={**headers, "fte": "FTE (average per week)"})
    xlsx.finish_sheet(sheet, freeze="B2")


def _cost_by_month(book: xlsx.Book, ctx: PlanContext, start, fmts: dict, headers: dict) -> None:
    monthly = tidy.finance_monthly(ctx.vendor_allocation, ctx.allocation, start, ctx.shift_plan)
    sheet = xlsx.new_sheet(book, "Cost by month")
    xlsx.write_table(sheet, monthly, "cost_by_month", formats=fmts, formulas={"cost_per_1000_items": _per_1000(monthly)},
                     totals=SUMS, headers=headers)
    xlsx.finish_sheet(sheet, freeze="F2")


def _budget(book: xlsx.Book, ctx: PlanContext, start, rep: str) -> None:
    """Budget vs plan by month (and by vendor when the budget names vendors), variance as formulas."""
    frame = tidy.budget_vs_plan(ctx.budget, ctx.vendor_allocation, ctx.allocation, start, ctx.shift_plan, ctx.config.policy.fx, rep)
    sheet = xlsx.new_sheet(book, "Budget vs plan")
    money = xlsx.money(rep)
    variance = frame["plan_cost"] - frame["budget"]
    pct = (variance / frame["budget"]).where(frame["budget"] > 0)
    xlsx.write_table(sheet, frame, "budget_vs_plan",
                     formats={MONTH: xlsx.MONTH, "budget": money, "plan_cost": money, "variance": money, "variance_pct": xlsx.PCT},
                     formulas={"variance": xlsx.Formula("={plan_cost}-{budget}", variance.tolist()),
                               "variance_pct": xlsx.Formula('=IF({budget}>0,{variance}/{budget},"")', pct.tolist())},
                     totals=["budget", "plan_cost", "variance"],
                     headers={MONTH: "month", "budget": f"budget [{rep}]", "plan_cost": f"plan cost [{rep}]", "variance": f"variance (plan - budget) [{rep}]",
                              "variance_pct": "variance [% of budget]"})
    xlsx.finish_sheet(sheet, freeze="C2")


def _facts(ctx: PlanContext) -> list[tuple]:
    cfg, solve = ctx.config, ctx.solve or {}
    rep = cfg.policy.currency
    money = xlsx.money(rep)
    return [("Run id", ctx.run_id, None), ("Created (UTC)", ctx.created_utc, None), ("capplan version", ctx.capplan_version, None),
            ("Plan start (UTC)", str(cfg.planning.start), None), ("Plan days", cfg.planning.plan_days, xlsx.INT),
            ("Forecast quantile", cfg.staffing.quantile, xlsx.INT), ("Reporting currency", rep, None),
            (f"Plan cost [{rep}]", solve.get("cost"), money), (f"Baseline cost [{rep}]", solve.get("baseline_cost"), money),
            ("Solver status", solve.get("status_detail") or solve.get("status"), None), ("Gap", solve.get("gap"), "0.00%"),
            ("P50 comparison", _comparison_text(ctx), None)]


def _comparison_text(ctx: PlanContext) -> str:
    """Where the plan's risk level is compared with the median forecast (always stated)."""
    q = int((ctx.solve or {}).get("quantile") or ctx.config.staffing.quantile)
    if ctx.comparison_parts() is not None:
        return "see the P50 vs P{} sheet: plan cost per vendor at both forecast quantiles".format(q) if q != 50 else \
            "see the comparison sheet: plan cost per vendor at both forecast quantiles"
    if q == 50:
        return "the plan is at P50 (the median forecast): it is its own P50 comparison"
    return f"no P50 plan was made for this P{q} plan"


def _guide(ctx: PlanContext) -> list[str]:
    rep = ctx.config.policy.currency
    return [
        "Plan cost of one 'capplan plan' run, from vendor_allocation.csv in the same folder.",
        f"Costs are in the reporting currency {rep}, converted with the fx rates on Assumptions (full precision).",
        "productive_hours: planned work time; paid_hours: the shift-plan paid hours of the vendor (or in-house) split over "
        "its rows in proportion to productive hours (the rule that splits cost).",
        "In-house vs vendor: in-house pools and BPO vendors apart, with cost per item and per productive hour.",
        "By vendor: BPO vendors only, summed from Cost by week with SUMPRODUCT(EXACT(...)) (exact names: no wildcards, "
        "case-sensitive). Unit cost: cost per item and per productive hour by vendor and queue.",
        "Cost by week / Cost by month: sourcing x vendor x queue x language. A week spanning two months is split pro rata "
        "to the planned productive hours in each month.",
        "Budget vs plan: inputs/budget.csv against the plan cost by month, variance = plan - budget (when a budget is given).",
        "FTE = paid hours / fte_hours_per_week (40); on By vendor it is averaged over plan_weeks.",
        "P50 vs P90 (or another pair of quantiles): plan cost per vendor at both forecast quantiles, when both were planned.",
        "Every formula is stored with its value; editing an assumption recalculates formulas but does not re-run the optimizer.",
    ]


def _compare(book: xlsx.Book, ctx: PlanContext, weekly: pd.DataFrame, other: tuple, start, money: str) -> None:
    """Plan cost per vendor at two forecast quantiles (lower quantile first), difference as formulas."""
    va2, solve2 = other
    rep = ctx.config.policy.currency
    q_main = int((ctx.solve or {}).get("quantile") or ctx.config.staffing.quantile)
    q_other = int(solve2.get("quantile") or ctx.comparison.quantile)
    w2 = tidy.finance_weekly(va2, start)
    main_cost, other_cost = weekly.groupby(VENDOR)["cost"].sum(), w2.groupby(VENDOR)["cost"].sum()
    (q_lo, lo, s_lo), (q_hi, hi, s_hi) = sorted([(q_main, main_cost, ctx.solve or {}), (q_other, other_cost, solve2)], key=lambda x: x[0])
    cmp = pd.DataFrame({VENDOR: sorted(set(main_cost.index).union(other_cost.index))})
    a, b = f"p{q_lo}_cost", f"p{q_hi}_cost"
    cmp[a] = cmp[VENDOR].map(lo).fillna(0.0)
    cmp[b] = cmp[VENDOR].map(hi).fillna(0.0)
    diff = cmp[b] - cmp[a]
    change = (cmp[b] / cmp[a] - 1).where(cmp[a] > 0)
    sheet = xlsx.new_sheet(book, f"P{q_lo} vs P{q_hi}")
    placed = xlsx.write_table(sheet, cmp, f"p{q_lo}_vs_p{q_hi}", formats={a: money, b: money, "difference": money, "change": xlsx.PCT},
                              formulas={"difference": xlsx.Formula(f"={{{b}}}-{{{a}}}", diff.tolist()),
                                        "change": xlsx.Formula(f'=IF({{{a}}}>0,{{{b}}}/{{{a}}}-1,"")', change.tolist())},
                              totals=[a, b, "difference"],
                              headers={a: f"P{q_lo} plan cost [{rep}]", b: f"P{q_hi} plan cost [{rep}]", "difference": f"difference [{rep}]"})
    r = placed.total_row + 2
    for i, (q, solve) in enumerate(((q_lo, s_lo), (q_hi, s_hi))):
        xlsx.put(sheet, r + i, 1, f"Solver plan cost, P{q} [{rep}]", style=xlsx.BOLD)
        xlsx.put(sheet, r + i, 2, solve.get("cost"), money)
        sheet.width(2, xlsx.needed_width([solve.get("cost")], money))
    xlsx.finish_sheet(sheet, freeze="B2")


def write_quality_cost_sheet(book: xlsx.Book, ctx: PlanContext) -> None:
    """Quality-adjusted cost per item by vendor (``tidy.quality_cost_by_vendor``), when the plan has its multipliers."""
    if ctx.proficiency.empty:
        return
    staffing = ctx.config.staffing
    frame = tidy.quality_cost_by_vendor(ctx.vendor_allocation, ctx.allocation, ctx.proficiency, staffing.rework, staffing.rework_aht_ratio)
    money = xlsx.money(ctx.config.policy.currency)
    sheet = xlsx.new_sheet(book, "Quality-adjusted cost")
    xlsx.write_table(sheet, frame, "quality_cost", formats={"items": xlsx.INT, "cost": money, "quality": "0.00%", "rework_share": "0.00%",
                                                           "rework_factor": "0.000", "cost_per_item_first_review": "#,##0.0000",
                                                           "quality_adjusted_cost_per_item": "#,##0.0000"})
    xlsx.finish_sheet(sheet)
