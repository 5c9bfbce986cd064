"""What every command's run shares: provenance (inputs with hashes, config, versions), table writing.

Nothing here prints; the CLI formats the results the commands return.
"""

from __future__ import annotations

import datetime as dt
import platform
from importlib import metadata
from pathlib import Path

import pandas as pd

from capplan import __version__
from capplan.config import CONFIG_FILE
from capplan.inputs import Workspace
from capplan.report.csvsafe import write_csv
from capplan.runs import file_sha256
from capplan.timing import Progress

FORECASTS = "forecasts"
PLANS = "plans"
_LIBRARIES = ("statsforecast", "pandas", "numpy", "ortools", "openpyxl", "pydantic", "typer", "pyarrow", "xlsxwriter")


def no_progress(stage: str, fraction: float) -> None:
    """The default progress callback: does nothing."""
    return None


def versions() -> dict[str, str]:
    """Versions of capplan, Python and the libraries whose behaviour shapes the numbers."""
    found = {"capplan": __version__, "python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def input_files(workspace: Workspace) -> list[dict]:
    """Each input table's file and sha256 (hashed once per run: history files can be large)."""
    root = workspace.root
    return [
        {"table": name, "file": str(path.relative_to(root)) if path.is_relative_to(root) else str(path),
         "sha256": file_sha256(path) if path.is_file() else None}
        for name, path in sorted(workspace.sources.items())
    ]


def now_utc() -> str:
    """The current UTC time, ISO 8601 to the second (what run.json and README sheets record)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def provenance(workspace: Workspace, inputs: list[dict], timings: dict[str, float], extra: dict | None = None) -> dict:
    """What run.json records: inputs with hashes, config, versions, seed, timings."""
    config_path = workspace.root / CONFIG_FILE
    payload = {
        "created_utc": now_utc(),
        "inputs": inputs,
        "config_file": {"file": CONFIG_FILE, "sha256": file_sha256(config_path) if config_path.exists() else None},
        "config": workspace.config.model_dump(mode="json"),
        "versions": versions(),
        "seed": workspace.config.forecast.seed,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "warnings": [str(w) for w in workspace.warnings],
    }
    payload.update(extra or {})
    return payload


def write_table(frame: pd.DataFrame, folder: Path, name: str, csv: bool = False) -> None:
    """Parquet (and CSV when a person may open it: formula-like text escaped) into a run folder being built."""
    frame.to_parquet(folder / f"{name}.parquet", index=False)
    if csv:
        write_csv(frame, folder / f"{name}.csv")


__all__ = ["FORECASTS", "PLANS", "Progress", "no_progress", "versions", "input_files", "now_utc", "provenance",
           "write_table"]
