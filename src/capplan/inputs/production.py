"""Read and validate the optional production records ``inputs/production.csv`` (or ``production.parquet``).

One row is the work of one pool (or one moderator of it) on one (queue, language) cell over one day or
interval (:data:`capplan.schema.PRODUCTION`): ``items`` handled and their **total** handle time
``handle_time_s`` (a sum, so rows add up: a cell's AHT is ``sum(handle_time_s) / sum(items)``), and
optionally the QA sample (``qa_sampled``, ``qa_passed``) and appeals (``appeals``, ``overturned``).
Rows are disjoint: a moderator's row (``moderator`` and ``tenure_weeks`` given) is not also counted in a
pool row. CSV takes precedence over Parquet when both exist (as for the history).

Problems are collected the inputs layer's way (:class:`capplan.inputs.parse.TableParser`), all at once:

* errors (file, row, column): unknown pools, handle time <= 0 on a row with items, ``qa_passed`` above
  ``qa_sampled``, ``qa_sampled`` above ``items``, ``overturned`` above ``appeals``, ``tenure_weeks`` going
  backward for a moderator, tenure without a moderator, duplicated rows;
* warnings: items handled by a pool on a cell it has no skill for (listed; kept, they are measurements),
  cells with no handle time in ``handle_times`` (no reference AHT: left out of the estimates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from capplan.errors import InputError, Problem
from capplan.inputs.parse import TableParser
from capplan.inputs.read import INPUTS_DIR, RawTable, read_optional_table
from capplan.schema import (APPEALS, HANDLE_TIME_S, ITEMS, LANGUAGE, MODERATOR, OVERTURNED, POOL, PROD_DATE, PRODUCTION,
                            QA_PASSED, QA_SAMPLED, QUEUE, TENURE_WEEKS)

PRODUCTION_CSV = "production.csv"
PRODUCTION_PARQUET = "production.parquet"
MAX_LISTED = 12  # unskilled (pool, cell) pairs named in the warning


@dataclass
class Production:
    """Typed production records and the warnings found while reading them."""

    frame: pd.DataFrame  # PRODUCTION columns (ints as float with NaN where empty) + row
    file: str  # inputs/production.csv or .parquet
    warnings: list[Problem] = field(default_factory=list)


def production_path(root: Path) -> Path | None:
    """The production file a workspace holds (CSV before Parquet), or None."""
    folder = Path(root) / INPUTS_DIR
    for name in (PRODUCTION_CSV, PRODUCTION_PARQUET):
        if (folder / name).is_file():
            return folder / name
    return None


def read_production(root: Path, *, pools: pd.DataFrame, skills: pd.DataFrame, cells: pd.DataFrame) -> Production | None:
    """Production rows, or ``None`` when the workspace has no production file.

    Parameters
    ----------
    root : Path
        Workspace folder.
    pools : pandas.DataFrame
        The validated pools (``pool``).
    skills : pandas.DataFrame
        ``pool, queue, language`` a pool can work (:meth:`capplan.inputs.Workspace.skills`).
    cells : pandas.DataFrame
        ``queue, language`` cells with a handle time (:meth:`capplan.inputs.Workspace.cells`).

    Returns
    -------
    Production or None

    Raises
    ------
    InputError
        Every error at once (see the module docstring); warnings ride along in ``Production.warnings``.
    """
    found = _read(root)
    if found is None:
        return None
    parser, frame = found
    _check_values(parser, frame, set(pools[POOL]))
    _check_tenure(parser, frame)
    dup = frame.duplicated(list(PRODUCTION.key), keep="first").to_numpy()
    parser.cells(dup, frame[POOL].astype(str), "second row for the same date, pool, moderator, queue and language", PROD_DATE,
                 "one row per date, pool, moderator and cell", "add the items and handle times into one row")
    errors = [p for p in parser.problems if p.severity == "error"]
    if errors:
        raise InputError(parser.problems)
    warnings = [p for p in parser.problems if p.severity != "error"] + _skill_warnings(parser.raw.label, frame, skills, cells)
    return Production(frame.reset_index(drop=True), parser.raw.label, warnings)


def _read(root: Path):
    path = production_path(root)
    if path is None:
        return None
    if path.name == PRODUCTION_CSV:
        return read_optional_table(root, PRODUCTION, PRODUCTION_CSV)
    label = f"{INPUTS_DIR}/{path.name}"
    try:
        data = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise InputError([Problem(file=label, message=f"cannot read Parquet file ({exc})", fix="re-export the file")]) from None
    for col in PRODUCTION.columns:  # absent optional columns: empty
        if col.name not in data.columns and not col.required:
            data[col.name] = "" if col.kind == "str" else np.nan
    parser = TableParser(RawTable(PRODUCTION, label, path, data, native=True))
    if not parser.check_columns():
        raise InputError(parser.problems)
    frame = pd.DataFrame({col.name: parser.parse(col) for col in PRODUCTION.columns}, index=data.index)
    frame["row"] = parser.rows
    return parser, frame


def _check_values(parser: TableParser, frame: pd.DataFrame, pools: set[str]) -> None:
    names = frame[POOL].fillna("").astype(str)
    unknown = np.array([bool(n) and n not in pools for n in names])
    parser.cells(unknown, names, "pool is not in pools", POOL, "one of " + ", ".join(sorted(pools)), "correct the pool name")
    items, handle = frame[ITEMS].to_numpy(float), frame[HANDLE_TIME_S].to_numpy(float)
    zero = (items > 0) & (handle <= 0)
    parser.cells(zero, frame[HANDLE_TIME_S].astype(str), "handle time is zero or negative on a row with items", HANDLE_TIME_S,
                 "the total handle time of the row's items, > 0 seconds", "export the summed handle time in seconds")
    checks = ((QA_PASSED, QA_SAMPLED, "qa_passed is above qa_sampled", "qa_passed <= qa_sampled"),
              (QA_SAMPLED, ITEMS, "qa_sampled is above items", "qa_sampled <= items"),
              (OVERTURNED, APPEALS, "overturned is above appeals", "overturned <= appeals"))
    for part, whole, message, expected in checks:
        a, b = frame[part].to_numpy(float), frame[whole].to_numpy(float)
        over = np.isfinite(a) & (a > np.nan_to_num(b, nan=0.0))
        parser.cells(over, frame[part].astype(str), message, part, expected, f"check the {part} and {whole} of that row")


def _check_tenure(parser: TableParser, frame: pd.DataFrame) -> None:
    """Tenure needs a moderator and never goes backward in time for one moderator."""
    mod = frame[MODERATOR].fillna("").astype(str)
    tenure = frame[TENURE_WEEKS].to_numpy(float)
    orphan = np.isfinite(tenure) & (mod == "").to_numpy()
    parser.cells(orphan, frame[TENURE_WEEKS].astype(str), "tenure_weeks without a moderator", TENURE_WEEKS,
                 "a moderator id on every row with a tenure", "fill in the moderator, or leave tenure_weeks empty")
    has = (mod != "").to_numpy() & np.isfinite(tenure)
    if not has.any():
        return
    sub = pd.DataFrame({"m": mod[has].to_numpy(), "d": frame[PROD_DATE][has].to_numpy(), "t": tenure[has],
                        "pos": np.flatnonzero(has)}).sort_values(["m", "d", "pos"], kind="stable")
    prev = sub.groupby("m", sort=False)["t"].cummax().shift(1)
    same = sub["m"].eq(sub["m"].shift(1))
    back = same & (sub["t"] < prev - 1e-9)
    mask = np.zeros(len(frame), bool)
    mask[sub.loc[back, "pos"].to_numpy()] = True
    parser.cells(mask, frame[TENURE_WEEKS].astype(str), "tenure_weeks goes backward for this moderator (lower than on an earlier date)",
                 TENURE_WEEKS, "a tenure that grows with the date for each moderator", "correct the tenure or the moderator id")


def _skill_warnings(label: str, frame: pd.DataFrame, skills: pd.DataFrame, cells: pd.DataFrame) -> list[Problem]:
    out = []
    keys = frame[[POOL, QUEUE, LANGUAGE]].astype(str)
    pairs = keys.value_counts(sort=False).rename("rows").reset_index()
    known = pairs.merge(skills[[POOL, QUEUE, LANGUAGE]].astype(str), how="left", indicator=True)
    unskilled = known[known["_merge"] == "left_only"].sort_values([POOL, QUEUE, LANGUAGE], kind="stable")
    if len(unskilled):
        listed = ", ".join(f"{r.pool} on {r.queue}/{r.language} ({r.rows} rows)" for r in unskilled.head(MAX_LISTED).itertuples())
        more = f" and {len(unskilled) - MAX_LISTED} more" if len(unskilled) > MAX_LISTED else ""
        out.append(Problem(file=label, column=f"{POOL}, {QUEUE}, {LANGUAGE}", severity="warning",
                           message=f"items handled by pools on cells they have no skill for: {listed}{more}",
                           fix="add the queue and language to the pool's skills in inputs/pools.csv, or check the records"))
    known_cells = set(zip(cells[QUEUE].astype(str), cells[LANGUAGE].astype(str)))
    no_ref = sorted({c for c in zip(keys[QUEUE], keys[LANGUAGE]) if c not in known_cells})
    if no_ref:
        out.append(Problem(file=label, column=f"{QUEUE}, {LANGUAGE}", severity="warning",
                           message="cells with no handle time in handle_times are left out of the estimates: "
                           + ", ".join(f"{q}/{lg}" for q, lg in no_ref[:MAX_LISTED]),
                           fix="add the cells to inputs/handle_times.csv"))
    return out


def production_problems(ws) -> list[Problem]:
    """Every problem of a workspace's production file (none when it has none): what ``capplan validate`` adds."""
    try:
        found = read_production(ws.root, pools=ws.pools, skills=ws.skills(), cells=ws.cells())
    except InputError as exc:
        return list(exc.problems)
    return [] if found is None else list(found.warnings)
