"""Benchmark the prices of binding.csv's rule limits (overtime cap, quality floors) on the demo workspaces.

Usage::

    PYTHONPATH=src python3 bench/rule_prices.py [--cases default default_floor] [--variants cold glop]
        [--out bench/results/rule_prices_warm.json]

Each case builds a demo workspace, makes the week's requirements as ``bench/plan.py`` does (seasonal-naive forecast),
plans it (no baseline) with ``[solver] price_rules = true`` and the case's settings, and reports the plan's solve
time, the pricing's wall and CPU seconds per limit, and every overtime_cap / quality_floor row of binding.csv with
its price. The plan prices its rows with the library's method (``new``: the relaxation's duals prove a zero saving,
else a cold re-solve). Side by side on the same plan and rows, variants:

* ``cold``: every step re-solved from scratch (``price_rules(certify=False)``, the reference);
* ``glop``: the warm start measured and not adopted: the plan's relaxation solved again by HiGHS barrier with
  crossover for a basis (timed once, ``basis_cpu_seconds``), then each moved model by GLOP's primal simplex from
  that basis (new columns nonbasic at their lower bound, new rows basic), matched by variable and row names.

Prices are compared with ``cold`` (``max_rel_diff``). Wall times depend on the machine's load: compare the CPU
seconds on a shared machine. ``bench/results/rule_prices.json`` is the earlier run of the cold method alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

CASES = {  # name: (demo size, settings)
    "default": ("default", {}),
    "small": ("small", {}),
    "small_floor": ("small", {("policy", "severe_graphic_min_quality"): 0.92}),
    "default_floor": ("default", {("policy", "severe_graphic_min_quality"): 0.92}),
}


def glop_warm(d, rows, deadline: float) -> dict:
    """The warm-start variant (see module): {"basis_cpu_seconds", "steps": [{kind, name, after, iterations, cpu_seconds}]}."""
    from capplan.optimize.model import mathopt
    from capplan.optimize.rule_prices import relaxed_model, steps_for
    from capplan.optimize.solve import _lp_params

    mo = mathopt()
    B = mo.BasisStatus
    cpu = time.process_time()
    b = relaxed_model(d)
    base = mo.solve(b.model, mo.SolverType.HIGHS, params=_lp_params(mo, "barrier+crossover", deadline - time.perf_counter(), True))
    basis = base.solutions[0].basis
    var_status = {v.name: st for v, st in basis.variable_status.items()}
    row_status = {c.name: st for c, st in basis.constraint_status.items()}
    out = {"basis_cpu_seconds": time.process_time() - cpu, "before": float(base.objective_value()) * b.scale.money, "steps": []}
    for step in steps_for(d, rows):
        if step.data is None:
            continue
        cpu = time.process_time()
        moved = relaxed_model(step.data)
        start = mo.Basis(variable_status={v: var_status.get(v.name, B.AT_LOWER_BOUND) for v in moved.model.variables()},
                         constraint_status={c: row_status.get(c.name, B.BASIC) for c in moved.model.linear_constraints()})
        r = mo.solve(moved.model, mo.SolverType.GLOP, params=mo.SolveParameters(lp_algorithm=mo.LPAlgorithm.PRIMAL_SIMPLEX),
                     model_params=mo.ModelSolveParameters(initial_basis=start))
        after = float(r.objective_value()) * moved.scale.money if r.termination.reason == mo.TerminationReason.OPTIMAL else None
        saving = None if after is None else (out["before"] - after) / d.weeks
        out["steps"].append({"kind": step.kind, "name": step.name, "after": after, "saving_per_week": saving,
                             "price": None if saving is None else saving / step.size, "iterations": int(r.solve_stats.simplex_iterations),
                             "new_columns": moved.model.get_num_variables() - len(var_status),
                             "new_rows": moved.model.get_num_linear_constraints() - len(row_status),
                             "cpu_seconds": time.process_time() - cpu})
    return out


def _rel(a, b) -> float | None:
    if a is None or b is None:
        return None
    return abs(a - b) / max(abs(b), 1.0)


def run(case: str, variants=("cold", "glop")) -> dict:
    from capplan.demo import build_demo_workspace
    from capplan.inputs import load_workspace
    from capplan.optimize import solve_plan
    from capplan.optimize.data import prepare
    from capplan.optimize.rule_prices import price_rules
    from plan import make_requirements

    size, settings = CASES[case]
    with tempfile.TemporaryDirectory() as tmp:
        build_demo_workspace(Path(tmp) / size, size=size)
        ws = load_workspace(Path(tmp) / size)
        ws.config.solver.time_limit_s = 300.0
        ws.config.solver.price_rules = True
        for (section, key), value in settings.items():
            setattr(getattr(ws.config, section), key, value)
        req, _ = make_requirements(ws)
        t0, c0 = time.perf_counter(), time.process_time()
        r = solve_plan(ws, req, with_baseline=False)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        s = r.solve
        rows = r.binding[r.binding["kind"].isin(["overtime_cap", "quality_floor"])]
        new = s.get("rule_prices", [])
        compared = {}
        if len(rows) and "cold" in variants:
            d = prepare(ws, req)
            _, cold = price_rules(d, rows, ws.config.solver, before=s["phases"]["relaxation_objective"],
                                  deadline=time.perf_counter() + 1800, certify=False)
            compared["cold"] = cold
        if len(rows) and "glop" in variants:
            compared["glop"] = glop_warm(prepare(ws, req), rows, time.perf_counter() + 1800)
    cold = {(x["kind"], x["name"]): x for x in compared.get("cold", [])}
    side = []
    for x in new:
        key = (x["kind"], x["name"])
        row = {"kind": x["kind"], "name": x["name"], "method": x["method"], "price_new": x["price"], "cpu_new": x["cpu_seconds"]}
        if key in cold:
            row.update(price_cold=cold[key]["price"], cpu_cold=cold[key]["cpu_seconds"], rel_diff_new=_rel(x["price"], cold[key]["price"]))
        for g in compared.get("glop", {}).get("steps", []):
            if (g["kind"], g["name"]) == key:
                row.update(price_glop=g["price"], cpu_glop=g["cpu_seconds"], glop_iterations=g["iterations"],
                           rel_diff_glop=_rel(g["price"], cold.get(key, {}).get("price")))
        side.append(row)
    return {"case": case, "size": size, "settings": {f"{a}.{b}": v for (a, b), v in settings.items()}, "status": s["status"],
            "plan_wall_seconds": wall, "plan_cpu_seconds": cpu, "solve_seconds": s["seconds"], "build_seconds": s["build_seconds"],
            "relaxation_seconds": s["phases"].get("relaxation_seconds"), "variables": s["variables"], "gap": s["gap"],
            "rule_price_seconds": s.get("rule_price_seconds"), "re_solves": new, "side_by_side": side,
            "cold": compared.get("cold"), "glop": compared.get("glop"), "rows": rows.to_dict("records"), "checks": r.checks}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=["default", "default_floor"], choices=sorted(CASES))
    ap.add_argument("--variants", nargs="*", default=["cold", "glop"], choices=["cold", "glop"])
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "rule_prices_warm.json"))
    args = ap.parse_args(argv)
    out = []
    for case in args.cases:
        row = run(case, args.variants)
        out.append(row)
        resolves = row["re_solves"]
        print(f"{case:14s} {row['status']:8s} plan {row['plan_wall_seconds']:6.1f} s wall {row['plan_cpu_seconds']:6.1f} s CPU "
              f"(solve {row['solve_seconds']:.1f} s, relaxation {row['relaxation_seconds'] or 0:.1f} s, {row['variables']:,} variables); "
              f"{len(resolves)} limits priced {sum(x['seconds'] for x in resolves):.1f} s wall "
              f"{sum(x['cpu_seconds'] for x in resolves):.1f} s CPU", flush=True)
        for b in row["rows"]:
            print(f"    {b['kind']:14s} {b['name']:12s} {b['shadow_price']:>12,.2f}  {b['shadow_unit']}", flush=True)
        if row["glop"]:
            print(f"    glop: basis (barrier + crossover) {row['glop']['basis_cpu_seconds']:.1f} s CPU", flush=True)
        for x in row["side_by_side"]:
            print("    " + "  ".join(f"{k} {v:,.6g}" if isinstance(v, float) else f"{k} {v}" for k, v in x.items()), flush=True)
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"runs": out}, indent=2, default=str))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
