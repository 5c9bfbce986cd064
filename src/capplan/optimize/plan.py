"""Entry point :func:`solve_plan` (the optimizer) and :func:`assemble` (tables of any plan).

The baseline planner is :mod:`capplan.optimize.baseline`. Both return a :class:`~capplan.optimize.result.PlanResult` checked by the independent checker
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
from capplan.optimize.data import PlanData, prepare
from capplan.optimize.result import PlanResult
from capplan.schema import INHOUSE, INTERVAL_START, LANGUAGE, POOL, PRODUCTIVE_HOURS, QUEUE, UNMET, VENDOR


def assemble(d: PlanData, staff: np.ndarray, alloc: dict, *, egr_values: dict | None = None,
             short: dict | None = None, solve: dict | None = None, duals: dict | None = None) -> PlanResult:
    """Lay out every table of a plan from moderators per pattern and allocation hours."""
    shift_plan, patterns = ex.staff_table(d, staff)
    allocation = ex.allocation_table(d, alloc)
    coverage = ex.coverage_table(d, allocation)
    vendor_allocation = ex.vendor_allocation_table(d, allocation, shift_plan, coverage)
    exposure = ex.exposure_table(d, staff, allocation, egr_values)
    capacity = ex.capacity_table(d, staff, allocation)
    weekly = (shift_plan.groupby(VENDOR)["paid_hours_total"].sum() / d.weeks) if len(shift_plan) else pd.Series(dtype=float)
    if short is None:
        short = {v: max(float(lo) - float(weekly.get(v, 0.0)), 0.0)
                 for v, lo in zip(d.vendors[VENDOR], d.vendors["min_weekly_hours"]) if (d.pools[VENDOR] == v).any()}
    binding = ex.binding_table(d, patterns, shift_plan, allocation, exposure, capacity, short, duals)
    shortfalls = ex.shortfall_table(d, coverage, binding)
    price = dict(zip(zip(d.cells[QUEUE], d.cells[LANGUAGE]), d.cells["penalty"]))
    penalty = float((coverage[UNMET] * [price[k] for k in zip(coverage[QUEUE], coverage[LANGUAGE])]).sum()) if len(coverage) else 0.0
    avg_rate = dict(zip(d.vendors[VENDOR], d.vendors["avg_rate"]))
    take_or_pay = float(sum(s * avg_rate.get(v, 0.0) * d.weeks for v, s in short.items()))
    cost = float(shift_plan["cost"].sum()) if len(shift_plan) else 0.0
    breakdown = _cost_breakdown(shift_plan, coverage, d, short, avg_rate)
    report = dict(solve or {})
    report.update({
        "currency": d.config.policy.currency, "cost": cost, "penalty": penalty, "take_or_pay": take_or_pay,
        "total_cost": cost + take_or_pay, "unmet_hours": float(coverage[UNMET].sum()) if len(coverage) else 0.0,
        "moderators": int(patterns["moderators"].sum()) if len(patterns) else 0,
        "paid_hours": float(shift_plan["paid_hours_total"].sum()) if len(shift_plan) else 0.0,
        PRODUCTIVE_HOURS: float(allocation[PRODUCTIVE_HOURS].sum()) if len(allocation) else 0.0,
        "intervals": d.T, "interval_minutes": int(round(d.h * 60)), "plan_start": d.start.isoformat(),
    })
    report.update(week_end_report(d, coverage))
    report.update(cost_split(d, patterns, shift_plan, short, report["total_cost"]))
    return PlanResult(shift_plan=shift_plan, patterns=patterns, allocation=allocation, coverage=coverage,
                      vendor_allocation=vendor_allocation, exposure=exposure, shortfalls=shortfalls, binding=binding,
                      solve=report, cost_breakdown=breakdown)


def week_end_report(d: PlanData, coverage: pd.DataFrame) -> dict:
    """The ends of the deferred flow (docs/rolling.md): mode, opening and end backlog [standard h], the end's price.

    ``terminal_backlog_cost`` prices the end backlog of a terminal week at ``d.terminal_price`` [currency]: the work
    the next week inherits (in the objective, not in ``cost``); a cyclic week carries its end into its own start.
    """
    opening = float(d.opening_due.sum()) if d.opening_due is not None and d.week_end == "terminal" else 0.0
    deferred = coverage[coverage["kind"] != "realtime"] if len(coverage) else coverage
    last = deferred[deferred[INTERVAL_START] == deferred[INTERVAL_START].max()] if len(deferred) else deferred
    end = float(last["backlog"].sum()) if len(last) else 0.0
    cost = 0.0
    if d.week_end == "terminal" and len(last) and d.terminal_price is not None:
        price = dict(zip(zip(d.cells[QUEUE], d.cells[LANGUAGE]), d.terminal_price))
        cost = float(sum(b * price[k] for k, b in zip(zip(last[QUEUE], last[LANGUAGE]), last["backlog"])))
    return {"week_end": d.week_end, "opening_backlog_hours": opening if d.week_end == "terminal" else end,
            "end_backlog_hours": end, "terminal_backlog_cost": cost}


def realtime_target_report(requirements: pd.DataFrame, coverage: pd.DataFrame) -> list[dict]:
    """Per realtime queue: service level, ASA [s] and abandonment at the *planned* staffing against the targets.

    Each interval's metrics are Erlang C / A (:func:`capplan.staffing.erlang.queue_metrics`) at the plan's productive
    moderators for the cell (``planned_productive``), averaged over the queue's items; ``binding`` counts the
    intervals each criterion set the requirement (docs/rolling.md).
    """
    from capplan.staffing.erlang import queue_metrics

    if not len(requirements) or "binding" not in requirements:
        return []
    req = requirements[requirements["kind"] == "realtime"] if "kind" in requirements else requirements[requirements["method"].isin(["erlang_c", "erlang_a"])]
    if not len(req) or not len(coverage):
        return []
    keys = [QUEUE, LANGUAGE, INTERVAL_START]
    cov = coverage[keys + ["planned_productive"]].copy()
    cov[INTERVAL_START] = pd.to_datetime(cov[INTERVAL_START], utc=True)
    r = req.assign(**{INTERVAL_START: pd.to_datetime(req[INTERVAL_START], utc=True)}).merge(cov, on=keys, how="inner")
    if not len(r):
        return []
    m = queue_metrics(r["planned_productive"].to_numpy(float), r["offered_load"].to_numpy(float), r["aht_s"].to_numpy(float),
                      r["within_s"].to_numpy(float), r["patience_s"].to_numpy(float))
    r = r.assign(sl=m.service_level, asa=m.asa_s, ab=m.abandon_rate)
    out = []
    for q, g in r.groupby(QUEUE, sort=True):
        w = g["volume"].to_numpy(float)
        total = float(w.sum())

        def mean(col, g=g, w=w, total=total):
            return float((g[col].to_numpy(float) * w).sum() / total) if total > 0 else None

        first = g.iloc[0]
        out.append({"queue": q, "target": float(first["target"]), "within_s": float(first["within_s"]), "service_level": mean("sl"),
                    "max_asa_s": None if pd.isna(first["max_asa_s"]) else float(first["max_asa_s"]), "asa_s": mean("asa"),
                    "max_abandon": None if pd.isna(first["max_abandon"]) else float(first["max_abandon"]), "abandon_rate": mean("ab"),
                    "binding": {str(k): int(v) for k, v in g["binding"].value_counts().sort_index().items() if k}})
    return out


def _cost_breakdown(shift_plan, coverage, d: PlanData, short: dict, avg_rate: dict) -> pd.DataFrame:
    rows = []
    if len(shift_plan):
        for (v, p), g in shift_plan.groupby([VENDOR, POOL]):
            rows.append({"item": "paid_hours", VENDOR: v, POOL: p, "hours": float(g["paid_hours_total"].sum()),
                         "cost": float(g["cost"].sum())})
    for v, s in sorted(short.items()):
        if s > 0:
            rows.append({"item": "take_or_pay", VENDOR: v, POOL: "", "hours": s * d.weeks, "cost": s * d.weeks * avg_rate.get(v, 0.0)})
    if len(coverage):
        price = dict(zip(zip(d.cells[QUEUE], d.cells[LANGUAGE]), d.cells["penalty"]))
        un = coverage[coverage[UNMET] > 0]
        for (q, lang), g in un.groupby([QUEUE, LANGUAGE]):
            rows.append({"item": "unmet_penalty", VENDOR: "", POOL: f"{q}/{lang}", "hours": float(g[UNMET].sum()),
                         "cost": float(g[UNMET].sum()) * price[(q, lang)]})
    return pd.DataFrame(rows, columns=["item", VENDOR, POOL, "hours", "cost"])


def cost_split(d: PlanData, patterns: pd.DataFrame, shift_plan: pd.DataFrame, short: dict, total_cost: float) -> dict:
    """A plan's cost split into what is committed before planning and what the plan decides [currency].

    Committed: the roster's pay at contract (``employees x contracted weekly hours x weeks x rate`` for every
    rostered employee, scheduled or not) and each vendor's take-or-pay minimum (its paid cost up to
    ``min_weekly_hours x weeks``, valued at its mean paid rate in this plan, plus the take-or-pay charge for the weekly
    hours ``short`` of the minimum, as :func:`assemble` charges it). Decidable: the rest of ``total_cost`` (vendor hours
    above their minimum, overtime premium, temps, unrostered in-house staff).
    """
    rate = dict(zip(d.pools[POOL], d.pools["rate"].astype(float)))
    roster = 0.0
    if len(patterns):
        rostered = patterns[patterns["contract"].isin(["contract", "overtime"])]
        roster = float((rostered["moderators"] * rostered["weekly_hours"].astype(float) * rostered[POOL].map(rate)).sum() * d.weeks)
    paid = shift_plan.groupby(VENDOR)["paid_hours_total"].sum() if len(shift_plan) else pd.Series(dtype=float)
    cost = shift_plan.groupby(VENDOR)["cost"].sum() if len(shift_plan) else pd.Series(dtype=float)
    avg_rate = dict(zip(d.vendors[VENDOR], d.vendors["avg_rate"].astype(float)))
    vendor = 0.0
    for v, lo in zip(d.vendors[VENDOR], d.vendors["min_weekly_hours"].astype(float)):
        if v == INHOUSE or not (d.pools[VENDOR] == v).any():
            continue
        h, least = float(paid.get(v, 0.0)), lo * d.weeks
        if h > 0:
            vendor += float(cost.get(v, 0.0)) * min(1.0, least / h)
        vendor += float(short.get(v, 0.0)) * avg_rate.get(v, 0.0) * d.weeks  # take-or-pay for hours below the minimum
    committed = roster + vendor
    return {"committed_cost": committed, "decidable_cost": total_cost - committed,
            "committed_roster_cost": roster, "committed_vendor_cost": vendor}


def baseline_savings(plan: dict, base: dict) -> dict:
    """The optimizer's saving against the baseline, at comparable service [share of the baseline's cost].

    ``savings_vs_baseline`` counts the unmet penalty: paid cost (take-or-pay included) plus unmet hours x
    the cell's penalty, for both plans, so a plan that is cheaper only because it leaves work undone is not
    called cheaper; ``savings_vs_baseline_paid`` is paid cost alone (meaningful when both leave about the same
    work unmet, as ``baseline_comparison`` says in words). In a terminal week (``[planning] week_end``)
    ``savings_vs_baseline_with_end_backlog`` adds to each plan's paid cost the deferred work it leaves to the next week
    at its terminal price (``terminal_backlog_cost``, as the objective does), so that no plan looks cheaper by handing
    work on (the default demo: 5.9 % paid, 4.3 % with the end backlog valued; ``bench/iso_service.py``).
    """
    paid, base_paid = float(plan["total_cost"]), float(base["total_cost"])
    full, base_full = paid + float(plan["penalty"]), base_paid + float(base["penalty"])
    out = {"savings_vs_baseline": 1.0 - full / base_full if base_full > 0 else 0.0,
           "savings_vs_baseline_paid": 1.0 - paid / base_paid if base_paid > 0 else 0.0}
    un, base_un = float(plan["unmet_hours"]), float(base["unmet_hours"])
    same = abs(un - base_un) <= max(0.1 * max(un, base_un), 10.0)
    def rel(x: float) -> str:
        return f"{abs(x):.1%} {'below' if x >= 0 else 'above'}"

    out["baseline_comparison"] = (
        f"paid cost {rel(out['savings_vs_baseline_paid'])} the baseline's, leaving "
        + ("about as much" if same else ("less" if un < base_un else "MORE")) + f" work unmet ({un:,.0f} h vs {base_un:,.0f} h); "
        f"with the unmet penalty counted {rel(out['savings_vs_baseline'])}")
    if plan.get("week_end") == "terminal" and base.get("week_end") == "terminal":  # work handed to the next week, valued
        end, base_end = float(plan.get("terminal_backlog_cost") or 0.0), float(base.get("terminal_backlog_cost") or 0.0)
        out["savings_vs_baseline_with_end_backlog"] = 1.0 - (paid + end) / (base_paid + base_end) if base_paid + base_end > 0 else 0.0
        out["baseline_comparison"] += (
            f"; with the work left to the next week valued ({float(plan.get('end_backlog_hours') or 0.0):,.0f} h vs "
            f"{float(base.get('end_backlog_hours') or 0.0):,.0f} h, {end:,.0f} vs {base_end:,.0f}) "
            f"{rel(out['savings_vs_baseline_with_end_backlog'])}")
    if "decidable_cost" in plan and "decidable_cost" in base:  # what can be saved at all (cost_split)
        dec, base_dec = float(plan["decidable_cost"]), float(base["decidable_cost"])
        out.update({"baseline_committed_cost": float(base["committed_cost"]), "baseline_decidable_cost": base_dec,
                    "savings_vs_baseline_decidable": 1.0 - dec / base_dec if base_dec > 0 else 0.0,
                    "baseline_decidable_share": base_dec / base_paid if base_paid > 0 else 0.0})
        out["baseline_comparison"] += (
            f"; decidable cost (all but roster pay at contract and vendor minimums) {rel(out['savings_vs_baseline_decidable'])} "
            f"the baseline's ({dec:,.0f} vs {base_dec:,.0f}; {out['baseline_decidable_share']:.0%} of the baseline's paid cost is decidable)")
    return out


def _price_rules(d: PlanData, duals: dict, before: float | None, result: PlanResult, solver_config, deadline: float) -> None:
    """Price binding.csv's overtime_cap and quality_floor rows from the relaxation moved one step (:mod:`.rule_prices`:
    the relaxation's ``duals`` prove a saving of 0, else it is re-solved in the time left of the solve's
    ``time_limit_s``); ``before`` is that relaxation's cost (the solve's ``phases["relaxation_objective"]``) and ``d``
    the data it was built from. solve.json gets one record per step priced and their seconds."""
    from capplan.optimize.rule_prices import price_rules, with_prices

    started = time.perf_counter()
    prices, records = price_rules(d, result.binding, solver_config, before=before, deadline=deadline, duals=duals)
    if prices:
        result.binding = with_prices(result.binding, prices)
        result.solve["rule_prices"] = records
        result.solve["rule_price_seconds"] = time.perf_counter() - started


def model_report(ws, b) -> dict:
    """The model's size and the solver settings, for ``solve.json``."""
    return {"build_seconds": b.seconds, "variables": b.model.get_num_variables(), "integer_variables": b.n_integer,
            "constraints": b.model.get_num_linear_constraints(), "relative_gap_limit": float(ws.config.solver.relative_gap),
            "time_limit_s": float(ws.config.solver.time_limit_s)}


