"""Read a history-shaped arrivals file (CSV or Parquet) outside the workspace, e.g. for ``capplan replay --arrivals``.

The file goes through the same parser and checks as ``inputs/history.csv`` (columns, types, the
15-minute grid, duplicates, overlaps), plus a cross-check that every queue and language is a cell
of the workspace, so every error names the file, row and column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capplan.errors import InputError, Problem
from capplan.inputs.parse import TableParser
from capplan.inputs.read import RawTable, _read_csv
from capplan.inputs.cross import check_history_grid
from capplan.inputs.validate import _type_table
from capplan.schema import HISTORY


def read_arrivals_file(path: Path, cells: pd.DataFrame | None = None) -> pd.DataFrame:
    """The typed arrivals (queue, language, interval_start, volume, aht_s) of a CSV or Parquet file.

    Parameters
    ----------
    path : Path
        ``.csv`` or ``.parquet`` with the history columns.
    cells : pandas.DataFrame, optional
        (queue, language) cells of the workspace; rows of other cells are errors.

    Raises
    ------
    InputError
        Listing every problem (file, row, column, expected, found, fix).
    """
    path = Path(path)
    label = str(path)
    if not path.is_file():
        raise InputError([Problem(file=label, message="arrivals file not found", fix="give the path of a CSV or Parquet file with history columns")])
    if path.suffix.lower() == ".parquet":
        try:
            raw = RawTable(HISTORY, label, path, pd.read_parquet(path), native=True)
        except Exception as exc:  # pyarrow raises many types for a damaged file
            raise InputError([Problem(file=label, message=f"cannot read Parquet file ({exc})", fix="re-export the file")]) from None
    else:
        raw, problem = _read_csv(HISTORY, path, label)
        if problem:
            raise InputError([problem])
    frame, problems = _type_table(raw, [])  # no site zones: a naive-time duplicate gets the generic fix
    if frame is not None and not [p for p in problems if p.severity == "error"]:
        parser = TableParser(raw)
        check_history_grid(parser, frame)
        problems += parser.problems
        if cells is not None:
            problems += _unknown_cells(frame, cells, label)
    if [p for p in problems if p.severity == "error"] or frame is None:
        raise InputError(problems)
    return frame.drop(columns="srow").reset_index(drop=True)


def _unknown_cells(frame: pd.DataFrame, cells: pd.DataFrame, label: str) -> list[Problem]:
    known = set(zip(cells["queue"], cells["language"]))
    bad = ~pd.Series([k in known for k in zip(frame["queue"], frame["language"])], index=frame.index)
    if not bad.any():
        return []
    first = frame[bad].iloc[0]
    n = int(bad.sum())
    return [Problem(file=label, row=int(first["srow"]), column="queue",
                    message=f"{first['queue']}/{first['language']} is not a cell of the workspace (no handle time for it)" + (f"; {n - 1} more rows like this" if n > 1 else ""),
                    expected="a queue and language listed in inputs/handle_times.csv", found=f"{first['queue']}/{first['language']}",
                    fix="correct the names, or add the cell to inputs/handle_times.csv and inputs/queues.csv")]
