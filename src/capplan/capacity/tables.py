"""From solver values to the tidy output tables: hires, supply, gap, vendor hours, cost by month vs budget.

Cost by month: each week's cost is spread over its seven days, so a week across a month end is split
by days (:func:`week_month_days`). A budget row covers a whole calendar month; when the plan covers only
part of a month (its first and last), the budget is prorated to the covered days
(``budget x covered_days / days_in_month``) and ``variance = plan_cost - budget`` (positive = over budget).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.capacity.model import CapacityModel, CapacitySolve, committed_by_week, hire_limit, ramp_deficit
from capplan.schema import (CAPACITY_COST_COLUMNS, CAPACITY_GAP_COLUMNS, CAPACITY_HIRES_COLUMNS, CAPACITY_SUPPLY_COLUMNS,
                            CAPACITY_VENDOR_COLUMNS, CAPACITY_TRANSFER_COLUMNS, CAPACITY_LANGUAGE_SHARE_COLUMNS, COST_CENTRE, LANGUAGE, MONTH, QUEUE, WEEK, WEEK_START)

_TOL = 1e-6


def _v(s: CapacitySolve, var) -> float:
    return float(s.values[var]) if var is not None else 0.0


def hires_table(b: CapacityModel, s: CapacitySolve) -> pd.DataFrame:
    """New (rounded; the variables are integer) and committed classes: one row per pool and class start week."""
    d = b.data
    rows = [(p, c, int(round(_v(s, var))), False) for (p, c), var in sorted(b.hire.items()) if _v(s, var) > 0.5]
    rows += [(r.pool, r.week, int(r.hires), True) for r in d.committed.itertuples(index=False)]
    out = pd.DataFrame([{
        "pool": d.pools.at[p, "pool"], "site": d.pools.at[p, "site"], "languages": d.pools.at[p, "languages"],
        "class_start": d.week_starts[c].date(), WEEK: c, "hires": n, "first_productive_week": c + d.config.training_weeks,
        "committed": committed, MONTH: f"{d.week_starts[c]:%Y-%m}"} for p, c, n, committed in rows],
        columns=CAPACITY_HIRES_COLUMNS + [MONTH])
    out = out.astype({WEEK: int, "hires": int, "first_productive_week": int, "committed": bool})
    return out.sort_values(["site", "pool", WEEK], kind="stable").reset_index(drop=True)


def supply_table(b: CapacityModel, s: CapacitySolve, hires: pd.DataFrame, transfers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per pool and week: headcount, in training and cross-training, effective FTE, paid / overtime / productive / used hours, cost.

    An in-house pool's cost is its heads' wages, overtime at the premium, ``hire_cost`` per hire and the one-off
    cost of the transfers into it (``transfers`` from :func:`transfers_table`).
    """
    d, cap = b.data, b.data.config
    hours = cap.fte_week_hours
    rows = []
    for p in range(len(d.pools)):
        pool = d.pools.loc[p]
        used = np.zeros(d.weeks)
        for c in d.skills[p]:
            for w in range(d.weeks):
                if (p, c, w) in b.alloc:
                    used[w] += _v(s, b.alloc[p, c, w])
        shrink = 1.0 - pool["shrinkage"]
        cross = np.zeros(d.weeks)
        if pool["inhouse"]:
            heads = np.array([_v(s, b.heads[p, w]) for w in range(d.weeks)])
            trained = np.array([_v(s, b.trained[p, w]) for w in range(d.weeks)])
            classes = committed_by_week(d, p)
            mine = hires[(hires["pool"] == pool["pool"]) & ~hires["committed"]].groupby(WEEK)["hires"].sum()
            new = np.zeros(d.weeks)
            new[mine.index.to_numpy(int)] = mine.to_numpy(float)
            classes += new
            fte = trained - np.array([sum(coef * classes[w - k] for k, coef in ramp_deficit(d, p) if w - k >= 0) for w in range(d.weeks)])
            one_off = new * cap.hire_cost
            if transfers is not None and len(transfers):
                for r in transfers[transfers["to_pool"] == pool["pool"]].itertuples(index=False):
                    k = np.arange(d.weeks - r.week)
                    cross[r.week: r.week + cap.transfer_training_weeks] += (r.moderators * pool["survival"] ** k)[: cap.transfer_training_weeks]
                    one_off[r.week] += r.cost
            training = np.maximum(heads - trained - cross, 0.0)
            ot = np.array([_v(s, b.ot[p, w]) for w in range(d.weeks)])
            paid = heads * hours + ot
            productive = shrink * (fte * hours + ot)
            cost = pool["rate"] * (heads * hours + cap.overtime_premium * ot) + one_off
        else:
            paid = np.array([_v(s, b.vph[p, w]) for w in range(d.weeks)])
            heads, training, fte, ot = paid / hours, np.zeros(d.weeks), paid / hours, np.zeros(d.weeks)
            productive = shrink * paid
            cost = pool["rate"] * paid
        for w in range(d.weeks):
            rows.append({WEEK: w, WEEK_START: d.week_starts[w].date(), "pool": pool["pool"], "vendor": pool["vendor"], "site": pool["site"],
                         "headcount": heads[w], "in_training": training[w], "effective_fte": fte[w], "paid_hours": paid[w],
                         "overtime_hours": ot[w], "productive_hours": productive[w], "used_productive_hours": used[w], "cost": cost[w],
                         "in_cross_training": cross[w]})
    out = pd.DataFrame(rows, columns=CAPACITY_SUPPLY_COLUMNS + ["in_cross_training"])
    return out.sort_values([WEEK, "pool"], kind="stable").reset_index(drop=True)


