"""The planner's baseline (issue 12): share-gated work reaches the fixed in-house capacity, and the saving is
stated at comparable service."""

from __future__ import annotations

import pytest

from _optimize_data import config, daily_profile, pool, queue, requirements, shift, vendor, workspace
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
