"""Replay a plan against arrivals: a minute-by-minute simulation of the operation.

What is simulated
-----------------
* **Moderators** on the floor per pool and minute from the plan's ``shift_plan`` (breaks and
  shrinkage as the plan assumed, :mod:`capplan.simulate.supply`).
* **Arrivals**: every item of the window placed in time (:mod:`capplan.simulate.arrivals`).
* **Realtime cells item by item** (:mod:`capplan.simulate.realtime`): integer servers, FIFO lines,
  exponential patience (abandonment), random handle times times the pool's proficiency.
* **Deferred cells in one-minute steps** (fluid FIFO per cell, the minute's arrivals with their
  random work): each minute the routing policy splits the moderators' time left after realtime work
  among the cells; a pool's productive second processes ``deferred_max_utilisation / proficiency``
  seconds of standard work (the plan's assumption). Items leave their cell's line in arrival order,
  so the cumulative curves of arrived and done work give each item's completion time.
  :func:`capplan.simulate.reference.replay_deferred_items` simulates the same deferred model item by
  item; a test shows both agree.
* **Wellbeing caps**: per pool and interval, egregious work <= ``exposure_max_share`` x productive
  time (counted cumulatively within the interval); per shift occurrence, egregious hours <=
  ``exposure_max_hours_per_day`` x its moderators (a budget drawn pro rata by the occurrences on
  the floor).

Deadlines: a deferred item arriving in minute ``k`` is due by the end of minute ``k + within - 1``
(within in minutes); items due after the window's end are not judged (they count in ``arrived``,
not in the cell-week ``items``). Realtime items are judged on their wait: answered within the
threshold (service level over all arrivals, abandoned items are misses, as in Erlang A).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capplan.simulate.arrivals import build_arrivals, cell_table, handle_cv, arrival_step_minutes
from capplan.simulate.policies import POLICIES, RoutingPolicy, get_policy
from capplan.simulate.realtime import RealtimeSim
from capplan.simulate.supply import Supply, build_supply
from capplan.optimize.data import plan_window
from capplan.schema import INTERVAL_START, LANGUAGE, POOL, QUEUE
from capplan.units import interval_index

__all__ = ["ReplayResult", "replay_plan", "POLICIES", "Model", "simulate"]


@dataclass
class ReplayResult:
    """What a replay found.

    Attributes
    ----------
    cells : per cell and interval: arrived, handled, on_time, abandoned, backlog (items waiting at the
        interval's end), avg_wait_s, service_level (on_time / judged arrivals)
    cell_weeks : per cell and ISO week: kind, target, items (judged), on_time, abandoned, achieved, met
    pools : per pool and interval: on_shift (moderators on site), busy_hours, idle_hours,
        egregious_hours, occupancy (busy / productive)
    summary : items, on_time_share, cell_weeks_met_share, abandon_rate, policy, seed, ...
    """

    cells: pd.DataFrame
    cell_weeks: pd.DataFrame
    pools: pd.DataFrame
    summary: dict
    trace: "Trace | None" = field(default=None, repr=False)
    closing_backlog: pd.DataFrame | None = None  # deferred items waiting at the window's end (inputs/backlog.csv layout)


@dataclass
class Trace:
    """Minute-level state kept for checks (property tests) and charts."""

    productive: np.ndarray  # [P, M] productive moderators
    rt_busy_s: np.ndarray  # [P, M] realtime server seconds
    def_busy_s: np.ndarray  # [P, M] deferred productive seconds
    egregious_s: np.ndarray  # [P, M] egregious seconds (realtime + deferred)
    def_arrived_s: np.ndarray  # [D, M] cumulative deferred work arrived [standard s]
    def_done_s: np.ndarray  # [D, M] cumulative deferred work done [standard s]
    occ_used_s: np.ndarray  # [O] egregious seconds drawn from each occurrence's daily budget
    occ_budget_s: np.ndarray  # [O] the budgets
    rt: RealtimeSim | None = None
    groups_pool: np.ndarray | None = None
    servers: np.ndarray | None = None  # [M, G] realtime servers of each group in each minute
    def_alloc_s: np.ndarray | None = None  # [P, D] productive seconds each pool gave each deferred cell
    rt_egregious_s: np.ndarray | None = None  # [P, M] realtime server seconds on egregious cells


class Model:
    """The arrays the simulation runs on: window, cells, pools, skills, supply, the planned allocation."""

    def __init__(self, ws, shift_plan: pd.DataFrame, allocation: pd.DataFrame, config=None) -> None:
        config = config or ws.config
        self.config = config
        start, T, h = plan_window(config)
        self.start, self.T, self.h = start, T, h
        self.step = int(round(h * 60))
        self.M = T * self.step
        self.cells = cell_table(ws)
        C = len(self.cells)
        self.realtime = (self.cells["kind"] == "realtime").to_numpy()
        self.egregious = self.cells["egregious"].to_numpy(bool)
        self.supply: Supply = build_supply(ws, shift_plan, start, self.M)
        pools = self.supply.pools
        self.P = len(pools)
        self.productive = self.supply.productive
        self.proficiency = pools["proficiency"].to_numpy(float)
        util = float(config.staffing.deferred_max_utilisation)
        self.rate = util / self.proficiency
        pool_index = {p: i for i, p in enumerate(pools[POOL])}
        cell_index = {k: i for i, k in enumerate(zip(self.cells[QUEUE], self.cells[LANGUAGE]))}
        self.skill = np.zeros((self.P, C), dtype=bool)
        for p, q, lang in ws.skills()[[POOL, QUEUE, LANGUAGE]].itertuples(index=False):
            if p in pool_index and (q, lang) in cell_index:
                self.skill[pool_index[p], cell_index[(q, lang)]] = True
        self.def_cells = np.flatnonzero(~self.realtime)
        self.def_skill = self.skill[:, self.def_cells]
        self.def_egregious = self.egregious[self.def_cells]
        self.def_severity = self.cells["severity"].to_numpy(float)[self.def_cells]
        self.def_within_min = np.ceil(self.cells["within_s"].to_numpy(float)[self.def_cells] / 60.0 - 1e-9).astype(np.int64)
        self.planned = self._planned_hours(allocation, pool_index, cell_index)
        self.handle_cv = np.full(C, np.nan)  # per-item CV of handle time per cell (NaN = exponential)
        self.opening = None  # capplan.simulate.opening.Opening: the backlog the window opens with (None = empty lines)

    def _planned_hours(self, allocation: pd.DataFrame, pool_index, cell_index) -> np.ndarray:
        """[P, C, T] productive hours the plan allocated (unknown pools/cells are left out)."""
        out = np.zeros((self.P, len(self.cells), self.T))
        if not len(allocation):
            return out
        a = allocation
        p = np.array([pool_index.get(x, -1) for x in a[POOL]])
        c = np.array([cell_index.get(k, -1) for k in zip(a[QUEUE], a[LANGUAGE])])
        t = interval_index(a[INTERVAL_START], self.start, self.h)
        ok = (p >= 0) & (c >= 0) & (t >= 0) & (t < self.T)
        np.add.at(out, (p[ok], c[ok], t[ok]), a["productive_hours"].to_numpy(float)[ok])
        return out

    def planned_realtime_pairs(self) -> list[tuple[int, int]]:
        tot = self.planned.sum(axis=2)
        return [(int(p), int(c)) for p, c in zip(*np.nonzero(tot > 0)) if self.realtime[c]]

    def planned_deferred_seconds(self, t: int) -> np.ndarray:
        """[P, D] productive seconds per minute the plan gives each deferred cell in interval t."""
        return self.planned[:, self.def_cells, t] / self.h * 60.0


def replay_plan(ws, shift_plan: pd.DataFrame, allocation: pd.DataFrame, arrivals: pd.DataFrame, *,
                policy: str = "priority", seed: int = 0, handle: str = "auto", config=None,
                keep_trace: bool = False, opening: pd.DataFrame | None = None) -> ReplayResult:
    """Put the arrivals of the plan window through the plan with a routing policy.

    Parameters
    ----------
    ws : capplan.inputs.Workspace
        Queues, handle times, pools, shifts, config (the plan window comes from ``config.planning``).
    shift_plan, allocation : pandas.DataFrame
        The plan run's tables (:data:`capplan.schema.SHIFT_PLAN_COLUMNS`, :data:`capplan.schema.ALLOCATION_COLUMNS`).
    arrivals : pandas.DataFrame
        History-shaped (queue, language, interval_start, volume) covering the plan window.
    policy : str
        A name in :data:`POLICIES` (``plan``, ``priority``, ``edf``).
    seed : int
        Seed of every random draw (arrival instants, handle times, patience).
    handle : {"auto", "lognormal", "exponential"}
        Handle-time distribution (see :mod:`capplan.simulate.arrivals`).
    config : capplan.config.Config, optional
        The config the plan was made with (default ``ws.config``).
    keep_trace : bool
        Keep minute-level arrays in ``result.trace`` (for checks).
    opening : pandas.DataFrame, optional
        The opening backlog the plan started from (``inputs/backlog.csv`` layout; see
        :mod:`capplan.simulate.opening`): at the head of the deferred lines, judged against its own deadlines.

    Returns
    -------
    ReplayResult
    """
    from capplan.simulate.opening import opening_cohorts

    clock = time.perf_counter()
    get_policy(policy)
    model = Model(ws, shift_plan, allocation, config)
    model.handle_cv = handle_cv(ws.history, model.cells, handle)
    model.opening = opening_cohorts(model, opening)
    return replay_model(model, arrivals, policy=policy, seed=seed, keep_trace=keep_trace, started=clock)


def replay_model(model: Model, arrivals: pd.DataFrame, *, policy: str, seed: int, keep_trace: bool = False,
                 started: float | None = None) -> ReplayResult:
    """Replay arrivals on a prepared :class:`Model` (with ``model.handle_cv`` set): many paths, one model."""
    from capplan.simulate.metrics import build_result
    from capplan.simulate.opening import add_opening

    clock = time.perf_counter() if started is None else started
    routing = get_policy(policy)
    rng = np.random.default_rng(seed)
    step = arrival_step_minutes(arrivals, model.step)
    items = build_arrivals(arrivals, model.cells, model.handle_cv, model.start, model.M, step, rng)
    add_opening(items, getattr(model, "opening", None))
    trace = simulate(model, routing, items)
    seconds = time.perf_counter() - clock
    result = build_result(model, items, trace, policy=routing.name, seed=seed, seconds=seconds)
    if keep_trace:
        result.trace = trace
    return result


def daily_cap_can_bind(model: Model, share: float, hours_per_day: float) -> bool:
    """Whether any shift occurrence could reach the per-moderator daily exposure cap.

    Egregious time is drawn from the occurrences on the floor pro rata to their productive time; in
    an interval where an occurrence's share of its pool is constant it can draw at most
    ``share`` x its productive time (the per-interval cap), elsewhere at most all of it. When even
    that bound stays within every budget the daily cap cannot bind and the loop skips it.
    """
    sup = model.supply
    if not len(sup.occ_pool) or not model.egregious.any():
        return False
    step, T = model.step, model.T
    for o, mins in enumerate(sup.occ_minutes):
        p = sup.occ_pool[o]
        ratio = np.divide(sup.occ_productive[o], model.productive[p, mins], out=np.zeros(len(mins)), where=model.productive[p, mins] > 0)
        bound = 0.0
        intervals = mins // step
        for t in np.unique(intervals):
            sel = intervals == t
            r = ratio[sel]
            full = sel.sum() == step and np.ptp(r) < 1e-12
            bound += sup.occ_productive[o] * 60.0 * sel.sum() * (share if full else 1.0)
        if bound > sup.occ_heads[o] * hours_per_day * 3600.0 + 1e-6:
            return True
    return False


def simulate(model: Model, routing: RoutingPolicy, items) -> Trace:
    """The minute loop: realtime events first, then the policy's deferred allocation (see module docstring)."""
    P, M, step = model.P, model.M, model.step
    share = float(model.config.policy.exposure_max_share)
    hours_cap = float(model.config.policy.exposure_max_hours_per_day)
    budget = model.supply.occ_heads * hours_cap * 3600.0
    occ_pool = model.supply.occ_pool
    occ_rate = model.supply.occ_productive * 60.0  # productive seconds per minute on the floor
    on_occ = on_floor(model)
    daily = daily_cap_can_bind(model, share, hours_cap)
    groups = routing.groups(model)
    prod_s = np.ascontiguousarray(model.productive.T) * 60.0  # [M, P] productive seconds per minute
    servers = routing.realtime_servers(model, share * prod_s / 60.0)  # [M, G]
    rt = RealtimeSim(groups, model.proficiency, model.cells, items, M)
    g_pool = np.array([g.pool for g in groups], dtype=int)
    g_egr = np.array([g.egregious for g in groups], dtype=bool)
    # whatever the policy asks, a pool's realtime servers fit on its floor and its egregious ones in the share
    servers = clamp_servers(servers, g_pool, np.ones(len(groups), dtype=bool), np.floor(prod_s / 60.0 + 1e-9), P)
    servers = clamp_servers(servers, g_pool, g_egr, np.floor(share * prod_s / 60.0 + 1e-9), P)
    to_pool = np.zeros((len(groups), P))
    to_pool[np.arange(len(groups)), g_pool] = 1.0
    to_pool_egr = to_pool * g_egr[:, None]
    D = len(model.def_cells)
    cum_w, flat, offsets, row_start = work_curves(items.def_work_s)
    cum_w_t = np.ascontiguousarray(cum_w.T)
    within_1 = model.def_within_min - 1
    rate = model.rate
    def_egr = model.def_egregious
    done = np.zeros(D)
    done_hist = np.zeros((M, D))
    def_busy = np.zeros((M, P))
    egr_s = np.zeros((M, P))
    rt_busy_pool = np.zeros((M, P))
    rt_egr_pool = np.zeros((M, P))
    used = np.zeros(len(occ_pool))
    alloc = np.zeros((P, D))
    served = np.zeros_like(servers)
    share_room = np.zeros(P)
    no_room = np.full(P, np.inf)
    for m in range(M):
        if m % step == 0:
            share_room[:] = 0.0
        prod = prod_s[m]
        share_room += share * prod
        if daily:  # egregious seconds the occurrences on the floor may still give this minute
            left = budget - used
            occ_cap = np.where(on_occ[m] & (left > 1e-9), np.minimum(occ_rate, left), 0.0)
            daily_room = np.bincount(occ_pool, weights=occ_cap, minlength=P)
            cap_m = clamp_servers(servers[m][None, :], g_pool, g_egr, np.floor(daily_room / 60.0 + 1e-9)[None, :], P)[0]
        else:
            daily_room, cap_m = no_room, servers[m]
        served[m] = cap_m
        busy_g = rt.advance(m, cap_m)
        rt_busy = busy_g @ to_pool
        rt_egr = busy_g @ to_pool_egr
        free = np.maximum(prod - rt_busy, 0.0)
        room = np.maximum(np.minimum(share_room, daily_room) - rt_egr, 0.0)
        if D:
            arrived = cum_w_t[m]
            head = np.searchsorted(flat, done + offsets + 1e-7 * (1.0 + done), side="right") - row_start
            x = routing.allocate(model, m, free, room, arrived - done, np.minimum(head, m) + within_1)
            done = np.minimum(done + rate @ x, arrived)
            done_hist[m] = done
            def_busy[m] = x.sum(axis=1)
            alloc += x
            egr = rt_egr + x[:, def_egr].sum(axis=1)
        else:
            egr = rt_egr
        egr_s[m] = egr
        rt_busy_pool[m] = rt_busy
        rt_egr_pool[m] = rt_egr
        share_room -= egr
        if daily and egr.any():  # draw from the daily budgets of the occurrences on the floor, pro rata
            used += egr[occ_pool] * np.divide(occ_cap, daily_room[occ_pool], out=np.zeros_like(occ_cap), where=daily_room[occ_pool] > 0)
    rt.finish()
    if not daily:
        used = attribute_exposure(egr_s, on_occ, occ_pool, occ_rate)
    return Trace(productive=model.productive, rt_busy_s=rt_busy_pool.T.copy(), def_busy_s=def_busy.T.copy(), egregious_s=egr_s.T.copy(),
                 def_arrived_s=cum_w, def_done_s=done_hist.T.copy(), occ_used_s=used, occ_budget_s=budget, rt=rt, groups_pool=g_pool,
                 servers=served, def_alloc_s=alloc, rt_egregious_s=rt_egr_pool.T.copy())


def on_floor(model: Model) -> np.ndarray:
    """[M, O] whether each shift occurrence is on the floor in each minute."""
    on = np.zeros((model.M, len(model.supply.occ_pool)), dtype=bool)
    for o, mins in enumerate(model.supply.occ_minutes):
        on[mins, o] = True
    return on


def work_curves(work_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative arrived work per deferred cell [D, M], and one sorted flat array of all rows (row d offset
    by ``d x (largest total + 1)``) so that a single ``searchsorted`` finds every cell's oldest waiting minute."""
    D, M = work_s.shape
    cum_w = np.cumsum(work_s, axis=1)
    big = (float(cum_w[:, -1].max()) if D else 0.0) + 1.0
    offsets = np.arange(D, dtype=float) * big
    return cum_w, (cum_w + offsets[:, None]).ravel(), offsets, np.arange(D) * M


def clamp_servers(servers: np.ndarray, g_pool: np.ndarray, mask: np.ndarray, limit: np.ndarray, P: int) -> np.ndarray:
    """Scale the servers of the masked groups down, per pool and minute, so that their sum is <= ``limit`` [M, P].

    Each masked group keeps ``floor(servers * limit / total)`` when its pool's total is over the limit,
    so the sum never exceeds it (integer servers, rounded down).
    """
    if not servers.shape[1] or not mask.any():
        return servers
    member = np.zeros((servers.shape[1], P))
    member[np.arange(servers.shape[1]), g_pool] = mask
    total = servers @ member  # [M, P]
    factor = np.divide(limit, total, out=np.ones_like(total), where=total > limit)
    scaled = np.floor(servers * (factor @ member.T) + 1e-9).astype(np.int64)
    return np.where(mask[None, :], np.minimum(servers, scaled), servers)


def attribute_exposure(egr_s: np.ndarray, on_occ: np.ndarray, occ_pool: np.ndarray, occ_rate: np.ndarray) -> np.ndarray:
    """Egregious seconds drawn from each occurrence: the pool's egregious time pro rata to the occurrences on the floor."""
    cap = on_occ * occ_rate[None, :]  # [M, O]
    P = egr_s.shape[1]
    pool_cap = np.zeros((on_occ.shape[0], P))
    for p in range(P):
        pool_cap[:, p] = cap[:, occ_pool == p].sum(axis=1)
    denom = pool_cap[:, occ_pool]
    return (egr_s[:, occ_pool] * np.divide(cap, denom, out=np.zeros_like(cap), where=denom > 0)).sum(axis=0)
