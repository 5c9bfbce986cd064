"""Read raw input tables (CSV, Parquet history, or one Excel workbook) as text, untouched.

Every value comes back as a string (``""`` for an empty cell) with the row number a spreadsheet
would show (header = row 1), so that validation can point at the exact cell. Parquet history keeps
its native types (it is machine-written); validation handles both.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capplan.errors import InputError, Problem
from capplan.schema import INPUT_TABLES, TableSpec

INPUTS_DIR = "inputs"
WORKBOOK_NAMES = ("capplan-inputs.xlsx", "inputs.xlsx")
MAX_FILE_BYTES = 2 * 1024**3  # 2 GiB: larger CSVs should be Parquet


@dataclass
class RawTable:
    spec: TableSpec
    label: str  # how messages name the file: "inputs/pools.csv" or "capplan-inputs.xlsx, sheet 'pools'"
    path: Path
    frame: pd.DataFrame  # strings for CSV/Excel; native types for Parquet
    native: bool = False  # True for Parquet (typed values)
    first_row: int = 2  # spreadsheet row number of frame.iloc[0]


def find_workbook(root: Path) -> Path | None:
    for name in WORKBOOK_NAMES:
        for folder in (root, root / INPUTS_DIR):
            if (folder / name).is_file():
                return folder / name
    return None


def read_tables(root: Path) -> tuple[dict[str, RawTable], list[Problem]]:
    """Read every input table of a workspace; problems for missing or unreadable files."""
    root = Path(root)
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    inputs = root / INPUTS_DIR
    workbook = find_workbook(root)
    have_csv = (inputs / "history.parquet").exists() or (inputs.is_dir() and any(_has_data_rows(f) for f in inputs.glob("*.csv")))
    if workbook is not None and not have_csv:
        return _read_workbook(workbook, root)
    if workbook is not None:
        name = str(workbook.relative_to(root)) if workbook.is_relative_to(root) else str(workbook)
        problems.append(Problem(file=name, severity="warning",
                                message=f"this workbook is not read: {INPUTS_DIR}/ holds CSV files with data, and they take precedence",
                                fix=f"if the workbook holds your inputs, move the CSV files out of {INPUTS_DIR}/; otherwise delete or rename the workbook"))
    if not inputs.is_dir():
        problems.append(
            Problem(
                file=str(inputs),
                message="no inputs folder",
                expected=f"a folder '{INPUTS_DIR}/' with history.csv, queues.csv, ... or a workbook {WORKBOOK_NAMES[0]}",
                fix=f"run 'capplan init {root}' and fill in the templates",
            )
        )
        return tables, problems
    for spec in INPUT_TABLES:
        csv_path = inputs / f"{spec.name}.csv"
        parquet_path = inputs / f"{spec.name}.parquet"
        label = f"{INPUTS_DIR}/{csv_path.name}"
        if spec.name == "history" and parquet_path.exists() and not csv_path.exists():
            try:
                frame = pd.read_parquet(parquet_path)
            except Exception as exc:  # pyarrow raises many types for a damaged file
                problems.append(Problem(file=f"{INPUTS_DIR}/{parquet_path.name}", message=f"cannot read Parquet file ({exc})", fix="re-export the file"))
                continue
            tables[spec.name] = RawTable(spec, f"{INPUTS_DIR}/{parquet_path.name}", parquet_path, frame, native=True)
            continue
        if parquet_path.exists() and csv_path.exists():
            problems.append(Problem(file=f"{INPUTS_DIR}/{parquet_path.name}", severity="warning",
                                    message=f"this file is not read: {label} is there too, and CSV takes precedence",
                                    fix=f"keep one of the two: delete or move {label} to use the Parquet file"))
        if not csv_path.exists():
            if spec.required:
                problems.append(
                    Problem(file=label, message="file missing", expected=f"columns {', '.join(spec.column_names)}",
                            fix=f"copy templates/inputs/{csv_path.name} into {INPUTS_DIR}/ and fill it in")
                )
            else:
                tables[spec.name] = RawTable(spec, label, csv_path, pd.DataFrame(columns=spec.column_names, dtype=str))
            continue
        table, problem = _read_csv(spec, csv_path, label)
        if problem:
            problems.append(problem)
        else:
            tables[spec.name] = table
    return tables, problems


def _has_data_rows(path: Path) -> bool:
    """True when a CSV has anything below its header (blank templates have not)."""
    with open(path, "rb") as fh:
        return len([line for _, line in zip(range(3), fh) if line.strip()]) > 1


def read_optional_table(root: Path, spec: TableSpec, file_name: str):
    """An optional ``inputs/<file_name>`` typed by ``spec``: ``(parser, frame)``, or None when the file is absent.

    ``frame`` has one typed column per spec column and ``row`` (the spreadsheet row); ``parser`` collects the
    caller's further checks. An unreadable file or missing columns raise :class:`InputError` at once.
    """
    from capplan.inputs.parse import TableParser  # parse imports this module: import here, not at the top

    path = Path(root) / INPUTS_DIR / file_name
    if not path.exists():
        return None
    raw, problem = _read_csv(spec, path, f"{INPUTS_DIR}/{file_name}")
    if problem is not None:
        raise InputError([problem])
    parser = TableParser(raw)
    if not parser.check_columns():
        raise InputError(parser.problems)
    frame = pd.DataFrame({col.name: parser.parse(col) for col in spec.columns}, index=raw.frame.index)
    frame["row"] = parser.rows
    return parser, frame


def _read_csv(spec: TableSpec, path: Path, label: str) -> tuple[RawTable | None, Problem | None]:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        return None, Problem(file=label, message=f"file is {size / 1024**3:.1f} GiB, above the {MAX_FILE_BYTES / 1024**3:.0f} GiB limit for CSV",
                             fix="split it, or for history save it as inputs/history.parquet")
    if size == 0:
        return None, Problem(file=label, message="file is empty", expected=f"a header row with {', '.join(spec.column_names)}",
                             fix=f"copy the header from templates/inputs/{path.name}")
    separator = _separator_problem(spec, path, label)
    if separator is not None:
        return None, separator
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=False)
    except UnicodeDecodeError as exc:
        line = _line_of_offset(path, exc.start)
        return None, Problem(file=label, row=line, message=f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x})",
                             fix="save the file as 'CSV UTF-8' (Excel: Save As > CSV UTF-8)")
    except (pd.errors.ParserError, csv.Error) as exc:
        line = re.search(r"line (\d+)", str(exc))
        return None, Problem(file=label, row=int(line.group(1)) if line else None, column=None if line else "(whole file)",
                             message=f"not a readable CSV file ({str(exc).strip()})",
                             expected=f"{len(spec.columns)} comma-separated fields per row ({', '.join(spec.column_names)})",
                             fix="check that row for unbalanced quotes or extra separators (a comma inside a name needs quotes)")
    except pd.errors.EmptyDataError:
        return None, Problem(file=label, message="file has no header row", expected=", ".join(spec.column_names),
                             fix=f"copy the header from templates/inputs/{path.name}")
    header = _header(path)
    if header is not None and len(header) == len(frame.columns):
        frame.columns = header  # as written: pandas renames a repeated column 'x' to 'x.1'
    else:
        frame.columns = [str(c).strip() for c in frame.columns]
    return RawTable(spec, label, path, frame), None


def _header(path: Path) -> list[str] | None:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return [c.strip() for c in next(csv.reader(fh))]
    except (OSError, UnicodeDecodeError, StopIteration, csv.Error):
        return None


def _separator_problem(spec: TableSpec, path: Path, label: str) -> Problem | None:
    """One clear problem when the header is split by ';' or tabs (a European-locale or TSV export)."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline().strip()
    except OSError:
        return None
    if first.lower().startswith("sep="):
        return Problem(file=label, row=1, message=f"the first line '{first}' is an Excel separator hint, not the header",
                       expected=", ".join(spec.column_names), fix="delete the first line, and save the file as 'CSV UTF-8 (comma delimited)'")
    for sep, name in ((";", "semicolons"), ("\t", "tabs")):
        parts = [p.strip().strip('"') for p in first.split(sep)]
        if len(parts) > 1 and first.count(sep) > first.count(","):
            known = sum(p in spec.column_names for p in parts)
            return Problem(file=label, row=1, found=first[:120], expected=f"a header separated by commas: {','.join(spec.column_names)}",
                           message=f"columns are separated by {name}, not commas" + (f" ({known} of the column names are right)" if known else "")
                           + (" and numbers may use decimal commas" if sep == ";" else ""),
                           fix="save the file as 'CSV UTF-8 (comma delimited)' with a decimal point (1.5, not 1,5): in Excel set the "
                               "list separator to ',' and the decimal symbol to '.', or export with a comma delimiter")
    return None


