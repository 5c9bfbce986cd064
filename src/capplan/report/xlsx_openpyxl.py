"""The openpyxl table writer the capacity, replay, evaluation, accuracy and scenario workbooks use (the plan
workbooks moved to XlsxWriter in :mod:`capplan.report.xlsx`, which stores formula values; these workbooks
hold values, not formulas, so openpyxl serves them until they move too).

Low-level Excel layout: safe titles and names, escaped cells, Excel tables, formats, print setup.

Every workbook writer in :mod:`capplan.report` lays its tidy tables out with these helpers, so the
quality rules live in one place:

- sheet titles at most 31 characters, none of ``[]:*?/\\``, unique (case-insensitive);
- table and defined names valid and unique per workbook;
- no string from an input ever becomes a formula: a text starting with ``= + - @`` (or tab/CR) is
  stored as a string cell with Excel's quote prefix (what typing ``'=...`` in Excel does);
- datetimes are written as naive UTC (Excel has no time zones); headers say "(UTC)";
- Excel's limits (1,048,576 rows) respected by splitting a long table over continuation sheets.

References
----------
tablib ``src/tablib/formats/_xlsx.py`` (sheet-title cleaning, escaping); OWASP "CSV injection".
"""

from __future__ import annotations

import datetime as dt
import math
from copy import copy
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table, TableStyleInfo
from capplan.report.xlsx import DATE, DATETIME, HOURS, INT, NUM, PCT, TEXT, Names, chunks, default_format, header_label, money  # noqa: F401 (shared with the XlsxWriter layer; re-exported)

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384

# number formats

HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
INPUT_FONT = Font(color="1F3FBF")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


Book = Names  # the names used in one workbook: one rule for both writers (capplan.report.xlsx.Names)


def new_sheet(wb, book: Book, title: str, *, first: bool = False):
    """Add a worksheet with a safe title (``first`` reuses the default sheet of a new workbook)."""
    safe = book.sheet_title(title)
    if first:
        ws = wb.active
        ws.title = safe
    else:
        ws = wb.create_sheet(safe)
    return ws


def cell_value(value):
    """A Python value openpyxl can store: NaN/NaT -> None, numpy -> Python, tz-aware -> naive UTC."""
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, pd.Timestamp):
        if pd.isna(value):
            return None
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        return value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(value, (tuple, list)):
        return ";".join(str(v) for v in value)
    if value is pd.NaT:
        return None
    if isinstance(value, (str, dt.date, dt.datetime, dt.time)):
        return value
    return str(value)


