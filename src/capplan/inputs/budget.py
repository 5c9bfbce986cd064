"""The optional ``inputs/budget.csv``: cost budget per month (and vendor), for budget vs plan in finance.xlsx.

Read with the same parser as the other inputs (:class:`capplan.inputs.parse.TableParser`): every bad cell is
a :class:`~capplan.errors.Problem` naming file, row and column, all reported at once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from capplan.config import Config
from capplan.errors import InputError
from capplan.inputs.parse import TableParser
from capplan.inputs.read import INPUTS_DIR, _read_csv
from capplan.schema import BUDGET, INHOUSE

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-01)?$")
COLUMNS = ["month", "vendor", "amount", "currency"]


def read_budget(root: Path, config: Config, vendors: pd.Series | None = None) -> pd.DataFrame:
    """``month`` (timestamp of the month's first day), ``vendor`` ("" = whole plan), ``amount``, ``currency``.

    An empty frame when ``inputs/budget.csv`` does not exist or has no rows. Raises :class:`InputError` on
    bad cells, unknown currencies (not in ``[policy] fx``), unknown vendors, or a month given twice.
    """
    path = Path(root) / INPUTS_DIR / f"{BUDGET.name}.csv"
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    raw, problem = _read_csv(BUDGET, path, f"{INPUTS_DIR}/{path.name}")
    if problem is not None:
        raise InputError([problem])
    parser = TableParser(raw)
    if not parser.check_columns():
        raise InputError(parser.problems)
    frame = pd.DataFrame({c.name: parser.parse(c) for c in BUDGET.columns}, index=raw.frame.index)
    frame["vendor"] = frame["vendor"].fillna("")
    month_text = frame["month"].fillna("")
    bad = ~month_text.str.match(_MONTH).astype(bool) & (month_text != "")
    parser.cells(bad.to_numpy(), month_text, "not a month", "month", "YYYY-MM, e.g. 2026-02", "write the month as YYYY-MM")
    currency = frame["currency"].fillna("")
    unknown = ~currency.isin(list(config.policy.fx)) & (currency != "")
    parser.cells(unknown.to_numpy(), currency, "currency without an exchange rate", "currency",
                 f"one of {', '.join(sorted(config.policy.fx))}", "add its rate to [policy] fx in capplan.toml or use another currency")
    if vendors is not None:
        known = set(vendors) | {INHOUSE, ""}
        parser.cells((~frame["vendor"].isin(known)).to_numpy(), frame["vendor"], "unknown vendor", "vendor",
                     "a vendor of vendors.csv, 'inhouse', or empty for the whole plan", "correct the name (names match exactly)")
    frame["srow"] = parser.rows
    ok = ~bad
    frame.loc[ok, "month"] = pd.to_datetime(month_text[ok].str[:7] + "-01", errors="coerce")
    dup = frame[ok].duplicated(["month", "vendor"], keep="first")
    for row in frame[ok][dup]["srow"]:
        parser.problem("month and vendor given twice", row=row, column="month", expected="one row per month and vendor",
                       fix="merge the rows into one amount")
    errors = [p for p in parser.problems if p.severity == "error"]
    if errors:
        raise InputError(parser.problems)
    frame["month"] = pd.to_datetime(frame["month"])
    return frame[COLUMNS].reset_index(drop=True)
