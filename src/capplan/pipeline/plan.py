"""``capplan plan``: requirements and the cost-minimal plan from a forecast run; writes ``plans/<run-id>/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capplan import __version__
from capplan.errors import ConfigError, InputError, Problem
from capplan.inputs import Workspace, load_workspace
from capplan.inputs.budget import finance_budget
from capplan.report.csvsafe import write_csv
from capplan.pipeline.common import PLANS, FORECASTS, Progress, input_files, no_progress, now_utc, provenance, write_table
from capplan.pipeline.consistency import check_forecast_matches_inputs
from capplan.runs import check_writable, file_sha256, resolve_run, run_folder, write_json
from capplan.schema import (ALLOCATION_COLUMNS, COVERAGE_COLUMNS, FORECAST_COLUMNS, INTERVAL_START, REQUIREMENTS_COLUMNS,
                            SHIFT_PLAN_COLUMNS, VENDOR_ALLOCATION_COLUMNS, require_columns)
from capplan.timing import StageTimer

QUANTILES = (50, 80, 90, 95)


@dataclass
class PlanRun:
    """What a plan run wrote: ids, the solver report, cost and shortfall, the binding limits."""

    run_id: str
    folder: Path
    forecast_run: str
    quantile: int
    plan_days: int
    currency: str
    solve: dict
    binding: pd.DataFrame
    unmet_hours: float
    warnings: list[str] = field(default_factory=list)
    scenario: str | None = None  # the scenarios/<name>.toml applied, if any


def _optimize(ws, requirements: pd.DataFrame, forecast: pd.DataFrame, errors: pd.DataFrame | None, progress: Progress):
    """The plan of ``[staffing] risk`` (:func:`capplan.judge.plan_for_risk`): checked and scenarios need the backtest
    ``errors``."""
    from capplan.judge import plan_for_risk

    return plan_for_risk(ws, requirements, forecast, errors, progress=progress)


def _plan_warnings(ws, solve: dict, checks: list, binding: pd.DataFrame, unmet: float, warnings: list[str]) -> list[str]:
    """The run's warnings: a fallback plan first, then the checker's findings and unmet work with its binding limits."""
    warnings = list(warnings)
    fix = (f"Fix: raise [solver] time_limit_s (now {ws.config.solver.time_limit_s:g}) or run when the machine is less loaded "
           "for the optimizer's plan")
    if solve.get("status") == "fallback":  # the optimizer ran out of time without a plan: the baseline's shifts (optimize/fallback.py)
        warnings.insert(0, f"{solve['status_detail']}. {fix}")
    secondary = {**(solve.get("price_of_reliability") or {}).get("status", {}), **solve.get("secondary_status", {})}
    fallbacks = sorted(k for k, status in secondary.items() if k != "chosen" and status == "fallback")
    if fallbacks:  # a compared plan's cost is a fallback's: the comparison overstates what the optimizer would save
        warnings.append(f"the {', '.join(fallbacks)} plan(s) compared with this one ran out of time and are fallback plans "
                        f"(solve.json price_of_reliability / secondary_status): their costs are not the optimizer's. {fix}")
    if checks:  # the independent checker (optimize/check.py) disagrees with the solver: say so, never silently
        warnings.append(f"the plan checker found {len(checks)} problem(s) (solve.json 'checks'): " + "; ".join(checks[:3]))
    if unmet > 0:
        warnings.append(f"{unmet:,.1f} hours of work unmet (see shortfalls.csv and the Shortfalls sheet); binding: "
                        + "; ".join(f"{b['kind']} {b['name']}" for b in binding.head(5).to_dict("records")))
    return warnings


def run_plan_stage(workspace: Path, *, forecast_run: str | None = None, quantile: int | None = None,
                   progress: Progress = no_progress, scenario: str | None = None, workbooks: bool = True) -> PlanRun:
    """Plan the workspace's window from a forecast run (default: ``forecasts/latest``).

    ``scenario`` names ``scenarios/<name>.toml``: its overrides apply in memory (:mod:`capplan.scenarios`).
    ``workbooks=False`` writes the tables only (``capplan scenarios``: many plans, compared in one workbook)."""
    timer = StageTimer(progress)
    workspace = Path(workspace)
    with timer.stage("reading inputs"):
        ws = load_workspace(workspace)
        what_if = None
        if scenario is not None:
            from capplan.scenarios import what_if as load_what_if

            what_if = load_what_if(workspace, scenario, ws, forecast_run)
            ws, forecast_run = what_if.workspace, what_if.forecast_run
        fc_dir = resolve_run(workspace / FORECASTS, forecast_run, "forecast", required=("forecast.parquet", "run.json"))
        forecast = _read_forecast(fc_dir)
        if what_if is not None:
            forecast = what_if.adjust(forecast, fc_dir)
        budget = finance_budget(workspace, ws)
        check_forecast_covers_plan(forecast, ws, fc_dir)
        inputs = input_files(ws)
        warnings = check_forecast_matches_inputs(forecast, ws, fc_dir, inputs)
        quantile = ws.config.staffing.quantile if quantile is None else quantile
        if quantile not in QUANTILES:
            raise ConfigError(f"--quantile must be one of {', '.join(map(str, QUANTILES))}, got {quantile}")
        ws.config = ws.config.model_copy(deep=True)  # the effective config: what run.json and the workbooks report
        ws.config.staffing.quantile = quantile
        check_writable(workspace / PLANS)  # a read-only or full workspace fails before the computing
    from capplan.optimize import solve_plan  # heavy imports only once the inputs are valid
    from capplan.staffing.requirements import compute_requirements

    scenarios = ws.config.staffing.risk in ("scenarios", "checked")  # both draw demand scenarios from the backtest errors
    if scenarios:  # the mean forecast's allocation is reported beside the scenario plan's shifts
        errors = _read_backtest_errors(fc_dir)
        quantile = ws.config.staffing.quantile = 50
    with timer.stage("requirements"):
        requirements = compute_requirements(forecast, ws, quantile)
    with timer.stage("optimize"):
        result = _optimize(ws, requirements, forecast, errors if scenarios else None, progress)
    if scenarios:
        with timer.stage("price of reliability"):
            result.solve["price_of_reliability"] = price_of_reliability(ws, forecast, result)
    p50 = None
    if quantile != 50 and workbooks:  # finance compares the plan with the one at the median forecast: only its cost is used
        p50 = solve_plan(ws, compute_requirements(forecast, ws, 50), with_baseline=False, price_rules=False)
    binding = pd.DataFrame(result.binding)
    solve = dict(result.solve, quantile=quantile, forecast_run=fc_dir.name, checks=list(result.checks),
                 **(what_if.record if what_if else {}))
    if p50 is not None:  # the finance workbook's P50 plan: its status beside the plan's (a fallback is warned about)
        solve["secondary_status"] = {"finance_p50": p50.solve.get("status")}
    if result.proficiency is not None:  # where the AHT multipliers came from ([staffing] proficiency, rework)
        solve["proficiency"] = {"mode": ws.config.staffing.proficiency, "rework": bool(ws.config.staffing.rework),
                                "sources": sorted(set(result.proficiency["source"]))}
    inputs += extra_inputs(workspace, solve.get("proficiency", {}).get("sources", []))
    with run_folder(workspace / PLANS) as (tmp, run_id), timer.stage("writing plan"):
        _write_plan_tables(tmp, requirements, result, binding, solve)
        _write_quality_tables(tmp, result, ws.config.staffing)
        timer.tick(0.3)
        if workbooks:
            _plan_workbooks(ws, inputs, tmp, run_id, forecast, requirements, result, binding, solve, p50, budget)
        write_json(tmp / "run.json", provenance(ws, inputs, timer.timings, {
            "run_id": run_id, "kind": "plan", "forecast_run": fc_dir.name,
            "forecast_run_sha256": file_sha256(fc_dir / "forecast.parquet"), "quantile": quantile,
            **(what_if.record if what_if else {})}))
    unmet = float(solve.get("unmet_hours", 0.0))
    if what_if is not None:
        warnings += list(what_if.warnings)
    warnings = _plan_warnings(ws, solve, result.checks, binding, unmet, warnings)
    return PlanRun(run_id=run_id, folder=workspace / PLANS / run_id, forecast_run=fc_dir.name, quantile=quantile,
                   plan_days=ws.config.planning.plan_days, currency=ws.config.policy.currency, solve=solve,
                   binding=binding, unmet_hours=unmet, warnings=warnings, scenario=scenario)


def extra_inputs(workspace: Path, proficiency_sources: list[str]) -> list[dict]:
    """Files a plan reads beside the workspace tables, for run.json: the capability estimates it used
    ([staffing] proficiency = "estimated"), and the optional budget.csv and roster.csv (docs/contracts.md)."""
    out = []
    for source in proficiency_sources:  # estimates read from a capability run are an input of this plan
        if source.startswith("capability "):
            from capplan.capability import CAPABILITY, ESTIMATES

            path = workspace / CAPABILITY / source.split(" ", 1)[1] / f"{ESTIMATES}.parquet"
            out.append({"table": "capability", "file": str(path.relative_to(workspace)), "sha256": file_sha256(path)})
    for table in ("budget", "roster"):
        path = workspace / "inputs" / f"{table}.csv"
        if path.is_file():
            out.append({"table": table, "file": f"inputs/{table}.csv", "sha256": file_sha256(path)})
    return out


def _write_plan_tables(folder: Path, requirements: pd.DataFrame, result, binding: pd.DataFrame, solve: dict) -> None:
    """The plan's tidy tables, each checked against its data contract in :mod:`capplan.schema`."""
    for name, frame, columns, csv in (("requirements", requirements, REQUIREMENTS_COLUMNS, True),
                                      ("shift_plan", result.shift_plan, SHIFT_PLAN_COLUMNS, True),
                                      ("allocation", result.allocation, ALLOCATION_COLUMNS, False),
                                      ("coverage", result.coverage, COVERAGE_COLUMNS, False)):
        require_columns(frame, columns, name)
        write_table(frame, folder, name, csv=csv)
    write_table(result.patterns, folder, "patterns", csv=True)  # moderators per weekly pattern: the real headcount
    require_columns(result.vendor_allocation, VENDOR_ALLOCATION_COLUMNS, "vendor_allocation")
    write_csv(result.vendor_allocation, folder / "vendor_allocation.csv")
    if len(result.shortfalls):
        write_csv(result.shortfalls, folder / "shortfalls.csv")
    write_csv(binding, folder / "binding.csv")
    if getattr(result, "risk", None) is not None:  # risk = "scenarios": each cell's probability of meeting its target
        write_csv(result.risk, folder / "risk.csv")
    write_json(folder / "solve.json", solve)


