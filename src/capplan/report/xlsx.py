"""Low-level Excel layout on XlsxWriter: safe titles and names, escaped cells, Excel tables, formats,
formulas that carry their computed values, column widths from the data, print setup.

Every workbook writer in :mod:`capplan.report` lays its tidy tables out with these helpers, so the
quality rules live in one place:

- every formula is written with its value computed in Python (``write_formula(..., value)``), so
  readers that do not calculate (pandas, BI tools, mail and phone previews) see numbers, and a
  spreadsheet application recalculates to the same numbers;
- sheet titles at most 31 characters, none of ``[]:*?/\\``, unique (case-insensitive);
- table and defined names valid and unique per workbook;
- no string from an input ever becomes a formula: strings are always written as strings, and a text
  starting with ``= + - @`` (or tab/CR) gets Excel's quote prefix (what typing ``'=...`` in Excel does);
- datetimes are written as naive UTC (Excel has no time zones); headers say "(UTC)";
- column widths are computed from the rendered text of the values at their number format, so no
  number shows as ``###``;
- Excel's limits (1,048,576 rows) respected by splitting a long table over continuation sheets.

Rows and columns are 1-based in this module's API (as in Excel's A1 notation).

References
----------
tablib ``src/tablib/formats/_xlsx.py`` (sheet-title cleaning, escaping); OWASP "CSV injection";
XlsxWriter ``Worksheet.write_formula`` (formula with a stored result).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384
MAX_TITLE = 31
MAX_STRING = 32_767
MIN_WIDTH, MAX_WIDTH = 8, 60  # column widths [characters]
HEADER_WIDTH_CAP = 24  # headers wrap, so a long header widens its column only this far [characters]

# number formats
INT = "#,##0"
NUM = "#,##0.00"
HOURS = "#,##0.0"
PCT = "0.0%"
FX = "0.0#########"  # an exchange rate at full precision (0.00025 stays 0.00025)
DATE = "yyyy-mm-dd"
MONTH = "yyyy-mm"
DATETIME = "yyyy-mm-dd hh:mm"
TEXT = "@"

HEADER = {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78", "text_wrap": True, "valign": "top"}
INPUT = {"bg_color": "#FFF2CC", "font_color": "#1F3FBF"}
TITLE = {"bold": True, "font_size": 14}
BOLD = {"bold": True}

_INVALID_TITLE = re.compile(r"[\\*?:/\[\]]")
_NAME_BAD = re.compile(r"[^A-Za-z0-9_]")
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def money(currency: str) -> str:
    """Number format showing an amount with its ISO currency code, e.g. ``#,##0.00 "EUR"``."""
    code = re.sub(r"[^A-Za-z]", "", str(currency))[:3].upper() or "CUR"
    return f'#,##0.00 "{code}"'


class Formula(NamedTuple):
    """A formula column: ``template`` names same-row columns in braces (``"={volume}*{aht_s}/3600"``);
    ``values`` are its results computed in Python, one per row, stored with the formula."""

    template: str
    values: Sequence


class Names:
    """Names already used in one workbook (sheet titles, tables, defined names), case-insensitive; valid,
    unique names from any text (the base of :class:`Book`)."""

    def __init__(self, titles: set[str] | None = None, tables: set[str] | None = None,
                 names: set[str] | None = None) -> None:
        self.titles: set[str] = set(titles or ())
        self.tables: set[str] = set(tables or ())
        self.names: set[str] = set(names or ())

    def sheet_title(self, text: str) -> str:
        """A valid, unique sheet title from any text (tablib-style cleaning, then de-duplication)."""
        base = _INVALID_TITLE.sub("-", _ILLEGAL.sub("", str(text))).strip().strip("'") or "Sheet"
        base = base[:MAX_TITLE]
        title, n = base, 1
        while title.lower() in self.titles or title.lower() == "history":  # 'History' is reserved by Excel
            n += 1
            suffix = f" ({n})"
            title = base[: MAX_TITLE - len(suffix)] + suffix
        self.titles.add(title.lower())
        return title

    def table_name(self, text: str) -> str:
        return self._unique(self.tables, "tbl_" + _NAME_BAD.sub("_", str(text)))

    def defined_name(self, prefix: str, text: str) -> str:
        """A valid workbook-scope name ``<prefix>_<text>`` (text cleaned), unique in the workbook."""
        return self._unique(self.names, f"{prefix}_{_NAME_BAD.sub('_', str(text))}".rstrip("_"))

    @staticmethod
    def _unique(taken: set[str], base: str) -> str:
        base = base[:200]
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name.lower())
        return name


