"""``capplan capacity``: the long-range plan (13-52 weeks) of hiring, attrition, ramp-up, vendor hours and cost.

Reads and validates the workspace (plus the optional ``inputs/roster.csv`` and ``inputs/budget.csv``),
forecasts weekly volume, converts it to required hours, optimizes hiring classes, vendor hours and
overtime, and writes ``capacity/<run-id>/`` atomically: the tables (Parquet + CSV), ``binding.csv``,
``solve.json``, ``capacity.xlsx`` and ``run.json``. Nothing is written when an input or option is bad.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capplan import __version__
from capplan.errors import ConfigError
from capplan.inputs import load_workspace
from capplan.pipeline.common import Progress, input_files, no_progress, now_utc, provenance, write_table
from capplan.runs import check_writable, run_folder, write_json
from capplan.schema import (CAPACITY_COST_COLUMNS, CAPACITY_DEMAND_COLUMNS, CAPACITY_GAP_COLUMNS, CAPACITY_HIRES_COLUMNS,
                            CAPACITY_SUPPLY_COLUMNS, CAPACITY_VENDOR_COLUMNS, INHOUSE, require_columns,
                            CAPACITY_LANGUAGE_SHARE_COLUMNS, CAPACITY_TRANSFER_COLUMNS)
from capplan.timing import StageTimer

CAPACITY = "capacity"
MIN_WEEKS, MAX_WEEKS = 13, 52


@dataclass
class CapacityRun:
    """What a capacity run wrote and found: ids, the solve report, hires, cost vs budget, shortfall, binding limits."""

    run_id: str
    folder: Path
    weeks: int
    start: str
    currency: str
    solve: dict
    hires_by_site: pd.DataFrame  # site, hires (new), committed
    cost_by_month: pd.DataFrame  # month, plan_cost, budget, variance (all cost centres)
    plan_cost: float
    budget: float | None
    shortfall_hours: float
    binding: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


@dataclass
class CapacityTables:
    """The tidy tables of one plan (what the run folder and the workbook hold)."""

    demand: pd.DataFrame
    supply: pd.DataFrame
    gap: pd.DataFrame
    hires: pd.DataFrame
    vendor_hours: pd.DataFrame
    cost_by_month: pd.DataFrame
    binding: pd.DataFrame
    calibration: pd.DataFrame
    solve: dict
    warnings: list[str]
    transfers: pd.DataFrame = field(default_factory=pd.DataFrame)  # moves between in-house pools
    language_share: pd.DataFrame = field(default_factory=pd.DataFrame)  # capped (provider, language) shares per week
    weekly_backtest: pd.DataFrame = field(default_factory=pd.DataFrame)  # auto_ets vs fourier_ets per cell with a year of history


def check_weeks(weeks: int) -> int:
    """The plan length, or a :class:`ConfigError` naming ``--weeks`` when it is outside 13-52."""
    if not MIN_WEEKS <= int(weeks) <= MAX_WEEKS:
        raise ConfigError(f"--weeks must be between {MIN_WEEKS} and {MAX_WEEKS} (a quarter to a year), got {weeks}. "
                          f"Fix: pass e.g. --weeks 26, or set [capacity] weeks in capplan.toml")
    return int(weeks)


def plan_capacity(ws, weeks: int, timer: StageTimer | None = None) -> CapacityTables:
    """Every stage of the capacity plan on a loaded workspace; returns the tables (writes nothing)."""
    from capplan.capacity import demand as demand_mod, model, tables, weekly
    from capplan.capacity.check import check_capacity
    from capplan.capacity.supply import build_data, transfer_routes
    from capplan.inputs.budget import read_budget
    from capplan.inputs.roster import read_roster

    timer = timer or StageTimer()
    config = ws.config
    start = pd.Timestamp(config.planning.start, tz="UTC")
    with timer.stage("reading roster and budget"):
        roster = read_roster(ws.root, pools=ws.pools, start=start)
        centres = set(ws.pools.loc[ws.pools["vendor"] == INHOUSE, "site"]) | set(ws.vendors["vendor"])
        budget = read_budget(ws.root, cost_centres=centres, fx=config.policy.fx)
        pools = ws.pools.assign(inhouse=ws.pools["vendor"].eq(INHOUSE)).sort_values("pool", kind="stable").reset_index(drop=True)
        transfer_routes(config.capacity, pools)  # bad transfer settings fail before the forecast
    with timer.stage("weekly forecast"):
        history = weekly.weekly_history(ws.history, ws.events, start)
        forecast = weekly.forecast_weekly(history, weeks, config.forecast.levels, config.capacity.quantile, ws.events, start)
    with timer.stage("weekly requirements"):
        calibration = demand_mod.calibration_factors(ws, start, config.capacity.calibration_weeks)
        demand = demand_mod.weekly_demand(forecast, calibration, ws, start)
    with timer.stage("build model"):
        data = build_data(ws, demand, roster, weeks, start)
        built = model.build(data)
    with timer.stage("optimize"):
        solved = model.solve(built, config.solver)
    with timer.stage("tables"):
        hires = tables.hires_table(built, solved)
        transfers = tables.transfers_table(built, solved)
        supply = tables.supply_table(built, solved, hires, transfers)
        gap = tables.gap_table(built, solved)
        vendors = tables.vendor_table(built, solved)
        shares = tables.language_share_table(built, solved)
        costs = tables.cost_by_month(supply, vendors, data.week_starts, budget)
        binding = tables.binding_limits(built, solved, hires, vendors, gap, supply, transfers, shares)
        checks = check_capacity(data, supply, gap, hires, vendors, costs, transfers, shares)
    solve = {"status": solved.status, "objective": solved.objective, "bound": solved.bound, "gap": solved.gap,
             "seconds": solved.seconds, "variables": solved.variables, "integer_variables": solved.integers,
             "constraints": solved.constraints, "solver": "highs", "cost": float(costs["plan_cost"].sum()),
             "shortfall_hours": float(gap["shortfall_hours"].sum()), "transfer_variables": len(built.xfer),
             "transfers": int(transfers["moderators"].sum()),
             "weekly_models": {str(k): int(v) for k, v in forecast.drop_duplicates(["queue", "language"])["model"].value_counts().sort_index().items()},
             "checks": checks}
    warnings = list(data.warnings) + [f"plan check failed (a bug, please report it): {c}" for c in checks]
    if budget is not None:
        months = set(costs["month"])
        outside = sorted(set(budget["month"]) - months)
        if outside:
            warnings.append(f"inputs/budget.csv: {len(outside)} month(s) outside the plan are ignored ({outside[0]}..{outside[-1]})")
    return CapacityTables(demand, supply, gap, hires, vendors, costs, binding, calibration, solve, warnings, transfers, shares,
                          forecast.attrs.get("backtest", pd.DataFrame()))


def run_capacity_stage(workspace: Path, *, weeks: int | None = None, progress: Progress = no_progress) -> CapacityRun:
    """Plan ``weeks`` weeks (default ``[capacity] weeks``) from the workspace into ``capacity/<run-id>/``."""
    timer = StageTimer(progress)
    workspace = Path(workspace)
    if weeks is not None:
        check_weeks(weeks)
    with timer.stage("reading inputs"):
        ws = load_workspace(workspace)
        check_writable(workspace / CAPACITY)  # a read-only or full workspace fails before the computing
    weeks = check_weeks(ws.config.capacity.weeks if weeks is None else weeks)
    result = plan_capacity(ws, weeks, timer)
    with run_folder(workspace / CAPACITY) as (tmp, run_id), timer.stage("writing capacity plan"):
        _write_tables(tmp, result)
        inputs = input_files(ws) + _optional_inputs(ws.root)
        _workbook(tmp / "capacity.xlsx", ws, result, run_id, weeks, inputs)
        write_json(tmp / "run.json", provenance(ws, inputs, timer.timings, {
            "run_id": run_id, "kind": "capacity", "weeks": weeks, "solve": result.solve, "warnings_capacity": result.warnings}))
    return _summary(run_id, workspace / CAPACITY / run_id, ws, weeks, result)


def _write_tables(folder: Path, r: CapacityTables) -> None:
    for name, frame, columns in (("demand", r.demand, CAPACITY_DEMAND_COLUMNS), ("supply", r.supply, CAPACITY_SUPPLY_COLUMNS),
                                 ("gap", r.gap, CAPACITY_GAP_COLUMNS), ("hires", r.hires, CAPACITY_HIRES_COLUMNS),
                                 ("vendor_hours", r.vendor_hours, CAPACITY_VENDOR_COLUMNS),
                                 ("cost_by_month", r.cost_by_month, CAPACITY_COST_COLUMNS),
                                 ("transfers", r.transfers, CAPACITY_TRANSFER_COLUMNS),
                                 ("language_share", r.language_share, CAPACITY_LANGUAGE_SHARE_COLUMNS)):
        require_columns(frame, columns, name)
        write_table(frame, folder, name, csv=True)
    r.calibration.to_csv(folder / "calibration.csv", index=False)
    r.weekly_backtest.to_csv(folder / "weekly_backtest.csv", index=False)
    r.binding.to_csv(folder / "binding.csv", index=False)
    write_json(folder / "solve.json", r.solve)


def _optional_inputs(root: Path) -> list[dict]:
    from capplan.runs import file_sha256

    out = []
    for name in ("roster", "budget"):
        path = root / "inputs" / f"{name}.csv"
        if path.is_file():
            out.append({"table": name, "file": f"inputs/{name}.csv", "sha256": file_sha256(path)})
    return out


def _workbook(path: Path, ws, r: CapacityTables, run_id: str, weeks: int, inputs: list[dict]) -> None:
    from capplan.report.capacity import write_capacity_workbook

    info = {"run_id": run_id, "capplan_version": __version__, "workspace": str(ws.root), "created_utc": now_utc(),
            "inputs": inputs, "weeks": weeks, "start": str(ws.config.planning.start), "currency": ws.config.policy.currency}
    write_capacity_workbook(path, r, ws.config, info)


def _summary(run_id: str, folder: Path, ws, weeks: int, r: CapacityTables) -> CapacityRun:
    new = r.hires[~r.hires["committed"]].groupby("site")["hires"].sum()
    committed = r.hires[r.hires["committed"]].groupby("site")["hires"].sum()
    sites = sorted(set(new.index) | set(committed.index))
    by_site = pd.DataFrame({"site": sites, "hires": [int(new.get(s, 0)) for s in sites],
                            "committed": [int(committed.get(s, 0)) for s in sites]})
    monthly = r.cost_by_month.groupby("month", as_index=False)[["plan_cost", "budget"]].sum(min_count=1)
    monthly["variance"] = monthly["plan_cost"] - monthly["budget"]
    has_budget = r.cost_by_month["budget"].notna().any()
    warnings = list(r.warnings)
    short = float(r.gap["shortfall_hours"].sum())
    if short > 0:
        warnings.append(f"{short:,.0f} productive hours of demand unmet over the plan (see gap.csv); binding: "
                        + "; ".join(f"{b.kind} {b.name}" for b in r.binding.head(5).itertuples()))
    return CapacityRun(run_id=run_id, folder=folder, weeks=weeks, start=str(ws.config.planning.start),
                       currency=ws.config.policy.currency, solve=r.solve, hires_by_site=by_site, cost_by_month=monthly,
                       plan_cost=float(r.cost_by_month["plan_cost"].sum()),
                       budget=float(r.cost_by_month["budget"].sum()) if has_budget else None,
                       shortfall_hours=short, binding=r.binding, warnings=warnings)
