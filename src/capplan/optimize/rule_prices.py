"""Prices of the two binding limits that are rules of the shift patterns and skills, not LP rows.

``binding.csv`` prices a limit from the LP relaxation's dual of its row (:func:`capplan.optimize.extract.shadow_prices`).
Two limits have no row: the overtime cap (``[contracts] overtime_max_hours_per_week`` decides which overtime patterns
exist, :func:`capplan.optimize.data.contract_patterns`) and the quality floor (``[policy] severe_graphic_min_quality``
decides which pools are skilled on severe graphic cells, :func:`capplan.optimize.data.severe_graphic_allowed`). Each
is priced here as a planner would (re-plan with the limit moved), done by the tool: the LP relaxation (the model
whose optimum is the plan's ``bound``, staffing and ``open`` pairs continuous) is solved again with the limit moved
one step, and

    saving [currency / week] = (relaxation cost before - relaxation cost after) / weeks

a finite difference of the relaxation, not of the integer plan (whose cost moves in whole moderators and carries
the rounding's gap). The relaxation's objective includes the tie-breaker (0.001 per productive hour), as the bound does.

Steps
-----
* ``overtime_cap`` (a row per pool with employees on overtime): the cap raised, for that pool only, to the next
  value at which an overtime pattern appears that the current cap does not allow (overtime is one extra shift whose
  hours above the contract fit the cap, within ``max_consecutive_days`` and ``min_rest_hours``); the price is per
  extra overtime hour per employee, ``saving / (cap' - cap)``. When no higher cap admits a pattern the saving is
  exactly 0 with no re-solve: those rules, not the cap, hold the pool's overtime.
* ``quality_floor`` (a row per severity with pools kept off): that severity's floor lowered to the quality of the
  best pool it keeps off (the next pool below it), admitting every pool of that quality on its cells of that
  severity; the price is the saving of that step.

Cost: one model build and one relaxation per priced limit, in row order, only in the time left of the solve's
``time_limit_s``: on the default demo about 25 s CPU per limit against a plan of about 45 s, so it is opt-in
(``[solver] price_rules = true``). A limit not priced says why in its ``shadow_unit``, with a NaN price.

References
----------
Bertsimas and Tsitsiklis, Introduction to Linear Optimization, 1997, section 5.2: a dual is the slope of the optimal
cost in a row's right-hand side; a rule that adds columns (patterns, skills) has no row, so the difference is measured.
"""

from __future__ import annotations

import dataclasses
import time
import types
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capplan.errors import SolverError
from capplan.optimize.data import (
    PlanData,
    _group_patterns,
    _language_caps,
    _shift_patterns,
    terminal_price,
)
from capplan.optimize.model import build, mathopt
from capplan.optimize.solve import CROSSOVER, _lp
from capplan.schema import LANGUAGE, POOL, QUEUE

RULE_KINDS = ("overtime_cap", "quality_floor")
_NOISE = 1e-7  # a saving below this share of the objective is the interior-point solver's tolerance: 0


@dataclass
class Step:
    """One limit moved one step: the plan data with it moved, the step's size in the price's unit, and words."""

    kind: str
    name: str
    data: PlanData | None  # None: the step admits nothing, the saving is 0 without a re-solve
    size: float  # [h of cap per employee] for the overtime cap; 1 for a floor step
    what: str  # the step in words, for the unit


def severity_name(severity: int) -> str:
    """binding.csv's name of a quality floor row."""
    return f"severity {int(severity)}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# --- the steps ----------------------------------------------------------------------------------
def _hourly_patterns(d: PlanData, p: int) -> list:
    """Pool p's hourly patterns (one per shift and start day), from which its contract and overtime patterns are made."""
    _, patterns = _shift_patterns(types.SimpleNamespace(shifts=d.shifts), d.pools.loc[[p]], d.plan_dates, d.start, d.T, d.h)
    return patterns