class Book(Names):
    """One workbook being written, and the names already used in it (case-insensitive)."""

    def __init__(self, path: Path | str):
        super().__init__()
        self.path = Path(path)
        self.wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                                  "strings_to_numbers": False})
        self.sheets: list[Sheet] = []
        self._formats: dict = {}

    def fmt(self, number_format: str | None = None, style: dict | None = None):
        """A cached XlsxWriter format from a number format and style properties (None when plain)."""
        props = dict(style or {})
        if number_format:
            props["num_format"] = number_format
        if not props:
            return None
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def close(self) -> Path:
        """Apply the column widths and write the file."""
        for sheet in self.sheets:
            sheet.apply_widths()
        self.wb.close()
        return self.path


@dataclass
class Sheet:
    """One worksheet: its XlsxWriter handle (``xl``), title and the column widths asked for so far."""

    book: Book
    xl: object
    title: str
    widths: dict[int, float] = field(default_factory=dict)

    def width(self, col: int, chars: float, *, exact: bool = False) -> None:
        """Ask for at least ``chars`` characters in column ``col`` (1-based); ``exact`` sets it."""
        chars = float(chars) if exact else min(max(float(chars), MIN_WIDTH), MAX_WIDTH)
        self.widths[col] = chars if exact else max(self.widths.get(col, 0.0), chars)

    def apply_widths(self) -> None:
        for col, chars in sorted(self.widths.items()):
            self.xl.set_column(col - 1, col - 1, chars)


def new_sheet(book: Book, title: str) -> Sheet:
    """Add a worksheet with a safe, unique title."""
    safe = book.sheet_title(title)
    sheet = Sheet(book, book.wb.add_worksheet(safe), safe)
    book.sheets.append(sheet)
    return sheet


