"""``vendors/<vendor>.xlsx``: one BPO vendor's own plan, and nothing about any other vendor.

Isolation is by construction: every table is filtered to the vendor's rows (``vendor`` column or the
vendor's pools) *before* it reaches a sheet, the workbook has no hidden sheets, charts or comments,
defined names are only the vendor's own pool rates, and document properties name only the vendor.
Platform totals (plan cost, solver objective) are left out: they would reveal others' costs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.worksheet.table import Table, TableStyleInfo

from capplan.report import tidy, xlsx
from capplan.report.context import PlanContext

_FILE_BAD = re.compile(r"[^A-Za-z0-9._-]+")


def vendor_file_names(vendors: list[str]) -> dict[str, str]:
    """Vendor name -> safe, unique file name (``Acme BPO/PH`` -> ``Acme_BPO_PH.xlsx``)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for v in vendors:
        base = _FILE_BAD.sub("_", str(v)).strip("._-")[:80] or "vendor"
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name.lower())
        out[v] = f"{name}.xlsx"
    return out


def write_vendor(path: Path, ctx: PlanContext, vendor: str) -> Path:
    """Write the workbook of one BPO vendor; returns the path."""
    wb = Workbook()
    book = xlsx.Book()
    cfg = ctx.config
    start = tidy.plan_start(cfg)

    pools = ctx.pools[ctx.pools["vendor"] == vendor].sort_values("pool") if not ctx.pools.empty else ctx.pools
    own_pools = set(pools["pool"]) if not pools.empty else set()
    sp = ctx.shift_plan
    if not sp.empty:
        sp = sp[(sp["vendor"] == vendor) if "vendor" in sp.columns else sp["pool"].isin(own_pools)]
        own_pools |= set(sp["pool"])
    alloc = ctx.allocation
    if not alloc.empty:
        alloc = alloc[(alloc["vendor"] == vendor) if "vendor" in alloc.columns else alloc["pool"].isin(own_pools)]
    va = ctx.vendor_allocation
    va = va[va["vendor"] == vendor] if not va.empty else va
    contract = ctx.vendors[ctx.vendors["vendor"] == vendor] if not ctx.vendors.empty else ctx.vendors
    currency = str(contract["currency"].iloc[0]) if len(contract) else (str(pools["currency"].iloc[0]) if len(pools) else "")

    readme_sheet = xlsx.new_sheet(wb, book, "README", first=True)
    rates = _rates(wb, book, pools)
    _headcount(wb, book, sp, pools)
    _skills(wb, book, alloc)
    _volume(wb, book, va, start)
    served = set(va["queue"]) if len(va) else set()
    if len(alloc):
        served |= set(alloc["queue"])
    _targets(wb, book, ctx.queues, served)
    _cost(wb, book, sp, pools, rates, start)

    facts = [("Vendor", vendor), ("Run id", ctx.run_id), ("Created (UTC)", ctx.created_utc),
             ("Plan start (UTC)", str(cfg.planning.start)), ("Plan days", cfg.planning.plan_days),
             ("Contract currency", currency)]
    if len(contract):
        c = contract.iloc[0]
        facts += [("Committed paid hours per week", c.get("min_weekly_hours")), ("Capacity paid hours per week", c.get("max_weekly_hours"))]
    xlsx.readme(readme_sheet, f"Staffing plan for {vendor}", facts, [
        "This workbook holds your part of the plan only.",
        "Rates: your pools' rates per paid hour (named cells, yellow = input); editing one updates the Cost sheet formulas.",
        "Headcount: moderators per site, pool, day and shift, with the skills (queues x languages) each pool works. "
        "Headcount by day: the same as a day grid.",
        "Skills: productive hours planned per pool, queue, language and day (UTC).",
        "Volume: the productive hours and items allocated to you per queue, language and week.",
        "Targets: the service targets of the queues you serve.",
        "Cost: paid hours x your rate, in your contract currency.",
        "All times are UTC unless a column says _local.",
    ])
    xlsx.set_properties(wb, f"capplan plan {ctx.run_id} for {vendor}", ctx.created_utc)
    wb.save(path)
    return path


