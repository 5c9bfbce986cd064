"""Badly scaled but valid inputs (issue 13, class 2) and the one deferred-work deadline (class 7).

Every solver test ends with the independent checker.
"""

from __future__ import annotations

import numpy as np
import pytest

from _optimize_data import config, daily_profile, pool, queue, requirements, shift, vendor, workspace
from capplan.errors import ConfigError, InputError, SolverError
from capplan.optimize import check_plan, solve_plan
from capplan.optimize.data import prepare
from capplan.optimize.model import Scale, _decade, build, choose_scale


def _instance(rate=10.0, big=1.0, penalty=None, currency="USD", fx=None):
    """Two realtime cells (one `big` times the other), a deferred egregious cell, an in-house and a vendor pool."""
    kw = {}
    if penalty is not None:
        kw["unmet_penalty_per_hour"] = {1: penalty, 2: penalty, 3: penalty}
    if fx is not None:
        kw["fx"] = fx
    cfg = config(**kw)
    cfg.solver.relative_gap = 0.01
    ws = workspace(cfg, [queue("q"), queue("d", kind="deferred", within_s=4 * 3600, egregious=True)],
                   [pool("a", queues=("q", "d"), languages=("en", "es"), rate=rate, currency=currency, shifts=("day", "night")),
                    pool("b", queues=("d",), languages=("en", "es"), vendor="v", rate=rate * 0.8, currency=currency, max_hc=50)],
                   [shift("day", "08:00", days=5), shift("night", "20:00", days=5)], vendors=[vendor("v", min_h=100)])
    rng = np.random.default_rng(1)
    req = requirements(cfg, {("q", "en"): daily_profile([3, 3, 3, 3, 3, 2, 2], cfg, range(8, 20)),
                             ("q", "es"): daily_profile([1] * 7, cfg, range(8, 20)) * big,
                             ("d", "en"): rng.uniform(0, 2, 168), ("d", "es"): rng.uniform(0, 0.01, 168)},
                       kinds={"q": "realtime", "d": "deferred"})
    return ws, req


def _checked(ws, req):
    r = solve_plan(ws, req, with_baseline=False)
    assert r.checks == [] and check_plan(ws, req, r) == []
    assert r.solve["status"] in ("optimal", "feasible", "time_limit_feasible")
    return r


def test_units_are_one_for_ordinary_inputs_and_powers_of_ten_otherwise():
    assert [_decade(x) for x in (1.0, 12.0, 999.0)] == [1.0, 1.0, 1.0]
    assert _decade(1e5) == 1e3 and 1e5 / _decade(1e5) == 100.0
    assert _decade(1e4) == 100.0 and _decade(0.02) == 0.01
    assert _decade(0.0) == 1.0 and _decade(float("nan")) == 1.0
    ws, req = _instance()
    assert choose_scale(prepare(ws, req)) == Scale(1.0, 1.0)
    ws, req = _instance(rate=1e5, big=1e4)
    assert choose_scale(prepare(ws, req)) == Scale(money=100.0, hours=100.0)  # median rate 9e4 -> 900 units of 100


def test_cost_in_a_weak_currency_gives_the_same_plan_scaled():
    """Costs and penalties x 10,000 (1e5 per hour): an LP's optimum is unchanged by scaling its objective."""
    runs = []
    for kw in ({"penalty": 2000.0}, {"rate": 1e5, "penalty": 2000.0 * 1e4}):
        ws, req = _instance(**kw)
        ws.config.solver.relative_gap = 0.0
        r = _checked(ws, req)
        runs.append(r.solve["total_cost"] + r.solve["penalty"])
    assert runs[1] == pytest.approx(runs[0] * 1e4, rel=1e-4)  # up to the tie-breaker


def test_cell_with_ten_thousand_times_the_volume_is_a_priced_shortfall():
    """Was 'StatusNotOk has no attribute canonical_code'. Pool a has at most 1,000 moderators: the rest is unmet."""
    ws, req = _instance(big=1e4)
    # a terminal week end (no opening backlog): the cyclic week stops at 997 of the 1,000 heads, inside the 1 % gap
    ws.config.planning.week_end = "terminal"
    r = _checked(ws, req)
    short = r.shortfalls.groupby(["queue", "language"])["unmet_hours"].sum()
    need = req[(req["queue"] == "q") & (req["language"] == "es")]["required_productive"].sum()  # hourly: hours = moderators
    assert short[("q", "es")] > 0.8 * need
    assert "pool_max_headcount" in set(r.binding["kind"])


