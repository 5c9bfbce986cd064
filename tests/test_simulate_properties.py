"""Invariants of any replay (hypothesis): no item served twice, no moderator in two places, exposure caps hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from _sim_data import START, arrivals, config, shift_plan, workspace
from capplan.simulate import replay_plan
from capplan.simulate.arrivals import cell_table

SHIFTS = [{"shift": "day", "start_minute": 6 * 60, "paid_hours": 8.0, "break_minutes": 30.0},
          {"shift": "late", "start_minute": 14 * 60 + 30, "paid_hours": 10.0, "break_minutes": 30.0},
          {"shift": "night", "start_minute": 22 * 60, "paid_hours": 8.0, "break_minutes": 60.0}]
LANGS = ("en", "es")


@st.composite
def scenarios(draw):
    queues, cells, rates = [], [], {}
    for i in range(draw(st.integers(1, 3))):
        realtime = draw(st.booleans())
        name = f"q{i}"
        queues.append({"queue": name, "kind": "realtime" if realtime else "deferred", "target": 0.8,
                       "within_s": float(draw(st.sampled_from([30, 60]) if realtime else st.sampled_from([1800, 3600, 4 * 3600]))),
                       "severity": draw(st.integers(1, 3)), "egregious": draw(st.booleans()),
                       "patience_s": float(draw(st.sampled_from([np.nan, 120.0]))) if realtime else np.nan})
        for lang in LANGS[: draw(st.integers(1, 2))]:
            aht = float(draw(st.sampled_from([60, 120, 240])))
            cells.append((name, lang, aht))
            rates[(name, lang)] = float(draw(st.sampled_from([0, 20, 60]) if realtime else st.sampled_from([0, 100, 400])))
    pools, heads = [], {}
    for j in range(draw(st.integers(1, 3))):
        qs = draw(st.lists(st.sampled_from([q["queue"] for q in queues]), min_size=1, unique=True))
        langs = draw(st.lists(st.sampled_from(LANGS), min_size=1, unique=True))
        pools.append({"pool": f"p{j}", "queues": tuple(qs), "languages": tuple(langs),
                      "proficiency": draw(st.sampled_from([0.8, 1.0, 1.3]))})
        for s in SHIFTS:
            heads[(f"p{j}", s["shift"])] = draw(st.integers(0, 12))
    cfg = config(1, share=draw(st.sampled_from([0.3, 0.5, 1.0])), hours_per_day=draw(st.sampled_from([1.0, 2.5, 8.0])),
                 utilisation=draw(st.sampled_from([0.9, 1.0])), shrinkage=draw(st.sampled_from([0.0, 0.3])))
    ws = workspace(queues, cells, pools, shifts=SHIFTS, cfg=cfg)
    return ws, heads, rates, draw(st.sampled_from(["plan", "priority", "edf"])), draw(st.integers(0, 2**16))


def even_allocation(ws, sp: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A plan-like allocation: each pool's productive hours per interval split at random among its skills."""
    from capplan.simulate.supply import build_supply

    start = pd.Timestamp(START, tz="UTC")
    sup = build_supply(ws, sp, start, 24 * 60)
    rng = np.random.default_rng(seed)
    skills = ws.skills()
    rows = []
    for p, pool in enumerate(sup.pools["pool"]):
        mine = skills[skills["pool"] == pool]
        if not len(mine):
            continue
        hours = sup.productive[p].reshape(24, 60).sum(axis=1) / 60.0
        for t in range(24):
            w = rng.dirichlet(np.ones(len(mine)))
            for (q, lang), share in zip(zip(mine["queue"], mine["language"]), w):
                rows.append({"pool": pool, "vendor": "inhouse", "queue": q, "language": lang,
                             "interval_start": start + pd.Timedelta(hours=t), "productive_hours": hours[t] * share})
    return pd.DataFrame(rows, columns=["pool", "vendor", "queue", "language", "interval_start", "productive_hours"])


