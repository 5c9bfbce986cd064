"""``capplan replay``: put the plan window's arrivals (or drawn paths) through a plan with a routing policy."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer


class ReplayEngine(str, Enum):
    local = "local"
    dask = "dask"


def replay(
    workspace: Path = typer.Argument(Path("."), help="Workspace folder."),
    plan_run: Optional[str] = typer.Option(None, "--plan", help="Plan run id (default: plans/latest)."),
    arrivals: Optional[Path] = typer.Option(None, "--arrivals", help="History-shaped CSV or Parquet with the window's actual arrivals (default: the workspace history)."),
    policy: str = typer.Option("priority", "--policy", help="Routing policy: plan (follow the planned allocation), priority (realtime first, then severity and earliest deadline) or edf."),
    scenarios: int = typer.Option(0, "--scenarios", min=0, help="Replay N arrival paths drawn from the plan's forecast instead of actual arrivals: the probability of meeting each target."),
    seed: int = typer.Option(0, "--seed", help="Random seed of arrival instants, handle times, patience and scenario paths."),
    engine: ReplayEngine = typer.Option(ReplayEngine.local, "--engine", help="Where --scenarios paths run: local or dask."),
    dask_address: Optional[str] = typer.Option(None, "--dask-address", help="Address of a running Dask scheduler (default: a local cluster)."),
) -> None:
    """Replay a plan against what arrived (or --scenarios drawn paths); writes replays/<run-id>/."""
    from capplan.cli.main import _progress, print_summary
    from capplan.cli.present import replay_summary
    from capplan.pipeline.replay import run_replay_stage

    with _progress() as progress:
        run = run_replay_stage(workspace, plan_run=plan_run, arrivals_file=arrivals, policy=policy, scenarios=scenarios,
                               seed=seed, engine=engine.value, dask_address=dask_address, progress=progress)
    print_summary(replay_summary(run))