def price_of_reliability(ws, forecast: pd.DataFrame, result) -> dict:
    """Total cost of the week planned at P50, at the chosen risk level (``result``) and at per-interval P90.

    A checked plan (``risk = "checked"``) that lifted no cell is the P50 plan itself: it is not solved again.

    P90 is every cell-interval at the upper bound of the 80 % prediction interval (``[staffing] quantile = 90``);
    left out when the forecast has no such band.
    """
    from capplan.optimize import solve_plan
    from capplan.staffing.requirements import compute_requirements

    def at(quantile: int) -> dict:  # a plan solved only for its cost
        return solve_plan(ws, compute_requirements(forecast, ws, quantile), with_baseline=False, price_rules=False).solve

    risk = result.solve.get("risk") or {}
    plans = {"chosen": result.solve}
    # nothing lifted: the checked plan is the P50 plan
    plans["p50"] = result.solve if risk.get("mode") == "checked" and not risk.get("lifted_cells") else at(50)
    if "volume_hi_80" in forecast.columns:
        plans["p90_per_interval"] = at(90)
    out = {key: solve["total_cost"] for key, solve in plans.items()}
    out["target_probability"] = float(ws.config.staffing.target_probability)
    # a "fallback" cost is the baseline's or a rounded relaxation's, not the optimizer's (run warning)
    out["status"] = {key: solve.get("status") for key, solve in plans.items()}
    for key in ("chosen", "p90_per_interval"):
        if key in out and out["p50"] > 0:
            out[f"{key}_vs_p50"] = out[key] / out["p50"] - 1.0
    return out


