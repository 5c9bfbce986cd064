"""Employment contracts, no slivers and vendor stability (issue 12): tiny hand-checkable plans."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from _optimize_data import config, daily_profile, pool, queue, requirements, shift, vendor, workspace
from capplan.errors import InputError, SolverError
from capplan.optimize import check_plan, solve_plan
from capplan.optimize.check import check_contracts, check_pair_min_hours


def roster(*rows) -> pd.DataFrame:
    """(pool, headcount, weekly_hours) rows on the roster today."""
    return pd.DataFrame({"pool": [r[0] for r in rows], "headcount": [r[1] for r in rows],
                         "class_start": pd.NaT, "weekly_hours": [r[2] for r in rows]})


def plan(ws, req, **kw):
    r = solve_plan(ws, req, with_baseline=False, **kw)
    assert r.checks == [], r.checks
    assert r.solve["status"] == "optimal"
    return r


def one_pool(rows, days=5, paid=8.0, per_day=(1, 1, 1, 1, 1, 1, 1), **contracts):
    cfg = config()
    for k, v in contracts.items():
        setattr(cfg.contracts, k, v)
    ws = workspace(cfg, [queue("q")], [pool("a", rate=10.0, shifts=("day",))], [shift(start="08:00", paid_hours=paid, days=days)])
    ws.roster = roster(*rows)
    req = requirements(cfg, {("q", "en"): daily_profile(list(per_day), cfg, range(8, 16))})
    return ws, req


def test_rostered_employees_are_all_scheduled_and_paid_their_contract():
    """1 moderator needed 08-16 every day: 2 would do (7 days / 5-day patterns), the roster has 3 at 40 h: all 3 work, 3 x 40 x 10 USD."""
    ws, req = one_pool([("a", 3, 40.0)])
    r = plan(ws, req)
    assert r.solve["moderators"] == 3
    assert r.solve["cost"] == pytest.approx(3 * 40 * 10.0)
    assert set(r.patterns["contract"]) == {"contract"} and (r.patterns["days_per_week"] == 5).all()
    assert r.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)


def test_part_time_contract_pays_hours_no_pattern_can_schedule():
    """20 h contracts with 8 h shifts: 2 days (16 h) scheduled, 20 h paid: 2 x 20 x 10 = 400 USD."""
    ws, req = one_pool([("a", 2, 20.0)], per_day=(1, 1, 0, 0, 0, 0, 0))
    r = plan(ws, req)
    assert (r.patterns["days_per_week"] == 2).all() and r.patterns["moderators"].sum() == 2
    assert r.solve["cost"] == pytest.approx(2 * 20 * 10.0)
    assert r.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)


def test_overtime_day_at_premium_beats_unmet_work():
    """One 40 h employee, work Mon-Sat: a sixth day at 1.5 x (520 USD) beats 8 unmet hours at 400 USD/h."""
    ws, req = one_pool([("a", 1, 40.0)], per_day=(1, 1, 1, 1, 1, 1, 0))
    r = plan(ws, req)
    assert list(r.patterns["contract"]) == ["overtime"] and list(r.patterns["start_day"]) == ["Mon"]
    assert r.solve["cost"] == pytest.approx(40 * 10.0 + 1.5 * 8 * 10.0)
    assert r.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)


def test_no_overtime_when_the_cap_is_below_a_shift():
    ws, req = one_pool([("a", 1, 40.0)], per_day=(1, 1, 1, 1, 1, 1, 0), overtime_max_hours_per_week=4.0)
    r = plan(ws, req)
    assert list(r.patterns["contract"]) == ["contract"]
    assert r.solve["unmet_hours"] == pytest.approx(8.0)


def test_temps_at_their_rate_within_the_cap():
    """2 needed Mon-Fri, 1 on the roster: one temp at 1.3 x 10 USD x 40 h = 520 USD."""
    ws, req = one_pool([("a", 1, 40.0)], per_day=(2, 2, 2, 2, 2, 0, 0), temp_max_share=1.0)
    r = plan(ws, req)
    kinds = r.patterns.groupby("contract")["moderators"].sum().to_dict()
    assert kinds == {"contract": 1, "temp": 1}
    assert r.solve["cost"] == pytest.approx(400.0 + 1.3 * 400.0)


def test_max_consecutive_days_shortens_the_rota():
    ws, req = one_pool([("a", 1, 40.0)], max_consecutive_days=4)
    r = plan(ws, req)
    assert (r.patterns["days_per_week"] <= 4).all()
    assert r.solve["cost"] == pytest.approx(400.0)  # 32 h scheduled, 40 h paid


def test_rest_between_shifts_rules_out_long_shifts():
    """A 15 h shift leaves 9 h until the next day's start: below 11 h rest no contract pattern exists."""
    ws, req = one_pool([("a", 1, 40.0)], paid=15.0)
    with pytest.raises(InputError, match="no shift pattern fits"):
        solve_plan(ws, req, with_baseline=False)
    ws.config.contracts.min_rest_hours = 8.0
    r = plan(ws, req)
    # floor(40 / 15) = 2 contract days; a third day is 5 h overtime (within 8 h): 400 + 1.5 x 5 x 10 USD
    assert list(r.patterns["contract"]) == ["overtime"] and list(r.patterns["days_per_week"]) == [3]
    assert r.solve["cost"] == pytest.approx(475.0)


