"""Validate a workspace: every input, every cross-reference, all problems at once.

``check_workspace`` returns the typed :class:`Workspace` (or ``None`` when errors prevent typing)
plus every :class:`Problem` found. ``load_workspace`` raises :class:`InputError` on any error.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from capplan.config import Config, load_config
from capplan.errors import ConfigError, InputError, Problem
from capplan.inputs.cross import cross_checks
from capplan.inputs.names import SROW
from capplan.inputs.parse import TableParser
from capplan.inputs.read import RawTable, read_tables
from capplan.inputs.workspace import Workspace
from capplan.schema import (EVENT_END, EVENTS, HISTORY, INHOUSE, INPUT_TABLES, INTERVAL_START, MIN_HEADCOUNT, MIN_WEEKLY_HOURS,
                            PAID_HOURS, PATIENCE, PATIENCE_S, POOLS, QUEUE_KINDS, QUEUES, SERIES_KEYS, SHIFTS, START_LOCAL,
                            START_MINUTE, TARGET, TIMEZONE, VENDOR, VENDORS, WITHIN, WITHIN_S)
from capplan.schema import MAX_ABANDON, MAX_ASA, MAX_ASA_S

_RENAME = {WITHIN: WITHIN_S, PATIENCE: PATIENCE_S, MAX_ASA: MAX_ASA_S}


def check_workspace(root: Path, config: Config | None = None) -> tuple[Workspace | None, list[Problem]]:
    """Read and validate every input; return the typed workspace (None on errors) and all problems."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"{root}: no such workspace folder. Fix: pass the folder that holds capplan.toml")
    config = config or load_config(root)
    raw, problems = read_tables(root)
    zones = _site_zones(raw)
    typed: dict[str, pd.DataFrame] = {}
    for spec in INPUT_TABLES:
        if spec.name not in raw:
            continue
        frame, found = _type_table(raw[spec.name], zones)
        problems.extend(found)
        if frame is not None:
            typed[spec.name] = frame
    if len(typed) == len(INPUT_TABLES):
        problems.extend(cross_checks(_keyed_rows(typed), raw, config, root))
    errors = [p for p in problems if p.severity == "error"]
    if errors or len(typed) < len(INPUT_TABLES):
        return None, problems
    typed = {name: frame.drop(columns=SROW).reset_index(drop=True) for name, frame in typed.items()}
    ws = Workspace(
        root=root, config=config, warnings=[p for p in problems if p.severity != "error"],
        sources={name: t.path for name, t in raw.items()}, **typed,
    )
    if not _opening_backlog(ws, problems):
        return None, problems
    return ws, problems


def _opening_backlog(ws: Workspace, problems: list[Problem]) -> bool:
    """Read the optional ``inputs/backlog.csv`` into ``ws.backlog``; False (problems appended) when it has errors."""
    from capplan.inputs.backlog import BACKLOG_FILE, read_backlog

    start = pd.Timestamp(ws.config.planning.start, tz="UTC")
    try:
        ws.backlog = read_backlog(ws.root, queues=ws.queues, handle_times=ws.handle_times, start=start)
    except InputError as exc:
        problems.extend(exc.problems)
        return False
    if ws.backlog is not None:
        found = ws.backlog.attrs.pop("warnings", [])
        problems.extend(found)
        ws.warnings.extend(found)
        ws.sources["backlog"] = ws.root / "inputs" / BACKLOG_FILE
    return True


def load_workspace(root: Path, config: Config | None = None) -> Workspace:
    """The typed workspace; raises :class:`InputError` listing every error."""
    ws, problems = check_workspace(root, config)
    if ws is None:
        raise InputError(problems)
    return ws


