"""The replay as the judge of a checked plan (``[staffing] check_judge = "replay"``, :mod:`capplan.judge`).

One deferred cell (120 items an hour of 60 s in the first 8 hours: 2 h of work an hour, a 4-hour turnaround, target
0.8), one pool on one 8-hour shift, backtest errors of whole days (exact, or +60 %) as in ``tests/test_checked.py``:
the replay must state, lift and count exactly as it replays.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import _sim_data as sd
from capplan.evaluate.walkforward import per_cell
from capplan.judge import ReplayJudge, plan_for_risk, replay_judge
from capplan.optimize.checked import solve_checked_plan
from capplan.optimize.data import prepare
from capplan.optimize.stochastic import _demands, draw_scenarios, scenario_work
from capplan.schema import CELL_KEYS
from capplan.simulate import replay_plan
from capplan.staffing.requirements import compute_requirements

HOURS = 8  # the cell's busy hours


def _world(held_out_ratio: float, check_ratio: float = 1.0):
    """The workspace, requirements, forecast and backtest errors; the check's blocks run ``check_ratio`` times the
    forecast, the held-out blocks ``held_out_ratio`` times."""
    cfg = sd.config(days=1)
    cfg.policy.unmet_penalty_per_hour = {1: 50.0, 2: 50.0, 3: 50.0}
    cfg.staffing.risk, cfg.staffing.scenarios, cfg.staffing.target_probability, cfg.staffing.check_rounds = "checked", 2, 0.6, 2
    cfg.staffing.check_judge = "replay"
    ws = sd.workspace([{"queue": "w", "kind": "deferred", "target": 0.8, "within_s": 4 * 3600.0}], [("w", "en", 60.0)],
                      [{"pool": "a", "queues": ("w",), "languages": ("en",)}],
                      [{"shift": "day", "start_minute": 0, "paid_hours": 8.0, "break_minutes": 0.0}], cfg)
    start = pd.Timestamp(dt.datetime.combine(cfg.planning.start, dt.time(0)), tz="UTC")
    f = np.r_[np.full(HOURS, 120.0), np.zeros(24 - HOURS)]
    forecast = pd.DataFrame({"queue": "w", "language": "en", "interval_start": pd.date_range(start, periods=24, freq="h"),
                             "volume": f, "model": "x"})
    for level in cfg.forecast.levels:
        forecast[f"volume_lo_{level}"] = forecast[f"volume_hi_{level}"] = f
    probe = draw_scenarios(forecast, _errors([1.0] * 4, f), cfg, 4)
    ratio = [check_ratio] * 4
    for _, o in probe.blocks[2:]:  # the blocks the held-out statement uses
        ratio[o] = held_out_ratio
    return ws, compute_requirements(forecast, ws, 50), forecast, _errors(ratio, f)


def _errors(day_ratio: list[float], f: np.ndarray) -> pd.DataFrame:
    hours = np.arange(24 * len(day_ratio))
    return pd.DataFrame({"queue": "w", "language": "en", "window": 0, "origin": pd.Timestamp("2025-12-01", tz="UTC"), "hour": hours,
                         "forecast": np.tile(f, len(day_ratio)), "actual": np.repeat(day_ratio, 24) * np.tile(f, len(day_ratio))})


def test_the_replay_states_the_risk_from_replayed_held_out_scenarios():
    # the held-out days run +60 %: 25.6 h of work against 16 h of two moderators is about 9.6 h late (0.375 of the work,
    # the fluid figure; the replay's random handle times add a little), beyond the 0.8 target's 0.2: 0 of 2 met
    ws, req, forecast, errors = _world(1.6)
    result = plan_for_risk(ws, req, forecast, errors)
    row = result.risk.iloc[0]
    assert result.solve["risk"]["judge"] == "replay (priority routing)"
    assert (row["held_out"], row["met_held_out"], row["p_in_sample"]) == (2, 0, 1.0)
    assert row["probability"] == pytest.approx(0.5 / 3)
    assert row["worst_shortfall_share"] == pytest.approx(0.375, abs=0.04)
    assert int(result.shift_plan["headcount"].sum()) == 2 and not result.solve["risk"]["lifted_cells"]


def test_a_scenario_judged_is_exactly_what_its_replay_finds():
    # second method: replay_plan on the plan's tables with the scenario's volumes and the judge's seed ([solver] seed +
    # the scenario's index among the run's scenarios): the judge's late share is the replay's 1 - achieved
    ws, req, forecast, errors = _world(1.3)
    d = prepare(ws, req)
    scenarios = draw_scenarios(forecast, errors, ws.config, 4)
    demands = _demands(ws, d, scenarios)
    judge = ReplayJudge(ws, d, demands, scenarios.forecasts, seed=5)
    staff = np.array([2] + [0] * (len(d.patterns) - 1))
    plan = solve_checked_plan(ws, req, forecast, errors)  # its shift plan is the staffing above (checked below)
    assert int(plan.shift_plan["headcount"].sum()) == 2
    hours = judge.shortfalls(demands, staff, 60.0)
    share = hours.sum(axis=2)[:, 0] / scenario_work(d, demands)[:, 0]
    for i, f in enumerate(scenarios.forecasts):
        replayed = per_cell(replay_plan(ws, plan.shift_plan, plan.allocation, f[["interval_start", "queue", "language", "volume"]],
                                        seed=5 + i).cell_weeks).set_index(CELL_KEYS)
        assert share[i] == pytest.approx(1.0 - float(replayed["achieved"].iloc[0]), rel=1e-12, abs=1e-12)
    # the first two scenarios are exact days (16 h of work for 16 h: a little late from random handle times), the last two +30 %: 20.8 h of work against 16 h,
    # about 4.8 h late (0.23 of the work), beyond the 0.2 allowance
    assert (share[:2] <= 0.2).all() and (share[2:] > 0.2).all()


def test_the_replay_lifts_where_its_late_work_arrived_and_the_lifted_plan_passes():
    # every day +60 %: the P50 plan (2 moderators) misses in both check scenarios. The lift adds each scenario's excess
    # over its allowance in the hours its late items arrived; the re-solve buys a third moderator (24 h for 25.6 h of
    # work: about 1.6 h late, within the 5.1 h allowance), which the replay then passes in the check and held out
    ws, req, forecast, errors = _world(1.6, check_ratio=1.6)
    result = solve_checked_plan(ws, req, forecast, errors, judge=replay_judge(ws))
    risk = result.solve["risk"]
    assert [r["accepted"] for r in risk["rounds"]] == [True, True]
    assert risk["rounds"][0]["scenarios_met"] == 0 and risk["rounds"][1]["scenarios_met"] == 2
    assert int(result.shift_plan["headcount"].sum()) == 3
    (lifted,) = risk["lifted_cells"]
    assert 3.0 < lifted["lift_hours"] < 6.0  # about 9.6 - 5.1 h: the excess, not the whole shortfall
    assert result.risk.iloc[0]["met_held_out"] == 2


def test_the_model_judge_hands_down_no_judge_and_an_unknown_policy_is_refused():
    ws, req, forecast, errors = _world(1.0)
    ws.config.staffing.check_judge = "model"
    assert replay_judge(ws) is None
    with pytest.raises(Exception, match="unknown routing policy"):
        ReplayJudge(ws, prepare(ws, req), [], [], policy="fastest")


def test_worker_processes_replay_as_one_process():
    # each scenario keeps its own seed whichever worker replays it: the pool's shortfalls are the one process's
    from capplan.judge import ReplayPool

    ws, req, forecast, errors = _world(1.3)
    d = prepare(ws, req)
    scenarios = draw_scenarios(forecast, errors, ws.config, 4)
    demands = _demands(ws, d, scenarios)
    staff = np.array([2] + [0] * (len(d.patterns) - 1))
    one = ReplayJudge(ws, d, demands, scenarios.forecasts, seed=3).shortfalls(demands[::-1], staff, 60.0)
    with ReplayPool(ws, d, demands, scenarios.forecasts, 2, seed=3) as pool:
        two = pool.shortfalls(demands[::-1], staff, 60.0)
    np.testing.assert_array_equal(one, two)
    assert one.sum() > 0


def test_a_plan_nothing_lifted_reports_the_p50_solves_own_allocation():
    # nothing lifted: the checked plan's staffing and allocation are those of solve_plan on the same requirements (its
    # fixed-staff LP is not solved twice)
    from capplan.optimize import solve_plan

    ws, req, forecast, errors = _world(1.0)
    checked = plan_for_risk(ws, req, forecast, errors)
    assert not checked.solve["risk"]["lifted_cells"]
    p50 = solve_plan(ws, req, with_baseline=False, price_rules=False)
    pd.testing.assert_frame_equal(checked.allocation.reset_index(drop=True), p50.allocation.reset_index(drop=True))
    pd.testing.assert_frame_equal(checked.shift_plan.reset_index(drop=True), p50.shift_plan.reset_index(drop=True))


def test_the_summary_says_the_scenarios_were_replayed():
    from capplan.cli.present import risk_lines

    ws, req, forecast, errors = _world(1.6)
    lines = risk_lines(plan_for_risk(ws, req, forecast, errors).solve, "USD")
    assert lines[1].startswith("checked: the P50 plan checked against 2 other scenarios, each replayed (priority routing);")


def test_the_scenario_plan_states_its_risk_from_replayed_held_out_scenarios_too():
    # risk = "scenarios": the two-stage model plans on the two exact days; its held-out statement replays the two +60 %
    # days on the plan's shifts (2 moderators: about 0.375 of the work late, beyond the 0.2 allowance): 0 of 2 met
    ws, req, forecast, errors = _world(1.6)
    ws.config.staffing.risk = "scenarios"
    result = plan_for_risk(ws, req, forecast, errors)
    row = result.risk.iloc[0]
    assert result.solve["risk"]["judge"] == "replay (priority routing)"
    assert (row["held_out"], row["met_held_out"]) == (2, 0) and row["probability"] == pytest.approx(0.5 / 3)
    assert row["worst_shortfall_share"] == pytest.approx(0.375, abs=0.04)
