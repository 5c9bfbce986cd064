"""Read and validate the optional ``inputs/backlog.csv``: deferred items waiting at the plan start.

Columns (:data:`capplan.schema.BACKLOG_TABLE`): ``queue`` and ``language`` (a deferred cell with a handle time),
``arrived`` (UTC, before the plan start) and ``items``. Each row's work is ``items x aht_s / 3600`` standard hours,
due at ``arrived + within`` by the one deadline rule (:func:`capplan.staffing.backlog.due_shift`). With the file,
``[planning] week_end = "auto"`` plans a terminal (rolling) week that opens with this backlog (docs/rolling.md).
A replay writes ``closing_backlog.csv`` in this layout, so the next week can start where the replayed one ended.
Problems are collected the inputs layer's way (:class:`capplan.inputs.parse.TableParser`) and raised at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from capplan.errors import InputError
from capplan.inputs.read import read_optional_table
from capplan.schema import ARRIVED, BACKLOG_TABLE, ITEMS, LANGUAGE, QUEUE

BACKLOG_FILE = "backlog.csv"


def read_backlog(root: Path, *, queues: pd.DataFrame, handle_times: pd.DataFrame, start: pd.Timestamp,
                 within_s: dict | None = None) -> pd.DataFrame | None:
    """Opening-backlog rows, or ``None`` when there is no ``inputs/backlog.csv``.

    Parameters
    ----------
    root : Path
        Workspace folder.
    queues, handle_times : pandas.DataFrame
        The validated queues (``queue``, ``kind``, ``within_s``) and handle times (``queue``, ``language``).
    start : pandas.Timestamp
        Plan start (UTC midnight): every item must have arrived before it.

    Returns
    -------
    pandas.DataFrame or None
        ``queue``, ``language``, ``arrived`` (UTC), ``items`` [items], ``row`` (spreadsheet row), sorted by cell and arrival.

    Raises
    ------
    InputError
        Every problem at once: a queue not in queues, a realtime queue, a cell without a handle time, items dated at
        or after the plan start, duplicated rows.
    """
    found = read_optional_table(root, BACKLOG_TABLE, BACKLOG_FILE)
    if found is None:
        return None
    parser, frame = found
    kind = dict(zip(queues[QUEUE].astype(str), queues["kind"]))
    within = dict(zip(queues[QUEUE].astype(str), queues["within_s"].astype(float)))
    cells = set(zip(handle_times[QUEUE].astype(str), handle_times[LANGUAGE].astype(str)))
    q = frame[QUEUE].fillna("").astype(str)
    lang = frame[LANGUAGE].fillna("").astype(str)
    unknown_q = np.array([bool(x) and x not in kind for x in q])
    parser.cells(unknown_q, q, "queue is not in queues", QUEUE, "one of " + ", ".join(sorted(kind)), "correct the queue name or add it to inputs/queues.csv")
    realtime = np.array([kind.get(x) == "realtime" for x in q])
    parser.cells(realtime, q, "a backlog is for deferred queues; realtime items waiting at the plan start are not planned", QUEUE,
                 "a deferred queue", "remove the row (a realtime queue's waiting line empties within minutes)")
    unknown_cell = np.array([x in kind and bool(y) and (x, y) not in cells for x, y in zip(q, lang)])
    parser.cells(unknown_cell, lang, "no such cell: the queue and language have no row in handle_times", LANGUAGE,
                 "a language the queue is worked in", "correct the language or add the cell to inputs/handle_times.csv")
    arrived = frame[ARRIVED]
    late = (arrived.notna() & (arrived >= start)).to_numpy()
    parser.cells(late, arrived.astype(str), "items dated at or after the plan start are not an opening backlog", ARRIVED,
                 f"a time before {start:%Y-%m-%dT%H:%MZ}", "forecast them as arrivals instead, or move [planning] start")
    overdue = np.array([bool(a is not pd.NaT and pd.notna(a) and not late[i] and x in within and a + pd.Timedelta(seconds=within[x]) <= start)
                        for i, (a, x) in enumerate(zip(arrived, q))])
    parser.cells(overdue, arrived.astype(str), "items already past their deadline at the plan start (they count as late at once)", ARRIVED,
                 "items still within the queue's turnaround window", "check the export; overdue work is planned in the first interval",
                 severity="warning")
    dup = frame.duplicated([QUEUE, LANGUAGE, ARRIVED], keep="first").to_numpy()
    parser.cells(dup, q, "second row for the same queue, language and arrival time", ARRIVED, "one row per cell and arrival time",
                 "add the items into one row")
    errors = [p for p in parser.problems if p.severity == "error"]
    if errors:
        raise InputError(parser.problems)
    out = frame[[QUEUE, LANGUAGE, ARRIVED, ITEMS, "row"]].sort_values([QUEUE, LANGUAGE, ARRIVED], kind="stable").reset_index(drop=True)
    out.attrs["warnings"] = [p for p in parser.problems if p.severity != "error"]
    return out
