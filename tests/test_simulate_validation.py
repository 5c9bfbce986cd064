"""The replay engine against closed forms: Erlang C / Erlang A for a stationary realtime queue, the fluid
backlog model for a deferred queue, and the item-by-item reference for the one-minute deferred steps."""

from __future__ import annotations

import numpy as np
import pytest

from _sim_data import arrivals, config, no_allocation, shift_plan, workspace
from capplan.simulate import replay_plan
from capplan.simulate.arrivals import Arrivals
from capplan.simulate.engine import Model, simulate
from capplan.simulate.metrics import build_result
from capplan.simulate.policies import get_policy
from capplan.simulate.reference import replay_deferred_items
from capplan.staffing.backlog import check_capacity
from capplan.staffing.erlang import erlang_a_metrics, erlang_c_metrics

DAYS = 28  # four weeks of a stationary queue: about 100,000 realtime items per case


def _realtime(servers: int, load: float, aht_s: float, within_s: float, patience_s: float | None, seed: int):
    q = [{"queue": "live", "kind": "realtime", "target": 0.8, "within_s": within_s, "patience_s": patience_s or np.nan}]
    ws = workspace(q, [("live", "en", aht_s)], [{"pool": "p", "queues": ("live",), "languages": ("en",)}], cfg=config(DAYS))
    # hourly Poisson counts placed uniformly inside the hour: a Poisson process of rate load / AHT
    arr = arrivals({("live", "en"): load * 3600.0 / aht_s}, DAYS, seed=seed)
    return replay_plan(ws, shift_plan(ws, {("p", "all"): servers}), no_allocation(), arr, policy="priority", seed=seed,
                       handle="exponential")


@pytest.mark.parametrize("servers,load,aht_s,within_s", [(10, 8.0, 180.0, 20.0), (30, 27.0, 120.0, 30.0)])
def test_stationary_realtime_queue_matches_erlang_c(servers, load, aht_s, within_s):
    result = _realtime(servers, load, aht_s, within_s, None, seed=11)
    theory = erlang_c_metrics(servers, load, aht_s, within_s)
    assert result.summary["realtime_service_level"] == pytest.approx(float(theory.service_level), abs=0.01)
    assert result.summary["occupancy"] == pytest.approx(float(theory.occupancy), abs=0.01)
    assert result.summary["abandon_rate"] == 0.0


def test_stationary_realtime_queue_with_patience_matches_erlang_a():
    servers, load, aht_s, within_s, patience_s = 9, 9.0, 180.0, 60.0, 120.0
    result = _realtime(servers, load, aht_s, within_s, patience_s, seed=12)
    theory = erlang_a_metrics(servers, load, aht_s, patience_s, within_s)
    assert result.summary["realtime_service_level"] == pytest.approx(float(theory.service_level), abs=0.01)
    assert result.summary["abandon_rate"] == pytest.approx(float(theory.abandon_rate), abs=0.01)
    # and the mean wait of all arrivals (ASA, abandoned items count their time in line), within 5 %
    cells = result.cells
    asa = float((cells["avg_wait_s"] * cells["arrived"]).sum() / cells["arrived"].sum())
    assert asa == pytest.approx(float(theory.asa_s), rel=0.05)


# --- deferred -------------------------------------------------------------------------------------
SHIFTS = [{"shift": "a", "start_minute": 0, "paid_hours": 12.0, "break_minutes": 0.0},
          {"shift": "b", "start_minute": 720, "paid_hours": 12.0, "break_minutes": 0.0}]
DAYS_D = 3
RATE = 600.0  # items per hour
AHT = 60.0  # 10 hours of work per hour
WITHIN = 2 * 3600.0


def _deferred(heads_a: int, heads_b: int):
    q = [{"queue": "video", "kind": "deferred", "target": 0.9, "within_s": WITHIN}]
    ws = workspace(q, [("video", "en", AHT)], [{"pool": "p", "queues": ("video",), "languages": ("en",)}], shifts=SHIFTS,
                   cfg=config(DAYS_D))
    arr = arrivals({("video", "en"): RATE}, DAYS_D, poisson=False)  # constant arrivals: 600 items every hour
    return replay_plan(ws, shift_plan(ws, {("p", "a"): heads_a, ("p", "b"): heads_b}), no_allocation(), arr,
                       policy="priority", seed=3, handle="exponential", keep_trace=True)


