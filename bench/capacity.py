"""Benchmark ``capplan capacity`` on the demo workspaces.

Usage::

    PYTHONPATH=src python3 bench/capacity.py [--sizes small default] [--weeks 26 52] [--out bench/results/capacity.json]

For each size: build the demo workspace (``capplan demo --no-run``: the capacity plan needs no forecast
run), then for each plan length run ``run_capacity_stage`` in a child process and record wall time, CPU
time, peak memory (ru_maxrss of the child), the stage timings from run.json, the model size, solver
status and proven gap, and the machine's 1-minute load average (the machine is shared: CPU time is the
figure that does not depend on the other users). Prints a table and writes the JSON. Target (issue 16): 52 weeks on the default
demo in at most 60 s on 2 cores at a proven gap of at most 1 %.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _child(workspace: str, weeks: int, queue) -> None:
    from capplan.pipeline.capacity import run_capacity_stage

    wall, cpu = time.perf_counter(), time.process_time()
    run = run_capacity_stage(Path(workspace), weeks=weeks)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    meta = json.loads((run.folder / "run.json").read_text())
    queue.put({"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
               "timings_s": meta["timings_s"], "solve": run.solve, "hires": int(run.hires_by_site["hires"].sum()),
               "plan_cost": round(run.plan_cost), "budget": None if run.budget is None else round(run.budget),
               "shortfall_hours": round(run.shortfall_hours, 1), "transfers": int(run.solve.get("transfers", 0)),
               "weekly_models": run.solve.get("weekly_models", {})})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["small", "default"])
    parser.add_argument("--weeks", nargs="+", type=int, default=[26, 52])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "capacity.json"))
    args = parser.parse_args()
    from capplan.demo import build_demo_workspace

    results = []
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            ws = build_demo_workspace(Path(tmp) / size, size=size)
            for weeks in args.weeks:
                queue = ctx.Queue()
                proc = ctx.Process(target=_child, args=(str(ws), weeks, queue))
                proc.start()
                row = queue.get()
                proc.join()
                row.update(size=size, weeks=weeks, load_average_1min=round(os.getloadavg()[0], 1))
                row["goal_met"] = bool(row["wall_s"] <= 60 and row["solve"]["gap"] <= 0.01) if (size, weeks) == ("default", 52) else None
                results.append(row)
                s = row["solve"]
                print(f"{size:8s} {weeks:3d} weeks: wall {row['wall_s']:6.1f} s (cpu {row['cpu_s']:5.1f} s), solve {s['seconds']:5.1f} s, "
                      f"{s['status']} gap {s['gap']:.2%}, {s['variables']:,} vars ({s['integer_variables']} integer), "
                      f"peak {row['peak_mb']} MB, hires {row['hires']}, transfers {row['transfers']}, shortfall {row['shortfall_hours']:,.0f} h, "
                      f"load average {row['load_average_1min']}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"machine": "shared 2-core", "runs": results}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
