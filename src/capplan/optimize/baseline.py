"""The baseline planner the optimizer is compared with (see :func:`baseline_plan`)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from capplan.optimize.data import PlanData, prepare
from capplan.optimize.plan import assemble
from capplan.optimize.result import SolveStatus
from capplan.schema import LANGUAGE, POOL, QUEUE, VENDOR


def baseline_plan(ws, requirements: pd.DataFrame, *, data: PlanData | None = None) -> PlanResult:
    """The spreadsheet method, as a planner would do it by hand.

    1. Each cell's requirement per interval is rounded up to whole productive moderators
       (``ceil(required_productive)``), cell by cell: no pooling across cells or intervals.
    2. Cells in order of severity, queue, language; for each, eligible pools cheapest first by cost per
       standard productive hour ``rate x proficiency / (1 - shrinkage)``; whole shifts are added one
       moderator at a time on the pattern covering most of the remaining requirement, until it is
       covered, the pool's max headcount or its vendor's max weekly hours is reached, or no pattern helps.
       Moderators are dedicated to the cell (a multi-skill pool's moderators are not shared). On
       egregious cells a moderator counts only for ``min(exposure_max_share, max_hours_per_day /
       productive hours per shift)`` of their time, so the wellbeing caps hold.
    3. Pools below min headcount are topped up on their first pattern.

    The allocation is the work those dedicated moderators can do (deferred work first-in first-out,
    never before it arrives). Its ``solve`` dict has status ``heuristic``; ``total_cost`` includes the
    take-or-pay for vendor minimums not reached.
    """
    d = data if data is not None else prepare(ws, requirements)
    started = time.perf_counter()
    h, T = d.h, d.T
    policy = d.config.policy
    util = float(d.config.staffing.deferred_max_utilisation)
    staff = np.zeros(len(d.patterns), dtype=int)
    pool_pats: dict[int, list[int]] = {}
    for k, pat in enumerate(d.patterns):
        pool_pats.setdefault(pat.pool, []).append(k)
    cap_arr = {}
    for k, pat in enumerate(d.patterns):
        a = np.zeros(T)
        for t, v in pat.capacity.items():
            a[t] += v
        cap_arr[k] = a
    heads = np.zeros(len(d.pools), dtype=int)
    vendor_max = dict(zip(d.vendors[VENDOR], d.vendors["max_weekly_hours"].astype(float)))
    vendor_hours: dict[str, float] = {}
    eff_cost = {p: float(d.pools.at[p, "rate"]) * float(d.pools.at[p, "proficiency"]) / max(1e-9, 1.0 - float(d.pools.at[p, "shrinkage"]))
                for p in range(len(d.pools))}
    skilled: dict[int, list[int]] = {}
    for p, c in d.skills:
        skilled.setdefault(c, []).append(p)
    dedicated: dict[tuple[int, int], np.ndarray] = {}
    order = sorted(range(len(d.cells)), key=lambda c: (int(d.cells.at[c, "severity"]), d.cells.at[c, QUEUE], d.cells.at[c, LANGUAGE]))
    for c in order:
        residual = np.ceil(d.required_productive[c] - 1e-9) * h  # standard productive hours
        egregious = bool(d.cells.at[c, "egregious"])
        for p in sorted(skilled.get(c, []), key=lambda p: (eff_cost[p], d.pools.at[p, POOL])):
            if residual.max() <= 1e-9:
                break
            prof = float(d.pools.at[p, "proficiency"])
            vendor = d.pools.at[p, VENDOR]
            got = np.zeros(T)
            while residual.max() > 1e-9 and heads[p] < int(d.pools.at[p, "max_headcount"]):
                best, best_gain, best_std = None, 1e-9, None
                for k in pool_pats.get(p, []):
                    pat = d.patterns[k]
                    if vendor in vendor_max and vendor_hours.get(vendor, 0.0) + pat.paid_hours_horizon / d.weeks > vendor_max[vendor] + 1e-9:
                        continue
                    factor = 1.0
                    if egregious:
                        productive = pat.paid_hours * (1 - float(d.pools.at[p, "shrinkage"]))
                        factor = min(float(policy.exposure_max_share), float(policy.exposure_max_hours_per_day) / productive if productive > 0 else 1.0)
                    std = cap_arr[k] / prof * factor
                    gain = np.minimum(residual, std).sum()
                    if gain > best_gain:
                        best, best_gain, best_std = k, gain, std
                if best is None:
                    break
                staff[best] += 1
                heads[p] += 1
                vendor_hours[vendor] = vendor_hours.get(vendor, 0.0) + d.patterns[best].paid_hours_horizon / d.weeks
                residual = np.maximum(residual - best_std, 0.0)
                got += best_std * prof  # productive hours usable on this cell
            if got.any():
                dedicated[(p, c)] = got
    for p in range(len(d.pools)):
        while heads[p] < int(d.pools.at[p, "min_headcount"]) and pool_pats.get(p):
            staff[pool_pats[p][0]] += 1
            heads[p] += 1
    alloc = _dedicated_allocation(d, dedicated, util)
    result = assemble(d, staff, alloc, solve={"status": SolveStatus.HEURISTIC.value, "solver": "baseline"})
    result.solve["seconds"] = time.perf_counter() - started
    return result


def _dedicated_allocation(d: PlanData, dedicated: dict, util: float) -> dict:
    """Work the dedicated moderators do: realtime up to the requirement, deferred first-in first-out."""
    alloc: dict = {}
    by_cell: dict[int, list[int]] = {}
    for p, c in sorted(dedicated):
        by_cell.setdefault(c, []).append(p)
    for c, pools in by_cell.items():
        realtime = d.cells.at[c, "kind"] == "realtime"
        if realtime:
            remaining = d.need_hours[c].copy()
            for p in pools:
                prof = float(d.pools.at[p, "proficiency"])
                std = np.minimum(dedicated[(p, c)] / prof, remaining)
                remaining -= std
                alloc[(p, c)] = {t: float(v * prof) for t, v in enumerate(std) if v > 1e-12}
            continue
        backlog = 0.0
        out = {p: {} for p in pools}
        for t in range(d.T):
            backlog += d.workload[c, t]
            for p in pools:
                prof = float(d.pools.at[p, "proficiency"])
                can = dedicated[(p, c)][t] * util / prof  # standard hours of work
                w = min(can, backlog)
                if w > 1e-12:
                    out[p][t] = w * prof / util
                    backlog -= w
        for p in pools:
            alloc[(p, c)] = out[p]
    return alloc
