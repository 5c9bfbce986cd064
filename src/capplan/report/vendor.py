"""``vendors/<vendor>.xlsx``: one BPO vendor's own plan, laid out for their scheduler, and nothing about any other vendor.

What a scheduler needs to staff: moderators per shift start, day, queue and language (``Roster``), the
weekly days-off patterns and the real headcount (people, not moderator-days), the hourly productive
moderators required on their queues, the wellbeing rule they must apply, the contract terms against the
planned weekly hours, and cost in the contract currency (pool rates converted with the stated FX).

Isolation is by construction: every table is filtered to the vendor's rows (``vendor`` column or the
vendor's pools) *before* it reaches a sheet, the workbook has no hidden sheets, charts or comments,
defined names are only the vendor's own pool rates, and document properties name only the vendor.
Platform totals (plan cost, solver objective, platform-wide requirements) are left out: they would
reveal others' work and costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capplan.inputs.names import file_stem
from capplan.report import roster, tidy, xlsx
from capplan.report.context import PlanContext
from capplan.schema import (CURRENCY, DAY, DAYS_PER_WEEK, EGREGIOUS, HEADCOUNT, INTERVAL_START, KIND, LANGUAGE,
                            MAX_WEEKLY_HOURS, MIN_WEEKLY_HOURS, PAID_HOURS, PATIENCE_S, POOL, PRODUCTIVE_HOURS, QUEUE,
                            SEVERITY, SITE, START_UTC, TARGET, VENDOR, VOLUME, WEEK_START, WITHIN_S)

def vendor_file_names(vendors: list[str]) -> dict[str, str]:
    """Vendor name -> safe, unique file name (``Acme BPO/PH`` -> ``Acme_BPO_PH.xlsx``)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for v in vendors:
        base = file_stem(v)
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name.lower())
        out[v] = f"{name}.xlsx"
    return out


@dataclass
class VendorView:
    """The plan tables filtered to one vendor (nothing else reaches the workbook)."""

    vendor: str
    currency: str
    contract: pd.DataFrame
    pools: pd.DataFrame
    shift_plan: pd.DataFrame
    allocation: pd.DataFrame
    vendor_allocation: pd.DataFrame
    patterns: pd.DataFrame


def vendor_view(ctx: PlanContext, vendor: str) -> VendorView:
    """Filter every table of the plan to ``vendor`` (exact name)."""
    pools = ctx.pools[ctx.pools[VENDOR] == vendor].sort_values(POOL) if not ctx.pools.empty else ctx.pools
    own_pools = set(pools[POOL]) if not pools.empty else set()

    def mine(frame: pd.DataFrame) -> pd.DataFrame:
        if frame.empty:
            return frame
        return frame[frame[VENDOR] == vendor] if VENDOR in frame.columns else frame[frame[POOL].isin(own_pools)]

    contract = ctx.vendors[ctx.vendors[VENDOR] == vendor] if not ctx.vendors.empty else ctx.vendors
    currency = str(contract[CURRENCY].iloc[0]) if len(contract) else (str(pools[CURRENCY].iloc[0]) if len(pools) else "")
    return VendorView(vendor, currency, contract, pools, mine(ctx.shift_plan), mine(ctx.allocation), mine(ctx.vendor_allocation),
                      mine(ctx.patterns))


def write_vendor(path: Path, ctx: PlanContext, vendor: str) -> Path:
    """Write the workbook of one BPO vendor; returns the path."""
    book = xlsx.Book(path)
    view = vendor_view(ctx, vendor)
    start = tidy.plan_start(ctx.config)
    readme_sheet = xlsx.new_sheet(book, "README")
    rates = _rates(book, view, ctx.config.policy.fx)
    _roster(book, view, ctx.config.planning.interval_minutes)
    _patterns(book, view)
    _headcount_by_day(book, view)
    _requirement(book, view, ctx.config.planning.interval_minutes)
    _contract(book, view, start, ctx.config.planning.plan_days)
    served = set(view.vendor_allocation[QUEUE]) if len(view.vendor_allocation) else set()
    served |= set(view.allocation[QUEUE]) if len(view.allocation) else set()
    _targets(book, ctx.queues, served)
    _volume(book, view.vendor_allocation, start)
    _cost(book, view, rates, start, ctx.config.policy.fx)
    xlsx.readme(readme_sheet, f"Staffing plan for {vendor}", _facts(ctx, view), _guide(ctx, view, served))
    xlsx.set_properties(book, f"capplan plan {ctx.run_id} for {vendor}", ctx.created_utc)
    return book.close()


