"""Benchmark: time writing the evaluation, replay and scenarios workbooks from synthetic tables.

These workbooks moved from openpyxl to XlsxWriter (``capplan.report.xlsx``, issue 10). Sizes are a large
workspace's: 240 cells (10 queues x 24 languages), so

- ``evaluation.xlsx``: 2 variants x 8 weeks x 240 cells = 3,840 cell-week rows of 20 columns;
- ``replay.xlsx``: 240 cell-weeks x 12 columns (with a chart), 36 pools;
- ``scenarios.xlsx``: 20 scenarios x 14 columns (with a chart).

CPU seconds (``time.process_time``) are reported beside wall-clock seconds because the machine is shared.
Run: ``python3 bench/run_workbooks.py [label]`` with ``PYTHONPATH`` naming the capplan source to time; appends
to ``bench/results/run_workbooks.json`` under ``label`` (default ``current``).
"""

from __future__ import annotations

import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3


def _cells() -> pd.DataFrame:
    queues = [f"q{i}" for i in range(10)]
    languages = [f"l{i:02d}" for i in range(24)]
    return pd.DataFrame([(q, lang) for q in queues for lang in languages], columns=["queue", "language"])


def evaluation_tables(rng: np.random.Generator) -> tuple:
    cells = _cells()
    weeks = pd.date_range("2026-01-05", periods=8, freq="7D", tz="UTC")
    rows = [(v, w, q, lang) for v in ("A", "B") for w in weeks for q, lang in cells.itertuples(index=False)]
    cw = pd.DataFrame(rows, columns=["variant", "week", "queue", "language"])
    for c in ("items", "on_time", "abandoned", "hindsight_items", "hindsight_on_time", "cost", "hindsight_cost", "actual", "forecast"):
        cw[c] = rng.gamma(2.0, 500.0, len(cw))
    for c in ("achieved", "hindsight_achieved", "wape", "bias", "abandon_rate", "cost_vs_hindsight"):
        cw[c] = rng.uniform(-0.1, 1.0, len(cw))
    cw["met"] = cw["achieved"] > 0.5
    weeks_t = cw.groupby(["variant", "week"], as_index=False)[["items", "on_time", "cost"]].sum()
    totals = cw.groupby("variant", as_index=False)[["items", "on_time", "cost"]].sum()
    return totals, weeks_t, cw


def replay_tables(rng: np.random.Generator) -> tuple:
    cw = _cells().assign(week="2026-W02", kind="deferred", target=0.9)
    for c in ("arrived", "items", "on_time", "abandoned"):
        cw[c] = rng.integers(0, 5000, len(cw))
    cw["achieved"] = rng.uniform(0.5, 1.0, len(cw))
    cw["met"] = cw["achieved"] >= cw["target"]
    times = pd.date_range("2026-01-05", periods=168, freq="h", tz="UTC")
    pools = pd.DataFrame([(f"p{i}", t) for i in range(36) for t in times], columns=["pool", "interval_start"])
    for c in ("on_shift", "productive_hours", "busy_hours", "idle_hours", "egregious_hours"):
        pools[c] = rng.uniform(0, 20, len(pools))
    return cw, pools


def scenario_table(rng: np.random.Generator) -> pd.DataFrame:
    frame = pd.DataFrame({"scenario": ["(base)"] + [f"s{i}" for i in range(19)], "plan_run": "2026-01-05T000000"})
    for c in ("cost", "cost_change", "paid_hours", "paid_hours_change", "moderators", "moderators_change", "unmet", "unmet_change"):
        frame[c] = rng.gamma(2.0, 1000.0, len(frame))
    frame["cost_change_pct"] = rng.uniform(-0.2, 0.2, len(frame))
    frame["new_limits"] = "vendor_max_hours bpo1"
    return frame


def main(label: str) -> dict:
    import capplan
    from capplan.report.evaluation_xlsx import write_evaluation_workbook
    from capplan.report.replay_xlsx import write_replay_workbook
    from capplan.scenarios.workbook import write_summary_workbook

    rng = np.random.default_rng(1)
    totals, weeks, cw = evaluation_tables(rng)
    r_cw, r_pools = replay_tables(rng)
    scen = scenario_table(rng)
    info = {"run_id": "bench", "created_utc": "2026-01-01T00:00:00Z", "capplan_version": "bench", "inputs": []}
    jobs = {
        "evaluation.xlsx": lambda p: write_evaluation_workbook(p, totals, weeks, cw, [("run_id", "bench")], ["bench"]),
        "replay.xlsx": lambda p: write_replay_workbook(p, info=info, summary={"policy": "plan"}, cell_weeks=r_cw, pools=r_pools,
                                                       risk=None, planned=None),
        "scenarios.xlsx": lambda p: write_summary_workbook(p, scen, "USD", {"run id": "bench"}),
    }
    out = {"label": label, "capplan": str(Path(capplan.__file__).parent), "python": platform.python_version(), "workbooks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, job in jobs.items():
            walls, cpus = [], []
            for _ in range(REPEATS):
                path = Path(tmp) / name
                path.unlink(missing_ok=True)
                t0, c0 = time.perf_counter(), time.process_time()
                job(path)
                walls.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
            out["workbooks"][name] = {"seconds_min": round(min(walls), 3), "cpu_seconds_min": round(min(cpus), 3),
                                      "kilobytes": round(path.stat().st_size / 1024, 1)}
            print(f"{label:10s} {name:16s} wall {min(walls):6.3f} s  cpu {min(cpus):6.3f} s  {path.stat().st_size / 1024:7.1f} KiB")
    return out


if __name__ == "__main__":
    label = sys.argv[1] if len(sys.argv) > 1 else "current"
    result = main(label)
    target = ROOT / "bench" / "results" / "run_workbooks.json"
    saved = json.loads(target.read_text()) if target.is_file() else {}
    saved[label] = result
    target.write_text(json.dumps(saved, indent=2) + "\n")
