"""Does a forecast run still match the workspace it is about to be planned with?

``capplan plan`` reads a forecast made earlier. If the history or events changed since, or the
forecast lacks a cell or some intervals of the plan window, the plan would silently leave that demand
out of requirements, coverage and shortfalls. :func:`check_forecast_matches_inputs` stops the plan
with an :class:`~capplan.errors.InputError` (exit 2) naming what differs and how to fix it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from capplan.errors import InputError, Problem
from capplan.inputs import Workspace
from capplan.schema import CELL_KEYS, INTERVAL_START, LANGUAGE, QUEUE

#: the input tables a forecast is made from: a change in any of them makes the forecast stale
FORECAST_INPUTS = ("history", "events")
RUN_JSON = "run.json"
MAX_LISTED = 5


def check_forecast_matches_inputs(forecast: pd.DataFrame, ws: Workspace, fc_dir: Path, inputs: list[dict]) -> list[str]:
    """Every way the forecast run ``fc_dir`` can disagree with the workspace, as one InputError.

    Checks, in order: the history and events files are the ones the forecast was made from (sha256
    in its ``run.json``); the planning interval is the forecast's; every queue/language cell with
    history has forecast rows; every such cell has a row for every interval of the plan window.

    Parameters
    ----------
    forecast : the forecast table (``queue``, ``language``, ``interval_start`` UTC, ``volume``...).
    ws : the validated workspace the plan uses.
    fc_dir : the forecast run folder (holds ``run.json``).
    inputs : the workspace's input files with sha256, as :func:`capplan.pipeline.common.input_files` gives them.

    Returns
    -------
    list of str
        Warnings (queues that have no demand at all, so nothing is planned for them).

    Raises
    ------
    InputError
        Listing every difference found, each with the file it concerns and the fix.
    """
    label = f"forecasts/{fc_dir.name}/forecast.parquet"
    problems = _stale_inputs(ws, fc_dir, inputs)
    if not problems:
        problems += _missing_cells(forecast, ws, label) + _missing_intervals(forecast, ws, label)
    if problems:
        raise InputError(problems)
    return _queues_without_demand(forecast, ws)


def _stale_inputs(ws: Workspace, fc_dir: Path, inputs: list[dict]) -> list[Problem]:
    label = f"forecasts/{fc_dir.name}/{RUN_JSON}"
    fix = "run 'capplan forecast' again, then 'capplan plan' (or restore the inputs the forecast was made from)"
    try:
        meta = json.loads((fc_dir / RUN_JSON).read_text(encoding="utf-8"))
        recorded = {i["table"]: i for i in meta["inputs"]}
        interval = int(meta["config"]["planning"]["interval_minutes"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [Problem(file=label, message=f"cannot read the forecast's record of its inputs ({type(exc).__name__}: {exc})", fix=fix)]
    problems = []
    now = {i["table"]: i for i in inputs}
    for table in FORECAST_INPUTS:
        before, after = recorded.get(table), now.get(table)
        if before is None or after is None:
            if before != after:
                problems.append(Problem(file=label, message=f"the {table} table was {'added' if before is None else 'removed'} "
                                        f"since forecast run {fc_dir.name} was made", fix=fix))
            continue
        if before.get("file") != after.get("file"):
            problems.append(Problem(file=after["file"], message=f"forecast run {fc_dir.name} was made from {before.get('file')}, "
                                    f"the workspace now has {after['file']}", fix=fix))
        elif before.get("sha256") != after.get("sha256"):
            problems.append(Problem(file=after["file"], message=f"changed since forecast run {fc_dir.name} was made from it "
                                    f"(sha256 {str(before.get('sha256'))[:12]}... then, {str(after.get('sha256'))[:12]}... now): "
                                    "cells or volumes added since would be missing from the plan", fix=fix))
    if interval != ws.config.planning.interval_minutes:
        problems.append(Problem(file="capplan.toml", column="[planning] interval_minutes",
                                message=f"forecast run {fc_dir.name} was made for {interval}-minute intervals, the plan uses "
                                f"{ws.config.planning.interval_minutes}", fix=f"set interval_minutes = {interval} or {fix}"))
    return problems


def _history_cells(ws: Workspace) -> pd.DataFrame:
    start = pd.Timestamp(ws.config.planning.start, tz="UTC")
    hist = ws.history[ws.history[INTERVAL_START] < start]
    return hist[CELL_KEYS].drop_duplicates().sort_values(CELL_KEYS, kind="stable").reset_index(drop=True)


def _missing_cells(forecast: pd.DataFrame, ws: Workspace, label: str) -> list[Problem]:
    have = set(zip(forecast[QUEUE].astype(str), forecast[LANGUAGE].astype(str)))
    need = _history_cells(ws)
    missing = [(q, lang) for q, lang in zip(need[QUEUE], need[LANGUAGE]) if (q, lang) not in have]
    severity = ws.queues.set_index(QUEUE)["severity"].to_dict()
    kind = ws.queues.set_index(QUEUE)["kind"].to_dict()
    missing.sort(key=lambda c: (severity.get(c[0], 9), c))
    problems = [Problem(file=label, column=QUEUE, message=f"no forecast for {q}/{lang} ({kind.get(q, '?')} queue, severity "
                        f"{severity.get(q, '?')}), which has history: its demand would be missing from the plan",
                        fix="run 'capplan forecast' again so that every cell is forecast") for q, lang in missing[:MAX_LISTED]]
    if len(missing) > MAX_LISTED:
        problems.append(Problem(file=label, column=QUEUE, message=f"{len(missing) - MAX_LISTED} more cells with history and no forecast",
                                fix="run 'capplan forecast' again"))
    return problems


def _missing_intervals(forecast: pd.DataFrame, ws: Workspace, label: str) -> list[Problem]:
    planning = ws.config.planning
    start = pd.Timestamp(planning.start, tz="UTC")
    grid = pd.date_range(start, periods=planning.plan_days * 1440 // planning.interval_minutes,
                         freq=f"{planning.interval_minutes}min")
    fc = forecast[[QUEUE, LANGUAGE, INTERVAL_START]].copy()
    fc[INTERVAL_START] = pd.to_datetime(fc[INTERVAL_START], utc=True)
    fc = fc[fc[INTERVAL_START].isin(grid)]
    cells = forecast[CELL_KEYS].astype(str).drop_duplicates()
    counts = fc.groupby(CELL_KEYS, sort=True)[INTERVAL_START].nunique()
    problems = []
    for q, lang in zip(cells[QUEUE], cells[LANGUAGE]):
        n = int(counts.get((q, lang), 0))
        if n == len(grid):
            continue
        present = set(fc.loc[(fc[QUEUE] == q) & (fc[LANGUAGE] == lang), INTERVAL_START])
        gaps = [t for t in grid if t not in present]
        days = sorted({t.date().isoformat() for t in gaps})
        problems.append(Problem(file=label, column=INTERVAL_START, found=f"{n} of {len(grid)} intervals",
                                message=f"the forecast of {q}/{lang} lacks {len(gaps)} intervals of the plan window "
                                f"(first {gaps[0]:%Y-%m-%d %H:%M} UTC; days {', '.join(days[:7])}{' ...' if len(days) > 7 else ''}): "
                                "that demand would be missing from the plan",
                                fix="run 'capplan forecast' again (do not edit forecast files by hand)"))
        if len(problems) >= MAX_LISTED:
            break
    return problems


def _queues_without_demand(forecast: pd.DataFrame, ws: Workspace) -> list[str]:
    have = set(forecast[QUEUE].astype(str))
    quiet = ws.queues[~ws.queues[QUEUE].isin(have)]
    return [f"queue '{r.queue}' ({r.kind}, severity {r.severity}) has no history and no forecast: no staff is planned for it"
            for r in quiet.itertuples()]