def model_plan(ws, d: PlanData, b, values: dict, solve_report: dict, duals: dict | None = None) -> PlanResult:
    """The tables of a plan given by the model's variable values (the optimizer's, or a fixed-staff LP's)."""
    staff = np.array([int(round(values[b.staff[k]])) for k in range(len(d.patterns))], dtype=int)
    alloc = {key: {t: max(float(values[v]), 0.0) for t, v in vars_.items()} for key, vars_ in b.alloc.items()}
    egr_values = {key: {t: max(float(values[v]), 0.0) for t, v in ys.items()} for key, ys in b.egr.items()}
    solve_report = {**solve_report, **model_report(ws, b)}
    if b.change:  # vendor stability (issue 12): weekly productive hours moved from the previous plan
        solve_report["vendor_change_hours"] = {v: float(values[up] + values[down]) for v, (up, down) in sorted(b.change.items())}
    if b.pair_open:
        solve_report["pair_min_hours"] = float(ws.config.contracts.min_pair_weekly_hours)
    if d.unmet_caps or d.unmet_price is not None:  # the iso-service benchmark's options (with_unmet_caps)
        label = [f"{q}/{lang}" for q, lang in zip(d.cells[QUEUE], d.cells[LANGUAGE])]
        if d.unmet_price is not None:  # [currency per standard h]
            solve_report["unmet_price"] = {label[c]: float(x) for c, x in enumerate(d.unmet_price)}
        solve_report["unmet_caps"] = {label[c]: {"cap_hours": cap, "over_hours": float(values[b.unmet_over[c]]) if c in b.unmet_over else 0.0}
                                      for c, cap in sorted(d.unmet_caps.items())}
    if "notice_high" in d.vendors and d.vendors["notice_high"].notna().any():  # vendor notice bands (issue 12) [paid h / week]
        solve_report["vendor_notice"] = {r[VENDOR]: {"previous_paid_hours": float(r["previous_paid_hours"]), "low": float(r["notice_low"]),
                                                     "high": float(r["notice_high"])} for _, r in d.vendors.iterrows() if pd.notna(r["notice_high"])}
    # take-or-pay from the staffing, not the solver's slack: a plan stopped at the time limit may carry slack above
    # max(min - paid, 0) (seen under heavy load: twice the shortfall), which the checker rightly rejects
    result = assemble(d, staff, alloc, egr_values=egr_values, solve=solve_report, duals=duals)
    result.staff = staff
    return result


