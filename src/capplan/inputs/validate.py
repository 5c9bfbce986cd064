"""Validate a workspace: every input, every cross-reference, all problems at once.

``check_workspace`` returns the typed :class:`Workspace` (or ``None`` when errors prevent typing)
plus every :class:`Problem` found. ``load_workspace`` raises :class:`InputError` on any error.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from capplan.config import Config, load_config
from capplan.errors import ConfigError, InputError, Problem
from capplan.inputs.names import name_clashes
from capplan.inputs.parse import TableParser
from capplan.inputs.read import RawTable, read_tables
from capplan.inputs.workspace import Workspace
from capplan.schema import INHOUSE, INPUT_TABLES

_RENAME = {"within": "within_s", "patience": "patience_s"}


def check_workspace(root: Path, config: Config | None = None) -> tuple[Workspace | None, list[Problem]]:
    """Read and validate every input; return the typed workspace (None on errors) and all problems."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"{root}: no such workspace folder. Fix: pass the folder that holds capplan.toml")
    config = config or load_config(root)
    raw, problems = read_tables(root)
    typed: dict[str, pd.DataFrame] = {}
    for spec in INPUT_TABLES:
        if spec.name not in raw:
            continue
        frame, found = _type_table(raw[spec.name])
        problems.extend(found)
        if frame is not None:
            typed[spec.name] = frame
    if len(typed) == len(INPUT_TABLES):
        problems.extend(_cross_checks(typed, raw, config))
    errors = [p for p in problems if p.severity == "error"]
    if errors or len(typed) < len(INPUT_TABLES):
        return None, problems
    typed = {name: frame.drop(columns="srow").reset_index(drop=True) for name, frame in typed.items()}
    ws = Workspace(
        root=root, config=config, warnings=[p for p in problems if p.severity != "error"],
        sources={name: t.path for name, t in raw.items()}, **typed,
    )
    return ws, problems


def load_workspace(root: Path, config: Config | None = None) -> Workspace:
    """The typed workspace; raises :class:`InputError` listing every error."""
    ws, problems = check_workspace(root, config)
    if ws is None:
        raise InputError(problems)
    return ws


# --- one table at a time -------------------------------------------------------------------------
def _type_table(raw: RawTable) -> tuple[pd.DataFrame | None, list[Problem]]:
    parser = TableParser(raw)
    if not parser.check_columns():
        return None, parser.problems
    spec = raw.spec
    out = pd.DataFrame({col.name: parser.parse(col) for col in spec.columns}, index=raw.frame.index)
    for col in spec.columns:
        if col.kind == "int" and out[col.name].notna().all():
            out[col.name] = out[col.name].astype(int)
    out["srow"] = parser.rows
    if spec.required and len(out) == 0:
        parser.problem("no data rows", row=2, expected="at least one row below the header", fix="fill in the table (see templates/)")
    _duplicates(parser, out, spec.key)
    extra = _TABLE_CHECKS.get(spec.name)
    if extra:
        out = extra(parser, out)
    out = out.rename(columns=_RENAME)
    return out, parser.problems


def _duplicates(parser: TableParser, frame: pd.DataFrame, key: tuple[str, ...]) -> None:
    if not len(frame):
        return
    dup = frame.duplicated(list(key), keep=False)
    if dup.any():
        first = frame[dup].groupby(list(key), sort=False, dropna=False)["srow"].apply(list)
        for n, (k, rows) in enumerate(first.items()):
            if n >= 5:
                parser.problem(f"{len(first) - 5} more duplicated keys", column=key[0], fix="keep one row per key")
                break
            kv = k if isinstance(k, tuple) else (k,)
            desc = ", ".join(f"{c}={v}" for c, v in zip(key, kv))
            parser.problem(f"duplicate row for {desc} (also row {rows[0]})" if len(rows) > 1 else f"duplicate {desc}",
                           row=rows[1] if len(rows) > 1 else rows[0], column=key[-1],
                           expected=f"one row per {', '.join(key)}", fix="remove or merge the duplicated rows")


