"""Integer staffing from a relaxed one: rounding, covering and trimming (no solver calls here).

:func:`round_staff` rounds the relaxed pattern counts and repairs the hard staffing limits (:func:`pool_thresholds`
rounds each pool to the ceiling of its relaxed headcount);
:func:`cover_staff` covers the relaxed allocation greedily; :func:`trim_staff` removes moderators a fixed
allocation does not need. Used by :func:`capplan.optimize.solve.relax_round_fix`; measured in
``bench/results/plan_history.md``.
"""

from __future__ import annotations

import numpy as np

from capplan.optimize.data import PlanData
from capplan.optimize.model import Built
from capplan.schema import VENDOR


def round_staff(d: PlanData, x: np.ndarray, threshold: float | np.ndarray) -> np.ndarray:
    """Round the relaxed staffing at ``threshold``, then repair the hard staffing limits.

    A pattern is rounded up when its fractional part is at least ``threshold`` (one value, or one per pattern). Round-ups are then
    undone (smallest fraction first) while a pool is above its max headcount or a vendor above its
    max weekly hours; a pool below its min headcount gets moderators on its most fractional patterns.
    Rounding down leaves small deficits that the fixed LP absorbs by moving multi-skilled and
    deferred work (or prices as unmet): on the demos far cheaper than covering every deficit.
    """
    floor = np.floor(x + 1e-6)
    frac = np.where(x - floor > 1e-6, x - floor, 0.0)
    n = (floor + ((frac > 0) & (frac >= threshold))).astype(int)
    pools = np.array([pat.pool for pat in d.patterns])
    weekly_hours = np.array([pat.paid_hours_horizon / d.weeks for pat in d.patterns])
    vendors = np.array([d.pools.at[p, VENDOR] for p in pools])
    ascending = np.argsort(frac, kind="stable")

    def undo(mask: np.ndarray, excess) -> None:
        for k in ascending:
            if excess() <= 1e-9:
                return
            if mask[k] and n[k] > floor[k]:
                n[k] -= 1

    for p in sorted(set(pools)):
        mask, hi = pools == p, int(d.pools.at[p, "max_headcount"])
        undo(mask, lambda: n[mask].sum() - hi)
    for v, hi in sorted(zip(d.vendors[VENDOR], d.vendors["max_weekly_hours"].astype(float))):
        mask = vendors == v
        undo(mask, lambda: (n * weekly_hours)[mask].sum() - hi)
    for p in sorted(set(pools)):
        mask, lo = pools == p, int(d.pools.at[p, "min_headcount"])
        ks = [k for k in ascending[::-1] if mask[k]]
        i = 0
        while n[mask].sum() < lo:
            n[ks[i % len(ks)]] += 1
            i += 1
    return repair_groups(d, n, x)


def pool_thresholds(d: PlanData, x: np.ndarray) -> np.ndarray:
    """Per-pattern thresholds for :func:`round_staff` that bring each pool to the ceiling of its relaxed headcount.

    In each pool the patterns with the largest fractional parts (ties in pattern order) get threshold 0 (rounded up)
    until the pool's rounded-down count plus them reaches ``ceil(sum x)``; every other pattern gets 2 (rounded down).
    A pool therefore gains at most one moderator over its relaxed headcount, and those are bought on the patterns
    the relaxation wanted most, instead of a round-up (or down) per pattern that can leave a pool several
    moderators above or below it. Used with ``[contracts] min_pair_weekly_hours`` (:data:`capplan.optimize.solve.SLIVER_ROUNDINGS`),
    where the closed pairs leave the fixed LP little room to move a rounded-down pool's work elsewhere: 3x demo at
    8 h, first fixed LP 0.43 % above the bound against 1.24 % at threshold 0.5 (``bench/results/plan_slivers.md``).
    """
    floor = np.floor(x + 1e-6)
    frac = np.where(x - floor > 1e-6, x - floor, 0.0)
    thresholds = np.full(len(x), 2.0)
    pools = np.array([pat.pool for pat in d.patterns])
    for p in sorted(set(pools)):
        ks = np.flatnonzero(pools == p)
        missing = int(np.ceil(x[ks].sum() - 1e-6)) - int(floor[ks].sum())
        up = [k for k in sorted(ks, key=lambda k: (-frac[k], k)) if frac[k] > 0][:max(missing, 0)]
        thresholds[up] = 0.0
    return thresholds


