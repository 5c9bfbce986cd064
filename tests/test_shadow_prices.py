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
from test_contracts import one_pool, roster


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

    By hand: one more employee costs 40 h x 10 USD and serves 40 unmet hours (400 USD each): 15,600 USD a week."""
    ws, req = one_pool([("a", 2, 40.0)], per_day=(3, 3, 3, 3, 3, 2, 0), overtime_max_hours_per_week=0.0)
    r = solve_plan(ws, req, with_baseline=False)
    value, unit = price(r, "roster")
    assert "per extra employee" in unit
    rows = {"roster[pool=a,weekly_hours=40]": 1.0, "headcount[pool=a]": 1.0}  # the group's count and the pool's bounds
    second = relaxation_cost(ws, req) - relaxation_cost(ws, req, rows)
    assert value == pytest.approx(second, rel=1e-4)
    assert value == pytest.approx(40 * 400.0 - 40 * 10.0, rel=1e-4)


def test_roster_price_when_the_one_employees_pattern_holds_the_cap():
    """1 employee and work Mon-Fri only: the employee's pattern sits at its own upper bound (the pool's max_headcount)
    as well as at the rows, and the relaxation's duals put part of the price there (the rows alone read 12,497).
    By hand as above: 15,600 USD a week; second method: the relaxation with 2 employees (rows and bounds moved)."""
    ws, req = one_pool([("a", 1, 40.0)], per_day=(3, 3, 3, 3, 3, 0, 0), overtime_max_hours_per_week=0.0)
    value, _ = price(solve_plan(ws, req, with_baseline=False), "roster")
    more, _ = one_pool([("a", 2, 40.0)], per_day=(3, 3, 3, 3, 3, 0, 0), overtime_max_hours_per_week=0.0)
    assert value == pytest.approx(relaxation_cost(ws, req) - relaxation_cost(more, req), rel=1e-4)
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


# --- limits that are rules of the patterns and skills: priced by re-solving the relaxation (optimize/rule_prices.py) ----
def relaxation_objective(ws, req) -> float:
    """The plan's LP relaxation cost [currency over the window], as solve_plan's bound comes from it."""
    return solve_plan(ws, req, with_baseline=False).solve["phases"]["relaxation_objective"]


def two_shift_pool(cap: float = 8.0):
    """One 40 h employee, an 8 h day shift (5 days a week) and a 10 h long shift (4 days), both from Monday only;
    1 moderator needed Mon-Sat 08-18 (60 h), realtime at 400 USD per unmet hour, rate 10 USD."""
    cfg = config()
    cfg.contracts.overtime_max_hours_per_week = cap
    cfg.solver.price_rules = True
    ws = workspace(cfg, [queue("q")], [pool("a", rate=10.0, shifts=("day", "long"))],
                   [shift("day", start="08:00", paid_hours=8.0, days=5, start_days=("Mon",)),
                    shift("long", start="08:00", paid_hours=10.0, days=4, start_days=("Mon",))])
    ws.roster = roster(("a", 1, 40.0))
    return ws, requirements(cfg, {("q", "en"): daily_profile([1, 1, 1, 1, 1, 1, 0], cfg, range(8, 18))})


def test_overtime_cap_price_is_the_relaxation_saving_of_the_next_cap_per_hour():
    """By hand: at cap 8 the best is the day shift with a sixth day (Mon-Sat 08-16, 48 h): 400 + 1.5 x 8 x 10 = 520 USD
    and 12 h unmet x 400 = 5,320. The next cap that admits a pattern is 10 h (the long shift's fifth day, Mon-Fri
    08-18, 50 h: 400 + 1.5 x 10 x 10 = 550 and 10 h unmet x 400 = 4,550): 770 USD a week for 2 h more cap, 385 USD a
    week per extra overtime hour per employee. Second method: planning again with the cap at 10 h."""
    ws, req = two_shift_pool()
    r = solve_plan(ws, req, with_baseline=False)
    value, unit = price(r, "overtime_cap")
    assert "per extra overtime hour per employee" in unit and "cap 8 -> 10 h" in unit
    assert value == pytest.approx(770.0 / 2, abs=0.01)  # a saving: positive; per hour of cap, not per step
    record = r.solve["rule_prices"][0]
    assert record["saving_per_week"] == pytest.approx(770.0, abs=0.01)
    moved, _ = two_shift_pool(cap=10.0)
    second = (r.solve["phases"]["relaxation_objective"] - relaxation_objective(moved, req)) / (10.0 - 8.0)
    assert value == pytest.approx(second, abs=0.005)


def test_overtime_cap_no_higher_cap_relaxes_is_worth_nothing():
    """8 h shifts, 40 h contract: overtime is one extra shift, the sixth day, at any cap of 8 h or more, so raising
    the cap admits no pattern and saves exactly 0 (no re-solve); the unit names the rules that hold it."""
    ws, req = one_pool([("a", 1, 40.0)], per_day=(1, 1, 1, 1, 1, 1, 1))
    ws.config.solver.price_rules = True
    r = solve_plan(ws, req, with_baseline=False)
    value, unit = price(r, "overtime_cap")
    assert value == 0.0 and "max_consecutive_days 6" in unit
    assert "rule_prices" not in r.solve or not r.solve["rule_prices"]


def floor_case(floor: float = 0.9, home_max: int = 1000):
    """Severity-1 graphic work (gore) and severity-3 text, 1 moderator each 00-08 every day (56 h); in-house home
    (quality 1, 10 USD, gore only) and vendor pool bpo (quality 0.85, 5 USD, both), one 7-day pattern from Monday."""
    cfg = config(severe_graphic_min_quality=floor, exposure_max_share=1.0, exposure_max_hours_per_day=24.0)
    cfg.solver.price_rules = True
    ws = workspace(cfg, [queue("gore", severity=1, egregious=True), queue("text", severity=3)],
                   [pool("home", queues=("gore",), rate=10.0, max_hc=home_max), pool("bpo", queues=("gore", "text"), vendor="v", rate=5.0)],
                   [shift(days=7, start_days=("Mon",))], vendors=[vendor("v", quality=0.85)])
    req = requirements(cfg, {("gore", "en"): daily_profile([1] * 7, cfg, range(8)), ("text", "en"): daily_profile([1] * 7, cfg, range(8))})
    return ws, req


def test_quality_floor_price_is_the_relaxation_saving_of_admitting_the_next_pool():
    """By hand: with the 0.9 floor home works gore (56 h x 10 = 560) and bpo text (56 h x 5 = 280); lowering the
    severity-1 floor to 0.85 admits bpo on gore (112 h x 5 = 560): 280 USD a week, less 0.0084 of tie-breaker.
    Second method: planning again with the floor at 0.85."""
    ws, req = floor_case()
    r = solve_plan(ws, req, with_baseline=False)
    row = r.binding.set_index(["kind", "name"]).loc[("quality_floor", "severity 1")]
    assert "keeps bpo (0.85) off 1 cell: gore/en" in row["detail"]
    assert "per quality floor step of severity 1" in row["shadow_unit"] and "admitting bpo" in row["shadow_unit"]
    assert float(row["shadow_price"]) == pytest.approx(280.0, abs=0.02)
    moved, _ = floor_case(floor=0.85)
    second = r.solve["phases"]["relaxation_objective"] - relaxation_objective(moved, req)
    assert float(row["shadow_price"]) == pytest.approx(second, abs=0.005)


def test_rule_limits_not_priced_say_why():
    """Not opted in (the default), and no time left: a NaN price and the reason in the unit; a cell the floor leaves
    unmet names its severity's floor among the reasons of its shortfall."""
    from capplan.optimize import rule_prices

    ws, req = floor_case(home_max=0)  # nobody may work gore: all of it unmet
    ws.config.solver.price_rules = False
    r = solve_plan(ws, req, with_baseline=False)
    value, unit = price(r, "quality_floor")
    assert pd.isna(value) and unit.startswith("not priced") and "price_rules = true" in unit
    assert "quality_floor severity 1" in set(r.shortfalls["reason"].str.split("; ").explode().str.removeprefix("limits bind: "))
    ws.config.solver.price_rules = True
    prices, records = rule_prices.price_rules(prepare(ws, req), r.binding, ws.config.solver, before=None, deadline=time.perf_counter() - 1)
    value, unit = prices[("quality_floor", "severity 1")]
    assert pd.isna(value) and unit.startswith("not priced: no time left") and records == []