def transfers_table(b: CapacityModel, s: CapacitySolve) -> pd.DataFrame:
    """Moves between in-house pools (rounded; the variables are integer): one row per route and start week."""
    d, cap = b.data, b.data.config
    rows = []
    for (r, w), var in sorted(b.xfer.items()):
        n = int(round(_v(s, var)))
        if n <= 0:
            continue
        route = d.routes.loc[r]
        cost = n * (cap.transfer_cost + (cap.transfer_cross_site_cost if route["cross_site"] else 0.0))
        rows.append({"from_pool": d.pool_names[route["source"]], "to_pool": d.pool_names[route["target"]],
                     "from_site": d.pools.at[route["source"], "site"], "to_site": d.pools.at[route["target"], "site"],
                     "start": d.week_starts[w].date(), WEEK: w, "moderators": n, "first_productive_week": w + cap.transfer_training_weeks,
                     "cost": cost, MONTH: f"{d.week_starts[w]:%Y-%m}"})
    return pd.DataFrame(rows, columns=CAPACITY_TRANSFER_COLUMNS)


def language_share_table(b: CapacityModel, s: CapacitySolve) -> pd.DataFrame:
    """Per capped (provider, language) and week: the provider's productive hours, the language's, the share and its cap."""
    d = b.data
    if not d.language_caps:
        return pd.DataFrame(columns=CAPACITY_LANGUAGE_SHARE_COLUMNS)
    hours: dict = {}
    for (p, c, w), var in b.alloc.items():
        key = (d.pools.at[p, "vendor"], d.cells.at[c, LANGUAGE], w)
        hours[key] = hours.get(key, 0.0) + _v(s, var)
    totals: dict = {}
    for (prov, lang, w), h in hours.items():
        totals[lang, w] = totals.get((lang, w), 0.0) + h
    rows = []
    for (prov, lang), share in sorted(d.language_caps.items()):
        for w in range(d.weeks):
            mine, total = hours.get((prov, lang, w), 0.0), totals.get((lang, w), 0.0)
            rows.append({"provider": prov, LANGUAGE: lang, WEEK: w, WEEK_START: d.week_starts[w].date(), "productive_hours": mine,
                         "language_productive_hours": total, "share": mine / total if total > _TOL else 0.0, "max_share": share})
    return pd.DataFrame(rows, columns=CAPACITY_LANGUAGE_SHARE_COLUMNS)


def gap_table(b: CapacityModel, s: CapacitySolve) -> pd.DataFrame:
    """Per cell and week: required and covered standard productive hours, and the shortfall."""
    d = b.data
    covered = np.zeros_like(d.required)
    for (p, c, w), var in b.alloc.items():
        covered[c, w] += _v(s, var) / d.proficiency[p]
    short = np.zeros_like(d.required)
    for (c, w), var in b.short.items():
        short[c, w] = _v(s, var)
    rows = [{WEEK: w, WEEK_START: d.week_starts[w].date(), QUEUE: d.cells.at[c, "queue"], LANGUAGE: d.cells.at[c, "language"],
             "required_productive_hours": d.required[c, w], "covered_hours": covered[c, w], "shortfall_hours": short[c, w]}
            for w in range(d.weeks) for c in range(len(d.cells))]
    return pd.DataFrame(rows, columns=CAPACITY_GAP_COLUMNS)


