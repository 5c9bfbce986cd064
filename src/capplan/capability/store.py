"""Where a capability run keeps its estimates, and reading the latest ones back (for ``[staffing] proficiency``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capplan.errors import ConfigError, RunNotFoundError
from capplan.runs import resolve_run
from capplan.schema import CAPABILITY_ESTIMATE_COLUMNS

CAPABILITY = "capability"  # run folder of the workspace: capability/<run-id>/
ESTIMATES = "estimates"  # estimates.parquet / estimates.csv in a run folder


def latest_estimates(root: Path) -> tuple[str, pd.DataFrame]:
    """``(run id, estimates)`` of the workspace's latest capability run.

    Raises
    ------
    ConfigError
        No capability run yet (``[staffing] proficiency = "estimated"`` needs one), or it lacks columns.
    """
    try:
        folder = resolve_run(Path(root) / CAPABILITY, None, CAPABILITY, required=(f"{ESTIMATES}.parquet",))
    except RunNotFoundError as exc:
        raise ConfigError(f'[staffing] proficiency = "estimated" needs a capability run: {exc}') from None
    frame = pd.read_parquet(folder / f"{ESTIMATES}.parquet")
    missing = [c for c in CAPABILITY_ESTIMATE_COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(f"{folder / (ESTIMATES + '.parquet')} lacks columns {missing}. Fix: run 'capplan capability' again")
    return folder.name, frame