def test_checker_catches_broken_contracts():
    ws, req = one_pool([("a", 3, 40.0)])
    r = plan(ws, req)
    bad = r.patterns.copy()
    bad.loc[0, "moderators"] -= 1
    assert any("roster has 3" in m for m in check_contracts(ws, type(r)(**{**r.__dict__, "patterns": bad})))
    bad = r.patterns.copy()
    bad["days_per_week"] = 7
    found = check_contracts(ws, type(r)(**{**r.__dict__, "patterns": bad}))
    assert any("consecutive days > 6" in m for m in found) and any("paid h/week > 40" in m for m in found)


def test_baseline_schedules_the_roster_at_contracted_hours():
    from capplan.optimize import baseline_plan

    ws, req = one_pool([("a", 3, 40.0)])
    base = baseline_plan(ws, req)
    assert check_plan(ws, req, base) == []
    assert base.solve["moderators"] == 3 and base.solve["cost"] == pytest.approx(1200.0)


def two_pools(min_pair: float, previous=None, price: float = 0.0, rate_a: float = 5.0):
    cfg = config()
    cfg.contracts.min_pair_weekly_hours = min_pair
    cfg.contracts.vendor_change_price_per_hour = price
    ws = workspace(cfg, [queue("q")], [pool("a", rate=rate_a, shifts=("day",)), pool("b", vendor="bpo", rate=5.0, shifts=("evening",))],
                   [shift("day", start="08:00"), shift("evening", start="16:00")], [vendor("bpo")])
    if previous is not None:
        ws.previous_vendor_hours = previous
    return cfg, ws


def test_no_slivers_closes_a_seven_hour_pair():
    """Work 08-17 daily: the evening vendor is needed only 16-17, 7 h a week; with an 8 h minimum it works the queue 8 h.

    Cheaper than 7 unmet hours at 400 USD/h: a second evening moderator (8 h x 7 x 5 USD) gives the eighth hour.
    """
    cfg, ws = two_pools(0.0)
    req = requirements(cfg, {("q", "en"): daily_profile([1] * 7, cfg, range(8, 17))})
    r = plan(ws, req)
    assert r.allocation.loc[r.allocation["pool"] == "b", "productive_hours"].sum() == pytest.approx(7.0)
    assert check_pair_min_hours(ws := two_pools(8.0)[1], r)  # the same plan breaks the rule once it is on
    r = plan(ws, req)
    assert r.allocation.loc[r.allocation["pool"] == "b", "productive_hours"].sum() == pytest.approx(8.0)
    assert r.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)
    ws.config.policy.unmet_penalty_per_hour = {1: 60.0, 2: 60.0, 3: 60.0}  # 280 USD (one moderator) < 7 h x 60 < 560 USD (two)
    r = plan(ws, req)
    assert r.allocation.loc[r.allocation["pool"] == "b", "productive_hours"].sum() == pytest.approx(0.0, abs=1e-6)
    assert r.solve["unmet_hours"] == pytest.approx(7.0)


def test_vendor_stability_prices_moving_hours():
    """Vendor b (5 USD/h) is cheaper than a (10 USD/h) by 56 x 5 = 280 USD; moving 56 h from a previous 0 h costs 56 x price."""
    for price, b_hours in ((20.0, 0.0), (1.0, 56.0)):
        cfg, ws = two_pools(0.0, previous={"bpo": 0.0}, price=price, rate_a=10.0)
        ws.shifts = pd.DataFrame([shift("day", start="08:00"), shift("evening", start="08:00")])
        req = requirements(cfg, {("q", "en"): daily_profile([1] * 7, cfg, range(8, 16))})
        r = plan(ws, req)
        assert r.allocation.loc[r.allocation["pool"] == "b", "productive_hours"].sum() == pytest.approx(b_hours, abs=1e-6)
        assert r.solve["vendor_change_hours"]["bpo"] == pytest.approx(b_hours, abs=1e-6)


