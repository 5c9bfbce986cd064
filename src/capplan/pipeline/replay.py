"""``capplan replay``: put the plan window's arrivals through a plan; writes ``replays/<run-id>/``.

Checks before anything is written (exit 2): the routing policy exists; the plan was made from this
workspace's pools, shifts, queues and handle times (sha256 in the plan's ``run.json``) and its
shifts still fit them; the arrivals (the workspace history, or ``--arrivals FILE``) cover the whole
plan window. With ``--scenarios N`` no arrivals are needed: N paths are drawn from the plan's
forecast run (:mod:`capplan.simulate.scenarios`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capplan import __version__
from capplan.config import parse_config
from capplan.errors import InputError, Problem
from capplan.inputs import Workspace, load_workspace
from capplan.pipeline.common import FORECASTS, PLANS, Progress, input_files, no_progress, now_utc, provenance, write_table
from capplan.runs import resolve_run, run_folder, write_json
from capplan.schema import (REPLAY_CELL_COLUMNS, REPLAY_CELL_WEEK_COLUMNS, REPLAY_POOL_COLUMNS, REPLAY_RISK_COLUMNS,
                            INTERVAL_START, LANGUAGE, QUEUE, VOLUME, require_columns)
from capplan.simulate.arrivals import arrival_step_minutes
from capplan.timing import StageTimer

REPLAYS = "replays"


@dataclass
class ReplayRun:
    """What a replay run wrote: ids, folder, the summary, the cell-weeks (or the risk per cell-week)."""

    run_id: str
    folder: Path
    plan_run: str
    policy: str
    arrivals: str  # where the arrivals came from: a file, the history, or "scenarios"
    summary: dict
    cell_weeks: pd.DataFrame
    risk: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)


def plan_config(ws: Workspace, info: dict):
    """The config the plan was made with (its window, shrinkage, caps), else the workspace's."""
    if "config" in info:
        return parse_config(info["config"], source="plan run.json")
    return ws.config


def _label(ws: Workspace, path) -> str:
    path = Path(path)
    return str(path.relative_to(ws.root)) if path.is_relative_to(ws.root) else str(path)


def window_of(config) -> tuple[pd.Timestamp, pd.Timestamp, int]:
    from capplan.optimize.data import plan_window

    start, T, h = plan_window(config)
    return start, start + pd.Timedelta(hours=T * h), int(round(h * 60))


def check_arrivals_cover(arrivals: pd.DataFrame, config, label: str) -> None:
    """The arrivals must reach from the window's start to its last interval.

    Raises
    ------
    InputError
        Naming the arrivals' first and last interval and the window, with the fix.
    """
    start, end, _ = window_of(config)
    times = pd.to_datetime(arrivals[INTERVAL_START], utc=True) if len(arrivals) else pd.Series(dtype="datetime64[ns, UTC]")
    inside = times[(times >= start) & (times < end)]
    first, last = (times.min(), times.max()) if len(times) else (None, None)
    step = pd.Timedelta(minutes=arrival_step_minutes(arrivals, int(config.planning.interval_minutes)))
    if not len(inside) or first > start or last + step < end:
        span = f"{first:%Y-%m-%d %H:%M} to {(last + step):%Y-%m-%d %H:%M} UTC" if first is not None else "nothing"
        raise InputError([Problem(
            file=label, column=INTERVAL_START,
            message=f"the arrivals cover {span}, not the plan window {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC",
            expected="arrivals for every interval of the plan window",
            fix="replay once the history covers the week, pass the actual arrivals with --arrivals FILE, "
                "or use --scenarios N to replay paths drawn from the forecast before the week")])


