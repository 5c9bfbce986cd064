"""Plan, check, lift (optimize/checked.py): the lift on a hand-computable toy, the held-out statement, config, determinism."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest

from capplan.config import parse_config
from capplan.errors import ConfigError
from capplan.optimize.checked import CheckPool, ShiftCheck, check_shortfall, lift_hours, needed_met, plan_check_lift, solve_checked_plan
from capplan.optimize.data import prepare, with_demand
from capplan.optimize.stochastic import (_fixed, _lp, build_two_stage, cell_targets, cell_work, draw_scenarios,
                                         fixed_stage_shortfall)
from _optimize_data import config, pool, queue, requirements, shift, workspace

HOURS = 8


def _hourly(level: float) -> np.ndarray:
    return np.r_[np.full(HOURS, float(level)), np.zeros(24 - HOURS)]


def _toy(q_max_hc: int = 1000):
    """Two real-time cells, each its own pool (10/h, one 8-hour Monday shift), penalty 50/h, target 0.8.

    The mean needs 2 moderators an hour in both. Check scenarios: A = the mean; B = 3 an hour on q, 2 on r.
    """
    cfg = config(plan_days=1, unmet_penalty_per_hour={1: 50.0, 2: 50.0, 3: 50.0})
    ws = workspace(cfg, [queue("q"), queue("r")], [pool("a", queues=("q",), max_hc=q_max_hc), pool("b", queues=("r",))],
                   [shift(days=1, start_days=("Mon",))])
    base = prepare(ws, requirements(cfg, {("q", "en"): _hourly(2), ("r", "en"): _hourly(2)}))
    demands = [with_demand(base, requirements(cfg, {("q", "en"): _hourly(q), ("r", "en"): _hourly(2)})) for q in (2, 3)]
    return cfg, ws, base, demands


def _by_pool(d, staff) -> dict:
    return {d.pools.at[pat.pool, "pool"]: int(n) for n, pat in zip(staff, d.patterns) if n}


def test_needed_met_is_the_statements_own_rule():
    # (m + 1/2) / (n + 1) >= p: 10 of 10 states 0.955 >= 0.95; 9 of 10 states 0.864 < 0.9, so 0.9 also needs 10
    assert needed_met(10, 0.95) == 10 and needed_met(10, 0.9) == 10 and needed_met(10, 0.8) == 9
    assert needed_met(2, 0.7) == 2 and needed_met(2, 0.5) == 1 and needed_met(3, 0.99) == 3


def test_lift_is_the_failing_scenarios_excess_where_it_fell_short_and_nowhere_else():
    # P50 staffs 2|2. Scenario B leaves q 8 h short of 24 h (1 h in each of the 8 hours); the target 0.8 allows 4.8 h:
    # 3.2 h beyond. The lift is that excess spread over B's short hours: 0.4 h in each of q's 8 hours, 0 for r.
    # The lifted mean (2.4 an hour) costs 8 h x 0.4 x 50 = 160 > 80 of a 3rd moderator: q gets 3, r keeps 2, and the
    # re-check meets both scenarios in both cells.
    cfg, ws, base, demands = _toy()
    target = cell_targets(ws, base)
    final, lift, rounds = plan_check_lift(base, demands, target, 0.7, 2, cfg.solver)
    q, r = (base.cells["queue"] == "q").to_numpy(), (base.cells["queue"] == "r").to_numpy()
    assert lift[q].ravel() == pytest.approx(np.r_[np.full(HOURS, 0.4), np.zeros(24 - HOURS)], abs=1e-6)
    assert not lift[r].any()
    assert _by_pool(base, final.staff) == {"a": 3, "b": 2}
    assert list(final.met) == [2, 2]
    assert [row["accepted"] for row in rounds] == [True, True] and rounds[1]["lifted_cells"] == 1
    assert rounds[1]["paid_cost"] - rounds[0]["paid_cost"] == pytest.approx(80.0)


def test_lift_hours_by_hand_from_a_shortfall_table():
    # the pure rule: scenario 1 is 8 h short of 24 h on q (allowance 4.8 h): 3.2 h spread in proportion to where it fell short
    cfg, ws, base, demands = _toy()
    shortfall = np.zeros((2, 2, 24))
    shortfall[1, 0, :4] = 2.0  # q short 2 h in each of the first four hours of B
    work = np.array([cell_work(x) for x in demands])
    got = lift_hours(base, shortfall, work, cell_targets(ws, base), 0.7, np.array([True, True]))
    assert got[0, :4] == pytest.approx(np.full(4, 0.8)) and got[0, 4:].sum() == 0 and got[1].sum() == 0
    # a cell that is not asked for (mask False) is never lifted; p = 0.5 needs 1 of 2 met: nothing to lift
    assert not lift_hours(base, shortfall, work, cell_targets(ws, base), 0.7, np.array([False, True])).any()
    assert not lift_hours(base, shortfall, work, cell_targets(ws, base), 0.5, np.array([True, True])).any()


def test_deferred_lift_lands_when_the_late_work_arrived():
    # a deferred cell with a 3-hour turnaround (due 2 intervals after the arrival interval): work late in hour 5 arrived in hour 3, so the lift goes there; in a
    # terminal week, work late in hour 1 (before any arrival could fall due) is lifted at the window's start
    cfg = config(plan_days=1, unmet_penalty_per_hour={1: 50.0, 2: 50.0, 3: 50.0})
    ws = workspace(cfg, [queue("w", kind="deferred", within_s=10800.0)], [pool("a", queues=("w",))], [shift(days=1, start_days=("Mon",))])
    base = prepare(ws, requirements(cfg, {("w", "en"): _hourly(1)}, {"w": "deferred"}))
    assert int(base.cells.at[0, "due_shift"]) == 2
    shortfall = np.zeros((1, 1, 24))
    shortfall[0, 0, 5], shortfall[0, 0, 1] = 3.0, 1.0  # 4 h late of 8 h of work; target 0.8 allows 1.6 h: 2.4 beyond
    work = np.array([[8.0]])
    for week_end, expected in (("cyclic", {3: 1.8, 23: 0.6}), ("terminal", {3: 1.8, 0: 0.6})):
        base.week_end = week_end
        got = lift_hours(base, shortfall, work, np.array([0.8]), 0.5, np.array([True]))[0]
        assert {t: round(v, 9) for t, v in enumerate(got) if v} == expected


def test_a_cell_its_pools_cannot_serve_keeps_its_low_probability_and_the_loop_stops():
    # q's pool is at its ceiling of 2: the lift buys nothing, the round is rejected and the P50 plan stays
    cfg, ws, base, demands = _toy(q_max_hc=2)
    final, lift, rounds = plan_check_lift(base, demands, cell_targets(ws, base), 0.7, 3, cfg.solver)
    assert _by_pool(base, final.staff) == {"a": 2, "b": 2} and list(final.met) == [1, 2]
    assert [row["accepted"] for row in rounds] == [True, False] and not lift.any()


def test_checked_shortfall_equals_a_model_built_per_scenario():
    # the one-model check (demand reset per scenario, rows of the support) gives each scenario's own LP's shortfall,
    # including a scenario with no demand in hours where another has some, and a deferred cell
    cfg = config(plan_days=1, unmet_penalty_per_hour={1: 50.0, 2: 50.0, 3: 50.0})
    ws = workspace(cfg, [queue("q"), queue("w", kind="deferred", within_s=7200.0)], [pool("a", queues=("q", "w"))],
                   [shift(days=1, start_days=("Mon",))])
    kinds = {"w": "deferred"}
    base = prepare(ws, requirements(cfg, {("q", "en"): _hourly(2), ("w", "en"): _hourly(1)}, kinds))
    cases = [(_hourly(2), _hourly(1)), (_hourly(3), np.r_[np.zeros(4), np.full(4, 2.5), np.zeros(16)]), (np.r_[np.zeros(4), np.full(4, 4.0), np.zeros(16)], _hourly(0.5))]
    demands = [with_demand(base, requirements(cfg, {("q", "en"): a, ("w", "en"): b}, kinds)) for a, b in cases]
    staff = np.array([3 if pat.pool == 0 else 0 for pat in base.patterns])
    target = cell_targets(ws, base)
    deadline = time.perf_counter() + 60
    fast = check_shortfall(base, demands, target, staff, 60.0)
    slow = fixed_stage_shortfall(base, demands, target, staff, deadline)
    # equal penalties make the split between the two cells degenerate: the scenario's total and the LP's optimum are unique
    assert fast.sum(axis=(1, 2)) == pytest.approx(slow.sum(axis=(1, 2)), abs=1e-6)
    assert fast.sum() > 1.0  # the check is not trivially empty
    check = ShiftCheck(base, demands, target, staff)
    for ds in demands:
        check._set_demand(ds)
        alone = build_two_stage(base, [ds], target)
        assert _lp(check.two.master, deadline)[1] == pytest.approx(_fixed(alone.master, staff, deadline)[1], rel=1e-7)
    # one model reused across plans (as the lift rounds and the held-out statement do): re-fixing the staffing of the
    # same model gives each plan's own cold solve, in either order, and the first plan again after the second
    fewer = np.array([2 if pat.pool == 0 else 0 for pat in base.patterns])
    for n in (fewer, staff, fewer):
        reused = check.shortfalls(demands, n, 60.0)
        cold = fixed_stage_shortfall(base, demands, target, n, deadline)
        assert reused.sum(axis=(1, 2)) == pytest.approx(cold.sum(axis=(1, 2)), abs=1e-6)
    assert check.shortfalls(demands, fewer, 60.0).sum() > fast.sum() + 1.0  # the staffing did change the answer


def test_worker_processes_give_the_one_process_shortfalls():
    # the pool solves each scenario in whichever worker is free: same LPs, same settings, so the same shortfalls in the
    # order asked, for two staffings in turn (the workers re-fix theirs), as one ShiftCheck in this process
    cfg, ws, base, demands = _toy()
    target = cell_targets(ws, base)
    here = ShiftCheck(base, demands, target)
    fewer = np.array([1 for _ in base.patterns])
    with CheckPool(base, demands, target, 2) as pool:
        for staff in (np.array([2 for _ in base.patterns]), fewer):
            np.testing.assert_allclose(pool.shortfalls(demands[::-1], staff, 60.0), here.shortfalls(demands[::-1], staff, 60.0), atol=1e-7)
        assert pool.shortfalls(demands, fewer, 60.0).sum() > 1.0


@pytest.mark.parametrize("settings, message", [({"target_probability": 1.0}, "target_probability must be strictly between 0 and 1"),
                                                ({"target_probability": 0.0}, "target_probability must be strictly between 0 and 1"),
                                                ({"check_rounds": -1}, "check_rounds")])
def test_bad_checked_config_is_a_clear_error(settings, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({"staffing": {"risk": "checked", **settings}})


def test_plan_check_lift_refuses_a_bad_probability_or_rounds():
    cfg, ws, base, demands = _toy()
    with pytest.raises(ConfigError, match="target_probability"):
        plan_check_lift(base, demands, cell_targets(ws, base), 1.2, 1, cfg.solver)
    with pytest.raises(ConfigError, match="check_rounds must be 0 or more"):
        plan_check_lift(base, demands, cell_targets(ws, base), 0.9, -1, cfg.solver)


# --- the whole mode on a tiny workspace: forecast, backtest errors, statement -------------------------------------
def _deferred_world(max_hc: int = 1000, shifts: tuple[str, ...] = ("day",)):
    """One deferred cell (120 items an hour of 60 s in the first 8 hours: 2 h of work an hour, 4-hour turnaround),
    one pool on one 8-hour shift. Backtest errors of 4 days: two exact, two +60 %. The shuffle (seed) decides which
    blocks the check sees; the days are laid out so the check sees only the exact days and the held-out only +60 %."""
    cfg = config(plan_days=1, unmet_penalty_per_hour={1: 50.0, 2: 50.0, 3: 50.0})
    cfg.staffing.risk, cfg.staffing.scenarios, cfg.staffing.target_probability, cfg.staffing.check_rounds = "checked", 2, 0.6, 2
    ws = workspace(cfg, [queue("w", kind="deferred", within_s=4 * 3600.0)], [pool("a", queues=("w",), languages=("en",), max_hc=max_hc, shifts=shifts)],
                   [shift(name, days=1, start_days=("Mon",)) for name in shifts])
    ws.queues["target"] = 0.8
    start = pd.Timestamp(dt.datetime.combine(cfg.planning.start, dt.time(0)), tz="UTC")
    f = np.r_[np.full(HOURS, 120.0), np.zeros(24 - HOURS)]
    forecast = pd.DataFrame({"queue": "w", "language": "en", "interval_start": pd.date_range(start, periods=24, freq="h"),
                             "volume": f, "model": "x"})
    for level in cfg.forecast.levels:
        forecast[f"volume_lo_{level}"] = forecast[f"volume_hi_{level}"] = f
    probe = draw_scenarios(forecast, _errors([1.0, 1.0, 1.0, 1.0], f), cfg, 4)
    ratio = [1.0] * 4
    for w, o in probe.blocks[2:]:  # the blocks the held-out statement will use
        ratio[o] = 1.6
    return cfg, ws, forecast, _errors(ratio, f)


def _errors(day_ratio: list[float], f: np.ndarray) -> pd.DataFrame:
    hours = np.arange(24 * len(day_ratio))
    return pd.DataFrame({"queue": "w", "language": "en", "window": 0, "origin": pd.Timestamp("2025-12-01", tz="UTC"), "hour": hours,
                         "forecast": np.tile(f, len(day_ratio)), "actual": np.repeat(day_ratio, 24) * np.tile(f, len(day_ratio))})


@pytest.fixture(scope="module")
def checked_world():
    from capplan.staffing.requirements import compute_requirements

    cfg, ws, forecast, errors = _deferred_world()
    req = compute_requirements(forecast, ws, 50)
    return ws, req, forecast, errors, solve_checked_plan(ws, req, forecast, errors)


def test_the_statement_uses_only_held_out_scenarios(checked_world):
    # the check sees two exact days: nothing to lift, the P50 plan stays. The two held-out days run +60 %: 25.6 h of work
    # against 16 h of capacity is 9.6 h late, beyond the 0.8 target's 5.1 h. So the plan states (0 + 1/2) / (2 + 1),
    # although it met every scenario it was checked against (p_in_sample = 1)
    ws, req, forecast, errors, result = checked_world
    row = result.risk.iloc[0]
    risk = result.solve["risk"]
    assert set(map(tuple, risk["blocks"])).isdisjoint(map(tuple, risk["held_out_blocks"]))
    assert (row["held_out"], row["met_held_out"], row["p_in_sample"]) == (2, 0, 1.0)
    assert row["probability"] == pytest.approx(0.5 / 3)
    assert row["worst_shortfall_share"] == pytest.approx(9.6 / 25.6, abs=1e-4)
    assert risk["mode"] == "checked" and len(risk["rounds"]) == 1 and not risk["lifted_cells"]
    assert result.checks == [] and result.solve["gap"] <= 1e-9


def test_same_seed_same_plan(checked_world):
    ws, req, forecast, errors, result = checked_world
    again = solve_checked_plan(ws, req, forecast, errors)
    assert again.shift_plan.equals(result.shift_plan)
    pd.testing.assert_frame_equal(again.risk, result.risk)
    assert again.solve["risk"]["blocks"] == result.solve["risk"]["blocks"]


def test_the_summary_says_what_was_checked_and_lifted(checked_world):
    from capplan.cli.present import risk_lines

    lines = risk_lines(checked_world[4].solve, "USD")
    assert lines[0].startswith("risk: 2 demand scenarios") and "lowest 17%" in lines[0]
    assert lines[1] == "checked: the P50 plan checked against 2 other scenarios; 0 cell(s) lifted in 0 round(s) (0.0 h added)"


@pytest.mark.slow  # a forecast and three plans of the small demo: minutes
def test_plan_stage_writes_the_checked_plans_risk_and_price_of_reliability(tmp_path):
    import json

    from openpyxl import load_workbook

    from capplan.pipeline import run_demo
    from capplan.pipeline.forecast import run_forecast_stage
    from capplan.pipeline.plan import run_plan_stage

    ws = tmp_path / "demo"
    run_demo(ws, size="small", run=False)
    toml = ws / "capplan.toml"
    toml.write_text(toml.read_text().replace('risk = "quantile"', 'risk = "checked"').replace("scenarios = 10", "scenarios = 3"))
    fc = run_forecast_stage(ws)
    run = run_plan_stage(ws)
    risk = pd.read_csv(run.folder / "risk.csv")
    assert len(risk) == 18 and risk["probability"].between(0, 1).all() and (risk["held_out"] == 3).all()
    solve = json.loads((run.folder / "solve.json").read_text())
    assert solve["risk"]["mode"] == "checked" and solve["gap"] <= solve["relative_gap_limit"] + 1e-9 and solve["checks"] == []
    price = solve["price_of_reliability"]
    assert price["chosen"] == pytest.approx(solve["total_cost"]) and price["p90_per_interval"] > price["p50"]
    if not solve["risk"]["lifted_cells"]:  # nothing lifted: the checked plan is the P50 plan (so P50 is not solved again)
        from capplan.inputs import load_workspace
        from capplan.optimize import solve_plan
        from capplan.staffing.requirements import compute_requirements

        forecast = pd.read_parquet(fc.folder / "forecast.parquet")
        p50 = solve_plan(load_workspace(ws), compute_requirements(forecast, load_workspace(ws), 50), with_baseline=False)
        assert price["chosen"] == pytest.approx(price["p50"]) == pytest.approx(p50.solve["total_cost"])
    else:
        assert price["chosen"] > price["p50"]
    assert load_workbook(run.folder / "planner.xlsx", read_only=True)["Risk"].max_row == 19


# --- binding.csv's prices of a checked plan: its own deterministic model's (issue 12, item 5) -------------------------
def _priced_toy(level: float):
    """The toy's cell q served by pool a (10/h, at most 2) and pool c (15/h); r by b. The mean needs ``level`` on q.

    Scenarios: A = the mean; B = 3 an hour on q. Pool a's headcount binds wherever q needs more than 2. Pool a has two
    identical shifts (with one pattern, the pattern's own bound of 2 holds the cap too; binding.csv prices it from both,
    tests/test_shadow_prices.py).
    """
    cfg = config(plan_days=1, unmet_penalty_per_hour={1: 50.0, 2: 50.0, 3: 50.0})
    ws = workspace(cfg, [queue("q"), queue("r")], [pool("a", queues=("q",), max_hc=2, shifts=("day", "day2")),
                                                   pool("c", queues=("q",), rate=15.0), pool("b", queues=("r",))],
                   [shift(days=1, start_days=("Mon",)), shift("day2", days=1, start_days=("Mon",))])
    req = requirements(cfg, {("q", "en"): _hourly(level), ("r", "en"): _hourly(2)})
    base = prepare(ws, req)
    demands = [with_demand(base, requirements(cfg, {("q", "en"): _hourly(q), ("r", "en"): _hourly(2)})) for q in (level, 3)]
    return cfg, ws, req, base, demands


def _pools(d, staff) -> dict:
    out: dict = {}
    for n, pat in zip(staff, d.patterns):
        out[d.pools.at[pat.pool, "pool"]] = out.get(d.pools.at[pat.pool, "pool"], 0) + int(n)
    return {k: v for k, v in out.items() if v}


def _headcount_price(binding) -> tuple[float, str]:
    row = binding.set_index(["kind", "name"]).loc[("pool_max_headcount", "a")]
    return float(row["shadow_price"]), str(row["shadow_unit"])


def test_checked_plan_prices_a_limit_as_the_deterministic_plan_of_the_same_requirements():
    # nothing to lift (the mean needs 2.4 on q, the plan staffs a = 2 and c = 1: 3 cover both scenarios). In the LP
    # relaxation the last 0.4 of q's moderators come from c at 15 x 8 = 120 a day where one more of a would cost 80:
    # 40 a day for the 1-day window, 280 USD per week (prices are per week). Second method: the relaxation re-solved with a's
    # cap 0.1 higher, its saving per moderator; third: solve_plan's price on the same requirements.
    from capplan.optimize import solve_plan
    from capplan.optimize.checked import checked_tables
    from test_shadow_prices import relaxation_cost

    cfg, ws, req, base, demands = _priced_toy(2.4)
    final, lift, rounds = plan_check_lift(base, demands, cell_targets(ws, base), 0.7, 2, cfg.solver)
    assert not lift.any() and _pools(base, final.staff) == {"a": 2, "c": 1, "b": 2}
    value, unit = _headcount_price(checked_tables(base, final, lift, cfg.solver, {}).binding)
    moved = (relaxation_cost(ws, req) - relaxation_cost(ws, req, {"headcount[pool=a]": 0.1})) / 0.1
    assert value == pytest.approx(moved * 7, rel=1e-4)
    assert value == pytest.approx(40 * 7, rel=1e-4)
    assert value == pytest.approx(_headcount_price(solve_plan(ws, req, with_baseline=False).binding)[0], rel=1e-6)
    assert "per moderator" in unit and "nothing lifted" in unit and "not the scenarios'" in unit


def test_lifted_checked_plan_prices_its_limits_from_the_lifted_requirements():
    # the mean needs 2 on q: the P50 plan is a = 2, a's cap exactly at the need (a degenerate relaxation: one more of a
    # saves 0, one less costs 40 a day, and the dual is any value between). Scenario B lifts q by 0.4 an hour (the test
    # above's 2.4), the lifted plan adds c = 1, and its prices are the lifted requirements': solve_plan's on 2.4 an hour
    # (280 USD per week, no longer degenerate), not the P50 model's
    from capplan.optimize import solve_plan
    from capplan.optimize.checked import checked_tables

    cfg, ws, req, base, demands = _priced_toy(2.0)
    final, lift, rounds = plan_check_lift(base, demands, cell_targets(ws, base), 0.7, 2, cfg.solver)
    assert lift.sum() == pytest.approx(8 * 0.4, abs=1e-6) and rounds[1]["accepted"]
    assert _pools(base, final.staff) == {"a": 2, "c": 1, "b": 2}
    value, unit = _headcount_price(checked_tables(base, final, lift, cfg.solver, {}).binding)
    lifted_req = requirements(cfg, {("q", "en"): _hourly(2.4), ("r", "en"): _hourly(2)})
    assert value == pytest.approx(_headcount_price(solve_plan(ws, lifted_req, with_baseline=False).binding)[0], rel=1e-6)
    assert value == pytest.approx(40 * 7, rel=1e-4)
    assert _headcount_price(solve_plan(ws, req, with_baseline=False).binding)[0] < value - 1.0
    assert "lifted deterministic model" in unit and "3.2 standard h of lift" in unit


def test_whole_modes_price_or_say_why_not():
    # the deferred world with one moderator at most: 16 h of work on 8 h of capacity, the cap binds. The checked plan
    # (nothing it can lift past the cap) prices it as solve_plan does on the same requirements, through
    # solve_checked_plan; the scenario plan prices it from its own two-stage relaxation and says so. Two identical
    # shifts, so the cap is the headcount row's alone (see _priced_toy)
    from capplan.optimize import solve_plan
    from capplan.optimize.stochastic import solve_risk_plan
    from capplan.staffing.requirements import compute_requirements

    cfg, ws, forecast, errors = _deferred_world(max_hc=1, shifts=("day", "day2"))
    req = compute_requirements(forecast, ws, 50)
    checked = solve_checked_plan(ws, req, forecast, errors)
    value, unit = _headcount_price(checked.binding)
    assert value > 0 and value == pytest.approx(_headcount_price(solve_plan(ws, req, with_baseline=False).binding)[0], rel=1e-6)
    assert unit.startswith("USD/week per moderator") and "not the scenarios'" in unit
    value, unit = _headcount_price(solve_risk_plan(ws, req, forecast, errors).binding)
    assert value > 0 and "the two-stage scenario model's LP relaxation (staff cost + the 2 scenarios' expected penalties)" in unit


def test_a_one_shift_pool_at_its_cap_is_priced_as_with_two_identical_shifts():
    # the deferred world above with one shift: its pattern's own upper bound holds the cap of 1 as well as the headcount
    # row, and the relaxations put the cap's dual there (both plans read NaN). A second identical shift changes no
    # optimum, so each mode's price must equal its price with two
    from capplan.optimize import solve_plan
    from capplan.optimize.stochastic import solve_risk_plan
    from capplan.staffing.requirements import compute_requirements

    prices = {}
    for shifts in (("day",), ("day", "day2")):
        cfg, ws, forecast, errors = _deferred_world(max_hc=1, shifts=shifts)
        req = compute_requirements(forecast, ws, 50)
        prices[shifts] = (_headcount_price(solve_plan(ws, req, with_baseline=False, price_rules=False).binding),
                          _headcount_price(solve_risk_plan(ws, req, forecast, errors).binding))
    for (one, one_unit), (two, two_unit) in zip(prices[("day",)], prices[("day", "day2")]):
        assert one > 0 and one == pytest.approx(two, rel=1e-6) and one_unit == two_unit


def test_checked_plan_prices_its_rule_limits_as_solve_plan_does():
    # the quality floor of tests/test_shadow_prices.py (280 USD a week by hand: admitting bpo on gore), checked against
    # the mean alone (nothing to lift): the rule step is priced from the accepted round's relaxation, as solve_plan's
    from capplan.optimize import solve_plan
    from capplan.optimize.checked import checked_tables
    from test_shadow_prices import floor_case

    ws, req = floor_case()
    base = prepare(ws, req)
    final, lift, _ = plan_check_lift(base, [base], cell_targets(ws, base), 0.7, 2, ws.config.solver)
    result = checked_tables(base, final, lift, ws.config.solver, {})
    row = result.binding.set_index(["kind", "name"]).loc[("quality_floor", "severity 1")]
    p50 = solve_plan(ws, req, with_baseline=False).binding.set_index(["kind", "name"]).loc[("quality_floor", "severity 1")]
    assert float(row["shadow_price"]) == pytest.approx(280.0, abs=0.02)
    assert float(row["shadow_price"]) == pytest.approx(float(p50["shadow_price"]), abs=1e-6)
    assert row["shadow_unit"].startswith(p50["shadow_unit"]) and row["shadow_unit"].endswith("not the scenarios'")
    assert result.solve["rule_prices"][0]["method"] == "re_solve"
    unpriced = checked_tables(base, final, lift, ws.config.solver, {}, price_rules=False).binding.set_index(["kind", "name"])
    assert np.isnan(unpriced.loc[("quality_floor", "severity 1"), "shadow_price"])  # the walk-forward's replayed plans