def _rates(wb, book, pools: pd.DataFrame) -> dict[str, str]:
    sheet = xlsx.new_sheet(wb, book, "Rates")
    header = ["name", "pool", "site", "rate per paid hour", "currency"]
    for i, h in enumerate(header, start=1):
        c = xlsx.put(sheet, 1, i, h)
        c.font, c.fill = xlsx.HEADER_FONT, xlsx.HEADER_FILL
    names = {}
    for r, p in enumerate(pools.itertuples(index=False), start=2):
        name = xlsx.define(wb, book, "rate", p.pool, sheet, f"D{r}")
        names[p.pool] = name
        xlsx.put(sheet, r, 1, name)
        xlsx.put(sheet, r, 2, p.pool)
        xlsx.put(sheet, r, 3, p.site)
        xlsx.mark_input(xlsx.put(sheet, r, 4, float(p.cost_per_hour), xlsx.money(p.currency)))
        xlsx.put(sheet, r, 5, p.currency)
    t = Table(displayName=book.table_name("rates"), ref=f"A1:E{max(len(pools), 1) + 1}")
    t.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    sheet.add_table(t)
    for col, w in zip("ABCDE", (28, 20, 16, 20, 10)):
        sheet.column_dimensions[col].width = w
    xlsx.finish_sheet(sheet)
    return names


def _skill_text(pools: pd.DataFrame) -> dict[str, str]:
    out = {}
    for p in pools.itertuples(index=False):
        out[p.pool] = f"{', '.join(p.queues)} x {', '.join(p.languages)}"
    return out


def _headcount(wb, book, sp: pd.DataFrame, pools: pd.DataFrame) -> None:
    sheet = xlsx.new_sheet(wb, book, "Headcount")
    table = tidy.shift_plan_table(sp) if not sp.empty else pd.DataFrame(
        columns=["pool", "site", "day", "shift", "start_local", "start_utc", "paid_hours", "headcount"])
    table = table.drop(columns=[c for c in ("vendor",) if c in table.columns])
    table = table[["site", "pool"] + [c for c in table.columns if c not in ("site", "pool")]]
    table = table.sort_values(["site", "pool", "day", "shift"], kind="stable").reset_index(drop=True)
    table["skills"] = table["pool"].map(_skill_text(pools)) if len(pools) else ""
    xlsx.write_table(sheet, book, table, "headcount", formats={"paid_hours": xlsx.HOURS, "headcount": xlsx.INT, "day": xlsx.DATE,
                     "paid_hours_total": xlsx.HOURS}, formulas={"paid_hours_total": "={paid_hours}*{headcount}"},
                     totals=["headcount", "paid_hours_total"], headers={"day": "day (site-local)"})
    xlsx.finish_sheet(sheet, freeze="C2")
    if not sp.empty:
        pivot = tidy.headcount_pivot(sp)
        day_sheet = xlsx.new_sheet(wb, book, "Headcount by day")
        xlsx.write_table(day_sheet, book, pivot, "headcount_by_day", formats={c: xlsx.INT for c in pivot.columns[3:]}, totals=list(pivot.columns[3:]))
        xlsx.finish_sheet(day_sheet, freeze="D2")


def _skills(wb, book, alloc: pd.DataFrame) -> None:
    sheet = xlsx.new_sheet(wb, book, "Skills")
    if alloc.empty:
        daily = pd.DataFrame(columns=["pool", "queue", "language", "date", "productive_hours"])
    else:
        a = alloc.assign(date=tidy.naive_utc(alloc["interval_start"]).dt.normalize())
        daily = a.groupby(["pool", "queue", "language", "date"], sort=True)["productive_hours"].sum().reset_index()
    xlsx.write_table(sheet, book, daily, "skills", formats={"date": xlsx.DATE, "productive_hours": xlsx.HOURS},
                     totals=["productive_hours"], headers={"date": "date (UTC)"})
    xlsx.finish_sheet(sheet, freeze="E2")


