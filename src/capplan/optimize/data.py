"""Plan data: the workspace and the requirements turned into the arrays the model is built from.

Nothing here knows about a solver. :func:`prepare` maps

* the **planning grid**: ``plan_days`` days from ``planning.start`` 00:00 UTC in intervals of
  ``interval_minutes`` (index ``t = 0 .. T-1``, interval length ``h`` hours);
* **cells** (queue, language) with a requirement in the window, their kind (realtime / deferred),
  severity, egregiousness, turnaround window and price of unmet work;
* **shift occurrences**: each pool's shift on each local date of the plan week, mapped to UTC with
  :mod:`zoneinfo` for that actual date (DST-correct), on site ``paid_hours + break_minutes/60``
  hours, with the fraction of every interval it overlaps;
* **patterns**: one integer decision per (pool, shift, start weekday). A moderator on a pattern
  works ``days_per_week`` consecutive days from that weekday (cyclic weekly rota, the classic
  days-off covering model). Only start days in the shift's ``start_days`` and shifts listed in the
  pool's ``shifts`` exist.

Cyclic rota
-----------
The plan is a weekly rota repeated every week. A shift whose on-site time runs past the end of the
plan window (an overnight shift on the last day, or a late shift at a site east of UTC) wraps
around to the start of the window: it is the same shift of the previous cycle. Likewise a local
shift that starts before the window in UTC (e.g. Monday 06:00 in Manila is Sunday 22:00 UTC) is
placed at the end. So every local plan date gets exactly one occurrence of every shift. The
work flow of deferred queues follows ``[planning] week_end`` (:func:`set_week_end`, docs/rolling.md):
cyclic (the week's end backlog is its opening backlog, like the rota) or terminal (the opening
backlog of ``inputs/backlog.csv``, and the end backlog priced).

Productive capacity
-------------------
One moderator in an on-shift interval gives
``overlap_hours * paid_hours / on_site_hours * (1 - shrinkage(site))`` productive hours, where
``shrinkage(site) = staffing.shrinkage_by_site.get(site, staffing.shrinkage)``.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from capplan.errors import ConfigError, InputError, Problem
from capplan.schema import (
    AHT_S,
    DAY,
    FLEX_SHARE,
    HEADCOUNT,
    INHOUSE,
    INTERVAL_START,
    LANGUAGE,
    MAX_WEEKLY_HOURS,
    MIN_WEEKLY_HOURS,
    NOTICE_WEEKS,
    PAID_HOURS,
    POOL,
    QUEUE,
    REQUIRED_PRODUCTIVE,
    SHIFT,
    SITE,
    VENDOR,
    VOLUME,
)
from capplan.staffing.backlog import due_shift, opening_due_hours
from capplan.units import as_utc, interval_index

UTC = dt.timezone.utc
REALTIME_METHODS = ("erlang_c", "erlang_a", "realtime")
CRITICAL_MIN_SHARE = 0.10  # each provider of a critical language at most 90 % of it: at least two serve it


@dataclass
class Occurrence:
    """One shift worked on one local date by a pool (for any moderators rostered on it)."""

    pool: int
    shift: str
    day: dt.date  # local date of the shift start
    start_local: dt.datetime  # tz-aware, site time zone
    start_utc: pd.Timestamp
    on_site_hours: float
    overlap: dict[int, float]  # interval index -> on-site hours in that interval (cyclic)


@dataclass
class Pattern:
    """Integer decision: moderators of ``pool`` on ``shift`` working ``days`` consecutive days from ``start_day``."""

    pool: int
    shift: str
    start_day: int  # 0 = Mon .. 6 = Sun
    days_per_week: int
    paid_hours: float  # per shift [h]
    occurrences: list[int]  # indices into PlanData.occurrences worked by this pattern
    capacity: dict[int, float]  # interval -> productive hours per moderator
    paid_hours_horizon: float  # paid hours per moderator over the plan window [h]
    kind: str = "flex"  # "flex" (bought by the hour), "contract" / "overtime" (a roster group), "temp" (temps of a rostered pool)
    group: int = -1  # row of PlanData.groups for contract and overtime patterns
    cost_hours: float | None = None  # hours charged at the pool's rate per moderator over the window [h] (None: paid_hours_horizon)

    @property
    def charged_hours(self) -> float:
        """Hours charged at the pool's rate per moderator over the window [h] (contracted, premium or temp factor included)."""
        return self.paid_hours_horizon if self.cost_hours is None else self.cost_hours


