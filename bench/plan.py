"""Benchmark the optimizer on the demo workspaces (default and large).

Usage::

    PYTHONPATH=src python3 bench/plan.py [--sizes default large] [--backends highs scip] [--out bench/results/plan.json]

For each size: build the demo workspace, make requirements for the planning week (with
``capplan.staffing.requirements.compute_requirements`` when it exists, fed a seasonal-naive
forecast = the last history week; otherwise the same maths inline: Erlang C/A for realtime cells
via ``capplan.staffing.erlang.required_agents``, workload / (h x utilisation) for deferred), solve,
and report time, gap, model size, peak memory (ru_maxrss of a child process per run), optimizer
vs baseline cost and coverage (the baseline is a competent planner's method, ``optimize/baseline.py``).
Prints a table and writes ``bench/results/plan.json``. Wall times depend on the machine's load (the 60 s
time limit is wall-clock): compare ``cpu_seconds`` between runs on a shared machine.
Targets: default size in <= 60 s at gap <= 1 %, large size in <= 300 s.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def naive_forecast(ws) -> pd.DataFrame:
    """Seasonal-naive forecast for the planning window: the last history week, moved forward."""
    start, _, _ = _window(ws)
    hist = ws.history
    last = hist["interval_start"].max().floor("D") + pd.Timedelta(days=1)
    week = hist[hist["interval_start"] >= last - pd.Timedelta(days=7)].copy()
    shift = start - (last - pd.Timedelta(days=7))
    k = int(np.ceil(ws.config.planning.plan_days / 7))
    parts = []
    for i in range(k):
        w = week.copy()
        w["interval_start"] = w["interval_start"] + shift + pd.Timedelta(days=7 * i)
        parts.append(w)
    fc = pd.concat(parts, ignore_index=True)[["queue", "language", "interval_start", "volume"]]
    fc["model"] = "seasonal_naive"
    for lv in ws.config.forecast.levels:
        fc[f"volume_lo_{lv}"] = fc["volume"]
        fc[f"volume_hi_{lv}"] = fc["volume"]
    return fc


def _window(ws):
    from capplan.optimize.data import plan_window

    return plan_window(ws.config)


def inline_requirements(ws, forecast: pd.DataFrame) -> pd.DataFrame:
    from capplan.schema import REQUIREMENTS_COLUMNS
    from capplan.staffing.erlang import required_agents

    cfg = ws.config
    h = cfg.planning.interval_minutes / 60.0
    f = forecast.merge(ws.handle_times, on=["queue", "language"]).merge(ws.queues, on="queue")
    f["workload_hours"] = f["volume"] * f["aht_s"] / 3600.0
    rt = f["kind"] == "realtime"
    req = np.where(rt, 0.0, f["workload_hours"] / (h * cfg.staffing.deferred_max_utilisation))
    if rt.any():
        g = f[rt]
        res = required_agents(g["volume"].to_numpy(float), h * 3600, g["aht_s"].to_numpy(float), g["target"].to_numpy(float),
                              g["within_s"].to_numpy(float), patience_s=g["patience_s"].fillna(np.inf).to_numpy(float),
                              max_occupancy=cfg.staffing.max_occupancy, fractional=True)
        req[rt.to_numpy()] = res.agents
    f["required_productive"] = req
    f["method"] = np.where(rt, np.where(f["patience_s"].notna(), "erlang_a", "erlang_c"), "backlog")
    f["service_level"] = f["target"]
    f["shrinkage"] = [cfg.staffing.shrinkage_by_site.get("", cfg.staffing.shrinkage)] * len(f)
    f["required_paid"] = f["required_productive"] / (1 - f["shrinkage"])
    return f[REQUIREMENTS_COLUMNS].sort_values(["queue", "language", "interval_start"]).reset_index(drop=True)


def make_requirements(ws) -> tuple[pd.DataFrame, str]:
    forecast = naive_forecast(ws)
    try:
        from capplan.staffing.requirements import compute_requirements
    except ImportError:
        return inline_requirements(ws, forecast), "inline (capplan.staffing.requirements missing)"
    return compute_requirements(forecast, ws, 50), "capplan.staffing.requirements.compute_requirements"


def run_one(size: str, backend: str, time_limit: float, queue, settings=()) -> None:
    try:
        _run_one(size, backend, time_limit, queue, settings)
    except BaseException as exc:  # report, never hang the parent
        import traceback

        queue.put({"size": size, "backend": backend, "error": "".join(traceback.format_exception(exc))})


def _apply(config, settings) -> None:
    """``section.key=value`` overrides (values parsed as JSON, else kept as text), e.g. contracts.min_pair_weekly_hours=0."""
    for item in settings:
        key, value = item.split("=", 1)
        section, name = key.split(".", 1)
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        setattr(getattr(config, section), name, parsed)


def _run_one(size: str, backend: str, time_limit: float, queue, settings=()) -> None:
    from capplan.demo import build_demo_workspace
    from capplan.inputs import load_workspace

    with tempfile.TemporaryDirectory() as tmp:  # kept while planning: the optional inputs/roster.csv is read then
        build_demo_workspace(Path(tmp) / size, size=size)
        ws = load_workspace(Path(tmp) / size)
        _solve_and_report(ws, size, backend, time_limit, queue, settings)


def _solve_and_report(ws, size: str, backend: str, time_limit: float, queue, settings) -> None:
    from capplan.optimize import solve_plan

    ws.config.solver.backend = backend
    ws.config.solver.time_limit_s = time_limit
    _apply(ws.config, settings)
    req, source = make_requirements(ws)
    t0, c0 = time.perf_counter(), time.process_time()
    result = solve_plan(ws, req)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = result.solve
    row = {
        "size": size, "backend": backend, "settings": list(settings), "requirements": source, "status": s["status"], "wall_seconds": wall,
        "solve_seconds": s["seconds"], "build_seconds": s["build_seconds"], "gap": s["gap"], "objective": s["objective"],
        "bound": s["bound"], "variables": s["variables"], "integer_variables": s["integer_variables"],
        "constraints": s["constraints"], "cells": int(req[["queue", "language"]].drop_duplicates().shape[0]),
        "pools": int(len(ws.pools)), "intervals": s["intervals"], "cost": s["cost"], "total_cost": s["total_cost"],
        "baseline_cost": s["baseline_cost"], "savings_vs_baseline": s["savings_vs_baseline"], "unmet_hours": s["unmet_hours"],
        "baseline_unmet_hours": s["baseline_unmet_hours"], "moderators": s["moderators"], "baseline_moderators": s["baseline_moderators"],
        "baseline_penalty": s.get("baseline_penalty"), "baseline_checks": s.get("baseline_checks"),
        "baseline_cost_ratio": s["baseline_cost"] / s["total_cost"] if s["total_cost"] else None,
        "cpu_seconds": cpu,
        "penalty": s["penalty"], "take_or_pay": s["take_or_pay"], "checks": result.checks, "method": s["method"], "phases": s["phases"],
        "binding": result.binding.to_dict("records")[:20],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    queue.put(row)


def _gap_text(row: dict) -> str:
    """The proven gap, or why there is none: a fallback plan without a bound (or with the baseline's own dispatch) has no gap."""
    if row.get("gap") is not None:
        return f"{row['gap']:.3%}"
    return "- (no bound)" if row.get("bound") is None else "- (not computed)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["default", "large"])
    ap.add_argument("--backends", nargs="+", default=["highs"])
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "plan.json"))
    ap.add_argument("--time-limit", type=float, default=None, help="solver wall-clock limit [s] for every size (default 60 s, 300 s large); "
                    "raise it on a loaded machine and compare cpu_seconds")
    ap.add_argument("--set", nargs="*", default=[], dest="settings", help="config overrides section.key=value, e.g. contracts.min_pair_weekly_hours=0")
    args = ap.parse_args(argv)
    limits = {"small": 60.0, "default": 60.0, "large": 300.0}
    rows = []
    ctx = mp.get_context("spawn")
    for size in args.sizes:
        for backend in args.backends:
            q = ctx.Queue()
            p = ctx.Process(target=run_one, args=(size, backend, args.time_limit or limits[size], q, tuple(args.settings)))
            p.start()
            row = q.get()
            p.join()
            rows.append(row)
            if "error" in row:
                print(f"{size:8s} {backend:6s} FAILED\n{row['error']}", flush=True)
                continue
            print(f"{size:8s} {backend:6s} {row['status']:20s} solve {row['solve_seconds']:7.1f} s  wall {row['wall_seconds']:7.1f} s  "
                  f"gap {_gap_text(row)}  vars {row['variables']} (int {row['integer_variables']})  cons {row['constraints']}  "
                  f"rss {row['peak_rss_mb']:.0f} MB  cost {row['total_cost']:,.0f} vs baseline {row['baseline_cost']:,.0f} "
                  f"({row['savings_vs_baseline']:.1%} cheaper)  unmet {row['unmet_hours']:.1f} h vs baseline {row['baseline_unmet_hours']:.1f} h  "
                  f"checks {'ok' if not row['checks'] else row['checks']}", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"runs": rows, "targets": {"default_s": 60, "default_gap": 0.01, "large_s": 300}}, indent=2, default=str))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