def _history(p: TableParser, h: pd.DataFrame) -> pd.DataFrame:
    if len(h) == 0:
        return h
    if len(h) == 1:
        p.problem("only one row of history", row=2, expected="at least two weeks of history per queue and language",
                  fix="export a longer history")
    ts = h["interval_start"]
    off_grid = ts.notna() & ((ts.dt.second != 0) | (ts.dt.minute % 15 != 0))
    p.cells(off_grid, ts, "interval start not on a 15-minute grid", "interval_start", "starts at :00, :15, :30 or :45",
            "export history on whole intervals (hourly or 15/30 minutes)")
    return h.sort_values(["queue", "language", "interval_start"], kind="stable").reset_index(drop=True)


def _history_grid(p: TableParser, h: pd.DataFrame) -> None:
    """Overlaps (intervals closer than the cell's step) are errors; gaps are warnings."""
    h = h.dropna(subset=["interval_start", "queue", "language"])
    if len(h) < 2:
        return
    step = h.groupby(["queue", "language"], sort=False)["interval_start"].diff()
    base = step.dropna().mode()
    if base.empty:
        return
    base = base.iloc[0]
    overlap = (step < base).to_numpy() & step.notna().to_numpy()
    p.cells(overlap, h["interval_start"], f"interval overlaps the previous one of its queue and language (the history step is {base})",
            "interval_start", f"intervals {base} apart", "remove the overlapping row or aggregate history to one interval length",
            rows=h["srow"].to_numpy())
    gaps = step > base
    if gaps.any():
        missing = int(((step[gaps] / base) - 1).sum())
        cells = h.loc[gaps, ["queue", "language"]].drop_duplicates()
        first = h.loc[gaps].iloc[0]
        p.problem(f"history has gaps: {missing} missing intervals in {len(cells)} queue/language cells "
                  f"(first before {first['interval_start']:%Y-%m-%d %H:%M} UTC in {first['queue']}/{first['language']}); "
                  "missing intervals are treated as zero volume",
                  row=int(first["srow"]), column="interval_start", fix="export every interval, with 0 where nothing arrived", severity="warning")


def _queues(p: TableParser, q: pd.DataFrame) -> pd.DataFrame:
    for r in q.itertuples():
        if r.kind == "deferred" and not np.isnan(r.patience):
            p.problem("patience applies to realtime queues only and is ignored here", row=r.srow, column="patience", severity="warning",
                      fix="leave patience empty for deferred queues")
        if r.kind == "realtime" and r.within > 3600:
            p.problem("a realtime target of more than an hour is unusual", row=r.srow, column="within", found=f"{r.within:g}s", severity="warning",
                      fix="use kind 'deferred' for turnaround targets of hours")
        if r.target == 1.0:
            p.problem("a target of 1.0 (100%) cannot be met by a queueing model", row=r.srow, column="target", expected="a share below 1, e.g. 0.95",
                      found="1.0", fix="use 0.99 or lower")
        if r.target == 0.0:
            p.problem("a target of 0 needs no staff", row=r.srow, column="target", severity="warning", fix="use the service target, e.g. 0.9")
    return q


