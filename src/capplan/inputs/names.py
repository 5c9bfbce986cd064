"""One name policy, applied where names enter capplan.

Names (queues, languages, pools, vendors, sites, shifts, currencies, events) end up in CSV files,
workbook cells, defined names and file names. Two rules hold for every name cell of every input:

* **Safe text.** A name must not start with ``=``, ``+``, ``-``, ``@`` (a spreadsheet opening a CSV
  runs such a cell as a formula), nor hold a tab, carriage return, line break or other control
  character (:func:`unsafe_reason`). Surrounding spaces are removed when the cell is read.
* **One spelling.** Two spellings of one name that differ only in case, spacing or punctuation
  (``Video`` and ``video``, ``mnl-b1`` and ``mnl_b1``), or that give the same vendor file name, are
  an error naming both rows (:func:`spelling_problems`): capplan would otherwise treat them as two
  names, or one file would overwrite the other.
"""

from __future__ import annotations

import difflib
import re

import pandas as pd

from capplan.errors import Problem
from capplan.schema import (CURRENCY, EVENT_NAME, LANGUAGE, POOL, POOL_SHIFTS, QUEUE, SHIFT, SITE, SKILL_LANGUAGES,
                            SKILL_QUEUES, VENDOR)

UNSAFE_START = ("=", "+", "-", "@")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SEPARATORS = re.compile(r"[\W_]+")
_FILE_BAD = re.compile(r"[^A-Za-z0-9._-]+")  # what a vendor file name keeps (capplan.report.vendor)
SROW = "srow"  # spreadsheet row of each typed row (internal to the inputs package)
MAX_STEM = 80  # characters of a vendor workbook's file-name stem

#: where each kind of name occurs: (table, column, is a ';'-list)
NAME_PLACES: dict[str, list[tuple[str, str, bool]]] = {
    "queue": [("queues", QUEUE, False), ("history", QUEUE, False), ("handle_times", QUEUE, False),
              ("pools", SKILL_QUEUES, True), ("events", SKILL_QUEUES, True)],
    "language": [("history", LANGUAGE, False), ("handle_times", LANGUAGE, False), ("pools", SKILL_LANGUAGES, True),
                 ("events", SKILL_LANGUAGES, True)],
    "vendor": [("vendors", VENDOR, False), ("pools", VENDOR, False)],
    "pool": [("pools", POOL, False)],
    "site": [("pools", SITE, False)],
    "shift": [("shifts", SHIFT, False), ("pools", POOL_SHIFTS, True)],
    "currency": [("pools", CURRENCY, False), ("vendors", CURRENCY, False)],
    "event": [("events", EVENT_NAME, False)],
}


def unsafe_reason(value: str) -> str | None:
    """Why a (stripped) name cell is unsafe, or None."""
    if value.startswith(UNSAFE_START):
        return f"starts with '{value[0]}', which a spreadsheet runs as a formula"
    bad = _CONTROL.search(value)
    if bad:
        return f"holds a control character ({bad.group()!r})"
    return None


def file_stem(name: str, default: str = "vendor") -> str:
    """A safe file-name stem for any name (``Acme BPO/PH`` -> ``Acme_BPO_PH``, ``=cmd`` -> ``cmd``): the one rule
    shared by the vendor workbooks' file names and the spelling check below."""
    return _FILE_BAD.sub("_", str(name)).strip("._-")[:MAX_STEM] or default


def name_key(value: str, kind: str = "") -> str:
    """What two spellings of one name share: case folded, spaces and punctuation unified."""
    key = _SEPARATORS.sub("_", str(value).casefold()).strip("_")
    if kind == "vendor":  # vendor names become file names: compare what the file name keeps
        key = file_stem(value).casefold()
    return key


def suggest(value: str, valid, kind: str = "") -> str:
    """' (did you mean 'x'?)' for a near-miss among ``valid`` (same key, or a close spelling), else ''."""
    valid = sorted({str(v) for v in valid})
    key = name_key(value, kind)
    same = [v for v in valid if name_key(v, kind) == key]
    close = same or difflib.get_close_matches(str(value), valid, n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _spellings(frame: pd.DataFrame, column: str, is_list: bool) -> list[tuple[object, int]]:
    """First row of each distinct spelling in one column: (name, srow) pairs in row order, ``*`` and blanks left out.

    Plain Python over each column's distinct values: the pandas version (dropna, explode, drop_duplicates per
    column) was a third of ``capplan validate`` on a small workspace, all fixed overhead."""
    if column not in frame.columns or not len(frame):
        return []
    values, rows = frame[column], frame[SROW]
    if is_list:  # short tables (a pool's shifts): every element of every list
        pairs = ((name, row) for cell, row in zip(values, rows) if isinstance(cell, (list, tuple)) for name in cell)
    else:  # the history can have millions of rows: its distinct values first
        first = ~values.duplicated()
        pairs = zip(values[first], rows[first])
    out, seen = [], set()
    for name, row in pairs:
        if name is None or name is pd.NA or (isinstance(name, float) and name != name) or str(name) == "*" or name in seen:
            continue
        seen.add(name)
        out.append((name, int(row)))
    return out


def spelling_problems(typed: dict[str, pd.DataFrame], labels: dict[str, str]) -> list[Problem]:
    """Every name written two ways across the inputs, naming the file and row of both spellings."""
    problems: list[Problem] = []
    for kind, places in NAME_PLACES.items():
        seen: dict[str, tuple[str, str, int, str]] = {}  # key -> (spelling, table, row, column)
        reported: set[tuple[str, str]] = set()
        for table, column, is_list in places:
            if table not in typed:
                continue
            for name, srow in _spellings(typed[table], column, is_list):
                name = str(name)
                key = name_key(name, kind)
                first = seen.setdefault(key, (name, table, int(srow), column))
                if first[0] == name or (first[0], name) in reported:
                    continue
                reported.add((first[0], name))
                problems.append(Problem(
                    file=labels[table], row=int(srow), column=column, found=name,
                    message=f"{kind} '{name}' and '{first[0]}' ({labels[first[1]]}, row {first[2]}, column '{first[3]}') "
                            "differ only in case, spacing or punctuation: capplan would treat them as two different "
                            f"{kind} names" + (" and give them the same file name" if kind == "vendor" else ""),
                    expected=f"one spelling of each {kind}",
                    fix=f"write the {kind} the same way everywhere (e.g. '{first[0]}'), or give the two clearly different names"))
    return problems