def test_previous_vendor_hours_from_the_latest_plan(tmp_path):
    """Weekly hours per vendor = the latest plan's hours / its ISO weeks; in-house is not a vendor; off by default."""
    from types import SimpleNamespace

    from capplan.optimize.data import previous_vendor_hours

    run = tmp_path / "plans" / "20261130T120000Z"
    run.mkdir(parents=True)
    rows = ["vendor,queue,language,week,hours,items,cost", "bpo,q,en,2026-W49,30,1,1", "bpo,q,es,2026-W50,50,1,1", "inhouse,q,en,2026-W49,99,1,1"]
    (run / "vendor_allocation.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "plans" / "latest").write_text("20261130T120000Z\n", encoding="utf-8")
    cfg = config()
    ws = SimpleNamespace(config=cfg, root=tmp_path)
    assert previous_vendor_hours(ws) == {}
    cfg.contracts.vendor_change_price_per_hour = 1.0
    assert previous_vendor_hours(ws) == {"bpo": pytest.approx(40.0)}
    assert previous_vendor_hours(SimpleNamespace(config=cfg, root=tmp_path / "nothing")) == {}


def test_roster_weekly_hours_above_the_week_is_an_error_and_groups_split_a_pool(tmp_path):
    from _ws import make_workspace
    from capplan.inputs import load_workspace
    from capplan.inputs.roster import read_roster
    from capplan.optimize.data import roster_groups

    root = make_workspace(tmp_path)
    ws = load_workspace(root)
    start = pd.Timestamp(ws.config.planning.start, tz="UTC")
    (root / "inputs" / "roster.csv").write_text("pool,headcount,class_start,weekly_hours\ndub-ih,20,,\ndub-ih,5,,200\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_roster(root, pools=ws.pools, start=start)
    assert "row 3, column 'weekly_hours'" in str(info.value)
    (root / "inputs" / "roster.csv").write_text("pool,headcount,class_start,weekly_hours\ndub-ih,20,,\ndub-ih,5,,20\ndub-ih,3,2099-01-05,\n",
                                                encoding="utf-8")
    groups = roster_groups(ws, ws.pools.sort_values("pool").reset_index(drop=True), start)
    assert groups[["pool", "weekly_hours", "headcount"]].values.tolist() == [["dub-ih", 20.0, 5], ["dub-ih", 40.0, 20]]


def _relaxed_slivers(min_pair: float, vendor_max_h: float | None = None):
    """relax_round_fix on the seven-hour case of :func:`test_no_slivers_closes_a_seven_hour_pair`: (result, vendor b's hours)."""
    from capplan.optimize.data import prepare
    from capplan.optimize.model import build
    from capplan.optimize.solve import relax_round_fix

    cfg, ws = two_pools(min_pair)
    if vendor_max_h is not None:
        ws.vendors["max_weekly_hours"] = vendor_max_h
    req = requirements(cfg, {("q", "en"): daily_profile([1] * 7, cfg, range(8, 17))})
    b = build(prepare(ws, req))
    heur = relax_round_fix(b, cfg.solver, time.perf_counter() + 30, roundings=(0.5,))
    b_hours = sum(heur.values[v] for (p, _), vs in b.alloc.items() if b.data.pools.at[p, "pool"] == "b" for v in vs.values())
    assert all(v.upper_bound == 1.0 for v in b.pair_open.values())  # every closure undone for the next phase
    assert not b.lift_price and all(b.model.objective.get_linear_coefficient(v) == 0.0 for v in b.pair_open.values())  # lifts too
    return heur, b_hours


def test_relax_round_fix_lifts_a_relaxed_sliver_near_its_minimum():
    """The relaxation gives the evening vendor 7 h of an 8 h minimum (at least half of it): the pair is lifted to 8 h
    on the relaxation solved again with its lift (rounding the first one's staffing reaches only 7 h, closed: 3,080 USD,
    above the gap), and the rounded plan is the exact MIP's (8 h, nothing unmet: one more evening moderator, 280 USD,
    against 7 unmet hours at 400 USD/h)."""
    heur, b_hours = _relaxed_slivers(8.0)
    assert heur.phases["slivers_lifted"] == 1 and heur.phases["slivers_preclosed"] == 0
    assert heur.phases["round_0.5_objective"] == pytest.approx(3080.0, abs=1.0) and heur.phases["rounding"] == "resolved_round_0.5"
    assert heur.phases["resolve_objective"] >= heur.bound - 1e-6
    assert b_hours == pytest.approx(8.0, abs=1e-3)  # interior point, no crossover
    cfg, ws = two_pools(8.0)  # the exact MIP (the small model's own method) finds the same plan
    exact = plan(ws, requirements(cfg, {("q", "en"): daily_profile([1] * 7, cfg, range(8, 17))}))
    assert exact.solve["method"] == "mip" and heur.objective == pytest.approx(exact.solve["objective"], rel=1e-6)


def test_relax_round_fix_closes_a_relaxed_sliver_far_below_its_minimum():
    """With a 20 h minimum the same 7 h are under half of it: the pair is closed before rounding (its 7 h unmet
    rather than 20 h bought: 7 x 400 USD plus the day pool's cost)."""
    heur, b_hours = _relaxed_slivers(20.0)
    assert heur.phases["slivers_preclosed"] == 1 and heur.phases["slivers_lifted"] == 0
    assert b_hours == pytest.approx(0.0, abs=1e-6)


def test_a_lift_a_hard_limit_forbids_stops_short_and_is_closed():
    """Vendor b may sell 40 paid hours a week: one evening moderator, 5 of the 7 hours. The lift is a price, not a
    bound, so the relaxation stays solvable (a bound made the 3x demo's infeasible), the pair stops short and is closed."""
    heur, b_hours = _relaxed_slivers(8.0, vendor_max_h=40.0)
    assert heur.phases["slivers_lifted"] == 1 and heur.phases["slivers_lifted_met"] == 0
    assert b_hours == pytest.approx(0.0, abs=1e-6)
    assert heur.objective >= heur.bound - 1e-6


def test_scenario_model_schedules_the_whole_roster_too():
    """risk = "scenarios" (issue 19) shares the roster rule: 2 at 40 h and 1 at 20 h on the roster, each group scheduled at
    its count and paid its contract, 2 x 40 x 10 + 20 x 10 USD. Without the rule only the pool's headcount (3) held, so
    its relaxation swapped full-timers for cheaper part-time patterns: a bound below any valid plan (the 6.5 % gap)."""
    from capplan.optimize.data import prepare, with_demand
    from capplan.optimize.stochastic import build_two_stage, cell_targets, solve_two_stage

    ws, req = one_pool([("a", 2, 40.0), ("a", 1, 20.0)])
    d = prepare(ws, req)
    two = build_two_stage(d, [with_demand(d, req), with_demand(d, req)], cell_targets(ws, d))
    sol = solve_two_stage(two, ws.config.solver)
    for g in range(len(d.groups)):
        assert sum(int(n) for n, pat in zip(sol.staff, d.patterns) if pat.group == g) == int(d.groups.iloc[g]["headcount"])
    assert sol.bound == pytest.approx(1000.0, abs=1.0) and sol.objective == pytest.approx(1000.0, abs=1.0)


def test_scenario_model_prices_moving_vendor_hours_too():
    """risk = "scenarios": vendor stability (issue 12) in each scenario's allocation, weighted like its penalties: the
    cheaper vendor b takes the work only when moving its hours from the previous plan's 0 h is cheap (as
    :func:`test_vendor_stability_prices_moving_hours` for the deterministic model)."""
    from capplan.optimize.data import prepare, with_demand
    from capplan.optimize.stochastic import build_two_stage, cell_targets, solve_two_stage

    for price, b_staff in ((20.0, 0), (1.0, 1)):
        cfg, ws = two_pools(0.0, previous={"bpo": 0.0}, price=price, rate_a=10.0)
        ws.shifts = pd.DataFrame([shift("day", start="08:00"), shift("evening", start="08:00")])
        req = requirements(cfg, {("q", "en"): daily_profile([1] * 7, cfg, range(8, 16))})
        d = prepare(ws, req)
        two = build_two_stage(d, [with_demand(d, req), with_demand(d, req)], cell_targets(ws, d))
        sol = solve_two_stage(two, ws.config.solver)
        staffed_b = sum(int(n) for n, pat in zip(sol.staff, d.patterns) if d.pools.at[pat.pool, "pool"] == "b")
        assert (staffed_b > 0) == bool(b_staff), (price, staffed_b)
