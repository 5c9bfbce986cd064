"""A tiny workspace (tests/_ws.py) with a hand-written forecast run, so scenario plans solve in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from _ws import START, make_workspace

FORECAST_RUN = "20260301T000000Z"
CELLS = {("video", "en"): 40.0, ("video", "es"): 10.0, ("live", "en"): 20.0}  # items per hour


def hand_forecast(days: int = 28) -> pd.DataFrame:
    """Constant hourly volume per cell with bands at 0.8x / 1.2x (80 %) and 0.7x / 1.3x (95 %)."""
    times = pd.date_range(pd.Timestamp(START, tz="UTC"), periods=days * 24, freq="h")
    rows = []
    for (queue, language), volume in CELLS.items():
        rows.append(pd.DataFrame({"queue": queue, "language": language, "interval_start": times, "volume": volume,
                                  "volume_lo_80": 0.8 * volume, "volume_hi_80": 1.2 * volume,
                                  "volume_lo_95": 0.7 * volume, "volume_hi_95": 1.3 * volume, "model": "hand"}))
    return pd.concat(rows, ignore_index=True)


def forecast_record(root: Path) -> dict:
    """The run.json a real forecast run of this workspace would carry (inputs with hashes, config): what
    ``capplan plan`` checks the hand-written forecast against (issue 13: a plan's forecast must match its inputs)."""
    from capplan.inputs import load_workspace
    from capplan.pipeline.common import provenance, input_files

    ws = load_workspace(root)
    return provenance(ws, input_files(ws), {}, {"run_id": FORECAST_RUN, "kind": "forecast"})


def scenario_workspace(root: Path, scenarios: dict[str, str] | None = None) -> Path:
    """The tiny workspace, a forecast run ``FORECAST_RUN`` (made without a scenario) and scenario files."""
    root = make_workspace(root)
    run = root / "forecasts" / FORECAST_RUN
    run.mkdir(parents=True)
    hand_forecast().to_parquet(run / "forecast.parquet", index=False)
    (run / "run.json").write_text(json.dumps(forecast_record(root)), encoding="utf-8")
    (root / "forecasts" / "latest").write_text(FORECAST_RUN + "\n", encoding="utf-8")
    if scenarios:
        (root / "scenarios").mkdir()
        for name, text in scenarios.items():
            (root / "scenarios" / f"{name}.toml").write_text(text, encoding="utf-8")
    return root


def cell(frame: pd.DataFrame, queue: str, language: str) -> pd.DataFrame:
    return frame[(frame["queue"] == queue) & (frame["language"] == language)].reset_index(drop=True)


__all__ = ["CELLS", "FORECAST_RUN", "START", "cell", "hand_forecast", "np", "scenario_workspace"]