def _facts(ctx: PlanContext, view: VendorView) -> list[tuple]:
    cfg = ctx.config
    facts = [("Vendor", view.vendor, None), ("Run id", ctx.run_id, None), ("Created (UTC)", ctx.created_utc, None),
             ("Plan start (UTC)", str(cfg.planning.start), None), ("Plan days", cfg.planning.plan_days, xlsx.INT),
             ("Contract currency", view.currency, None),
             ("Moderators (people on weekly patterns)", roster.people(view.patterns, view.shift_plan), xlsx.INT)]
    if len(view.contract):
        c = view.contract.iloc[0]
        facts += [("Committed paid hours per week", c.get(MIN_WEEKLY_HOURS), xlsx.INT),
                  ("Capacity paid hours per week", c.get(MAX_WEEKLY_HOURS), xlsx.INT)]
    weeks = cfg.planning.plan_days / 7
    paid = float((view.shift_plan[PAID_HOURS] * view.shift_plan[HEADCOUNT]).sum()) if len(view.shift_plan) else 0.0
    facts.append(("Planned paid hours per week", paid / weeks if weeks else None, xlsx.INT))
    return facts


def _guide(ctx: PlanContext, view: VendorView, served: set[str]) -> list[str]:
    pol = ctx.config.policy
    egregious = sorted(ctx.queues.loc[ctx.queues[QUEUE].isin(served) & ctx.queues[EGREGIOUS].astype(bool), QUEUE]) if not ctx.queues.empty else []
    rule = (f"WELLBEING RULE (you must apply it): on the egregious queues ({', '.join(egregious) or 'none of yours'}) each "
            f"moderator spends at most {pol.exposure_max_share:.0%} of productive time and at most "
            f"{pol.exposure_max_hours_per_day:g} hours per day; the plan respects it, your rota must too.")
    return [
        "This workbook holds your part of the plan only. All times are UTC unless a column says _local.",
        rule,
        "Roster: moderators per site, pool, day, shift start and skill (queue x language): the shift's headcount split by "
        "the work planned for it, in whole moderators that add up to the shift's headcount.",
        "Patterns: the weekly days-off patterns (which days a moderator works, which days off) and how many moderators "
        "are on each: their sum is your real headcount (people); Headcount by day counts moderator-days.",
        "Requirement: productive moderators required per hour on each queue x language (the work allocated to you "
        "divided by the interval length).",
        "Contract: planned paid hours per week against the committed minimum and the capacity maximum.",
        "Targets: the service targets of the queues you serve. Volume: productive hours and items allocated per week.",
        f"Rates and Cost: your pools' rates converted to the contract currency {view.currency} with the FX shown on Rates "
        "(yellow = input); editing a rate updates the Cost sheet.",
    ]


def _rates(book: xlsx.Book, view: VendorView, fx: dict[str, float]) -> dict[str, str]:
    """Pool rates in their currency, the FX to the contract currency, and the contract-currency rate (named)."""
    sheet = xlsx.new_sheet(book, "Rates")
    header = ["name", POOL, SITE, "pool currency", "rate per paid hour (pool currency)",
              f"FX: 1 pool currency in {view.currency}", f"rate per paid hour [{view.currency}]"]
    for i, h in enumerate(header, start=1):
        xlsx.put(sheet, 1, i, h, style=xlsx.HEADER)
    names = {}
    contract_fmt = xlsx.money(view.currency)
    for r, p in enumerate(view.pools.itertuples(index=False), start=2):
        name = xlsx.define(book, "rate", p.pool, sheet, r, 7)
        names[p.pool] = name
        conversion = convert(1.0, p.currency, view.currency, fx)
        xlsx.put(sheet, r, 1, name)
        xlsx.put(sheet, r, 2, p.pool)
        xlsx.put(sheet, r, 3, p.site)
        xlsx.put(sheet, r, 4, p.currency)
        xlsx.put(sheet, r, 5, float(p.cost_per_hour), xlsx.money(p.currency), xlsx.INPUT)
        xlsx.put(sheet, r, 6, conversion, xlsx.FX, xlsx.INPUT)
        xlsx.formula(sheet, r, 7, f"=E{r}*F{r}", float(p.cost_per_hour) * conversion, contract_fmt)
        for col, value, fmt in ((5, p.cost_per_hour, xlsx.money(p.currency)), (6, conversion, xlsx.FX), (7, p.cost_per_hour * conversion, contract_fmt)):
            sheet.width(col, xlsx.needed_width([float(value)], fmt))
    sheet.xl.add_table(0, 0, max(len(view.pools), 1), len(header) - 1, {
        "name": book.table_name("rates"), "style": "Table Style Light 9",
        "columns": [{"header": h, "header_format": book.fmt(None, xlsx.HEADER)} for h in header]})
    for col, w in zip(range(1, 5), (28, 20, 16, 10)):
        sheet.width(col, w)
    xlsx.finish_sheet(sheet)
    return names