def _pools(p: TableParser, pools: pd.DataFrame) -> pd.DataFrame:
    for r in pools.itertuples():
        if isinstance(r.timezone, str) and r.timezone:
            try:
                ZoneInfo(r.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                p.problem("unknown time zone", row=r.srow, column="timezone", expected="an IANA zone name such as Europe/Dublin or Asia/Manila",
                          found=r.timezone, fix="use the zone of the site from the IANA list (Region/City)")
        if not np.isnan(r.min_headcount) and not np.isnan(r.max_headcount) and r.min_headcount > r.max_headcount:
            p.problem("min_headcount is above max_headcount", row=r.srow, column="min_headcount",
                      expected=f"<= max_headcount ({r.max_headcount:g})", found=f"{r.min_headcount:g}", fix="lower the minimum or raise the maximum")
    return pools


def _vendors(p: TableParser, v: pd.DataFrame) -> pd.DataFrame:
    for r in v.itertuples():
        if r.min_weekly_hours > r.max_weekly_hours:
            p.problem("min_weekly_hours is above max_weekly_hours", row=r.srow, column="min_weekly_hours",
                      expected=f"<= max_weekly_hours ({r.max_weekly_hours:g})", found=f"{r.min_weekly_hours:g}", fix="correct the contract hours")
        if r.vendor == INHOUSE:
            p.problem(f"'{INHOUSE}' is reserved for in-house pools and needs no vendor row", row=r.srow, column="vendor", fix="remove the row", severity="warning")
    rows, names = v["srow"].tolist(), v["vendor"].fillna("").astype(str).tolist()
    for i, j, why in name_clashes(names):
        p.problem(f"vendor '{names[j]}' and vendor '{names[i]}' (row {rows[i]}) are {why}", row=rows[j], column="vendor",
                  expected="vendor names that differ by more than case or punctuation (each gets its own workbook)",
                  found=names[j], fix="rename one of the two vendors")
    return v


def _shifts(p: TableParser, s: pd.DataFrame) -> pd.DataFrame:
    for r in s.itertuples():
        length = r.paid_hours + r.break_minutes / 60
        if length > 24:
            p.problem("shift is longer than 24 hours (paid hours plus break)", row=r.srow, column="paid_hours",
                      expected="paid_hours + break_minutes/60 <= 24", found=f"{length:g} h", fix="split it into two shifts")
    minutes = s["start_local"]  # parsed as minutes after local midnight
    s.insert(2, "start_minute", minutes.fillna(-1).astype(int))
    s["start_local"] = [f"{int(m) // 60:02d}:{int(m) % 60:02d}" if m >= 0 else None for m in s["start_minute"]]
    return s


def _events(p: TableParser, e: pd.DataFrame) -> pd.DataFrame:
    for r in e.itertuples():
        if pd.notna(r.start) and pd.notna(r.end) and r.end <= r.start:
            p.problem("event ends before it starts", row=r.srow, column="end", expected=f"after {r.start}", found=str(r.end), fix="swap start and end")
    return e


_TABLE_CHECKS = {"history": _history, "queues": _queues, "pools": _pools, "vendors": _vendors, "shifts": _shifts, "events": _events}


# --- across tables -------------------------------------------------------------------------------
def _cross_checks(t: dict[str, pd.DataFrame], raw: dict[str, RawTable], config: Config) -> list[Problem]:
    problems: list[Problem] = []

    def add(table: str, message: str, **kw) -> None:
        problems.append(Problem(file=raw[table].label, message=message, **kw))

    queues = set(t["queues"]["queue"].dropna())
    shifts = set(t["shifts"]["shift"].dropna())
    vendors = set(t["vendors"]["vendor"].dropna())
    hist, ht, pools = t["history"], t["handle_times"], t["pools"]

    # history
    parser = TableParser(raw["history"])
    if len(hist):
        bad_q = ~hist["queue"].isin(queues)
        if bad_q.any():
            for q, rows in hist[bad_q].groupby("queue")["srow"]:
                add("history", f"queue '{q}' is not in queues ({rows.size} rows)", row=int(rows.iloc[0]), column="queue",
                    expected=", ".join(sorted(queues)), found=q, fix="add the queue to queues.csv or correct its name")
        _history_grid(parser, hist)
        problems.extend(parser.problems)
        start = pd.Timestamp(config.planning.start, tz="UTC")
        last = hist["interval_start"].max()
        if pd.notna(last) and last < start - pd.Timedelta(days=config.planning.max_history_gap_days):
            add("history", f"history ends {last:%Y-%m-%d %H:%M} UTC, {(start - last).days} days before the planning start {start:%Y-%m-%d}",
                column="interval_start", expected=f"history up to at most {config.planning.max_history_gap_days} days before the start",
                fix="export recent history, or move [planning] start in capplan.toml")
        if pd.notna(last) and last >= start:
            n = int((hist["interval_start"] >= start).sum())
            add("history", f"{n} rows at or after the planning start {start:%Y-%m-%d} are ignored", column="interval_start", severity="warning",
                fix="move [planning] start to the end of the history")
        span = hist["interval_start"].max() - hist["interval_start"].min()
        if pd.notna(span) and len(hist) > 1 and span < pd.Timedelta(days=14):
            add("history", f"history covers only {span}", column="interval_start", expected="at least 2 weeks (a year is best)",
                fix="export a longer history", severity="error" if span < pd.Timedelta(days=7) else "warning")
        if (hist["volume"] == 0).all():
            add("history", "every volume is zero", column="volume", severity="warning", fix="check the export")

    # handle times
    for r in ht.itertuples():
        if r.queue not in queues:
            add("handle_times", f"queue '{r.queue}' is not in queues", row=r.srow, column="queue", expected=", ".join(sorted(queues)), found=r.queue,
                fix="add the queue to queues.csv or correct its name")
    ht_cells = set(zip(ht["queue"], ht["language"]))
    if len(hist):
        vol = hist.groupby(["queue", "language"], sort=True).agg(volume=("volume", "sum"), row=("srow", "first"),
                                                                 aht=("aht_s", "mean"))
        for (q, lang), r in vol.iterrows():
            if (q, lang) not in ht_cells and q in queues:
                sev = "warning" if pd.notna(r["aht"]) else "error"
                add("handle_times", f"no handle time for {q}/{lang}" + (" (history aht_s is used)" if sev == "warning" else ""),
                    column="aht_s", expected=f"a row queue={q}, language={lang}", fix="add the handle time of that cell", severity=sev)

    # pools
    lang_known = set(ht["language"]) | set(hist["language"])
    fx = config.policy.fx
    for r in pools.itertuples():
        for q in r.queues:
            if q not in queues:
                add("pools", f"pool '{r.pool}' serves queue '{q}', which is not in queues", row=r.srow, column="queues",
                    expected=", ".join(sorted(queues)), found=q, fix="correct the queue name or add the queue")
        for lang in r.languages:
            if lang not in lang_known:
                add("pools", f"pool '{r.pool}' lists language '{lang}', which has no handle time or history", row=r.srow, column="languages",
                    severity="warning", fix="check the language code")
        for s in r.shifts:
            if s not in shifts:
                add("pools", f"pool '{r.pool}' may work shift '{s}', which is not in shifts", row=r.srow, column="shifts",
                    expected=", ".join(sorted(shifts)), found=s, fix="correct the shift name or add the shift")
        if r.vendor != INHOUSE and r.vendor not in vendors:
            add("pools", f"vendor '{r.vendor}' is not in vendors", row=r.srow, column="vendor",
                expected=f"'{INHOUSE}' or one of {', '.join(sorted(vendors))}", found=r.vendor, fix="add the vendor's contract to vendors.csv")
        if r.currency not in fx:
            add("pools", f"currency '{r.currency}' has no FX rate", row=r.srow, column="currency", expected=f"one of {', '.join(sorted(fx))}",
                found=r.currency, fix=f"add {r.currency} = <value in {config.policy.currency}> under [policy] fx in capplan.toml")
        if not r.queues or not r.languages:
            add("pools", f"pool '{r.pool}' has no skills", row=r.srow, column="queues", fix="list the queues and languages it can work")
        elif not ({(q, lang) for q in r.queues for lang in r.languages} & ht_cells):
            add("pools", f"pool '{r.pool}' can work no existing queue/language cell", row=r.srow, column="languages", severity="warning",
                fix="check its queues and languages against handle_times")
    for r in t["vendors"].itertuples():
        if r.currency not in fx:
            add("vendors", f"currency '{r.currency}' has no FX rate", row=r.srow, column="currency", expected=f"one of {', '.join(sorted(fx))}",
                found=r.currency, fix=f"add {r.currency} under [policy] fx in capplan.toml")
        if r.vendor not in set(pools["vendor"]):
            add("vendors", f"vendor '{r.vendor}' has no pools", row=r.srow, column="vendor", severity="warning", fix="add its pools to pools.csv")

    # demand without a skilled pool
    skilled = {(q, lang) for r in pools.itertuples() for q in r.queues for lang in r.languages}
    if len(hist):
        demand = hist.groupby(["queue", "language"])["volume"].sum()
        orphan = [cell for cell, v in demand.items() if v > 0 and cell not in skilled and cell[0] in queues]
        for q, lang in orphan[:10]:
            add("pools", f"{q}/{lang} has volume but no pool can serve it: its work will be reported as unmet", column="languages",
                severity="warning", fix=f"add '{q}' and '{lang}' to a pool's skills")
        if len(orphan) > 10:
            add("pools", f"{len(orphan) - 10} more cells with volume but no pool", severity="warning")

    # events
    ev = t["events"]
    for r in ev.itertuples():
        for q in r.queues:
            if q != "*" and q not in queues:
                add("events", f"event '{r.name}' names queue '{q}', which is not in queues", row=r.srow, column="queues", expected="queue names or *",
                    found=q, fix="correct the queue name")
    # shifts starting in a DST gap at a site that works them
    problems.extend(_dst_gap_warnings(t, raw, config))

    # feasibility: vendor minimum above what the plan could use
    if len(hist) and len(t["vendors"]):
        weeks = max(1, config.planning.plan_days / 7)
        last_week = hist[hist["interval_start"] >= hist["interval_start"].max() - pd.Timedelta(days=7)]
        aht = ht.set_index(["queue", "language"])["aht_s"]
        work = last_week.groupby(["queue", "language"])["volume"].sum()
        work_h = float((work * aht.reindex(work.index).fillna(aht.mean() if len(aht) else 60)).sum() / 3600)
        total_min = t["vendors"]["min_weekly_hours"].sum() * weeks
        if total_min > 3 * work_h > 0:
            add("vendors", f"vendor minimums ({total_min:,.0f} h) are far above last week's total workload ({work_h:,.0f} h)",
                column="min_weekly_hours", severity="warning", fix="check the committed hours; unused committed hours are paid for")
    return problems


def _dst_gap_warnings(t, raw, config) -> list[Problem]:
    problems = []
    start = config.planning.start
    days = [start + dt.timedelta(days=i) for i in range(config.planning.plan_days + 1)]
    shift_rows = t["shifts"].set_index("shift")
    seen = set()
    for r in t["pools"].itertuples():
        try:
            zone = ZoneInfo(r.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            continue
        for s in r.shifts:
            if s not in shift_rows.index or (r.timezone, s) in seen:
                continue
            seen.add((r.timezone, s))
            m = int(shift_rows.loc[s, "start_minute"])
            if m < 0:
                continue
            for d in days:
                local = dt.datetime(d.year, d.month, d.day, m // 60, m % 60, tzinfo=zone)
                back = local.astimezone(dt.timezone.utc).astimezone(zone)
                if back.replace(tzinfo=None) != local.replace(tzinfo=None):
                    problems.append(Problem(file=raw["shifts"].label, row=int(shift_rows.loc[s, "srow"]), column="start_local",
                                            message=f"shift '{s}' starts at {local:%H:%M} on {d}, a time that does not exist in {r.timezone} (daylight-saving change); it starts at {back:%H:%M} that day",
                                            severity="warning", fix="move the start out of the 1-hour change window if that matters"))
                    break
    return problems