def compare_with_baseline(ws, requirements: pd.DataFrame, result: PlanResult, base: PlanResult) -> None:
    """The baseline's cost, service and checker findings beside the plan's, in ``result.solve``."""
    result.solve["baseline_cost"] = base.solve["total_cost"]
    result.solve["baseline_paid_cost"] = base.solve["cost"]
    result.solve["baseline_unmet_hours"] = base.solve["unmet_hours"]
    result.solve["baseline_moderators"] = base.solve["moderators"]
    result.solve["baseline_penalty"] = base.solve["penalty"]
    result.solve["baseline_method"] = "planner (optimize/baseline.py)"
    result.solve["baseline_checks"] = check_plan(ws, requirements, base)
    result.solve["baseline_remedies"] = base.solve.get("baseline_remedies", {})
    result.solve.update(baseline_savings(result.solve, base.solve))


def solve_plan(ws, requirements: pd.DataFrame, *, progress: Callable[[str, float], None] | None = None,
               with_baseline: bool = True, price_rules: bool = True, unmet_caps: dict | None = None,
               unmet_price_scale: float | None = None) -> PlanResult:
    """Cost-minimal shift plan and vendor allocation for the planning window (see :mod:`.model`).

    When ``[solver] time_limit_s`` runs out before the optimizer has any plan, the fallback plan is returned
    (``[solver] fallback = "baseline"``, :func:`capplan.optimize.fallback.fallback_plan`): the baseline's shifts,
    status ``fallback``; any other solver failure stays a SolverError. A plan the optimizer found is always used.

    Parameters
    ----------
    ws : Workspace (or a stand-in with the same attributes).
    requirements : requirements table (``REQUIREMENTS_COLUMNS``); rows outside the window are ignored.
    progress : optional callback called with the name of each stage.
    with_baseline : also run :func:`~capplan.optimize.baseline.baseline_plan` (a competent planner's
        method) and report its cost, penalty, unmet hours and checker findings in ``solve`` beside the
        optimizer's cost and the LP bound (``bound``). A fallback plan always has it (it is made from it).
    price_rules : False skips pricing the overtime cap and quality floors (a model build, or a relaxation re-solved,
        per binding limit) even when ``[solver] price_rules`` asks for it (:mod:`.rule_prices`), for solves whose
        cost or plan alone is used.
        A fallback plan prices none (it has no relaxation to move).
    unmet_caps : benchmark option (``bench/iso_service.py``), None in every plan ``capplan plan`` makes: (queue,
        language) -> most unmet work a week [standard h] (:func:`~capplan.optimize.data.with_unmet_caps`); ``solve``
        then reports each cap and the work planned above it (``unmet_caps``, 0 when the cap holds).
    unmet_price_scale : benchmark option, None in every plan ``capplan plan`` makes: unmet work priced at this multiple
        of its severity's penalty in the objective, but never below :func:`~capplan.optimize.model.unmet_tie_break_price`;
        0 minimises paid cost alone, so the plan buys only the service ``unmet_caps`` demands. The reported ``penalty``
        stays the severity's price of the unmet work.

    Returns
    -------
    PlanResult, with ``checks`` the checker's violations (empty for a valid plan).
    """
    from capplan.errors import SolverTimeout
    from capplan.optimize.baseline import baseline_plan
    from capplan.optimize.fallback import fallback_plan
    from capplan.optimize.model import build
    from capplan.optimize.solve import solve

    fractions = {"prepare": 0.0, "build": 0.05, "solve": 0.2, "extract": 0.85, "baseline": 0.9, "check": 0.95, "done": 1.0}

    def step(stage: str) -> None:
        if progress is not None:
            progress(f"optimize: {stage}", fractions[stage])

    step("prepare")
    d = prepare(ws, requirements)
    if unmet_caps is not None or unmet_price_scale is not None:
        from capplan.optimize.data import with_unmet_caps
        from capplan.optimize.model import unmet_tie_break_price

        price = None
        if unmet_price_scale is not None:
            price = np.maximum(float(unmet_price_scale) * d.cells["penalty"].to_numpy(float), unmet_tie_break_price(d))
        d = with_unmet_caps(d, unmet_caps or {}, price)
    step("build")
    b = build(d)
    step("solve")
    base = None
    solve_started = time.perf_counter()
    try:
        s = solve(b, ws.config.solver)
    except SolverTimeout as exc:
        if ws.config.solver.fallback != "baseline":
            raise
        step("baseline")
        result, base = fallback_plan(ws, requirements, d, b, exc)
    else:
        step("extract")
        result = model_plan(ws, d, b, s.values, {
            "status": s.status.value, "solver": s.solver, "method": s.method, "phases": s.phases, "objective": s.objective,
            "bound": s.bound, "gap": s.gap, "seconds": s.seconds}, s.duals)
        if price_rules:
            _price_rules(d, s.duals, s.phases.get("relaxation_objective"), result, ws.config.solver,
                         solve_started + float(ws.config.solver.time_limit_s))
        if with_baseline:
            step("baseline")
            base = baseline_plan(ws, requirements, data=d)
    result.proficiency = d.proficiency_table
    if base is not None:
        compare_with_baseline(ws, requirements, result, base)
    result.solve["realtime_targets"] = realtime_target_report(requirements, result.coverage)
    step("check")
    result.checks = check_plan(ws, requirements, result)
    step("done")
    return result


__all__ = ["solve_plan", "check_plan", "plan_cost", "assemble", "baseline_savings", "cost_split"]
