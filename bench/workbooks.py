"""Benchmark: time writing every plan workbook for a demo-sized plan and a 3x larger one.

Sizes (fake but consistent tables from ``tests/_report_data.py``):

- ``demo``: 80 cells (8 queues x 10 languages) x 168 hourly intervals, 12 pools, 4 BPO vendors + in-house;
- ``large_3x``: 240 cells (10 queues x 24 languages) x 168 intervals, 36 pools, 4 BPO vendors + in-house.

Budgets (issue 6): demo <= 15 s, large <= 60 s. Each size runs in its own process so the peak
resident memory (``ru_maxrss``) is that size's alone; timing is wall-clock around
``write_plan_workbooks`` only (building the fake tables is not timed).

Run: ``python3 bench/workbooks.py`` (writes ``bench/results/workbooks.json``; exit 1 if over budget).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SIZES = {
    "demo": dict(n_queues=8, n_languages=10, n_pools=12, n_vendors=4, plan_days=7, history_days=56),
    "large_3x": dict(n_queues=10, n_languages=24, n_pools=36, n_vendors=4, plan_days=7, history_days=56),
}
BUDGET_S = {"demo": 15.0, "large_3x": 60.0}


def run_one(name: str) -> dict:
    sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]
    from _report_data import make_context

    from capplan.report import write_plan_workbooks

    ctx = make_context(**SIZES[name])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        paths = write_plan_workbooks(Path(tmp), ctx)
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        sizes = {p.relative_to(tmp).as_posix(): p.stat().st_size for p in paths}
    return {
        "size": name, "cells": int(len(ctx.requirements[["queue", "language"]].drop_duplicates())),
        "intervals": int(ctx.requirements["interval_start"].nunique()), "pools": len(ctx.pools), "vendors": len(ctx.vendors),
        "requirements_rows": len(ctx.requirements), "allocation_rows": len(ctx.allocation),
        "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "budget_s": BUDGET_S[name],
        "within_budget": seconds <= BUDGET_S[name],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "files": len(sizes), "megabytes": round(sum(sizes.values()) / 2**20, 2),
    }


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2])))
        return 0
    results = []
    for name in SIZES:
        out = subprocess.run([sys.executable, __file__, "--one", name], check=True, capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(r)
        print(f"{r['size']:>9}: {r['cells']} cells x {r['intervals']} intervals, {r['pools']} pools, {r['files']} files "
              f"({r['megabytes']} MB): {r['seconds']:.1f} s wall, {r['cpu_seconds']:.1f} s CPU (budget {r['budget_s']:.0f} s), "
              f"peak RSS {r['peak_rss_mb']} MB")
    path = ROOT / "bench" / "results" / "workbooks.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    path.write_text(json.dumps({"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
                                "load_average_1min": load, "results": results}, indent=2) + "\n")
    return 0 if all(r["within_budget"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