def test_deferred_queue_matches_the_fluid_backlog():
    # 7 moderators (7 h/h) for 12 hours, then 14: the backlog builds by 3 h/h, then drains by 4 h/h
    result = _deferred(7, 14)
    trace = result.trace
    work = np.diff(trace.def_arrived_s[0], prepend=0.0) / 3600.0  # the replay's own work per minute [h]
    capacity = trace.productive[0] / 60.0  # [h per minute]
    hourly = check_capacity(work.reshape(-1, 60).sum(axis=1), capacity.reshape(-1, 60).sum(axis=1), 60, WITHIN)
    backlog = (trace.def_arrived_s[0] - trace.def_done_s[0])[59::60] / 3600.0
    peak = float(hourly.backlog_hours.max())
    assert peak == pytest.approx(36.0, rel=0.05)  # 12 h x (10 - 7) h/h
    np.testing.assert_allclose(backlog, hourly.backlog_hours, atol=0.01 * peak)
    # the same fluid model at one-minute resolution gives the replay's on-time share exactly
    by_minute = check_capacity(work, capacity, 1, WITHIN, clip=False)  # items due after the window are not judged
    assert result.summary["deferred_on_time_share"] == pytest.approx(by_minute.on_time_share, abs=2e-3)
    assert 0.5 < by_minute.on_time_share < 0.95  # the case is one where items do miss


def test_deferred_constant_capacity_below_arrivals_grows_linearly():
    result = _deferred(8, 8)  # 8 h/h against 10 h/h of work: 2 hours of backlog more every hour
    trace = result.trace
    backlog = (trace.def_arrived_s[0] - trace.def_done_s[0])[59::60] / 3600.0
    hours = np.arange(1, len(backlog) + 1)
    work = trace.def_arrived_s[0][59::60] / 3600.0
    np.testing.assert_allclose(backlog, work - 8.0 * hours, atol=1e-6)
    assert backlog[-1] == pytest.approx(2.0 * len(backlog), rel=0.03)


def test_one_minute_steps_agree_with_item_by_item():
    """The same items (arrival instants and handle times) through both: fluid minutes vs items on integer servers."""
    q = [{"queue": "video", "kind": "deferred", "target": 0.9, "within_s": WITHIN}]
    ws = workspace(q, [("video", "en", AHT)], [{"pool": "p", "queues": ("video",), "languages": ("en",)}], shifts=SHIFTS,
                   cfg=config(DAYS_D))
    model = Model(ws, shift_plan(ws, {("p", "a"): 7, ("p", "b"): 14}), no_allocation())
    rng = np.random.default_rng(5)
    n_hours = DAYS_D * 24
    arrival = np.sort((np.repeat(np.arange(n_hours), int(RATE)) + rng.random(n_hours * int(RATE))) * 3600.0)
    handle = rng.exponential(AHT, len(arrival))
    minute = (arrival // 60).astype(int)
    items = Arrivals(rt_cell=np.zeros(0, dtype=int), rt_time_s=np.zeros(0), rt_patience_s=np.zeros(0), rt_handle_s=np.zeros(0),
                     def_cells=np.array([0]), def_items=np.bincount(minute, minlength=model.M)[None, :].astype(float),
                     def_work_s=np.bincount(minute, weights=handle, minlength=model.M)[None, :])
    fluid = build_result(model, items, simulate(model, get_policy("priority"), items), policy="priority", seed=0, seconds=1.0)
    servers = np.round(model.productive[0]).astype(int)  # 7 moderators, then 14
    item_by_item = replay_deferred_items(arrival, handle, servers, WITHIN)
    assert item_by_item.on_time_share == pytest.approx(fluid.summary["deferred_on_time_share"], abs=0.01)
    assert 0.5 < item_by_item.on_time_share < 0.95
    backlog = fluid.cells["backlog"].to_numpy()
    # items in service count as waiting in the item simulation (at most 14 servers' worth)
    np.testing.assert_allclose(item_by_item.backlog[59::60], backlog, atol=0.02 * backlog.max() + 14)
