"""What binding.csv's prices cost and say in the risk modes, on one demo week.

Usage::

    PYTHONPATH=src python3 bench/risk_prices.py WORKSPACE [--scenarios 10] [--out bench/results/risk_prices.json]

``WORKSPACE`` is a demo workspace with a forecast run made by this version (``backtest_errors.parquet``), e.g. the small
demo (``capplan demo /tmp/d --size small --seed 7``, ``capplan forecast /tmp/d``). In one process, side by side:

* ``checked``: the P50 plan (``solve_plan``) and the checked plan (``plan_for_risk`` with ``risk = "checked"``, the
  replay judge): CPU seconds of each and the prices of the limits both list (equal when nothing is lifted: the checked
  plan's prices are its own deterministic model's).
* ``scenarios``: the two-stage model's LP relaxation (``build_two_stage`` at ``--scenarios``, staffing continuous)
  solved without and with its duals read (``stochastic._lp``): the CPU the prices add. Beside it the alternative
  not adopted, the mean forecast's deterministic relaxation (one extra relaxation), its CPU and its headcount and vendor
  prices against the two-stage relaxation's: they price another model's limits.

CPU seconds (``time.process_time``: all threads of this process) on the shared machine; wall seconds beside them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed(f):
    t, cpu = time.perf_counter(), time.process_time()
    out = f()
    return out, {"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - cpu}


def _prices(binding) -> dict:
    return {f"{k}:{n}": (None if p != p else float(p)) for k, n, p in zip(binding["kind"], binding["name"], binding["shadow_price"])}


def _staff_prices(d, duals: dict) -> dict:
    """headcount and vendor hours rows' prices [currency / week per unit] from a dual dict (as extract.shadow_prices)."""
    out = {}
    for name, v in sorted(duals.items()):
        if name.startswith(("headcount[", "vendor_max[", "vendor_min[")):
            out[name] = abs(v) / d.weeks
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--scenarios", type=int, default=10)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "risk_prices.json")
    args = ap.parse_args()

    import pandas as pd

    from capplan.inputs import load_workspace
    from capplan.judge import plan_for_risk
    from capplan.optimize import solve_plan
    from capplan.optimize.data import prepare
    from capplan.optimize.rule_prices import _solve_relaxation, relaxed_model
    from capplan.optimize.stochastic import _demands, _lp, build_two_stage, cell_targets, discarded, draw_scenarios
    from capplan.runs import resolve_run
    from capplan.staffing.requirements import compute_requirements

    ws = load_workspace(args.workspace)
    fc_dir = resolve_run(args.workspace / "forecasts", None, "forecast", required=("forecast.parquet",))
    forecast = pd.read_parquet(fc_dir / "forecast.parquet")
    errors = pd.read_parquet(fc_dir / "backtest_errors.parquet")
    req = compute_requirements(forecast, ws, 50)
    out: dict = {"workspace": str(args.workspace), "scenarios": args.scenarios}

    p50, out["p50_plan"] = _timed(lambda: solve_plan(ws, req, with_baseline=False))
    ws.config.staffing.risk = "checked"
    checked, out["checked_plan"] = _timed(lambda: plan_for_risk(ws, req, forecast, errors))
    a, b = _prices(p50.binding), _prices(checked.binding)
    common = sorted(set(a) & set(b))
    out["checked_lift_hours"] = sum(c["lift_hours"] for c in checked.solve["risk"]["lifted_cells"])
    out["checked_rule_price_seconds"] = checked.solve.get("rule_price_seconds", 0.0)
    out["prices_both_list"] = {k: {"p50": a[k], "checked": b[k]} for k in common}
    out["max_abs_difference"] = max((abs(a[k] - b[k]) for k in common if a[k] is not None and b[k] is not None), default=None)
    out["only_p50_lists"], out["only_checked_lists"] = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    out["checked_units"] = sorted(set(checked.binding["shadow_unit"].astype(str)))

    d = prepare(ws, req)
    demands = _demands(ws, d, draw_scenarios(forecast, errors, ws.config, args.scenarios))
    target = cell_targets(ws, d)
    drop = discarded(demands, float(ws.config.staffing.target_probability))
    two, out["two_stage_build"] = _timed(lambda: build_two_stage(d, demands, target, drop, str(ws.config.staffing.scenario_pricing)))
    for v in two.master.staff_vars:
        v.integer = False
    deadline = time.perf_counter() + 3600
    _, out["two_stage_relaxation_no_duals"] = _timed(lambda: _lp(two.master, deadline))
    duals: dict = {}
    _, out["two_stage_relaxation_with_duals"] = _timed(lambda: _lp(two.master, deadline, duals))
    out["two_stage_dual_rows"] = len(duals)
    mean, out["mean_deterministic_relaxation"] = _timed(lambda: _solve_relaxation(relaxed_model(d), deadline, "highs", duals=True))
    two_prices, mean_prices = _staff_prices(d, duals), _staff_prices(d, mean.duals)
    out["staff_row_prices"] = {k: {"two_stage": two_prices.get(k, 0.0), "mean_deterministic": mean_prices.get(k, 0.0)}
                               for k in sorted(set(two_prices) | set(mean_prices))}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, default=float) + "\n")
    print(json.dumps(out, indent=2, default=float))


if __name__ == "__main__":
    main()
