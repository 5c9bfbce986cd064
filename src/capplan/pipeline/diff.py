"""``capplan diff RUN_A RUN_B``: compare two plan runs of one workspace; writes ``diffs/<run-id>/``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from capplan.pipeline.common import Progress, no_progress, now_utc, versions
from capplan.runs import file_sha256, run_folder, write_json
from capplan.scenarios.diff import PlanDiff, compare_plans, resolve_plan
from capplan.timing import StageTimer

DIFFS = "diffs"
_TABLES = ("headline", "cost", "moderators", "vendor_hours", "coverage", "binding", "why", "service")


@dataclass
class DiffRun:
    """What a diff run wrote: its id and folder, and the comparison itself."""

    run_id: str
    folder: Path
    diff: PlanDiff


def run_diff(run_a: str, run_b: str, workspace: Path = Path("."), progress: Progress = no_progress) -> DiffRun:
    """Compare plan runs ``run_a`` and ``run_b`` (run ids in ``<workspace>/plans/`` or run folder paths).

    Raises
    ------
    RunNotFoundError
        A run that does not exist.
    ConfigError
        Runs of two different workspaces (nothing is written).
    """
    timer = StageTimer(progress)
    with timer.stage("reading plans"):
        folder_a, folder_b = resolve_plan(workspace, run_a), resolve_plan(workspace, run_b)
        diff = compare_plans(folder_a, folder_b)
    with run_folder(diff.workspace / DIFFS) as (tmp, run_id), timer.stage("writing diff"):
        for name in _TABLES:
            getattr(diff, name).to_csv(tmp / f"{name}.csv", index=False)
        info = {"diff run": run_id, "created_utc": now_utc()}
        from capplan.scenarios.workbook import write_diff_workbook

        write_diff_workbook(tmp / "diff.xlsx", diff, info)
        write_json(tmp / "run.json", {
            "run_id": run_id, "kind": "diff", "created_utc": info["created_utc"], "versions": versions(),
            "plans": [{"run": f.name, "solve_sha256": file_sha256(f / "solve.json")} for f in (folder_a, folder_b)],
            "sentences": diff.sentences, "timings_s": {k: round(v, 3) for k, v in timer.timings.items()}})
    return DiffRun(run_id=run_id, folder=diff.workspace / DIFFS / run_id, diff=diff)