@dataclass
class PlanData:
    start: pd.Timestamp
    times: pd.DatetimeIndex
    h: float  # interval length [h]
    plan_dates: list[dt.date]
    weeks: float
    cells: pd.DataFrame  # queue, language, kind, severity, egregious, within_s, aht_s, penalty, due_shift
    need_hours: np.ndarray  # [C, T] realtime: required productive standard hours per interval
    required_productive: np.ndarray  # [C, T] moderators, as given by the requirements
    workload: np.ndarray  # [C, T] deferred: standard hours of work arriving in the interval
    volume: np.ndarray  # [C, T] items
    pools: pd.DataFrame  # pool, vendor, site, timezone, proficiency, min/max_headcount, rate, shrinkage, quality
    skills: list[tuple[int, int]]  # (pool index, cell index) pairs with demand
    occurrences: list[Occurrence]
    patterns: list[Pattern]
    vendors: pd.DataFrame  # vendor, min_weekly_hours, max_weekly_hours, max_language_share, quality, avg_rate
    language_caps: dict[tuple[str, str], float]  # (provider, language) -> max share (< 1 only)
    shifts: pd.DataFrame
    config: object
    unskilled_cells: list[int] = field(default_factory=list)  # cells with demand and no skilled pool
    pool_cell: dict[tuple[int, int], float] = field(default_factory=dict)  # (pool, cell) -> AHT multiplier ([staffing] proficiency, rework)
    proficiency_table: pd.DataFrame | None = None  # staffing.proficiency.pool_cell_proficiency: the multipliers and their source
    groups: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[POOL, "pool_index", "weekly_hours", HEADCOUNT]))  # roster groups
    previous_vendor_hours: dict = field(default_factory=dict)  # vendor -> weekly productive hours of the previous plan [h]
    week_end: str = "terminal"  # deferred flow at the window's end: "cyclic" (wraps) or "terminal" (opening + priced end)
    opening_due: np.ndarray | None = None  # [C, T + 1] opening backlog [standard h] by due interval (last: after the window)
    terminal_price: np.ndarray | None = None  # [C] price of a standard hour left in the end backlog (terminal week)
    excluded: list = field(default_factory=list)  # (pool, cell) skilled pairs with demand kept off by the quality floor
    # iso-service benchmark only (:func:`with_unmet_caps`, bench/iso_service.py); empty / None in every plan capplan makes
    unmet_caps: dict = field(default_factory=dict)  # cell index -> most unmet work over the window [standard h]
    unmet_price: np.ndarray | None = None  # [C] price of an unmet standard hour in the model, replacing ``cells.penalty`` [currency]

    @property
    def T(self) -> int:
        return len(self.times)

    def multiplier(self, p: int, c: int) -> float:
        """AHT multiplier of pool ``p`` on cell ``c``: a productive hour does ``1 / multiplier`` standard hours."""
        m = self.pool_cell.get((p, c))  # not .get(key, default): the default's pandas lookup ran on every call
        return float(self.pools.at[p, "proficiency"]) if m is None else m


def plan_window(config) -> tuple[pd.Timestamp, int, float]:
    """Window start (UTC), number of intervals and interval length [h]."""
    planning = config.planning
    start = pd.Timestamp(dt.datetime.combine(planning.start, dt.time(0), tzinfo=UTC))
    minutes = int(planning.interval_minutes)
    T = planning.plan_days * 24 * 60 // minutes
    return start, T, minutes / 60.0


def fx_rate(config, currency: str, what: str) -> float:
    fx = config.policy.fx
    if currency in fx and not (math.isfinite(float(fx[currency])) and float(fx[currency]) > 0):
        raise ConfigError(f"[policy] fx {currency} = {fx[currency]} is not a finite positive number. "
                          f"Fix: set it to the value of 1 {currency} in {config.policy.currency}")
    if currency not in fx:
        raise ConfigError(
            f"{what} costs are in {currency} but [policy] fx has no rate for it (rates for: {', '.join(sorted(fx))}). "
            f"Fix: add {currency} = <value of 1 {currency} in {config.policy.currency}> to [policy] fx"
        )
    return float(fx[currency])


