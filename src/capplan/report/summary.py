"""The planner's one-page ``Weekly summary``: FTE by site, pool and language and by cell; paid, productive
and idle hours and occupancy per pool; expected service per queue. Tidy tables first, then one sheet."""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.report import tidy, xlsx
from capplan.report.context import PlanContext
from capplan.schema import (INTERVAL_START, KIND, LANGUAGE, PAID_HOURS, PLANNED_PRODUCTIVE, POOL, PRODUCTIVE_HOURS,
                            QUEUE, REQUIRED_PRODUCTIVE, SITE, TARGET, UNMET, VENDOR, VOLUME, WEEK_START)

GAP_ROWS = 2  # blank rows between two tables of the sheet


def _pool_week_productive(ctx: PlanContext, start: pd.Timestamp) -> pd.DataFrame:
    a = ctx.allocation
    if a.empty:
        return pd.DataFrame(columns=[POOL, QUEUE, LANGUAGE, WEEK_START, PRODUCTIVE_HOURS])
    a = a.assign(week_start=tidy.interval_week_start(a[INTERVAL_START], start, iso=False))
    return a.groupby([POOL, QUEUE, LANGUAGE, WEEK_START], sort=True)[PRODUCTIVE_HOURS].sum().reset_index()


def fte_by_pool_language(ctx: PlanContext) -> pd.DataFrame:
    """``week_start, site, pool, vendor, language, productive_hours, fte``: a pool's paid hours in the week split
    over its languages in proportion to productive hours, divided by 40 h per FTE-week."""
    start = tidy.plan_start(ctx.config)
    prod = _pool_week_productive(ctx, start).groupby([POOL, LANGUAGE, WEEK_START], sort=True)[PRODUCTIVE_HOURS].sum().reset_index()
    paid = tidy.plan_paid_hours(ctx.shift_plan, start).set_index([POOL, WEEK_START])[PAID_HOURS]
    share = prod[PRODUCTIVE_HOURS] / prod.groupby([POOL, WEEK_START])[PRODUCTIVE_HOURS].transform("sum")
    pool_paid = pd.Series([paid.get((p, w), 0.0) for p, w in zip(prod[POOL], prod[WEEK_START])], index=prod.index)
    prod["fte"] = pool_paid * share.fillna(0.0) / tidy.HOURS_PER_FTE_WEEK
    info = ctx.pools.set_index(POOL)[[SITE, VENDOR]] if not ctx.pools.empty else pd.DataFrame(columns=[SITE, VENDOR])
    prod = prod.join(info, on=POOL)
    cols = [WEEK_START, SITE, POOL, VENDOR, LANGUAGE, PRODUCTIVE_HOURS, "fte"]
    return prod[cols].sort_values([WEEK_START, SITE, POOL, LANGUAGE], kind="stable").reset_index(drop=True)


def fte_by_cell(ctx: PlanContext) -> pd.DataFrame:
    """``week_start, queue, language, productive_hours, fte`` summed over pools (FTE as in :func:`fte_by_pool_language`,
    split further over queues by productive hours)."""
    start = tidy.plan_start(ctx.config)
    prod = _pool_week_productive(ctx, start)
    paid = tidy.plan_paid_hours(ctx.shift_plan, start).set_index([POOL, WEEK_START])[PAID_HOURS]
    share = prod[PRODUCTIVE_HOURS] / prod.groupby([POOL, WEEK_START])[PRODUCTIVE_HOURS].transform("sum")
    pool_paid = pd.Series([paid.get((p, w), 0.0) for p, w in zip(prod[POOL], prod[WEEK_START])], index=prod.index)
    prod["fte"] = pool_paid * share.fillna(0.0) / tidy.HOURS_PER_FTE_WEEK
    out = prod.groupby([WEEK_START, QUEUE, LANGUAGE], sort=True)[[PRODUCTIVE_HOURS, "fte"]].sum().reset_index()
    return out


def pool_utilisation(ctx: PlanContext) -> pd.DataFrame:
    """``week_start, site, pool, vendor, paid_hours, shrinkage, available_hours, productive_hours`` per pool and week:
    available = paid x (1 - shrinkage of the site); idle and occupancy follow (formulas on the sheet)."""
    cfg = ctx.config
    start = tidy.plan_start(cfg)
    paid = tidy.plan_paid_hours(ctx.shift_plan, start)
    prod = _pool_week_productive(ctx, start).groupby([POOL, WEEK_START])[PRODUCTIVE_HOURS].sum()
    vendor = ctx.pools.set_index(POOL)[VENDOR] if not ctx.pools.empty else pd.Series(dtype=str)
    paid[VENDOR] = paid[POOL].map(vendor)
    paid["shrinkage"] = paid[SITE].map(lambda s: cfg.staffing.shrinkage_by_site.get(s, cfg.staffing.shrinkage))
    paid["available_hours"] = paid[PAID_HOURS] * (1 - paid["shrinkage"])
    paid[PRODUCTIVE_HOURS] = [float(prod.get((p, w), 0.0)) for p, w in zip(paid[POOL], paid[WEEK_START])]
    cols = [WEEK_START, SITE, POOL, VENDOR, PAID_HOURS, "shrinkage", "available_hours", PRODUCTIVE_HOURS]
    return paid[cols].sort_values([WEEK_START, SITE, POOL], kind="stable").reset_index(drop=True)