@pytest.mark.parametrize("kw", [{"penalty": 1e12}, {"rate": 1e-3}, {"rate": 1e5, "big": 1e4, "penalty": 1e12},
                                {"rate": 1e5, "currency": "PHP", "fx": {"USD": 1.0, "PHP": 0.0175}}])
def test_extreme_but_valid_numbers_give_a_checked_plan(kw):
    ws, req = _instance(**kw)
    _checked(ws, req)


def test_without_scaling_the_lp_ladder_recovers(monkeypatch):
    """Units forced to 1: HiGHS's interior point fails on the 10,000x cell; barrier + crossover solves it."""
    from capplan.optimize import model

    monkeypatch.setattr(model, "choose_scale", lambda d: Scale())
    ws, req = _instance(big=1e4)
    r = _checked(ws, req)
    assert r.solve["phases"]["relaxation_algorithm"] in ("barrier+crossover", "dual_simplex")


def test_solver_failure_names_the_solver_message_and_the_data_ranges(monkeypatch):
    """MathOpt hides HiGHS's message behind an AttributeError (or-tools #4606): it is recovered."""
    from capplan.optimize import solve as solve_module

    def failing(*args, **kwargs):
        try:
            raise RuntimeError("HighsModelStatus was Unknown [INTERNAL]")
        except RuntimeError:
            raise AttributeError("'StatusNotOk' object has no attribute 'canonical_code'")

    ws, req = _instance()
    b = build(prepare(ws, req))
    mo = solve_module.mathopt()
    monkeypatch.setattr(mo, "solve", failing)
    with pytest.raises(SolverError) as info:
        solve_module.solve(b, ws.config.solver)
    text = str(info.value)
    assert "HighsModelStatus was Unknown" in text and "pool rates 8-10" in text and "Fix:" in text
    assert "canonical_code" not in text


def test_infinite_numbers_are_clear_errors():
    ws, req = _instance(penalty=float("inf"))
    with pytest.raises(ConfigError, match="unmet_penalty_per_hour"):
        solve_plan(ws, req, with_baseline=False)
    ws, req = _instance(currency="PHP", fx={"USD": 1.0, "PHP": float("inf")})
    with pytest.raises(ConfigError, match="fx PHP"):
        solve_plan(ws, req, with_baseline=False)
    ws, req = _instance()
    ws.pools.loc[1, "cost_per_hour"] = float("inf")
    with pytest.raises(InputError) as info:
        solve_plan(ws, req, with_baseline=False)
    assert info.value.problems[0].row == 3 and info.value.problems[0].column == "cost_per_hour"


def test_deadline_of_90_minutes_on_hourly_intervals_is_the_arrival_interval():
    """One definition (staffing.backlog.due_shift): 90 min on 1 h intervals -> due by the end of the arrival
    interval (the end of the next one, 2 h, would be late). Work arrives at 10:00, the only shift starts at
    11:00: all of it is late. With the optimizer's old ceil rule it was 'done on time' at 11:00-12:00."""
    from capplan.staffing.backlog import due_interval_index, due_shift

    assert due_shift(60, 90 * 60) == 0 and due_shift(60, 4 * 3600) == 3 and due_shift(60, 30 * 60) == 0
    assert due_shift(30, 90 * 60) == 2 and due_shift(60, 2 * 3600) == 1
    assert due_interval_index(3, 60, 90 * 60).tolist() == [0, 1, 2]
    cfg = config()
    ws = workspace(cfg, [queue("d", kind="deferred", within_s=90 * 60, severity=3)], [pool("a", queues=("d",))],
                   [shift(start="11:00", days=7, start_days=("Mon",))])
    req = requirements(cfg, {("d", "en"): daily_profile([1] * 7, cfg, [10])}, kinds={"d": "deferred"})
    r = _checked(ws, req)
    assert r.solve["unmet_hours"] == pytest.approx(7.0)
    assert r.solve["moderators"] == 0
    assert prepare(ws, req).cells["due_shift"].tolist() == [0]