def quote_sheetname(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def letter(col: int) -> str:
    """Column letter of a 1-based column index."""
    return xl_col_to_name(col - 1)


def cell_value(value):
    """A Python value a cell can store: NaN/NaT -> None, numpy -> Python, tz-aware -> naive UTC."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        return value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(value, (tuple, list)):
        return ";".join(str(v) for v in value)
    if isinstance(value, (str, dt.date, dt.datetime, dt.time)):
        return value
    return str(value)


def put(sheet: Sheet, row: int, col: int, value, number_format: str | None = None, style: dict | None = None) -> None:
    """Write one cell; strings are always text (never a formula), whatever they start with."""
    value = cell_value(value)
    r, c = row - 1, col - 1
    if value is None:
        fmt = sheet.book.fmt(None, style)
        if fmt is not None:
            sheet.xl.write_blank(r, c, None, fmt)
        return
    if isinstance(value, str):
        text = _ILLEGAL.sub("", value)[:MAX_STRING]
        quoted = {**(style or {}), "quote_prefix": True} if text.startswith(_FORMULA_START) else style
        sheet.xl.write_string(r, c, text, sheet.book.fmt(None, quoted))
    elif isinstance(value, bool):
        sheet.xl.write_boolean(r, c, value, sheet.book.fmt(None, style))
    elif isinstance(value, (int, float)):
        sheet.xl.write_number(r, c, value, sheet.book.fmt(number_format, style))
    elif isinstance(value, dt.datetime):
        sheet.xl.write_datetime(r, c, value, sheet.book.fmt(number_format or DATETIME, style))
    elif isinstance(value, dt.date):
        sheet.xl.write_datetime(r, c, dt.datetime.combine(value, dt.time()), sheet.book.fmt(number_format or DATE, style))
    else:  # dt.time
        sheet.xl.write_datetime(r, c, value, sheet.book.fmt(number_format or "hh:mm", style))


def formula(sheet: Sheet, row: int, col: int, text: str, value, number_format: str | None = None, style: dict | None = None) -> None:
    """Write a formula this code composed (never from input text), with its value computed in Python."""
    value = cell_value(value)
    if value is None:
        value = ""
    sheet.xl.write_formula(row - 1, col - 1, text, sheet.book.fmt(number_format, style), value)


# --- rendering (what a spreadsheet shows), for column widths ----------------------------------

def render(value, number_format: str | None) -> str:
    """The text a spreadsheet application shows for ``value`` at ``number_format`` (the formats used here).

    Handles ``0``, ``#,##0``, decimals (``0.00``, optional ``#`` decimals), ``%``, a quoted suffix such as
    ``"USD"``, and date formats (rendered as the format's length). Other formats render as ``General``.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return (number_format or DATETIME).replace("yyyy", "2000")
    fmt = number_format or "General"
    if fmt == "General" or not re.search(r"[0#]", fmt):
        text = f"{float(value):.10g}" if isinstance(value, float) else str(value)
        return text[:11]
    suffix = "".join(re.findall(r'"([^"]*)"', fmt))
    core = re.sub(r'"[^"]*"', "", fmt).strip()
    pct = core.endswith("%")
    core = core.rstrip("%")
    number = float(value) * (100 if pct else 1)
    decimals = core.split(".", 1)[1] if "." in core else ""
    fixed, optional = decimals.count("0"), decimals.count("#")
    text = f"{number:{',' if ',' in core else ''}.{fixed + optional}f}"
    if optional and "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(fixed, "0")
        text = whole + ("." + frac if frac else "")
    return text + ("%" if pct else "") + (" " + suffix if suffix else "")


def needed_width(values: Sequence, number_format: str | None) -> float:
    """Characters a column needs to show every value (widest rendered text, plus a margin).

    Numbers are rendered at their extremes (the widest text is at the minimum or the maximum); other
    values once per distinct value (the first 500)."""
    kinds = set(map(type, values))
    numeric = {int, float} & kinds
    numbers = [v for v in values if v is not None and v == v] if kinds <= {int, float, type(None)} else \
        [v for v in values if type(v) in numeric and v == v]
    candidates = [min(numbers), max(numbers)] if numbers else []
    others = [] if kinds <= {int, float, type(None)} else list(dict.fromkeys(v for v in values if type(v) not in (int, float, type(None))))[:500]
    longest = max((render(v, number_format) for v in candidates + others), key=len, default="")
    return len(longest) + 2


# --- tables -------------------------------------------------------------------------------------

def _column_values(series: pd.Series) -> list:
    """Values of a column as Python objects for the writer (dates as datetime, NaN as None)."""
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
    try:  # names repeat: convert each distinct value once
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable values
        return [cell_value(v) for v in series.tolist()]
    converted = [cell_value(v) for v in uniques]
    return [None if k < 0 else converted[k] for k in codes.tolist()]


def default_format(series: pd.Series) -> str | None:
    if pd.api.types.is_datetime64_any_dtype(series):
        return DATETIME
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        return INT
    if pd.api.types.is_float_dtype(series):
        return NUM
    return None


def header_label(name: str, series: pd.Series | None = None) -> str:
    """Column header: the tidy column name, plus "(UTC)" for timestamps."""
    if series is not None and pd.api.types.is_datetime64_any_dtype(series) and "utc" not in name.lower():
        return f"{name} (UTC)"
    return name


@dataclass
class Placed:
    """Where a table landed: header row, first/last data rows, column letter by tidy column name,
    and the values written per column (formula columns: their computed values)."""

    sheet: str
    header_row: int
    first_row: int
    last_row: int
    columns: dict[str, str]
    total_row: int | None = None
    values: dict[str, list] = field(default_factory=dict)

    def ref(self, column: str, absolute: bool = True) -> str:
        """Range of one column's data cells, e.g. ``'Vendors'!$E$2:$E$40``."""
        col = self.columns[column]
        if absolute:
            return f"{quote_sheetname(self.sheet)}!${col}${self.first_row}:${col}${self.last_row}"
        return f"{quote_sheetname(self.sheet)}!{col}{self.first_row}:{col}{self.last_row}"


def _excel_serials(series: pd.Series) -> list:
    """Datetimes as Excel serial day numbers (what a date cell holds), NaT as None."""
    s = series
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    days = ((s - _EXCEL_EPOCH) / pd.Timedelta(days=1)).astype("float64").tolist()
    return [None if d != d else d for d in days]


def _write_values(sheet: Sheet, col: int, first: int, series: pd.Series, values: list, fmt: str | None) -> None:
    """One value column. Numbers and dates go straight to XlsxWriter (dates as Excel serials); strings are
    cleaned and escaped once per distinct value (columns repeat their names a lot)."""
    xl, c = sheet.xl, col - 1
    if pd.api.types.is_datetime64_any_dtype(series):
        date_fmt = sheet.book.fmt(fmt or DATETIME)
        for r, v in enumerate(values, start=first - 1):
            if v is not None:
                xl.write_number(r, c, v, date_fmt)
        return
    number_fmt = sheet.book.fmt(fmt)
    texts: dict[str, tuple] = {}
    for r, v in enumerate(values, start=first - 1):
        if v is None:
            continue
        if isinstance(v, str):
            if v not in texts:
                text = _ILLEGAL.sub("", v)[:MAX_STRING]
                texts[v] = (text, sheet.book.fmt(None, {"quote_prefix": True}) if text.startswith(_FORMULA_START) else None)
            xl.write_string(r, c, *texts[v])
        elif isinstance(v, float) or (isinstance(v, int) and not isinstance(v, bool)):
            xl.write_number(r, c, v, number_fmt)
        else:
            put(sheet, r + 1, col, v, fmt)


def _plain(formula: str, expand_future_functions: bool = False) -> str:
    return formula[1:] if formula.startswith("=") else formula


def _write_formulas(sheet: Sheet, col: int, first: int, spec: Formula, letters: dict[str, str], fmt: str) -> list:
    """One formula column: the template filled with same-row references, each with its stored value.

    XlsxWriter rewrites every formula through ~30 regular expressions (for newer Excel functions); when the
    template needs none of them (checked once on the template), the rows skip that step.
    """
    keys = re.findall(r"\{(\w+)\}", spec.template)
    number_fmt = sheet.book.fmt(fmt)
    values = [cell_value(v) for v in spec.values]
    xl = sheet.xl
    plain = xl._prepare_formula(spec.template) == _plain(spec.template)
    if plain:
        xl._prepare_formula = _plain  # instance attribute: this sheet only, removed below
    try:
        for i, v in enumerate(values):
            r = first + i
            text = spec.template.format(**{k: f"{letters[k]}{r}" for k in keys})
            xl.write_formula(r - 1, col - 1, text, number_fmt, "" if v is None else v)
    finally:
        if plain:
            del xl._prepare_formula
    return values


def _write_totals(sheet: Sheet, placed: Placed, left: int, columns: list, totals: list[str], formats: dict) -> int:
    """A bold 'Total' row under the table (outside it, so sorting never moves it): SUM formulas with values."""
    row = placed.last_row + 1
    put(sheet, row, left, "Total", style=BOLD)
    for c in totals:
        numbers = [v for v in placed.values[c] if isinstance(v, (int, float)) and not isinstance(v, bool)]
        letter_ = placed.columns[c]
        fmt = formats.get(c, NUM)
        formula(sheet, row, columns.index(c) + left, f"=SUM({letter_}{placed.first_row}:{letter_}{placed.last_row})",
                float(sum(numbers)), fmt, BOLD)
        sheet.width(columns.index(c) + left, needed_width([float(sum(numbers))], fmt))
    return row


def write_table(
    sheet: Sheet,
    df: pd.DataFrame,
    name: str,
    *,
    top: int = 1,
    left: int = 1,
    formats: dict[str, str] | None = None,
    formulas: dict[str, Formula] | None = None,
    headers: dict[str, str] | None = None,
    totals: list[str] | None = None,
    style: str = "Table Style Medium 2",
) -> Placed:
    """Write ``df`` as an Excel table; ``formulas`` adds/overrides columns with formulas and their values.

    A formula template names other columns in braces and gets the same row's cell, e.g.
    ``"={volume}*{aht_s}/3600"`` -> ``=D2*E2/3600``. ``totals`` columns get a ``=SUM(...)`` row under
    the table. Column widths come from the header and the rendered values.
    """
    formats, formulas, headers = formats or {}, formulas or {}, headers or {}
    columns = list(df.columns) + [c for c in formulas if c not in df.columns]
    letters = {c: letter(left + i) for i, c in enumerate(columns)}
    n = len(df)
    if top + max(n, 1) > EXCEL_MAX_ROWS:
        raise ValueError(f"table {name} has {n} rows, more than fit on one sheet; split it first (split_table)")
    labels = [_ILLEGAL.sub("", headers.get(c) or header_label(str(c), df[c] if c in df.columns else None)) for c in columns]
    first = top + 1
    last = first + max(n, 1) - 1
    placed = Placed(sheet.title, top, first, last, letters)
    for i, c in enumerate(columns):
        col = left + i
        if c in formulas:
            fmt = formats.get(c, NUM)
            placed.values[c] = _write_formulas(sheet, col, first, formulas[c], letters, fmt)
        else:
            fmt = formats.get(c, default_format(df[c]))
            is_date = pd.api.types.is_datetime64_any_dtype(df[c])
            placed.values[c] = _excel_serials(df[c]) if is_date else _column_values(df[c])
            _write_values(sheet, col, first, df[c], placed.values[c], fmt)
        shown = [dt.datetime(2000, 1, 1)] if c not in formulas and is_date else placed.values[c]
        sheet.width(col, max(min(len(labels[i]), HEADER_WIDTH_CAP) + 2, needed_width(shown, fmt)))
    header_fmt = sheet.book.fmt(None, HEADER)
    sheet.xl.add_table(top - 1, left - 1, last - 1, left + len(columns) - 2, {
        "name": sheet.book.table_name(name), "style": style, "autofilter": True,
        "columns": [{"header": label, "header_format": header_fmt} for label in labels]})
    if totals:
        placed.total_row = _write_totals(sheet, placed, left, columns, totals, formats)
    return placed


def finish_sheet(sheet: Sheet, *, freeze: str | None = "A2", print_rows: bool = True) -> None:
    """Frozen panes at ``freeze`` (A1 notation), landscape print one page wide, repeated header row."""
    if freeze:
        col, row = re.match(r"([A-Z]+)(\d+)", freeze).groups()
        col_index = sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(col))) - 1
        sheet.xl.freeze_panes(int(row) - 1, col_index)
    sheet.xl.set_landscape()
    sheet.xl.fit_to_pages(1, 0)
    if print_rows:
        sheet.xl.repeat_rows(0)


