"""``capplan forecast``: read and validate the workspace, forecast every cell, write ``forecasts/<run-id>/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capplan import __version__
from capplan.inputs import Workspace, load_workspace
from capplan.pipeline.common import FORECASTS, Progress, input_files, no_progress, now_utc, provenance, write_table
from capplan.runs import check_writable, run_folder, write_json
from capplan.report.csvsafe import write_csv
from capplan.runs import run_folder, write_json
from capplan.schema import FORECAST_COLUMNS, LANGUAGE, QUEUE, require_columns
from capplan.timing import StageTimer


@dataclass
class ForecastRun:
    """What a forecast run wrote: its id and folder, size, the per-model summary and warnings."""

    run_id: str
    folder: Path
    cells: int
    rows: int
    summary: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    scenario: str | None = None  # the scenarios/<name>.toml applied, if any


def run_forecast_stage(workspace: Path, *, engine: str | None = None, dask_address: str | None = None,
                       progress: Progress = no_progress, scenario: str | None = None) -> ForecastRun:
    """Forecast the workspace's history over the planning horizon into a new forecast run folder.

    ``scenario`` names ``scenarios/<name>.toml``: its [forecast] keys and volume changes apply (:mod:`capplan.scenarios`)."""
    timer = StageTimer(progress)
    with timer.stage("reading inputs"):
        ws = load_workspace(workspace)
        check_writable(Path(workspace) / FORECASTS)  # a read-only or full workspace fails before the computing
        what_if = None
        if scenario is not None:
            from capplan.scenarios import what_if as load_what_if

            what_if = load_what_if(workspace, scenario, ws, for_plan=False)
            ws = what_if.workspace
    from capplan.forecast.run import run_forecast  # heavy import only once the inputs are valid

    result = run_forecast(ws.history, ws.events, ws.config, progress=progress, engine=engine, dask_address=dask_address,
                          handle_times=ws.handle_times)
    timer.merge(result.timings, prefix="forecast.")
    if what_if is not None:
        result.forecast = what_if.adjust(result.forecast)
    with run_folder(Path(workspace) / FORECASTS) as (tmp, run_id), timer.stage("writing forecast"):
        require_columns(result.forecast, FORECAST_COLUMNS, "forecast")
        write_table(result.forecast, tmp, "forecast")
        write_csv(result.backtest, tmp / "backtest.csv")
        if len(result.backtest_errors):  # the scenarios of [staffing] risk = "scenarios" are drawn from these
            write_table(result.backtest_errors, tmp, "backtest_errors")
        if len(result.fallbacks):
            write_csv(result.fallbacks, tmp / "fallbacks.csv")
        if len(result.aht):  # the handle-time forecast per cell (capplan.forecast.aht)
            write_csv(result.aht, tmp / "aht.csv")
        if len(result.time_zones):  # each language's clock: configured or detected (capplan.forecast.localtime)
            write_csv(result.time_zones, tmp / "time_zones.csv")
        _forecast_charts(result, tmp)
        timer.tick(0.5)
        inputs = input_files(ws)
        _forecast_workbook(result, ws, tmp, run_id, inputs)
        write_json(tmp / "run.json", provenance(ws, inputs, timer.timings, {
            "run_id": run_id, "kind": "forecast", "engine": engine or ws.config.forecast.engine,
            "warnings_forecast": result.warnings, "summary": result.summary.to_dict("records"),
            "time_zones": _zones_record(result.time_zones),
            **(what_if.record if what_if else {})}))
    cells = result.forecast[[QUEUE, LANGUAGE]].drop_duplicates().shape[0]
    return ForecastRun(run_id=run_id, folder=Path(workspace) / FORECASTS / run_id, cells=cells,
                       rows=len(result.forecast), summary=result.summary, warnings=list(result.warnings) + (
                           [f"forecasts/latest now names this forecast made with scenario {scenario}: plan the base with "
                            "'capplan plan --forecast <a forecast run made without a scenario>'"] if scenario else []),
                       scenario=scenario)


def _zones_record(clock: pd.DataFrame) -> dict[str, str]:
    """Language -> the zone its history was modelled on (configured or detected); UTC languages left out."""
    if not len(clock):
        return {}
    used = clock[clock["zone"].astype(str) != ""]
    return {str(lang): f"{zone} ({source})" for lang, zone, source in zip(used[LANGUAGE], used["zone"], used["source"])}


def _forecast_charts(result, folder: Path) -> None:
    from capplan.forecast.charts import write_charts

    write_charts(result.recent_history, result.forecast, folder)


def _forecast_workbook(result, ws: Workspace, folder: Path, run_id: str, inputs: list[dict]) -> None:
    from capplan.report import write_forecast_workbook

    info = {"run_id": run_id, "capplan_version": __version__, "workspace": str(ws.root),
            "created_utc": now_utc(), "inputs": inputs}
    write_forecast_workbook(folder / "forecast.xlsx", result.forecast, result.backtest, ws.history, info,
                            accuracy=_past_accuracy(ws))


def _past_accuracy(ws: Workspace):
    """The newest ``capplan accuracy`` run's tables, when there is one, for the Accuracy sheet of forecast.xlsx."""
    from capplan.pipeline.accuracy import latest_accuracy

    found = latest_accuracy(ws.root)
    if found is None:
        return None
    from capplan.report.accuracy_xlsx import PastAccuracy

    return PastAccuracy(source=found[0], by_run=found[1], by_cell=found[2])