@settings(max_examples=25)
@given(scenarios())
def test_replay_invariants(case):
    ws, heads, rates, policy, seed = case
    sp = shift_plan(ws, heads)
    result = replay_plan(ws, sp, even_allocation(ws, sp, seed), arrivals(rates, 1, seed=seed), policy=policy, seed=seed,
                         keep_trace=True)
    tr, cfg = result.trace, ws.config
    cells = result.cells
    M = tr.productive.shape[1]
    tol = 1e-6

    # --- no item served twice: every item is answered once, abandoned, or still waiting; no work done twice ---
    rt = tr.rt
    served = ~np.isnan(rt.start)
    assert not (served & rt.abandoned).any()
    waiting = ~served & ~rt.abandoned
    assert (rt.start[served] >= rt.arrival[served] - tol).all()
    per_cell = cells.groupby(["queue", "language"])[["arrived", "handled", "abandoned", "on_time", "judged"]].sum()
    assert (per_cell["on_time"] <= per_cell["judged"] + tol).all() and (per_cell["judged"] <= per_cell["arrived"] + tol).all()
    rt_cells = cells[cells["kind"] == "realtime"].groupby(["queue", "language"])[["arrived", "handled", "abandoned"]].sum()
    assert int(rt_cells["arrived"].sum()) == len(rt.arrival)
    assert int(rt_cells["handled"].sum() + rt_cells["abandoned"].sum()) + int(waiting.sum()) == len(rt.arrival)
    done, arrived = tr.def_done_s, tr.def_arrived_s
    assert (np.diff(done, axis=1) >= -tol).all() and (done <= arrived + tol).all()

    # --- no moderator in two places ---
    # deferred work uses only the time realtime work left; a pool works only its skills
    assert (tr.def_busy_s <= np.maximum(tr.productive * 60.0 - tr.rt_busy_s, 0.0) + 1e-6).all()
    model_skill = _skill_matrix(ws, result)
    assert (tr.def_alloc_s[~model_skill] <= tol).all()
    # at every service start, the group's items in service never exceed its servers in that minute
    for g in range(tr.servers.shape[1]):
        mine = np.flatnonzero(rt.group == g)
        starts, ends = np.sort(rt.start[mine]), np.sort(rt.end[mine])
        in_service = np.searchsorted(starts, starts, side="right") - np.searchsorted(ends, starts, side="right")
        assert (in_service <= tr.servers[np.minimum((starts // 60).astype(int), M - 1), g]).all()
    # each realtime item went to a pool skilled for its cell
    skills = set(map(tuple, ws.skills()[["pool", "queue", "language"]].to_numpy()))
    pools = list(result.pools["pool"].unique())
    table = cell_table(ws)
    for pool, c in {(pools[tr.groups_pool[rt.group[i]]], int(rt.cell[i])) for i in np.flatnonzero(served)}:
        assert (pool, table.at[c, "queue"], table.at[c, "language"]) in skills

    # --- exposure caps ---
    share = cfg.policy.exposure_max_share
    egr = tr.egregious_s.reshape(len(pools), -1, 60).sum(axis=2)
    prod = tr.productive.reshape(len(pools), -1, 60).sum(axis=2) * 60.0
    overhang = _realtime_overhang(tr).reshape(len(pools), -1, 60).sum(axis=2)
    assert (egr <= share * prod + overhang + 1e-6).all()
    # daily cap per moderator: a moderator who reaches it finishes the realtime item in hand, nothing more
    in_hand = float(np.nanmax(rt.end - rt.start)) if served.any() else 0.0
    heads = tr.occ_budget_s / (cfg.policy.exposure_max_hours_per_day * 3600.0)
    assert (tr.occ_used_s <= tr.occ_budget_s + heads * in_hand + 1e-6).all()


def _skill_matrix(ws, result) -> np.ndarray:
    cells = cell_table(ws)
    deferred = cells[cells["kind"] != "realtime"]
    pools = list(result.pools["pool"].unique())
    skills = set(map(tuple, ws.skills()[["pool", "queue", "language"]].to_numpy()))
    return np.array([[(p, q, lang) in skills for q, lang in zip(deferred["queue"], deferred["language"])] for p in pools], dtype=bool).reshape(len(pools), len(deferred))


def _realtime_overhang(tr) -> np.ndarray:
    """[P, M] egregious realtime seconds beyond the servers of the minute: items in hand when the servers dropped."""
    P = tr.productive.shape[0]
    member = np.zeros((len(tr.groups_pool), P))
    member[np.arange(len(tr.groups_pool)), tr.groups_pool] = 1.0
    egr_groups = np.array([bool(tr.rt.groups[g].egregious) for g in range(len(tr.groups_pool))], dtype=bool)
    servers = (tr.servers * egr_groups[None, :]) @ member  # [M, P]
    return np.maximum(tr.rt_egregious_s - servers.T * 60.0, 0.0)