def service_by_queue(ctx: PlanContext) -> pd.DataFrame:
    """``queue, kind, target, required_hours, planned_hours, unmet_hours, work_met, service_level`` over the plan:
    ``work_met`` = 1 - unmet / required productive hours; ``service_level`` the volume-weighted expected service
    level of the requirements (realtime queues; deferred queues meet their turnaround where no work is unmet)."""
    cov, req = ctx.coverage, ctx.requirements
    cols = [QUEUE, KIND, TARGET, "required_hours", "planned_hours", "unmet_hours", "work_met", "service_level"]
    if cov.empty:
        return pd.DataFrame(columns=cols)
    hours = ctx.config.planning.interval_minutes / 60
    g = cov.groupby(QUEUE, sort=True)
    out = pd.DataFrame({"required_hours": g[REQUIRED_PRODUCTIVE].sum() * hours, "planned_hours": g[PLANNED_PRODUCTIVE].sum() * hours,
                        "unmet_hours": g[UNMET].sum() if UNMET in cov.columns else 0.0})
    out["work_met"] = (1 - out["unmet_hours"] / out["required_hours"]).where(out["required_hours"] > 0)
    if not req.empty and {"service_level", VOLUME} <= set(req.columns):
        weighted = (req["service_level"] * req[VOLUME]).groupby(req[QUEUE]).sum()
        out["service_level"] = (weighted / req.groupby(QUEUE)[VOLUME].sum()).reindex(out.index)
    else:
        out["service_level"] = np.nan
    q = ctx.queues.set_index(QUEUE)[[KIND, TARGET]] if not ctx.queues.empty else pd.DataFrame(columns=[KIND, TARGET])
    out = out.join(q).reset_index()
    return out[cols]


def weekly_summary_sheet(book: xlsx.Book, ctx: PlanContext) -> xlsx.Sheet:
    """The ``Weekly summary`` sheet: four tables one under the other."""
    sheet = xlsx.new_sheet(book, "Weekly summary")
    xlsx.put(sheet, 1, 1, "Weekly summary (plan weeks from the plan start; FTE = paid hours / 40 per week)", style=xlsx.TITLE)
    row = 3
    pools = pool_utilisation(ctx)
    idle = pools["available_hours"] - pools[PRODUCTIVE_HOURS]
    occ = (pools[PRODUCTIVE_HOURS] / pools["available_hours"]).where(pools["available_hours"] > 0)
    row = _block(sheet, row, "Pools: paid, available (after shrinkage), productive and idle hours, occupancy", pools, "summary_pools",
                 formats={WEEK_START: xlsx.DATE, PAID_HOURS: xlsx.HOURS, "shrinkage": xlsx.PCT, "available_hours": xlsx.HOURS,
                          PRODUCTIVE_HOURS: xlsx.HOURS, "idle_hours": xlsx.HOURS, "occupancy": xlsx.PCT},
                 formulas={"idle_hours": xlsx.Formula("={available_hours}-{productive_hours}", idle.tolist()),
                           "occupancy": xlsx.Formula('=IF({available_hours}>0,{productive_hours}/{available_hours},"")', occ.tolist())},
                 totals=[PAID_HOURS, "available_hours", PRODUCTIVE_HOURS, "idle_hours"])
    service = service_by_queue(ctx)
    row = _block(sheet, row, "Service expected per queue", service, "summary_service",
                 formats={TARGET: xlsx.PCT, "required_hours": xlsx.HOURS, "planned_hours": xlsx.HOURS, "unmet_hours": xlsx.HOURS,
                          "work_met": xlsx.PCT, "service_level": xlsx.PCT},
                 headers={"work_met": "share of work met", "service_level": "expected service level (volume-weighted)"})
    row = _block(sheet, row, "FTE by site, pool and language", fte_by_pool_language(ctx), "summary_fte_pool",
                 formats={WEEK_START: xlsx.DATE, PRODUCTIVE_HOURS: xlsx.HOURS, "fte": xlsx.NUM}, totals=[PRODUCTIVE_HOURS, "fte"])
    _block(sheet, row, "FTE by cell (queue x language)", fte_by_cell(ctx), "summary_fte_cell",
           formats={WEEK_START: xlsx.DATE, PRODUCTIVE_HOURS: xlsx.HOURS, "fte": xlsx.NUM}, totals=[PRODUCTIVE_HOURS, "fte"])
    xlsx.finish_sheet(sheet, freeze="A2", print_rows=False)
    return sheet


def _block(sheet: xlsx.Sheet, row: int, title: str, frame: pd.DataFrame, name: str, **kwargs) -> int:
    xlsx.put(sheet, row, 1, title, style=xlsx.BOLD)
    placed = xlsx.write_table(sheet, frame, name, top=row + 1, **kwargs)
    return (placed.total_row or placed.last_row) + 1 + GAP_ROWS
