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
    assert solve["checks"] == [], "the independent checker found problems in the demo plan"
    for book in ["planner.xlsx", "finance.xlsx"]:
        assert (run / book).exists()
    assert list((run / "vendors").glob("*.xlsx"))
    recorded = {i["table"]: i for i in json.loads((run / "run.json").read_text())["inputs"]}
    for optional in ("budget", "roster"):  # the demo writes both; a plan reads them beside the workspace tables
        assert recorded[optional]["file"] == f"inputs/{optional}.csv" and len(recorded[optional]["sha256"]) == 64


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


def _tmp_runs(folder: Path) -> list[Path]:
    return [p for p in folder.glob(f"{TMP_PREFIX}*") if p.is_dir()] if folder.exists() else []


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 300) -> bool:
    """SIGKILL the process group as soon as ``ready()`` is true; False if the run ended first (also when it ended
    between the check and the kill: then it exited by itself, not by the signal)."""
    t0 = time.perf_counter()
    while proc.poll() is None and time.perf_counter() - t0 < timeout:
        if ready():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:  # already gone
                pass
            proc.wait(timeout=60)
            return proc.returncode == -signal.SIGKILL
        time.sleep(0.01)
    proc.wait(timeout=60)
    return False


@pytest.mark.parametrize("command", ["forecast", "plan"])
def test_kill_minus_9_never_leaves_a_complete_looking_run(demo, tmp_path, command):
    """kill -9 while computing, as writing starts and in the middle of writing (workbooks): earlier runs
    intact, no new run folder, latest unchanged; the next run cleans up and succeeds."""
    ws = tmp_path / "ws"
    shutil.copytree(demo, ws)
    folder = ws / ("forecasts" if command == "forecast" else "plans")
    before, latest_before = _runs(folder), (folder / LATEST).read_text()
    started = {}
    points = {
        # a fast machine may finish within the 4 s: a new run folder means the run is done, not computing
        "computing": lambda: time.perf_counter() - started["t"] > 4.0 and not _tmp_runs(folder) and _runs(folder) == before,
        "writing starts": lambda: bool(_tmp_runs(folder)),
        "writing workbooks": lambda: any(list(t.rglob("*.xlsx")) for t in _tmp_runs(folder)),
    }
    killed = []
    for name, ready in points.items():
        started["t"] = time.perf_counter()
        proc = _capplan(command, ws)
        if _kill_when(proc, ready):
            killed.append(name)
            assert _runs(folder) == before, f"killed while {name}: a run folder appeared"
            assert (folder / LATEST).read_text() == latest_before, f"killed while {name}: latest moved"
            for run in before:
                assert (folder / run / "run.json").exists(), "an earlier run was damaged"
        else:
            assert proc.returncode == 0
            before, latest_before = _runs(folder), (folder / LATEST).read_text()
    assert len(killed) >= 2, f"only killed at {killed}"
    # the next run removes the debris of the killed ones and completes
    proc = _capplan(command, ws)
    proc.communicate(timeout=600)
    assert proc.returncode == 0
    assert not _tmp_runs(folder)
    assert len(_runs(folder)) == len(before) + 1


def test_vendor_workbooks_of_the_demo_hold_only_their_own_data(demo):
    """Scan every part of every vendor workbook of a real demo plan for any other vendor's or in-house
    name, pool, rate or cost."""
    import zipfile

    from openpyxl import load_workbook

    from capplan.inputs import load_workspace

    run = _latest(demo, "plans")
    ws = load_workspace(demo)
    va = pd.read_csv(run / "vendor_allocation.csv")
    books = sorted((run / "vendors").glob("*.xlsx"))
    assert {b.stem for b in books} == set(ws.vendors["vendor"])
    for book in books:
        vendor = book.stem
        others = ws.pools[ws.pools["vendor"] != vendor]
        words = sorted(set(ws.vendors["vendor"]) - {vendor}) + ["inhouse"] + others["pool"].tolist()
        with zipfile.ZipFile(book) as z:
            raw = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        leaked = [w for w in words if w in raw]
        assert not leaked, f"{vendor}.xlsx mentions {leaked}"
        wb = load_workbook(book)
        numbers = {round(float(c.value), 2) for s in wb.worksheets for row in s.iter_rows() for c in row
                   if isinstance(c.value, (int, float)) and not isinstance(c.value, bool)}
        other_va = va[va["vendor"] != vendor]
        secret = {round(float(x), 2) for x in others["cost_per_hour"]} | {round(float(x), 2) for x in other_va["cost"] if x > 1}
        own = {round(float(x), 2) for x in ws.pools.loc[ws.pools["vendor"] == vendor, "cost_per_hour"]}
        # the vendor's own hourly requirement (its allocation per queue x language and interval) is theirs to see
        alloc = pd.read_parquet(run / "allocation.parquet")
        alloc = alloc[alloc["vendor"] == vendor]
        own |= {round(float(x), 2) for x in alloc.groupby(["interval_start", "queue", "language"])["productive_hours"].sum()}
        # small whole numbers (headcounts, hours, days) collide with whole-number rates by chance; rates are
        # also caught by name above (every rate is a defined name after its pool)
        clash = {x for x in (numbers & secret) - own if x >= 1000 or x != int(x)}
        assert not clash, f"{vendor}.xlsx holds other parties' rates or costs {sorted(clash)[:5]}"


