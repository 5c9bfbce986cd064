"""The rule limits' prices (optimize/rule_prices.py): the duals' proof of a zero saving against the cold re-solve.

``price_rules`` first bounds the moved relaxation from below at the plan relaxation's duals (weak duality); when the
bound reaches the cost before, the step saves nothing and nothing is re-solved. Every test compares that method with
the reference (``certify=False``: the relaxation re-solved from scratch with the limit moved) on the same rows.
"""

from __future__ import annotations

import math
import time

import pytest

from _optimize_data import config, daily_profile, pool, queue, requirements, shift, vendor, workspace
from capplan.optimize import solve_plan
from capplan.optimize.data import prepare
from capplan.optimize.model import Built, build, mathopt
from capplan.optimize.rule_prices import dual_bound, price_rules
from capplan.optimize.solve import solve
from test_shadow_prices import floor_case, two_shift_pool


def test_dual_bound_by_hand():
    """min x + 2y, x + y >= 3 (row "cover"), 0 <= x <= 2, y >= 0: the optimum is x = 2, y = 1, cost 4, dual of cover 2.
    At the optimal dual the bound is 2 x 3 + (1 - 2) x 2 (x at its upper bound) = 4; at dual 1 it is 3 x 1 + 0 + 1 x 0
    = 3 (a weaker bound); at dual 3 y's reduced cost 2 - 3 < 0 against an infinite upper bound: no bound (-inf)."""
    mo = mathopt()
    m = mo.Model()
    x, y = m.add_variable(lb=0.0, ub=2.0, name="x"), m.add_variable(lb=0.0, name="y")
    m.add_linear_constraint(x + y >= 3.0, name="cover")
    m.minimize(x + 2.0 * y)
    b = Built(model=m, data=None)
    assert dual_bound(b, {"cover": 2.0}) == pytest.approx(4.0, abs=1e-12)
    assert dual_bound(b, {"cover": 1.0}) == pytest.approx(3.0, abs=1e-12)
    assert dual_bound(b, {"cover": 3.0}) == -math.inf
    assert dual_bound(b, {}) == pytest.approx(0.0, abs=1e-12)  # no duals: the bounds of the columns alone


def both(ws, req):
    """The plan, then its rule rows priced twice: with the duals' proof (the default) and re-solved (the reference)."""
    d = prepare(ws, req)
    b = build(d)
    s = solve(b, ws.config.solver)
    r = solve_plan(ws, req, with_baseline=False, price_rules=False)
    before = s.phases["relaxation_objective"]
    deadline = time.perf_counter() + 60
    new, new_records = price_rules(d, r.binding, ws.config.solver, before=before, deadline=deadline, duals=s.duals)
    cold, cold_records = price_rules(d, r.binding, ws.config.solver, before=before, deadline=deadline, certify=False)
    return new, new_records, cold, cold_records


def test_overtime_step_that_saves_nothing_is_proven_zero_without_a_re_solve():
    """The two-shift pool of test_shadow_prices with work only Mon-Sat 08-16 (48 h): the day shift with a sixth day
    (8 h of overtime, at the cap) covers it all for 520 USD; the pattern cap 10 admits (the long shift's fifth day,
    Mon-Fri 08-18, 550 USD) covers less, so raising the cap saves 0. By hand its reduced cost is 550 - 520 + the
    duals of Saturday's hours >= 30 at any optimal dual: the duals prove it (method dual_bound, no relaxation solved);
    the re-solve finds the same 0."""
    ws, _ = two_shift_pool()
    cfg = ws.config
    req = requirements(cfg, {("q", "en"): daily_profile([1, 1, 1, 1, 1, 1, 0], cfg, range(8, 16))})
    new, new_records, cold, cold_records = both(ws, req)
    key = ("overtime_cap", "a")
    assert [x["method"] for x in new_records] == ["dual_bound"] and [x["method"] for x in cold_records] == ["re_solve"]
    assert new[key][0] == cold[key][0] == 0.0
    assert new_records[0]["dual_bound"] <= new_records[0]["relaxation_before"] + 1e-6
    assert "duals prove the step saves nothing" in new[key][1] and "re-solved" in cold[key][1]


def test_overtime_step_that_saves_is_re_solved_and_equals_the_reference():
    """The two-shift pool's hand case (385 USD a week per overtime hour, test_shadow_prices): the duals' bound is below
    the cost before (here -inf: the long shift's fifth day prices out), so the step is re-solved, and the price equals
    the reference to 1e-6."""
    ws, req = two_shift_pool()
    new, new_records, cold, _ = both(ws, req)
    key = ("overtime_cap", "a")
    bound = new_records[0]["dual_bound"]  # None: -inf (a new column's reduced cost < 0 against an infinite bound)
    assert new_records[0]["method"] == "re_solve" and (bound is None or bound < new_records[0]["relaxation_before"] - 1.0)
    assert new[key][0] == pytest.approx(cold[key][0], rel=1e-6) and new[key][0] == pytest.approx(385.0, abs=0.01)


