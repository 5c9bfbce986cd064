"""Benchmark ``capplan capability`` on the demo workspaces, and check its estimates against the generator's truth.

Usage::

    PYTHONPATH=src python3 bench/capability.py [--sizes small default] [--workspace-dir DIR] [--out bench/results/capability.json]

For each size: build the demo workspace (inputs only; a year of production records for ``default``), then run
``run_capability_stage`` in a child process and record wall time, CPU time, peak memory (ru_maxrss of the
child), the stage timings, rows and items; then compare the estimates with
:func:`capplan.demo.production_truth`: interval coverage of the AHT multiplier, QA pass and overturn rates
across pairs, mean absolute log error, the learning curves' largest error and the policy bump and half-life.
Target (issue 17): a year of records for the default demo in at most 60 s on 2 cores and 4 GB.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _child(workspace: str, queue) -> None:
    from capplan.pipeline.capability import run_capability_stage

    wall, cpu = time.perf_counter(), time.process_time()
    run = run_capability_stage(Path(workspace))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    queue.put({"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
               "timings_s": {k: round(v, 2) for k, v in run.timings.items()}, "rows": run.summary["rows"],
               "items": run.summary["items"], "pairs": run.summary["pairs"], "folder": str(run.folder)})


def _accuracy(size: str, folder: Path) -> dict:
    import numpy as np
    import pandas as pd

    from capplan.demo import demo_spec, production_truth

    truth = production_truth(demo_spec(size), 7)
    est = pd.read_parquet(folder / "estimates.parquet").merge(truth.pairs, on=["pool", "queue", "language"], suffixes=("", "_true"))
    inside = lambda lo, v, hi: float(((est[lo] <= est[v]) & (est[v] <= est[hi])).mean())  # noqa: E731
    learning = pd.read_parquet(folder / "learning_curve.parquet")
    err = max(float(np.max(np.abs(np.log(g["relative_multiplier"].to_numpy() / truth.learning_multiplier(s, g["tenure_weeks"])))))
              for s, g in learning.groupby("site"))
    policy = pd.read_csv(folder / "policy_changes.csv")
    return {"pairs": len(est), "aht_coverage": inside("multiplier_lo", "multiplier_true", "multiplier_hi"),
            "qa_coverage": inside("qa_pass_lo", "qa_pass", "qa_pass_hi"), "overturn_coverage": inside("overturn_lo", "overturn", "overturn_hi"),
            "aht_mean_abs_log_error": float(np.mean(np.abs(np.log(est["multiplier"] / est["multiplier_true"])))),
            "learning_max_abs_log_error": err, "policy_found": policy.to_dict(orient="records"),
            "policy_true": {"date": str(truth.policy_date), "queue": truth.policy_queue, "bump_pct": float(np.expm1(truth.policy_bump) * 100),
                            "half_life_days": truth.policy_half_life_days}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["small", "default"])
    parser.add_argument("--workspace-dir", default=None, help="keep the demo workspaces here (default: a temporary folder)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "capability.json"))
    args = parser.parse_args()
    from capplan.demo import build_demo_workspace

    results = {"target": "default demo: a year of records in <= 60 s, <= 4 GB (issue 17)", "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.workspace_dir or tmp)
        for size in args.sizes:
            ws = base / f"capability-{size}"
            if not (ws / "inputs" / "production.csv").is_file():
                build_demo_workspace(ws, size=size)
            queue = mp.get_context("spawn").Queue()
            child = mp.get_context("spawn").Process(target=_child, args=(str(ws), queue))
            child.start()
            out = queue.get()
            child.join()
            out["size"] = size
            out["production_csv_mb"] = round((ws / "inputs" / "production.csv").stat().st_size / 1e6, 1)
            out["accuracy"] = _accuracy(size, Path(out.pop("folder")))
            results["runs"].append(out)
            a = out["accuracy"]
            print(f"{size:8s} {out['rows']:>9,} rows {out['items']:>13,} items  wall {out['wall_s']:6.1f} s  cpu {out['cpu_s']:6.1f} s  "
                  f"peak {out['peak_mb']:5d} MB  coverage AHT {a['aht_coverage']:.0%} QA {a['qa_coverage']:.0%} "
                  f"overturn {a['overturn_coverage']:.0%} over {a['pairs']} pairs; learning max err {a['learning_max_abs_log_error']:.3f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
