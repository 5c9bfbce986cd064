"""``capplan scenarios [WS]``: plan every ``scenarios/<name>.toml`` and compare each with the base plan.

Every scenario file is checked before anything is solved (a bad one stops the command, nothing written).
The base forecast (``forecasts/`` newest run made without a scenario; made if there is none) serves every
scenario that does not change how forecasts are made; the base plan is reused when one exists for that
forecast with the current inputs and config, else planned. Each scenario's plan is an ordinary plan run
in ``plans/`` (recording the scenario), so ``capplan diff`` explains any row. The summary goes to
``scenario_runs/<run-id>/`` (``scenarios.xlsx``, ``summary.csv``, ``run.json``).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capplan.errors import CapplanError, ConfigError
from capplan.inputs import load_workspace
from capplan.pipeline.common import FORECASTS, PLANS, Progress, input_files, no_progress, now_utc, provenance
from capplan.pipeline.forecast import run_forecast_stage
from capplan.pipeline.plan import extra_inputs, run_plan_stage
from capplan.runs import run_folder, write_json
from capplan.scenarios import load_scenario, run_scenario, scenario_names, what_if
from capplan.scenarios.diff import read_binding
from capplan.timing import StageTimer

SCENARIO_RUNS = "scenario_runs"
BASE = "(base)"


@dataclass
class ScenariosRun:
    """What ``capplan scenarios`` did: the summary (one row per scenario, base first) and where it is."""

    run_id: str
    folder: Path
    base_plan: str
    forecast_run: str
    summary: pd.DataFrame
    currency: str
    reused_base: bool
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per scenario (and the base) [s]
    warnings: list[str] = field(default_factory=list)


def run_scenarios(workspace: Path, *, names: list[str] | None = None, jobs: int = 1, workbooks: bool = False,
                  progress: Progress = no_progress) -> ScenariosRun:
    """Plan the base and every scenario of the workspace; write the summary workbook.

    ``jobs`` > 1 plans that many scenarios side by side (separate processes; each plan is the same as
    when planned alone). Each scenario plan is an ordinary plan run, so ``plans/latest`` ends on one of them;
    its tables are written, its planner/finance/vendor workbooks only with ``workbooks=True`` (they cost more
    than the solve at the default demo's size, and the comparison is the summary workbook and ``capplan diff``).

    Raises
    ------
    ConfigError
        No scenario files, an unknown name, or a scenario with errors (file and line named; nothing written).
    """
    workspace = Path(workspace)
    timer = StageTimer(progress)
    with timer.stage("checking scenarios"):
        ws = load_workspace(workspace)
        names = names or scenario_names(workspace)
        if not names:
            raise ConfigError(f"no scenarios in {workspace / 'scenarios'}. Fix: add scenarios/<name>.toml files (see docs/scenarios.md)")
        scenarios = {n: load_scenario(workspace, n) for n in names}
        for n in names:
            what_if(workspace, n, ws, for_plan=False)  # every problem of every file before any solve
    forecast_run = _base_forecast(workspace, progress)
    base, reused = _base_plan(workspace, ws, forecast_run, progress, timer)
    rows, warnings = [_row(BASE, "the workspace as it is", workspace / PLANS / base)], []
    for n in names:  # own forecasts first, one at a time: the plans may then run side by side
        if scenarios[n].touches_forecast and not _own_forecast(workspace, scenarios[n].sha256):
            with timer.stage(f"forecast {n}"):
                run_forecast_stage(workspace, scenario=n, progress=_prefixed(progress, n))
    for n, (plan_run, plan_warnings, error, seconds) in _plan_all(workspace, names, jobs, workbooks, progress).items():
        timer.timings[f"scenario {n}"] = round(seconds, 3)
        if error is None:
            rows.append(_row(n, scenarios[n].spec.description, workspace / PLANS / plan_run))
            warnings += [f"scenario {n}: {w}" for w in plan_warnings]
        else:  # one failed scenario (e.g. a solver time-out) does not stop the others
            rows.append({"scenario": n, "description": scenarios[n].spec.description, "status": f"failed: {error}"})
            warnings.append(f"scenario {n} failed: {error}")
    summary = _compare_with_base(pd.DataFrame(rows))
    currency = ws.config.policy.currency
    with run_folder(workspace / SCENARIO_RUNS) as (tmp, run_id), timer.stage("writing summary"):
        summary.to_csv(tmp / "summary.csv", index=False)
        from capplan.scenarios.workbook import write_summary_workbook

        info = {"run id": run_id, "base plan": base, "forecast run": forecast_run, "created_utc": now_utc()}
        write_summary_workbook(tmp / "scenarios.xlsx", summary, currency, info)
        write_json(tmp / "run.json", provenance(ws, input_files(ws), timer.timings, {
            "run_id": run_id, "kind": "scenarios", "base_plan": base, "base_plan_reused": reused, "forecast_run": forecast_run,
            "scenarios": [s.record for s in scenarios.values()], "summary": summary.to_dict("records")}))
    return ScenariosRun(run_id=run_id, folder=workspace / SCENARIO_RUNS / run_id, base_plan=base, forecast_run=forecast_run,
                        summary=summary, currency=currency, reused_base=reused, seconds=dict(timer.timings), warnings=warnings)


def _plan_one(workspace: str, name: str, workbooks: bool) -> tuple[str | None, list[str], str | None, float]:
    """Plan one scenario: (plan run id, warnings, error message, seconds). Runs in a worker process when jobs > 1."""
    start = time.perf_counter()
    try:
        plan = run_plan_stage(Path(workspace), scenario=name, workbooks=workbooks)
    except CapplanError as exc:
        return None, [], str(exc), time.perf_counter() - start
    return plan.run_id, list(plan.warnings), None, time.perf_counter() - start


def _plan_all(workspace: Path, names: list[str], jobs: int, workbooks: bool, progress: Progress) -> dict[str, tuple]:
    """Every scenario's plan, in name order; ``jobs`` > 1 plans that many side by side in fresh processes."""
    results: dict[str, tuple] = {}
    if jobs <= 1 or len(names) <= 1:
        for i, n in enumerate(names):
            progress(f"scenario {n}", i / len(names))
            results[n] = _plan_one(str(workspace), n, workbooks)
        return results
    with ProcessPoolExecutor(max_workers=min(jobs, len(names)), mp_context=mp.get_context("spawn")) as pool:
        futures = {pool.submit(_plan_one, str(workspace), n, workbooks): n for n in names}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            progress(f"scenarios ({jobs} at a time)", done / len(names))
    return {n: results[n] for n in names}


def _prefixed(progress: Progress, name: str) -> Progress:
    return lambda stage, fraction: progress(f"{name}: {stage}", fraction)


def _runs(base: Path) -> list[Path]:
    if not base.is_dir():
        return []
    return sorted((p for p in base.iterdir() if p.is_dir() and (p / "run.json").is_file()), key=lambda p: p.name)


def _own_forecast(workspace: Path, sha256: str) -> bool:
    return any(run_scenario(p).get("scenario_sha256") == sha256 for p in _runs(workspace / FORECASTS))


def _base_forecast(workspace: Path, progress: Progress) -> str:
    plain = [p.name for p in _runs(workspace / FORECASTS) if not run_scenario(p)]
    if plain:
        return plain[-1]
    return run_forecast_stage(workspace, progress=_prefixed(progress, BASE)).run_id


def _base_plan(workspace: Path, ws, forecast_run: str, progress: Progress, timer: StageTimer) -> tuple[str, bool]:
    """The newest plan without a scenario for this forecast, inputs and config; planned when there is none.

    The inputs compared are those a plan records (its run.json): the workspace tables and the optional budget.csv and
    roster.csv; capability estimates a plan read are its own choice of run, not an input file, and are not compared."""
    inputs = {i["file"]: i["sha256"] for i in input_files(ws) + extra_inputs(workspace, [])}
    config = ws.config.model_dump(mode="json")
    for folder in reversed(_runs(workspace / PLANS)):
        meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        recorded = {i["file"]: i["sha256"] for i in meta.get("inputs", []) if i.get("table") != "capability"}
        if (not run_scenario(folder) and meta.get("forecast_run") == forecast_run and meta.get("config") == config
                and recorded == inputs):
            return folder.name, True
    with timer.stage("base plan"):
        return run_plan_stage(workspace, forecast_run=forecast_run, progress=_prefixed(progress, BASE)).run_id, False


def _row(name: str, description: str, folder: Path) -> dict:
    solve = json.loads((folder / "solve.json").read_text(encoding="utf-8"))
    binding = read_binding(folder)
    limits = sorted(f"{k} {n}" for k, n in zip(binding["kind"], binding["name"]))
    return {"scenario": name, "description": description, "status": solve.get("status", ""), "plan_run": folder.name,
            "forecast_run": solve.get("forecast_run", ""), "quantile": solve.get("quantile"), "cost": solve.get("cost"),
            "moderators": solve.get("moderators"), "paid_hours": solve.get("paid_hours"), "unmet_hours": solve.get("unmet_hours"),
            "penalty": solve.get("penalty"), "binding_limits": "; ".join(limits)}


def _compare_with_base(summary: pd.DataFrame) -> pd.DataFrame:
    """Add the change against the base row (the first) for cost, moderators, unmet work; limits new vs the base."""
    base = summary.iloc[0]
    for column in ("cost", "moderators", "unmet_hours"):
        summary[column] = pd.to_numeric(summary.get(column), errors="coerce")
        summary[f"{column}_change"] = summary[column] - float(base[column])
    summary["cost_change_pct"] = summary["cost_change"] / float(base["cost"]) if base["cost"] else float("nan")
    base_limits = set(str(base.get("binding_limits", "")).split("; ")) - {""}
    summary["new_limits"] = [
        "; ".join(sorted(set(str(v).split("; ")) - base_limits - {"", "nan"})) if i else "" for i, v in enumerate(summary.get("binding_limits", ""))
    ]
    first = ["scenario", "description", "status", "cost", "cost_change", "cost_change_pct", "moderators", "moderators_change",
             "unmet_hours", "unmet_hours_change", "new_limits"]
    return summary[[c for c in first if c in summary.columns] + [c for c in summary.columns if c not in first]]
