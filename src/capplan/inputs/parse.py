"""Turn raw text tables into typed frames, collecting a Problem for every bad cell.

Parsing is vectorized per column; each kind of problem in one column is reported for the first
``MAX_ROWS_PER_FINDING`` rows, then summarised ("and N more rows"), so a 10-million-row history
with one systematic error gives a short, readable list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capplan.errors import Problem
from capplan.inputs.names import unsafe_reason
from capplan.inputs.read import RawTable
from capplan.schema import WEEKDAYS, Column
from capplan.units import parse_duration

MAX_ROWS_PER_FINDING = 5
_TIME = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)(?::00)?\s*$")
_OFFSET = re.compile(r"(?:Z|[+-]\d\d(?::?\d\d)?)$")
_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}


@dataclass
class Parsed:
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


def parse_days(text: str) -> tuple[int, ...]:
    """'Mon-Fri' -> (0..4); 'Sat,Sun' -> (5, 6); 'Mon-Sun', 'daily' or '*' -> all; ranges wrap ('Fri-Mon')."""
    text = str(text).strip()
    if text.lower() in {"daily", "*", "all", "24/7"}:
        return tuple(range(7))
    lookup = {d.lower(): i for i, d in enumerate(WEEKDAYS)}
    days: list[int] = []
    for part in re.split(r"[,;\s]+", text):
        if not part:
            continue
        if "-" in part:
            a, b = (p.strip().lower()[:3] for p in part.split("-", 1))
            if a not in lookup or b not in lookup:
                raise ValueError(part)
            i, j = lookup[a], lookup[b]
            span = (j - i) % 7
            days.extend((i + k) % 7 for k in range(span + 1))
        else:
            key = part.lower()[:3]
            if key not in lookup:
                raise ValueError(part)
            days.append(lookup[key])
    if not days:
        raise ValueError(text)
    return tuple(sorted(set(days)))


class TableParser:
    """Collects problems while converting one raw table."""

    def __init__(self, raw: RawTable):
        self.raw = raw
        self.problems: list[Problem] = []
        self.rows = np.arange(len(raw.frame)) + raw.first_row
        self.naive: set[str] = set()  # timestamp columns written without a UTC offset (read as UTC)

    def problem(self, message: str, *, row=None, column=None, expected=None, found=None, fix=None, severity="error") -> None:
        self.problems.append(Problem(file=self.raw.label, message=message, row=None if row is None else int(row),
                                     column=column, expected=expected, found=found, fix=fix, severity=severity))

    def cells(self, mask: np.ndarray, values: pd.Series, message: str, column: str, expected: str, fix: str, severity="error",
              rows: np.ndarray | None = None) -> None:
        """One problem per bad row (the first few), then a summary.

        ``mask`` and ``values`` are positional over the table as read, unless ``rows`` gives the
        spreadsheet row of each position (for frames that were filtered or re-sorted).
        """
        rows = self.rows if rows is None else np.asarray(rows)
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        for i in idx[:MAX_ROWS_PER_FINDING]:
            self.problem(message, row=rows[i], column=column, expected=expected, found=str(values.iloc[i]), fix=fix, severity=severity)
        if len(idx) > MAX_ROWS_PER_FINDING:
            self.problem(f"{message}: {len(idx) - MAX_ROWS_PER_FINDING} more rows like this (rows {rows[idx[MAX_ROWS_PER_FINDING:]].min()}..{rows[idx[MAX_ROWS_PER_FINDING:]].max()})",
                         column=column, expected=expected, fix=fix, severity=severity)

    # --- columns -----------------------------------------------------------------------------
    def check_columns(self) -> bool:
        frame, spec = self.raw.frame, self.raw.spec
        present = list(frame.columns)
        ok = True
        dupes = sorted({c for c in present if present.count(c) > 1})
        for c in dupes:
            self.problem("column appears more than once", row=1, column=c, fix="keep one column of that name")
            ok = False
        for col in spec.columns:
            if col.required and col.name not in present:
                close = [p for p in present if p.lower().replace(" ", "_") == col.name]
                hint = f"rename column '{close[0]}' to '{col.name}'" if close else f"add a column '{col.name}' ({col.description or col.kind}), e.g. {col.example}"
                self.problem("required column missing", row=1, column=col.name, expected=f"columns {', '.join(spec.column_names)}",
                             found=", ".join(present), fix=hint)
                ok = False
        for extra in [c for c in present if c not in spec.column_names]:
            self.problem(f"unknown column '{extra}' is ignored", row=1, column=extra, expected=f"columns {', '.join(spec.column_names)}",
                         fix="remove it or correct its name", severity="warning")
        return ok

    def text(self, col: Column) -> pd.Series:
        frame = self.raw.frame
        if col.name not in frame.columns:
            return pd.Series([None if self.raw.native else ""] * len(frame), index=frame.index, dtype=object)
        values = frame[col.name]
        if self.raw.native and col.kind in {"float", "int", "timestamp"}:
            return values
        if self.raw.native:  # Parquet text columns: the same rules as CSV text
            return values.astype("string[pyarrow]").fillna("").str.strip()
        # Arrow-backed strings: vectorized string checks are ~50x faster on a large history
        return values.astype("string[pyarrow]").str.strip()

    def parse(self, col: Column) -> pd.Series:
        values = self.text(col)
        if self.raw.native and col.kind in {"float", "int", "timestamp"}:
            return self._parse_native(col, values)
        empty = pd.Series((values == "").to_numpy(dtype=bool), index=values.index)
        if col.required:
            self.cells(empty, values, "empty cell", col.name, f"{col.kind}: {col.description or ''} e.g. {col.example}".strip(), "fill in a value")
        kind = col.kind
        if kind == "str":
            self._unsafe_names(col, values, values.astype(object).tolist())
            if col.choices:
                values = values.str.lower()
                self.cells(~empty & ~values.isin(col.choices).astype(bool), values, f"not one of {', '.join(col.choices)}", col.name,
                           " or ".join(col.choices), f"write one of: {', '.join(col.choices)}")
            return values.astype(object).where(~empty, None)
        if kind in {"float", "int"}:
            nums = pd.Series(pd.to_numeric(values.where(~empty), errors="coerce"), index=values.index)
            nums = pd.Series(nums.astype("Float64").to_numpy(dtype=float, na_value=np.nan), index=values.index)
            bad = ~empty & (nums.isna() | ~np.isfinite(nums.fillna(0)))
            percent = bad & values.str.endswith("%").astype(bool)
            self.cells(percent, values, "not a number", col.name, "a share between 0 and 1", "write the share as a decimal: 0.9, not 90%")
            self.cells(bad & ~percent, values, "not a number", col.name, f"a {'whole ' if kind == 'int' else ''}number" + (f" >= {col.min:g}" if col.min is not None else ""),
                       "write a plain number with a decimal point, without units or thousands separators")
            if kind == "int":
                frac = ~bad & ~empty & (nums % 1 != 0)
                self.cells(frac, values, "not a whole number", col.name, "a whole number", "round the value")
            self._range(col, nums, values, bad | empty)
            return nums.astype(float)
        if kind == "bool":
            low = values.str.lower()
            ok = low.isin(_TRUE | _FALSE).astype(bool)
            self.cells(~empty & ~ok, values, "not yes/no", col.name, "yes or no", "write yes or no")
            return low.isin(_TRUE).astype(bool)
        if kind == "duration":
            out = np.full(len(values), np.nan)
            bad = np.zeros(len(values), bool)
            for i, v in enumerate(values):
                if v == "":
                    continue
                try:
                    out[i] = parse_duration(v)
                except ValueError:
                    bad[i] = True
            self.cells(bad, values, "not a duration", col.name, "a number with a unit, e.g. 60s, 30m, 4h", "add the unit s, m or h")
            series = pd.Series(out, index=values.index)
            self._range(col, series, values, pd.Series(bad, index=values.index) | empty)
            return series
        if kind == "time":
            match = values.astype(object).str.extract(_TIME)
            bad = ~empty & match[0].isna().to_numpy(dtype=bool)
            self.cells(bad, values, "not a time of day", col.name, "HH:MM on a 24-hour clock, e.g. 08:00 or 22:30", "write the local start as HH:MM")
            minutes = pd.to_numeric(match[0], errors="coerce") * 60 + pd.to_numeric(match[1], errors="coerce")
            return minutes
        if kind == "days":
            out, bad = [], np.zeros(len(values), bool)
            for i, v in enumerate(values):
                try:
                    out.append(parse_days(v) if v else ())
                except ValueError:
                    out.append(())
                    bad[i] = True
            self.cells(bad, values, "not a list of weekdays", col.name, "e.g. Mon-Fri, Sat,Sun or Mon-Sun", "use three-letter English weekday names")
            return pd.Series(out, index=values.index, dtype=object)
        if kind == "list":
            out = [tuple(dict.fromkeys(p.strip() for p in v.split(";") if p.strip())) for v in values]
            series = pd.Series(out, index=values.index, dtype=object)
            self.cells(~empty & (series.map(len) == 0), values, "empty list", col.name, "names separated by ';'", "list at least one name")
            self._unsafe_names(col, values, [next((x for x in items if unsafe_reason(x)), "") for items in out])
            return series
        if kind == "timestamp":
            return self._timestamps(col, values, empty)
        raise AssertionError(f"unknown column kind {kind}")

    def _unsafe_names(self, col: Column, values: pd.Series, names: list) -> None:
        """The name policy (:mod:`capplan.inputs.names`): no leading = + - @, no control characters."""
        lookup = {v: unsafe_reason(v) if isinstance(v, str) and v else None for v in dict.fromkeys(names)}  # names repeat a lot
        reasons = [lookup[v] for v in names]
        bad = np.array([r is not None for r in reasons], dtype=bool)
        if not bad.any():
            return
        first = reasons[int(np.flatnonzero(bad)[0])]
        self.cells(bad, values, f"not a plain name: {first}", col.name, "a plain name such as " + (col.example or "abc"),
                   "type the name itself without a leading =, +, - or @ and without tabs or line breaks (Excel: paste as values)")

    def _range(self, col: Column, nums: pd.Series, values: pd.Series, skip) -> None:
        skip = np.asarray(skip)
        if col.min is not None:
            low = ~skip & (nums < col.min).to_numpy()
            self.cells(low, values, f"below the minimum {col.min:g}", col.name, f">= {col.min:g}", "correct the value")
        if col.max is not None:
            high = ~skip & (nums > col.max).to_numpy()
            self.cells(high, values, f"above the maximum {col.max:g}", col.name, f"<= {col.max:g}", "correct the value")

    def _timestamps(self, col: Column, values: pd.Series, empty: pd.Series) -> pd.Series:
        has_offset = values.str.contains(_OFFSET, regex=True).astype(bool)
        aware, naive = (~empty & has_offset), (~empty & ~has_offset)
        if naive.any():
            self.naive.add(col.name)
        if aware.any() and naive.any():
            self.cells(naive.to_numpy(), values, "time without a UTC offset in a column where other rows have one", col.name,
                       "every time with an offset (e.g. 2026-01-05T13:00:00Z) or none (read as UTC)",
                       "export all times in UTC with a trailing Z")
        codes, distinct = pd.factorize(values.where(~empty))  # a history repeats each time once per cell: parse each once
        if len(distinct):
            times = pd.to_datetime(pd.Index(distinct, dtype=object), format="ISO8601", utc=True, errors="coerce")
            parsed = pd.Series(times.take(codes, allow_fill=True, fill_value=pd.NaT), index=values.index)
        else:
            parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
        bad = ~empty & parsed.isna()
        if bad.any():
            # mixed formats: retry row by row before calling them bad
            retry = pd.to_datetime(values.where(bad), utc=True, errors="coerce", format="mixed")
            parsed = parsed.fillna(retry)
            bad = ~empty & parsed.isna()
        self.cells(bad, values, "not a date-time", col.name, "ISO 8601, e.g. 2026-01-05T13:00:00Z", "write dates as YYYY-MM-DDTHH:MM:SSZ")
        return parsed

    def _parse_native(self, col: Column, values: pd.Series) -> pd.Series:
        if col.kind == "timestamp":
            if pd.api.types.is_datetime64_any_dtype(values):
                if getattr(values.dt, "tz", None) is None:
                    self.naive.add(col.name)
                    return values.dt.tz_localize("UTC")
                return values.dt.tz_convert("UTC")
            return self._timestamps(col, values.astype(str), values.isna())
        nums = pd.to_numeric(values, errors="coerce").astype(float)
        bad = nums.isna() & values.notna() if not col.required else nums.isna()
        self.cells(bad.to_numpy(), values.astype(str), "not a number", col.name, "a number", "correct the value")
        self._range(col, nums, values.astype(str), bad.to_numpy())
        return nums