# --- prices of 0, and a pool whose one shift pattern holds all its moderators ---------------------------------------
def cap_case(level: float = 3.4, vendor_cap: float | None = None, cap: int = 2):
    """Pool a (10 USD, at most ``cap``, vendor v when ``vendor_cap`` is given, else in-house) and pool c (in-house,
    15 USD), one 7-day pattern from Monday (56 paid h a week), ``level`` moderators needed 00-08 every day (realtime)."""
    cfg = config()
    vendors = [vendor("v", max_h=vendor_cap)] if vendor_cap is not None else []
    ws = workspace(cfg, [queue("q")], [pool("a", vendor="v" if vendors else "inhouse", rate=10.0, max_hc=cap), pool("c", rate=15.0)],
                   [shift(days=7, start_days=("Mon",))], vendors=vendors)
    return ws, requirements(cfg, {("q", "en"): daily_profile([level] * 7, cfg, range(8))})


def test_a_one_pattern_pool_at_its_cap_is_priced():
    """One shift pattern for pool a, 2 moderators at most, 3.4 needed: the relaxation staffs a = 2 and c = 1.4. By hand
    one more of a replaces a moderator-week of c: 56 h x (15 - 10) = 280 USD a week. The cap is the headcount row's
    bound and the pattern's own: the relaxation's dual sat on the latter and the row read no price. Second method:
    the relaxation with the cap at 3 (a = 3, c = 0.4)."""
    ws, req = cap_case()
    value, unit = price(solve_plan(ws, req, with_baseline=False), "pool_max_headcount")
    assert unit == "USD/week per moderator"
    assert value == pytest.approx(280.0, abs=0.02)
    assert value == pytest.approx(relaxation_cost(ws, req) - relaxation_cost(*cap_case(cap=3)), rel=1e-4)


