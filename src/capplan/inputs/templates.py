"""Blank input templates: CSV headers, a commented ``capplan.toml`` and an Excel workbook.

:func:`write_templates` writes what ``templates/`` in the repository holds (a test regenerates it
and compares, so the templates never drift from ``capplan.schema`` and ``capplan.config``):

* ``inputs/<table>.csv``: the header row of every input table;
* ``capplan.toml``: the commented default configuration (with a fixed example planning start,
  so the file does not change with today's date);
* ``capplan-inputs.xlsx``: one sheet per input table (sheet name = table name) with the header
  row, example rows and data-validation dropdowns, plus an ``Instructions`` sheet describing
  every column.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from capplan.config import CONFIG_FILE, default_toml
from capplan.schema import INPUT_TABLES, Column, TableSpec

WORKBOOK_FILE = "capplan-inputs.xlsx"
TEMPLATE_START = dt.date(2026, 1, 5)  # a Monday; the example planning start of the template config
INSTRUCTIONS_SHEET = "Instructions"
LAST_ROW = 1_048_576  # last row of an Excel sheet: validations cover the whole column
CHOICE_LIST_MAX = 10  # whole-number ranges up to this many values get a dropdown list

# example rows per table, in TableSpec column order (strings as a user would type them)
EXAMPLES: dict[str, list[tuple[str, ...]]] = {
    "history": [
        ("2026-01-05T13:00:00Z", "video", "en", "412", "95"),
        ("2026-01-05T14:00:00Z", "video", "en", "388", ""),
        ("2026-01-05T13:00:00Z", "live", "es", "35", "182"),
    ],
    "queues": [
        ("video", "deferred", "0.9", "4h", "2", "yes", "", "", ""),
        ("live", "realtime", "0.8", "60s", "1", "yes", "3m", "", ""),
        ("comments", "deferred", "0.95", "12h", "3", "no", "", "", ""),
    ],
    "handle_times": [
        ("video", "en", "95"),
        ("live", "es", "180"),
        ("comments", "en", "22"),
    ],
    "pools": [
        ("mnl-bpo1", "bpo1", "Manila", "Asia/Manila", "video;comments", "en", "1.0", "0", "120", "520", "PHP", "day;night"),
        ("bog-bpo2", "bpo2", "Bogota", "America/Bogota", "video;live", "es;en", "1.3", "0", "40", "52000", "COP", "day;weekend"),
        ("dub-core", "inhouse", "Dublin", "Europe/Dublin", "video;live;comments", "en;es", "1.0", "20", "80", "38", "EUR", "day;night"),
    ],
    "vendors": [
        ("bpo1", "2000", "12000", "0.7", "0.93", "USD", "4", "0.1"),
        ("bpo2", "0", "8000", "0.6", "0.9", "USD", "", ""),
    ],
    "shifts": [
        ("day", "08:00", "8", "30", "5", "Mon-Sun"),
        ("night", "22:00", "8", "30", "5", "Mon-Sun"),
        ("weekend", "09:00", "10", "30", "2", "Sat"),
    ],
    "events": [
        ("election-br", "2026-10-02T00:00:00Z", "2026-10-09T00:00:00Z", "video;comments", "pt", "1.8"),
        ("viral-incident", "2026-11-12T14:00:00Z", "2026-11-14T02:00:00Z", "*", "*", "2.5"),
    ],
}


def template_toml() -> str:
    """The commented default ``capplan.toml``, with a fixed example planning start.

    Every key is written (a test in ``tests/test_config.py`` checks that); the start is the fixed
    :data:`TEMPLATE_START` rather than the next Monday, so the template does not change with
    today's date. ``capplan validate`` tells a user to move it when it does not fit the history.
    """
    return default_toml(start=TEMPLATE_START)


def csv_header(spec: TableSpec) -> str:
    return ",".join(spec.column_names) + "\n"


def write_templates(directory: Path) -> list[Path]:
    """Write the blank CSV templates, the commented config and the Excel input workbook.

    Parameters
    ----------
    directory : Path
        Folder to write into (created if needed); existing template files are replaced.

    Returns
    -------
    list[Path]
        The files written, in a stable order.
    """
    directory = Path(directory)
    inputs = directory / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in INPUT_TABLES:
        path = inputs / f"{spec.name}.csv"
        path.write_text(csv_header(spec), encoding="utf-8", newline="\n")
        written.append(path)
    toml_path = directory / CONFIG_FILE
    toml_path.write_text(template_toml(), encoding="utf-8", newline="\n")
    written.append(toml_path)
    xlsx_path = directory / WORKBOOK_FILE
    write_workbook(xlsx_path)
    written.append(xlsx_path)
    return written


def _cell_value(column: Column, text: str):
    """An example value as Excel should hold it: numbers as numbers, everything else as text."""
    if text == "" or column.kind not in {"float", "int"}:
        return text if text != "" else None
    number = float(text)
    return int(number) if column.kind == "int" or number.is_integer() else number


def _validation(column: Column):
    """A data validation (dropdown or range check) for a column, or None."""
    from openpyxl.worksheet.datavalidation import DataValidation

    # showDropDown=True would HIDE the in-cell arrow (openpyxl mirrors Excel's inverted flag)
    common = dict(allow_blank=not column.required, showDropDown=False, showErrorMessage=True, showInputMessage=True,
                  promptTitle=column.name[:32], prompt=(column.description or column.kind)[:255], errorTitle=f"invalid {column.name}"[:32])
    if column.choices:
        return DataValidation(type="list", formula1='"' + ",".join(column.choices) + '"',
                              error=f"choose one of: {', '.join(column.choices)}", **common)
    if column.kind == "bool":
        return DataValidation(type="list", formula1='"yes,no"', error="choose yes or no", **common)
    if column.kind == "int" and column.min is not None and column.max is not None and column.max - column.min < CHOICE_LIST_MAX:
        values = [str(v) for v in range(int(column.min), int(column.max) + 1)]
        return DataValidation(type="list", formula1='"' + ",".join(values) + '"', error=f"choose one of: {', '.join(values)}", **common)
    if column.kind in {"float", "int"} and column.min is not None:
        kind = "whole" if column.kind == "int" else "decimal"
        if column.max is not None:
            return DataValidation(type=kind, operator="between", formula1=f"{column.min:g}", formula2=f"{column.max:g}",
                                  error=f"a number from {column.min:g} to {column.max:g}", **common)
        return DataValidation(type=kind, operator="greaterThanOrEqual", formula1=f"{column.min:g}",
                              error=f"a number >= {column.min:g}", **common)
    return None


def write_workbook(path: Path) -> Path:
    """Write the Excel input template: one sheet per table, examples, dropdowns, instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    wb = Workbook()
    info = wb.active
    info.title = INSTRUCTIONS_SHEET
    _instructions(info, bold, fill, Alignment)
    for spec in INPUT_TABLES:
        ws = wb.create_sheet(spec.name)
        ws.append(spec.column_names)
        for row in EXAMPLES[spec.name]:
            ws.append([_cell_value(col, text) for col, text in zip(spec.columns, row, strict=True)])
        for j, col in enumerate(spec.columns, start=1):
            letter = get_column_letter(j)
            cell = ws.cell(row=1, column=j)
            cell.font, cell.fill = bold, fill
            ws.column_dimensions[letter].width = max(12, len(col.name) + 4, *(len(r[j - 1]) + 2 for r in EXAMPLES[spec.name]))
            if col.kind in {"str", "list", "time", "days", "duration", "timestamp"}:
                for r in range(2, len(EXAMPLES[spec.name]) + 2):
                    ws.cell(row=r, column=j).number_format = "@"  # keep as typed text (08:00, 4h, ISO times)
            dv = _validation(col)
            if dv is not None:
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}{LAST_ROW}")
        ws.freeze_panes = "A2"
    wb.save(path)
    return path