def put(ws, row: int, col: int, value, number_format: str | None = None):
    """Write one cell; strings are always text (never a formula), whatever they start with."""
    value = cell_value(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        escape(cell)
    if number_format and value is not None and not isinstance(value, str):
        cell.number_format = number_format
    return cell


def escape(cell) -> None:
    """Make a string cell text even if it looks like a formula (Excel's quote prefix)."""
    cell.data_type = "s"
    cell.quotePrefix = True


def formula(ws, row: int, col: int, text: str, number_format: str | None = None):
    """Write a formula this code composed (never from input text)."""
    cell = ws.cell(row=row, column=col, value=text)
    if number_format:
        cell.number_format = number_format
    return cell


def _column_values(series: pd.Series) -> list:
    if pd.api.types.is_datetime64_any_dtype(series):
        s = series
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        return [None if pd.isna(v) else v.to_pydatetime() for v in s]
    if pd.api.types.is_bool_dtype(series):
        return [bool(v) for v in series]
    if pd.api.types.is_integer_dtype(series) and not series.hasnans:
        return series.astype("int64").tolist()
    if pd.api.types.is_float_dtype(series):
        return [None if v != v else v for v in series.astype("float64").tolist()]
    return [cell_value(v) for v in series.tolist()]


@dataclass
class Placed:
    """Where a table landed: header row, first/last data rows, column letter by tidy column name."""

    sheet: str
    header_row: int
    first_row: int
    last_row: int
    columns: dict[str, str]
    total_row: int | None = None

    def ref(self, column: str, absolute: bool = True) -> str:
        """Range of one column's data cells, e.g. ``'Vendors'!$E$2:$E$40``."""
        col = self.columns[column]
        if absolute:
            return f"{quote_sheetname(self.sheet)}!${col}${self.first_row}:${col}${self.last_row}"
        return f"{quote_sheetname(self.sheet)}!{col}{self.first_row}:{col}{self.last_row}"


def write_table(
    ws,
    book: Book,
    df: pd.DataFrame,
    name: str,
    *,
    top: int = 1,
    left: int = 1,
    formats: dict[str, str] | None = None,
    formulas: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    totals: list[str] | None = None,
    style: str = "TableStyleMedium2",
) -> Placed:
    """Write ``df`` as an Excel table; ``formulas`` adds/overrides columns with live formulas.

    A formula template names other columns in braces and gets the same row's cell, e.g.
    ``"={volume}*{aht_s}/3600"`` -> ``=D2*E2/3600``. ``totals`` columns get a ``=SUM(...)`` row under
    the table (outside it, so sorting the table never moves the total).
    """
    formats = formats or {}
    formulas = formulas or {}
    headers = headers or {}
    columns = list(df.columns) + [c for c in formulas if c not in df.columns]
    letters = {c: get_column_letter(left + i) for i, c in enumerate(columns)}
    n = len(df)
    if top + max(n, 1) > EXCEL_MAX_ROWS:
        raise ValueError(f"table {name} has {n} rows, more than fit on one sheet; split it first (write_split)")

    for i, c in enumerate(columns):
        label = headers.get(c) or header_label(str(c), df[c] if c in df.columns else None)
        cell = put(ws, top, left + i, label)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")

    first = top + 1
    for i, c in enumerate(columns):
        col = left + i
        if c in formulas:
            template = formulas[c]
            fmt = formats.get(c, NUM)
            keys = re.findall(r"\{(\w+)\}", template)
            styled = None
            for r in range(first, first + n):
                cell = ws.cell(row=r, column=col, value=template.format(**{k: f"{letters[k]}{r}" for k in keys}))
                if styled is None:
                    cell.number_format = fmt
                    styled = cell._style
                else:
                    cell._style = copy(styled)
            continue
        series = df[c]
        fmt = formats.get(c, default_format(series))
        values = _column_values(series)
        needs_check = series.dtype == object
        styled = None  # style of the first formatted cell, copied to the rest (much faster than re-resolving)
        for r, v in enumerate(values, start=first):
            if needs_check and isinstance(v, str):
                put(ws, r, col, v)
                continue
            cell = ws.cell(row=r, column=col, value=v)
            if fmt and v is not None and not isinstance(v, str):
                if styled is None:
                    cell.number_format = fmt
                    styled = cell._style
                else:
                    cell._style = copy(styled)
    last = first + max(n, 1) - 1
    ref = f"{get_column_letter(left)}{top}:{get_column_letter(left + len(columns) - 1)}{last}"
    table = Table(displayName=book.table_name(name), ref=ref)
    table.tableStyleInfo = TableStyleInfo(name=style, showRowStripes=True)
    ws.add_table(table)
    placed = Placed(ws.title, top, first, last, letters)
    if totals:
        total_row = last + 1
        label = put(ws, total_row, left, "Total")
        label.font = BOLD
        for c in totals:
            cell = formula(ws, total_row, columns.index(c) + left, f"=SUM({letters[c]}{first}:{letters[c]}{last})", formats.get(c, NUM))
            cell.font = BOLD
        placed.total_row = total_row
    size_columns(ws, df, columns, left, headers)
    return placed


def size_columns(ws, df: pd.DataFrame, columns: list, left: int, headers: dict | None = None) -> None:
    """Column widths from the header and a sample of values (8-50 characters)."""
    headers = headers or {}
    sample = df.head(200)
    for i, c in enumerate(columns):
        width = len(headers.get(c) or header_label(str(c), df[c] if c in df.columns else None))
        if c in sample.columns:
            s = sample[c]
            if pd.api.types.is_datetime64_any_dtype(s):
                width = max(width, 16)
            elif pd.api.types.is_numeric_dtype(s):
                width = max(width, 12)
            else:
                width = max([width] + [len(str(v)) for v in s.tolist()])
        else:
            width = max(width, 12)
        letter = get_column_letter(left + i)
        current = ws.column_dimensions[letter].width or 0
        ws.column_dimensions[letter].width = max(current, min(max(width + 2, 8), 50))


def finish_sheet(ws, *, freeze: str | None = "A2", print_rows: str | None = "1:1") -> None:
    """Frozen header, landscape print fitted to one page wide, repeated header row."""
    if freeze:
        ws.freeze_panes = freeze
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if print_rows:
        ws.print_title_rows = print_rows


def define(wb, book: Book, prefix: str, text: str, ws, coordinate: str) -> str:
    """Create a workbook-scope defined name for one cell; returns the name."""
    name = book.defined_name(prefix, text) if text else book._unique(book.names, prefix)
    col, row = re.match(r"([A-Z]+)(\d+)", coordinate).groups()
    wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(ws.title)}!${col}${row}")
    return name


def mark_input(cell) -> None:
    """Excel's 'input' look: blue text on light yellow, so a planner sees what may be edited."""
    cell.fill = INPUT_FILL
    cell.font = INPUT_FONT


def readme(ws, title: str, facts: list[tuple[str, object]], paragraphs: list[str]) -> int:
    """A README sheet: title, key-value facts, explanatory paragraphs. Returns the next free row."""
    put(ws, 1, 1, title).font = TITLE_FONT
    row = 3
    for key, value in facts:
        put(ws, row, 1, key).font = BOLD
        put(ws, row, 2, value, DATETIME if isinstance(value, (dt.datetime, pd.Timestamp)) else None)
        row += 1
    row += 1
    for text in paragraphs:
        cell = put(ws, row, 1, text)
        if text.isupper() or text.endswith(":"):
            cell.font = BOLD
        row += 1
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 70
    finish_sheet(ws, freeze=None, print_rows=None)
    return row + 1


def set_properties(wb, title: str, created: str | None = None) -> None:
    """Document properties carry only what this workbook is (no names of third parties).

    ``created`` (ISO 8601) becomes the created/modified time, so a re-run writes the same properties.
    """
    if created:
        try:
            when = pd.Timestamp(created)
            when = when.tz_convert("UTC").tz_localize(None) if when.tzinfo is not None else when
            wb.properties.created = wb.properties.modified = when.to_pydatetime()
        except (ValueError, TypeError):
            pass
    wb.properties.creator = "capplan"
    wb.properties.lastModifiedBy = "capplan"
    wb.properties.title = ILLEGAL_CHARACTERS_RE.sub("", title)[:200]
    wb.properties.subject = None
    wb.properties.description = None
    wb.properties.keywords = None
    wb.properties.category = None