def overtime_step(d: PlanData, p: int) -> Step:
    """Pool p's overtime cap raised to the next value that admits an overtime pattern it has not got (see module)."""
    c = d.config.contracts
    cap, n_consec = float(c.overtime_max_hours_per_week), int(c.max_consecutive_days)
    pool = d.pools.at[p, POOL]
    mine = _hourly_patterns(d, p)
    groups = [(int(g), float(row["weekly_hours"])) for g, row in d.groups.iterrows() if int(row["pool_index"]) == p]
    shrinkage = float(d.pools.at[p, "shrinkage"])
    have = {(q.group, q.shift, q.start_day, q.days_per_week) for q in d.patterns if q.pool == p and q.group >= 0}
    needs = set()  # overtime hours of one more shift, per (group, shift): the caps at which a pattern appears
    for _, hours in groups:
        for q in mine:
            k = min(int(np.floor(hours / q.paid_hours + 1e-9)), q.days_per_week, n_consec, 7)
            if k >= 1 and k + 1 <= min(n_consec, 7) and (k + 1) * q.paid_hours - hours > cap + 1e-9:
                needs.add(round((k + 1) * q.paid_hours - hours, 9))
    for new_cap in sorted(needs):
        moved = c.model_copy(update={"overtime_max_hours_per_week": new_cap})
        new = [q for g, hours in groups for q in _group_patterns(moved, mine, d.occurrences, g, hours, d.weeks, n_consec, shrinkage)
               if (q.group, q.shift, q.start_day, q.days_per_week) not in have]
        if new:
            shifts = ", ".join(sorted({q.shift for q in new}))
            what = f"cap {cap:g} -> {new_cap:g} h for {pool}, the next cap that admits a pattern ({_count(len(new), 'overtime pattern')} on {shifts})"
            return Step("overtime_cap", pool, dataclasses.replace(d, patterns=list(d.patterns) + new), new_cap - cap, what)
    what = (f"no higher overtime_max_hours_per_week admits a pattern for {pool} (overtime is one extra shift a week, within "
            f"max_consecutive_days {n_consec} and min_rest_hours {float(c.min_rest_hours):g}): those rules hold its overtime, not the cap")
    return Step("overtime_cap", pool, None, 1.0, what)


def quality_step(d: PlanData, severity: int) -> Step:
    """The floor of one severity lowered to admit the best pools it keeps off that severity's cells (see module)."""
    floor = float(d.config.policy.severe_graphic_min_quality)
    pairs = [(p, c) for p, c in d.excluded if int(d.cells.at[c, "severity"]) == severity]
    quality = {p: float(d.pools.at[p, "quality"]) for p, _ in pairs}
    best = max(quality.values())
    admitted = sorted((p, c) for p, c in pairs if quality[p] >= best - 1e-12)
    skills = sorted(set(d.skills) | set(admitted))
    moved = dataclasses.replace(d, skills=skills, excluded=sorted(set(d.excluded) - set(admitted)),
                                language_caps=_language_caps(d.config.policy, d.cells, d.pools, d.vendors, skills))
    moved.terminal_price = terminal_price(moved)  # a terminal week values its end backlog at the cheapest skilled hour
    pools = ", ".join(sorted({d.pools.at[p, POOL] for p, _ in admitted}))
    cells = sorted({c for _, c in admitted})
    what = (f"severity {severity} floor {floor:g} -> {best:g}: admitting {pools} on {_count(len(cells), 'cell')} "
            f"({', '.join(f'{d.cells.at[c, QUEUE]}/{d.cells.at[c, LANGUAGE]}' for c in cells)})")
    return Step("quality_floor", severity_name(severity), moved, 1.0, what)


def steps_for(d: PlanData, binding: pd.DataFrame) -> list[Step]:
    """The step of every overtime_cap and quality_floor row of ``binding``, in row order."""
    pools = {name: i for i, name in enumerate(d.pools[POOL])}
    severities = {severity_name(int(d.cells.at[c, "severity"])): int(d.cells.at[c, "severity"]) for _, c in d.excluded}
    out = []
    for kind, name in zip(binding["kind"], binding["name"]):
        if kind == "overtime_cap" and name in pools:
            out.append(overtime_step(d, pools[name]))
        elif kind == "quality_floor" and name in severities:
            out.append(quality_step(d, severities[name]))
    return out


