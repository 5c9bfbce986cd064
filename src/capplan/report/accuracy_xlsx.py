"""Forecast accuracy in Excel: the ``Accuracy`` sheet (how past forecast runs fared) and ``accuracy.xlsx``.

- :func:`accuracy_sheet` lays the per-run and per-cell tables out on one sheet of a workbook being
  written; ``capplan forecast`` adds it to the new run's ``forecast.xlsx`` in the same XlsxWriter pass
  (:func:`capplan.report.forecast_xlsx.write_forecast_workbook`, argument ``accuracy``), so the file is
  written once and its formulas keep their stored values. A finished run's files are never reopened.
- :func:`write_accuracy_workbook` writes ``accuracy/<run-id>/accuracy.xlsx``: README, the Accuracy
  sheet, then per week and per lead time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capplan.report import xlsx
from capplan.schema import BIAS, WAPE

SHEET = "Accuracy"
_SHARE_COLUMNS = (WAPE, BIAS, "naive_wape", "naive_bias", "skill")
NOTE = ("WAPE = sum |forecast - actual| / sum actual; bias > 0 = over-forecast; naive = weekly seasonal naive from the "
        "history before each run; skill = 1 - WAPE / naive WAPE")


@dataclass
class PastAccuracy:
    """The tables of one ``capplan accuracy`` run a workbook shows, and where they come from.

    Attributes
    ----------
    source : ``accuracy/<run-id>``, shown above the tables.
    by_run : one row per past forecast run: WAPE and bias vs the weekly seasonal naive, skill [shares].
    by_cell : per run and cell (queue, language): the same measures.
    """

    source: str
    by_run: pd.DataFrame
    by_cell: pd.DataFrame


def accuracy_sheet(book: xlsx.Book, tables: PastAccuracy) -> xlsx.Sheet:
    """Add the ``Accuracy`` sheet (title, source and measures, then the per-run and per-cell tables) to ``book``."""
    sheet = xlsx.new_sheet(book, SHEET)
    xlsx.put(sheet, 1, 1, "Past forecast runs against the actuals now in history", style=xlsx.TITLE)
    xlsx.put(sheet, 2, 1, f"source: {tables.source}; {NOTE}")
    placed = xlsx.write_table(sheet, tables.by_run, "accuracy_runs", top=4, formats=_formats(tables.by_run))
    xlsx.write_table(sheet, tables.by_cell, "accuracy_cells", top=placed.last_row + 3, formats=_formats(tables.by_cell))
    xlsx.finish_sheet(sheet, freeze="A5", print_rows=False)
    return sheet


def write_accuracy_workbook(path: Path, tables: PastAccuracy, by_week: pd.DataFrame, by_lead: pd.DataFrame,
                            by_lead_all: pd.DataFrame, facts: list[tuple[str, object]]) -> Path:
    """Write ``accuracy.xlsx``: README (``facts``: run id, trend...), Accuracy, By week, By lead time (per run),
    Lead time all runs (pooled)."""
    book = xlsx.Book(path)
    readme = xlsx.new_sheet(book, "README")
    xlsx.readme(readme, "capplan forecast accuracy", [(k, v, None) for k, v in facts], [
        "Accuracy: every past forecast run (and each of its cells) against the actuals now in history.",
        NOTE + ".",
        "By week: per run and week of its horizon; By lead time: per run and whole days from its planning start; "
        "Lead time all runs: the same pooled over every run.",
        "The same tables are by_run, by_cell, by_week, by_lead and by_lead_all (CSV and Parquet) in this folder.",
    ])
    accuracy_sheet(book, tables)
    for title, frame, name in (("By week", by_week, "accuracy_weeks"), ("By lead time", by_lead, "accuracy_lead"),
                               ("Lead time all runs", by_lead_all, "accuracy_lead_all")):
        sheet = xlsx.new_sheet(book, title)
        xlsx.write_table(sheet, frame, name, formats=_formats(frame))
        xlsx.finish_sheet(sheet)
    created = next((str(v) for k, v in facts if k == "created_utc"), None)
    xlsx.set_properties(book, "capplan forecast accuracy", created)
    return book.close()


def _formats(frame: pd.DataFrame) -> dict[str, str]:
    return {c: xlsx.PCT for c in frame.columns if c in _SHARE_COLUMNS}
