"""How fast can one scenario of the checked mode's fixed-staff LP (``ShiftCheck``) be solved? Warm starts, coarser grids.

Usage::

    PYTHONPATH=src python3 bench/check_lp.py WORKSPACE [--scenarios 3] [--highspy-path DIR] [--out bench/results/check_lp.json]
    PYTHONPATH=src python3 bench/check_lp.py WORKSPACE --scenarios 20 --grid 2:sum,2:min,3:sum,4:sum,4:min \
        [--alternatives pdlp,dual --alternative-scenarios 2] [--demand-scale 1.0] [--out bench/results/check_grid.json]

``WORKSPACE``: a demo workspace with a forecast run (``backtest_errors.parquet``), as for ``bench/risk_solve.py``. The P50
plan is solved once (its staffing is the one checked), one :class:`~capplan.optimize.checked.ShiftCheck` is built on the
scenarios' support, then each scenario is solved by:

- ``barrier``: what the checked mode does (HiGHS interior point through MathOpt, no crossover), from scratch;
- ``glop_warm``: GLOP dual simplex through a MathOpt ``IncrementalSolver``, scenario 0 started from the HiGHS
  barrier-plus-crossover basis (``ModelSolveParameters(initial_basis=...)``; MathOpt's HiGHS takes no basis and is
  not incremental), each later scenario warm from the previous one's basis (only bounds change), each capped at
  ``--glop-limit`` seconds;
- ``highspy_warm`` (only with ``--highspy-path``, a folder holding the ``highspy`` package): the LP exported as arrays to
  a child process that never imports ortools (or-tools issue 5246), scenario 0 by IPX with crossover, each later
  scenario by dual simplex from the previous basis after ``changeColsBounds`` / ``changeRowsBounds``; the same child
  also times IPX without crossover from scratch (``highspy_ipm``) and at ``ipm_optimality_tolerance = 1e-6``.

Prints and writes per scenario the objective, wall and CPU seconds and simplex iterations. Objectives must agree
across methods (same LP). On a shared machine compare CPU seconds.

``--grid``: the check on a **coarser time grid** instead (:func:`coarsen`): each ``BLOCK:RULE`` builds the check model on
blocks of ``BLOCK`` planning intervals (demand summed per block, deadlines rounded down to the block, a pattern's capacity
per block the sum of its intervals' (``sum``) or ``BLOCK`` x their minimum (``min``)) and solves every scenario on it;
the full-grid LP (what the mode does) is solved too. Written per variant: model size, build and per-LP CPU seconds,
late and unmet hours, and per cell-scenario the met / not-met decision against the full grid's (confusion counts at the
mode's rule, ``share <= 1 - target + 1e-9``, and at a 1e-6 tolerance), the largest change of a cell's shortfall share,
and how many scenarios a screening would spare (every cell's coarse share further than a margin from its allowance).
``--alternatives`` also solves the first ``--alternative-scenarios`` scenarios of the full grid by other HiGHS algorithms
(``pdlp``, ``dual`` simplex from scratch, ``ipx_tol6``: barrier at ``ipm_optimality_tolerance = 1e-6``), each capped at
``--alternative-limit`` seconds. ``--demand-scale`` checks the P50 staffing against every scenario's demand scaled
(e.g. 1.1: +10 %, real-time requirement hours scaled linearly, not re-computed by Erlang; the staffing cannot be scaled,
the roster fixes it) to put more cells near or beyond their allowance.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

HIGHSPY_CHILD = r"""
import json, sys, time
import numpy as np, scipy.sparse as sp
import highspy
z = np.load(sys.argv[1]); n = int(sys.argv[2])
nv, nr = len(z["obj"]), len(z["rlb0"])
A = sp.csc_matrix((z["vals"], (z["rows"], z["cols"])), shape=(nr, nv))
def model(s):
    lp = highspy.HighsLp(); lp.num_col_, lp.num_row_ = nv, nr
    lp.col_cost_, lp.offset_ = z["obj"], float(z["offset"])
    lp.col_lower_, lp.col_upper_, lp.row_lower_, lp.row_upper_ = z[f"clb{s}"], z[f"cub{s}"], z[f"rlb{s}"], z[f"rub{s}"]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
    return lp