def _volume(wb, book, va: pd.DataFrame, start: pd.Timestamp) -> None:
    sheet = xlsx.new_sheet(wb, book, "Volume")
    weekly = tidy.finance_weekly(va, start)
    weekly = weekly[["queue", "language", "week_start", "productive_hours", "items"]].sort_values(["queue", "language", "week_start"], kind="stable")
    xlsx.write_table(sheet, book, weekly.reset_index(drop=True), "volume", formats={"week_start": xlsx.DATE, "productive_hours": xlsx.HOURS, "items": xlsx.INT},
                     totals=["productive_hours", "items"], headers={"week_start": "week_start (UTC)", "productive_hours": "productive hours allocated",
                                                                    "items": "items allocated"})
    xlsx.finish_sheet(sheet, freeze="C2")


def _targets(wb, book, queues: pd.DataFrame, served: set[str]) -> None:
    sheet = xlsx.new_sheet(wb, book, "Targets")
    cols = ["queue", "kind", "target", "within_s", "severity", "egregious", "patience_s"]
    q = queues[queues["queue"].isin(served)] if not queues.empty else pd.DataFrame(columns=cols)
    q = q[[c for c in cols if c in q.columns]].sort_values("queue").reset_index(drop=True)
    if "within_s" in q.columns:
        q["within"] = [_duration(v) for v in q["within_s"]]
    xlsx.write_table(sheet, book, q, "targets", formats={"target": xlsx.PCT, "within_s": xlsx.INT, "severity": xlsx.INT, "patience_s": xlsx.INT},
                     headers={"within_s": "within_s [s]", "patience_s": "patience_s [s]"})
    xlsx.finish_sheet(sheet)


def _duration(seconds) -> str:
    s = float(seconds)
    if s >= 3600 and s % 3600 == 0:
        return f"{int(s // 3600)}h"
    if s >= 60 and s % 60 == 0:
        return f"{int(s // 60)}m"
    return f"{s:g}s"


def _cost(wb, book, sp: pd.DataFrame, pools: pd.DataFrame, rates: dict[str, str], start: pd.Timestamp) -> None:
    sheet = xlsx.new_sheet(wb, book, "Cost")
    hours = tidy.plan_paid_hours(sp, start)
    cur = pools.set_index("pool")["currency"].to_dict() if len(pools) else {}
    hours["currency"] = hours["pool"].map(cur)
    hours["rate"] = None
    hours["cost"] = None
    formats = {"week_start": xlsx.DATE, "paid_hours": xlsx.HOURS}
    currencies = sorted(set(hours["currency"].dropna()))
    fmt_money = xlsx.money(currencies[0]) if len(currencies) == 1 else xlsx.NUM
    formats.update(rate=fmt_money, cost=fmt_money)
    placed = xlsx.write_table(sheet, book, hours, "cost", formats=formats, headers={"week_start": "week_start (UTC)"},
                              totals=["paid_hours", "cost"] if len(currencies) <= 1 else ["paid_hours"])
    for i, pool in enumerate(hours["pool"]):
        r = placed.first_row + i
        xlsx.formula(sheet, r, _col(placed, "rate"), f"={rates[pool]}" if pool in rates else "=0", fmt_money)
        xlsx.formula(sheet, r, _col(placed, "cost"), f"={placed.columns['paid_hours']}{r}*{placed.columns['rate']}{r}", fmt_money)
    xlsx.finish_sheet(sheet, freeze="C2")


def _col(placed: xlsx.Placed, name: str) -> int:
    from openpyxl.utils import column_index_from_string

    return column_index_from_string(placed.columns[name])
