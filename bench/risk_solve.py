"""What the scenario model costs in time and memory against today's plan, on one demo week.

Usage::

    PYTHONPATH=src python3 bench/risk_solve.py WORKSPACE [--scenarios 10] [--out bench/results/risk_solve.json]

``WORKSPACE`` is a demo workspace with a forecast run made by this version (it needs ``backtest_errors.parquet``),
e.g. ``capplan demo /tmp/d --size default`` then ``capplan forecast /tmp/d``. Each mode runs in its own child
process, one after the other, so the peak memory (``ru_maxrss`` of the child) is the mode's own: ``quantile``
(today's P50 plan: ``solve_plan``), ``scenarios`` (``solve_risk_plan``: the two-stage model, the held-out check
and the mean allocation) and ``checked`` (``solve_checked_plan``: the P50 plan, its check, lifts and re-solves, the
held-out check and the mean allocation) and ``replayed`` (the same with ``check_judge = "replay"``: each scenario replayed). Prints and writes build and solve seconds, variables, gap, CPU seconds (``cpu_s``: the
plan call, all threads; ``process_cpu_s``: the whole child, reading included; ``workers_cpu_s``: the checked mode's
worker processes, ``--check-workers``, beside it) and peak memory (``worker_peak_rss_mb``: the largest worker's), and
``sha256``: fingerprints of the plan's tables (shift plan, allocation, coverage, risk, binding; every float to 17
digits), equal for two runs or versions exactly when the tables are. On a shared machine compare CPU seconds: wall
seconds grow with the load, CPU seconds much less.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import pandas as pd
from capplan.inputs import load_workspace
from capplan.runs import resolve_run
from capplan.staffing.requirements import compute_requirements
ws_dir, mode, scenarios, workers = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ws = load_workspace(ws_dir)
fc_dir = resolve_run(ws_dir / "forecasts", None, "forecast", required=("forecast.parquet",))
forecast = pd.read_parquet(fc_dir / "forecast.parquet")
req = compute_requirements(forecast, ws, 50)
t, cpu = time.perf_counter(), time.process_time()
if mode == "quantile":
    from capplan.optimize import solve_plan
    result = solve_plan(ws, req, with_baseline=False)
elif mode in ("checked", "replayed"):  # replayed: the checked plan judged by the replay ([staffing] check_judge)
    from capplan.judge import plan_for_risk
    ws.config.staffing.risk, ws.config.staffing.scenarios, ws.config.staffing.check_workers = "checked", scenarios, workers
    ws.config.staffing.check_judge = "replay" if mode == "replayed" else "model"
    result = plan_for_risk(ws, req, forecast, pd.read_parquet(fc_dir / "backtest_errors.parquet"))
else:
    from capplan.optimize.stochastic import solve_risk_plan
    ws.config.staffing.risk, ws.config.staffing.scenarios = "scenarios", scenarios
    result = solve_risk_plan(ws, req, forecast, pd.read_parquet(fc_dir / "backtest_errors.parquet"))
wall, cpu = time.perf_counter() - t, time.process_time() - cpu
s = result.solve
keep = ("status", "method", "gap", "seconds", "build_seconds", "variables", "constraints", "integer_variables", "total_cost", "unmet_hours", "phases")
out = {k: s.get(k) for k in keep}
usage = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the check's worker processes (reaped when the plan returns)
out.update(wall_s=wall, cpu_s=cpu, process_cpu_s=usage.ru_utime + usage.ru_stime, peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, checks=len(result.checks),
           workers_cpu_s=kids.ru_utime + kids.ru_stime, worker_peak_rss_mb=kids.ru_maxrss / 1024, check_workers=workers if mode in ("checked", "replayed") else None)
if s.get("risk"):
    out["risk"] = {k: v for k, v in s["risk"].items() if "blocks" not in k}
import hashlib  # fingerprints of the plan's tables: two versions' plans are the same plan when these are equal
def _sha(frame):
    return None if frame is None else hashlib.sha256(frame.to_csv(index=False, float_format="%.17g").encode()).hexdigest()[:16]
out["sha256"] = {name: _sha(getattr(result, name, None)) for name in ("shift_plan", "allocation", "coverage", "risk", "binding")}
print(json.dumps(out, default=str))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--scenarios", type=int, default=10)
    parser.add_argument("--modes", default="quantile,scenarios", help="comma-separated: quantile, scenarios, checked, replayed")
    parser.add_argument("--check-workers", type=int, default=2, help="checked: [staffing] check_workers (1 = every LP in the plan's process)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "risk_solve.json")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = {"workspace": str(args.workspace), "scenarios": args.scenarios, "check_workers": args.check_workers, "load_average_1m_at_start": os.getloadavg()[0],
              "cpus": os.cpu_count(), "modes": {}}
    for mode in args.modes.split(","):
        t = time.perf_counter()
        res = subprocess.run([sys.executable, "-c", CHILD, str(args.workspace), mode, str(args.scenarios), str(args.check_workers)],
                             capture_output=True, text=True, env=env)
        if res.returncode != 0:
            sys.exit(f"{mode} failed:\n{res.stderr[-3000:]}")
        result["modes"][mode] = json.loads(res.stdout.strip().splitlines()[-1])
        result["modes"][mode]["process_wall_s"] = time.perf_counter() - t
        print(mode, json.dumps(result["modes"][mode], default=str)[:600], flush=True)
    result["load_average_1m_at_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
