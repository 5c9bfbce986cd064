"""Per-cell caps on unmet work and the paid-cost-only price (the iso-service benchmark, bench/iso_service.py).

Hand-made week: one realtime queue needing 1 moderator 08-16 every day (56 standard h), one in-house pool at
10 USD/h on 8 h day shifts worked 5 consecutive days (40 paid h, 400 USD a moderator), no shrinkage. Every plan is
verified by the independent checker, and its unmet work recomputed from the allocation (``check.least_unmet``).
"""

from __future__ import annotations

import numpy as np
import pytest

from _optimize_data import config, daily_profile, pool, queue, requirements, shift, workspace
from capplan.optimize import check_plan, solve_plan
from capplan.optimize.check import check_unmet_caps, least_unmet
from capplan.optimize.data import prepare, with_unmet_caps
from capplan.optimize.model import build, unmet_tie_break_price

CELL = ("q", "en")


def _week(kind: str = "realtime"):
    cfg = config()
    ws = workspace(cfg, [queue("q", kind=kind, within_s=4 * 3600.0)], [pool("ih", shifts=("day",))],
                   [shift(start="08:00", days=5)])
    if kind == "realtime":
        req = requirements(cfg, {CELL: daily_profile([1] * 7, cfg, range(8, 16))})
    else:  # 1 standard h of work arriving each hour 08-16; due 4 h later
        req = requirements(cfg, {CELL: daily_profile([1] * 7, cfg, range(8, 16))}, kinds={"q": "deferred"})
    return ws, req


def _plan(ws, req, **options):
    result = solve_plan(ws, req, with_baseline=False, price_rules=False, **options)
    assert check_plan(ws, req, result) == []
    return result


@pytest.mark.parametrize(("cap", "moderators", "unmet"), [(None, 0, 56.0), (16.0, 1, 16.0), (15.0, 2, 0.0), (0.0, 2, 0.0)])
def test_cap_buys_only_the_service_it_demands(cap, moderators, unmet):
    """Paid cost only: no cap buys nobody (56 h unmet); a cap of 16 h one moderator (five days covered, two left:
    16 h); 15 h or 0 h need two (seven days covered)."""
    ws, req = _week()
    caps = None if cap is None else {CELL: cap}
    result = _plan(ws, req, unmet_caps=caps, unmet_price_scale=0.0)
    assert result.solve["moderators"] == moderators
    assert result.solve["total_cost"] == pytest.approx(400.0 * moderators)
    assert least_unmet(ws, req, result)[CELL] == pytest.approx(unmet, abs=1e-6)
    assert result.solve["unmet_hours"] == pytest.approx(unmet, abs=1e-6)
    if cap is not None:
        assert check_unmet_caps(ws, req, result, caps) == []
        assert result.solve["unmet_caps"]["q/en"] == {"cap_hours": pytest.approx(cap), "over_hours": pytest.approx(0.0, abs=1e-6)}
    # the reported penalty stays the severity's price (400 USD/h for severity 2), not the tie-breaker
    assert result.solve["penalty"] == pytest.approx(400.0 * unmet, abs=1e-3)


def test_default_path_is_unchanged_and_meets_everything():
    """Without the options the severity penalty (400 USD/h) buys full cover: two moderators, no caps reported."""
    ws, req = _week()
    result = _plan(ws, req)
    assert result.solve["moderators"] == 2 and result.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)
    assert "unmet_caps" not in result.solve and "unmet_price" not in result.solve
    assert result.solve["total_cost"] == pytest.approx(800.0)
    d = prepare(ws, req)
    assert not d.unmet_caps and d.unmet_price is None
    assert not any(c.name.startswith("unmet_cap") for c in build(d).model.linear_constraints())


def test_cap_on_deferred_work_counts_what_is_dropped_late():
    """Deferred: 8 h arrive each day 08-16, due 4 h later. Paid cost only: uncapped, all 56 h are dropped late; a cap of
    0 forces every hour done in time (two moderators for the seven days)."""
    ws, req = _week("deferred")
    free = _plan(ws, req, unmet_price_scale=0.0)
    assert free.solve["moderators"] == 0 and least_unmet(ws, req, free)[CELL] == pytest.approx(56.0, abs=1e-6)
    capped = _plan(ws, req, unmet_caps={CELL: 0.0}, unmet_price_scale=0.0)
    assert capped.solve["moderators"] == 2
    assert least_unmet(ws, req, capped)[CELL] == pytest.approx(0.0, abs=1e-6)
    assert check_unmet_caps(ws, req, capped, {CELL: 0.0}) == []
    assert check_unmet_caps(ws, req, free, {CELL: 0.0}) != []  # the check can fail


def test_tie_break_price_is_small_but_above_the_allocation_tie_breaker():
    ws, req = _week()
    d = prepare(ws, req)
    price = unmet_tie_break_price(d)
    assert 0.005 < price < 0.1  # 10 x 0.001 x 1^2 x (2 - quality) / utilisation 1, quality of an in-house pool in [0, 1]
    capped = with_unmet_caps(d, {CELL: 2.0, ("other", "xx"): 1.0}, price)
    assert capped.unmet_caps == {0: pytest.approx(2.0)} and np.allclose(capped.unmet_price, price)
    with pytest.raises(Exception, match="finite hours"):
        with_unmet_caps(d, {CELL: -1.0})


def test_scaled_penalty_buys_cover_only_while_it_is_dearer_than_staff():
    """Penalties scaled instead of capped (severity 2: 400 USD/h). The first moderator covers 40 h for 400 USD, the second
    the last 16 h for another 400 (25 USD/h). Scale 0.05 (20 USD/h): 40 h x 20 = 800 > 400 buys the first, 16 h x 20 =
    320 < 400 not the second. Scale 0.1 (40 USD/h): 16 h x 40 = 640 > 400 buys both."""
    ws, req = _week()
    one = _plan(ws, req, unmet_price_scale=0.05)
    assert one.solve["moderators"] == 1 and least_unmet(ws, req, one)[CELL] == pytest.approx(16.0, abs=1e-6)
    assert one.solve["unmet_price"]["q/en"] == pytest.approx(20.0)
    two = _plan(ws, req, unmet_price_scale=0.1)
    assert two.solve["moderators"] == 2 and least_unmet(ws, req, two)[CELL] == pytest.approx(0.0, abs=1e-6)