def define(book: Book, prefix: str, text: str, sheet: Sheet, row: int, col: int) -> str:
    """Create a workbook-scope defined name for one cell; returns the name."""
    name = book.defined_name(prefix, text) if text else book._unique(book.names, prefix)
    book.wb.define_name(name, f"={quote_sheetname(sheet.title)}!${letter(col)}${row}")
    return name


def key_value_sheet(sheet: Sheet, header: list[str], rows: list[list], formats: list[str | None], table: str,
                    widths: Sequence[float], input_col: int | None = None) -> None:
    """A small table written cell by cell (assumptions, rates): ``rows`` of values, per-row number formats
    for column ``input_col`` (1-based), which gets the yellow input look."""
    for r, (values, fmt) in enumerate(zip(rows, formats), start=2):
        for c, v in enumerate(values, start=1):
            put(sheet, r, c, v, fmt if c == input_col else None, INPUT if c == input_col else None)
    header_fmt = sheet.book.fmt(None, HEADER)
    sheet.xl.add_table(0, 0, max(len(rows), 1), len(header) - 1, {
        "name": sheet.book.table_name(table), "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": h, "header_format": header_fmt} for h in header]})
    for c, w in enumerate(widths, start=1):
        sheet.width(c, w)
    if input_col is not None:  # each row of the input column has its own number format
        for values, fmt in zip(rows, formats):
            sheet.width(input_col, needed_width([values[input_col - 1]], fmt))
    finish_sheet(sheet)


