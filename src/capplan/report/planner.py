"""``planner.xlsx``: the workforce planner's workbook (README, weekly summary, assumptions, forecast,
requirements, shift plan, coverage, vendors, shortfalls, issues). Every formula carries its value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from capplan.report import sheets, summary, tidy, xlsx
from capplan.report.context import PlanContext
from capplan.schema import (AHT_S, BACKLOG, CURRENCY, DAY, HEADCOUNT, INTERVAL_START, KIND, LANGUAGE, MAX_WEEKLY_HOURS,
                            MIN_WEEKLY_HOURS, MODEL, PAID_HOURS, PLANNED_PRODUCTIVE, POOL, PRODUCTIVE_HOURS, QUEUE,
                            REQUIRED_PRODUCTIVE, REQUIREMENTS_COLUMNS, SEVERITY, SHIFT, SITE, START_LOCAL, START_UTC,
                            TARGET, UNMET, VENDOR, VOLUME, WEEK_START, WITHIN_S)

MAX_TABLE_ROWS = xlsx.EXCEL_MAX_ROWS - 2  # data rows per sheet (header + total row kept free)
STATUS_STYLE = {  # coverage heatmap and gaps: one colour per status (tidy.coverage_status)
    tidy.SHORTFALL: {"bg_color": "#F8696B", "font_color": "#9C0006", "bold": True},
    tidy.BELOW_TARGET: {"bg_color": "#FFEB84"},
    tidy.DEFERRED: {"bg_color": "#DDEBF7"},
}

SHEET_GUIDE = [
    "How to read this workbook:",
    "Assumptions: the parameters of this run as named cells (yellow = input). Editing an assumption updates "
    "the formula columns (Requirements workload and paid hours, shift paid hours, vendor utilisation) but "
    "does NOT re-run the optimizer: re-run 'capplan plan' for a new plan.",
    "Weekly summary: one page per plan: FTE by site, pool and language; paid, productive and idle hours and occupancy "
    "per pool; expected service per queue.",
    "Forecast: daily totals per queue and language (UTC days) with prediction bands aggregated with the within-day "
    "error correlation (not sums of hourly bounds). Forecast weekly: history vs forecast by week. Forecast charts: per queue.",
    "Requirements: per cell and interval, volume x AHT -> workload hours (formula) -> productive moderators "
    "(service-target maths, method column) -> paid moderators = productive / (1 - shrinkage) (formula).",
    "Shift plan: moderators rostered by pool, site, day and shift; Headcount: the same by day.",
    "Coverage: planned minus required productive moderators per cell (rows) and interval (columns, UTC). Colours: "
    "red = shortfall (work left unmet past its deadline); yellow = realtime queue below its requirement; light blue = "
    "deferred queue working from its backlog within the turnaround deadline (planned, not a crisis). Coverage gaps: "
    "those intervals with backlog, unmet work and the status.",
    "Vendors: paid hours (shift plan) per week against contract limits, productive hours, items and cost per vendor; "
    "Vendor allocation: by week, queue and language (paid hours split in proportion to productive hours, as cost is).",
    "Shortfalls: unmet work priced by severity, and the limits that bind with what one more unit of each would save a "
    "week (its unit beside it; 0: nothing at the margin, the unit says why; blank: not priced, the unit column says why, "
    "never read it as 0). Issues: validation and run warnings.",
    "All times are UTC unless a column says _local. Costs are in the reporting currency unless stated.",
]


def write_planner(path: Path, ctx: PlanContext) -> Path:
    """Write ``planner.xlsx`` for one plan run; returns the path."""
    book = xlsx.Book(path)
    start = tidy.plan_start(ctx.config)
    notes: list[str] = []
    readme_sheet = xlsx.new_sheet(book, "README")
    summary.weekly_summary_sheet(book, ctx)
    names = _assumptions(book, ctx)
    sheets.forecast_sheets(book, ctx.forecast, ctx.history, start)
    _requirements(book, ctx, names, notes)
    _aht_effect(book, ctx)
    _shift_plan(book, ctx)
    _coverage(book, ctx, notes)
    _vendors(book, ctx, names)
    _shortfalls(book, ctx, notes)
    proficiency_sheet(book, ctx)
    if not ctx.risk.empty:
        _risk(book, ctx)
    _issues(book, ctx)
    row = xlsx.readme(readme_sheet, "capplan planner workbook", _facts(ctx), [
        "This workbook is the plan of one 'capplan plan' run. Every number comes from the run's tables "
        "(requirements, shift_plan, allocation, coverage, vendor_allocation parquet/csv files) in the same folder.",
        *SHEET_GUIDE, *notes])
    xlsx.put(readme_sheet, row, 1, "Inputs:", style=xlsx.BOLD)
    inputs = pd.DataFrame(ctx.inputs, columns=["file", "sha256", "rows"]) if ctx.inputs else pd.DataFrame(columns=["file", "sha256", "rows"])
    xlsx.write_table(readme_sheet, inputs, "inputs", top=row + 1)
    readme_sheet.width(2, 70, exact=True)
    xlsx.set_properties(book, f"capplan plan {ctx.run_id}", ctx.created_utc)
    return book.close()


def _facts(ctx: PlanContext) -> list[tuple]:
    """Headline facts with their number formats (no raw floats on the README)."""
    cfg, solve = ctx.config, ctx.solve or {}
    rep = cfg.policy.currency
    money = xlsx.money(rep)
    return [
        ("Run id", ctx.run_id, None), ("Created (UTC)", ctx.created_utc, None), ("capplan version", ctx.capplan_version, None),
        ("Plan start (UTC)", str(cfg.planning.start), None), ("Plan days", cfg.planning.plan_days, xlsx.INT),
        ("Interval [min]", cfg.planning.interval_minutes, xlsx.INT), ("Forecast quantile", cfg.staffing.quantile, xlsx.INT),
        ("Reporting currency", rep, None),
        ("Solver status", solve.get("status_detail") or solve.get("status"), None), (f"Objective [{rep}]", solve.get("objective"), money),
        (f"Bound [{rep}]", solve.get("bound"), money), ("Gap", solve.get("gap"), "0.00%"),
        ("Solve time [s]", solve.get("seconds"), "#,##0.0"),
        (f"Plan cost [{rep}]", solve.get("cost"), money), (f"Baseline cost [{rep}]", solve.get("baseline_cost"), money),
        ("Unmet work [h]", solve.get("unmet_hours"), xlsx.HOURS),
        ("Baseline unmet work [h]", solve.get("baseline_unmet_hours"), xlsx.HOURS),
        ("Saving vs baseline, unmet penalty counted", solve.get("savings_vs_baseline"), "0.0%"),
        ("Saving vs baseline, paid cost only", solve.get("savings_vs_baseline_paid"), "0.0%"),
        ("Saving vs baseline, paid cost + work left to next week", solve.get("savings_vs_baseline_with_end_backlog"), "0.0%"),
        ("Baseline comparison", solve.get("baseline_comparison"), None),
        ("Model size", f"{solve.get('variables', '?'):,} variables, {solve.get('constraints', '?'):,} constraints"
         if isinstance(solve.get("variables"), int) and isinstance(solve.get("constraints"), int)
         else f"{solve.get('variables', '?')} variables, {solve.get('constraints', '?')} constraints", None),
        (f"Committed cost [{rep}] (roster pay at contract, vendor minimums)", solve.get("committed_cost"), money),
        (f"Decidable cost [{rep}]", solve.get("decidable_cost"), money),
        (f"Baseline decidable cost [{rep}]", solve.get("baseline_decidable_cost"), money),
        ("Saving vs baseline, decidable cost only", solve.get("savings_vs_baseline_decidable"), "0.0%"),
    ]


def _assumption_rows(ctx: PlanContext) -> list[tuple[str, str, object, str, str, str]]:
    """(prefix, text, value, format, unit, description) of every named assumption."""
    cfg = ctx.config
    st, pol = cfg.staffing, cfg.policy
    rows = [("shrinkage", "", st.shrinkage, xlsx.PCT, "share", "paid time not productive (global)")]
    for site, s in sorted(st.shrinkage_by_site.items()):
        rows.append(("shrinkage", site, s, xlsx.PCT, "share", f"shrinkage at site {site}"))
    rows.append(("max_occupancy", "", st.max_occupancy, xlsx.PCT, "share", "occupancy cap, realtime queues"))
    rows.append(("deferred_max_utilisation", "", st.deferred_max_utilisation, xlsx.PCT, "share", "productive time spent on deferred work"))
    rows.append(("quantile", "", st.quantile, xlsx.INT, "%", "forecast quantile planned for"))
    rows.append(("plan_weeks", "", cfg.planning.plan_days / 7, "0.00", "weeks", "weeks in the plan (weekly contract limits compare with paid hours / plan_weeks)"))
    rows.append(("exposure_max_share", "", pol.exposure_max_share, xlsx.PCT, "share", "wellbeing: max share of productive time on egregious queues"))
    rows.append(("exposure_max_hours_per_day", "", pol.exposure_max_hours_per_day, xlsx.HOURS, "h", "wellbeing: max egregious hours per moderator per day"))
    for cur, rate in sorted(pol.fx.items()):
        rows.append(("fx", cur, float(rate), xlsx.FX, f"{pol.currency} per {cur}", f"value of 1 {cur} in {pol.currency}"))
    for sev, pen in sorted(pol.unmet_penalty_per_hour.items()):
        rows.append(("penalty_severity", str(sev), pen, xlsx.money(pol.currency), f"{pol.currency}/h", f"price of an unmet hour, severity {sev}"))
    if not ctx.queues.empty:
        for q in ctx.queues.sort_values(QUEUE).itertuples(index=False):
            rows.append(("target", q.queue, float(q.target), xlsx.PCT, "share", f"queue {q.queue}: share within threshold"))
            rows.append((WITHIN_S, q.queue, float(q.within_s), xlsx.INT, "s", f"queue {q.queue}: time threshold"))
    if not ctx.pools.empty:
        for p in ctx.pools.sort_values(POOL).itertuples(index=False):
            rows.append(("rate", p.pool, float(p.cost_per_hour), xlsx.money(p.currency), f"{p.currency}/paid h", f"pool {p.pool} ({p.vendor}, {p.site})"))
    return rows


def _assumptions(book: xlsx.Book, ctx: PlanContext) -> dict[str, str]:
    """Named assumption cells; returns {key: defined name} for formulas."""
    rows = _assumption_rows(ctx)
    sheet = xlsx.new_sheet(book, "Assumptions")
    names: dict[str, str] = {}
    table = []
    for r, (prefix, text, value, _fmt, unit, desc) in enumerate(rows, start=2):
        name = xlsx.define(book, prefix, text, sheet, r, 2)
        names[f"{prefix}:{text}"] = name
        table.append([name, value, unit, desc])
    xlsx.key_value_sheet(sheet, ["name", "value", "unit", "description"], table, [r[3] for r in rows], "assumptions",
                         (32, 14, 16, 60), input_col=2)
    return names


def _requirement_formulas(req: pd.DataFrame, ctx: PlanContext, names: dict[str, str], notes: list[str]) -> dict[str, xlsx.Formula]:
    """Workload and paid moderators as formulas (with their values) where the table follows the formula."""
    formulas: dict[str, xlsx.Formula] = {}
    if {VOLUME, AHT_S, "workload_hours"} <= set(req.columns):
        expected = req[VOLUME] * req[AHT_S] / 3600
        if np.allclose(req["workload_hours"], expected, rtol=1e-9, atol=1e-9, equal_nan=True):
            formulas["workload_hours"] = xlsx.Formula("={volume}*{aht_s}/3600", expected.tolist())
        else:
            notes.append("Requirements: workload_hours differs from volume x AHT / 3600 in some rows, so it is written as values.")
    if {REQUIRED_PRODUCTIVE, "required_paid"} <= set(req.columns):
        global_s = ctx.config.staffing.shrinkage
        s = req["shrinkage"] if "shrinkage" in req.columns else pd.Series(global_s, index=req.index)
        expected = req[REQUIRED_PRODUCTIVE] / (1 - s)
        if np.allclose(req["required_paid"], expected, rtol=1e-9, atol=1e-9, equal_nan=True):
            if np.allclose(s, global_s):
                formulas["required_paid"] = xlsx.Formula("={required_productive}/(1-" + names["shrinkage:"] + ")", expected.tolist())
            else:
                formulas["required_paid"] = xlsx.Formula("={required_productive}/(1-{shrinkage})", expected.tolist())
        else:
            notes.append("Requirements: required_paid differs from productive / (1 - shrinkage) in some rows, so it is written as values.")
    return formulas


def _requirements(book: xlsx.Book, ctx: PlanContext, names: dict[str, str], notes: list[str]) -> None:
    req = ctx.requirements.copy()
    if req.empty:
        req = pd.DataFrame(columns=[QUEUE, LANGUAGE, INTERVAL_START, VOLUME, AHT_S, "workload_hours", REQUIRED_PRODUCTIVE, "required_paid"])
    keep = [c for c in REQUIREMENTS_COLUMNS if c in req.columns] + [c for c in (MODEL,) if c in req.columns]
    keep += [c for c in ("aht_source", "aht_table_s") if c in req.columns]  # where aht_s comes from (forecast.aht)
    req = req[keep]
    req[INTERVAL_START] = tidy.naive_utc(req[INTERVAL_START]) if len(req) else req[INTERVAL_START]
    req = req.sort_values([QUEUE, LANGUAGE, INTERVAL_START], kind="stable").reset_index(drop=True)
    formulas = _requirement_formulas(req, ctx, names, notes)
    if "required_paid" in formulas and "{shrinkage}" not in formulas["required_paid"].template:
        req = req.drop(columns=[c for c in ("shrinkage",) if c in req.columns])  # it is the named cell
    for c in formulas:  # the column keeps its place; write_table puts the formula in it
        req[c] = np.nan
    fmts = {VOLUME: xlsx.INT, AHT_S: xlsx.HOURS, "aht_table_s": xlsx.HOURS, "workload_hours": xlsx.NUM, TARGET: xlsx.PCT,
            WITHIN_S: xlsx.INT, REQUIRED_PRODUCTIVE: xlsx.NUM, "service_level": xlsx.PCT, "shrinkage": xlsx.PCT, "required_paid": xlsx.NUM}
    written = sheets.split_table(
        book, "Requirements", req, "requirements", max_rows=MAX_TABLE_ROWS,
        freeze="D2", formats=fmts, formulas=formulas, headers={AHT_S: "aht_s [s]", WITHIN_S: "within_s [s]",
                                                              "aht_table_s": "aht_table_s [s]"})
    if len(written) > 1:
        notes.append(f"Requirements has {len(req):,} rows, more than one sheet holds: it continues on {len(written) - 1} more sheet(s).")


def _aht_effect(book: xlsx.Book, ctx: PlanContext) -> None:
    """``[forecast] aht = "forecast"``: an AHT sheet, per cell the planned handle time against the table's
    and the workload it adds or removes (the handle-time step of the requirement waterfall)."""
    req = ctx.requirements
    if req.empty or "aht_source" not in req.columns or (req["aht_source"] == "table").all():
        return
    table = tidy.aht_effect(req)
    sheet = xlsx.new_sheet(book, "AHT")
    xlsx.write_table(sheet, table, "aht_effect", formats={
        "aht_table_s": xlsx.HOURS, "aht_s": xlsx.HOURS, "workload_table_hours": xlsx.NUM, "workload_hours": xlsx.NUM,
        "workload_change_hours": xlsx.NUM, "workload_change": xlsx.PCT},
        totals=["workload_table_hours", "workload_hours", "workload_change_hours"],
        headers={"aht_table_s": "aht_table_s [s]", "aht_s": "aht_s planned [s]"})
    xlsx.finish_sheet(sheet, freeze="C2")


def _shift_plan(book: xlsx.Book, ctx: PlanContext) -> None:
    sp = tidy.shift_plan_table(ctx.shift_plan) if not ctx.shift_plan.empty else pd.DataFrame(
        columns=[POOL, VENDOR, SITE, DAY, SHIFT, START_LOCAL, START_UTC, PAID_HOURS, HEADCOUNT])
    sheet = xlsx.new_sheet(book, "Shift plan")
    formulas = {"paid_hours_total": xlsx.Formula("={paid_hours}*{headcount}", (sp[PAID_HOURS] * sp[HEADCOUNT]).tolist())} if len(sp) else {}
    xlsx.write_table(sheet, sp, "shift_plan", formats={PAID_HOURS: xlsx.HOURS, HEADCOUNT: xlsx.INT, DAY: xlsx.DATE,
                     "paid_hours_total": xlsx.HOURS}, formulas=formulas, totals=[c for c in (HEADCOUNT, "paid_hours_total") if c in sp.columns or c in formulas],
                     headers={DAY: "day (site-local)"})
    xlsx.finish_sheet(sheet, freeze="B2")
    if not ctx.shift_plan.empty:
        pivot = tidy.headcount_pivot(ctx.shift_plan)
        day_sheet = xlsx.new_sheet(book, "Headcount")
        xlsx.write_table(day_sheet, pivot, HEADCOUNT, formats={c: xlsx.INT for c in pivot.columns[3:]}, totals=list(pivot.columns[3:]))
        xlsx.finish_sheet(day_sheet, freeze="D2")


def _coverage(book: xlsx.Book, ctx: PlanContext, notes: list[str]) -> None:
    """Heatmap of planned - required with each deficit coloured by its status, then the gap rows."""
    if ctx.coverage.empty:
        return
    detail = tidy.coverage_status(ctx.coverage, ctx.queues)
    heat, status = tidy.coverage_heatmap(ctx.coverage), tidy.status_grid(detail)
    sheet = xlsx.new_sheet(book, "Coverage")
    value_cols = list(heat.columns[2:])
    placed = xlsx.write_table(sheet, heat, "coverage_heatmap", formats={c: "0.0" for c in value_cols}, style="Table Style Light 1")
    for j, col in enumerate(value_cols):
        sheet.width(3 + j, max(7, xlsx.needed_width(heat[col].tolist(), "0.0")), exact=True)  # narrow, but never ###
        for i, (v, st) in enumerate(zip(heat[col].tolist(), status[col].tolist())):
            if st in STATUS_STYLE and v == v:
                sheet.xl.write_number(placed.first_row - 1 + i, 2 + j, v, book.fmt("0.0", STATUS_STYLE[st]))
    xlsx.finish_sheet(sheet, freeze="C2")
    gaps = detail[detail["status"] != tidy.MET].drop(columns=[KIND]).reset_index(drop=True)
    gap_values = (gaps[PLANNED_PRODUCTIVE] - gaps[REQUIRED_PRODUCTIVE]).tolist()
    written = sheets.split_table(
        book, "Coverage gaps", gaps, "coverage_gaps", max_rows=MAX_TABLE_ROWS, freeze="D2",
        formats={c: xlsx.NUM for c in (REQUIRED_PRODUCTIVE, PLANNED_PRODUCTIVE, BACKLOG, UNMET, "gap")},
        formulas={"gap": xlsx.Formula("={planned_productive}-{required_productive}", gap_values)},
        totals=[UNMET] if len(gaps) <= MAX_TABLE_ROWS else None)
    for gap_sheet, placed_gaps in written:
        col = placed_gaps.columns["status"]
        for st, style in STATUS_STYLE.items():
            gap_sheet.xl.conditional_format(f"{col}{placed_gaps.first_row}:{col}{placed_gaps.last_row}", {
                "type": "cell", "criteria": "==", "value": f'"{st}"', "format": book.fmt(None, style)})


def _vendors(book: xlsx.Book, ctx: PlanContext, names: dict[str, str]) -> None:
    start = tidy.plan_start(ctx.config)
    rep = ctx.config.policy.currency
    money = xlsx.money(rep)
    weekly = tidy.finance_weekly(ctx.vendor_allocation, start, ctx.shift_plan)
    frame = weekly.groupby(["sourcing", VENDOR], sort=True)[[PRODUCTIVE_HOURS, "items", "cost"]].sum().reset_index()
    frame[PAID_HOURS] = frame[VENDOR].map(tidy.vendor_paid_hours(ctx.shift_plan))
    formulas = {}
    if not ctx.vendors.empty:
        contract = ctx.vendors[[c for c in (VENDOR, CURRENCY, "quality", MIN_WEEKLY_HOURS, MAX_WEEKLY_HOURS) if c in ctx.vendors.columns]]
        frame = frame.merge(contract.rename(columns={CURRENCY: "contract_currency"}), on=VENDOR, how="left")
        per_week = frame[PAID_HOURS] / (ctx.config.planning.plan_days / 7)
        formulas["paid_hours_per_week"] = xlsx.Formula(f"={{paid_hours}}/{names['plan_weeks:']}", per_week.tolist())
        frame["paid_hours_per_week"] = np.nan
        util = (per_week / frame[MAX_WEEKLY_HOURS]).where(frame[MAX_WEEKLY_HOURS] > 0)
        below = np.where((frame[MIN_WEEKLY_HOURS] > 0) & (per_week < frame[MIN_WEEKLY_HOURS]), "yes", "no")
        formulas["utilisation"] = xlsx.Formula('=IF(N({max_weekly_hours})>0,{paid_hours_per_week}/{max_weekly_hours},"")', util.tolist())
        formulas["below_minimum"] = xlsx.Formula('=IF(AND(N({min_weekly_hours})>0,{paid_hours_per_week}<{min_weekly_hours}),"yes","no")', below.tolist())
    order = ["sourcing", VENDOR, "contract_currency", "quality", PRODUCTIVE_HOURS, PAID_HOURS, "paid_hours_per_week",
             MIN_WEEKLY_HOURS, MAX_WEEKLY_HOURS, "items", "cost"]
    frame = frame[[c for c in order if c in frame.columns]]
    sheet = xlsx.new_sheet(book, "Vendors")
    xlsx.write_table(sheet, frame, "vendors", formats={PRODUCTIVE_HOURS: xlsx.HOURS, PAID_HOURS: xlsx.HOURS, "items": xlsx.INT,
                     "cost": money, "quality": xlsx.PCT, MIN_WEEKLY_HOURS: xlsx.INT, MAX_WEEKLY_HOURS: xlsx.INT,
                     "paid_hours_per_week": xlsx.HOURS, "utilisation": xlsx.PCT},
                     formulas=formulas, totals=[PRODUCTIVE_HOURS, PAID_HOURS, "items", "cost"], headers={"cost": f"cost [{rep}]"})
    xlsx.finish_sheet(sheet, freeze="C2")

    alloc = xlsx.new_sheet(book, "Vendor allocation")
    per_1000 = (weekly["cost"] / weekly["items"] * 1000).where(weekly["items"] > 0)
    xlsx.write_table(alloc, weekly, "vendor_allocation", formats={WEEK_START: xlsx.DATE, PRODUCTIVE_HOURS: xlsx.HOURS,
                     PAID_HOURS: xlsx.HOURS, "items": xlsx.INT, "cost": money, "cost_per_1000_items": money},
                     formulas={"cost_per_1000_items": xlsx.Formula('=IF({items}>0,{cost}/{items}*1000,"")', per_1000.tolist())},
                     totals=[PRODUCTIVE_HOURS, PAID_HOURS, "items", "cost"],
                     headers={WEEK_START: "week_start (UTC)", "cost": f"cost [{rep}]"})
    xlsx.finish_sheet(alloc, freeze="F2")


def _shortfalls(book: xlsx.Book, ctx: PlanContext, notes: list[str]) -> None:
    sheet = xlsx.new_sheet(book, "Shortfalls")
    sf = ctx.shortfalls.copy()
    if sf.empty:
        sf = pd.DataFrame(columns=[QUEUE, LANGUAGE, INTERVAL_START, "unmet_hours", SEVERITY, "penalty", "reason"])
    else:
        sf[INTERVAL_START] = tidy.naive_utc(sf[INTERVAL_START])
        sf = sf.sort_values([c for c in (QUEUE, LANGUAGE, INTERVAL_START) if c in sf.columns], kind="stable").reset_index(drop=True)
    if len(sf) > MAX_TABLE_ROWS:
        notes.append(f"Shortfalls: {len(sf):,} rows; the sheet shows the first {MAX_TABLE_ROWS:,} (all rows are in shortfalls.csv).")
        sf = sf.head(MAX_TABLE_ROWS)
    rep = ctx.config.policy.currency
    placed = xlsx.write_table(sheet, sf, "shortfalls", formats={"unmet_hours": xlsx.NUM, SEVERITY: xlsx.INT, "penalty": xlsx.money(rep)},
                              totals=[c for c in ("unmet_hours", "penalty") if c in sf.columns], headers={"penalty": f"penalty [{rep}]"})
    binding = ctx.binding if not ctx.binding.empty else pd.DataFrame({KIND: [], "name": [], "detail": []})
    left = len(placed.columns) + 2
    xlsx.write_table(sheet, binding.reset_index(drop=True), "binding_limits", left=left, style="Table Style Medium 3",
                     formats={"shadow_price": xlsx.money(rep)},
                     headers={KIND: "binding limit kind", "shadow_price": f"saving per week of one more unit [{rep}] (blank: not priced)",
                              "shadow_unit": "per what unit, or why not priced"})
    xlsx.finish_sheet(sheet, freeze="A2")


def _risk(book: xlsx.Book, ctx: PlanContext) -> None:
    """The plan's stated risk (``[staffing] risk = "scenarios"``): per cell the probability of meeting its target, and
    the price of reliability (the cost at P50, at the chosen risk level and at per-interval P90)."""
    sheet = xlsx.new_sheet(book, "Risk")
    judge = str((ctx.solve.get("risk") or {}).get("judge") or "model")  # how a held-out scenario was judged
    how = "each replayed" if judge.startswith("replay") else "linear model"
    placed = xlsx.write_table(sheet, ctx.risk.reset_index(drop=True), "risk", formats={
        "target": xlsx.PCT, "probability": xlsx.PCT, "p_in_sample": xlsx.PCT, "scenarios": xlsx.INT, "held_out": xlsx.INT,
        "discarded": xlsx.INT, "mean_shortfall_share": xlsx.PCT, "worst_shortfall_share": xlsx.PCT, "met_held_out": xlsx.INT},
        headers={"probability": f"probability (held out, {how}, Jeffreys)", "p_in_sample": "probability (model's scenarios)"})
    price = ctx.solve.get("price_of_reliability") or {}
    rows = pd.DataFrame({"plan": [k for k in ("p50", "chosen", "p90_per_interval") if k in price],
                         "total_cost": [float(price[k]) for k in ("p50", "chosen", "p90_per_interval") if k in price]})
    xlsx.write_table(sheet, rows, "price_of_reliability", left=len(placed.columns) + 2, style="Table Style Medium 3",
                     formats={"total_cost": xlsx.money(ctx.config.policy.currency)},
                     headers={"total_cost": f"total_cost [{ctx.config.policy.currency}]"})
    xlsx.finish_sheet(sheet, freeze="C2")


def _issues(book: xlsx.Book, ctx: PlanContext) -> None:
    sheet = xlsx.new_sheet(book, "Issues")
    issues = pd.DataFrame({"number": range(1, len(ctx.warnings) + 1), "warning": [str(w) for w in ctx.warnings]})
    xlsx.write_table(sheet, issues, "issues", formats={"number": xlsx.INT})
    sheet.width(2, 120, exact=True)
    xlsx.finish_sheet(sheet)


def proficiency_sheet(book: xlsx.Book, ctx: PlanContext) -> None:
    """The AHT multiplier of every pool x cell the optimizer used: base (pools.csv or a capability run, named in
    ``source``) x rework factor from quality ([staffing] proficiency, rework): the last step of the waterfall
    from a cell's requirement (standard hours) to a pool's productive hours."""
    if ctx.proficiency.empty:
        return
    sheet = xlsx.new_sheet(book, "Proficiency")
    xlsx.write_table(sheet, ctx.proficiency, "proficiency", formats={"base_multiplier": "0.000", "quality": "0.00%",
                                                                   "rework_factor": "0.000", "multiplier": "0.000"})
    xlsx.finish_sheet(sheet, freeze="E2")
