"""``capplan report dsa``: moderators and FTE per EU language from a plan run; writes ``reports/dsa/<run-id>/``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capplan.inputs import load_workspace
from capplan.pipeline.common import PLANS, input_files, provenance
from capplan.runs import resolve_run, run_folder, write_json
from capplan.timing import StageTimer

DSA_REPORTS = Path("reports") / "dsa"


@dataclass
class DsaRun:
    """What ``capplan report dsa`` wrote, and the table it holds."""

    run_id: str
    folder: Path
    plan_run: str
    period: tuple[str, str]
    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def run_dsa_report(workspace: Path, *, plan_run: str | None = None) -> DsaRun:
    """Tabulate the plan ``plan_run`` (default: ``plans/latest``) per language; see :mod:`capplan.report.dsa`."""
    from capplan.report.dsa import dsa_languages, write_dsa

    timer = StageTimer()
    workspace = Path(workspace)
    with timer.stage("reading plan"):
        ws = load_workspace(workspace)
        plan_dir = resolve_run(workspace / PLANS, plan_run, "plan")
        plan_info = json.loads((plan_dir / "run.json").read_text(encoding="utf-8")) if (plan_dir / "run.json").exists() else {}
        planning = plan_info.get("config", {}).get("planning", {})
        start = pd.Timestamp(planning.get("start", ws.config.planning.start))
        days = int(planning.get("plan_days", ws.config.planning.plan_days))
        shift_plan = pd.read_parquet(plan_dir / "shift_plan.parquet")
        allocation = pd.read_parquet(plan_dir / "allocation.parquet")
        patterns = pd.read_parquet(plan_dir / "patterns.parquet") if (plan_dir / "patterns.parquet").exists() else pd.DataFrame()
    warnings = _stale_inputs(ws, plan_info)
    if patterns.empty:
        warnings.append(f"plan {plan_dir.name} has no patterns.parquet: moderators are the peak day's headcount (a lower bound)")
    table = dsa_languages(ws.pools, shift_plan, allocation, patterns, start, days)
    end = start + pd.Timedelta(days=days - 1)
    period = (f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}")
    facts = [("Plan run", plan_dir.name, None), ("Period (UTC)", f"{period[0]} to {period[1]}", None), ("Plan days", days, "0"),
             ("Moderators source", "weekly patterns" if not patterns.empty else "peak daily headcount", None)]
    with run_folder(workspace / DSA_REPORTS) as (tmp, run_id), timer.stage("writing report"):
        write_dsa(tmp, table, [("Run id", run_id, None), *facts])
        write_json(tmp / "run.json", provenance(ws, input_files(ws), timer.timings, {
            "run_id": run_id, "kind": "dsa_report", "plan_run": plan_dir.name, "period": list(period), "warnings_report": warnings}))
    return DsaRun(run_id=run_id, folder=workspace / DSA_REPORTS / run_id, plan_run=plan_dir.name, period=period, table=table,
                  warnings=warnings)


def _stale_inputs(ws, plan_info: dict) -> list[str]:
    """Warn when the pools file (skills, proficiency) changed since the plan was made."""
    planned = {i.get("table"): i.get("sha256") for i in plan_info.get("inputs", [])}
    now = {i["table"]: i["sha256"] for i in input_files(ws) if i["table"] == "pools"}
    if "pools" in planned and planned["pools"] != now.get("pools"):
        return ["inputs/pools.csv changed since the plan was made: qualifications are today's pools, headcount the plan's"]
    return []
