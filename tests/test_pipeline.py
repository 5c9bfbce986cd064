"""End to end on the small demo: the data contract, determinism, interruption, shortfall handling."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from capplan.pipeline import run_demo, run_forecast_stage, run_plan_stage
from capplan.runs import LATEST, TMP_PREFIX


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("e2e") / "demo"
    run_demo(root, seed=3, size="small")
    return root


def _latest(root: Path, kind: str) -> Path:
    return root / kind / (root / kind / LATEST).read_text().strip()


def test_forecast_run_contract(demo):
    run = _latest(demo, "forecasts")
    fc = pd.read_parquet(run / "forecast.parquet")
    for col in ["queue", "language", "interval_start", "volume", "volume_lo_80", "volume_hi_80", "volume_lo_95", "volume_hi_95", "model"]:
        assert col in fc.columns
    assert str(fc["interval_start"].dt.tz) == "UTC"
    assert (fc["volume_lo_95"] <= fc["volume"] + 1e-9).all() and (fc["volume"] <= fc["volume_hi_95"] + 1e-9).all()
    assert (fc["volume_lo_95"] >= 0).all()
    bt = pd.read_csv(run / "backtest.csv")
    assert {"queue", "language", "model", "mase", "wape", "chosen"} <= set(bt.columns)
    assert (bt.groupby(["queue", "language"])["chosen"].sum() == 1).all()
    meta = json.loads((run / "run.json").read_text())
    assert {"inputs", "config", "versions", "seed", "timings_s"} <= set(meta)
    assert all(len(i["sha256"]) == 64 for i in meta["inputs"])
    assert (run / "forecast.xlsx").exists() and list(run.glob("*.png"))


def test_plan_run_contract(demo):
    run = _latest(demo, "plans")
    contract = {
        "requirements.parquet": ["queue", "language", "interval_start", "volume", "aht_s", "workload_hours", "method", "required_productive", "service_level", "required_paid"],
        "shift_plan.parquet": ["pool", "vendor", "site", "shift", "start_local", "start_utc", "paid_hours", "headcount"],
        "allocation.parquet": ["pool", "vendor", "queue", "language", "interval_start", "productive_hours"],
        "coverage.parquet": ["queue", "language", "interval_start", "required_productive", "planned_productive", "backlog", "unmet"],
    }
    for name, cols in contract.items():
        frame = pd.read_parquet(run / name)
        missing = set(cols) - set(frame.columns)
        assert not missing, f"{name} lacks {missing}"
    va = pd.read_csv(run / "vendor_allocation.csv")
    assert {"vendor", "queue", "language", "week", "hours", "items", "cost"} <= set(va.columns)
    solve = json.loads((run / "solve.json").read_text())
    assert {"status", "objective", "bound", "gap", "seconds", "cost", "baseline_cost"} <= set(solve)
    for book in ["planner.xlsx", "finance.xlsx"]:
        assert (run / book).exists()
    assert list((run / "vendors").glob("*.xlsx"))


def test_same_inputs_same_numbers(demo, tmp_path):
    """A second forecast and plan of the same workspace gives identical tables and workbook values."""
    first_fc, first_plan = _latest(demo, "forecasts"), _latest(demo, "plans")
    copy = tmp_path / "again"
    shutil.copytree(demo, copy, ignore=shutil.ignore_patterns("forecasts", "plans"))
    run_forecast_stage(copy)
    run_plan_stage(copy)
    second_fc, second_plan = _latest(copy, "forecasts"), _latest(copy, "plans")
    pd.testing.assert_frame_equal(pd.read_parquet(first_fc / "forecast.parquet"), pd.read_parquet(second_fc / "forecast.parquet"))
    for name in ["requirements", "shift_plan", "allocation", "coverage"]:
        pd.testing.assert_frame_equal(pd.read_parquet(first_plan / f"{name}.parquet"), pd.read_parquet(second_plan / f"{name}.parquet"))
    assert (first_plan / "vendor_allocation.csv").read_text() == (second_plan / "vendor_allocation.csv").read_text()
    _assert_same_workbook_values(first_plan / "finance.xlsx", second_plan / "finance.xlsx")
    _assert_same_workbook_values(first_plan / "planner.xlsx", second_plan / "planner.xlsx")


def _assert_same_workbook_values(a: Path, b: Path) -> None:
    from openpyxl import load_workbook

    wa, wb = load_workbook(a), load_workbook(b)
    assert wa.sheetnames == wb.sheetnames
    volatile = ("created", "generated", "run id", "run_id", "workspace")  # provenance differs between runs by design
    for name in wa.sheetnames:
        if name == "README":  # provenance and solve timings differ between runs by design
            continue
        rows_a = [r for r in wa[name].iter_rows(values_only=True)]
        rows_b = [r for r in wb[name].iter_rows(values_only=True)]
        assert len(rows_a) == len(rows_b), name
        for ra, rb in zip(rows_a, rows_b):
            if ra != rb and not any(isinstance(v, str) and any(k in v.lower() for k in volatile) for v in ra if v):
                assert ra == rb, f"{a.name}:{name}: {ra} != {rb}"


def _capplan(*args, env_extra=None) -> subprocess.Popen:
    env = {**os.environ, "CI": "true", **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-m", "capplan.cli.main", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)


def _runs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(TMP_PREFIX)) if folder.exists() else []


@pytest.mark.parametrize("command", ["forecast", "plan"])
def test_kill_minus_9_never_leaves_a_complete_looking_run(demo, tmp_path, command):
    """kill -9 at several points of a real run: earlier runs intact, no new run folder, latest unchanged."""
    ws = tmp_path / "ws"
    shutil.copytree(demo, ws)
    folder = ws / ("forecasts" if command == "forecast" else "plans")
    before, latest_before = _runs(folder), (folder / LATEST).read_text()
    # how long a full run takes, to spread the kills over it (reading, computing, writing)
    t0 = time.perf_counter()
    full = _capplan(command, ws)
    full.communicate(timeout=600)
    duration = time.perf_counter() - t0
    assert full.returncode == 0
    completed = _runs(folder)
    assert len(completed) == len(before) + 1
    latest_full = (folder / LATEST).read_text()
    for fraction in (0.3, 0.6, 0.85, 0.95):
        proc = _capplan(command, ws)
        time.sleep(duration * fraction)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        if proc.returncode == 0:  # finished before the kill: a complete run is fine
            completed = _runs(folder)
            latest_full = (folder / LATEST).read_text()
            continue
        assert _runs(folder) == completed, f"killed at {fraction:.0%}: a run folder appeared"
        assert (folder / LATEST).read_text() == latest_full
        for run in completed:
            assert (folder / run / "run.json").exists(), "an earlier run was damaged"
    assert latest_before != latest_full
