"""The planner's baseline (issue 12): share-gated work reaches the fixed in-house capacity, and the saving is
stated at comparable service."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _optimize_data import config, daily_profile, pool, queue, requirements, shift, vendor, workspace
from capplan.optimize import baseline as baseline_module
from capplan.optimize import baseline_plan, check_plan
from capplan.optimize.plan import baseline_savings
from test_contracts import roster


def test_rostered_pool_serves_the_share_a_capped_vendor_cannot_have():
    """en needs all 3 rostered employees 08-16 Mon-Fri; tl needs 4 more, and its vendor may do at most 80 % of tl.

    A greedy planner spends the roster on en and strands the vendor (its share of tl is 0 % of nothing: 160 h of tl
    unmet). Giving tl its 20 % first leaves about 0.2 x 4 x 40 = 32 h of en unmet and the vendor does the rest."""
    cfg = config()
    ws = workspace(cfg, [queue("q")], [pool("ih", languages=("en", "tl"), shifts=("day",)),
                                       pool("bpo", vendor="apex", languages=("tl",), shifts=("day",), rate=5.0)],
                   [shift(start="08:00", days=5)], vendors=[vendor("apex", share=0.8)])
    ws.roster = roster(("ih", 3, 40.0))
    week = [1, 1, 1, 1, 1, 0, 0]
    req = requirements(cfg, {("q", "en"): 3 * daily_profile(week, cfg, range(8, 16)),
                             ("q", "tl"): 4 * daily_profile(week, cfg, range(8, 16))})
    base = baseline_plan(ws, req)
    assert check_plan(ws, req, base) == []
    by = base.allocation.groupby(["vendor", "language"])["productive_hours"].sum()
    assert by[("apex", "tl")] / (by[("apex", "tl")] + by.get(("inhouse", "tl"), 0.0)) <= 0.8 + 1e-6
    assert by[("apex", "tl")] >= 0.78 * 4 * 40  # the vendor does nearly its whole share, not nothing
    assert base.solve["unmet_hours"] <= 0.25 * 4 * 40  # about 20 % of tl moved onto the roster, not 160 h


def test_saving_counts_the_unmet_penalty_and_says_so():
    plan = {"total_cost": 90.0, "penalty": 0.0, "unmet_hours": 0.0}
    base = {"total_cost": 80.0, "penalty": 100.0, "unmet_hours": 100.0}
    s = baseline_savings(plan, base)
    assert s["savings_vs_baseline"] == pytest.approx(0.5)  # 1 - 90 / 180
    assert s["savings_vs_baseline_paid"] == pytest.approx(-0.125)
    assert "12.5% above" in s["baseline_comparison"] and "less work unmet" in s["baseline_comparison"]



def test_earliest_due_first_fill_uses_the_window_and_never_past_it():
    from capplan.optimize.baseline import _fill_by_due, _onsite_shift

    work, room = np.array([2.0, 0, 1, 0, 0, 0]), np.array([0.0, 0, 1, 1, 1, 1])
    placed, served = _fill_by_due(work, room, 2)  # t=0 may be done in 0..2, t=2 in 2..4
    np.testing.assert_allclose(placed, [0, 0, 1, 1, 0, 0])  # oldest first: t=0 takes 1 h at t=2, t=2 takes t=3
    np.testing.assert_allclose(served, [1, 0, 1, 0, 0, 0])  # 1 h of t=0 had no room in its window
    placed, served = _fill_by_due(np.array([0, 0, 0, 0, 0, 3.0]), np.array([1.0, 0, 1, 1, 1, 1]), 2, cyclic=True)
    np.testing.assert_allclose(placed, [1, 0, 0, 0, 0, 1])  # a cyclic week: t=5's window is 5, 0, 1
    assert served[5] == pytest.approx(2.0)
    onsite = np.array([False, False, True, True, False, False])
    np.testing.assert_allclose(_onsite_shift(np.array([4.0, 0, 0, 0, 1, 0]), onsite, 3), [0, 0, 2, 2, 1, 0])


def test_night_deferred_work_is_done_by_paid_day_capacity_within_its_turnaround(monkeypatch):
    """2 h of deferred work arrives each hour 22:00-06:00, due within 24 h; two in-house moderators are paid 08:00-16:00
    every day (min = max headcount: 112 paid productive hours a week, idle unless given work); a night vendor could
    do it as it arrives. A planner plans the queue on its volume within the turnaround: the paid day shifts do
    all of it that is due inside the week (the last 4 h, due next Monday, are carried), nothing is bought, nothing
    is unmet. Planned only where it arrives (the method before), the vendor was bought for the night (2,016 vs
    1,120 USD) and, with the vendor capped at 56 h a week, the day moderators still stood idle half the week."""
    monkeypatch.setattr(baseline_module, "WINDOW_ROUNDS", (0,))  # the windowed first look (shipped: the last look only)
    cfg = config()
    cfg.planning.week_end = "terminal"
    night = [h for h in range(24) if h >= 22 or h < 6]
    req = requirements(cfg, {("d", "en"): 2 * daily_profile([1] * 7, cfg, night)}, kinds={"d": "deferred"})
    for cap in (1e9, 56.0):
        ws = workspace(cfg, [queue("d", kind="deferred", within_s=24 * 3600, severity=3)],
                       [pool("day", queues=("d",), shifts=("day",), min_hc=2, max_hc=2),
                        pool("nite", vendor="nv", queues=("d",), shifts=("night",), rate=8.0)],
                       [shift(start="08:00", days=7), shift("night", start="22:00", days=7)], vendors=[vendor("nv", max_h=cap)])
        base = baseline_plan(ws, req)
        assert check_plan(ws, req, base) == []
        by_pool = base.allocation.groupby("pool")["productive_hours"].sum()
        assert by_pool.get("nite", 0.0) == pytest.approx(0.0, abs=1e-6)
        assert by_pool["day"] == pytest.approx(7 * 16 - 4, abs=1e-6)
        assert base.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)
        assert base.solve["total_cost"] == pytest.approx(2 * 56 * 10.0)
        hours = pd.to_datetime(base.allocation["interval_start"]).dt.hour
        assert hours.between(8, 15).all()  # done in the day shifts, after it arrived
