"""Compose the stages: inputs -> forecast -> requirements -> optimize -> report.

Each ``run_*`` function loads what it needs, runs its stage, writes one run folder atomically
(``capplan.runs.run_folder``) and returns a summary dict for the CLI (``lines``, ``tables``,
``warnings`` and figures). Nothing here prints.
"""

from __future__ import annotations

import datetime as dt
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Callable

import pandas as pd

from capplan import __version__
from capplan.config import CONFIG_FILE
from capplan.errors import ConfigError
from capplan.inputs import Workspace, load_workspace
from capplan.runs import file_sha256, resolve_run, run_folder, write_json

Progress = Callable[[str, float], None]
FORECASTS = "forecasts"
PLANS = "plans"
_LIBRARIES = ("statsforecast", "pandas", "numpy", "ortools", "openpyxl", "pydantic", "typer", "pyarrow")


def _noop(stage: str, fraction: float) -> None:
    return None


def versions() -> dict[str, str]:
    found = {"capplan": __version__, "python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def input_files(ws: Workspace) -> list[dict]:
    """Each input table's file and sha256 (hashed once per run: history files can be large)."""
    return [
        {"table": name, "file": str(path.relative_to(ws.root)) if path.is_relative_to(ws.root) else str(path),
         "sha256": file_sha256(path) if path.is_file() else None}
        for name, path in sorted(ws.sources.items())
    ]


def provenance(ws: Workspace, inputs: list[dict], timings: dict[str, float], extra: dict | None = None) -> dict:
    """What run.json records: inputs with hashes, config, versions, seed, timings."""
    config_path = ws.root / CONFIG_FILE
    payload = {
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": inputs,
        "config_file": {"file": CONFIG_FILE, "sha256": file_sha256(config_path) if config_path.exists() else None},
        "config": ws.config.model_dump(mode="json"),
        "versions": versions(),
        "seed": ws.config.forecast.seed,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "warnings": [str(w) for w in ws.warnings],
    }
    payload.update(extra or {})
    return payload


def write_table(frame: pd.DataFrame, folder: Path, name: str, csv: bool = False) -> None:
    """Parquet (and CSV when a person may open it) into a run folder being built."""
    frame.to_parquet(folder / f"{name}.parquet", index=False)
    if csv:
        frame.to_csv(folder / f"{name}.csv", index=False)


# --- init / demo ---------------------------------------------------------------------------------
def init_workspace(directory: Path) -> Path:
    from capplan.inputs.templates import write_templates

    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise ConfigError(f"{directory}: folder is not empty. Fix: choose a new folder name")
    directory.mkdir(parents=True, exist_ok=True)
    write_templates(directory)
    (directory / FORECASTS).mkdir(exist_ok=True)
    (directory / PLANS).mkdir(exist_ok=True)
    return directory


def run_demo(directory: Path, *, seed: int = 7, size: str = "default", run: bool = True, progress: Progress = _noop) -> dict:
    from capplan.demo import build_demo_workspace

    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise ConfigError(f"{directory}: folder is not empty; the demo never overwrites a workspace. Fix: pass a new folder, e.g. 'capplan demo demo2'")
    progress("building demo workspace", 0.0)
    build_demo_workspace(directory, seed=seed, size=size)
    progress("building demo workspace", 1.0)
    lines = [f"demo workspace written to {directory} (seed {seed}, size {size})"]
    summary: dict = {"lines": lines, "tables": {}, "warnings": []}
    if not run:
        return summary
    fc = run_forecast_stage(directory, progress=progress)
    pl = run_plan_stage(directory, progress=progress)
    for part in (fc, pl):
        summary["lines"] += part["lines"]
        summary["tables"].update(part["tables"])
        summary["warnings"] += part["warnings"]
    summary["unmet_hours"] = pl.get("unmet_hours", 0.0)
    return summary


# --- forecast ------------------------------------------------------------------------------------
def run_forecast_stage(workspace: Path, *, engine: str | None = None, dask_address: str | None = None, progress: Progress = _noop) -> dict:
    t0 = time.perf_counter()
    progress("reading inputs", 0.0)
    ws = load_workspace(workspace)
    from capplan.forecast.run import run_forecast  # heavy import only once the inputs are valid

    timings = {"read_inputs": time.perf_counter() - t0}
    result = run_forecast(ws.history, ws.events, ws.config, progress=progress, engine=engine, dask_address=dask_address)
    timings.update({f"forecast.{k}": v for k, v in result.timings.items()})
    t1 = time.perf_counter()
    with run_folder(Path(workspace) / FORECASTS) as (tmp, run_id):
        progress("writing forecast", 0.0)
        write_table(result.forecast, tmp, "forecast")
        result.backtest.to_csv(tmp / "backtest.csv", index=False)
        if len(result.fallbacks):
            result.fallbacks.to_csv(tmp / "fallbacks.csv", index=False)
        _forecast_charts(result, ws, tmp)
        progress("writing forecast", 0.5)
        inputs = input_files(ws)
        _forecast_workbook(result, ws, tmp, run_id, inputs)
        timings["write"] = time.perf_counter() - t1
        write_json(tmp / "run.json", provenance(ws, inputs, timings, {"run_id": run_id, "kind": "forecast",
                                                             "engine": engine or ws.config.forecast.engine,
                                                             "warnings_forecast": result.warnings,
                                                             "summary": result.summary.to_dict("records")}))
        progress("writing forecast", 1.0)
    lines = [f"forecast run {run_id}: {result.forecast[['queue', 'language']].drop_duplicates().shape[0]} cells, "
             f"{len(result.forecast):,} rows -> {Path(workspace) / FORECASTS / run_id}"]
    labels = {"model": "model", "cells": "cells", "mase": "MASE", "naive_mase": "naive MASE", "wape_pooled": "WAPE",
              "naive_wape_pooled": "naive WAPE", "beats_naive_share": "beats naive"}
    labels.update({c: c.replace("coverage_", "cover ") + "%" for c in result.summary.columns if c.startswith("coverage_")})
    table = result.summary[[c for c in labels if c in result.summary.columns]].rename(columns=labels)
    return {"run_id": run_id, "lines": lines, "tables": {"Forecast: models chosen by backtest vs the weekly seasonal naive": table},
            "warnings": list(result.warnings)}


def _forecast_charts(result, ws: Workspace, folder: Path) -> None:
    from capplan.forecast.charts import write_charts

    write_charts(result.recent_history, result.forecast, folder)


def _forecast_workbook(result, ws: Workspace, folder: Path, run_id: str, inputs: list[dict]) -> None:
    from capplan.report import write_forecast_workbook

    info = {"run_id": run_id, "capplan_version": __version__, "workspace": str(ws.root),
            "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "inputs": inputs}
    write_forecast_workbook(folder / "forecast.xlsx", result.forecast, result.backtest, ws.history, info)


# --- plan ----------------------------------------------------------------------------------------
def run_plan_stage(workspace: Path, *, forecast_run: str | None = None, quantile: int | None = None, progress: Progress = _noop) -> dict:
    t0 = time.perf_counter()
    workspace = Path(workspace)
    progress("reading inputs", 0.0)
    ws = load_workspace(workspace)
    fc_dir = resolve_run(workspace / FORECASTS, forecast_run, "forecast")
    from capplan.optimize import solve_plan  # heavy imports only once the inputs are valid
    from capplan.staffing.requirements import compute_requirements

    forecast = pd.read_parquet(fc_dir / "forecast.parquet")
    _check_forecast_covers_plan(forecast, ws, fc_dir)
    quantile = quantile or ws.config.staffing.quantile
    if quantile not in (50, 80, 90, 95):
        raise ConfigError(f"--quantile must be 50, 80, 90 or 95, got {quantile}")
    timings = {"read_inputs": time.perf_counter() - t0}
    t = time.perf_counter()
    progress("requirements", 0.0)
    requirements = compute_requirements(forecast, ws, quantile)
    progress("requirements", 1.0)
    timings["requirements"] = time.perf_counter() - t
    t = time.perf_counter()
    result = solve_plan(ws, requirements, progress=progress)
    timings["optimize"] = time.perf_counter() - t
    p50 = None
    if quantile != 50:
        p50_req = compute_requirements(forecast, ws, 50)
        p50 = solve_plan(ws, p50_req, with_baseline=False)  # only its cost is compared
    t = time.perf_counter()
    with run_folder(workspace / PLANS) as (tmp, run_id):
        progress("writing plan", 0.0)
        write_table(requirements, tmp, "requirements", csv=True)
        write_table(result.shift_plan, tmp, "shift_plan", csv=True)
        write_table(result.allocation, tmp, "allocation")
        write_table(result.coverage, tmp, "coverage")
        result.vendor_allocation.to_csv(tmp / "vendor_allocation.csv", index=False)
        if len(result.shortfalls):
            result.shortfalls.to_csv(tmp / "shortfalls.csv", index=False)
        binding = pd.DataFrame(result.binding)
        binding.to_csv(tmp / "binding.csv", index=False)
        solve = dict(result.solve, quantile=quantile, forecast_run=fc_dir.name)
        write_json(tmp / "solve.json", solve)
        progress("writing workbooks", 0.0)
        inputs = input_files(ws)
        _plan_workbooks(ws, inputs, tmp, run_id, forecast, requirements, result, binding, solve, p50)
        progress("writing workbooks", 1.0)
        timings["write"] = time.perf_counter() - t
        write_json(tmp / "run.json", provenance(ws, inputs, timings, {"run_id": run_id, "kind": "plan", "forecast_run": fc_dir.name,
                                                             "forecast_run_sha256": file_sha256(fc_dir / "forecast.parquet"),
                                                             "quantile": quantile}))
    unmet = float(solve.get("unmet_hours", 0.0))
    cur = ws.config.policy.currency
    lines = [
        f"plan run {run_id} (forecast {fc_dir.name}, P{quantile}) -> {workspace / PLANS / run_id}",
        f"solver: {solve.get('status')} in {solve.get('seconds', 0):.1f} s, gap {solve.get('gap', float('nan')):.2%}",
        f"cost of the {ws.config.planning.plan_days}-day plan {solve.get('cost', 0):,.0f} {cur} vs the spreadsheet baseline "
        f"{solve.get('baseline_cost', float('nan')):,.0f} {cur}; unmet work {unmet:,.1f} h "
        f"(baseline {solve.get('baseline_unmet_hours', float('nan')):,.1f} h)",
    ]
    warnings = []
    if unmet > 0:
        warnings.append(f"{unmet:,.1f} hours of work unmet (see shortfalls.csv and the Shortfalls sheet); binding: "
                        + "; ".join(f"{b['kind']} {b['name']}" for b in binding.head(5).to_dict("records")))
    return {"run_id": run_id, "lines": lines, "tables": {}, "warnings": warnings, "unmet_hours": unmet}


def _check_forecast_covers_plan(forecast: pd.DataFrame, ws: Workspace, fc_dir: Path) -> None:
    """The forecast run must cover the whole plan window of the current config."""
    planning = ws.config.planning
    start = pd.Timestamp(planning.start, tz="UTC")
    end = start + pd.Timedelta(days=planning.plan_days)
    times = forecast["interval_start"]
    first, last = (times.min(), times.max()) if len(times) else (pd.NaT, pd.NaT)
    if not len(times) or first > start or last < end - pd.Timedelta(minutes=planning.interval_minutes):
        raise ConfigError(
            f"forecast run {fc_dir.name} covers {first} to {last}, not the plan window {start:%Y-%m-%d} to {end:%Y-%m-%d} "
            f"([planning] start and plan_days in capplan.toml). Fix: run 'capplan forecast' again, or name a matching run with --forecast"
        )


def _plan_workbooks(ws, inputs, folder, run_id, forecast, requirements, result, binding, solve, p50) -> None:
    from capplan.report import PlanContext, write_plan_workbooks

    ctx = PlanContext(
        run_id=run_id,
        created_utc=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        capplan_version=__version__,
        inputs=inputs,
        config=ws.config,
        solve=solve,
        warnings=[str(w) for w in ws.warnings],
        requirements=requirements,
        shift_plan=result.shift_plan,
        allocation=result.allocation,
        coverage=result.coverage,
        vendor_allocation=result.vendor_allocation,
        shortfalls=result.shortfalls,
        binding=binding,
        forecast=forecast,
        history=ws.history,
        pools=ws.pools,
        vendors=ws.vendors,
        queues=ws.queues,
        p90=None if p50 is None else {"vendor_allocation": p50.vendor_allocation, "solve": p50.solve, "quantile": 50},
    )
    write_plan_workbooks(folder, ctx)