def _keyed_rows(typed: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Each table with one row per key and no empty key: what the checks across tables may assume.

    Duplicated and empty keys are already reported (as errors) by the checks of each table.
    """
    out = {}
    for spec in INPUT_TABLES:
        key = [c for c in spec.key if c in typed[spec.name].columns]
        out[spec.name] = typed[spec.name].dropna(subset=key).drop_duplicates(key, keep="first")
    return out


def _site_zones(raw: dict[str, RawTable]) -> list[str]:
    """The time zones the pools name (as typed): where naive local history most likely comes from."""
    pools = raw.get(POOLS.name)
    if pools is None or TIMEZONE not in pools.frame.columns:
        return []
    return sorted({str(z).strip() for z in pools.frame[TIMEZONE] if str(z).strip()})


# --- one table at a time -------------------------------------------------------------------------
def _type_table(raw: RawTable, zones: list[str]) -> tuple[pd.DataFrame | None, list[Problem]]:
    parser = TableParser(raw)
    if not parser.check_columns():
        return None, parser.problems
    spec = raw.spec
    out = pd.DataFrame({col.name: parser.parse(col) for col in spec.columns}, index=raw.frame.index)
    for col in spec.columns:
        if col.kind == "int" and out[col.name].notna().all():
            out[col.name] = out[col.name].astype(int)
    out[SROW] = parser.rows
    if spec.required and len(out) == 0:
        parser.problem("no data rows", row=2, expected="at least one row below the header", fix="fill in the table (see templates/)")
    _duplicates(parser, out, spec.key, zones if INTERVAL_START in parser.naive else [])
    extra = _TABLE_CHECKS.get(spec.name)
    if extra:
        out = extra(parser, out)
    out = out.rename(columns=_RENAME)
    return out, parser.problems


def _duplicates(parser: TableParser, frame: pd.DataFrame, key: tuple[str, ...], zones: list[str]) -> None:
    if not len(frame):
        return
    dup = frame.duplicated(list(key), keep=False)
    if dup.any():
        first = frame[dup].groupby(list(key), sort=False, dropna=False)[SROW].apply(list)
        for n, (k, rows) in enumerate(first.items()):
            if n >= 5:
                parser.problem(f"{len(first) - 5} more duplicated keys", column=key[0], fix="keep one row per key")
                break
            kv = k if isinstance(k, tuple) else (k,)
            desc = ", ".join(f"{c}={v}" for c, v in zip(key, kv))
            fix, why = "remove or merge the duplicated rows", ""
            when = dict(zip(key, kv)).get(INTERVAL_START)
            folds = _ambiguous_in(when, zones) if zones and when is not None else []
            if folds:
                why = (f"; {when:%Y-%m-%d %H:%M} happens twice in {', '.join(folds[:3])} (daylight saving ends): the times look like "
                       "local wall-clock times without a UTC offset, which capplan reads as UTC")
                fix = ("export interval_start in UTC with a trailing Z (e.g. 2026-10-25T00:00:00Z) or with its UTC offset "
                       "(e.g. 2026-10-25T01:00:00+01:00); do not merge the two rows, they are different hours")
            parser.problem(f"duplicate row for {desc} (also row {rows[0]}){why}" if len(rows) > 1 else f"duplicate {desc}",
                           row=rows[1] if len(rows) > 1 else rows[0], column=key[-1],
                           expected=f"one row per {', '.join(key)}", fix=fix)


def _ambiguous_in(when, zones: list[str]) -> list[str]:
    """The zones (of the pools, else common ones) in which the naive wall time ``when`` occurs twice."""
    try:
        naive = pd.Timestamp(when).tz_localize(None).to_pydatetime()
    except (TypeError, ValueError):
        return []
    found = []
    for name in zones or _COMMON_ZONES:
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        if naive.replace(tzinfo=zone, fold=0).utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset():
            found.append(name)
    return found


_COMMON_ZONES = ("Europe/London", "Europe/Dublin", "Europe/Berlin", "Europe/Warsaw", "America/New_York", "America/Chicago",
                 "America/Los_Angeles", "America/Sao_Paulo", "Australia/Sydney")


def _history(p: TableParser, h: pd.DataFrame) -> pd.DataFrame:
    if len(h) == 0:
        return h
    if len(h) == 1:
        p.problem("only one row of history", row=2, expected="at least two weeks of history per queue and language",
                  fix="export a longer history")
    ts = h[INTERVAL_START]
    off_grid = ts.notna() & ((ts.dt.second != 0) | (ts.dt.minute % 15 != 0))
    p.cells(off_grid, ts, "interval start not on a 15-minute grid", INTERVAL_START, "starts at :00, :15, :30 or :45",
            "export history on whole intervals (hourly or 15/30 minutes)")
    return h.sort_values(SERIES_KEYS, kind="stable").reset_index(drop=True)


def _queues(p: TableParser, q: pd.DataFrame) -> pd.DataFrame:
    for r in q.itertuples():
        if r.kind == QUEUE_KINDS[0] and not np.isnan(r.patience):
            p.problem("patience applies to realtime queues only and is ignored here", row=r.srow, column=PATIENCE, severity="warning",
                      fix="leave patience empty for deferred queues")
        if r.kind == QUEUE_KINDS[1] and r.within > 3600:
            p.problem("a realtime target of more than an hour is unusual", row=r.srow, column=WITHIN, found=f"{r.within:g}s", severity="warning",
                      fix="use kind 'deferred' for turnaround targets of hours")
        if r.target == 1.0:
            p.problem("a target of 1.0 (100%) cannot be met by a queueing model", row=r.srow, column=TARGET, expected="a share below 1, e.g. 0.95",
                      found="1.0", fix="use 0.99 or lower")
        if r.target == 0.0:
            p.problem("a target of 0 needs no staff", row=r.srow, column=TARGET, severity="warning", fix="use the service target, e.g. 0.9")
        _realtime_targets(p, r)
    return q


def _realtime_targets(p: TableParser, r) -> None:
    """The optional ASA target and abandonment cap of a queue (columns max_asa, max_abandon)."""
    asa, cap = getattr(r, MAX_ASA, np.nan), getattr(r, MAX_ABANDON, np.nan)
    if r.kind == QUEUE_KINDS[0]:
        for column, value in ((MAX_ASA, asa), (MAX_ABANDON, cap)):
            if not np.isnan(value):
                p.problem(f"{column} applies to realtime queues only and is ignored here", row=r.srow, column=column, severity="warning",
                          fix=f"leave {column} empty for deferred queues")
        return
    if not np.isnan(cap) and np.isnan(r.patience):
        p.problem("an abandonment cap needs the queue's patience: without it nobody abandons (Erlang C)", row=r.srow, column=MAX_ABANDON,
                  expected="a patience, e.g. 3m, in the same row", found=f"{cap:g} with an empty patience",
                  fix="give the mean patience before abandoning, or leave max_abandon empty")
    if cap == 0.0:
        p.problem("an abandonment cap of 0 cannot be met: with a finite patience some callers always leave", row=r.srow, column=MAX_ABANDON,
                  expected="a share above 0, e.g. 0.05", found="0", fix="use a small share such as 0.02, or leave it empty")
    if cap == 1.0:
        p.problem("an abandonment cap of 1 allows everyone to leave and sets no target", row=r.srow, column=MAX_ABANDON, severity="warning",
                  fix="use the largest acceptable share, e.g. 0.05, or leave it empty")


def _pools(p: TableParser, pools: pd.DataFrame) -> pd.DataFrame:
    for r in pools.itertuples():
        if isinstance(r.timezone, str) and r.timezone:
            try:
                ZoneInfo(r.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                p.problem("unknown time zone", row=r.srow, column=TIMEZONE, expected="an IANA zone name such as Europe/Dublin or Asia/Manila",
                          found=r.timezone, fix="use the zone of the site from the IANA list (Region/City)")
        if not np.isnan(r.min_headcount) and not np.isnan(r.max_headcount) and r.min_headcount > r.max_headcount:
            p.problem("min_headcount is above max_headcount", row=r.srow, column=MIN_HEADCOUNT,
                      expected=f"<= max_headcount ({r.max_headcount:g})", found=f"{r.min_headcount:g}", fix="lower the minimum or raise the maximum")
    return pools


def _vendors(p: TableParser, v: pd.DataFrame) -> pd.DataFrame:
    for r in v.itertuples():
        if r.min_weekly_hours > r.max_weekly_hours:
            p.problem("min_weekly_hours is above max_weekly_hours", row=r.srow, column=MIN_WEEKLY_HOURS,
                      expected=f"<= max_weekly_hours ({r.max_weekly_hours:g})", found=f"{r.min_weekly_hours:g}", fix="correct the contract hours")
        if r.vendor == INHOUSE:
            p.problem(f"'{INHOUSE}' is reserved for in-house pools and needs no vendor row", row=r.srow, column=VENDOR, fix="remove the row", severity="warning")
    return v


def _shifts(p: TableParser, s: pd.DataFrame) -> pd.DataFrame:
    for r in s.itertuples():
        length = r.paid_hours + r.break_minutes / 60
        if length > 24:
            p.problem("shift is longer than 24 hours (paid hours plus break)", row=r.srow, column=PAID_HOURS,
                      expected="paid_hours + break_minutes/60 <= 24", found=f"{length:g} h", fix="split it into two shifts")
    minutes = s[START_LOCAL]  # parsed as minutes after local midnight
    s.insert(2, START_MINUTE, minutes.fillna(-1).astype(int))
    s[START_LOCAL] = [f"{int(m) // 60:02d}:{int(m) % 60:02d}" if m >= 0 else None for m in s[START_MINUTE]]
    return s


def _events(p: TableParser, e: pd.DataFrame) -> pd.DataFrame:
    for r in e.itertuples():
        if pd.notna(r.start) and pd.notna(r.end) and r.end <= r.start:
            p.problem("event ends before it starts", row=r.srow, column=EVENT_END, expected=f"after {r.start}", found=str(r.end), fix="swap start and end")
    return e


_TABLE_CHECKS = {HISTORY.name: _history, QUEUES.name: _queues, POOLS.name: _pools, VENDORS.name: _vendors, SHIFTS.name: _shifts,
                EVENTS.name: _events}


