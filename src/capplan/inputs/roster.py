"""Read and validate the optional ``inputs/roster.csv``: headcount per pool today and committed hiring classes.

Columns (:data:`capplan.schema.ROSTER`): ``pool`` (as in pools), ``headcount`` (whole moderators) and an
optional ``class_start``: empty means on the roster today (fully productive); a date means a committed
in-house hiring class whose paid training starts that day. The optional ``weekly_hours`` is the contracted
paid hours per employee and week (empty or absent: ``[contracts] default_weekly_hours``); several rows of
one pool with different hours are its full- and part-time groups. ``capplan plan`` schedules the in-house
rows on the roster today at their contracted hours (:mod:`capplan.optimize.data`); vendor rows stay
contracted FTE for ``capplan capacity`` only. Without the file (or for a pool it does not
list), ``capplan capacity`` reads the pool's ``max_headcount`` in pools.csv as its roster today.
Problems are collected the inputs layer's way (:class:`capplan.inputs.parse.TableParser`) and raised at
once as one :class:`capplan.errors.InputError`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from capplan.errors import InputError
from capplan.inputs.parse import TableParser
from capplan.inputs.read import read_optional_table
from capplan.schema import INHOUSE, ROSTER

ROSTER_FILE = "roster.csv"


def read_roster(root: Path, *, pools: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame | None:
    """Roster rows, or ``None`` when there is no ``inputs/roster.csv``.

    Parameters
    ----------
    root : Path
        Workspace folder.
    pools : pandas.DataFrame
        The validated pools (``pool``, ``vendor``).
    start : pandas.Timestamp
        Plan start (UTC midnight): a committed class may not start before it.

    Returns
    -------
    pandas.DataFrame or None
        ``pool``, ``headcount`` (int), ``class_start`` (UTC timestamp or NaT), ``row``, ``weekly_hours``
        (contracted paid hours per employee and week, NaN when not given).

    Raises
    ------
    InputError
        Every problem at once: unknown pools, negative or fractional headcounts, dates that do not
        parse, a class starting before the plan, a class for a vendor pool, duplicated rows.
    """
    found = read_optional_table(root, ROSTER, ROSTER_FILE)
    if found is None:
        return None
    parser, frame = found
    vendor = dict(zip(pools["pool"], pools["vendor"]))
    names = frame["pool"].fillna("").astype(str)
    unknown = np.array([bool(n) and n not in vendor for n in names])
    parser.cells(unknown, names, "pool is not in pools", "pool", "one of " + ", ".join(sorted(vendor)), "correct the pool name")
    starts = frame["class_start"]
    early = (starts.notna() & (starts < start)).to_numpy()
    parser.cells(early, starts.astype(str), "hiring class starts before the plan", "class_start", f"a date on or after {start:%Y-%m-%d}",
                 "list people already hired as a row without class_start, or move [planning] start")
    vendor_class = np.array([starts.iloc[i] is not pd.NaT and pd.notna(starts.iloc[i]) and vendor.get(n, INHOUSE) != INHOUSE
                             for i, n in enumerate(names)])
    parser.cells(vendor_class, names, "hiring classes are for in-house pools; a vendor hires its own staff", "class_start",
                 "an empty class_start for a vendor pool", "give the vendor pool's contracted FTE without a date")
    dup = frame.duplicated(["pool", "class_start", "weekly_hours"], keep="first").to_numpy()
    parser.cells(dup, names, "second row for the same pool, class_start and weekly_hours", "pool",
                 "one row per pool, class start and contracted weekly hours", "add the headcounts into one row")
    if any(p.severity == "error" for p in parser.problems):
        raise InputError(parser.problems)
    frame["headcount"] = frame["headcount"].astype(int)
    return frame[["pool", "headcount", "class_start", "row", "weekly_hours"]].reset_index(drop=True)
