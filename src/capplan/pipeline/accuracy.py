"""``capplan accuracy``: every past forecast run against the actuals now in history; writes ``accuracy/<run-id>/``.

Writes ``accuracy.xlsx`` in the run folder; :func:`latest_accuracy` gives the forecast command the tables of the
``Accuracy`` sheet it writes into the next ``forecast.xlsx``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capplan.errors import RunNotFoundError
from capplan.inputs import load_workspace
from capplan.pipeline.common import FORECASTS, Progress, input_files, no_progress, now_utc, provenance, write_table
from capplan.runs import LATEST, TMP_PREFIX, file_sha256, run_folder, write_json
from capplan.schema import INTERVAL_START
from capplan.timing import StageTimer

ACCURACY = "accuracy"
TABLES = ("by_run", "by_cell", "by_week", "by_lead", "by_lead_all")


@dataclass
class AccuracyRun:
    """What an accuracy run wrote: ids, the per-run table, the trend and the runs not yet comparable."""

    run_id: str
    folder: Path
    by_run: pd.DataFrame
    by_lead_all: pd.DataFrame
    trend: dict
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def forecast_runs(workspace: Path) -> list[Path]:
    """Complete forecast run folders of a workspace (those with a forecast table), sorted by id."""
    base = Path(workspace) / FORECASTS
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir()
                  if p.is_dir() and not p.name.startswith(TMP_PREFIX) and (p / "forecast.parquet").is_file())


def run_accuracy_stage(workspace: Path, *, progress: Progress = no_progress) -> AccuracyRun:
    """Compare every forecast run in ``forecasts/`` with the workspace's history.

    Raises
    ------
    RunNotFoundError
        No forecast run, or none whose horizon the history reaches yet (nothing is written).
    """
    from capplan.evaluate.accuracy import Snapshot, forecast_accuracy

    timer = StageTimer(progress)
    workspace = Path(workspace)
    with timer.stage("reading inputs"):
        ws = load_workspace(workspace)
        folders = forecast_runs(workspace)
        if not folders:
            raise RunNotFoundError(f"no forecast run in {workspace / FORECASTS}: accuracy compares past forecast runs "
                                   "with the history. Fix: run 'capplan forecast' now and 'capplan accuracy' once "
                                   "the history covers its horizon")
        snapshots = []
        for folder in folders:
            forecast = pd.read_parquet(folder / "forecast.parquet")
            start = pd.to_datetime(forecast[INTERVAL_START], utc=True).min()
            snapshots.append(Snapshot(run_id=folder.name, start=start, forecast=forecast))
    with timer.stage("comparing"):
        tables = forecast_accuracy(snapshots, ws.history)
    if tables.by_run.empty:
        end = pd.to_datetime(ws.history[INTERVAL_START], utc=True).max()
        first = min(s.start for s in snapshots)
        raise RunNotFoundError(f"none of the {len(snapshots)} forecast run(s) in {workspace / FORECASTS} overlaps the "
                               f"history yet: the history ends at {end:%Y-%m-%d %H:%M} UTC, the earliest run starts "
                               f"{first:%Y-%m-%d %H:%M} UTC. Fix: add the new arrivals to the history first")
    with run_folder(workspace / ACCURACY) as (tmp, run_id), timer.stage("writing accuracy"):
        for name in TABLES:
            write_table(getattr(tables, name), tmp, name, csv=True)
        from capplan.evaluate.charts import accuracy_chart

        accuracy_chart(tables, tmp / "accuracy.png")
        runs = [{"run_id": f.name, "sha256": file_sha256(f / "forecast.parquet")} for f in folders]
        write_json(tmp / "accuracy.json", {"trend": tables.trend, "skipped": tables.skipped,
                                           "runs": tables.by_run.to_dict("records")})
        _workbook(tmp / "accuracy.xlsx", run_id, tables)
        write_json(tmp / "run.json", provenance(ws, input_files(ws), timer.timings, {
            "run_id": run_id, "kind": ACCURACY, "forecast_runs": runs}))
    warnings = [f"{len(tables.skipped)} forecast run(s) not compared yet (the history does not reach their horizon): "
                + ", ".join(tables.skipped)] if tables.skipped else []
    return AccuracyRun(run_id=run_id, folder=workspace / ACCURACY / run_id, by_run=tables.by_run,
                       by_lead_all=tables.by_lead_all, trend=tables.trend, skipped=tables.skipped, warnings=warnings)


def _workbook(path: Path, run_id: str, tables) -> None:
    """``accuracy.xlsx`` of this run (its own file: a finished forecast run's workbook is never reopened)."""
    from capplan import __version__
    from capplan.report.accuracy_xlsx import PastAccuracy, write_accuracy_workbook

    facts = [("run_id", run_id), ("created_utc", now_utc()), ("capplan_version", __version__),
             *((f"trend {k}", v) for k, v in tables.trend.items()),
             ("not compared yet", ", ".join(tables.skipped) or "none")]
    write_accuracy_workbook(path, PastAccuracy(f"{ACCURACY}/{run_id}", tables.by_run, tables.by_cell), tables.by_week,
                            tables.by_lead, tables.by_lead_all, facts)


def latest_accuracy(workspace: Path) -> tuple[str, pd.DataFrame, pd.DataFrame] | None:
    """``(accuracy/<run-id>, by_run, by_cell)`` of the newest accuracy run, or None when there is none."""
    base = Path(workspace) / ACCURACY
    latest = base / LATEST
    if not latest.is_file():
        return None
    folder = base / latest.read_text(encoding="utf-8").strip()
    if not ((folder / "by_run.parquet").is_file() and (folder / "by_cell.parquet").is_file()):
        return None
    return (f"{ACCURACY}/{folder.name}", pd.read_parquet(folder / "by_run.parquet"),
            pd.read_parquet(folder / "by_cell.parquet"))