def run(h):
    t, c = time.perf_counter(), time.process_time(); h.run(); info = h.getInfo()
    return {"status": str(h.getModelStatus()), "objective": info.objective_function_value, "wall_s": time.perf_counter() - t,
            "cpu_s": time.process_time() - c, "simplex_iterations": info.simplex_iteration_count, "ipm_iterations": info.ipm_iteration_count}
out = {"highspy_warm": [], "highspy_ipm": [], "highspy_ipm_tol1e-6": []}
h = highspy.Highs(); h.setOptionValue("output_flag", False); h.setOptionValue("solver", "ipm"); h.setOptionValue("run_crossover", "on")
h.passModel(model(0)); out["highspy_warm"].append(dict(run(h), method="ipm+crossover"))
h.setOptionValue("solver", "simplex"); h.setOptionValue("simplex_strategy", 1)
ic, ir = np.arange(nv, dtype=np.int32), np.arange(nr, dtype=np.int32)
for s in range(1, n):
    h.changeColsBounds(nv, ic, z[f"clb{s}"], z[f"cub{s}"]); h.changeRowsBounds(nr, ir, z[f"rlb{s}"], z[f"rub{s}"])
    out["highspy_warm"].append(dict(run(h), method="dual simplex, warm"))
for key, tol in (("highspy_ipm", None), ("highspy_ipm_tol1e-6", 1e-6)):
    for s in range(n):
        h = highspy.Highs(); h.setOptionValue("output_flag", False); h.setOptionValue("solver", "ipm"); h.setOptionValue("run_crossover", "off")
        if tol: h.setOptionValue("ipm_optimality_tolerance", tol)
        h.passModel(model(s)); out[key].append(run(h))
