"""``capplan validate``: every input of a workspace, the optional ones included, all problems at once.

:func:`capplan.inputs.check_workspace` checks the required tables and their cross references. This adds
the optional files other commands read, each through the very reader those commands use (so validate and
the commands cannot disagree, and the readers stay as they are):

- ``inputs/budget.csv``: :func:`capplan.inputs.budget.read_budget` (``finance.xlsx``, ``capplan capacity``);
- ``inputs/roster.csv``: :func:`capplan.inputs.roster.read_roster` (``capplan capacity``);
- ``inputs/production.csv`` (or ``.parquet``): :func:`capplan.inputs.production.production_problems` (``capplan capability``), on a valid workspace only;
- ``inputs/drivers.csv``: :func:`capplan.scenarios.drivers.read_drivers` and, on a valid workspace, the
  consistency warnings of :func:`capplan.scenarios.drivers.check_drivers` (scenarios' ``[[drivers]]`` rules).

These files name pools, vendors, sites and queues. On a valid workspace they are checked against its
typed tables; when the required tables have errors, against the names the raw tables hold, and a file
whose reference table cannot be read at all is reported as not checked (a warning) rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from capplan.config import load_config
from capplan.errors import InputError, Problem
from capplan.inputs import Workspace, check_workspace
from capplan.inputs.budget import BUDGET_FILE, read_budget
from capplan.inputs.read import INPUTS_DIR, read_tables
from capplan.inputs.production import PRODUCTION_CSV, PRODUCTION_PARQUET, production_problems
from capplan.inputs.roster import ROSTER_FILE, read_roster
from capplan.schema import INHOUSE, POOL, POOLS, QUEUE, QUEUES, SITE, VENDOR, VENDORS
from capplan.scenarios.drivers import DRIVERS_FILE, check_drivers, read_drivers


@dataclass
class Validation:
    """What ``capplan validate`` found: the typed workspace (None on errors), every problem, and the
    optional files that were present and checked (``inputs/budget.csv``, ...)."""

    workspace: Workspace | None
    problems: list[Problem]
    optional_checked: list[str] = field(default_factory=list)


@dataclass
class _Names:
    """The tables the optional files refer to (typed, or the raw text of a workspace with errors);
    a table is None when it could not be read. ``root`` and ``queues`` let it stand in for the workspace
    in :func:`read_drivers`, which reads only those two."""

    root: Path
    pools: pd.DataFrame | None  # pool, vendor, site
    vendors: pd.DataFrame | None  # vendor
    queues: pd.DataFrame | None  # queue


def validate_workspace(root: Path) -> Validation:
    """Check the required inputs, then every optional input that is present; never raises
    :class:`InputError` (every problem is in the result)."""
    root = Path(root)
    ws, problems = check_workspace(root)
    config = ws.config if ws is not None else load_config(root)
    names = _typed_names(ws) if ws is not None else _raw_names(root)
    start = pd.Timestamp(config.planning.start, tz="UTC")
    checked = []
    for file_name, needs, read in (
        (BUDGET_FILE, ("pools", "vendors"), lambda: read_budget(root, cost_centres=_cost_centres(names), fx=config.policy.fx)),
        (ROSTER_FILE, ("pools",), lambda: read_roster(root, pools=names.pools, start=start)),
        (Path(DRIVERS_FILE).name, ("queues",), lambda: _drivers(ws, names)),
    ):
        if not (root / INPUTS_DIR / file_name).is_file():
            continue
        checked.append(f"{INPUTS_DIR}/{file_name}")
        missing = [n for n in needs if getattr(names, n) is None]
        if missing:
            problems.append(Problem(f"{INPUTS_DIR}/{file_name}", "not checked: it names entries of "
                                    + ", ".join(f"{n}.csv" for n in missing) + ", which could not be read",
                                    fix="correct the errors above, then run 'capplan validate' again", severity="warning"))
            continue
        problems.extend(_problems_of(read))
    production = [f for f in (PRODUCTION_CSV, PRODUCTION_PARQUET) if (root / INPUTS_DIR / f).is_file()]
    if production and ws is not None:  # capplan capability's records, checked against the typed pools and skills
        checked.append(f"{INPUTS_DIR}/{production[0]}")
        problems.extend(production_problems(ws))
    return Validation(workspace=ws, problems=problems, optional_checked=checked)


def _problems_of(read: Callable[[], object]) -> list[Problem]:
    """The problems a reader raises (its own warnings come back as a list), or none."""
    try:
        found = read()
    except InputError as exc:
        return list(exc.problems)
    return list(found) if isinstance(found, list) else []


def _drivers(ws: Workspace | None, names: _Names) -> list[Problem]:
    """``read_drivers`` on the workspace (or the names standing in for it); on a valid workspace also the
    warnings where the drivers do not multiply out to the history."""
    drivers = read_drivers(ws if ws is not None else names)
    if ws is None or drivers is None:
        return []
    return check_drivers(ws, drivers)


def _cost_centres(names: _Names) -> set[str]:
    """What a budget row may name: the sites of in-house pools and the vendors (as ``capplan capacity`` and
    ``finance.xlsx`` read it)."""
    pools = names.pools
    return set(pools.loc[pools[VENDOR] == INHOUSE, SITE]) | set(names.vendors[VENDOR])


def _typed_names(ws: Workspace) -> _Names:
    return _Names(ws.root, ws.pools, ws.vendors, ws.queues)


def _raw_names(root: Path) -> _Names:
    """The names the raw tables hold (stripped text), when the required tables have errors."""
    raw, _ = read_tables(root)

    def columns(spec, *cols: str) -> pd.DataFrame | None:
        table = raw.get(spec.name)
        if table is None or any(c not in table.frame.columns for c in cols):
            return None
        return pd.DataFrame({c: table.frame[c].astype(str).str.strip() for c in cols})

    return _Names(root, columns(POOLS, POOL, VENDOR, SITE), columns(VENDORS, VENDOR), columns(QUEUES, QUEUE))