def test_dsa_report_from_the_demo_plan(demo):
    """capplan report dsa: a new reports/dsa/<run-id>/ with the CSV and workbook; FTE add up to the plan's."""
    from typer.testing import CliRunner

    from capplan.cli.main import app

    res = CliRunner().invoke(app, ["report", "dsa", str(demo)])
    assert res.exit_code == 0, res.output
    folder = demo / "reports" / "dsa" / (demo / "reports" / "dsa" / "latest").read_text().strip()
    table = pd.read_csv(folder / "dsa_languages.csv")
    run = _latest(demo, "plans")
    sp = pd.read_parquet(run / "shift_plan.parquet")
    weeks = int(json.loads((run / "run.json").read_text())["config"]["planning"]["plan_days"]) / 7
    assert table["fte"].sum() == pytest.approx((sp["paid_hours"] * sp["headcount"]).sum() / (40 * weeks), rel=1e-9)
    from capplan.report.dsa import EU_LANGUAGES

    assert (table["eu_official"] == table["iso_639_1"].isin(list(EU_LANGUAGES))).all() and table["eu_official"].any()
    assert (folder / "dsa.xlsx").exists() and json.loads((folder / "run.json").read_text())["plan_run"] == run.name
    assert CliRunner().invoke(app, ["report", "dsa", str(demo), "--plan", "nope"]).exit_code == 2


def _nights(cov: pd.DataFrame, within_s: dict, start: pd.Timestamp) -> list[float]:
    """Deferred work done / work falling due, 22:00-06:00 UTC, per night of the repeating week (night 0 = Sun-Mon)."""
    from capplan.staffing.backlog import due_shift

    d = cov[cov["kind"] != "realtime"]
    t = ((pd.to_datetime(d["interval_start"], utc=True) - start).dt.total_seconds() // 3600).astype(int).to_numpy()
    done, due = [0.0] * 168, [0.0] * 168
    for i, (q, work, wl) in enumerate(zip(d["queue"], d["work_done_hours"], d["workload_hours"])):
        done[t[i]] += float(work)
        due[(t[i] + due_shift(60.0, within_s[q])) % 168] += float(wl)
    night = [[(24 * k + j) % 168 for j in range(-2, 6)] for k in range(7)]
    return [sum(done[i] for i in n) / sum(due[i] for i in n) for n in night]


def test_rolling_week_seam_looks_like_any_other_night(demo):
    """The demo opens with its inputs/backlog.csv (a terminal, rolling week): the Sunday/Monday night gets as much deferred
    work done, relative to the work falling due in it, as the other nights (before rolling weeks: 0.64 against 0.96-1.04,
    bench/rolling_seam.py)."""
    from capplan.inputs.validate import load_workspace

    run = _latest(demo, "plans")
    solve = json.loads((run / "solve.json").read_text())
    assert solve["week_end"] == "terminal" and solve["opening_backlog_hours"] > 0
    assert 0 < solve["end_backlog_hours"] < solve["opening_backlog_hours"] * 3  # bounded: of the order of the carry-in
    ws = load_workspace(demo)
    within = dict(zip(ws.queues["queue"], ws.queues["within_s"].astype(float)))
    ratio = _nights(pd.read_parquet(run / "coverage.parquet"), within, pd.Timestamp(ws.config.planning.start, tz="UTC"))
    assert min(ratio[1:]) - 0.1 <= ratio[0] <= max(ratio[1:]) + 0.1, ratio