print(json.dumps(out))
"""


# --- the coarser check grid -----------------------------------------------------------------------
CAPACITY_RULES = ("sum", "min")


def _blocks(T: int, block: int) -> np.ndarray:
    """(T,) the block of each interval."""
    return np.arange(T) // block


def _sum_blocks(x: np.ndarray, block: int) -> np.ndarray:
    """(C, T) -> (C, ceil(T / block)): sums over each block's intervals."""
    T = x.shape[1]
    out = np.zeros((x.shape[0], -(-T // block)))
    np.add.at(out, (slice(None), _blocks(T, block)), x)
    return out


def _overlap(overlap: dict[int, float], block: int) -> dict[int, float]:
    """{interval: hours} -> {block: hours}, summed."""
    out: dict[int, float] = {}
    for t, hours in overlap.items():
        out[t // block] = out.get(t // block, 0.0) + hours
    return out


def _capacity(cap: dict[int, float], block: int, T: int, rule: str) -> dict[int, float]:
    """A pattern's productive hours per moderator and block: the sum of its intervals' or ``block`` x their minimum."""
    if rule == "sum":
        return _overlap(cap, block)
    out = {}
    for k in sorted({t // block for t in cap}):
        ts = range(k * block, min((k + 1) * block, T))
        least = min(cap.get(t, 0.0) for t in ts)
        if least > 0:
            out[k] = least * len(ts)
    return out


def _opening_due(opening: np.ndarray, T: int, block: int) -> np.ndarray:
    """(C, T + 1) opening work by due interval -> (C, Tc + 1) by due block (the last block ending by then; block 0 at
    the latest; the last column, due after the window, stays last)."""
    Tc = -(-T // block)
    due = np.maximum((np.arange(T) + 1) // block - 1, 0)
    out = np.zeros((opening.shape[0], Tc + 1))
    np.add.at(out, (slice(None), due), opening[:, :T])
    out[:, Tc] = opening[:, T]
    return out


def coarsen(d: PlanData, block: int, capacity: str = "sum") -> PlanData:
    """``d`` on a grid of ``block`` intervals per block, for the check model (``block = 1`` returns ``d``).

    Demand (real-time requirement hours, deferred workload, items) is summed per block. Deadlines are the coarse grid's
    own (:func:`~capplan.staffing.backlog.due_shift` on ``block x interval_minutes``): work arriving in a block is due by
    the end of the last block ending by the *earliest* deadline of its intervals (rounded down); the opening backlog due
    by the end of interval ``j`` is due by the end of the last block ending by then (block 0 at the latest). A pattern's
    capacity per block is the sum of its intervals' productive hours (``sum``: relaxes, a moderator-hour may serve any
    work of its block, even before it arrived) or ``block`` x the smallest (``min``: tightens, a partly covered block gives
    nothing). Every family of the check model is then built on it unchanged.
    """
    block = int(block)
    if block < 1:
        raise ValueError(f"block must be 1 or more intervals, got {block}")
    if capacity not in CAPACITY_RULES:
        raise ValueError(f"capacity must be one of {CAPACITY_RULES}, got {capacity!r}")
    from capplan.staffing.backlog import due_shift

    if block == 1:
        return d
    T, h = d.T, d.h * block
    cells = d.cells.copy()
    cells["due_shift"] = [due_shift(h * 60.0, float(w)) for w in cells["within_s"]]
    need = _sum_blocks(d.need_hours, block)
    occurrences = [dataclasses.replace(o, overlap=_overlap(o.overlap, block)) for o in d.occurrences]
    patterns = [dataclasses.replace(p, capacity=_capacity(p.capacity, block, T, capacity)) for p in d.patterns]
    return dataclasses.replace(
        d, times=d.times[::block], h=h, cells=cells, need_hours=need, required_productive=need / h,
        workload=_sum_blocks(d.workload, block), volume=_sum_blocks(d.volume, block), occurrences=occurrences,
        patterns=patterns, opening_due=None if d.opening_due is None else _opening_due(d.opening_due, T, block))


def coarse_demand(dc: PlanData, ds: PlanData, block: int) -> PlanData:
    """A scenario's demand ``ds`` (fine grid) on the coarse plan data ``dc``."""
    if block == 1:
        return ds
    need = _sum_blocks(ds.need_hours, block)
    return dataclasses.replace(dc, need_hours=need, required_productive=need / dc.h, workload=_sum_blocks(ds.workload, block),
                               volume=_sum_blocks(ds.volume, block))


def _setup(ws_dir: Path, n: int, demand_scale: float = 1.0):
    """(the check model on the P50 staffing, the scenarios (every demand x ``demand_scale``), its build seconds, the plan
    data, the staffing, the cell targets)."""
    import pandas as pd

    from capplan.inputs import load_workspace
    from capplan.optimize.checked import ShiftCheck, _solve_deterministic
    from capplan.optimize.data import prepare
    from capplan.optimize.stochastic import _demands, cell_targets, draw_scenarios
    from capplan.runs import resolve_run
    from capplan.staffing.requirements import compute_requirements

    ws = load_workspace(ws_dir)
    fc_dir = resolve_run(ws_dir / "forecasts", None, "forecast", required=("forecast.parquet",))
    forecast = pd.read_parquet(fc_dir / "forecast.parquet")
    d = prepare(ws, compute_requirements(forecast, ws, 50))
    demands = _demands(ws, d, draw_scenarios(forecast, pd.read_parquet(fc_dir / "backtest_errors.parquet"), ws.config, n))
    staff, _ = _solve_deterministic(d, ws.config.solver)
    if demand_scale != 1.0:
        k = float(demand_scale)
        demands = [dataclasses.replace(x, need_hours=x.need_hours * k, required_productive=x.required_productive * k,
                                       workload=x.workload * k, volume=x.volume * k) for x in demands]
    target = cell_targets(ws, d)
    t, cpu = time.perf_counter(), time.process_time()
    check = ShiftCheck(d, demands, target, staff)
    return check, demands, {"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - cpu}, d, staff, target


def _timed(f):
    t, c = time.perf_counter(), time.process_time()
    r = f()
    return r, time.perf_counter() - t, time.process_time() - c


def _barrier(check, demands) -> list[dict]:
    from capplan.optimize.stochastic import _lp

    rows = []
    for ds in demands:
        check._set_demand(ds)
        solved, wall, cpu = _timed(lambda: _lp(check.two.master, time.perf_counter() + 3600))
        rows.append({"objective": solved[1], "wall_s": wall, "cpu_s": cpu})
    return rows


def _glop_warm(check, demands, limit_s: float) -> list[dict]:
    import datetime as dt

    from ortools.math_opt.solvers import highs_pb2

    from capplan.optimize.model import mathopt

    mo, m, money = mathopt(), check.two.master.model, check.two.master.scale.money
    check._set_demand(demands[0])
    options = highs_pb2.HighsOptionsProto()
    options.string_options["run_crossover"] = "on"
    first, wall, cpu = _timed(lambda: mo.solve(m, mo.SolverType.HIGHS, params=mo.SolveParameters(lp_algorithm=mo.LPAlgorithm.BARRIER, highs=options)))
    rows = [{"method": "highs barrier+crossover (for the basis)", "objective": first.objective_value() * money, "wall_s": wall, "cpu_s": cpu}]
    inc = mo.IncrementalSolver(m, mo.SolverType.GLOP)
    params = mo.SolveParameters(lp_algorithm=mo.LPAlgorithm.DUAL_SIMPLEX, time_limit=dt.timedelta(seconds=limit_s))
    for s, ds in enumerate(demands):
        check._set_demand(ds)
        basis = mo.ModelSolveParameters(initial_basis=first.solutions[0].basis) if s == 0 else None
        r, wall, cpu = _timed(lambda: inc.solve(params=params, model_params=basis))
        ok = r.termination.reason == mo.TerminationReason.OPTIMAL
        rows.append({"method": "glop dual simplex, warm", "status": r.termination.reason.name, "objective": r.objective_value() * money if ok else None,
                     "wall_s": wall, "cpu_s": cpu, "simplex_iterations": r.solve_stats.simplex_iterations})
        if not ok:
            break  # the basis of a solve stopped at the limit is no start for the next
    return rows


def _export(check, demands, path: Path) -> None:
    """The LP as arrays (matrix, objective) and each scenario's bounds, in MathOpt's model order."""
    m = check.two.master.model
    check._set_demand(demands[0])
    p = m.export_model()
    vpos = {int(i): k for k, i in enumerate(p.variables.ids)}
    cpos = {int(i): k for k, i in enumerate(p.linear_constraints.ids)}
    a = p.linear_constraint_matrix
    obj = np.zeros(len(vpos))
    obj[[vpos[i] for i in p.objective.linear_coefficients.ids]] = p.objective.linear_coefficients.values
    out = {"rows": np.array([cpos[i] for i in a.row_ids]), "cols": np.array([vpos[i] for i in a.column_ids]),
           "vals": np.array(a.coefficients), "obj": obj, "offset": p.objective.offset}
    for s, ds in enumerate(demands):
        check._set_demand(ds)
        q = m.export_model()
        out.update({f"clb{s}": np.array(q.variables.lower_bounds), f"cub{s}": np.array(q.variables.upper_bounds),
                    f"rlb{s}": np.array(q.linear_constraints.lower_bounds), f"rub{s}": np.array(q.linear_constraints.upper_bounds)})
    np.savez(path, **out)


def _grid_variant(d, demands, target, staff, block: int, rule: str, full_check=None) -> dict:
    """One check grid: its model (``full_check`` for block 1), build CPU s, and per scenario the LP's CPU s and (C,) shortfall hours."""
    from capplan.optimize.checked import ShiftCheck

    cpu = time.process_time()
    if block == 1 and full_check is not None:
        check, dems, build = full_check, demands, None
    else:
        dc = coarsen(d, block, rule)
        dems = [coarse_demand(dc, ds, block) for ds in demands]
        check = ShiftCheck(dc, dems, target, staff)
        build = time.process_time() - cpu
    m = check.two.master.model
    rows = []
    for ds in dems:
        (hours, cpu_s) = _timed(lambda: check.shortfall(ds, 3600.0))[::2]
        rows.append((cpu_s, hours.sum(axis=1)))
    return {"block": block, "capacity": rule, "variables": m.get_num_variables(), "constraints": m.get_num_linear_constraints(),
            "build_cpu_s": build, "lp_cpu_s": [r[0] for r in rows], "shortfall_h": np.array([r[1] for r in rows])}


def _decisions(short: np.ndarray, work: np.ndarray, target: np.ndarray, tol: float) -> np.ndarray:
    """(S, C) True where a cell misses its target: late or unmet share above ``1 - target + tol`` (the mode's rule: 1e-9)."""
    share = np.divide(short, work, out=np.zeros_like(short), where=work > 1e-12)
    return share > (1.0 - target)[None, :] + tol


def _compare(full: dict, variant: dict, work: np.ndarray, target: np.ndarray, d) -> dict:
    """Confusion counts of the variant's per cell-scenario decisions against the full grid's, shares, screening."""
    share = lambda r: np.divide(r["shortfall_h"], work, out=np.zeros_like(work), where=work > 1e-12)
    diff = share(variant) - share(full)
    out = {}
    for name, tol in (("mode_rule_1e-9", 1e-9), ("tolerance_1e-6", 1e-6)):
        f, c = _decisions(full["shortfall_h"], work, target, tol), _decisions(variant["shortfall_h"], work, target, tol)
        out[name] = {"met_met": int((~f & ~c).sum()), "missed_missed": int((f & c).sum()), "full_met_coarse_missed": int((~f & c).sum()),
                     "full_missed_coarse_met": int((f & ~c).sum()), "scenarios_with_a_change": int((f != c).any(axis=1).sum()),
                     "changed": [f"s{s} {d.cells.at[k, 'queue']}/{d.cells.at[k, 'language']}: {share(full)[s, k]:.4f} -> {share(variant)[s, k]:.4f}"
                                 for s, k in zip(*np.nonzero(f != c))][:40]}
    dist = share(variant) - (1.0 - target)[None, :]
    out["screening"] = {f"{m:g}": int((np.abs(dist) > m).all(axis=1).sum()) for m in (0.001, 0.01, 0.02, 0.05)}
    out["max_abs_share_change"] = float(np.abs(diff).max())
    kinds = d.cells["queue"].to_numpy()
    out["share_change_by_queue"] = {q: {"mean": float(diff[:, kinds == q].mean()), "min": float(diff[:, kinds == q].min()),
                                        "max": float(diff[:, kinds == q].max())} for q in sorted(set(kinds))}
    return out


def _alternatives(check, demands, full: dict, target: np.ndarray, work: np.ndarray, names: list[str], n: int, limit_s: float) -> list[dict]:
    """The full grid's first ``n`` scenarios by other HiGHS algorithms: CPU s, status, objective, decisions changed."""
    import datetime as dt

    from ortools.math_opt.solvers import highs_pb2

    from capplan.optimize.model import mathopt, unscale
    from capplan.optimize.stochastic import shortfall_hours

    mo, m = mathopt(), check.two.master.model
    rows = []
    for s in range(min(n, len(demands))):
        for name in names:
            o = highs_pb2.HighsOptionsProto()
            limit = dt.timedelta(seconds=limit_s)
            if name == "pdlp":
                o.string_options["solver"] = "pdlp"
                params = mo.SolveParameters(highs=o, time_limit=limit)
            elif name == "dual":
                params = mo.SolveParameters(lp_algorithm=mo.LPAlgorithm.DUAL_SIMPLEX, time_limit=limit)
            elif name == "ipx_tol6":
                o.string_options["run_crossover"] = "off"
                o.double_options["ipm_optimality_tolerance"] = 1e-6
                params = mo.SolveParameters(lp_algorithm=mo.LPAlgorithm.BARRIER, highs=o, time_limit=limit)
            else:
                sys.exit(f"unknown alternative {name!r}: pdlp, dual or ipx_tol6")
            check._set_demand(demands[s])
            r, wall, cpu = _timed(lambda: mo.solve(m, mo.SolverType.HIGHS, params=params, remove_names=True))
            row = {"scenario": s, "method": name, "status": r.termination.reason.name, "wall_s": wall, "cpu_s": cpu,
                   "full_lp_cpu_s": full["lp_cpu_s"][s]}
            if r.termination.reason == mo.TerminationReason.OPTIMAL:
                hours = shortfall_hours(check.stage, unscale(check.two.master, r.variable_values())).sum(axis=1)
                one = {"shortfall_h": hours[None, :]}
                ref = {"shortfall_h": full["shortfall_h"][s:s + 1]}
                row.update(objective=r.objective_value() * check.two.master.scale.money,
                           changed_1e9=int((_decisions(one["shortfall_h"], work[s:s + 1], target, 1e-9)
                                            != _decisions(ref["shortfall_h"], work[s:s + 1], target, 1e-9)).sum()),
                           max_abs_share_change=float(np.abs((hours - full["shortfall_h"][s]) / np.maximum(work[s], 1e-12)).max()))
            rows.append(row)
            print("alternative", json.dumps(row), flush=True)
    return rows


def _grid(args) -> dict:
    """``--grid``: the full-grid check and each coarse variant on the same scenarios and staffing (module notes)."""
    from capplan.optimize.stochastic import scenario_work

    check, demands, build, d, staff, target = _setup(args.workspace, args.scenarios, args.demand_scale)
    work = scenario_work(d, demands)
    full = _grid_variant(d, demands, target, staff, 1, "sum", check)
    full["build_cpu_s"] = build["cpu_s"]
    allowance = (1.0 - target)[None, :]
    share = np.divide(full["shortfall_h"], work, out=np.zeros_like(work), where=work > 1e-12)
    result = {"workspace": str(args.workspace), "scenarios": args.scenarios, "demand_scale": args.demand_scale,
              "cell_scenarios": int(work.size), "intervals": d.T, "cells": len(d.cells),
              "full_cells_within_1e-6_of_allowance": int((np.abs(share - allowance) <= 1e-6).sum()),
              "full_cells_missed_by_1e-9_to_1e-6": int(((share - allowance > 1e-9) & (share - allowance <= 1e-6)).sum()),
              "variants": {}}
    summary = lambda r: {k: v for k, v in r.items() if k not in ("shortfall_h", "lp_cpu_s")} | {
        "lp_cpu_s_mean": float(np.mean(r["lp_cpu_s"])), "lp_cpu_s": [round(x, 3) for x in r["lp_cpu_s"]],
        "shortfall_h_total": float(r["shortfall_h"].sum()), "scenario_shortfall_h": [round(float(x), 2) for x in r["shortfall_h"].sum(axis=1)]}
    result["variants"]["full"] = summary(full)
    print("full", json.dumps(result["variants"]["full"])[:400], flush=True)
    for spec in [x for x in args.grid.split(",") if x]:
        block, rule = spec.split(":")
        r = _grid_variant(d, demands, target, staff, int(block), rule)
        result["variants"][spec] = summary(r) | _compare(full, r, work, target, d)
        result["variants"][spec]["lp_cpu_ratio_full_over_variant"] = float(np.mean(full["lp_cpu_s"]) / np.mean(r["lp_cpu_s"]))
        print(spec, json.dumps({k: v for k, v in result["variants"][spec].items() if k not in ("lp_cpu_s", "scenario_shortfall_h")})[:1500], flush=True)
    if args.alternatives:
        result["alternatives"] = _alternatives(check, demands, full, target, work, args.alternatives.split(","), args.alternative_scenarios,
                                               args.alternative_limit)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--scenarios", type=int, default=3)
    parser.add_argument("--glop-limit", type=float, default=120.0)
    parser.add_argument("--highspy-path", type=Path, default=None)
    parser.add_argument("--grid", default="", help="coarse check grids BLOCK:RULE,... (RULE sum or min), e.g. 2:sum,4:sum")
    parser.add_argument("--alternatives", default="", help="with --grid: other HiGHS algorithms on the full grid: pdlp, dual, ipx_tol6")
    parser.add_argument("--alternative-scenarios", type=int, default=2)
    parser.add_argument("--alternative-limit", type=float, default=120.0)
    parser.add_argument("--demand-scale", type=float, default=1.0, help="with --grid: every scenario's demand x this (a stress case)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.grid:
        result = {"load_average_1m_at_start": os.getloadavg()[0], **_grid(args), "load_average_1m_at_end": os.getloadavg()[0]}
        out = args.out or ROOT / "bench" / "results" / "check_grid.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=str))
        print(f"wrote {out}")
        return
    args.out = args.out or ROOT / "bench" / "results" / "check_lp.json"
    check, demands, build, *_ = _setup(args.workspace, args.scenarios)
    m = check.two.master.model
    result = {"workspace": str(args.workspace), "scenarios": args.scenarios, "load_average_1m_at_start": os.getloadavg()[0],
              "variables": m.get_num_variables(), "constraints": m.get_num_linear_constraints(), "build": build}
    result["barrier"] = _barrier(check, demands)
    print("barrier", json.dumps(result["barrier"]), flush=True)
    if args.highspy_path is not None:
        with tempfile.TemporaryDirectory() as tmp:
            _export(check, demands, Path(tmp) / "lp.npz")
            env = {**os.environ, "PYTHONPATH": str(args.highspy_path)}
            res = subprocess.run([sys.executable, "-c", HIGHSPY_CHILD, str(Path(tmp) / "lp.npz"), str(args.scenarios)],
                                 capture_output=True, text=True, env=env)
            if res.returncode != 0:
                sys.exit(f"highspy child failed:\n{res.stderr[-3000:]}")
            result.update(json.loads(res.stdout.strip().splitlines()[-1]))
        for key in ("highspy_warm", "highspy_ipm", "highspy_ipm_tol1e-6"):
            print(key, json.dumps(result[key]), flush=True)
    result["glop_warm"] = _glop_warm(check, demands, args.glop_limit)
    print("glop_warm", json.dumps(result["glop_warm"]), flush=True)
    result["load_average_1m_at_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
