"""Benchmark ``capplan scenarios`` on the default demo workspace (goal: at most 3 minutes).

Usage::

    PYTHONPATH=src python3 bench/scenarios.py [--workspace DIR] [--out bench/results/scenarios.json]

It works on a temporary copy of ``--workspace`` (a default demo, ideally with a forecast run), or builds
the default demo, and first runs what ``capplan demo`` runs (forecast if missing, base plan; timed
separately, not part of the figure). ``--time-limit`` raises the solver's wall-clock safety net in that
copy (on a busy shared machine a default-size solve can exceed the 60 s default; a quiet one needs ~20 s). Then it times
``capplan.pipeline.scenarios.run_scenarios`` (the library call behind ``capplan scenarios``): every
scenario of ``scenarios/`` (the demo ships surge, vendor-cap, deflection) planned on the reused forecast
and compared with the reused base plan. Reports wall and CPU seconds, peak memory (ru_maxrss), the
machine's load average (other work on a shared machine slows the wall clock and can hit the solver's
wall-clock time limit), and per scenario the solver status and seconds, cost, headcount and unmet work.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
GOAL_S = 180.0


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def prepare(workspace: Path | None, tmp: Path, time_limit_s: float | None) -> tuple[Path, dict]:
    """A default demo workspace (a copy, when given) with a forecast and a base plan, as after 'capplan demo'."""
    from capplan.config import CONFIG_FILE, load_config, to_toml
    from capplan.demo import build_demo_workspace
    from capplan.pipeline import run_forecast_stage, run_plan_stage

    setup: dict = {}
    copy = tmp / "demo"
    if workspace is None:
        build_demo_workspace(copy, size="default")
    else:
        shutil.copytree(workspace, copy, ignore=shutil.ignore_patterns("plans", "diffs", "scenario_runs", ".tmp-*"))
    if time_limit_s is not None:  # a safety net only: a solve on a quiet machine stops on the gap long before it
        config = load_config(copy)
        config.solver.time_limit_s = time_limit_s
        (copy / CONFIG_FILE).write_text(to_toml(config), encoding="utf-8")
        setup["solver_time_limit_s"] = time_limit_s
    if not (copy / "forecasts" / "latest").exists():
        t = time.perf_counter()
        run_forecast_stage(copy)
        setup["forecast_seconds"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    base = run_plan_stage(copy)
    setup["base_plan_seconds"] = round(time.perf_counter() - t, 1)
    setup["base_plan_solver_seconds"] = round(float(base.solve.get("seconds", 0.0)), 1)
    return copy, setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=None, help="an existing default demo workspace (else one is built)")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="[solver] time_limit_s for this run (a wall-clock safety net; raise it on a busy machine)")
    parser.add_argument("--jobs", type=int, default=2, help="scenarios planned side by side (capplan scenarios --jobs)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scenarios.json")
    args = parser.parse_args()
    from capplan.pipeline.scenarios import run_scenarios

    with tempfile.TemporaryDirectory() as tmp:
        workspace, setup = prepare(args.workspace, Path(tmp), args.time_limit)
        load_before = os.getloadavg()
        cpu0, t0 = _cpu(), time.perf_counter()
        run = run_scenarios(workspace, jobs=args.jobs)
        wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
        rows = []
        for row in run.summary.to_dict("records"):
            solve = {}
            if isinstance(row.get("plan_run"), str):
                solve = json.loads((workspace / "plans" / row["plan_run"] / "solve.json").read_text())
            rows.append({"scenario": row["scenario"], "status": row.get("status"), "solver_seconds": solve.get("seconds"),
                         "cost": row.get("cost"), "cost_change": row.get("cost_change"), "moderators": row.get("moderators"),
                         "unmet_hours": row.get("unmet_hours"), "new_limits": row.get("new_limits")})
    result = {
        "what": "capplan scenarios on the default demo (base plan and forecast reused)",
        "goal_seconds": GOAL_S, "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "meets_goal": wall <= GOAL_S,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average_before": [round(x, 2) for x in load_before], "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(), "jobs": args.jobs, "base_plan_reused": run.reused_base, "stage_seconds": run.seconds, "setup": setup,
        "scenarios": rows, "warnings": run.warnings,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"capplan scenarios (default demo, {len(rows) - 1} scenarios): {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"(goal {GOAL_S:.0f} s: {'met' if wall <= GOAL_S else 'NOT met'}), load average {load_before[0]:.1f} on {os.cpu_count()} CPUs")
    for r in rows:
        print(f"  {r['scenario']:<12} {str(r['status']):<10} solver {r['solver_seconds'] or 0:6.1f} s  cost {r['cost'] or 0:>12,.0f}"
              f"  change {r['cost_change'] or 0:>+11,.0f}  moderators {r['moderators'] or 0:>6,.0f}  unmet {r['unmet_hours'] or 0:8.1f} h")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
