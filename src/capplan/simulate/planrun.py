"""Reading a plan run for a replay: its tables, the config it was made with, and whether it still fits.

A plan is replayed against the workspace it was made from: the input files that shape the operation
(pools, shifts, queues, handle times) must hash as they did when the plan ran (``run.json``), or the
replay would simulate an operation the plan never saw.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from capplan.errors import InputError, Problem, RunNotFoundError
from capplan.schema import INTERVAL_START

#: input tables whose change makes a plan unfit for replay (history and events may change freely)
PLAN_SHAPING_TABLES = ("pools", "shifts", "queues", "handle_times")


def load_plan(plan_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The (shift_plan, allocation) tables of a plan run folder.

    Raises
    ------
    RunNotFoundError
        The folder lacks ``shift_plan.parquet`` or ``allocation.parquet``.
    """
    plan_dir = Path(plan_dir)
    missing = [n for n in ("shift_plan.parquet", "allocation.parquet") if not (plan_dir / n).is_file()]
    if missing:
        raise RunNotFoundError(f"{plan_dir}: not a complete plan run (missing {', '.join(missing)}). Fix: name a folder under plans/")
    shift_plan = pd.read_parquet(plan_dir / "shift_plan.parquet")
    allocation = pd.read_parquet(plan_dir / "allocation.parquet")
    for frame, col in ((shift_plan, "start_utc"), (allocation, INTERVAL_START)):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col], utc=True)
    return shift_plan, allocation


def plan_run_info(plan_dir: Path) -> dict:
    """The plan's run.json ({} when absent)."""
    path = Path(plan_dir) / "run.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def input_mismatches(plan_info: dict, current_inputs: list[dict], plan_label: str) -> list[Problem]:
    """Problems for every plan-shaping input whose hash differs from the one the plan recorded."""
    then = {i["table"]: i for i in plan_info.get("inputs", [])}
    now = {i["table"]: i for i in current_inputs}
    problems = []
    for table in PLAN_SHAPING_TABLES:
        a, b = then.get(table), now.get(table)
        if a is None:
            problems.append(Problem(file=f"{plan_label}/run.json", message=f"the plan records no hash for input {table}; cannot tell whether it was made from this workspace",
                                    fix="re-run 'capplan plan' in this workspace"))
        elif b is None or a.get("sha256") != b.get("sha256"):
            problems.append(Problem(file=str(b["file"]) if b else table,
                                    message=f"{table} changed since plan {Path(plan_label).name} was made (sha256 {str(a.get('sha256'))[:12]} in the plan's run.json, "
                                            f"{str(b.get('sha256') if b else None)[:12]} now), or the plan comes from another workspace",
                                    fix="re-run 'capplan plan' on the current inputs, or restore the inputs the plan was made from"))
    return problems


def check_plan_inputs(plan_info: dict, current_inputs: list[dict], plan_label: str) -> None:
    """Raise :class:`InputError` naming every plan-shaping input that differs."""
    problems = input_mismatches(plan_info, current_inputs, plan_label)
    if problems:
        raise InputError(problems)
