"""capplan accuracy: past forecast runs vs the actuals now in history (hand-checked numbers, CLI, workbook sheet)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from _cli import capplan
from _ws import START, make_workspace
from capplan.evaluate.accuracy import Snapshot, compare_snapshot, forecast_accuracy
from capplan.evaluate.metrics import errors_by, hourly

T0 = pd.Timestamp(START, tz="UTC")




def _history(values_by_hour: np.ndarray, start: pd.Timestamp) -> pd.DataFrame:
    times = pd.date_range(start, periods=len(values_by_hour), freq="h")
    return pd.DataFrame({"interval_start": times, "queue": "video", "language": "en", "volume": values_by_hour})


def test_errors_by_hand():
    frame = pd.DataFrame({"queue": ["a", "a", "b"], "actual": [10.0, 20.0, 5.0], "forecast": [12.0, 15.0, 5.0]})
    out = errors_by(frame, ["queue"]).set_index("queue")
    assert out.at["a", "wape"] == pytest.approx(7 / 30)  # |2| + |-5| over 30
    assert out.at["a", "bias"] == pytest.approx(-3 / 30)
    assert out.at["b", "wape"] == 0.0
    overall = errors_by(frame, [])
    assert overall["wape"].iloc[0] == pytest.approx(7 / 35)


def test_hourly_sums_finer_history():
    frame = pd.DataFrame({"interval_start": pd.to_datetime(["2026-03-02T00:00Z", "2026-03-02T00:30Z", "2026-03-02T01:15Z"]),
                          "queue": "q", "language": "en", "volume": [1.0, 2.0, 4.0]})
    out = hourly(frame, "volume", "actual")
    assert out["actual"].tolist() == [3.0, 4.0]


def test_seasonal_naive_uses_only_history_before_the_run():
    # three weeks of history: hour h has volume h; the run starts at the beginning of week 3
    history = _history(np.arange(3 * 168, dtype=float), T0 - pd.Timedelta(weeks=2))
    start = T0
    horizon = pd.date_range(start, periods=2 * 168, freq="h")  # two weeks, only the first is in history
    forecast = pd.DataFrame({"interval_start": horizon, "queue": "video", "language": "en", "volume": 400.0, "model": "m"})
    rows = compare_snapshot(Snapshot("r1", start, forecast), hourly(history, "volume", "actual"),
                            T0 + pd.Timedelta(weeks=1))
    assert len(rows) == 168  # hours after the history's end are not compared
    # naive of hour t in the first week = actual at t - 7 days = (336 + i) - 168
    assert rows["naive"].tolist() == [168.0 + i for i in range(168)]
    assert rows["actual"].tolist() == [336.0 + i for i in range(168)]
    assert rows["lead_days"].tolist() == [i // 24 for i in range(168)]
    # second week of a run starting one week earlier: naive looks back two weeks (still before that run)
    early = Snapshot("r0", T0 - pd.Timedelta(weeks=1), forecast.assign(interval_start=horizon - pd.Timedelta(weeks=1)))
    rows0 = compare_snapshot(early, hourly(history, "volume", "actual"), T0 + pd.Timedelta(weeks=1))
    second = rows0[rows0["lead_days"] >= 7]
    assert second["naive"].tolist() == [i for i in range(168)]  # actual at t - 14 days


def test_forecast_accuracy_by_hand():
    history = _history(np.full(3 * 168, 10.0), T0 - pd.Timedelta(weeks=2))
    history.loc[history.index >= 2 * 168, "volume"] = 20.0  # the last week doubles
    week3 = pd.date_range(T0, periods=168, freq="h")
    good = pd.DataFrame({"interval_start": week3, "queue": "video", "language": "en", "volume": 18.0, "model": "m"})
    late = pd.DataFrame({"interval_start": week3 + pd.Timedelta(weeks=1), "queue": "video", "language": "en", "volume": 1.0, "model": "m"})
    tables = forecast_accuracy([Snapshot("a", T0, good), Snapshot("z", T0 + pd.Timedelta(weeks=1), late)], history)
    run = tables.by_run.set_index("run_id")
    assert tables.skipped == ["z"]
    assert run.at["a", "wape"] == pytest.approx(2 / 20)
    assert run.at["a", "bias"] == pytest.approx(-2 / 20)
    assert run.at["a", "naive_wape"] == pytest.approx(10 / 20)  # naive repeats the week before: 10
    assert run.at["a", "skill"] == pytest.approx(1 - 0.1 / 0.5)
    assert tables.by_lead_all["lead_days"].tolist() == list(range(7))
    assert tables.by_cell.at[0, "model"] == "m"
    assert tables.trend["runs"] == 1 and tables.trend["wape_slope_per_week"] is None


def test_trend_slope():
    from capplan.evaluate.accuracy import trend

    by_run = pd.DataFrame({"run_id": ["a", "b", "c"], "start": [T0, T0 + pd.Timedelta(weeks=1), T0 + pd.Timedelta(weeks=3)],
                           "wape": [0.30, 0.25, 0.15], "naive_wape": [0.2, 0.2, 0.2]})
    t = trend(by_run)
    assert t["wape_slope_per_week"] == pytest.approx(-0.05)
    assert t["naive_wape_slope_per_week"] == pytest.approx(0.0, abs=1e-12)


def _set_start(ws, day: str) -> None:
    path = ws / "capplan.toml"
    path.write_text(re.sub(r"(?m)^start = .*$", f"start = {day}", path.read_text()), encoding="utf-8")


def test_accuracy_cli_end_to_end(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    full = (ws / "inputs" / "history.csv").read_text()
    lines = full.splitlines()
    cut = (T0 - pd.Timedelta(weeks=1)).strftime("%Y-%m-%dT%H")
    # the snapshot: history cut one week early, planning start one week earlier
    (ws / "inputs" / "history.csv").write_text("\n".join([lines[0]] + [ln for ln in lines[1:] if ln[:13] < cut]) + "\n")
    _set_start(ws, (T0 - pd.Timedelta(weeks=1)).strftime("%Y-%m-%d"))

    res = capplan("accuracy", ws)
    assert res.returncode == 2 and "no forecast run" in res.stderr
    assert not (ws / "accuracy").exists()

    assert capplan("forecast", ws).returncode == 0
    first_run = ws / "forecasts" / (ws / "forecasts" / "latest").read_text().strip()
    first_workbook = (first_run / "forecast.xlsx").read_bytes()
    res = capplan("accuracy", ws)  # the history does not reach the run yet
    assert res.returncode == 2 and "overlaps the history yet" in res.stderr, res.stderr
    assert not any((ws / "accuracy").glob("2*")) if (ws / "accuracy").exists() else True

    (ws / "inputs" / "history.csv").write_text(full)
    _set_start(ws, START)
    res = capplan("accuracy", ws)
    assert res.returncode == 0, res.stderr
    assert "WAPE" in res.stdout and "trend" in res.stdout
    run_dir = ws / "accuracy" / (ws / "accuracy" / "latest").read_text().strip()
    for name in ("by_run.csv", "by_cell.csv", "by_week.csv", "by_lead.csv", "accuracy.png", "run.json", "accuracy.json", "accuracy.xlsx"):
        assert (run_dir / name).is_file(), name

    # independent check of the run's WAPE from the files themselves
    fc_dir = next(p for p in (ws / "forecasts").iterdir() if p.is_dir())
    fc = pd.read_parquet(fc_dir / "forecast.parquet")
    hist = pd.read_csv(ws / "inputs" / "history.csv", parse_dates=["interval_start"])
    joined = fc.merge(hist, on=["queue", "language", "interval_start"], suffixes=("_fc", "_act"))
    expected = (joined["volume_fc"] - joined["volume_act"]).abs().sum() / joined["volume_act"].sum()
    by_run = pd.read_csv(run_dir / "by_run.csv")
    assert by_run["wape"].iloc[0] == pytest.approx(expected)

    # the next forecast run carries the Accuracy sheet
    assert capplan("forecast", ws).returncode == 0
    latest = (ws / "forecasts" / "latest").read_text().strip()
    wb = load_workbook(ws / "forecasts" / latest / "forecast.xlsx")
    assert "Accuracy" in wb.sheetnames
    sheet = wb["Accuracy"]
    assert {"tbl_accuracy_runs", "tbl_accuracy_cells"} <= set(sheet.tables)
    header = [c.value for c in sheet[4]]
    assert "wape" in header
    assert sheet.cell(row=5, column=header.index("wape") + 1).value == pytest.approx(expected)
    assert sheet.cell(row=5, column=header.index("wape") + 1).number_format == "0.0%"
    # the accuracy run's own workbook holds the same sheet, and the finished forecast run was not touched
    own = load_workbook(run_dir / "accuracy.xlsx")
    assert own.sheetnames == ["README", "Accuracy", "By week", "By lead time", "Lead time all runs"]
    assert [c.value for c in own["Accuracy"][4]] == header
    assert own["Accuracy"].cell(row=5, column=header.index("wape") + 1).value == pytest.approx(expected)
    assert (first_run / "forecast.xlsx").read_bytes() == first_workbook