def vendor_table(b: CapacityModel, s: CapacitySolve) -> pd.DataFrame:
    """Per vendor and week: paid hours, the contract's min and max, cost (hours at pool rates + take-or-pay)."""
    d = b.data
    rows = []
    for v in range(len(d.vendors)):
        row = d.vendors.loc[v]
        for w in range(d.weeks):
            hours = sum(_v(s, b.vph[p, w]) for p in row["pools"])
            cost = sum(_v(s, b.vph[p, w]) * d.pools.at[p, "rate"] for p in row["pools"])
            cost += row["rate"] * _v(s, b.commit_short.get((v, w)))
            rows.append({"vendor": row["vendor"], WEEK: w, WEEK_START: d.week_starts[w].date(), "hours": hours,
                         "min_weekly_hours": row["min_weekly_hours"], "max_weekly_hours": row["max_weekly_hours"], "cost": cost})
    return pd.DataFrame(rows, columns=CAPACITY_VENDOR_COLUMNS)


def week_month_days(week_starts: pd.DatetimeIndex) -> pd.DataFrame:
    """``week, month, days``: how many of each week's seven days fall in each calendar month."""
    rows = []
    for w, t in enumerate(week_starts):
        days = pd.date_range(t, periods=7, freq="D").strftime("%Y-%m")
        for month, n in pd.Series(days).value_counts(sort=False).items():
            rows.append({WEEK: w, MONTH: month, "days": int(n)})
    return pd.DataFrame(rows)


def cost_by_month(supply: pd.DataFrame, vendors: pd.DataFrame, week_starts: pd.DatetimeIndex, budget: pd.DataFrame | None) -> pd.DataFrame:
    """Plan cost per month and cost centre (in-house: the site; vendors: the vendor) vs the prorated budget."""
    inhouse = supply[supply["vendor"] == "inhouse"].groupby([WEEK, "site"], as_index=False)["cost"].sum().rename(columns={"site": COST_CENTRE})
    vendor = vendors.groupby([WEEK, "vendor"], as_index=False)["cost"].sum().rename(columns={"vendor": COST_CENTRE})
    weekly = pd.concat([f for f in (inhouse, vendor) if len(f)] or [inhouse], ignore_index=True)
    split = week_month_days(week_starts)
    monthly = weekly.merge(split, on=WEEK)
    monthly["plan_cost"] = monthly["cost"] * monthly["days"] / 7.0
    covered = split.groupby(MONTH)["days"].sum()
    out = monthly.groupby([MONTH, COST_CENTRE], as_index=False)["plan_cost"].sum()
    out["covered_days"] = out[MONTH].map(covered).astype(int)
    out["days_in_month"] = [pd.Period(m, freq="M").days_in_month for m in out[MONTH]]
    if budget is not None and len(budget):
        full = budget.set_index([MONTH, COST_CENTRE])["budget"]
        out = out.merge(budget[[MONTH, COST_CENTRE]], on=[MONTH, COST_CENTRE], how="outer")
        out["covered_days"] = out[MONTH].map(covered)
        out["days_in_month"] = [pd.Period(m, freq="M").days_in_month for m in out[MONTH]]
        out["plan_cost"] = out["plan_cost"].fillna(0.0)
        out = out[out["covered_days"].notna()].copy()
        out["covered_days"] = out["covered_days"].astype(int)
        out["budget_full_month"] = pd.Series(full.reindex(pd.MultiIndex.from_frame(out[[MONTH, COST_CENTRE]])).to_numpy(), index=out.index)
        out["budget"] = out["budget_full_month"] * out["covered_days"] / out["days_in_month"]
    else:
        out["budget"] = np.nan
        out["budget_full_month"] = np.nan
    out["variance"] = out["plan_cost"] - out["budget"]
    out = out[CAPACITY_COST_COLUMNS + ["budget_full_month"]]
    return out.sort_values([MONTH, COST_CENTRE], kind="stable").reset_index(drop=True)


