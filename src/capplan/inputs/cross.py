"""Checks across input tables, one function per step; each adds :class:`Problem` s to a :class:`Cross`.

The order is the order of :data:`STEPS`: history (references, grid, window), handle times, pools,
vendors, demand nobody can serve, events, queues without demand, daylight-saving shift starts,
vendor minimums, one spelling per name, and the config's keyed tables against the workspace.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from capplan.config import Config
from capplan.errors import Problem
from capplan.inputs.config_check import config_key_problems
from capplan.inputs.names import SROW, spelling_problems, suggest
from capplan.inputs.parse import TableParser
from capplan.inputs.read import RawTable
from capplan.schema import (AHT_S, CELL_KEYS, CURRENCY, INHOUSE, INTERVAL_START, LANGUAGE, MIN_WEEKLY_HOURS, POOL_SHIFTS, QUEUE,
                            SHIFT, SKILL_LANGUAGES, SKILL_QUEUES, START_LOCAL, START_MINUTE, VENDOR, VOLUME)

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)
MAX_LISTED = 10


@dataclass
class Cross:
    """The typed tables, their raw sources and the config, plus the problems found so far."""

    t: dict[str, pd.DataFrame]
    raw: dict[str, RawTable]
    config: Config
    root: Path
    problems: list[Problem] = field(default_factory=list)

    def add(self, table: str, message: str, **kw) -> None:
        self.problems.append(Problem(file=self.raw[table].label, message=message, **kw))

    def names(self, table: str, column: str) -> set:
        return set(self.t[table][column].dropna())

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.config.planning.start, tz="UTC")


def cross_checks(t: dict[str, pd.DataFrame], raw: dict[str, RawTable], config: Config, root: Path) -> list[Problem]:
    """Every problem found across tables (the tables are typed; each has its ``srow`` column)."""
    c = Cross(t, raw, config, Path(root))
    for step in STEPS:
        step(c)
    return c.problems


# --- history -------------------------------------------------------------------------------------
def history_refs(c: Cross) -> None:
    hist, queues = c.t["history"], c.names("queues", QUEUE)
    bad = ~hist[QUEUE].isin(queues)
    for q, rows in hist[bad].groupby(QUEUE)[SROW]:
        c.add("history", f"queue '{q}' is not in queues ({rows.size} rows){suggest(q, queues)}", row=int(rows.iloc[0]), column=QUEUE,
              expected=", ".join(sorted(queues)), found=q, fix="add the queue to queues.csv or correct its name")


def history_grid(c: Cross) -> None:
    """Overlaps are errors; intervals must lie inside one hour (the model grid); gaps are warnings."""
    p = TableParser(c.raw["history"])
    check_history_grid(p, c.t["history"])
    c.problems.extend(p.problems)


def check_history_grid(p: TableParser, history: pd.DataFrame) -> None:
    """The grid checks of any history-shaped table (the workspace history, a ``--arrivals`` file), into ``p``."""
    h = history.dropna(subset=[INTERVAL_START, QUEUE, LANGUAGE])
    if len(h) >= 2:
        step = h.groupby(CELL_KEYS, sort=False)[INTERVAL_START].diff()
        base = step.dropna().mode()
        if not base.empty:
            _grid_findings(p, h, step, base.iloc[0])


def _grid_findings(p: TableParser, h: pd.DataFrame, step: pd.Series, base: pd.Timedelta) -> None:
    rows = h[SROW].to_numpy()
    times = h[INTERVAL_START]
    if base > HOUR:
        p.problem(f"history is coarser than hourly (intervals {base} apart)", row=int(rows[0]), column=INTERVAL_START,
                  expected="hourly (or 15/30-minute) interval_start values", found=str(times.iloc[0]),
                  fix="export arrivals per hour (or per 15/30 minutes)")
        return
    minutes = times.dt.minute + times.dt.second / 60
    on_15 = minutes % 15 == 0  # rows off the 15-minute grid have their own error (capplan.inputs.validate)
    off = on_15 & (minutes % (base / pd.Timedelta(minutes=1)) != 0) if base >= pd.Timedelta(minutes=15) else on_15 & False
    p.cells(off.to_numpy(), times, f"interval does not start on the history's {int(base / pd.Timedelta(minutes=1))}-minute grid "
            "(it would be counted in the wrong hour)", INTERVAL_START,
            "hourly history starting on the hour (13:00), 30-minute at :00/:30, 15-minute at :00/:15/:30/:45",
            "export interval starts in UTC; an export in a half-hour time zone or labelled by interval end must be converted",
            rows=rows)
    overlap = ((step < base) & (step > pd.Timedelta(0))).to_numpy(dtype=bool)  # step 0: a duplicate, reported as such
    p.cells(overlap, times, f"interval overlaps the previous one of its queue and language (the history step is {base})",
            INTERVAL_START, f"intervals {base} apart", "remove the overlapping row or aggregate history to one interval length",
            rows=rows)
    gaps = step > base
    if gaps.any():
        missing = int(((step[gaps] / base) - 1).sum())
        cells = h.loc[gaps, CELL_KEYS].drop_duplicates()
        first = h.loc[gaps].iloc[0]
        p.problem(f"history has gaps: {missing} missing intervals in {len(cells)} queue/language cells "
                  f"(first before {first[INTERVAL_START]:%Y-%m-%d %H:%M} UTC in {first[QUEUE]}/{first[LANGUAGE]}); "
                  "missing intervals are treated as zero volume",
                  row=int(first[SROW]), column=INTERVAL_START, fix="export every interval, with 0 where nothing arrived", severity="warning")


def history_window(c: Cross) -> None:
    """The history against the planning start: the same rules as the forecast applies (capplan.forecast.panel)."""
    hist, start, planning = c.t["history"], c.start, c.config.planning
    times = hist[INTERVAL_START].dropna()
    if not len(times):
        return
    before = times[times < start]
    if before.empty:
        c.add("history", f"every history row is at or after the planning start {start:%Y-%m-%d}: nothing to forecast from",
              row=int(hist.loc[times.idxmin(), SROW]), column=INTERVAL_START, found=f"{times.min():%Y-%m-%d %H:%M}",
              expected=f"history before {start:%Y-%m-%d}", fix="move [planning] start in capplan.toml after the history, or add older history")
        return
    last = before.max()
    end = (last + HOUR).floor("D")
    gap_days = (start - end) / DAY
    if gap_days > planning.max_history_gap_days:
        c.add("history", f"history ends {last:%Y-%m-%d %H:%M} UTC, {gap_days:.0f} days before the planning start {start:%Y-%m-%d}",
              column=INTERVAL_START, expected=f"history up to at most {planning.max_history_gap_days} days before the start",
              fix="export recent history, move [planning] start in capplan.toml, or raise [planning] max_history_gap_days")
    late = int((times >= start).sum())
    if late:
        c.add("history", f"{late} rows at or after the planning start {start:%Y-%m-%d} are ignored", column=INTERVAL_START,
              severity="warning", fix="move [planning] start to the end of the history")
        _cells_only_after_start(c)
    span = before.max() - before.min()
    if len(before) > 1 and span < pd.Timedelta(days=14):
        c.add("history", f"history before the planning start covers only {span}", column=INTERVAL_START,
              expected="at least 2 weeks (a year is best)", fix="export a longer history",
              severity="error" if span < pd.Timedelta(days=7) else "warning")
    if (hist[VOLUME] == 0).all():
        c.add("history", "every volume is zero", column=VOLUME, severity="warning", fix="check the export")


def _cells_only_after_start(c: Cross) -> None:
    hist = c.t["history"]
    first = hist.groupby(CELL_KEYS, sort=True).agg(first=(INTERVAL_START, "min"), row=(SROW, "first"))
    for (q, lang), r in first[first["first"] >= c.start].head(MAX_LISTED).iterrows():
        c.add("history", f"{q}/{lang} has history only from the planning start on: it is not forecast, so no staff is planned for it",
              row=int(r["row"]), column=INTERVAL_START, severity="warning",
              fix="add its history before the start, or move [planning] start")


# --- handle times --------------------------------------------------------------------------------
def handle_times(c: Cross) -> None:
    ht, hist, queues = c.t["handle_times"], c.t["history"], c.names("queues", QUEUE)
    for r in ht.itertuples():
        if r.queue not in queues:
            c.add("handle_times", f"queue '{r.queue}' is not in queues{suggest(r.queue, queues)}", row=r.srow, column=QUEUE,
                  expected=", ".join(sorted(queues)), found=r.queue, fix="add the queue to queues.csv or correct its name")
    ht_cells = set(zip(ht[QUEUE], ht[LANGUAGE]))
    if not len(hist):
        return
    vol = hist.groupby(CELL_KEYS, sort=True).agg(volume=(VOLUME, "sum"), row=(SROW, "first"), aht=(AHT_S, "mean"))
    for (q, lang), r in vol.iterrows():
        if (q, lang) not in ht_cells and q in queues:
            sev = "warning" if pd.notna(r["aht"]) else "error"
            c.add("handle_times", f"no handle time for {q}/{lang}" + (" (history aht_s is used)" if sev == "warning" else ""),
                  column=AHT_S, expected=f"a row queue={q}, language={lang}", fix="add the handle time of that cell", severity=sev)
    hist_cells = set(vol.index)
    for r in ht.itertuples():
        if (r.queue, r.language) not in hist_cells and r.queue in queues:
            c.add("handle_times", f"{r.queue}/{r.language} has a handle time but no history: nothing is forecast or planned for it",
                  row=r.srow, column=LANGUAGE, severity="warning", fix="add its history, or check the language code")


# --- pools and vendors ---------------------------------------------------------------------------
def pools(c: Cross) -> None:
    ht, hist = c.t["handle_times"], c.t["history"]
    queues, shifts, vendors = c.names("queues", QUEUE), c.names("shifts", SHIFT), c.names("vendors", VENDOR)
    ht_cells = set(zip(ht[QUEUE], ht[LANGUAGE]))
    lang_known = set(ht[LANGUAGE]) | set(hist[LANGUAGE])
    fx = c.config.policy.fx
    for r in c.t["pools"].itertuples():
        for q in r.queues:
            if q not in queues:
                c.add("pools", f"pool '{r.pool}' serves queue '{q}', which is not in queues{suggest(q, queues)}", row=r.srow,
                      column=SKILL_QUEUES, expected=", ".join(sorted(queues)), found=q, fix="correct the queue name or add the queue")
        for lang in r.languages:
            if lang not in lang_known:
                near = suggest(lang, lang_known)
                c.add("pools", f"pool '{r.pool}' lists language '{lang}', which has no handle time or history{near}", row=r.srow,
                      column=SKILL_LANGUAGES, severity="error" if near else "warning", fix="check the language code")
        for s in r.shifts:
            if s not in shifts:
                c.add("pools", f"pool '{r.pool}' may work shift '{s}', which is not in shifts{suggest(s, shifts)}", row=r.srow,
                      column=POOL_SHIFTS, expected=", ".join(sorted(shifts)), found=s, fix="correct the shift name or add the shift")
        if r.vendor != INHOUSE and r.vendor not in vendors:
            c.add("pools", f"vendor '{r.vendor}' is not in vendors{suggest(r.vendor, vendors | {INHOUSE}, 'vendor')}", row=r.srow,
                  column=VENDOR, expected=f"'{INHOUSE}' or one of {', '.join(sorted(vendors))}", found=r.vendor,
                  fix="add the vendor's contract to vendors.csv")
        if r.currency not in fx:
            c.add("pools", f"currency '{r.currency}' has no FX rate{suggest(r.currency, fx)}", row=r.srow, column=CURRENCY,
                  expected=f"one of {', '.join(sorted(fx))}", found=r.currency,
                  fix=f"add {r.currency} = <value in {c.config.policy.currency}> under [policy] fx in capplan.toml")
        if not r.queues or not r.languages:
            c.add("pools", f"pool '{r.pool}' has no skills", row=r.srow, column=SKILL_QUEUES, fix="list the queues and languages it can work")
        elif not ({(q, lang) for q in r.queues for lang in r.languages} & ht_cells):
            c.add("pools", f"pool '{r.pool}' can work no existing queue/language cell", row=r.srow, column=SKILL_LANGUAGES,
                  severity="warning", fix="check its queues and languages against handle_times")


def vendors(c: Cross) -> None:
    fx, pool_vendors = c.config.policy.fx, set(c.t["pools"][VENDOR])
    for r in c.t["vendors"].itertuples():
        if r.currency not in fx:
            c.add("vendors", f"currency '{r.currency}' has no FX rate{suggest(r.currency, fx)}", row=r.srow, column=CURRENCY,
                  expected=f"one of {', '.join(sorted(fx))}", found=r.currency, fix=f"add {r.currency} under [policy] fx in capplan.toml")
        if r.vendor not in pool_vendors:
            c.add("vendors", f"vendor '{r.vendor}' has no pools", row=r.srow, column=VENDOR, severity="warning", fix="add its pools to pools.csv")


def orphan_demand(c: Cross) -> None:
    """Demand no pool is skilled for is planned as unmet work: say so before the run."""
    hist, queues = c.t["history"], c.names("queues", QUEUE)
    skilled = {(q, lang) for r in c.t["pools"].itertuples() for q in r.queues for lang in r.languages}
    if not len(hist):
        return
    demand = hist.groupby(CELL_KEYS)[VOLUME].sum()
    orphan = [cell for cell, v in demand.items() if v > 0 and cell not in skilled and cell[0] in queues]
    for q, lang in orphan[:MAX_LISTED]:
        c.add("pools", f"{q}/{lang} has volume but no pool can serve it: its work will be reported as unmet", column=SKILL_LANGUAGES,
              severity="warning", fix=f"add '{q}' and '{lang}' to a pool's skills")
    if len(orphan) > MAX_LISTED:
        c.add("pools", f"{len(orphan) - MAX_LISTED} more cells with volume but no pool", severity="warning")


def events(c: Cross) -> None:
    queues = c.names("queues", QUEUE)
    for r in c.t["events"].itertuples():
        for q in r.queues:
            if q != "*" and q not in queues:
                c.add("events", f"event '{r.name}' names queue '{q}', which is not in queues{suggest(q, queues)}", row=r.srow,
                      column=SKILL_QUEUES, expected="queue names or *", found=q, fix="correct the queue name")


def queues_without_demand(c: Cross) -> None:
    """A queue with no history gets no forecast and no staff: never let it vanish without a word."""
    with_history = set(c.t["history"][QUEUE])
    for r in c.t["queues"].itertuples():
        if isinstance(r.queue, str) and r.queue not in with_history:
            c.add("queues", f"queue '{r.queue}' ({r.kind}, severity {r.severity}) has no history: nothing is forecast or planned for it",
                  row=r.srow, column=QUEUE, severity="warning", fix="add its history, or remove the queue")


def dst_gap_shift_starts(c: Cross) -> None:
    """Shifts starting in a daylight-saving gap at a site that works them."""
    start = c.config.planning.start
    days = [start + dt.timedelta(days=i) for i in range(c.config.planning.plan_days + 1)]
    shift_rows = c.t["shifts"].set_index(SHIFT)
    seen = set()
    for r in c.t["pools"].itertuples():
        try:
            zone = ZoneInfo(r.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            continue
        for s in r.shifts:
            if s not in shift_rows.index or (r.timezone, s) in seen:
                continue
            seen.add((r.timezone, s))
            m = int(shift_rows.loc[s, START_MINUTE])
            if m >= 0:
                _dst_gap(c, s, int(shift_rows.loc[s, SROW]), m, zone, r.timezone, days)


def _dst_gap(c: Cross, shift: str, row: int, minute: int, zone: ZoneInfo, name: str, days: list[dt.date]) -> None:
    for d in days:
        local = dt.datetime(d.year, d.month, d.day, minute // 60, minute % 60, tzinfo=zone)
        back = local.astimezone(dt.timezone.utc).astimezone(zone)
        if back.replace(tzinfo=None) != local.replace(tzinfo=None):
            c.add("shifts", f"shift '{shift}' starts at {local:%H:%M} on {d}, a time that does not exist in {name} "
                  f"(daylight-saving change); it starts at {back:%H:%M} that day", row=row, column=START_LOCAL,
                  severity="warning", fix="move the start out of the 1-hour change window if that matters")
            return


def vendor_minimums(c: Cross) -> None:
    """Feasibility: vendor minimums far above what the plan could use."""
    hist, ht, vend = c.t["history"], c.t["handle_times"], c.t["vendors"]
    if not (len(hist) and len(vend)):
        return
    weeks = max(1, c.config.planning.plan_days / 7)
    last_week = hist[hist[INTERVAL_START] >= hist[INTERVAL_START].max() - pd.Timedelta(days=7)]
    aht = ht.set_index(CELL_KEYS)[AHT_S]
    work = last_week.groupby(CELL_KEYS)[VOLUME].sum()
    work_h = float((work * aht.reindex(work.index).fillna(aht.mean() if len(aht) else 60)).sum() / 3600)
    total_min = vend[MIN_WEEKLY_HOURS].sum() * weeks
    if total_min > 3 * work_h > 0:
        c.add("vendors", f"vendor minimums ({total_min:,.0f} h) are far above last week's total workload ({work_h:,.0f} h)",
              column=MIN_WEEKLY_HOURS, severity="warning", fix="check the committed hours; unused committed hours are paid for")


def one_spelling_per_name(c: Cross) -> None:
    c.problems.extend(spelling_problems(c.t, {name: raw.label for name, raw in c.raw.items()}))


def config_keys(c: Cross) -> None:
    c.problems.extend(config_key_problems(c.t, c.config, c.root))


STEPS = (history_refs, history_grid, history_window, handle_times, pools, vendors, orphan_demand, events,
         queues_without_demand, dst_gap_shift_starts, vendor_minimums, one_spelling_per_name, config_keys)
