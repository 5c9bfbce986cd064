"""The baseline: a competent workforce planner's method, independent of the optimizer (no solver).

What the optimizer's savings are measured against (issue 12). It is the method a good planner runs in a
spreadsheet with a few macros, not a straw man:

1. **Curve.** Each cell's requirement curve is ``required_productive x h`` [standard productive hours per
   interval] from the requirements table (Erlang C/A for realtime cells, the smoothed backlog profile for
   deferred cells).
2. **Committed capacity first.** Rostered in-house employees are all scheduled at their contracted hours
   (each roster group on its contract patterns, :mod:`capplan.optimize.data`; overtime only in step 7), their shifts first
   shaped to the *share-gated* work (below), then to all the work the pool could do; other pools at
   their minimum headcount (in-house employees, paid whether scheduled or not) and vendors up to their contracted minimum weekly hours (take-or-pay), each by
   the greedy shift cover of step 4 on the work the pool could do; that capacity is used before anything is
   bought.
3. **Share gates first.** A vendor capped at share ``s`` of a language works at most ``s / (1 - s)`` times what
   the other providers work there; when those are rostered pools (fixed capacity, never bought) and spend it
   elsewhere, the cap strands the vendor's work (on the default demo before this step: 14,480 h unmet, tl and
   pt first). So the other providers' paid capacity takes ``(1 - s)(1 + GATE_MARGIN)`` of such a language
   before anything else, all gates together in :data:`GATE_SLICES` steps, pools serving fewest gates first.
   Pooling and blending: cells are assigned interval by interval to pools, egregious cells first (at
   most the wellbeing share of a pool's capacity, so that share's complement is then free for other work),
   severity first, fewest skilled pools first; non-egregious work fills capacity that is already paid for
   (committed, or the complement of graphic work) before it buys more, and otherwise goes to the pool with
   the cheapest effective rate ``rate x proficiency / productive share of a paid hour``. Vendor language
   shares (and the two-provider rule for critical languages) are respected when assigning.
4. **Staff to the curve per pool.** Each pool's pooled requirement ``max(assigned, egregious / share)`` is
   covered by whole shifts: one moderator at a time on the pattern covering most of the remaining deficit
   per unit of paid cost, within max headcount and vendor max weekly hours: rounding up happens per pool and
   shift, not per cell and interval.
5. **Dispatch.** The staffed capacity works interval by interval: realtime cells by severity, then deferred
   work first in, first out (never before it arrives, never after it was counted late), each from the pools
   it was assigned to first, then from any skilled pool with spare capacity; egregious work at most
   ``min(exposure share, daily cap / productive hours per shift)`` of a pool's capacity. A vendor above a
   language share gives the excess back (unmet). Work that no staffed pool could do is planned once more
   (step 3-4 for the unmet work only, up to :data:`REPAIR_ROUNDS` times): late deferred work is spread back
   over the intervals it was open, share rooms are recounted from what the vendors' staff did, and a pool's
   room is at least the moderators it may still add; then dispatched again.

6. **Turnaround windows** (in the looks of :data:`WINDOW_ROUNDS`). A deferred queue is planned on its volume
   within its turnaround, not on its arrival curve: work arriving in t may be done in ``t .. t + due_shift``.
   Paid-for capacity takes it earliest due first anywhere in that window (:func:`_fill_by_due`), and work
   bought from a pool that is off site when it arrives is planned evenly over the pool's on-site hours in
   its window (:func:`_onsite_shift`: night arrivals with a 24 h turnaround go to the next day shifts). In a
   cyclic week windows wrap to the week's start (the newest work is carried to Monday).

   Measured (``bench/contracts.py``, issue 12): windows in the *first* look make the default demo worse
   (6,045 -> 6,820 unmet h, paid cost +3.9 %; small demo 593 -> 584 h, +0.3 %): with the vendors that work at
   night at their weekly maximum and the big vendor pools at max headcount, the gap is where the scarce
   night hours go, not when deferred work may be done (the dispatch already does open deferred work from
   any spare capacity until it is due, and each further look spreads late work back over its window).
   Windows in the *last* look only (the default) take the default demo from 6,045 to 5,672 unmet h (paid
   cost +1.5 %, unmet penalty -0.5 %) and the small demo from 593 to 584 h (paid cost equal). The tiny case
   in ``tests/test_baseline_gates.py`` shows what the first-look windows do where paid day capacity is idle.

7. **Remedies** (:func:`_remedies`, up to :data:`REMEDY_ROUNDS` looks). What a planner reaches for when work is
   still unmet after the repair rounds, with the optimizer's limits and prices: **overtime** for a rostered
   employee (moved from a contract pattern to the group's overtime pattern whose days contain the contract's: one
   extra shift within ``[contracts] overtime_max_hours_per_week``, paid at ``overtime_premium``, rest rules kept),
   **temps** of a rostered pool (``temp_max_share``, at ``temp_rate_factor``), and one more moderator of a **vendor**
   below its max weekly hours or an unrostered pool below max headcount. Greedy: the remedy taking most unmet work
   per unit of cost first (its gain ``min(added capacity, open work the pool could take)`` per interval, graphic
   work within the wellbeing share; a vendor at its language share takes none of that language), one at a time,
   only while it takes at least :data:`REMEDY_MIN_GAIN_H` and is worth its cost at the unmet penalty of that work;
   then dispatched again, and a look that does not reduce the unmet work is undone. ``solve["baseline_remedies"]``
   lists what was used (moderators, paid hours, cost by kind), the unmet hours before and after, and
   ``gap_cost_estimate`` (:func:`_gap_cost`): the work still unmet at its cheapest skilled pool's rate, as if the
   limits that stop the remedies were lifted (a lower estimate, not a plan).

   Measured (``bench/contracts.py``, ``bench/results/contracts_equal*.json``, both plans replayed with priority
   routing): small demo 585 -> 484 unmet h for 49 overtime shifts (+20,724 USD, +3.2 % paid cost), replayed
   on time 99.2 % -> 100 % (the optimizer: 99.998 %): equal service, the optimizer 3.7 % cheaper on paid cost,
   6.9 % on the decidable part. Default demo: 5,672 -> 3,714 unmet h for 261 overtime shifts and 111 vendor
   moderators (+196,278 USD, +11.1 %), replayed on time 94.1 % -> 99.5 % and cell-weeks meeting their target
   70 % -> 100 % (the optimizer: 99.8 %, 100 %): not equal service, the rest is stopped by vendors at their max
   weekly hours or language shares and in-house pools at full roster (``docs/contracts.md``, "Equal service").

**Cyclic week.** The dispatch counts on the most work the week's end can carry to Monday; where spare capacity did
the week's newest work, less is carried and Monday's hours did work that was not there (the checker: done before
arrival; seen on a tiny case and once the remedies added capacity on the small demo). :func:`_trim_to_wrap` gives
such hours back (idle, still paid): the week's own flow (the least fixed point the coverage table and checker use)
is unchanged by it.

The result goes through the same :func:`~capplan.optimize.plan.assemble` and independent checker as the
optimizer's plan; ``total_cost`` includes take-or-pay for vendor minimums not reached.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capplan.optimize.data import PlanData, prepare
from capplan.staffing.backlog import carried_over, deferred_flow, not_due_bound
from capplan.optimize.plan import assemble
from capplan.optimize.result import PlanResult, SolveStatus
from capplan.schema import INHOUSE, LANGUAGE, VENDOR

_TOL = 1e-9
REPAIR_ROUNDS = 4  # re-plan the unmet work (a planner's further looks; 2 -> 4 took the default demo from 6,783 to 5,759 unmet h)
SHARE_MARGIN = 0.03  # a planner stays this far (relative) under a vendor's share caps when assigning
GATE_MARGIN = 0.01  # the other providers of a share-capped language take this much (relative) above their least share
GATE_SLICES = 4  # gates are reserved together in this many steps (fair shares of scarce fixed capacity)
WINDOW_ROUNDS = (REPAIR_ROUNDS,)  # looks (0 = first) in which deferred work is planned within its turnaround window (measured: see docstring)
REMEDY_ROUNDS = 3  # looks at the work still unmet after the repair rounds (overtime, temps, further capacity)
REMEDY_MIN_GAIN_H = 1.0  # a remedy must be expected to take at least this many productive hours of unmet work
SCHEDULE_EFFICIENCY = 0.7  # share of a pool's max productive capacity a planner counts on filling with whole shifts (best of 0.6-1.0 on the small demo)


@dataclass
class _Pools:
    """Per-pool constants of the method (index = pool index of PlanData)."""

    prof: np.ndarray  # pools.csv handle-time multiplier: ranks pools (eff_cost); the work itself uses PlanData.multiplier per cell
    eff_cost: np.ndarray  # [currency per standard productive hour]
    productive_per_paid: np.ndarray  # productive hours per paid hour on the pool's patterns
    egr_share: np.ndarray  # usable share of capacity on egregious work (share cap and daily cap)
    patterns: dict  # pool -> [pattern index]
    caps: np.ndarray  # [K, T] productive hours per moderator of each pattern
    vendor: list  # pool -> vendor name
    groups: dict = field(default_factory=dict)  # roster group -> [contract pattern index] (scheduled first, never bought)
    buyable: dict = field(default_factory=dict)  # pool -> [pattern index] the method may add moderators on (temps in a rostered pool)


def _pools(d: PlanData) -> _Pools:
    K, T = len(d.patterns), d.T
    caps = np.zeros((K, T))
    patterns: dict[int, list[int]] = {}
    for k, pat in enumerate(d.patterns):
        for t, v in pat.capacity.items():
            caps[k, t] += v
        patterns.setdefault(pat.pool, []).append(k)
    policy = d.config.policy
    n = len(d.pools)
    prof = d.pools["proficiency"].to_numpy(float)
    ppp = np.ones(n)
    share = np.full(n, float(policy.exposure_max_share))
    for p, ks in patterns.items():
        paid = sum(d.patterns[k].paid_hours_horizon for k in ks)
        ppp[p] = caps[ks].sum() / paid if paid > 0 else 1.0
        per_shift = max(d.patterns[k].paid_hours for k in ks) * (1.0 - float(d.pools.at[p, "shrinkage"]))
        if per_shift > 0:
            share[p] = min(share[p], float(policy.exposure_max_hours_per_day) / per_shift)
    eff = d.pools["rate"].to_numpy(float) * prof / np.maximum(ppp, 1e-9)
    groups: dict[int, list[int]] = {}
    for k, pat in enumerate(d.patterns):
        if pat.kind == "contract":
            groups.setdefault(pat.group, []).append(k)
    buyable = {p: [k for k in ks if d.patterns[k].group < 0] for p, ks in patterns.items()}  # rostered pools: temps only
    return _Pools(prof, eff, ppp, np.clip(share, 0.0, 1.0), patterns, caps, list(d.pools[VENDOR]), groups,
                  {p: ks for p, ks in buyable.items() if ks})


# --- staffing: greedy shift cover per pool --------------------------------------------------------
def _cover(d: PlanData, pp: _Pools, p: int, need: np.ndarray, staff: np.ndarray, vendor_paid: dict, *,
           until_heads: int | None = None, until_paid: float | None = None, price: float = np.inf, only: list | None = None,
           until_covered: bool = False) -> None:
    """Add moderators to pool p, one at a time on the pattern covering most of ``need - capacity`` per paid cost.

    Stops when nothing is left to cover (or, for committed capacity, at ``until_heads`` moderators or
    ``until_paid`` weekly paid hours of the vendor), at max headcount, at the vendor's max weekly hours,
    or when the best shift would cover less work than it costs at ``price`` [currency per productive hour
    left uncovered]: no whole shift is bought for a sliver. ``until_covered``: committed capacity that also
    stops when ``need`` is covered (the rest is shaped by a later call).
    """
    ks = only if only is not None else pp.buyable.get(p, [])
    if not ks:
        return
    v = pp.vendor[p]
    rate = float(d.pools.at[p, "rate"])
    vmax = dict(zip(d.vendors[VENDOR], d.vendors["max_weekly_hours"].astype(float))).get(v, np.inf)
    weekly = np.array([d.patterns[k].paid_hours_horizon / d.weeks for k in ks])
    cost = np.maximum(np.array([d.patterns[k].charged_hours for k in ks]) * rate, 1e-9)
    capmat = pp.caps[ks]
    cap = staff[ks] @ capmat
    heads = int(staff[ks].sum())
    hi = int(d.pools.at[p, "max_headcount"])
    while heads < hi:
        if until_heads is not None and heads >= until_heads:
            return
        if until_paid is not None and vendor_paid.get(v, 0.0) >= until_paid - _TOL:
            return
        deficit = np.maximum(need - cap, 0.0)
        gain = np.minimum(deficit[None, :], capmat).sum(axis=1)
        ok = vendor_paid.get(v, 0.0) + weekly <= vmax + 1e-6
        committed = until_heads is not None or until_paid is not None
        if not ok.any() or ((not committed or until_covered) and gain.max(initial=0.0) <= 1e-6):
            return
        score = np.where(ok, gain / cost + (capmat.sum(axis=1) / cost) * 1e-9, -np.inf)  # ties: more capacity per cost
        j = int(np.argmax(score))
        if not committed and gain[j] * price < cost[j]:
            return
        staff[ks[j]] += 1
        heads += 1
        cap = cap + capmat[j]
        vendor_paid[v] = vendor_paid.get(v, 0.0) + weekly[j]


def _committed(d: PlanData, pp: _Pools, curve: np.ndarray, staff: np.ndarray, vendor_paid: dict) -> None:
    """Min headcounts and vendor minimum weekly hours, shaped to the work each pool could do."""
    potential = np.zeros((len(d.pools), d.T))
    for p, c in d.skills:
        potential[p] += curve[c] * d.multiplier(p, c)
    rostered = set(d.groups["pool_index"].astype(int)) if len(d.groups) else set()
    _staff_rosters(d, pp, curve, potential, staff, vendor_paid)
    for p in range(len(d.pools)):
        if p not in rostered:
            _cover(d, pp, p, potential[p], staff, vendor_paid, until_heads=int(d.pools.at[p, "min_headcount"]))
    for v, lo in sorted(zip(d.vendors[VENDOR], d.vendors["min_weekly_hours"].astype(float))):
        for p in sorted((p for p in range(len(d.pools)) if pp.vendor[p] == v), key=lambda p: (pp.eff_cost[p], p)):
            _cover(d, pp, p, potential[p], staff, vendor_paid, until_paid=lo)


def _gates(d: PlanData, pp: _Pools, curve: np.ndarray) -> dict:
    """(capped vendor, language) -> standard hours over the window the other providers must work so that the vendor
    can take its share: ``(1 - s) (1 + GATE_MARGIN) x`` the language's hours (vendor language shares, critical languages).

    Only gates whose other providers are all fixed capacity (rostered pools that buy no temps): where another
    provider can still be bought, the assignment buys it when the vendor's share runs out.
    """
    langs = d.cells[LANGUAGE].to_numpy()
    providers: dict[str, set] = {}
    for p, c in d.skills:
        if int(d.pools.at[p, "max_headcount"]) > 0:
            providers.setdefault(langs[c], set()).add(p)
    out = {}
    for (v, lang), cap in sorted(_share_caps(d).items(), key=str):
        others = [p for p in providers.get(lang, set()) if pp.vendor[p] != v] if lang is not None else []
        if others and all(p not in pp.buyable for p in others):
            out[(v, lang)] = (1.0 - cap) * (1.0 + GATE_MARGIN) * float(curve[langs == lang].sum())
    return out


def _gate_curve(lang_curve: np.ndarray, hours: float, onsite: np.ndarray) -> np.ndarray:
    """``hours`` of a language's work laid on the intervals a pool is on site, in proportion to the work there
    (at most all of it) [standard h per interval]: a weekly share is met whenever the pool works, not hour by hour."""
    there = np.where(onsite, lang_curve, 0.0)
    return there * min(1.0, hours / there.sum()) if there.sum() > 1e-12 else there


def _staff_rosters(d: PlanData, pp: _Pools, curve: np.ndarray, potential: np.ndarray, staff: np.ndarray, vendor_paid: dict) -> None:
    """Rostered in-house employees at their contracted hours: shifts first shaped to the share-gated work, then to all work.

    Gated work (:func:`_gates`) is what a rostered pool must do so that a capped vendor can take the rest of a
    language; it is staffed first, pool by pool (what one pool covers is off the next pool's gate), laid on the
    hours the pool is on site (:func:`_gate_curve`), each group up to its headcount only while the gate is
    uncovered; then every group's remaining employees are shaped to all the work the pool could do.
    """
    langs = d.cells[LANGUAGE].to_numpy()
    speaks = _languages_of(d)
    gate_left = _gates(d, pp, curve)
    by_pool: dict[int, list[int]] = {}
    for g, ks in sorted(pp.groups.items()):
        by_pool.setdefault(d.patterns[ks[0]].pool, []).append(g)
    load = _gate_load(d, pp, gate_left)
    for p, gs in sorted(by_pool.items(), key=lambda kv: (load.get(kv[0], 0), kv[0])):
        keys = [k for k in gate_left if k[0] != pp.vendor[p] and k[1] in speaks.get(p, set())]
        onsite = pp.caps[pp.patterns[p]].sum(axis=0) > 0
        per_lang: dict[str, np.ndarray] = {}
        for v, lang in keys:
            shaped = _gate_curve(curve[langs == lang].sum(axis=0), gate_left[(v, lang)], onsite)
            per_lang[lang] = np.maximum(per_lang.get(lang, 0.0), shaped)
        total = sum(per_lang.values(), np.zeros(d.T))  # [standard h]
        if total.sum() <= 1e-9:
            continue
        for g in gs:
            ks = pp.groups[g]
            others = [k for k in pp.patterns[p] if k not in ks]
            _cover(d, pp, p, np.maximum(total * pp.prof[p] - staff[others] @ pp.caps[others], 0.0), staff, vendor_paid,
                   until_heads=int(d.groups.at[g, "headcount"]), only=ks, until_covered=True)
        covered = np.minimum(staff[pp.patterns[p]] @ pp.caps[pp.patterns[p]] / pp.prof[p], total)
        for v, lang in keys:
            share = np.divide(per_lang[lang], total, out=np.zeros(d.T), where=total > 1e-12)
            gate_left[(v, lang)] = max(gate_left[(v, lang)] - float((covered * share).sum()), 0.0)
    for g, ks in sorted(pp.groups.items()):
        p = d.patterns[ks[0]].pool
        _cover(d, pp, p, potential[p], staff, vendor_paid, until_heads=int(d.groups.at[g, "headcount"]), only=ks)


# --- assignment: pooling and blending --------------------------------------------------------------
@dataclass
class _Assign:
    """Running totals of the assignment (productive hours per pool and interval)."""

    work: np.ndarray  # [P, T] all assigned work
    egr: np.ndarray  # [P, T] assigned egregious work
    by_cell: dict  # (pool, cell) -> [T] standard hours assigned
    lang_room: dict  # (vendor, language) -> standard hours it may still take (capped pairs only)


def _share_caps(d: PlanData) -> dict:
    """(vendor, language) -> max share of that language's hours; (vendor, None) -> max share of all hours."""
    caps = dict(d.language_caps)
    share = float(d.config.policy.vendor_max_share)
    vendors = {d.pools.at[p, VENDOR] for p, _ in d.skills if int(d.pools.at[p, "max_headcount"]) > 0}
    if share < 1.0 and len(vendors) >= 2:
        caps.update({(v, None): share for v in sorted(vendors) if v != INHOUSE})
    return caps


def _language_rooms(d: PlanData, curve: np.ndarray) -> dict:
    """Standard hours each capped (vendor, language) or (vendor, None = all work) pair may take."""
    totals = pd.Series(curve.sum(axis=1), index=d.cells[LANGUAGE].to_numpy()).groupby(level=0).sum()
    return {(v, lang): cap * (1 - SHARE_MARGIN) * (float(totals.get(lang, 0.0)) if lang is not None else float(curve.sum()))
            for (v, lang), cap in _share_caps(d).items()}


def _rooms_after(d: PlanData, curve: np.ndarray, alloc: dict) -> dict:
    """The share rooms of the next look, from what the vendors' staff actually did (not from what was assigned)
    [standard h]: assigned work a vendor's staff could not do frees its share for the work still open."""
    rooms = _language_rooms(d, curve)
    for (p, c), hours in alloc.items():
        done = sum(hours.values()) / d.multiplier(p, c)
        for key in ((d.pools.at[p, VENDOR], d.cells.at[c, LANGUAGE]), (d.pools.at[p, VENDOR], None)):
            if key in rooms:
                rooms[key] -= done
    return rooms


def _take(d: PlanData, pp: _Pools, a: _Assign, p: int, c: int, want: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Assign up to ``min(want, room)`` standard hours of cell c to pool p (language share respected)."""
    take = np.minimum(want, np.maximum(room, 0.0))
    keys = [k for k in ((pp.vendor[p], d.cells.at[c, LANGUAGE]), (pp.vendor[p], None)) if k in a.lang_room]
    for key in keys:
        total = take.sum()
        if total > a.lang_room[key] and total > 0:
            take = take * (max(a.lang_room[key], 0.0) / total)
    for key in keys:
        a.lang_room[key] -= take.sum()
    if take.sum() <= 0:
        return take
    a.by_cell[(p, c)] = a.by_cell.get((p, c), np.zeros(d.T)) + take
    a.work[p] += take * d.multiplier(p, c)
    if bool(d.cells.at[c, "egregious"]):
        a.egr[p] += take * d.multiplier(p, c)
    return take


def _weekly_room(d: PlanData, pp: _Pools, staff: np.ndarray, vendor_paid: dict, a: _Assign) -> tuple[np.ndarray, dict]:
    """Productive hours each pool can still take over the window, and paid hours each vendor can still buy.

    Pool: ``max_headcount x mean productive hours per moderator of its patterns x SCHEDULE_EFFICIENCY``
    less the work already assigned; vendor: ``max_weekly_hours x weeks`` less what is staffed.
    """
    room = np.zeros(len(d.pools))
    for p, ks in pp.buyable.items():  # a rostered pool buys nothing (temps aside): its paid capacity is filled first
        per_mod = float(pp.caps[ks].sum(axis=1).mean())
        room[p] = int(d.pools.at[p, "max_headcount"]) * per_mod * SCHEDULE_EFFICIENCY - float(_pool_need(pp, a)[p].sum())
    vmax = dict(zip(d.vendors[VENDOR], d.vendors["max_weekly_hours"].astype(float)))
    vroom = {v: hi * d.weeks - vendor_paid.get(v, 0.0) * d.weeks for v, hi in vmax.items()}
    return np.maximum(room, 0.0), vroom


def _window(d: PlanData, c: int, windows: bool) -> int:
    """Intervals after its arrival a cell's work may still be planned in: ``due_shift`` for deferred cells (work
    arriving in t is due by the end of t + due_shift) when ``windows``, else 0 (realtime: the interval it arrives)."""
    return int(d.cells.at[c, "due_shift"]) if windows and d.cells.at[c, "kind"] != "realtime" else 0


def _fill_by_due(work: np.ndarray, room: np.ndarray, shift: int, cyclic: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Earliest-due-first fill of ``room`` by ``work`` that may be done in ``t .. t + shift`` after arriving in t.

    Returns (placed per interval it is done in, served per interval it arrived in) [standard h]. Interval by
    interval the oldest open work (the earliest due: one due shift per cell) takes the room first; work whose
    window has passed stays unserved; in a ``cyclic`` week the work whose window runs past the week's end then
    takes the room left at its start (the week's newest work is carried to Monday, :func:`opening_assumed`).
    With ``shift = 0`` this is ``min(work, room)``. References: J. R. Jackson,
    Scheduling a production line to minimize maximum tardiness, UCLA report 43, 1955 (earliest due date first).
    """
    if shift <= 0:
        placed = np.minimum(work, np.maximum(room, 0.0))
        return placed, placed
    T = len(work)
    placed, served = np.zeros(T), np.zeros(T)
    left = np.array(work, dtype=float)
    head = 0
    for u in range(T):
        free = max(float(room[u]), 0.0)
        head = max(head, u - shift)
        while head <= u and left[head] <= _TOL:
            head += 1
        i = head
        while free > _TOL and i <= u:
            x = min(left[i], free)
            left[i] -= x
            served[i] += x
            free -= x
            i += 1
        placed[u] = max(float(room[u]), 0.0) - free
    if cyclic:
        for i in range(max(T - shift, 0), T):
            for u in range(0, i + shift - T + 1):
                x = min(left[i], max(float(room[u]), 0.0) - placed[u])
                if x > _TOL:
                    left[i] -= x
                    served[i] += x
                    placed[u] += x
    return placed, served


def _onsite_shift(work: np.ndarray, onsite: np.ndarray, shift: int, cyclic: bool = False) -> np.ndarray:
    """Deferred work planned on a pool's hours: what arrives in t while the pool is off site is spread evenly over
    the intervals ``t .. t + shift`` it is on site (a planner plans a deferred queue on its volume within the
    turnaround, e.g. night arrivals into the next day shifts; in a ``cyclic`` week windows wrap to its start); work
    with no on-site interval in its window stays."""
    if shift <= 0 or onsite.all() or not onsite.any():
        return work
    out = np.where(onsite, work, 0.0)
    T = len(work)
    for t in np.flatnonzero(~onsite & (work > 0)):
        window = np.arange(t, t + shift + 1) % T if cyclic else np.arange(t, min(t + shift + 1, T))
        hours = np.unique(window[onsite[window]])
        if len(hours):
            out[hours] += work[t] / len(hours)
        else:
            out[t] += work[t]
    return out


def _fill_paid(d: PlanData, pp: _Pools, a: _Assign, left: np.ndarray, cells: list[int], eligible: dict, paid_cap: np.ndarray,
               ranked: bool = False, windows: bool = False) -> None:
    """Capacity already paid for (committed staff, or the free complement of assigned graphic work) takes work first,
    cheapest effective rate first (``ranked``: in the order of ``eligible``); with ``windows``, deferred work
    earliest due first anywhere in its turnaround window (:func:`_fill_by_due`)."""
    for c in cells:
        egregious = bool(d.cells.at[c, "egregious"])
        shift = _window(d, c, windows)
        for p in (eligible.get(c, []) if ranked else sorted(eligible.get(c, []), key=lambda p: (pp.eff_cost[p], p))):
            paid = np.maximum(paid_cap[p], a.egr[p] / max(pp.egr_share[p], 1e-9))
            room = (paid - a.work[p]) / d.multiplier(p, c)
            if egregious:
                room = np.minimum(room, (pp.egr_share[p] * paid_cap[p] - a.egr[p]) / d.multiplier(p, c))
            placed, served = _fill_by_due(left[c], room, shift, d.week_end == "cyclic")
            if placed.sum() <= _TOL:
                continue
            took = _take(d, pp, a, p, c, placed, placed)
            left[c] -= served * (took.sum() / placed.sum())


def _buy(d: PlanData, pp: _Pools, a: _Assign, left: np.ndarray, cells: list[int], eligible: dict,
         room: np.ndarray, vroom: dict, windows: bool = False) -> None:
    """Vogel's approximation: the cell that would lose most by missing its cheapest pool is served first.

    Regret of a cell = effective cost of its cheapest pool with room of another provider minus its cheapest
    (infinite when one provider is left: its pools share the vendor's weekly hours). The chosen cell goes to its cheapest pool up to the pool's and its vendor's room [productive
    h]; egregious work uses room at 1 / share (its capacity must be that much larger); with ``windows``, deferred
    work arriving while the pool is off site is planned on its on-site hours within the turnaround
    (:func:`_onsite_shift`). References: N. V.
    Reinfeld and W. R. Vogel, Mathematical Programming, Prentice-Hall, 1958 (Vogel's approximation method).
    """
    todo = [c for c in cells if left[c].sum() > 1e-9]
    while todo:
        best, best_regret, best_pool = None, -1.0, None
        for c in todo:
            pools = sorted((p for p in eligible.get(c, []) if room[p] > 1e-9 and vroom.get(pp.vendor[p], np.inf) > 1e-9),
                           key=lambda p: (pp.eff_cost[p], p))
            if not pools:
                continue
            rival = [q for q in pools if pp.vendor[q] != pp.vendor[pools[0]]]  # a vendor's weekly hours are shared by its pools
            regret = pp.eff_cost[rival[0]] - pp.eff_cost[pools[0]] if rival else np.inf
            if regret > best_regret:
                best, best_regret, best_pool = c, regret, pools[0]
        if best is None:
            return
        c, p = best, best_pool
        per_std = d.multiplier(p, c) / (pp.egr_share[p] if bool(d.cells.at[c, "egregious"]) else 1.0)  # room per standard hour
        limit = min(room[p], vroom.get(pp.vendor[p], np.inf) * pp.productive_per_paid[p]) / per_std
        want = left[c] * min(1.0, limit / max(left[c].sum(), 1e-12))
        ks = pp.buyable.get(p, pp.patterns.get(p, []))
        placed = _onsite_shift(want, pp.caps[ks].sum(axis=0) > 0, _window(d, c, windows), d.week_end == "cyclic")
        took = _take(d, pp, a, p, c, placed, np.full(d.T, np.inf))
        left[c] -= want * (took.sum() / max(placed.sum(), 1e-12))
        used = took.sum() * per_std
        room[p] -= used if limit > took.sum() + 1e-9 else room[p]
        if pp.vendor[p] in vroom:
            vroom[pp.vendor[p]] -= used / pp.productive_per_paid[p]
        if took.sum() <= 1e-12:
            room[p] = 0.0
        todo = [c for c in todo if left[c].sum() > 1e-9]


def _gate_load(d: PlanData, pp: _Pools, gates: dict) -> dict[int, int]:
    """Pool -> how many gates (:func:`_gates`) it could serve: the pool with fewer alternatives serves a gate first."""
    return {p: sum(1 for v, lang in gates if v != pp.vendor[p] and lang in ls) for p, ls in _languages_of(d).items()}


def _languages_of(d: PlanData) -> dict[int, set]:
    """Pool -> the languages of the cells it is skilled on."""
    langs = d.cells[LANGUAGE].to_numpy()
    out: dict[int, set] = {}
    for p, c in d.skills:
        out.setdefault(p, set()).add(langs[c])
    return out


def _reserve_share_gates(d: PlanData, pp: _Pools, a: _Assign, left: np.ndarray, order: list[int], eligible: dict,
                         paid_cap: np.ndarray) -> None:
    """Paid-for capacity of the other providers first takes the share of a language a capped vendor may not have.

    A vendor capped at share ``s`` of language l can work only as much of l as the other providers work
    ``s / (1 - s)`` times over; when those are rostered in-house pools (paid, never bought), capacity they
    spend elsewhere strands the vendor's share. So, before any other assignment, the other providers' paid
    capacity takes the gate of :func:`_gates` [standard h] (less what they hold already), pro rata over the
    language's cells and intervals, most constrained cells first (``order``), from the pools that serve
    the fewest gates first; the gates are filled together in :data:`GATE_SLICES` steps, so that when the
    fixed capacity cannot serve them all every language keeps about the same part of its gate.
    """
    langs = d.cells[LANGUAGE].to_numpy()
    gates = _gates(d, pp, d.required_productive * d.h)
    load = _gate_load(d, pp, gates)
    for step in range(1, GATE_SLICES + 1):
        for (v, lang), need in sorted(gates.items()):
            cells = [c for c in order if langs[c] == lang]
            others = {c: sorted((p for p in eligible.get(c, []) if pp.vendor[p] != v and p in pp.patterns),
                                key=lambda p: (load.get(p, 0), pp.eff_cost[p], p)) for c in cells}
            pools = sorted({p for c in cells for p in others[c]})
            target = need * step / GATE_SLICES
            for _ in range(2):  # capacity that ran out in some intervals: look again at what is left
                held = sum(float(x.sum()) for (p, c), x in a.by_cell.items() if langs[c] == lang and pp.vendor[p] != v)
                spare = (np.maximum(paid_cap[pools], a.egr[pools] / np.maximum(pp.egr_share[pools, None], 1e-9))
                         - a.work[pools]).max(axis=0, initial=0.0) > 1e-6
                open_ = float(left[cells][:, spare].sum())
                if target - held <= 1e-6 or open_ <= 1e-9:
                    break
                part = np.zeros_like(left)
                part[cells] = np.where(spare, left[cells], 0.0) * min(1.0, (target - held) / open_)
                before = part.copy()
                _fill_paid(d, pp, a, part, cells, others, paid_cap, ranked=True)
                left -= before - part


def _assign(d: PlanData, pp: _Pools, curve: np.ndarray, paid_cap: np.ndarray, a: _Assign, room: np.ndarray, vroom: dict,
            windows: bool = False) -> np.ndarray:
    """Assign the curve to pools: the share a capped vendor may not take to the other providers' paid capacity
    (:func:`_reserve_share_gates`), then paid-for capacity, graphic work bought before the rest (so other work
    can blend into its free complement), each by :func:`_buy`. Returns what no pool took [standard h]."""
    eligible: dict[int, list[int]] = {}
    for p, c in d.skills:
        eligible.setdefault(c, []).append(p)
    order = sorted(range(len(d.cells)), key=lambda c: (int(d.cells.at[c, "severity"]), len(eligible.get(c, [])), c))
    graphic = [c for c in order if bool(d.cells.at[c, "egregious"])]
    other = [c for c in order if not bool(d.cells.at[c, "egregious"])]
    left = curve.copy()
    _reserve_share_gates(d, pp, a, left, order, eligible, paid_cap)
    _fill_paid(d, pp, a, left, graphic, eligible, paid_cap, windows=windows)
    _buy(d, pp, a, left, graphic, eligible, room, vroom, windows)
    _fill_paid(d, pp, a, left, other, eligible, paid_cap, windows=windows)
    _buy(d, pp, a, left, other, eligible, room, vroom, windows)
    return np.maximum(left, 0.0)


def _pool_price(d: PlanData, pp: _Pools, a: _Assign) -> np.ndarray:
    """Price of leaving a pool's assigned work undone: the work-weighted unmet penalty [currency per productive h]."""
    value = np.zeros(len(d.pools))
    hours = np.zeros(len(d.pools))
    for (p, c), v in a.by_cell.items():
        value[p] += float(v.sum()) * float(d.cells.at[c, "penalty"])
        hours[p] += float(v.sum()) * d.multiplier(p, c)
    return np.where(hours > 0, value / np.maximum(hours, 1e-12), np.inf)


def _pool_need(pp: _Pools, a: _Assign) -> np.ndarray:
    """Pooled productive requirement per pool: all its work, and enough capacity for its graphic share."""
    return np.maximum(a.work, a.egr / np.maximum(pp.egr_share[:, None], 1e-9))


# --- dispatch: what the staffed capacity does -----------------------------------------------------
def _dispatch(d: PlanData, pp: _Pools, staff: np.ndarray, by_cell: dict) -> tuple[dict, np.ndarray]:
    """Allocation (pool, cell) -> {t: productive hours} from the staffing, and the realtime need left [C, T]."""
    P = len(d.pools)
    avail = np.zeros((P, d.T))
    for p, ks in pp.patterns.items():
        avail[p] = staff[ks] @ pp.caps[ks]
    egr_room = pp.egr_share[:, None] * avail
    util = float(d.config.staffing.deferred_max_utilisation)
    eligible: dict[int, list[int]] = {}
    for p, c in d.skills:
        eligible.setdefault(c, []).append(p)
    assigned = {c: sorted(eligible.get(c, []), key=lambda p: (-float(by_cell.get((p, c), np.zeros(1)).sum()), pp.eff_cost[p], p))
                for c in eligible}
    realtime = [c for c in sorted(eligible, key=lambda c: (int(d.cells.at[c, "severity"]), c)) if d.cells.at[c, "kind"] == "realtime"]
    deferred = [c for c in sorted(eligible, key=lambda c: (int(d.cells.at[c, "due_shift"]), int(d.cells.at[c, "severity"]), c))
                if d.cells.at[c, "kind"] != "realtime"]
    alloc: dict = {}
    planned_total = sum(float(v.sum()) * d.multiplier(p, c) for (p, c), v in by_cell.items())
    vendor_left = {v: cap * (1 - SHARE_MARGIN) * planned_total for (v, lang), cap in _share_caps(d).items() if lang is None}
    left = d.need_hours.copy()
    opening = np.array([opening_assumed(d, c) for c in range(len(d.cells))]).reshape(len(d.cells), d.T + 1)
    arrived = np.cumsum(d.workload, axis=1) + opening.sum(axis=1, keepdims=True)
    due_open = np.cumsum(opening[:, :d.T], axis=1)
    done = np.zeros(len(d.cells))
    late = np.zeros(len(d.cells))
    for t in range(d.T):
        planned = {key: float(v[t]) * d.multiplier(*key) for key, v in by_cell.items() if v[t] > 0}  # productive h
        for plan in (planned, None):  # the plan first, then spare capacity anywhere
            for c in realtime:
                left[c, t] = _serve(d, pp, alloc, avail, egr_room, c, t, left[c, t], assigned[c], 1.0, plan, vendor_left)
            for c in deferred:
                open_work = max(arrived[c, t] - done[c] - late[c], 0.0)
                done[c] += open_work - _serve(d, pp, alloc, avail, egr_room, c, t, open_work, assigned[c], util, plan, vendor_left)
        for c in deferred:
            shift = int(d.cells.at[c, "due_shift"])
            due = (arrived[c, t - shift] - opening[c].sum() if t - shift >= 0 else 0.0) + due_open[c, t]
            late[c] = max(late[c], due - done[c])
    return alloc, left


def _serve(d: PlanData, pp: _Pools, alloc: dict, avail: np.ndarray, egr_room: np.ndarray, c: int, t: int,
           work: float, pools: list[int], util: float, plan: dict | None, vendor_left: dict) -> float:
    """Serve ``work`` standard hours of cell c in interval t from ``pools`` in order; returns what is left.

    With ``plan`` ((pool, cell) -> productive hours), each pool gives at most its planned hours; without,
    a vendor under a concentration cap gives at most what ``vendor_left`` still allows [productive h].
    """
    egregious = bool(d.cells.at[c, "egregious"])
    for p in pools:
        if work <= _TOL:
            break
        room = avail[p, t] if not egregious else min(avail[p, t], egr_room[p, t])
        v = pp.vendor[p]
        if plan is not None:
            room = min(room, plan.get((p, c), 0.0))
        if v in vendor_left:
            room = min(room, vendor_left[v])
        hours = min(work * d.multiplier(p, c) / util, room)  # productive hours
        if hours <= _TOL:
            continue
        if plan is not None:
            plan[(p, c)] -= hours
        if v in vendor_left:
            vendor_left[v] -= hours
        alloc.setdefault((p, c), {})
        alloc[(p, c)][t] = alloc[(p, c)].get(t, 0.0) + hours
        avail[p, t] -= hours
        if egregious:
            egr_room[p, t] -= hours
        work -= hours * util / d.multiplier(p, c)
    return max(work, 0.0)


def _respect_language_shares(d: PlanData, alloc: dict) -> dict:
    """A vendor above its share of a language's (or of all) hours gives the excess back (scaled down there)."""
    caps = _share_caps(d)
    for _ in range(20):
        hours: dict[tuple, float] = {}
        totals: dict = {}
        for (p, c), vals in alloc.items():
            v, lang = d.pools.at[p, VENDOR], d.cells.at[c, LANGUAGE]
            h = sum(vals.values())
            for key in ((v, lang), (v, None)):
                hours[key] = hours.get(key, 0.0) + h
            for group in (lang, None):
                totals[group] = totals.get(group, 0.0) + h
        over = {k: cap for k, cap in caps.items() if hours.get(k, 0.0) > cap * totals.get(k[1], 0.0) * (1 + 1e-9) + 1e-9}
        if not over:
            return alloc
        (v, lang), cap = sorted(over.items(), key=str)[0]
        target = cap * (1 - 1e-7)
        excess = (hours[(v, lang)] - target * totals[lang]) / (1 - target)
        factor = max(1.0 - excess / hours[(v, lang)], 0.0)
        for (p, c), vals in alloc.items():
            if d.pools.at[p, VENDOR] == v and (lang is None or d.cells.at[c, LANGUAGE] == lang):
                alloc[(p, c)] = {t: x * factor for t, x in vals.items()}
    return alloc


def opening_assumed(d: PlanData, c: int) -> np.ndarray:
    """The opening backlog a planner counts on (length T + 1, by due interval): the given one in a terminal week;
    in a cyclic week all the work of the week's end not yet due (the newest, carried to Monday)."""
    if d.cells.at[c, "kind"] == "realtime":
        return np.zeros(d.T + 1)
    if d.week_end != "cyclic":
        return np.zeros(d.T + 1) if d.opening_due is None else d.opening_due[c]
    shift = int(d.cells.at[c, "due_shift"])
    end = not_due_bound(d.workload[c], shift, cyclic=True)
    return carried_over(d.workload[c], shift, float(end[-1]) if d.T else 0.0)


def _unmet_curve(d: PlanData, alloc: dict, left_rt: np.ndarray) -> np.ndarray:
    """Standard hours per cell and interval the dispatch left undone: realtime need left, deferred work late."""
    done = _done_std(d, alloc)
    out = left_rt.copy()
    for c in np.flatnonzero((d.cells["kind"] != "realtime").to_numpy()):
        flow = deferred_flow(d.workload[c], int(d.cells.at[c, "due_shift"]), done[c], cyclic=d.week_end == "cyclic",
                             opening_due=opening_assumed(d, c))
        late = np.maximum(np.diff(flow.late, prepend=0.0), 0.0)
        out[c] = _spread_back(late, int(d.cells.at[c, "due_shift"]))  # re-planned over the window it could have been done in
    return np.maximum(out, 0.0)


def _spread_back(late: np.ndarray, shift: int) -> np.ndarray:
    """Work that fell due in t spread evenly over ``t - shift .. t`` (the intervals it was open; clipped at the window's
    start): a planner's second look staffs any of those hours, not only the last one [standard h per interval]."""
    out = np.zeros_like(late)
    for t in np.flatnonzero(late > 0):
        lo = max(int(t) - shift, 0)
        out[lo:t + 1] += late[t] / (t + 1 - lo)
    return out


def baseline_plan(ws, requirements: pd.DataFrame, *, data: PlanData | None = None) -> PlanResult:
    """A competent planner's plan for the same window (see the module docstring), checked like any plan.

    Returns
    -------
    PlanResult with ``solve`` status ``heuristic``, solver ``baseline``, and the cost of the plan.
    """
    d = data if data is not None else prepare(ws, requirements)
    started = time.perf_counter()
    pp = _pools(d)
    curve = d.required_productive * d.h
    staff = np.zeros(len(d.patterns), dtype=int)
    vendor_paid: dict[str, float] = {}
    _committed(d, pp, curve, staff, vendor_paid)
    a = _Assign(np.zeros((len(d.pools), d.T)), np.zeros((len(d.pools), d.T)), {}, _language_rooms(d, curve))
    todo = curve
    for round_ in range(REPAIR_ROUNDS + 1):
        paid_cap = np.array([staff[pp.patterns[p]] @ pp.caps[pp.patterns[p]] if p in pp.patterns else np.zeros(d.T)
                             for p in range(len(d.pools))])
        room, vroom = _weekly_room(d, pp, staff, vendor_paid, a)
        if round_:  # a second look counts the moderators a pool can still take, not the first look's estimate
            room = np.maximum(room, _headroom(d, pp, staff))
            room[list(_full_pools(d, pp, staff, vendor_paid))] = 0.0
        _assign(d, pp, todo, paid_cap, a, room, vroom, windows=round_ in WINDOW_ROUNDS)
        need = _pool_need(pp, a)
        price = _pool_price(d, pp, a)
        for p in range(len(d.pools)):
            _cover(d, pp, p, need[p], staff, vendor_paid, price=price[p])
        alloc, todo = _run(d, pp, staff, a.by_cell)
        if todo.sum() <= 1e-6:
            break
        a.lang_room = _rooms_after(d, curve, alloc)
    remedies: dict = {}
    if todo.sum() > 1e-6:
        alloc, todo, remedies = _remedies(d, pp, staff, vendor_paid, a.by_cell, alloc, todo)
    result = assemble(d, staff, alloc, solve={"status": SolveStatus.HEURISTIC.value, "solver": "baseline", "method": "planner"})
    result.solve["baseline_remedies"] = remedies
    result.staff = staff.copy()
    result.solve["seconds"] = time.perf_counter() - started
    return result


def _run(d: PlanData, pp: _Pools, staff: np.ndarray, by_cell: dict) -> tuple[dict, np.ndarray]:
    """Dispatch the staffing (:func:`_dispatch`), give back vendor hours above a share and slivers; returns the
    allocation and the work left undone per cell and interval (:func:`_unmet_curve`) [standard h]."""
    alloc, left_rt = _dispatch(d, pp, staff, by_cell)
    alloc = _respect_language_shares(d, alloc)
    for _ in range(3):  # giving slivers back can lift another vendor's language share, and back
        kept = _drop_slivers(d, alloc)
        if len(kept) == len(alloc):
            break
        alloc = _respect_language_shares(d, kept)
    if d.week_end == "cyclic":
        alloc = _trim_to_wrap(d, alloc)
    return alloc, _unmet_curve(d, alloc, left_rt)


def _done_std(d: PlanData, alloc: dict) -> np.ndarray:
    """Standard hours of work the allocation does per cell and interval [C, T]."""
    util = float(d.config.staffing.deferred_max_utilisation)
    done = np.zeros((len(d.cells), d.T))
    for (p, c), vals in alloc.items():
        for t, x in vals.items():
            done[c, t] += x * util / d.multiplier(p, c)
    return done


def _trim_to_wrap(d: PlanData, alloc: dict) -> dict:
    """Cyclic week: deferred hours with no work waiting in the week's own flow are given back (idle, still paid).

    The dispatch counts on the most work the week's end can carry to Monday (:func:`opening_assumed`); where spare
    capacity then did the newest work at the week's end, less is carried and some Monday hours did work that is not
    there (the checker: done before arrival). The week's flow is the least fixed point of "opening -> end backlog"
    (:func:`~capplan.staffing.backlog.deferred_flow`, as the coverage table and the checker count it); hours above
    what it does are removed, which leaves that fixed point unchanged.
    """
    done = _done_std(d, alloc)
    scale = np.ones_like(done)
    for c in np.flatnonzero((d.cells["kind"] != "realtime").to_numpy()):
        flow = deferred_flow(d.workload[c], int(d.cells.at[c, "due_shift"]), done[c], cyclic=True)
        did = np.diff(flow.done, prepend=0.0)
        scale[c] = np.divide(did, done[c], out=np.ones(d.T), where=done[c] > _TOL).clip(0.0, 1.0)
    if (scale >= 1.0 - 1e-12).all():
        return alloc
    return {(p, c): {t: x * scale[c, t] for t, x in vals.items()} for (p, c), vals in alloc.items()}


# --- remedies: overtime, temps and further capacity for the work still unmet -----------------------
@dataclass
class _Option:
    """One remedy: one more moderator on pattern ``add`` (or, for overtime, one employee moved from contract
    pattern ``drop`` to the overtime pattern ``add`` of the same roster group, which works its days plus one)."""

    kind: str  # "overtime", "temp", "vendor" or "flex" (an unrostered in-house pool)
    pool: int
    add: int
    drop: int  # -1: nothing moved
    cap: np.ndarray  # [T] productive hours added
    cost: float  # cost added [currency]
    weekly: float  # paid hours added per week [h] (vendor max weekly hours)


def _options(d: PlanData, pp: _Pools, staff: np.ndarray, vendor_paid: dict) -> list[_Option]:
    """The remedies open now: overtime for a rostered employee (contract -> overtime pattern whose days contain the
    contract's: one extra shift, within ``overtime_max_hours_per_week`` and the rest rules by construction of the
    patterns), and one more moderator on a buyable pattern (temps of a rostered pool, vendors, unrostered in-house
    pools) below max headcount and the vendor's max weekly hours."""
    vmax = dict(zip(d.vendors[VENDOR], d.vendors["max_weekly_hours"].astype(float)))
    rate = d.pools["rate"].to_numpy(float)
    out: list[_Option] = []
    overtime: dict[int, list[int]] = {}
    for k, pat in enumerate(d.patterns):
        if pat.kind == "overtime":
            overtime.setdefault(pat.group, []).append(k)
    for g, ks in sorted(pp.groups.items()):
        for c in (c for c in ks if staff[c] > 0):
            days = set(d.patterns[c].occurrences)
            for o in overtime.get(g, []):
                if days <= set(d.patterns[o].occurrences):
                    po, pc = d.patterns[o], d.patterns[c]
                    out.append(_Option("overtime", po.pool, o, c, pp.caps[o] - pp.caps[c], (po.charged_hours - pc.charged_hours) * rate[po.pool],
                                       (po.paid_hours_horizon - pc.paid_hours_horizon) / d.weeks))
    for p, ks in sorted(pp.buyable.items()):
        if staff[pp.patterns[p]].sum() >= int(d.pools.at[p, "max_headcount"]):
            continue
        for k in ks:
            pat = d.patterns[k]
            weekly = pat.paid_hours_horizon / d.weeks
            if vendor_paid.get(pp.vendor[p], 0.0) + weekly > vmax.get(pp.vendor[p], np.inf) + 1e-6:
                continue
            kind = "temp" if pat.kind == "temp" else ("flex" if pp.vendor[p] == INHOUSE else "vendor")
            out.append(_Option(kind, p, k, -1, pp.caps[k], pat.charged_hours * rate[p], weekly))
    return out


def _reach(d: PlanData, pp: _Pools, alloc: dict) -> tuple[np.ndarray, np.ndarray]:
    """[P, C] productive hours a pool needs per standard hour of a cell's unmet work (0 where it cannot take it),
    non-egregious and egregious cells apart. A vendor already at its share of a language (within
    :data:`SHARE_MARGIN`) cannot take more of it."""
    caps = _share_caps(d)
    hours: dict = {}
    totals: dict = {}
    for (p, c), vals in alloc.items():
        h = sum(vals.values())
        for key in ((pp.vendor[p], d.cells.at[c, LANGUAGE]), (pp.vendor[p], None)):
            hours[key] = hours.get(key, 0.0) + h
        for lang in (d.cells.at[c, LANGUAGE], None):
            totals[lang] = totals.get(lang, 0.0) + h
    full = {k for k, cap in caps.items() if hours.get(k, 0.0) >= cap * (1 - SHARE_MARGIN) * totals.get(k[1], 0.0)}
    util = float(d.config.staffing.deferred_max_utilisation)
    non, egr = np.zeros((len(d.pools), len(d.cells))), np.zeros((len(d.pools), len(d.cells)))
    for p, c in d.skills:
        if (pp.vendor[p], d.cells.at[c, LANGUAGE]) in full or (pp.vendor[p], None) in full:
            continue
        per = d.multiplier(p, c) / (1.0 if d.cells.at[c, "kind"] == "realtime" else util)
        (egr if bool(d.cells.at[c, "egregious"]) else non)[p, c] = per
    return non, egr


def _buy_remedies(d: PlanData, pp: _Pools, staff: np.ndarray, vendor_paid: dict, unmet: np.ndarray, alloc: dict, used: dict) -> None:
    """Greedy: the remedy taking most unmet work per unit of cost, one at a time, while one takes at least
    :data:`REMEDY_MIN_GAIN_H` productive hours and is worth its cost at the unmet penalty of that work.

    A remedy's gain in interval t is ``min(cap_t, open work the pool could take)``, egregious work at most the
    pool's wellbeing share of the added capacity; the work it takes is struck off the pool's cells pro rata.
    """
    non, egr = _reach(d, pp, alloc)
    both = non + egr
    penalty = d.cells["penalty"].to_numpy(float)
    u = unmet.copy()
    options = _options(d, pp, staff, vendor_paid)
    while options:
        pot_non, pot_egr = non @ u, egr @ u  # [P, T] productive hours of open work each pool could take
        pot = pot_non + pot_egr
        value = ((both > 0) * penalty[None, :]) @ u.sum(axis=1)  # unmet penalty of the open work each pool could take [currency]
        price = np.divide(value, pot.sum(axis=1), out=np.zeros(len(d.pools)), where=pot.sum(axis=1) > 1e-9)  # [currency per productive h]
        caps = np.array([o.cap for o in options])
        pools = np.array([o.pool for o in options])
        take = np.minimum(caps, pot_non[pools] + np.minimum(pot_egr[pools], pp.egr_share[pools, None] * caps))
        gain = take.sum(axis=1)
        cost = np.maximum(np.array([o.cost for o in options]), 1e-9)
        ok = (gain >= REMEDY_MIN_GAIN_H) & (gain * price[pools] >= cost)
        if not ok.any():
            return
        j = int(np.argmax(np.where(ok, gain / cost, -np.inf)))
        o = options[j]
        staff[o.add] += 1
        if o.drop >= 0:
            staff[o.drop] -= 1
        vendor_paid[pp.vendor[o.pool]] = vendor_paid.get(pp.vendor[o.pool], 0.0) + o.weekly
        row = used.setdefault(o.kind, {"moderators": 0, "paid_hours": 0.0, "cost": 0.0})
        row["moderators"] += 1
        row["paid_hours"] += o.weekly * d.weeks
        row["cost"] += o.cost
        share = np.divide(take[j], pot[o.pool], out=np.zeros(d.T), where=pot[o.pool] > 1e-12)
        cells = both[o.pool] > 0
        u[cells] *= 1.0 - np.clip(share, 0.0, 1.0)[None, :]
        options = _options(d, pp, staff, vendor_paid)


def _remedies(d: PlanData, pp: _Pools, staff: np.ndarray, vendor_paid: dict, by_cell: dict, alloc: dict,
              todo: np.ndarray) -> tuple[dict, np.ndarray, dict]:
    """What a planner does about work still unmet after the repair rounds (step 7 of the module docstring): up to
    :data:`REMEDY_ROUNDS` looks, each buying remedies for the unmet work (:func:`_buy_remedies`) and dispatching
    again; a look that does not reduce the unmet work is undone. Returns (allocation, unmet work, remedies used
    by kind with moderators, paid hours and cost, and the unmet standard hours before and after)."""
    used: dict = {}
    before = float(todo.sum())
    for _ in range(REMEDY_ROUNDS):
        kept_staff, kept_paid, kept_used = staff.copy(), dict(vendor_paid), {k: dict(v) for k, v in used.items()}
        _buy_remedies(d, pp, staff, vendor_paid, todo, alloc, used)
        if np.array_equal(staff, kept_staff):
            break
        new_alloc, new_todo = _run(d, pp, staff, by_cell)
        if new_todo.sum() >= todo.sum() - REMEDY_MIN_GAIN_H:
            staff[:] = kept_staff
            vendor_paid.clear()
            vendor_paid.update(kept_paid)
            used = kept_used
            break
        alloc, todo = new_alloc, new_todo
        if todo.sum() <= 1e-6:
            break
    return alloc, todo, {"by_kind": used, "unmet_std_hours_before": before, "unmet_std_hours_after": float(todo.sum()),
                         "gap_cost_estimate": _gap_cost(d, pp, todo)}


def _gap_cost(d: PlanData, pp: _Pools, unmet: np.ndarray) -> float:
    """What closing the work still unmet would cost if the limits that stop the remedies were lifted [currency]: each
    cell's unmet standard hours at its cheapest skilled pool's paid rate per standard hour (``rate x multiplier /
    productive share of a paid hour``; rostered pools at the overtime premium), no whole shifts, no wellbeing share:
    a lower estimate, not a plan."""
    premium = float(d.config.contracts.overtime_premium)
    rostered = {d.patterns[ks[0]].pool for ks in pp.groups.values()}
    best = np.full(len(d.cells), np.inf)
    for p, c in d.skills:
        rate = float(d.pools.at[p, "rate"]) * (premium if p in rostered else 1.0)
        best[c] = min(best[c], rate * d.multiplier(p, c) / max(pp.productive_per_paid[p], 1e-9))
    hours = unmet.sum(axis=1)
    return float(np.where(hours > 0, hours * np.where(np.isfinite(best), best, 0.0), 0.0).sum())


def _headroom(d: PlanData, pp: _Pools, staff: np.ndarray) -> np.ndarray:
    """Productive hours the moderators a pool may still add would give [h]: ``(max_headcount - staffed) x`` the mean
    productive hours per moderator of its buyable patterns (0 for pools that buy nothing)."""
    room = np.zeros(len(d.pools))
    for p, ks in pp.buyable.items():
        heads = int(staff[pp.patterns[p]].sum())
        room[p] = max(int(d.pools.at[p, "max_headcount"]) - heads, 0) * float(pp.caps[ks].sum(axis=1).mean())
    return room


def _full_pools(d: PlanData, pp: _Pools, staff: np.ndarray, vendor_paid: dict) -> set[int]:
    """Pools at max headcount or whose vendor is at its max weekly hours: nothing more can be bought there."""
    vmax = dict(zip(d.vendors[VENDOR], d.vendors["max_weekly_hours"].astype(float)))
    full = set()
    for p, ks in pp.patterns.items():
        least = min(d.patterns[k].paid_hours_horizon / d.weeks for k in ks)
        if staff[ks].sum() >= int(d.pools.at[p, "max_headcount"]) or vendor_paid.get(pp.vendor[p], 0.0) + least > vmax.get(pp.vendor[p], np.inf) + 1e-6:
            full.add(p)
    return full | (set(range(len(d.pools))) - set(pp.buyable))


def _drop_slivers(d: PlanData, alloc: dict) -> dict:
    """A planner routes no slivers: a pool-cell pair below ``[contracts] min_pair_weekly_hours`` is given back (unmet).

    The least hours are those of :func:`capplan.optimize.model.add_pair_min_hours` (or the cell's whole
    demand at the pool's speed when that is less); the work given back is planned again in the next round.
    """
    from capplan.optimize.model import pair_bound

    weekly = float(d.config.contracts.min_pair_weekly_hours)
    if weekly <= 0:
        return alloc
    out = {}
    for (p, c), hours in alloc.items():
        total = sum(hours.values())
        if total <= 1e-6 or total >= min(weekly * d.weeks, pair_bound(d, p, c)) - 1e-6:
            out[(p, c)] = hours
    return out
