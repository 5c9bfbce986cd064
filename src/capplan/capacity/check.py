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
                   costs: pd.DataFrame) -> list[str]:
    """Violations of the plan (empty list: valid)."""
    out = []
    bad = gap[gap["covered_hours"] + gap["shortfall_hours"] < gap["required_productive_hours"] - TOL * (1 + gap["required_productive_hours"])]
    out += [f"coverage: {r.queue}/{r.language} week {r.week} covers {r.covered_hours + r.shortfall_hours:.3f} of {r.required_productive_hours:.3f} h"
            for r in bad.head(5).itertuples()]
    over = supply[supply["used_productive_hours"] > supply["productive_hours"] * (1 + TOL) + TOL]
    out += [f"capacity: pool {r.pool} week {r.week} uses {r.used_productive_hours:.3f} of {r.productive_hours:.3f} productive h"
            for r in over.head(5).itertuples()]
    out += _headcount(d, supply, hires)
    out += _hiring(d, hires)
    out += _vendors(d, vendors)
    total = float(supply["cost"].sum() + vendors["cost"].sum() - supply.loc[supply["vendor"] != "inhouse", "cost"].sum())
    if abs(float(costs["plan_cost"].sum()) - total) > TOL * max(1.0, abs(total)):
        out.append(f"cost: cost by month sums to {costs['plan_cost'].sum():,.2f}, the weekly costs to {total:,.2f}")
    return out


def _headcount(d: CapacityData, supply: pd.DataFrame, hires: pd.DataFrame) -> list[str]:
    out = []
    for p in d.inhouse:
        name, s = d.pool_names[p], float(d.pools.at[p, "survival"])
        expected = np.zeros(d.weeks)
        heads = float(d.pools.at[p, "opening"])
        classes = hires[hires["pool"] == name].groupby("week")["hires"].sum()
        for w in range(d.weeks):  # week by week: survivors of last week, plus this week's class
            heads = heads * (s if w else 1.0) + float(classes.get(w, 0))
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