def chunks(df: pd.DataFrame, max_rows: int) -> list[pd.DataFrame]:
    """``df`` cut into pieces of at most ``max_rows`` rows (at least one piece)."""
    if len(df) <= max_rows:
        return [df]
    return [df.iloc[i : i + max_rows] for i in range(0, len(df), max_rows)]


def rounded(value, number_format: str | None):
    """A headline number rounded to what its format shows (readers that ignore formats see the same figure)."""
    if not isinstance(value, float) or not number_format or not re.search(r"[0#]", number_format):
        return value
    core = re.sub(r'"[^"]*"', "", number_format)
    decimals = len(core.split(".", 1)[1].rstrip("%").strip()) if "." in core else 0
    return round(value, decimals + (2 if core.strip().endswith("%") else 0))


def readme(sheet: Sheet, title: str, facts: list[tuple[str, object, str | None]], paragraphs: list[str]) -> int:
    """A README sheet: title, key-value facts (``(key, value, number format)``), paragraphs. Returns the next free row."""
    put(sheet, 1, 1, title, style=TITLE)
    row = 3
    for key, value, fmt in facts:
        put(sheet, row, 1, key, style=BOLD)
        put(sheet, row, 2, rounded(value, fmt), fmt, {"align": "left"})
        row += 1
    row += 1
    for text in paragraphs:
        put(sheet, row, 1, text, style=BOLD if (text.isupper() or text.endswith(":")) else None)
        row += 1
    sheet.width(1, 30, exact=True)
    sheet.width(2, 70, exact=True)
    finish_sheet(sheet, freeze=None, print_rows=False)
    return row + 1


def set_properties(book: Book, title: str, created: str | None = None) -> None:
    """Document properties carry only what this workbook is (no names of third parties).

    ``created`` (ISO 8601) becomes the created/modified time, so a re-run writes the same properties.
    """
    props = {"title": _ILLEGAL.sub("", title)[:200], "author": "capplan"}
    if created:
        try:
            when = pd.Timestamp(created)
            when = when.tz_convert("UTC").tz_localize(None) if when.tzinfo is not None else when
            props["created"] = when.to_pydatetime()
        except (ValueError, TypeError):
            pass
    book.wb.set_properties(props)
