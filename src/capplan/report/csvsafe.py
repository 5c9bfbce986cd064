"""CSV files are opened by people too: a text cell a spreadsheet would run as a formula is written as text.

OWASP "CSV injection": a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is a formula to
Excel and LibreOffice when the CSV is opened. Such cells get a leading apostrophe (the spreadsheet's own "this
is text" mark); numbers and every other text are written unchanged. Parquet files keep the exact values.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose formula-like text cells start with ``'``."""
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            values = out[c].astype(object)
            risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START))
            if risky.any():
                out[c] = values.where(~risky, "'" + values.astype(str))
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` to ``path`` as CSV (no index), formula-safe."""
    csv_safe(frame).to_csv(path, index=False)
    return Path(path)