def _instructions(ws, bold, fill, alignment) -> None:
    ws.append(["capplan input workbook"])
    ws["A1"].font = bold
    ws.append(["Fill in one sheet per table (the sheet name is the table name), replacing the example rows. "
               "Header row = row 1. Lists are ';'-separated; durations carry a unit (60s, 30m, 4h); yes/no columns "
               "have dropdowns. Save as capplan-inputs.xlsx in the workspace (or use the CSV files in inputs/ instead)."])
    ws.append([])
    header = ["table", "column", "required", "kind", "meaning", "example"]
    ws.append(header)
    for j in range(1, len(header) + 1):
        ws.cell(row=ws.max_row, column=j).font = bold
        ws.cell(row=ws.max_row, column=j).fill = fill
    for spec in INPUT_TABLES:
        ws.append([spec.name, "", "yes" if spec.required else "no (optional table)", "table", spec.description, ""])
        ws.cell(row=ws.max_row, column=1).font = bold
        for col in spec.columns:
            kind = col.kind + (f" ({' | '.join(col.choices)})" if col.choices else "")
            if col.min is not None or col.max is not None:
                kind += f" [{'' if col.min is None else f'{col.min:g}'}..{'' if col.max is None else f'{col.max:g}'}]"
            ws.append([spec.name, col.name, "yes" if col.required else "no", kind, col.description, col.example])
    for letter, width in zip("ABCDEF", (14, 18, 18, 28, 90, 26), strict=True):
        ws.column_dimensions[letter].width = width
    ws.merge_cells("A2:F2")
    ws["A2"].alignment = alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[2].height = 48
    ws.freeze_panes = "A5"
