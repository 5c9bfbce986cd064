"""``capplan capacity``: the long-range plan (hiring, attrition, ramp, vendor hours, budget) over 13-52 weeks."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def capacity(
    workspace: Path = typer.Argument(Path("."), help="Workspace folder."),
    weeks: Optional[int] = typer.Option(None, "--weeks", help="Weeks to plan, 13-52 (default: [capacity] weeks in capplan.toml)."),
) -> None:
    """Long-range plan: weekly demand, hiring classes, vendor hours and cost vs budget; writes capacity/<run-id>/."""
    from capplan.cli.main import _progress, print_summary
    from capplan.cli.present import capacity_summary
    from capplan.pipeline.capacity import run_capacity_stage

    with _progress() as progress:
        run = run_capacity_stage(workspace, weeks=weeks, progress=progress)
    print_summary(capacity_summary(run))
