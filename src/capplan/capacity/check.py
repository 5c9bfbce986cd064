"""A solver-independent checker of a capacity plan: recompute from the tables and the data, list violations.

Every check works on the written tables (:mod:`.tables`) and :class:`.supply.CapacityData` only, never on
solver variables, so it catches an extraction or model bug as well as a bad plan: coverage (covered +
shortfall >= required), pool capacity (used <= productive hours), the in-house headcount recomputed week by
week from today's roster, attrition and the hiring classes, hiring rules (lead time, monthly limit per site,
minimum class size), vendor contracts (max hours, ramp limits, notice floor) and the cost by month (the sum
of the supply and vendor costs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.capacity.supply import CapacityData

TOL = 1e-4


def check_capacity(d: CapacityData, supply: pd.DataFrame, gap: pd.DataFrame, hires: pd.DataFrame, vendors: pd.DataFrame,
                   costs: pd.DataFrame, transfers: pd.DataFrame | None = None, shares: pd.DataFrame | None = None) -> list[str]:
    """Violations of the plan (empty list: valid)."""
    out = []
    transfers = _no_transfers() if transfers is None else transfers
    bad = gap[gap["covered_hours"] + gap["shortfall_hours"] < gap["required_productive_hours"] - TOL * (1 + gap["required_productive_hours"])]
    out += [f"coverage: {r.queue}/{r.language} week {r.week} covers {r.covered_hours + r.shortfall_hours:.3f} of {r.required_productive_hours:.3f} h"
            for r in bad.head(5).itertuples()]
    over = supply[supply["used_productive_hours"] > supply["productive_hours"] * (1 + TOL) + TOL]
    out += [f"capacity: pool {r.pool} week {r.week} uses {r.used_productive_hours:.3f} of {r.productive_hours:.3f} productive h"
            for r in over.head(5).itertuples()]
    out += _headcount(d, supply, hires, transfers)
    out += _hiring(d, hires)
    out += _transfers(d, hires, transfers)
    out += _language_shares(d, shares)
    out += _vendors(d, vendors)
    total = float(supply["cost"].sum() + vendors["cost"].sum() - supply.loc[supply["vendor"] != "inhouse", "cost"].sum())
    if abs(float(costs["plan_cost"].sum()) - total) > TOL * max(1.0, abs(total)):
        out.append(f"cost: cost by month sums to {costs['plan_cost'].sum():,.2f}, the weekly costs to {total:,.2f}")
    return out


def _no_transfers() -> pd.DataFrame:
    return pd.DataFrame({"from_pool": pd.Series(dtype=str), "to_pool": pd.Series(dtype=str), "week": pd.Series(dtype=int),
                         "moderators": pd.Series(dtype=int), "month": pd.Series(dtype=str)})


def _headcount(d: CapacityData, supply: pd.DataFrame, hires: pd.DataFrame, transfers: pd.DataFrame) -> list[str]:
    out = []
    for p in d.inhouse:
        name, s = d.pool_names[p], float(d.pools.at[p, "survival"])
        expected = np.zeros(d.weeks)
        heads = float(d.pools.at[p, "opening"])
        classes = dict(hires[hires["pool"] == name].groupby("week")["hires"].sum())
        moved_in = dict(transfers[transfers["to_pool"] == name].groupby("week")["moderators"].sum())
        moved_out = dict(transfers[transfers["from_pool"] == name].groupby("week")["moderators"].sum())
        for w in range(d.weeks):  # week by week: survivors of last week, plus this week's class and moves in, less moves out
            heads = heads * (s if w else 1.0) + float(classes.get(w, 0)) + float(moved_in.get(w, 0)) - float(moved_out.get(w, 0))
            expected[w] = heads
        got = supply[supply["pool"] == name].sort_values("week")["headcount"].to_numpy()
        if not np.allclose(got, expected, rtol=1e-6, atol=1e-6):
            w = int(np.argmax(np.abs(got - expected) > 1e-6))
            out.append(f"headcount: pool {name} week {w} has {got[w]:.3f} heads, recomputed {expected[w]:.3f}")
    return out


def _hiring(d: CapacityData, hires: pd.DataFrame) -> list[str]:
    cap, out = d.config, []
    new = hires[~hires["committed"]]
    early = new[new["week"] < cap.hiring_lead_weeks]
    out += [f"lead time: class of {r.hires} in pool {r.pool} starts in week {r.week}, before week {cap.hiring_lead_weeks}" for r in early.itertuples()]
    small = new[(new["hires"] > 0) & (new["hires"] < cap.min_class_size)]
    out += [f"class size: {r.hires} hires in pool {r.pool} week {r.week}, below min_class_size {cap.min_class_size}" for r in small.itertuples()]
    for (site, month), n in new.groupby(["site", "month"])["hires"].sum().items():
        limit = int(cap.max_hires_by_site.get(site, cap.max_hires_per_site_month))
        if n > limit:
            out.append(f"hiring limit: {n} hires at {site} in {month}, limit {limit}")
    return out


def _vendors(d: CapacityData, vendors: pd.DataFrame) -> list[str]:
    cap, out = d.config, []
    for row in d.vendors.itertuples(index=False):
        hours = vendors[vendors["vendor"] == row.vendor].sort_values("week")["hours"].to_numpy()
        step = np.diff(np.concatenate([[row.opening_hours], hours]))
        slack = TOL * max(1.0, row.max_weekly_hours)
        if (hours > row.max_weekly_hours + slack).any():
            out.append(f"vendor {row.vendor}: above max_weekly_hours {row.max_weekly_hours:,.0f}")
        if (step > cap.vendor_ramp_up_share * row.max_weekly_hours + slack).any():
            out.append(f"vendor {row.vendor}: rises faster than the ramp limit")
        if (-step > cap.vendor_ramp_down_share * row.max_weekly_hours + slack).any():
            out.append(f"vendor {row.vendor}: falls faster than the ramp limit")
        if (hours[: cap.vendor_notice_weeks] < row.opening_hours - slack).any():
            out.append(f"vendor {row.vendor}: below its opening hours inside the notice period")
    return out


def _transfers(d: CapacityData, hires: pd.DataFrame, transfers: pd.DataFrame) -> list[str]:
    """Routes allowed, lead time, monthly limit per source pool, and only trained moderators move (recomputed week by week)."""
    cap, out = d.config, []
    if not len(transfers):
        return out
    allowed = {(d.pool_names[r.source], d.pool_names[r.target]): int(r.limit) for r in d.routes.itertuples()}
    for r in transfers.itertuples():
        if (r.from_pool, r.to_pool) not in allowed:
            out.append(f"transfer: {r.from_pool} -> {r.to_pool} is not an allowed route")
        if r.week < cap.transfer_lead_weeks:
            out.append(f"transfer lead time: {r.moderators} moved {r.from_pool} -> {r.to_pool} in week {r.week}, before week {cap.transfer_lead_weeks}")
    limit = {src: n for (src, _), n in allowed.items()}
    for (pool, month), n in transfers.groupby(["from_pool", "month"])["moderators"].sum().items():
        if n > limit.get(pool, 0):
            out.append(f"transfer limit: {n} moved out of {pool} in {month}, limit {limit.get(pool, 0)}")
    for p in d.inhouse:
        name, s = d.pool_names[p], float(d.pools.at[p, "survival"])
        arrive = np.zeros(d.weeks + 1)  # heads becoming trained each week: classes after training, moves in after cross-training
        for r in hires[hires["pool"] == name].itertuples():
            if r.week + cap.training_weeks < d.weeks:
                arrive[r.week + cap.training_weeks] += r.hires * s ** cap.training_weeks
        for r in transfers[transfers["to_pool"] == name].itertuples():
            if r.week + cap.transfer_training_weeks < d.weeks:
                arrive[r.week + cap.transfer_training_weeks] += r.moderators * s ** cap.transfer_training_weeks
        moved_out = dict(transfers[transfers["from_pool"] == name].groupby("week")["moderators"].sum())
        trained = float(d.pools.at[p, "opening"])
        for w in range(d.weeks):
            trained = trained * (s if w else 1.0) + arrive[w]
            n = float(moved_out.get(w, 0))
            if n > trained + 1e-6:
                out.append(f"transfer: {n:g} moved out of {name} in week {w}, but only {trained:.2f} trained moderators are there")
            trained -= n
    return out


def _language_shares(d: CapacityData, shares: pd.DataFrame | None) -> list[str]:
    if shares is None or not len(shares):
        return []
    over = shares[shares["productive_hours"] > shares["max_share"] * shares["language_productive_hours"] * (1 + TOL) + TOL]
    return [f"language share: {r.provider} has {r.share:.2%} of {r.language} in week {r.week}, cap {r.max_share:.0%}"
            for r in over.head(5).itertuples()]