def _read_backtest_errors(fc_dir: Path) -> pd.DataFrame:
    """The forecast run's backtest errors, from which ``risk = "scenarios"`` draws its demand scenarios."""
    path = fc_dir / "backtest_errors.parquet"
    if not path.is_file():
        raise ConfigError(f"[staffing] risk = \"scenarios\" (or \"checked\") draws demand scenarios from the forecast's backtest errors, but forecast run "
                          f"{fc_dir.name} has no backtest_errors.parquet (made by an older capplan, or no cell had history enough to "
                          "backtest). Fix: run 'capplan forecast' again, or set risk = \"quantile\"")
    return pd.read_parquet(path)


def check_forecast_covers_plan(forecast: pd.DataFrame, ws: Workspace, fc_dir: Path) -> None:
    """The forecast run must cover the whole plan window of the current config."""
    planning = ws.config.planning
    start = pd.Timestamp(planning.start, tz="UTC")
    end = start + pd.Timedelta(days=planning.plan_days)
    times = forecast[INTERVAL_START]
    first, last = (times.min(), times.max()) if len(times) else (pd.NaT, pd.NaT)
    if not len(times) or first > start or last < end - pd.Timedelta(minutes=planning.interval_minutes):
        raise ConfigError(
            f"forecast run {fc_dir.name} covers {first} to {last}, not the plan window {start:%Y-%m-%d} to {end:%Y-%m-%d} "
            f"([planning] start and plan_days in capplan.toml). Fix: run 'capplan forecast' again, or name a matching run with --forecast"
        )


