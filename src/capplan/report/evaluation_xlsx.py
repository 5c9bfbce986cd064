"""``evaluation.xlsx``: a walk-forward evaluation for a planner: totals, weeks, cell-weeks, README."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capplan.report import xlsx
from capplan.schema import BIAS, WAPE

_SHARES = ("share", "rate", WAPE, BIAS, "achieved", "vs_hindsight")


def write_evaluation_workbook(path: Path, totals: pd.DataFrame, weeks: pd.DataFrame, cell_weeks: pd.DataFrame,
                              facts: list[tuple[str, object]], notes: list[str]) -> Path:
    """Write ``evaluation.xlsx``.

    Parameters
    ----------
    totals : one row per configuration (variant) over all weeks.
    weeks : one row per variant and week.
    cell_weeks : one row per variant, week, queue and language.
    facts : key-value provenance for the README sheet (run id, weeks, verdict...).
    notes : explanatory lines for the README sheet.
    """
    book = xlsx.Book(path)
    readme = xlsx.new_sheet(book, "README")
    xlsx.readme(readme, "capplan walk-forward evaluation", [(key, value, None) for key, value in facts], notes)
    for title, frame, name in (("Totals", totals, "totals"), ("Weeks", weeks, "weeks"), ("Cell-weeks", cell_weeks, "cell_weeks")):
        sheet = xlsx.new_sheet(book, title)
        xlsx.write_table(sheet, frame, name, formats=_formats(frame))
        xlsx.finish_sheet(sheet)
    created = next((str(v) for k, v in facts if k == "created_utc"), None)
    xlsx.set_properties(book, "capplan evaluation", created)
    return book.close()


def _formats(frame: pd.DataFrame) -> dict[str, str]:
    return {c: xlsx.PCT for c in frame.columns if any(s in str(c) for s in _SHARES) and pd.api.types.is_numeric_dtype(frame[c])}
