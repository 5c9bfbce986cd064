"""Entry points: :func:`solve_plan` (the optimizer) and :func:`baseline_plan` (the spreadsheet method).

Both return a :class:`~capplan.optimize.result.PlanResult` checked by the independent checker
(:func:`capplan.optimize.check.check_plan`). ``progress``, when given, is called as
``progress(stage, fraction)`` with a stage name ("optimize: prepare", "optimize: build",
"optimize: solve", "optimize: extract", "optimize: baseline", "optimize: check", "optimize: done")
and the fraction of the optimizer's work done so far (0-1).
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pandas as pd

from capplan.optimize import extract as ex
from capplan.optimize.check import check_plan, plan_cost
from capplan.optimize.data import PlanData, prepare, provider
from capplan.optimize.result import PlanResult, SolveStatus


def assemble(d: PlanData, staff: np.ndarray, alloc: dict, *, egr_values: dict | None = None,
             short: dict | None = None, solve: dict | None = None) -> PlanResult:
    """Lay out every table of a plan from moderators per pattern and allocation hours."""
    shift_plan, patterns = ex.staff_table(d, staff)
    allocation = ex.allocation_table(d, alloc)
    coverage = ex.coverage_table(d, allocation)
    vendor_allocation = ex.vendor_allocation_table(d, allocation, shift_plan, coverage)
    exposure = ex.exposure_table(d, staff, allocation, egr_values)
    capacity = ex.capacity_table(d, staff, allocation)
    weekly = (shift_plan.groupby("vendor")["paid_hours_total"].sum() / d.weeks) if len(shift_plan) else pd.Series(dtype=float)
    if short is None:
        short = {v: max(float(lo) - float(weekly.get(v, 0.0)), 0.0)
                 for v, lo in zip(d.vendors["vendor"], d.vendors["min_weekly_hours"]) if (d.pools["vendor"] == v).any()}
    binding = ex.binding_table(d, patterns, shift_plan, allocation, exposure, capacity, short)
    shortfalls = ex.shortfall_table(d, coverage, binding)
    price = dict(zip(zip(d.cells["queue"], d.cells["language"]), d.cells["penalty"]))
    penalty = float((coverage["unmet"] * [price[k] for k in zip(coverage["queue"], coverage["language"])]).sum()) if len(coverage) else 0.0
    avg_rate = dict(zip(d.vendors["vendor"], d.vendors["avg_rate"]))
    take_or_pay = float(sum(s * avg_rate.get(v, 0.0) * d.weeks for v, s in short.items()))
    cost = float(shift_plan["cost"].sum()) if len(shift_plan) else 0.0
    breakdown = _cost_breakdown(shift_plan, coverage, d, short, avg_rate)
    report = dict(solve or {})
    report.update({
        "currency": d.config.policy.currency, "cost": cost, "penalty": penalty, "take_or_pay": take_or_pay,
        "total_cost": cost + take_or_pay, "unmet_hours": float(coverage["unmet"].sum()) if len(coverage) else 0.0,
        "moderators": int(patterns["moderators"].sum()) if len(patterns) else 0,
        "paid_hours": float(shift_plan["paid_hours_total"].sum()) if len(shift_plan) else 0.0,
        "productive_hours": float(allocation["productive_hours"].sum()) if len(allocation) else 0.0,
        "intervals": d.T, "interval_minutes": int(round(d.h * 60)), "plan_start": d.start.isoformat(),
    })
    return PlanResult(shift_plan=shift_plan, patterns=patterns, allocation=allocation, coverage=coverage,
                      vendor_allocation=vendor_allocation, exposure=exposure, shortfalls=shortfalls, binding=binding,
                      solve=report, cost_breakdown=breakdown)


def _cost_breakdown(shift_plan, coverage, d: PlanData, short: dict, avg_rate: dict) -> pd.DataFrame:
    rows = []
    if len(shift_plan):
        for (v, p), g in shift_plan.groupby(["vendor", "pool"]):
            rows.append({"item": "paid_hours", "vendor": provider(v), "pool": p, "hours": float(g["paid_hours_total"].sum()),
                         "cost": float(g["cost"].sum())})
    for v, s in sorted(short.items()):
        if s > 0:
            rows.append({"item": "take_or_pay", "vendor": v, "pool": "", "hours": s * d.weeks, "cost": s * d.weeks * avg_rate.get(v, 0.0)})
    if len(coverage):
        price = dict(zip(zip(d.cells["queue"], d.cells["language"]), d.cells["penalty"]))
        un = coverage[coverage["unmet"] > 0]
        for (q, lang), g in un.groupby(["queue", "language"]):
            rows.append({"item": "unmet_penalty", "vendor": "", "pool": f"{q}/{lang}", "hours": float(g["unmet"].sum()),
                         "cost": float(g["unmet"].sum()) * price[(q, lang)]})
    return pd.DataFrame(rows, columns=["item", "vendor", "pool", "hours", "cost"])


def solve_plan(ws, requirements: pd.DataFrame, *, progress: Callable[[str, float], None] | None = None,
               with_baseline: bool = True) -> PlanResult:
    """Cost-minimal shift plan and vendor allocation for the planning window (see :mod:`.model`).

    Parameters
    ----------
    ws : Workspace (or a stand-in with the same attributes).
    requirements : requirements table (``REQUIREMENTS_COLUMNS``); rows outside the window are ignored.
    progress : optional callback called with the name of each stage.
    with_baseline : also run :func:`baseline_plan` and report its cost in ``solve``.

    Returns
    -------
    PlanResult, with ``checks`` the checker's violations (empty for a valid plan).
    """
    from capplan.optimize.model import build, solve

    fractions = {"prepare": 0.0, "build": 0.05, "solve": 0.2, "extract": 0.85, "baseline": 0.9, "check": 0.95, "done": 1.0}

    def step(stage: str) -> None:
        if progress is not None:
            progress(f"optimize: {stage}", fractions[stage])

    step("prepare")
    d = prepare(ws, requirements)
    step("build")
    b = build(d)
    step("solve")
    s = solve(b, ws.config.solver)
    step("extract")
    staff = np.array([int(round(s.values[b.staff[k]])) for k in range(len(d.patterns))], dtype=int)
    alloc = {key: {t: max(float(s.values[v]), 0.0) for t, v in vars_.items()} for key, vars_ in b.alloc.items()}
    egr_values = {key: {t: max(float(s.values[v]), 0.0) for t, v in ys.items()} for key, ys in b.egr.items()}
    short = {v: float(s.values[var]) for v, var in b.short.items()}
    solve_report = {
        "status": s.status.value, "solver": s.solver, "method": s.method, "phases": s.phases, "objective": s.objective, "bound": s.bound, "gap": s.gap,
        "seconds": s.seconds, "build_seconds": b.seconds, "variables": b.model.get_num_variables(),
        "integer_variables": b.n_integer, "constraints": b.model.get_num_linear_constraints(),
        "relative_gap_limit": float(ws.config.solver.relative_gap), "time_limit_s": float(ws.config.solver.time_limit_s),
    }
    result = assemble(d, staff, alloc, egr_values=egr_values, short=short, solve=solve_report)
    if with_baseline:
        step("baseline")
        base = baseline_plan(ws, requirements, data=d)
        result.solve["baseline_cost"] = base.solve["total_cost"]
        result.solve["baseline_paid_cost"] = base.solve["cost"]
        result.solve["baseline_unmet_hours"] = base.solve["unmet_hours"]
        result.solve["baseline_moderators"] = base.solve["moderators"]
        result.solve["savings_vs_baseline"] = (1.0 - result.solve["total_cost"] / base.solve["total_cost"]) if base.solve["total_cost"] > 0 else 0.0
    step("check")
    result.checks = check_plan(ws, requirements, result)
    step("done")
    return result


# --- the spreadsheet method -------------------------------------------------------------------
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
    vendor_max = dict(zip(d.vendors["vendor"], d.vendors["max_weekly_hours"].astype(float)))
    vendor_hours: dict[str, float] = {}
    eff_cost = {p: float(d.pools.at[p, "rate"]) * float(d.pools.at[p, "proficiency"]) / max(1e-9, 1.0 - float(d.pools.at[p, "shrinkage"]))
                for p in range(len(d.pools))}
    skilled: dict[int, list[int]] = {}
    for p, c in d.skills:
        skilled.setdefault(c, []).append(p)
    dedicated: dict[tuple[int, int], np.ndarray] = {}
    order = sorted(range(len(d.cells)), key=lambda c: (int(d.cells.at[c, "severity"]), d.cells.at[c, "queue"], d.cells.at[c, "language"]))
    for c in order:
        residual = np.ceil(d.required_productive[c] - 1e-9) * h  # standard productive hours
        egregious = bool(d.cells.at[c, "egregious"])
        for p in sorted(skilled.get(c, []), key=lambda p: (eff_cost[p], d.pools.at[p, "pool"])):
            if residual.max() <= 1e-9:
                break
            prof = float(d.pools.at[p, "proficiency"])
            vendor = d.pools.at[p, "vendor"]
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


__all__ = ["solve_plan", "baseline_plan", "check_plan", "plan_cost", "assemble"]
