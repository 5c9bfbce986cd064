"""An ``Accuracy`` sheet added to a finished ``forecast.xlsx``: how past forecast runs fared.

Kept apart from :mod:`capplan.report.forecast_xlsx` so the forecast workbook's writer does not change:
the forecast command calls :func:`add_accuracy_sheet` after writing the workbook, when a
``capplan accuracy`` run exists.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from capplan.report import xlsx_openpyxl as xlsx  # openpyxl writer; the plan workbooks moved to XlsxWriter (report.xlsx)

SHEET = "Accuracy"
_SHARE_COLUMNS = ("wape", "bias", "naive_wape", "naive_bias", "skill")


def add_accuracy_sheet(path: Path, by_run: pd.DataFrame, by_cell: pd.DataFrame, source: str) -> Path:
    """Add the ``Accuracy`` sheet to the workbook at ``path`` (saved in place).

    Parameters
    ----------
    path : a ``forecast.xlsx`` being written (inside a run folder not yet renamed into place).
    by_run : one row per past forecast run: WAPE and bias vs the weekly seasonal naive, skill.
    by_cell : per run and cell (queue, language): the same measures.
    source : where the tables come from (e.g. ``accuracy/<run-id>``), shown above them.
    """
    wb = load_workbook(path)
    book = xlsx.Book(titles={s.title.lower() for s in wb.worksheets},
                     tables={t.lower() for s in wb.worksheets for t in s.tables})
    ws = xlsx.new_sheet(wb, book, SHEET)
    xlsx.put(ws, 1, 1, "Past forecast runs against the actuals now in history").font = xlsx.TITLE_FONT
    xlsx.put(ws, 2, 1, f"source: {source}; WAPE = sum |forecast - actual| / sum actual; bias > 0 = over-forecast; "
                       "naive = weekly seasonal naive from the history before each run; skill = 1 - WAPE / naive WAPE")
    placed = xlsx.write_table(ws, book, by_run, "accuracy_runs", top=4, formats=_formats(by_run))
    xlsx.write_table(ws, book, by_cell, "accuracy_cells", top=placed.last_row + 3, formats=_formats(by_cell))
    xlsx.finish_sheet(ws, freeze="A5", print_rows=None)
    wb.save(path)
    return path


def _formats(frame: pd.DataFrame) -> dict[str, str]:
    return {c: xlsx.PCT for c in frame.columns if c in _SHARE_COLUMNS}
