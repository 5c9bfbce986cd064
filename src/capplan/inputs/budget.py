"""Read and validate the optional ``inputs/budget.csv``: cost budget per month and cost centre.

Columns (:data:`capplan.schema.BUDGET`): ``month`` (``YYYY-MM``), ``cost_centre`` (a site, whose in-house
pools it covers, or a vendor name), ``budget`` (>= 0) and ``currency`` (an ISO code with an FX rate in
``[policy] fx``). Parsing follows the inputs layer's conventions (:class:`capplan.inputs.parse.TableParser`):
every problem is collected with file, row, column, what was expected and how to fix it, then raised at
once as one :class:`capplan.errors.InputError`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from capplan.errors import InputError
from capplan.inputs.parse import TableParser
from capplan.inputs.read import read_optional_table
from capplan.schema import BUDGET, COST_CENTRE, INHOUSE, MONTH, SITE, VENDOR

BUDGET_FILE = "budget.csv"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def read_budget(root: Path, *, cost_centres: set[str], fx: dict[str, float]) -> pd.DataFrame | None:
    """The workspace's budget in the reporting currency, or ``None`` when there is no ``inputs/budget.csv``.

    Parameters
    ----------
    root : Path
        Workspace folder.
    cost_centres : set of str
        Valid cost centres: the sites of in-house pools and the vendor names.
    fx : dict
        Value of one unit of each currency in the reporting currency (``[policy] fx``).

    Returns
    -------
    pandas.DataFrame or None
        ``month`` (``YYYY-MM``), ``cost_centre``, ``budget_original`` [given currency], ``currency``,
        ``budget`` [reporting currency], ``row`` (spreadsheet row), sorted by month and cost centre.

    Raises
    ------
    InputError
        Every problem at once: unreadable file, missing columns, a month that is not ``YYYY-MM``, a
        negative or non-numeric budget, an unknown cost centre or currency, a duplicated month and cost centre.
    """
    found = read_optional_table(root, BUDGET, BUDGET_FILE)
    if found is None:
        return None
    parser, frame = found
    _check_months(parser, frame)
    _check_names(parser, frame, cost_centres, fx)
    _check_duplicates(parser, frame)
    if any(p.severity == "error" for p in parser.problems):
        raise InputError(parser.problems)
    frame = frame.rename(columns={"budget": "budget_original"})
    frame["budget"] = frame["budget_original"] * frame["currency"].map(fx).astype(float)
    frame = frame.sort_values([MONTH, COST_CENTRE], kind="stable").reset_index(drop=True)
    return frame[[MONTH, COST_CENTRE, "budget_original", "currency", "budget", "row"]]


def _check_months(parser: TableParser, frame: pd.DataFrame) -> None:
    months = frame[MONTH].fillna("").astype(str)
    bad = np.array([bool(m) and not _MONTH.match(m) for m in months])
    parser.cells(bad, months, "not a calendar month", MONTH, "YYYY-MM, e.g. 2027-01", "write the month as four-digit year, dash, two-digit month")


def _check_names(parser: TableParser, frame: pd.DataFrame, cost_centres: set[str], fx: dict[str, float]) -> None:
    centre = frame[COST_CENTRE].fillna("").astype(str)
    unknown = np.array([bool(c) and c not in cost_centres for c in centre])
    parser.cells(unknown, centre, "cost centre matches no site of an in-house pool and no vendor", COST_CENTRE,
                 "one of " + ", ".join(sorted(cost_centres)), "correct the name (case matters) or add the pool or vendor")
    currency = frame["currency"].fillna("").astype(str)
    no_rate = np.array([bool(c) and c not in fx for c in currency])
    parser.cells(no_rate, currency, "currency has no FX rate", "currency", "one of " + ", ".join(sorted(fx)),
                 "add it under [policy] fx in capplan.toml or convert the budget")


def _check_duplicates(parser: TableParser, frame: pd.DataFrame) -> None:
    dup = frame.duplicated([MONTH, COST_CENTRE], keep="first") & frame[MONTH].notna() & frame[COST_CENTRE].notna()
    parser.cells(dup.to_numpy(), frame[COST_CENTRE].astype(str), "second budget row for the same month and cost centre",
                 COST_CENTRE, "one row per month and cost centre", "add the amounts into one row")


FINANCE_COLUMNS = ["month", "vendor", "amount", "currency"]


def finance_budget(root: Path, ws) -> pd.DataFrame:
    """The budget as finance.xlsx compares it with a plan: one row per month and vendor (``inhouse`` for a site).

    Reads ``inputs/budget.csv`` once through :func:`read_budget` (the one reader and format, shared with
    ``capplan capacity``): a cost centre that is a vendor keeps its name; a site's budget counts toward
    ``inhouse`` (the finance workbook splits cost by vendor, in-house being one line). ``amount`` is in the
    reporting currency (``currency`` says which), ``month`` is the month's first day.

    Returns an empty frame with these columns when there is no budget file.
    """
    vendors = set(ws.vendors[VENDOR]) if VENDOR in ws.vendors.columns else set()
    sites = set(ws.pools.loc[ws.pools[VENDOR] == INHOUSE, SITE])
    budget = read_budget(root, cost_centres=sites | vendors, fx=ws.config.policy.fx)
    if budget is None or not len(budget):
        return pd.DataFrame(columns=FINANCE_COLUMNS)
    frame = pd.DataFrame({
        "month": pd.to_datetime(budget[MONTH] + "-01"),
        "vendor": [c if c in vendors else INHOUSE for c in budget[COST_CENTRE]],
        "amount": budget["budget"].astype(float),
    })
    frame = frame.groupby(["month", "vendor"], sort=True, as_index=False)["amount"].sum()
    frame["currency"] = ws.config.policy.currency
    return frame[FINANCE_COLUMNS]