def test_a_limit_that_saves_nothing_at_the_margin_reads_zero_and_says_why():
    """Pool a is vendor v's only pool, and v's cap of 112 paid h a week is exactly a's 2 moderators: both limits bind
    and hold the same hours. Relaxing either alone saves nothing (the other still holds a at 112 h); relaxing both
    saves 280 USD a week per moderator (as above). The relaxation's duals put the whole of it on one limit: the other
    reads 0, with its unit and why, not NaN; the sum of the two, per their units, is the saving of relaxing both."""
    ws, req = cap_case(vendor_cap=112.0)
    r = solve_plan(ws, req, with_baseline=False)
    hc, hc_unit = price(r, "pool_max_headcount")
    cap, cap_unit = price(r, "vendor_max_hours")
    base = relaxation_cost(ws, req)
    assert base - relaxation_cost(ws, req, {"vendor_max[vendor=v]": 1.0}) == pytest.approx(0.0, abs=1e-4)
    assert base - relaxation_cost(*cap_case(vendor_cap=112.0, cap=3)) == pytest.approx(0.0, abs=1e-4)
    both = base - relaxation_cost(*cap_case(vendor_cap=112.0, cap=3), {"vendor_max[vendor=v]": 56.0})
    assert both == pytest.approx(280.0, abs=0.05)
    assert hc + 56 * cap == pytest.approx(both, abs=0.05)
    zero = [(v, u) for v, u in ((hc, hc_unit), (cap, cap_unit)) if v == 0.0]
    assert len(zero) == 1 and "; 0 at the margin: relaxing this limit alone saves nothing" in zero[0][1]
    assert zero[0][1].startswith("USD/week per")
    assert r.binding["shadow_unit"].str.len().gt(0).all()