def map_occurrence(tz: str, day: dt.date, start_minute: int, on_site_hours: float,
                   start: pd.Timestamp, T: int, h: float) -> tuple[dt.datetime, pd.Timestamp, dict[int, float]]:
    """Local shift start on ``day`` -> (local start, UTC start, {interval: overlap hours}), cyclic in the window."""
    local = dt.datetime.combine(day, dt.time(start_minute // 60, start_minute % 60), tzinfo=ZoneInfo(tz))
    start_utc = pd.Timestamp(local.astimezone(UTC))
    a = (start_utc - start).total_seconds() / 3600.0 / h  # in intervals, may be negative
    b = a + on_site_hours / h
    overlap: dict[int, float] = {}
    k = math.floor(a)
    while k < b:
        hours = (min(b, k + 1) - max(a, k)) * h
        if hours > 1e-12:
            idx = k % T
            overlap[idx] = overlap.get(idx, 0.0) + hours
        k += 1
    return local, start_utc, overlap


def prepare(ws, requirements: pd.DataFrame) -> PlanData:
    """Everything the model needs, as plain arrays and small tables (no solver)."""
    config = ws.config
    start, T, h = plan_window(config)
    times = pd.date_range(start, periods=T, freq=f"{int(round(h * 60))}min")
    plan_dates = [config.planning.start + dt.timedelta(days=k) for k in range(config.planning.plan_days)]
    req = _requirements_in_window(requirements, start, T, h)
    check_finite(ws, req)
    cells = _cells(ws, req, h)
    need_hours, required, workload, volume = _demand(cells, req, T, h)
    pools, vendors = _pools_and_vendors(ws)
    skills, unskilled = _skills(ws, cells, pools, need_hours, workload, float(config.policy.severe_graphic_min_quality))
    occurrences, patterns = _shift_patterns(ws, pools, plan_dates, start, T, h)
    groups = roster_groups(ws, pools, start)
    pools, patterns = contract_patterns(config.contracts, pools, occurrences, patterns, groups, len(plan_dates) / 7.0)
    vendors = vendors.reset_index(drop=True)
    vendors["avg_rate"] = [float(pools.loc[pools[VENDOR] == v, "rate"].mean()) if (pools[VENDOR] == v).any() else 0.0
                           for v in vendors[VENDOR]]
    vendors = vendor_notice(vendors, config.contracts, previous_vendor_paid_hours(ws))
    language_caps = _language_caps(config.policy, cells, pools, vendors, skills)
    table, pool_cell = _pool_cell_multipliers(ws, cells, pools)
    d = PlanData(
        start=start, times=times, h=h, plan_dates=plan_dates, weeks=len(plan_dates) / 7.0, cells=cells,
        need_hours=need_hours, required_productive=required, workload=workload, volume=volume, pools=pools,
        skills=skills, occurrences=occurrences, patterns=patterns, vendors=vendors, language_caps=language_caps,
        shifts=ws.shifts, config=config, unskilled_cells=unskilled, pool_cell=pool_cell, proficiency_table=table, groups=groups,
        previous_vendor_hours=previous_vendor_hours(ws),
        excluded=quality_excluded(cells, pools, skills, ws, need_hours, workload, float(config.policy.severe_graphic_min_quality)),
    )
    set_week_end(d, getattr(ws, "backlog", None))
    return d


def resolve_week_end(config, backlog) -> str:
    """``[planning] week_end``: "auto" is "terminal" when an opening backlog is given, else "cyclic"."""
    mode = str(getattr(config.planning, "week_end", "auto"))
    if mode == "auto":
        return "terminal" if backlog is not None else "cyclic"
    return mode


def set_week_end(d: PlanData, backlog: pd.DataFrame | None) -> None:
    """The deferred flow's ends: week-end mode, the opening backlog by due interval, the terminal price.

    ``backlog`` is the typed ``inputs/backlog.csv`` (``queue``, ``language``, ``arrived`` UTC, ``items``) or None.
    Its work is ``items x aht_s / 3600`` standard hours, due by :func:`capplan.staffing.backlog.opening_due_hours`.
    A cyclic week ignores it (the week's own end backlog is its opening). The terminal price of a cell is the
    cheapest standard hour of its skilled pools, ``rate_p x a_p / (deferred_max_utilisation x (1 - shrinkage_p))``
    [currency per standard h] (the cell's unmet penalty when no pool is skilled): what the next week pays for it.
    """
    d.week_end = resolve_week_end(d.config, backlog)
    C, T = len(d.cells), d.T
    d.opening_due = np.zeros((C, T + 1))
    if d.week_end == "terminal" and backlog is not None and len(backlog):
        index = {k: i for i, k in enumerate(zip(d.cells[QUEUE], d.cells[LANGUAGE]))}
        step = d.h * 3600.0
        for (q, lang), g in backlog.groupby([QUEUE, LANGUAGE], sort=True):
            c = index.get((q, lang))
            if c is None or d.cells.at[c, "kind"] == "realtime":
                continue  # no demand in the window (or a realtime cell): nothing to plan it with
            offset = np.floor((pd.to_datetime(g["arrived"], utc=True) - d.start).dt.total_seconds().to_numpy() / step).astype(np.int64)
            hours = g["items"].to_numpy(float) * float(d.cells.at[c, AHT_S]) / 3600.0
            d.opening_due[c] = opening_due_hours(T, d.h * 60.0, float(d.cells.at[c, "within_s"]), offset, hours)
    d.terminal_price = terminal_price(d)


def terminal_price(d: PlanData) -> np.ndarray:
    """[C] price of a standard hour left in a terminal week's end backlog [currency / standard h]: the cheapest
    standard hour of the cell's skilled pools (``d.skills``), else the cell's unmet penalty (:func:`set_week_end`)."""
    util = float(d.config.staffing.deferred_max_utilisation)
    price = d.cells["penalty"].to_numpy(float).copy()
    for p, c in d.skills:
        pool = d.pools.loc[p]
        per_std = float(pool["rate"]) * d.multiplier(p, c) / (util * max(1.0 - float(pool["shrinkage"]), 1e-9))
        price[c] = min(price[c], per_std)
    return price


def _pool_cell_multipliers(ws, cells: pd.DataFrame, pools: pd.DataFrame) -> tuple[pd.DataFrame, dict[tuple[int, int], float]]:
    """The multiplier of every skilled (pool, cell) ([staffing] proficiency and rework), by model index."""
    from capplan.staffing.proficiency import pool_cell_proficiency

    table = pool_cell_proficiency(ws)
    cell_index = {k: i for i, k in enumerate(zip(cells[QUEUE], cells[LANGUAGE]))}
    pool_index = {p: i for i, p in enumerate(pools[POOL])}
    out = {}
    for p, q, lg, m in table[[POOL, QUEUE, LANGUAGE, "multiplier"]].itertuples(index=False):
        if p in pool_index and (q, lg) in cell_index:
            out[(pool_index[p], cell_index[(q, lg)])] = float(m)
    return table, out


def check_finite(ws, req: pd.DataFrame) -> None:
    """Every number the model is built from is finite (the solver cannot price infinity).

    Raises ConfigError for a penalty, InputError naming the file, row and column for pools, vendors
    and requirements (rows as a spreadsheet numbers them: header = row 1).
    """
    for sev, price in ws.config.policy.unmet_penalty_per_hour.items():
        if not (math.isfinite(float(price)) and float(price) >= 0):
            raise ConfigError(f"[policy] unmet_penalty_per_hour {sev} = {price} is not a finite number >= 0. "
                              "Fix: give the price of one unmet hour of that severity, e.g. 2000")
    problems = []
    checks = [("inputs/pools.csv", ws.pools, ["cost_per_hour", "proficiency"]),
              ("inputs/vendors.csv", ws.vendors, ["min_weekly_hours", "max_language_share", "quality"]),
              ("requirements", req, [VOLUME, AHT_S, "workload_hours", REQUIRED_PRODUCTIVE])]
    for file, frame, columns in checks:
        for col in columns:
            if col not in frame or not len(frame):
                continue
            values = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
            bad = np.flatnonzero(np.isinf(values))
            if len(bad):
                problems.append(Problem(file=file, row=int(frame.index[bad[0]]) + 2, column=col, message=f"{len(bad)} infinite value(s)",
                                        expected="a finite number", found=str(values[bad[0]]),
                                        fix="replace the value with a finite number (or recompute the requirements)"))
    if problems:
        raise InputError(problems)


def _requirements_in_window(requirements: pd.DataFrame, start: pd.Timestamp, T: int, h: float) -> pd.DataFrame:
    """Requirement rows inside the window with their interval index ``t`` and workload [standard h]."""
    req = requirements.copy()
    req[INTERVAL_START] = as_utc(req[INTERVAL_START])
    end = start + pd.Timedelta(hours=T * h)
    req = req[(req[INTERVAL_START] >= start) & (req[INTERVAL_START] < end)]
    req = req.assign(t=interval_index(req[INTERVAL_START], start, h))
    wl = req["workload_hours"] if "workload_hours" in req else pd.Series(np.nan, index=req.index)
    return req.assign(workload_hours=wl.fillna(req[VOLUME] * req[AHT_S] / 3600.0))


def _cells(ws, req: pd.DataFrame, h: float) -> pd.DataFrame:
    """Cells (queue, language) with requirements: kind, severity, egregious, window, AHT, penalty, due shift."""
    queues = ws.queues.set_index(QUEUE)
    missing = sorted(set(req[QUEUE]) - set(queues.index))
    if missing:
        raise InputError([Problem(file="requirements", message=f"queue(s) {', '.join(missing)} have requirements but no row in queues",
                                  fix="add them to inputs/queues.csv or recompute the requirements")])
    cell_keys = req[[QUEUE, LANGUAGE]].drop_duplicates().sort_values([QUEUE, LANGUAGE], kind="stable")
    cells = cell_keys.reset_index(drop=True)
    q = queues.loc[cells[QUEUE]]
    cells["kind"] = q["kind"].to_numpy()
    cells["severity"] = q["severity"].astype(int).to_numpy()
    cells["egregious"] = q["egregious"].astype(bool).to_numpy()
    cells["within_s"] = q["within_s"].astype(float).to_numpy()
    aht = req.groupby([QUEUE, LANGUAGE])[AHT_S].mean()
    ht = ws.handle_times.set_index([QUEUE, LANGUAGE])[AHT_S]
    cells[AHT_S] = [float(ht.get(k, aht.get(k, np.nan))) for k in zip(cells[QUEUE], cells[LANGUAGE])]
    penalties = ws.config.policy.unmet_penalty_per_hour
    cells["penalty"] = [float(penalties.get(int(s), max(penalties.values()))) for s in cells["severity"]]
    # deferred: arrivals of interval i are due by the end of interval i + due_shift (the one definition)
    cells["due_shift"] = [due_shift(h * 60.0, w) for w in cells["within_s"]]
    return cells


def _demand(cells: pd.DataFrame, req: pd.DataFrame, T: int, h: float) -> tuple[np.ndarray, ...]:
    """[C, T] arrays: realtime need [standard h], required productive [moderators], deferred workload [h], volume [items]."""
    C = len(cells)
    cell_index = {k: i for i, k in enumerate(zip(cells[QUEUE], cells[LANGUAGE]))}
    ci = np.array([cell_index[k] for k in zip(req[QUEUE], req[LANGUAGE])], dtype=int)
    ti = req["t"].to_numpy()
    required = np.zeros((C, T))
    workload = np.zeros((C, T))
    volume = np.zeros((C, T))
    counts = np.zeros((C, T))
    np.add.at(required, (ci, ti), req[REQUIRED_PRODUCTIVE].fillna(0).to_numpy(float))
    np.add.at(counts, (ci, ti), 1.0)
    np.add.at(workload, (ci, ti), req["workload_hours"].fillna(0).to_numpy(float))
    np.add.at(volume, (ci, ti), req[VOLUME].fillna(0).to_numpy(float))
    required = np.divide(required, counts, out=np.zeros_like(required), where=counts > 0)  # mean if finer
    realtime = (cells["kind"] == "realtime").to_numpy()
    need_hours = np.where(realtime[:, None], required * h, 0.0)
    workload = np.where(realtime[:, None], 0.0, workload)
    return need_hours, required, workload, volume


def _pools_and_vendors(ws) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pools sorted by name with rate [reporting currency / paid h], shrinkage and quality; the vendors table."""
    config = ws.config
    staffing = config.staffing
    pools = ws.pools.sort_values(POOL, kind="stable").reset_index(drop=True).copy()
    pools["rate"] = [float(r) * fx_rate(config, c, f"pool {p}") for p, r, c in zip(pools[POOL], pools["cost_per_hour"], pools["currency"])]
    pools["shrinkage"] = [float(staffing.shrinkage_by_site.get(s, staffing.shrinkage)) for s in pools[SITE]]
    vendors = ws.vendors.copy() if len(ws.vendors) else pd.DataFrame(
        columns=[VENDOR, "min_weekly_hours", "max_weekly_hours", "max_language_share", "quality", "currency"])
    vq = dict(zip(vendors[VENDOR], vendors["quality"]))
    pools["quality"] = [1.0 if v == INHOUSE else float(vq.get(v, 1.0)) for v in pools[VENDOR]]
    return pools, vendors


def _skills(ws, cells: pd.DataFrame, pools: pd.DataFrame, need_hours: np.ndarray, workload: np.ndarray,
            min_quality: float = 0.0) -> tuple[list, list]:
    """(pool, cell) index pairs of skilled cells with demand, and the cells with demand no pool can work.

    A pool below ``min_quality`` (``[policy] severe_graphic_min_quality``) may not work egregious cells of
    severity 1 or 2 (:func:`severe_graphic_allowed`).
    """
    cell_index = {k: i for i, k in enumerate(zip(cells[QUEUE], cells[LANGUAGE]))}
    pool_index = {p: i for i, p in enumerate(pools[POOL])}
    skills_df = ws.skills()
    skills = sorted({(pool_index[p], cell_index[(qq, ll)]) for p, qq, ll in skills_df[[POOL, QUEUE, LANGUAGE]].itertuples(index=False)
                     if (qq, ll) in cell_index and p in pool_index})
    skills = [(p, c) for p, c in skills if severe_graphic_allowed(bool(cells.at[c, "egregious"]), int(cells.at[c, "severity"]),
                                                                   float(pools.at[p, "quality"]), min_quality)]
    demand = need_hours.sum(axis=1) + workload.sum(axis=1)
    skilled = {c for _, c in skills}
    unskilled = [c for c in range(len(cells)) if demand[c] > 0 and c not in skilled]
    return [(p, c) for p, c in skills if demand[c] > 0], unskilled


def quality_excluded(cells: pd.DataFrame, pools: pd.DataFrame, skills: list, ws, need_hours: np.ndarray, workload: np.ndarray,
                     min_quality: float) -> list[tuple[int, int]]:
    """(pool, cell) pairs a pool is skilled on, with demand, that the quality floor keeps it off (binding.csv names them)."""
    if min_quality <= 0:
        return []
    cell_index = {k: i for i, k in enumerate(zip(cells[QUEUE], cells[LANGUAGE]))}
    pool_index = {p: i for i, p in enumerate(pools[POOL])}
    demand = need_hours.sum(axis=1) + workload.sum(axis=1)
    allowed = set(skills)
    pairs = {(pool_index[p], cell_index[(qq, ll)]) for p, qq, ll in ws.skills()[[POOL, QUEUE, LANGUAGE]].itertuples(index=False)
             if (qq, ll) in cell_index and p in pool_index}
    return sorted((p, c) for p, c in pairs if demand[c] > 0 and (p, c) not in allowed)


def severe_graphic_allowed(egregious: bool, severity: int, quality: float, min_quality: float) -> bool:
    """The quality floor: egregious work of severity 1-2 only to pools of quality >= ``min_quality``."""
    return not (egregious and severity <= 2 and quality < min_quality - 1e-12)


def _shift_patterns(ws, pools: pd.DataFrame, plan_dates: list, start: pd.Timestamp, T: int, h: float) -> tuple[list, list]:
    """Every pool's shift occurrences on every plan date and its weekly patterns (one per allowed start day)."""
    shifts = ws.shifts.set_index(SHIFT)
    occurrences: list[Occurrence] = []
    patterns: list[Pattern] = []
    for pi, pool in pools.iterrows():
        shrink = pool["shrinkage"]
        for s in sorted(set(pool["shifts"])):
            if s not in shifts.index:
                raise InputError([Problem(file="inputs/pools.csv", message=f"pool {pool[POOL]} lists shift {s!r}, which is not in shifts",
                                          fix="add the shift to inputs/shifts.csv or remove it from the pool")])
            sh = shifts.loc[s]
            paid = float(sh[PAID_HOURS])
            on_site = paid + float(sh["break_minutes"]) / 60.0
            factor = paid / on_site * (1.0 - shrink)
            occ_by_weekday: dict[int, list[int]] = {}
            for day in plan_dates:
                local, start_utc, overlap = map_occurrence(pool["timezone"], day, int(sh["start_minute"]), on_site, start, T, h)
                occurrences.append(Occurrence(pi, s, day, local, start_utc, on_site, overlap))
                occ_by_weekday.setdefault(day.weekday(), []).append(len(occurrences) - 1)
            dpw = int(sh["days_per_week"])
            for d in sorted(set(int(x) for x in sh["start_days"])):
                worked = sorted(o for k in range(dpw) for o in occ_by_weekday.get((d + k) % 7, []))
                cap: dict[int, float] = {}
                for o in worked:
                    for t, hours in occurrences[o].overlap.items():
                        cap[t] = cap.get(t, 0.0) + hours * factor
                patterns.append(Pattern(pi, s, d, dpw, paid, worked, cap, paid * len(worked)))
    return occurrences, patterns


def _language_caps(policy, cells: pd.DataFrame, pools: pd.DataFrame, vendors: pd.DataFrame, skills: list) -> dict[tuple[str, str], float]:
    """(vendor, language) -> max share of the language's productive hours, for caps below 1 only."""
    share_by_vendor = dict(zip(vendors[VENDOR], vendors["max_language_share"].astype(float)))
    critical = set(policy.critical_languages)
    lang_providers: dict[str, set[str]] = {}
    for p, c in skills:
        lang_providers.setdefault(cells.at[c, LANGUAGE], set()).add(pools.at[p, VENDOR])
    language_caps: dict[tuple[str, str], float] = {}
    for lang, provs in sorted(lang_providers.items()):
        for v in sorted(provs):
            cap = share_by_vendor.get(v, 1.0)
            if lang in critical and len(provs) >= 2:
                cap = min(cap, 1.0 - CRITICAL_MIN_SHARE)
            if cap < 1.0:
                language_caps[(v, lang)] = float(cap)
    return language_caps


# --- employment contracts (issue 12): roster groups, contract, overtime and temp patterns -----------
def roster_groups(ws, pools: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """In-house employees on the roster today, grouped by pool and contracted weekly hours.

    The roster is ``ws.roster`` when a stand-in workspace carries one (tests), else the optional
    ``inputs/roster.csv`` (:func:`capplan.inputs.roster.read_roster`). Rows with a ``class_start`` (hiring
    classes in training) and vendor rows (a vendor schedules its own staff) are not scheduled here; an empty
    ``weekly_hours`` is ``[contracts] default_weekly_hours``. Without a roster the frame is empty and every
    pool is bought by the hour as before.

    Returns
    -------
    pandas.DataFrame
        ``pool``, ``pool_index``, ``weekly_hours`` [paid h per employee and week], ``headcount``, sorted.
    """
    roster = getattr(ws, "roster", None)
    if roster is None and isinstance(getattr(ws, "root", None), (str, Path)):
        from capplan.inputs.roster import read_roster

        roster = read_roster(Path(ws.root), pools=ws.pools, start=start)
    empty = pd.DataFrame(columns=[POOL, "pool_index", "weekly_hours", HEADCOUNT])
    if roster is None or not len(roster):
        return empty
    default = float(ws.config.contracts.default_weekly_hours)
    index = {p: i for i, p in enumerate(pools[POOL])}
    vendor = dict(zip(pools[POOL], pools[VENDOR]))
    r = roster.copy()
    if "class_start" in r:
        r = r[r["class_start"].isna()]
    hours = r["weekly_hours"] if "weekly_hours" in r else pd.Series(np.nan, index=r.index)
    r = r.assign(weekly_hours=pd.to_numeric(hours, errors="coerce").fillna(default).astype(float))
    r = r[np.array([p in index and vendor[p] == INHOUSE for p in r[POOL]], dtype=bool) & (r[HEADCOUNT].astype(int) > 0).to_numpy()]
    if not len(r):
        return empty
    g = r.groupby([POOL, "weekly_hours"], as_index=False)[HEADCOUNT].sum()
    g[HEADCOUNT] = g[HEADCOUNT].astype(int)
    g["pool_index"] = g[POOL].map(index).astype(int)
    return g.sort_values([POOL, "weekly_hours"], kind="stable").reset_index(drop=True)[[POOL, "pool_index", "weekly_hours", HEADCOUNT]]


def rest_hours(occurrences: list, worked: list[int]) -> float:
    """Least rest from the end of a worked shift to the next calendar day's start when that day is worked too [h].

    Real elapsed time from the local start times with :mod:`zoneinfo` (a DST change shortens or lengthens it);
    the rota is cyclic, so Sunday is followed by Monday even across the end of the window. inf if no
    two worked days are consecutive.
    """
    weekdays = {occurrences[o].day.weekday() for o in worked}
    rest = np.inf
    for o in worked:
        a = occurrences[o]
        nxt = a.day + dt.timedelta(days=1)
        if nxt.weekday() in weekdays:
            local = a.start_local
            following = dt.datetime.combine(nxt, local.time(), tzinfo=local.tzinfo)
            gap = (following.astimezone(UTC) - local.astimezone(UTC)).total_seconds() / 3600.0
            rest = min(rest, gap - a.on_site_hours)
    return float(rest)


def contract_patterns(contracts, pools: pd.DataFrame, occurrences: list, patterns: list, groups: pd.DataFrame,
                      weeks: float) -> tuple[pd.DataFrame, list]:
    """Patterns of rostered pools: contract and overtime patterns per roster group, temps instead of hourly staff.

    For a group of ``N`` employees contracted ``H`` paid hours a week and each shift s of the pool (paid
    ``P_s`` hours), a **contract pattern** works ``k = min(floor(H / P_s), max_consecutive_days)`` consecutive
    days from each allowed start day; its cost is ``H x weeks`` hours at the pool's rate whatever is
    scheduled (hours a pattern cannot schedule are paid and idle). An **overtime pattern** works ``k + 1``
    days when ``(k + 1) P_s - H <= overtime_max_hours_per_week`` and ``k + 1 <= max_consecutive_days``; the
    hours above ``H x weeks`` cost ``overtime_premium`` x the rate. Patterns whose rest between shifts
    (:func:`rest_hours`, real UTC times, DST included) is below ``min_rest_hours`` are not generated. The
    pool's hourly patterns become **temp** patterns at ``temp_rate_factor`` x the rate, at most
    ``floor(temp_max_share x N_pool)`` temps (none at share 0). The pool's headcount bounds become
    ``[N_pool, N_pool + temps]``; the model fixes each group's headcount (:func:`capplan.optimize.model.add_roster`).

    Raises
    ------
    InputError
        A group no pattern can schedule (contract shorter than every shift, or no allowed start day).
    """
    if not len(groups):
        return pools, patterns
    pools = pools.copy()
    rostered = set(groups["pool_index"].astype(int))
    n_consec = int(contracts.max_consecutive_days)
    out = [p for p in patterns if p.pool not in rostered]
    for pi in sorted(rostered):
        mine = [p for p in patterns if p.pool == pi]
        total = int(groups.loc[groups["pool_index"] == pi, HEADCOUNT].sum())
        temps = int(math.floor(float(contracts.temp_max_share) * total + 1e-9))
        if temps > 0:
            out += [Pattern(p.pool, p.shift, p.start_day, p.days_per_week, p.paid_hours, p.occurrences, p.capacity,
                            p.paid_hours_horizon, kind="temp", cost_hours=float(contracts.temp_rate_factor) * p.paid_hours_horizon)
                    for p in mine]
        pools.at[pi, "min_headcount"] = total
        pools.at[pi, "max_headcount"] = total + temps
        for g, grp in groups[groups["pool_index"] == pi].iterrows():
            made = _group_patterns(contracts, mine, occurrences, int(g), float(grp["weekly_hours"]), weeks, n_consec,
                                   float(pools.at[pi, "shrinkage"]))
            if not made:
                raise InputError([Problem(file="inputs/roster.csv", column="weekly_hours",
                                          message=f"pool {grp[POOL]}: no shift pattern fits {grp['weekly_hours']:g} contracted hours a week "
                                                  f"(shifts {', '.join(sorted({p.shift for p in mine}))}, at most {n_consec} consecutive days, "
                                                  f"at least {contracts.min_rest_hours:g} h rest)",
                                          expected="weekly hours of at least one shift of the pool",
                                          fix="correct weekly_hours, give the pool a shorter shift, or relax [contracts]")])
            out += made
    return pools, out


def _group_patterns(contracts, mine: list, occurrences: list, g: int, hours: float, weeks: float, n_consec: int,
                    shrinkage: float) -> list:
    """Contract and overtime patterns of one roster group from its pool's hourly patterns (one per shift and start day).

    A contract works at most the shift's ``days_per_week``; overtime is one day more.
    """
    made = []
    ot_cap = float(contracts.overtime_max_hours_per_week)
    premium = float(contracts.overtime_premium)
    for p in mine:
        k = min(int(math.floor(hours / p.paid_hours + 1e-9)), p.days_per_week, n_consec, 7)
        options = [("contract", k)] if k >= 1 else []
        if ot_cap > 0 and k >= 1 and k + 1 <= min(n_consec, 7) and (k + 1) * p.paid_hours - hours <= ot_cap + 1e-9:
            options.append(("overtime", k + 1))
        by_weekday: dict[int, list[int]] = {}
        for o, occ in enumerate(occurrences):
            if occ.pool == p.pool and occ.shift == p.shift:
                by_weekday.setdefault(occ.day.weekday(), []).append(o)
        for kind, days in options:
            worked = sorted(o for j in range(days) for o in by_weekday.get((p.start_day + j) % 7, []))
            if not worked or rest_hours(occurrences, worked) < float(contracts.min_rest_hours) - 1e-9:
                continue
            cap: dict[int, float] = {}
            for o in worked:
                factor = p.paid_hours / occurrences[o].on_site_hours * (1.0 - shrinkage)
                for t, hrs in occurrences[o].overlap.items():
                    cap[t] = cap.get(t, 0.0) + hrs * factor
            paid = p.paid_hours * len(worked)
            contracted = hours * weeks
            made.append(Pattern(p.pool, p.shift, p.start_day, days, p.paid_hours, worked, cap, paid, kind=kind, group=g,
                                cost_hours=contracted + premium * max(paid - contracted, 0.0)))
    return made


def _previous_plan(ws, table: str) -> Path | None:
    """The previous plan's run folder (``plans/latest``) holding ``table``; None for a workspace without a root
    folder (a stand-in) or without such a plan."""
    root = getattr(ws, "root", None)
    if not isinstance(root, (str, Path)):
        return None
    from capplan.errors import CapplanError
    from capplan.runs import resolve_run

    try:
        return resolve_run(Path(root) / "plans", None, "plan", (table,))
    except CapplanError:
        return None


def previous_vendor_hours(ws) -> dict[str, float]:
    """Vendor -> weekly productive hours of the previous plan (``plans/latest/vendor_allocation.csv``) [h].

    Empty when vendor stability is off (``[contracts] vendor_change_price_per_hour = 0`` and
    ``vendor_max_change_share = 1``), the workspace has no previous plan, or a stand-in workspace carries
    none (``ws.previous_vendor_hours``). Weekly = the previous plan's hours / its number of ISO weeks.
    """
    given = getattr(ws, "previous_vendor_hours", None)
    if given is not None:
        return {str(k): float(v) for k, v in given.items()}
    c = ws.config.contracts
    if float(c.vendor_change_price_per_hour) <= 0 and float(c.vendor_max_change_share) >= 1:
        return {}
    run = _previous_plan(ws, "vendor_allocation.csv")
    if run is None:
        return {}
    prev = pd.read_csv(run / "vendor_allocation.csv")
    if not len(prev):
        return {}
    prev = prev[prev[VENDOR] != INHOUSE]
    weeks = max(prev["week"].nunique(), 1)
    return {str(v): float(h) / weeks for v, h in prev.groupby(VENDOR)["hours"].sum().items()}


def _notice_bound(vendors: pd.DataFrame, contracts) -> pd.Series:
    """Per vendor row: True when its ``notice_weeks`` is longer than ``[contracts] notice_lead_weeks`` (changes are short notice)."""
    if NOTICE_WEEKS not in vendors or not len(vendors):
        return pd.Series(False, index=vendors.index)
    notice = pd.to_numeric(vendors[NOTICE_WEEKS], errors="coerce").fillna(0.0)
    return (notice > 0) & (notice > float(contracts.notice_lead_weeks))


def previous_vendor_paid_hours(ws) -> dict[str, float] | None:
    """Vendor -> weekly paid hours of the previous plan (``plans/latest/shift_plan.csv``): the hours last notified [h].

    None when no vendor needs notice (:func:`vendor_notice`), the workspace has no previous plan, or a stand-in
    workspace carries none (``ws.previous_vendor_paid_hours``). Weekly = the plan's paid hours / its weeks
    (``plan_days / 7`` of its ``run.json``, else its distinct days / 7); in-house is not a vendor.
    """
    given = getattr(ws, "previous_vendor_paid_hours", None)
    if given is not None:
        return {str(k): float(v) for k, v in given.items()}
    if not _notice_bound(ws.vendors, ws.config.contracts).any():
        return None
    run = _previous_plan(ws, "shift_plan.csv")
    if run is None:
        return None
    import json

    prev = pd.read_csv(run / "shift_plan.csv")
    try:
        days = float(json.loads((run / "run.json").read_text(encoding="utf-8"))["config"]["planning"]["plan_days"])
    except (OSError, ValueError, KeyError, TypeError):
        days = float(prev[DAY].nunique()) if DAY in prev and len(prev) else 7.0
    prev = prev[prev[VENDOR] != INHOUSE]
    paid = (prev[PAID_HOURS].astype(float) * prev[HEADCOUNT].astype(float)).groupby(prev[VENDOR]).sum()
    return {str(v): float(h) / (max(days, 1.0) / 7.0) for v, h in paid.items()}


def vendor_notice(vendors: pd.DataFrame, contracts, previous: dict[str, float] | None) -> pd.DataFrame:
    """Vendor contracts with their notice band: the weekly paid-hour limits a plan made at short notice must keep.

    A vendor whose ``notice_weeks`` is longer than ``[contracts] notice_lead_weeks`` may move its weekly paid hours
    at most ``flex_share`` (empty = 0) from the last notified hours ``H`` (the previous plan's,
    :func:`previous_vendor_paid_hours`; 0 for a vendor it did not use): ``min_weekly_hours`` becomes
    ``max(min, (1 - flex) H)`` (hours below it are paid, take-or-pay) and ``max_weekly_hours``
    ``min(max, (1 + flex) H)``. The contract's own limits stay in ``contract_min_weekly_hours`` /
    ``contract_max_weekly_hours``, the band in ``notice_low`` / ``notice_high`` (NaN without a band). Without a
    previous plan nothing was notified and nothing changes. The plan's staffing repeats every week, so the band
    holds for the whole window.
    """
    v = vendors.copy()
    v["contract_min_weekly_hours"] = v[MIN_WEEKLY_HOURS].astype(float)
    v["contract_max_weekly_hours"] = v[MAX_WEEKLY_HOURS].astype(float)
    v["previous_paid_hours"] = np.nan
    v["notice_low"] = np.nan
    v["notice_high"] = np.nan
    if previous is None or not len(v):
        return v
    bound = _notice_bound(v, contracts)
    flex = pd.to_numeric(v[FLEX_SHARE], errors="coerce").fillna(0.0) if FLEX_SHARE in v else pd.Series(0.0, index=v.index)
    for i in v.index[bound]:
        hours = float(previous.get(str(v.at[i, VENDOR]), 0.0))
        v.at[i, "previous_paid_hours"] = hours
        v.at[i, "notice_low"] = (1.0 - float(flex[i])) * hours
        v.at[i, "notice_high"] = (1.0 + float(flex[i])) * hours
        v.at[i, MIN_WEEKLY_HOURS] = max(float(v.at[i, MIN_WEEKLY_HOURS]), v.at[i, "notice_low"])
        v.at[i, MAX_WEEKLY_HOURS] = min(float(v.at[i, MAX_WEEKLY_HOURS]), v.at[i, "notice_high"])
    return v


def with_demand(d: PlanData, requirements: pd.DataFrame) -> PlanData:
    """The same plan data with the demand of other requirements (e.g. one demand scenario) on the same cells.

    Cells, pools, patterns and skills stay those of ``d``; rows of cells ``d`` does not have are ignored.
    """
    import dataclasses

    req = _requirements_in_window(requirements, d.start, d.T, d.h)
    known = set(zip(d.cells[QUEUE], d.cells[LANGUAGE]))
    req = req[[k in known for k in zip(req[QUEUE], req[LANGUAGE])]]
    need_hours, required, workload, volume = _demand(d.cells, req, d.T, d.h)
    return dataclasses.replace(d, need_hours=need_hours, required_productive=required, workload=workload, volume=volume)


def with_unmet_caps(d: PlanData, caps: dict[tuple[str, str], float], unmet_price: float | np.ndarray | None = None) -> PlanData:
    """The same plan data with a cap on each listed cell's unmet work, and optionally another price of unmet work.

    A benchmark option (bench/iso_service.py: the cheapest plan whose planned service is no worse than another plan's,
    cell by cell), never set by ``capplan plan``. ``caps`` maps (queue, language) to the most unmet work a week
    [standard h per week]: realtime ``unmet``, deferred work dropped as late (:func:`capplan.optimize.model.add_unmet_caps`);
    cells ``d`` does not have are ignored. ``unmet_price`` [currency per standard h; one for all cells or one per cell
    of ``d.cells``], when given, replaces the cells' severity penalties in the model's objective (e.g. a tie-breaker, so
    that the model buys only the service the caps demand); ``cells.penalty``, and with it every reported ``penalty``,
    stays the severity's price.
    """
    import dataclasses

    index = {k: i for i, k in enumerate(zip(d.cells[QUEUE], d.cells[LANGUAGE]))}
    bad = {k: v for k, v in caps.items() if not (math.isfinite(float(v)) and float(v) >= 0)}
    if bad:
        raise ConfigError(f"unmet caps must be finite hours >= 0; got {bad}. Fix: pass a cap of 0 or more per cell")
    capped = {index[k]: float(v) * d.weeks for k, v in caps.items() if k in index}
    price = None if unmet_price is None else np.broadcast_to(np.asarray(unmet_price, dtype=float), (len(d.cells),)).copy()
    return dataclasses.replace(d, unmet_caps=capped, unmet_price=price)