def test_quality_floor_prices_agree_with_the_reference():
    """floor_case (test_shadow_prices): admitting the 5 USD vendor on gore saves 280 USD a week (re-solved, as the
    reference); with the vendor at 20 USD (dearer than home's 10 on gore) admitting it saves 0, proven by the duals."""
    ws, req = floor_case()
    new, new_records, cold, _ = both(ws, req)
    key = ("quality_floor", "severity 1")
    assert new_records[0]["method"] == "re_solve"
    assert new[key][0] == pytest.approx(cold[key][0], rel=1e-6) and new[key][0] == pytest.approx(280.0, abs=0.02)

    cfg = config(severe_graphic_min_quality=0.9, exposure_max_share=1.0, exposure_max_hours_per_day=24.0)
    cfg.solver.price_rules = True
    ws = workspace(cfg, [queue("gore", severity=1, egregious=True), queue("text", severity=3)],
                   [pool("home", queues=("gore",), rate=10.0), pool("bpo", queues=("gore", "text"), vendor="v", rate=20.0)],
                   [shift(days=7, start_days=("Mon",))], vendors=[vendor("v", quality=0.85)])
    new, new_records, cold, cold_records = both(ws, req)
    assert [x["method"] for x in new_records] == ["dual_bound"] and [x["method"] for x in cold_records] == ["re_solve"]
    assert new[key][0] == cold[key][0] == 0.0


def test_without_duals_the_step_is_re_solved_and_without_a_relaxation_both_are_solved_here():
    """A cost before without duals: the reference method. No relaxation at all (before None, as after backend scip):
    it is solved here with its duals, and the zero step of the Mon-Fri case is then proven as with the plan's."""
    ws, req = two_shift_pool()
    r = solve_plan(ws, req, with_baseline=False, price_rules=False)
    d = prepare(ws, req)
    deadline = time.perf_counter() + 60
    prices, records = price_rules(d, r.binding, ws.config.solver, before=r.solve["phases"]["relaxation_objective"],
                                  deadline=deadline, duals=None)
    assert [x["method"] for x in records] == ["re_solve"]
    assert prices[("overtime_cap", "a")][0] == pytest.approx(385.0, abs=0.01)
    cfg = ws.config
    req = requirements(cfg, {("q", "en"): daily_profile([1, 1, 1, 1, 1, 1, 0], cfg, range(8, 16))})
    r = solve_plan(ws, req, with_baseline=False, price_rules=False)
    prices, records = price_rules(prepare(ws, req), r.binding, ws.config.solver, before=None, deadline=deadline)
    assert [x["method"] for x in records] == ["dual_bound"] and prices[("overtime_cap", "a")][0] == 0.0



def test_a_floor_step_that_adds_a_language_cap_is_always_re_solved():
    """Gore in English is home's alone at the 0.9 floor, text is German (bpo only); with English critical, admitting
    bpo on gore makes it English's second provider, which caps both providers' shares: a new limit, so the step may
    cost more and the duals' bound proves nothing. The step says so and is re-solved, as the reference."""
    from capplan.optimize.rule_prices import quality_step

    cfg = config(severe_graphic_min_quality=0.9, exposure_max_share=1.0, exposure_max_hours_per_day=24.0,
                 critical_languages=["en"])
    cfg.solver.price_rules = True
    ws = workspace(cfg, [queue("gore", severity=1, egregious=True), queue("text", severity=3)],
                   [pool("home", queues=("gore",), rate=10.0),
                    pool("bpo", queues=("gore", "text"), languages=("en", "de"), vendor="v", rate=5.0)],
                   [shift(days=7, start_days=("Mon",))], vendors=[vendor("v", quality=0.85)])
    req = requirements(cfg, {("gore", "en"): daily_profile([1] * 7, cfg, range(8)), ("text", "de"): daily_profile([1] * 7, cfg, range(8))})
    assert not quality_step(prepare(ws, req), 1).relaxes
    new, new_records, cold, _ = both(ws, req)
    key = ("quality_floor", "severity 1")
    assert [x["method"] for x in new_records] == ["re_solve"] and new_records[0]["dual_bound"] is None
    assert new[key][0] == pytest.approx(cold[key][0], rel=1e-6)