def convert(amount: float, currency: str, to: str, fx: dict[str, float]) -> float:
    """``amount`` in ``currency`` expressed in ``to``; ``fx`` gives the value of 1 unit in the reporting currency."""
    if currency == to:
        return float(amount)
    if currency not in fx or to not in fx or not fx[to]:
        return float("nan")  # the conversion is not known: the cell stays empty rather than wrong
    return float(amount) * float(fx[currency]) / float(fx[to])


def _roster(book: xlsx.Book, view: VendorView, interval_minutes: int) -> None:
    sheet = xlsx.new_sheet(book, "Roster")
    table = roster.roster_by_skill(view.shift_plan, view.allocation, interval_minutes)
    xlsx.write_table(sheet, table, "roster", formats={DAY: xlsx.DATE, START_UTC: xlsx.DATETIME, "shift_headcount": xlsx.INT,
                                                      "moderators": xlsx.INT},
                     headers={DAY: "day (site-local)", START_UTC: "start (UTC)", "shift_headcount": "shift headcount",
                              "moderators": "moderators on this skill"},
                     totals=["moderators"])
    xlsx.finish_sheet(sheet, freeze="D2")


def _patterns(book: xlsx.Book, view: VendorView) -> None:
    sheet = xlsx.new_sheet(book, "Patterns")
    table = roster.pattern_table(view.patterns, view.pools)
    xlsx.write_table(sheet, table, "patterns", formats={DAYS_PER_WEEK: xlsx.INT, "moderators": xlsx.INT, "paid_hours_week": xlsx.HOURS},
                     headers={"paid_hours_week": "paid hours per moderator-week", "moderators": "moderators (people)"},
                     totals=["moderators"])
    xlsx.finish_sheet(sheet, freeze="C2")


def _headcount_by_day(book: xlsx.Book, view: VendorView) -> None:
    if view.shift_plan.empty:
        return
    pivot = tidy.headcount_pivot(view.shift_plan)
    sheet = xlsx.new_sheet(book, "Headcount by day")
    xlsx.write_table(sheet, pivot, "headcount_by_day", formats={c: xlsx.INT for c in pivot.columns[3:]}, totals=list(pivot.columns[3:]))
    xlsx.finish_sheet(sheet, freeze="D2")


def _requirement(book: xlsx.Book, view: VendorView, interval_minutes: int) -> None:
    sheet = xlsx.new_sheet(book, "Requirement")
    wide = roster.hourly_requirement(view.allocation, interval_minutes)
    cells = [c for c in wide.columns if c != INTERVAL_START]
    xlsx.write_table(sheet, wide, "requirement", formats={INTERVAL_START: xlsx.DATETIME, **{c: "0.0" for c in cells}},
                     headers={INTERVAL_START: "interval start (UTC)"})
    xlsx.finish_sheet(sheet, freeze="B2")


def _contract(book: xlsx.Book, view: VendorView, start: pd.Timestamp, plan_days: int) -> None:
    sheet = xlsx.new_sheet(book, "Contract")
    weekly = tidy.plan_paid_hours(view.shift_plan, start).groupby(WEEK_START, sort=True)[PAID_HOURS].sum().reset_index()
    c = view.contract.iloc[0] if len(view.contract) else {}
    days = [min(7, max(0, plan_days - 7 * i)) for i in range(len(weekly))]
    weekly["plan_days_in_week"] = days
    weekly["paid_hours_per_7_days"] = weekly[PAID_HOURS] * 7 / weekly["plan_days_in_week"].clip(lower=1)
    weekly[MIN_WEEKLY_HOURS] = float(c.get(MIN_WEEKLY_HOURS, float("nan"))) if len(view.contract) else float("nan")
    weekly[MAX_WEEKLY_HOURS] = float(c.get(MAX_WEEKLY_HOURS, float("nan"))) if len(view.contract) else float("nan")
    util = weekly["paid_hours_per_7_days"] / weekly[MAX_WEEKLY_HOURS]
    xlsx.write_table(sheet, weekly, "contract", formats={WEEK_START: xlsx.DATE, PAID_HOURS: xlsx.INT, "plan_days_in_week": xlsx.INT,
                                                         "paid_hours_per_7_days": xlsx.INT, MIN_WEEKLY_HOURS: xlsx.INT,
                                                         MAX_WEEKLY_HOURS: xlsx.INT, "utilisation": xlsx.PCT},
                     formulas={"utilisation": xlsx.Formula('=IF(N({max_weekly_hours})>0,{paid_hours_per_7_days}/{max_weekly_hours},"")',
                                                           util.where(weekly[MAX_WEEKLY_HOURS] > 0).tolist())},
                     headers={WEEK_START: "week_start (UTC)", PAID_HOURS: "planned paid hours",
                              "paid_hours_per_7_days": "paid hours per 7 days", MIN_WEEKLY_HOURS: "committed minimum",
                              MAX_WEEKLY_HOURS: "capacity maximum", "utilisation": "share of capacity"})
    xlsx.finish_sheet(sheet, freeze="B2")