def run_replay_stage(workspace: Path, *, plan_run: str | None = None, arrivals_file: Path | None = None,
                     policy: str = "priority", scenarios: int = 0, seed: int = 0, engine: str = "local",
                     dask_address: str | None = None, progress: Progress = no_progress) -> ReplayRun:
    """Replay a plan (default ``plans/latest``) against actual arrivals, or ``scenarios`` drawn paths."""
    from capplan.simulate import load_plan, replay_plan
    from capplan.simulate.planrun import check_plan_inputs, plan_run_info
    from capplan.simulate.policies import get_policy
    from capplan.simulate.supply import check_shift_plan

    timer = StageTimer(progress)
    workspace = Path(workspace)
    with timer.stage("reading inputs"):
        get_policy(policy)
        ws = load_workspace(workspace)
        plan_dir = resolve_run(workspace / PLANS, plan_run, "plan")
        info = plan_run_info(plan_dir)
        inputs = input_files(ws)
        check_plan_inputs(info, inputs, f"{PLANS}/{plan_dir.name}")
        config = plan_config(ws, info)
        shift_plan, allocation = load_plan(plan_dir)
        problems = check_shift_plan(ws, shift_plan, f"{PLANS}/{plan_dir.name}/shift_plan.parquet")
        if problems:
            raise InputError(problems)
        forecast = arrivals = None
        if scenarios:
            fc_dir = resolve_run(workspace / FORECASTS, info.get("forecast_run"), "forecast")
            forecast = pd.read_parquet(fc_dir / "forecast.parquet")
            source = f"scenarios from forecast {fc_dir.name}"
        elif arrivals_file is not None:
            from capplan.inputs.arrivals import read_arrivals_file

            arrivals = read_arrivals_file(arrivals_file, ws.cells())
            source = str(arrivals_file)
            check_arrivals_cover(arrivals, config, source)
        else:
            arrivals = ws.history
            source = _label(ws, ws.sources.get("history", "inputs/history.csv"))
            check_arrivals_cover(arrivals, config, source)
    from capplan.simulate.opening import plan_opening

    if scenarios:
        from capplan.simulate.scenarios import run_scenarios

        with timer.stage("scenarios"):  # every path opens with the plan's opening backlog, as the plain replay
            sc = run_scenarios(ws, shift_plan, allocation, forecast, n_paths=scenarios, policy=policy, seed=seed, config=config,
                               engine=engine, dask_address=dask_address, progress=progress, opening=plan_opening(plan_dir, ws, config))
        result, summary, cell_weeks = None, dict(sc.summary), sc.cell_weeks
    else:
        with timer.stage("replay"):
            result = replay_plan(ws, shift_plan, allocation, arrivals, policy=policy, seed=seed, config=config,
                                 opening=plan_opening(plan_dir, ws, config))
        sc, summary, cell_weeks = None, dict(result.summary), result.cell_weeks
    planned = planned_cell_weeks(plan_dir)
    with run_folder(workspace / REPLAYS) as (tmp, run_id), timer.stage("writing replay"):
        _write_tables(tmp, result, sc)
        summary.update({"run_id": run_id, "plan_run": plan_dir.name, "arrivals": source})
        write_json(tmp / "replay.json", summary)
        _workbook(tmp / "replay.xlsx", run_id, summary, result, sc, planned, inputs)
        write_json(tmp / "run.json", provenance(ws, inputs, timer.timings, {
            "run_id": run_id, "kind": "replay", "plan_run": plan_dir.name, "policy": policy, "arrivals": source,
            "arrivals_file": str(arrivals_file) if arrivals_file else None, "scenarios": scenarios, "engine": engine,
            "seed": seed, "summary": summary}))
    return ReplayRun(run_id=run_id, folder=workspace / REPLAYS / run_id, plan_run=plan_dir.name, policy=policy, arrivals=source,
                     summary=summary, cell_weeks=cell_weeks, risk=sc.risk if sc is not None else None,
                     warnings=_config_warnings(ws, config))


def _config_warnings(ws: Workspace, config) -> list[str]:
    """A note when capplan.toml changed since the plan: the replay keeps the plan's assumptions."""
    changed = [name for name in ("planning", "staffing", "policy")
               if getattr(ws.config, name).model_dump(mode="json") != getattr(config, name).model_dump(mode="json")]
    if not changed:
        return []
    return [f"capplan.toml [{'], ['.join(changed)}] changed since the plan; the replay uses the plan's settings (window, shrinkage, caps)"]


def _write_tables(folder: Path, result, sc) -> None:
    """The replay's tidy tables, each checked against its contract in :mod:`capplan.schema`."""
    if result is not None:
        for name, frame, columns, csv in (("cells", result.cells, REPLAY_CELL_COLUMNS, False),
                                          ("pools", result.pools, REPLAY_POOL_COLUMNS, False),
                                          ("cell_weeks", result.cell_weeks, REPLAY_CELL_WEEK_COLUMNS, True)):
            require_columns(frame, columns, name)
            write_table(frame, folder, name, csv=csv)
        if result.closing_backlog is not None:  # the next week's inputs/backlog.csv (docs/rolling.md)
            closing = result.closing_backlog.assign(arrived=result.closing_backlog["arrived"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
            closing.to_csv(folder / "closing_backlog.csv", index=False, lineterminator="\n")
    if sc is not None:
        require_columns(sc.risk, REPLAY_RISK_COLUMNS, "risk")
        write_table(sc.risk, folder, "risk", csv=True)
        write_table(sc.cell_weeks, folder, "cell_weeks", csv=False)
        sc.paths.to_csv(folder / "paths.csv", index=False)


def planned_cell_weeks(plan_dir: Path) -> pd.DataFrame | None:
    """Per cell-week what the plan expected: forecast items and the requirements' service level (volume-weighted)."""
    path = plan_dir / "requirements.parquet"
    if not path.is_file():
        return None
    from capplan.simulate.metrics import iso_week

    req = pd.read_parquet(path, columns=[QUEUE, LANGUAGE, INTERVAL_START, VOLUME, "service_level"])
    req[INTERVAL_START] = pd.to_datetime(req[INTERVAL_START], utc=True)
    req = req.assign(week=iso_week(req[INTERVAL_START]), weighted=req[VOLUME] * req["service_level"].fillna(1.0))
    out = req.groupby([QUEUE, LANGUAGE, "week"], as_index=False).agg(planned_items=(VOLUME, "sum"), weighted=("weighted", "sum"))
    out["planned_service"] = out["weighted"] / out["planned_items"].where(out["planned_items"] > 0)
    return out.drop(columns="weighted")


def _workbook(path: Path, run_id: str, summary: dict, result, sc, planned, inputs) -> None:
    from capplan.report.replay_xlsx import write_replay_workbook

    info = {"run_id": run_id, "capplan_version": __version__, "created_utc": now_utc(), "inputs": inputs}
    write_replay_workbook(path, info=info, summary=summary, cell_weeks=result.cell_weeks if result is not None else None,
                          pools=result.pools if result is not None else None, risk=sc.risk if sc is not None else None,
                          planned=planned)