def _line_of_offset(path: Path, offset: int) -> int:
    with open(path, "rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def _read_workbook(path: Path, root: Path) -> tuple[dict[str, RawTable], list[Problem]]:
    from openpyxl import load_workbook

    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []
    name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException
        return tables, [Problem(file=name, message=f"cannot open the workbook ({exc})", fix="save it again as .xlsx from Excel")]
    try:
        for spec in INPUT_TABLES:
            label = f"{name}, sheet '{spec.name}'"
            if spec.name not in wb.sheetnames:
                if spec.required:
                    problems.append(Problem(file=name, message=f"sheet '{spec.name}' missing", expected=f"sheets {', '.join(t.name for t in INPUT_TABLES)}",
                                            found=", ".join(wb.sheetnames), fix="copy the sheet from templates/capplan-inputs.xlsx"))
                else:
                    tables[spec.name] = RawTable(spec, label, path, pd.DataFrame(columns=spec.column_names, dtype=str))
                continue
            rows = list(wb[spec.name].iter_rows(values_only=True))
            if not rows:
                problems.append(Problem(file=label, message="sheet is empty", expected=", ".join(spec.column_names), fix="copy the header row from the template"))
                continue
            header = [("" if v is None else str(v)).strip() for v in rows[0]]
            width = max((i + 1 for i, h in enumerate(header) if h), default=0)
            header = header[:width]
            body = [[_cell_text(v) for v in r[:width]] + [""] * (width - len(r[:width])) for r in rows[1:]]
            # drop fully empty trailing rows (Excel keeps formatted blanks)
            while body and not any(body[-1]):
                body.pop()
            frame = pd.DataFrame(body, columns=header, dtype=str) if body else pd.DataFrame(columns=header, dtype=str)
            tables[spec.name] = RawTable(spec, label, path, frame)
    finally:
        wb.close()
    return tables, problems


def _cell_text(value) -> str:
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