def _volume(book: xlsx.Book, va: pd.DataFrame, start: pd.Timestamp) -> None:
    sheet = xlsx.new_sheet(book, "Volume")
    weekly = tidy.finance_weekly(va, start)
    weekly = weekly[[QUEUE, LANGUAGE, WEEK_START, PRODUCTIVE_HOURS, "items"]].sort_values([QUEUE, LANGUAGE, WEEK_START], kind="stable")
    xlsx.write_table(sheet, weekly.reset_index(drop=True), VOLUME, formats={WEEK_START: xlsx.DATE, PRODUCTIVE_HOURS: xlsx.HOURS, "items": xlsx.INT},
                     totals=[PRODUCTIVE_HOURS, "items"], headers={WEEK_START: "week_start (UTC)", PRODUCTIVE_HOURS: "productive hours allocated",
                                                                    "items": "items allocated"})
    xlsx.finish_sheet(sheet, freeze="C2")


def _targets(book: xlsx.Book, queues: pd.DataFrame, served: set[str]) -> None:
    sheet = xlsx.new_sheet(book, "Targets")
    cols = [QUEUE, KIND, TARGET, WITHIN_S, SEVERITY, EGREGIOUS, PATIENCE_S]
    q = queues[queues[QUEUE].isin(served)] if not queues.empty else pd.DataFrame(columns=cols)
    q = q[[c for c in cols if c in q.columns]].sort_values(QUEUE).reset_index(drop=True)
    if WITHIN_S in q.columns:
        q["within"] = [_duration(v) for v in q[WITHIN_S]]
    xlsx.write_table(sheet, q, "targets", formats={TARGET: xlsx.PCT, WITHIN_S: xlsx.INT, SEVERITY: xlsx.INT, PATIENCE_S: xlsx.INT},
                     headers={WITHIN_S: "within_s [s]", PATIENCE_S: "patience_s [s]"})
    xlsx.finish_sheet(sheet)


def _duration(seconds) -> str:
    s = float(seconds)
    if s >= 3600 and s % 3600 == 0:
        return f"{int(s // 3600)}h"
    if s >= 60 and s % 60 == 0:
        return f"{int(s // 60)}m"
    return f"{s:g}s"


def _cost(book: xlsx.Book, view: VendorView, rates: dict[str, str], start: pd.Timestamp, fx: dict[str, float]) -> None:
    """Paid hours x the pool's rate in the contract currency (the named cell on Rates)."""
    sheet = xlsx.new_sheet(book, "Cost")
    hours = tidy.plan_paid_hours(view.shift_plan, start)
    fmt = xlsx.money(view.currency)
    rate_of = {p.pool: float(p.cost_per_hour) * convert(1.0, p.currency, view.currency, fx) for p in view.pools.itertuples(index=False)}
    rate = hours[POOL].map(rate_of).fillna(0.0)
    formulas = {"rate": xlsx.Formula("=0", rate.tolist()), "cost": xlsx.Formula("={paid_hours}*{rate}", (hours[PAID_HOURS] * rate).tolist())}
    placed = xlsx.write_table(sheet, hours, "cost", formats={WEEK_START: xlsx.DATE, PAID_HOURS: xlsx.HOURS, "rate": fmt, "cost": fmt},
                              formulas=formulas, totals=[PAID_HOURS, "cost"],
                              headers={WEEK_START: "week_start (UTC)", "rate": f"rate [{view.currency}]", "cost": f"cost [{view.currency}]"})
    col = list(placed.columns).index("rate") + 1
    for i, pool in enumerate(hours[POOL]):  # the rate column refers to the named rate of its pool
        xlsx.formula(sheet, placed.first_row + i, col, f"={rates[pool]}" if pool in rates else "=0", float(rate.iloc[i]), fmt)
    xlsx.finish_sheet(sheet, freeze="C2")