def repair_groups(d: PlanData, n: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Every roster group at exactly its headcount, then temps within the pool's max headcount.

    A group above its headcount loses moderators on its patterns with the smallest relaxed fraction
    first; a group below gains them on the largest relaxed value first. Temps (never part of a group) are
    then removed, smallest relaxed value first, while the pool is above ``max_headcount``.
    """
    if not len(getattr(d, "groups", ())):
        return n
    n = n.copy()
    frac = x - np.floor(x + 1e-6)
    for g in range(len(d.groups)):
        ks = [k for k, pat in enumerate(d.patterns) if pat.group == g]
        if not ks:
            continue
        target = int(d.groups.at[g, "headcount"])
        down = sorted(ks, key=lambda k: (frac[k], x[k], k))
        up = sorted(ks, key=lambda k: (-x[k], k))
        i = 0
        while n[ks].sum() > target:
            k = down[i % len(down)]
            if n[k] > 0:
                n[k] -= 1
            i += 1
        i = 0
        while n[ks].sum() < target:
            n[up[i % len(up)]] += 1
            i += 1
    for p in sorted(set(d.groups["pool_index"].astype(int))):
        temps = sorted((k for k, pat in enumerate(d.patterns) if pat.pool == p and pat.kind == "temp"), key=lambda k: (x[k], k))
        hi = int(d.pools.at[p, "max_headcount"])
        pool_ks = [k for k, pat in enumerate(d.patterns) if pat.pool == p]
        for k in temps:
            while n[pool_ks].sum() > hi and n[k] > 0:
                n[k] -= 1
    return n



def _usage(b: Built, values: dict):
    """Per pool and interval: allocated and egregious hours; per occurrence: egregious hours."""
    d = b.data
    P, T = len(d.pools), d.T
    egregious = d.cells["egregious"].to_numpy()
    used = np.zeros((P, T))
    egr = np.zeros((P, T))
    for (p, c), vars_ in b.alloc.items():
        for t, v in vars_.items():
            val = values[v]
            used[p, t] += val
            if egregious[c]:
                egr[p, t] += val
    occ_egr = {}
    for (p, s), ys in b.egr.items():
        for o, ts in b.egr_occurrence.items():
            if d.occurrences[o].pool == p and d.occurrences[o].shift == s:
                occ_egr[o] = sum(values[ys[t]] for t in ts)
    return used, egr, occ_egr


def _pattern_caps(d: PlanData) -> list[np.ndarray]:
    caps = []
    for pat in d.patterns:
        ck = np.zeros(d.T)
        for t, val in pat.capacity.items():
            ck[t] = val
        caps.append(ck)
    return caps


def cover_staff(b: Built, values: dict, x: np.ndarray) -> np.ndarray:
    """Integer staffing that keeps the relaxation's allocation feasible, greedily from floor(x).

    Start from the relaxed staffing rounded down; while a pool lacks capacity for the relaxed
    allocation in some interval (capacity, exposure share, per-moderator daily exposure), add one
    moderator on the pattern covering most of the deficit per unit of paid cost, within max
    headcount and vendor max weekly hours. Usually far cheaper than rounding every pattern up.
    """
    d = b.data
    tol = 1e-7
    share = float(d.config.policy.exposure_max_share)
    hours = float(d.config.policy.exposure_max_hours_per_day)
    used, egr, occ_egr = _usage(b, values)
    need = np.maximum(used, egr / share if share > 0 else 0.0 * egr)
    caps = _pattern_caps(d)
    n = np.floor(x + 1e-6).astype(int)
    vendor_max = dict(zip(d.vendors[VENDOR], d.vendors["max_weekly_hours"].astype(float)))
    weekly: dict[str, float] = {}
    for k, pat in enumerate(d.patterns):
        v = d.pools.at[pat.pool, VENDOR]
        weekly[v] = weekly.get(v, 0.0) + n[k] * pat.paid_hours_horizon / d.weeks
    by_pool: dict[int, list[int]] = {}
    for k, pat in enumerate(d.patterns):
        by_pool.setdefault(pat.pool, []).append(k)
    for p, ks in sorted(by_pool.items()):
        cap = sum(caps[k] * n[k] for k in ks)
        heads_occ = {}
        for k in ks:
            for o in d.patterns[k].occurrences:
                heads_occ[o] = heads_occ.get(o, 0) + n[k]
        heads = int(sum(n[k] for k in ks))
        v = d.pools.at[p, VENDOR]
        rate = float(d.pools.at[p, "rate"])
        while True:
            deficit = np.maximum(need[p] - cap, 0.0)
            occ_def = {o: e / hours - heads_occ.get(o, 0) for o, e in occ_egr.items() if d.occurrences[o].pool == p and hours > 0}
            occ_def = {o: v_ for o, v_ in occ_def.items() if v_ > tol}
            if deficit.max() <= tol and not occ_def:
                break
            if heads >= int(d.pools.at[p, "max_headcount"]):
                break
            best, best_score = None, 0.0
            for k in ks:
                pat = d.patterns[k]
                if v in vendor_max and weekly.get(v, 0.0) + pat.paid_hours_horizon / d.weeks > vendor_max[v] + 1e-6:
                    continue
                gain = np.minimum(deficit, caps[k]).sum() + sum(min(occ_def.get(o, 0.0), 1.0) for o in pat.occurrences) * hours
                score = gain / max(pat.paid_hours_horizon * rate, 1e-9)
                if gain > tol and score > best_score:
                    best, best_score = k, score
            if best is None:
                break
            n[best] += 1
            heads += 1
            cap = cap + caps[best]
            for o in d.patterns[best].occurrences:
                heads_occ[o] = heads_occ.get(o, 0) + 1
            weekly[v] = weekly.get(v, 0.0) + d.patterns[best].paid_hours_horizon / d.weeks
    for p, ks in sorted(by_pool.items()):  # min headcount
        lo = int(d.pools.at[p, "min_headcount"])
        while sum(n[k] for k in ks) < lo:
            n[ks[0]] += 1
    return repair_groups(d, n, x)


def trim_staff(b: Built, values: dict, n: np.ndarray) -> tuple[np.ndarray, float]:
    """Remove moderators the fixed allocation does not need, keeping every constraint satisfied.

    A moderator is removed from a pattern when, with the allocation unchanged, pool capacity, the
    exposure share, the per-moderator daily exposure, min headcount and the vendor minimum all
    still hold. Most expensive patterns first. Returns (staff, paid cost saved).
    """
    d = b.data
    P = len(d.pools)
    tol = 1e-7
    share = float(d.config.policy.exposure_max_share)
    hours = float(d.config.policy.exposure_max_hours_per_day)
    used, egr, occ_egr = _usage(b, values)
    caps = _pattern_caps(d)
    cap = np.zeros((P, d.T))
    for k, pat in enumerate(d.patterns):
        cap[pat.pool] += caps[k] * n[k]
    heads_occ = np.zeros(len(d.occurrences))
    for k, pat in enumerate(d.patterns):
        for o in pat.occurrences:
            heads_occ[o] += n[k]
    heads = np.zeros(P, dtype=int)
    for k, pat in enumerate(d.patterns):
        heads[pat.pool] += n[k]
    vendor_min = dict(zip(d.vendors[VENDOR], d.vendors["min_weekly_hours"].astype(float)))
    weekly: dict[str, float] = {}
    for k, pat in enumerate(d.patterns):
        v = d.pools.at[pat.pool, VENDOR]
        weekly[v] = weekly.get(v, 0.0) + n[k] * pat.paid_hours_horizon / d.weeks
    n = n.copy()
    saved = 0.0
    order = sorted(range(len(d.patterns)), key=lambda k: (-d.patterns[k].paid_hours_horizon * float(d.pools.at[d.patterns[k].pool, "rate"]), k))
    for k in order:
        pat = d.patterns[k]
        p = pat.pool
        v = d.pools.at[p, VENDOR]
        rate = float(d.pools.at[p, "rate"])
        while n[k] > 0 and pat.group < 0:  # roster groups keep their headcount (add_roster)
            if heads[p] - 1 < int(d.pools.at[p, "min_headcount"]):
                break
            if v in vendor_min and weekly[v] - pat.paid_hours_horizon / d.weeks < vendor_min[v] - 1e-9:
                break
            new_cap = cap[p] - caps[k]
            if (used[p] > new_cap + tol).any() or (egr[p] > share * new_cap + tol).any():
                break
            if any(o in occ_egr and occ_egr[o] > hours * (heads_occ[o] - 1) + tol for o in pat.occurrences):
                break
            n[k] -= 1
            heads[p] -= 1
            cap[p] = new_cap
            for o in pat.occurrences:
                heads_occ[o] -= 1
            weekly[v] -= pat.paid_hours_horizon / d.weeks
            saved += pat.charged_hours * rate
    return n, saved