def binding_limits(b: CapacityModel, s: CapacitySolve, hires: pd.DataFrame, vendors: pd.DataFrame, gap: pd.DataFrame,
                   supply: pd.DataFrame, transfers: pd.DataFrame | None = None, shares: pd.DataFrame | None = None) -> pd.DataFrame:
    """The limits that bind (kind, name, detail): hiring per site and month, transfers per pool and month, vendor max / ramp /
    notice, language shares, overtime, lead time, no skilled pool."""
    d, cap = b.data, b.data.config
    rows = []
    if transfers is not None and len(transfers):
        limits = d.routes.assign(pool=[d.pool_names[i] for i in d.routes["source"]]).groupby("pool")["limit"].first()
        for (pool, month), n in transfers.groupby(["from_pool", MONTH])["moderators"].sum().items():
            if n >= limits.get(pool, np.inf):
                rows.append(("transfer_limit", f"{pool} {month}", f"{n} moved out = the monthly limit {limits[pool]}"))
    if shares is not None and len(shares):
        at = shares[(shares["language_productive_hours"] > 1.0) & (shares["share"] >= shares["max_share"] - 1e-4)]
        for (prov, lang), group in at.groupby(["provider", LANGUAGE], sort=True):
            rows.append(("language_share", f"{prov}/{lang}", f"at its cap of {group['max_share'].iloc[0]:.0%} of {lang} productive hours "
                         f"in {len(group)} week(s) from week {group[WEEK].min()}"))
    new = hires[~hires["committed"]].groupby(["site", MONTH])["hires"].sum()
    for (site, month), n in new.items():
        if n >= hire_limit(d, site):
            rows.append(("hiring_limit", f"{site} {month}", f"{n} hires = the monthly limit {hire_limit(d, site)}"))
    for name, group in vendors.groupby("vendor", sort=True):
        at_max = group[group["hours"] >= group["max_weekly_hours"] - 1e-3]
        if len(at_max):
            rows.append(("vendor_max_hours", name, f"at max_weekly_hours {group['max_weekly_hours'].iloc[0]:,.0f} in {len(at_max)} week(s) from week {at_max[WEEK].min()}"))
        step = group["hours"].diff().fillna(group["hours"].iloc[0] - d.vendors.set_index("vendor").at[name, "opening_hours"])
        up = cap.vendor_ramp_up_share * group["max_weekly_hours"].iloc[0]
        ramped = group[step >= up - 1e-3]
        if len(ramped):
            rows.append(("vendor_ramp_up", name, f"rises by the ramp limit {up:,.0f} h/week in {len(ramped)} week(s)"))
    idle = supply.assign(idle=supply["productive_hours"] - supply["used_productive_hours"])
    notice = idle[(supply["vendor"] != "inhouse") & (supply[WEEK] < cap.vendor_notice_weeks) & (idle["idle"] > 1.0)]
    for name, group in notice.groupby("vendor", sort=True):
        rows.append(("vendor_notice", name, f"{group['idle'].sum():,.0f} productive hours paid but unused in the {cap.vendor_notice_weeks}-week notice period"))
    rows += _overtime_at_cap(b, s)
    for p in d.inhouse:
        gaps = np.array([_v(s, b.floor_short.get((p, w))) for w in range(d.weeks)])
        below = np.flatnonzero(gaps > 1e-3)
        if len(below):
            rows.append(("pool_min_headcount", d.pools.at[p, "pool"], f"trained heads below min_headcount {d.pools.at[p, 'min_headcount']:g} "
                         f"in {len(below)} week(s) from week {below[0]}, by up to {gaps.max():.1f} heads"))
    short = gap[gap["shortfall_hours"] > 1e-6]
    if len(short):
        early = short[short[WEEK] < cap.hiring_lead_weeks + cap.training_weeks]
        if len(early):
            rows.append(("hiring_lead_time", f"weeks 0-{cap.hiring_lead_weeks + cap.training_weeks - 1}",
                         f"{early['shortfall_hours'].sum():,.0f} h short before a new class can be productive "
                         f"(lead {cap.hiring_lead_weeks} + training {cap.training_weeks} weeks)"))
        servers = {c for skills in d.skills for c in skills}
        for c in range(len(d.cells)):
            if c not in servers and d.required[c].sum() > 0:
                rows.append(("no_skilled_pool", f"{d.cells.at[c, 'queue']}/{d.cells.at[c, 'language']}", "no pool can work this cell"))
    return pd.DataFrame(rows, columns=["kind", "name", "detail"])


def _overtime_at_cap(b: CapacityModel, s: CapacitySolve) -> list[tuple]:
    d, cap = b.data, b.data.config
    rows = []
    for p in d.inhouse:
        trained = np.array([_v(s, b.trained[p, w]) for w in range(d.weeks)])
        limit = cap.overtime_max_share * cap.fte_week_hours * trained
        ot = np.array([_v(s, b.ot[p, w]) for w in range(d.weeks)])
        weeks = np.flatnonzero((ot >= limit - 1e-3) & (ot > _TOL))
        if len(weeks):
            rows.append(("overtime_cap", d.pools.at[p, "pool"], f"overtime at its cap ({cap.overtime_max_share:.0%}) in {len(weeks)} week(s) from week {weeks[0]}"))
    return rows