# --- solving ------------------------------------------------------------------------------------
def relaxation_cost(d: PlanData, deadline: float, backend: str = "highs") -> float | None:
    """Optimal cost of the model's LP relaxation [currency over the window]; None when ``deadline`` comes first.

    As :func:`capplan.optimize.solve.relax_round_fix` solves it for the bound: staffing and ``open`` continuous,
    HiGHS interior point (:func:`capplan.optimize.solve._lp`, which falls back to other LP methods on failure).
    """
    b = build(d)
    for v in b.staff_vars + list(b.pair_open.values()):
        v.integer = False
    if time.perf_counter() >= deadline:
        return None
    lp = _lp(b, mathopt().SolverType.HIGHS, deadline, backend, crossover=CROSSOVER)
    return None if lp is None else lp.objective


def _unit(cur: str, step: Step, saving: float) -> str:
    if step.kind == "overtime_cap":
        return (f"{cur}/week per extra overtime hour per employee ({step.what}; LP relaxation re-solved: "
                f"{saving:,.0f} {cur}/week for the step)")
    return f"{cur}/week per quality floor step of {step.name} ({step.what}; LP relaxation re-solved)"


def price_rules(d: PlanData, binding: pd.DataFrame, solver_config, *, before: float | None,
                deadline: float) -> tuple[dict, list[dict]]:
    """Prices of the overtime_cap and quality_floor rows of ``binding`` by re-solving the relaxation (see module).

    Parameters
    ----------
    before : the relaxation's cost with the limits where they are [currency over the window] (the solve's
        ``relaxation_objective``); None to solve it here.
    deadline : ``time.perf_counter()`` value after which no re-solve starts or continues.

    Returns
    -------
    ``{(kind, name): (price [currency / week per unit], unit)}`` for every such row (NaN and the reason when not
    priced), and one record per re-solve for ``solve.json`` (step, costs before and after, saving, seconds).
    """
    rows = binding[binding["kind"].isin(RULE_KINDS)]
    if not len(rows):
        return {}, []
    cur = d.config.policy.currency
    keys = list(zip(rows["kind"], rows["name"]))
    if not solver_config.price_rules:
        why = ("not priced: re-solving the LP relaxation with the limit moved one step (one relaxation per limit) is "
               "opt-in: set [solver] price_rules = true")
        return {k: (float("nan"), why) for k in keys}, []
    out: dict[tuple[str, str], tuple[float, str]] = {}
    records = []
    for step in steps_for(d, rows):
        key = (step.kind, step.name)
        if step.data is None:
            out[key] = (0.0, f"{cur}/week: 0, {step.what}")
            continue
        started, cpu = time.perf_counter(), time.process_time()
        try:
            if before is None:
                before = relaxation_cost(d, deadline, solver_config.backend)
            after = relaxation_cost(step.data, deadline, solver_config.backend) if before is not None else None
        except SolverError as exc:
            out[key] = (float("nan"), f"not priced: the re-solve failed ({exc})")
            continue
        seconds = time.perf_counter() - started
        if after is None:
            out[key] = (float("nan"), f"not priced: no time left of [solver] time_limit_s {float(solver_config.time_limit_s):g} "
                                      f"for the re-solve ({step.what})")
            continue
        saving = before - after
        if abs(saving) <= _NOISE * max(abs(before), 1.0):
            saving = 0.0
        weekly = saving / d.weeks
        out[key] = (weekly / step.size, _unit(cur, step, weekly))
        records.append({"kind": step.kind, "name": step.name, "step": step.what, "relaxation_before": before,
                        "relaxation_after": after, "saving_per_week": weekly, "price": weekly / step.size, "seconds": seconds,
                        "cpu_seconds": time.process_time() - cpu})
    for key in keys:
        out.setdefault(key, (float("nan"), "not priced: the limit moved one step admits nothing this plan's data can price"))
    return out, records


def with_prices(binding: pd.DataFrame, prices: dict) -> pd.DataFrame:
    """``binding`` with the rows in ``prices`` re-priced (cents, as :func:`capplan.optimize.extract.binding_table`)."""
    if not prices:
        return binding
    out = binding.copy()
    for i, (kind, name) in enumerate(zip(out["kind"], out["name"])):
        if (kind, name) in prices:
            price, unit = prices[(kind, name)]
            out.iloc[i, out.columns.get_loc("shadow_price")] = round(float(price), 2)
            out.iloc[i, out.columns.get_loc("shadow_unit")] = unit
    return out


__all__ = ["price_rules", "with_prices", "relaxation_cost", "overtime_step", "quality_step", "RULE_KINDS"]
