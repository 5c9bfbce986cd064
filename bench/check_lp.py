"""How fast can one scenario of the checked mode's fixed-staff LP (``ShiftCheck``) be solved? Warm starts measured.

Usage::

    PYTHONPATH=src python3 bench/check_lp.py WORKSPACE [--scenarios 3] [--highspy-path DIR] [--out bench/results/check_lp.json]

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
"""

from __future__ import annotations

import argparse
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


def _setup(ws_dir: Path, n: int):
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
    target = cell_targets(ws, d)
    t, cpu = time.perf_counter(), time.process_time()
    check = ShiftCheck(d, demands, target, staff)
    return check, demands, {"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - cpu}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--scenarios", type=int, default=3)
    parser.add_argument("--glop-limit", type=float, default=120.0)
    parser.add_argument("--highspy-path", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "check_lp.json")
    args = parser.parse_args()
    check, demands, build = _setup(args.workspace, args.scenarios)
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