def _read_forecast(fc_dir: Path) -> pd.DataFrame:
    label, fix = f"forecasts/{fc_dir.name}/forecast.parquet", "run 'capplan forecast' again, or name another run with --forecast"
    try:
        forecast = pd.read_parquet(fc_dir / "forecast.parquet")
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise InputError([Problem(file=label, message=f"cannot read the forecast ({type(exc).__name__})", fix=fix)]) from None
    missing = [c for c in FORECAST_COLUMNS if c not in forecast.columns]
    if missing:
        raise InputError([Problem(file=label, message="not a capplan forecast: column(s) missing", column=missing[0],
                                  expected=", ".join(FORECAST_COLUMNS), found=", ".join(map(str, forecast.columns)), fix=fix)])
    return forecast


def _write_quality_tables(folder: Path, result, staffing) -> None:
    """``proficiency.csv`` (the AHT multiplier of every pool x cell the plan used, with quality, rework factor and
    source) and ``quality_cost.csv`` (quality-adjusted cost per item by vendor)."""
    if result.proficiency is None:
        return
    from capplan.report.tidy import quality_cost_by_vendor

    write_csv(result.proficiency, folder / "proficiency.csv")
    write_csv(quality_cost_by_vendor(result.vendor_allocation, result.allocation, result.proficiency, staffing.rework,
                                     staffing.rework_aht_ratio),
              folder / "quality_cost.csv")


def _plan_workbooks(ws, inputs, folder, run_id, forecast, requirements, result, binding, solve, p50, budget) -> None:
    from capplan.report import PlanContext, write_plan_workbooks
    from capplan.report.context import ComparisonPlan

    ctx = PlanContext(
        run_id=run_id, created_utc=now_utc(), capplan_version=__version__, inputs=inputs, config=ws.config,
        solve=solve, warnings=[str(w) for w in ws.warnings], requirements=requirements,
        shift_plan=result.shift_plan, allocation=result.allocation, coverage=result.coverage,
        vendor_allocation=result.vendor_allocation, shortfalls=result.shortfalls, binding=binding,
        forecast=forecast, history=ws.history, pools=ws.pools, vendors=ws.vendors, queues=ws.queues,
        comparison=None if p50 is None else ComparisonPlan(vendor_allocation=p50.vendor_allocation, solve=p50.solve, quantile=50),
        patterns=result.patterns, budget=budget,
        proficiency=result.proficiency if result.proficiency is not None else pd.DataFrame(),
    )
    if getattr(result, "risk", None) is not None:
        ctx.risk = result.risk
    write_plan_workbooks(folder, ctx)
