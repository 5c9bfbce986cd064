"""``capplan replay`` end to end on the tiny workspace: the run folder, the workbook, scenarios, and bad input
(exit 2, one clear line, nothing written)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from _ws import START, make_workspace
from capplan.pipeline.replay import REPLAYS, run_replay_stage
from _cli import capplan

RATES = {("video", "en"): 40, ("video", "es"): 10, ("live", "en"): 20}  # as in _ws.history_csv


def window_actuals(days: int = 7, seed: int = 1) -> str:
    """History rows for the plan window (the week that 'actually' arrived), same shape as _ws.history_csv."""
    idx = pd.date_range(pd.Timestamp(START, tz="UTC"), periods=days * 24, freq="h")
    rng = np.random.default_rng(seed)
    rows = []
    for (q, lang), base in RATES.items():
        lam = base * (1.2 + np.sin(2 * np.pi * idx.hour / 24))
        rows += [f"{t:%Y-%m-%dT%H:%M:%SZ},{q},{lang},{v}" for t, v in zip(idx, rng.poisson(lam))]
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Path:
    """The tiny workspace, forecast and planned for the week from START (its history ends at START)."""
    from capplan.pipeline import run_forecast_stage, run_plan_stage

    root = make_workspace(tmp_path_factory.mktemp("replay") / "ws")
    run_forecast_stage(root)
    run_plan_stage(root)
    return root


@pytest.fixture
def ws(planned, tmp_path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(planned, root)
    return root


def _nothing_written(root: Path) -> bool:
    folder = root / REPLAYS
    return not folder.exists() or not any(folder.iterdir())


def test_replay_once_history_covers_the_window(ws):
    with open(ws / "inputs" / "history.csv", "a", encoding="utf-8") as fh:
        fh.write(window_actuals())
    res = capplan("replay", ws, "--policy", "plan")
    assert res.returncode == 0, res.stderr
    assert "cell-weeks met their target" in res.stdout
    run = ws / REPLAYS / (ws / REPLAYS / "latest").read_text().strip()
    for name in ("cells.parquet", "pools.parquet", "cell_weeks.parquet", "cell_weeks.csv", "replay.json", "replay.xlsx", "run.json"):
        assert (run / name).is_file(), name
    cells = pd.read_parquet(run / "cells.parquet")
    assert {"arrived", "handled", "on_time", "abandoned", "backlog", "avg_wait_s", "service_level"} <= set(cells.columns)
    assert len(cells) == 3 * 7 * 24  # every cell and interval
    assert cells["arrived"].sum() == pytest.approx(sum(int(line.rsplit(",", 1)[1]) for line in window_actuals().splitlines()))
    summary = json.loads((run / "replay.json").read_text())
    assert summary["policy"] == "plan" and summary["plan_run"] and 0 <= summary["on_time_share"] <= 1
    info = json.loads((run / "run.json").read_text())
    assert info["kind"] == "replay" and {i["table"] for i in info["inputs"]} >= {"pools", "shifts", "queues", "handle_times"}
    # the workbook's planned-vs-achieved table holds the tidy cell-weeks, with a chart
    weeks = pd.read_parquet(run / "cell_weeks.parquet")
    wb = load_workbook(run / "replay.xlsx")
    assert wb.sheetnames[:2] == ["README", "Planned vs achieved"]
    sheet = wb["Planned vs achieved"]
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    achieved = {(r[header.index("queue")], r[header.index("language")]): r[header.index("achieved")] for r in rows}
    for r in weeks.itertuples():
        assert achieved[(r.queue, r.language)] == pytest.approx(r.achieved)
    assert len(sheet._charts) == 1


def test_policies_differ_and_same_seed_same_numbers(ws, tmp_path):
    actuals = tmp_path / "actuals.csv"
    actuals.write_text("interval_start,queue,language,volume\n" + window_actuals(), encoding="utf-8")
    a = run_replay_stage(ws, arrivals_file=actuals, policy="priority", seed=4)
    b = run_replay_stage(ws, arrivals_file=actuals, policy="priority", seed=4)
    c = run_replay_stage(ws, arrivals_file=actuals, policy="plan", seed=4)
    pd.testing.assert_frame_equal(pd.read_parquet(a.folder / "cells.parquet"), pd.read_parquet(b.folder / "cells.parquet"))
    assert a.summary["on_time_share"] >= c.summary["on_time_share"]  # free routing never does worse here than the plan's split
    assert a.arrivals == str(actuals)


def test_scenarios_report_probability_of_meeting_target(ws):
    run = run_replay_stage(ws, scenarios=3, seed=2)
    risk = pd.read_csv(run.folder / "risk.csv")
    assert set(risk.columns) >= {"queue", "language", "week", "target", "paths", "p_met", "achieved_mean"}
    assert (risk["paths"] == 3).all() and risk["p_met"].between(0, 1).all()
    assert len(pd.read_csv(run.folder / "paths.csv")) == 3
    again = run_replay_stage(ws, scenarios=3, seed=2)
    pd.testing.assert_frame_equal(risk, pd.read_csv(again.folder / "risk.csv"))


# --- bad input: exit 2, one line naming what differs, nothing written ------------------------------
def test_arrivals_not_covering_the_window(ws):
    res = capplan("replay", ws)  # the history ends where the plan starts
    assert res.returncode == 2
    assert "not the plan window 2026-03-02 00:00 to 2026-03-09 00:00 UTC" in res.stderr
    assert "--arrivals" in res.stderr and "Traceback" not in res.stderr
    assert _nothing_written(ws)


def test_arrivals_file_errors_name_file_row_and_column(ws, tmp_path):
    bad = tmp_path / "actuals.csv"
    lines = window_actuals().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",lots"
    bad.write_text("interval_start,queue,language,volume\n" + "\n".join(lines) + "\n", encoding="utf-8")
    res = capplan("replay", ws, "--arrivals", bad)
    assert res.returncode == 2
    assert f"{bad}, row 3, column 'volume'" in res.stderr
    assert _nothing_written(ws)
    short = tmp_path / "short.csv"
    short.write_text("interval_start,queue,language,volume\n" + "\n".join(window_actuals(days=3).splitlines()) + "\n", encoding="utf-8")
    res = capplan("replay", ws, "--arrivals", short)
    assert res.returncode == 2 and "not the plan window" in res.stderr
    assert _nothing_written(ws)


def test_unknown_policy(ws):
    res = capplan("replay", ws, "--policy", "fastest")
    assert res.returncode == 2
    assert "unknown routing policy 'fastest'; valid policies: plan, priority, edf" in res.stderr
    assert _nothing_written(ws)


def test_plan_from_another_workspace(ws, tmp_path):
    other = make_workspace(tmp_path / "other", pools=(ws / "inputs" / "pools.csv").read_text().replace("dub-ih,inhouse,Dublin", "dub-ih,inhouse,Cork"))
    shutil.copytree(ws / "plans", other / "plans")
    res = capplan("replay", other, "--arrivals", _actuals(tmp_path))
    assert res.returncode == 2
    assert "pools changed since plan" in res.stderr
    assert _nothing_written(other)


@pytest.mark.parametrize("table,old,new", [("shifts", "day,08:00,8,30", "day,08:00,9,30"),
                                            ("pools", "mnl-b1,bpo1,Manila,Asia/Manila,video,en;es,1.2", "mnl-b1,bpo1,Manila,Asia/Manila,video,en;es,1.5")])
def test_pools_or_shifts_changed_since_the_plan(ws, tmp_path, table, old, new):
    path = ws / "inputs" / f"{table}.csv"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    res = capplan("replay", ws, "--arrivals", _actuals(tmp_path))
    assert res.returncode == 2
    assert f"{table} changed since plan" in res.stderr and f"inputs/{table}.csv" in res.stderr
    assert _nothing_written(ws)


def _actuals(tmp_path: Path) -> Path:
    path = tmp_path / "actuals.csv"
    path.write_text("interval_start,queue,language,volume\n" + window_actuals(), encoding="utf-8")
    return path


def test_replay_has_help():
    res = capplan("replay", "--help")
    assert res.returncode == 0 and "--scenarios" in res.stdout and "--policy" in res.stdout
