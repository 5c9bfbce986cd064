"""Benchmark ``capplan evaluate --weeks 4`` on the small demo (target: at most 5 minutes).

Usage::

    PYTHONPATH=src python3 bench/evaluate.py [--weeks 4] [--engine local] [--out bench/results/evaluate.json]

Builds the small demo workspace (seed 7, inputs only: evaluate needs no forecast or plan run), runs
``python -m capplan evaluate WS --weeks K --engine E`` as a child process and reports its wall time,
CPU time and peak memory (ru_maxrss of the children, the Dask workers included when they are
processes of the child), the per-stage timings from run.json and the evaluation's figures. Prints a
table and writes ``bench/results/evaluate.json`` (``evaluate_<engine>.json`` for other engines).
"""

from __future__ import annotations

import argparse
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
sys.path.insert(0, str(ROOT / "src"))
TARGET_S = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--engine", default="local", choices=["local", "dask"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or ROOT / "bench" / "results" / ("evaluate.json" if args.engine == "local" else f"evaluate_{args.engine}.json")

    from capplan.pipeline import run_demo

    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "demo"
        run_demo(ws, size="small", run=False)
        env = {**os.environ, "CI": "true", "PYTHONPATH": str(ROOT / "src")}
        cmd = [sys.executable, "-m", "capplan", "evaluate", str(ws), "--weeks", str(args.weeks), "--engine", args.engine]
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        if res.returncode != 0:
            sys.exit(f"capplan evaluate failed ({res.returncode}):\n{res.stderr}")
        run = ws / "evaluations" / (ws / "evaluations" / "latest").read_text().strip()
        run_json = json.loads((run / "run.json").read_text())
        evaluation = json.loads((run / "evaluation.json").read_text())

    totals = evaluation["totals"][0]
    result = {
        "command": " ".join(["capplan", "evaluate", "<small demo>", "--weeks", str(args.weeks), "--engine", args.engine]),
        "weeks": evaluation["weeks"], "wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "target_s": TARGET_S, "within_target": wall <= TARGET_S,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(), "python": platform.python_version(),
        "timings_s": run_json["timings_s"],
        "figures": {k: totals.get(k) for k in (
            "cell_weeks", "cell_weeks_met", "cell_weeks_met_share", "hindsight_cell_weeks_met_share", "on_time_share",
            "hindsight_on_time_share", "abandon_rate", "plan_total_cost", "hindsight_total_cost", "total_cost_vs_hindsight",
            "wape", "bias")},
        "per_week": [{k: w.get(k) for k in ("week", "cell_weeks_met", "cell_weeks", "on_time_share", "abandon_rate",
                                            "total_cost_vs_hindsight", "wape", "bias")} for w in evaluation["weeks_detail"]],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(res.stdout)
    print(f"wall {result['wall_s']} s (target <= {TARGET_S:.0f} s: {'ok' if result['within_target'] else 'MISSED'}), "
          f"CPU {result['cpu_s']} s, peak RSS {result['peak_rss_mb']} MB, load {result['load_average_1m_at_end']} on "
          f"{result['cpus']} CPUs -> {out}")


if __name__ == "__main__":
    main()
