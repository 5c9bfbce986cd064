"""Shadow prices in money (issue 12): binding.csv's price of a limit against a second method.

The second method re-solves the LP relaxation with the limit moved by one unit and takes the change of the
objective; for an LP the dual is exactly that slope while the basis stays optimal (Bertsimas and Tsitsiklis,
Introduction to Linear Optimization, 1997, section 5.2).
"""

from __future__ import annotations

import time

import pandas as pd
import pytest

from _optimize_data import config, daily_profile, pool, queue, requirements, shift, vendor, workspace
from capplan.optimize import solve_plan
from capplan.optimize.data import prepare
from capplan.optimize.extract import _bind_shares
from capplan.optimize.model import build, mathopt
from capplan.optimize.solve import _lp
from capplan.schema import LANGUAGE, PRODUCTIVE_HOURS, VENDOR
from test_contracts import one_pool


def relaxation_cost(ws, req, moved: dict[str, float] | None = None) -> float:
    """Objective of the LP relaxation [currency over the window], with the named rows' bounds moved by the given amounts."""
    b = build(prepare(ws, req))
    for v in b.staff_vars:
        v.integer = False
    for row in b.model.linear_constraints():
        if moved and row.name in moved:
            row.lower_bound += moved[row.name]
            row.upper_bound += moved[row.name]
    solved = _lp(b, mathopt().SolverType.HIGHS, time.perf_counter() + 30, "highs")
    return solved.objective


def price(result, kind: str) -> tuple[float, str]:
    row = result.binding.set_index("kind").loc[kind]
    return float(row["shadow_price"]), str(row["shadow_unit"])


def test_roster_price_is_the_cost_change_of_one_more_employee():
    """3 needed Mon-Fri 08-16 and 2 on Saturday, 2 employees at 40 h, no overtime or temps: 56 h a week unmet.

    By hand: one more employee costs 40 h x 10 USD and serves 40 unmet hours (400 USD each): 15,600 USD a week.
    (With 1 employee and work Mon-Fri only the relaxation is degenerate: the one employee's pattern sits at its
    variable bound too, and the duals give 12,427 against a re-solved 12,400: a first-order estimate.)"""
    ws, req = one_pool([("a", 2, 40.0)], per_day=(3, 3, 3, 3, 3, 2, 0), overtime_max_hours_per_week=0.0)
    r = solve_plan(ws, req, with_baseline=False)
    value, unit = price(r, "roster")
    assert "per extra employee" in unit
    rows = {"roster[pool=a,weekly_hours=40]": 1.0, "headcount[pool=a]": 1.0}  # the group's count and the pool's bounds
    second = relaxation_cost(ws, req) - relaxation_cost(ws, req, rows)
    assert value == pytest.approx(second, rel=1e-4)
    assert value == pytest.approx(40 * 400.0 - 40 * 10.0, rel=1e-4)


def test_temp_cap_price_is_the_cost_change_of_one_more_temp():
    """5 needed Mon-Fri, 2 employees and at most 1 temp (share 0.5): 80 h unmet; one more temp serves 40 of them
    at 1.3 x 10 USD an hour: 40 x 400 - 520 = 15,480 USD a week."""
    ws, req = one_pool([("a", 2, 40.0)], per_day=(5, 5, 5, 5, 5, 0, 0), temp_max_share=0.5, overtime_max_hours_per_week=0.0)
    r = solve_plan(ws, req, with_baseline=False)
    value, unit = price(r, "temp_cap")
    assert "per extra temp" in unit
    second = relaxation_cost(ws, req) - relaxation_cost(ws, req, {"headcount[pool=a]": 1.0})
    assert value == pytest.approx(second, rel=1e-4)
    assert value == pytest.approx(40 * 400.0 - 1.3 * 40 * 10.0, rel=1e-4)
    assert "roster" in set(r.binding["kind"]) and "pool_max_headcount" not in set(r.binding["kind"])


def test_a_share_just_under_its_cap_is_binding():
    """A vendor at 74.99 % of a language under a 75 % cap binds (relative tolerance); at 74 % it does not."""
    cfg = config()
    ws = workspace(cfg, [queue("q")], [pool("ih"), pool("b", vendor="bpo")], [shift()], vendors=[vendor("bpo", share=0.75)])
    d = prepare(ws, requirements(cfg, {("q", "en"): daily_profile([1] * 7, cfg, range(8))}))
    assert d.language_caps == {("bpo", "en"): 0.75}
    for share, binds in ((0.7499, True), (0.74, False)):
        alloc = pd.DataFrame({VENDOR: ["bpo", "inhouse"], LANGUAGE: ["en", "en"], PRODUCTIVE_HOURS: [share * 100, (1 - share) * 100]})
        assert bool(_bind_shares(d, alloc)) is binds, share
