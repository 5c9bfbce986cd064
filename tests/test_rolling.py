"""Rolling weeks: the opening backlog, the cyclic and the terminal week end (docs/rolling.md), checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _optimize_data import config, daily_profile, pool, queue, requirements, shift, workspace
from _ws import START, make_workspace
from capplan.inputs.validate import check_workspace
from capplan.optimize import check_plan, solve_plan
from capplan.staffing.backlog import carried_over, deferred_flow, not_due_bound, opening_due_hours


# --- the flow, by hand ---------------------------------------------------------------------------
def test_opening_due_follows_the_one_deadline_rule():
    # hourly, 3 h window: due_shift 2; an item of interval -1 is due by the end of interval 1, one of -5 is overdue (0)
    due = opening_due_hours(4, 60, 3 * 3600, [-1, -5, -2], [3.0, 1.0, 2.0])
    np.testing.assert_allclose(due, [1.0 + 2.0, 3.0, 0.0, 0.0, 0.0])
    # a 10 h window on a 4-interval window: -1 + 9 = 8 >= 4 is due after the window (last bucket)
    np.testing.assert_allclose(opening_due_hours(4, 60, 10 * 3600, [-1], [2.0]), [0, 0, 0, 0, 2.0])


def test_cyclic_week_carries_sunday_night_into_monday():
    """4 h of work arrives in the last interval, due 2 intervals later: in a cyclic week by the end of interval 1."""
    w = np.array([0.0, 0.0, 0.0, 4.0])
    np.testing.assert_allclose(carried_over(w, 2, 4.0), [0, 4.0, 0, 0, 0])
    np.testing.assert_allclose(not_due_bound(w, 2, cyclic=True), [4.0, 0.0, 0.0, 4.0])  # round the week
    ok = deferred_flow(w, 2, [2.0, 2.0, 0.0, 0.0], cyclic=True)
    assert ok.opening == pytest.approx(4.0) and ok.backlog[-1] == pytest.approx(4.0)
    np.testing.assert_allclose(ok.late, 0.0)
    short = deferred_flow(w, 2, [1.0, 2.0, 0.0, 0.0], cyclic=True)  # 3 of the 4 h done by the deadline: 1 h late
    assert short.late[-1] == pytest.approx(1.0) and short.backlog[-1] == pytest.approx(4.0)
    # the same week without the wrap sees none of it: capacity in intervals 0-1 idles, nothing is late
    free = deferred_flow(w, 2, [2.0, 2.0, 0.0, 0.0])
    assert free.done[-1] == 0.0 and free.late[-1] == 0.0 and free.backlog[-1] == pytest.approx(4.0)


def test_terminal_week_opens_with_its_backlog():
    opening = opening_due_hours(4, 60, 3 * 3600, [-1], [3.0])  # 3 h due by the end of interval 1
    flow = deferred_flow([1.0, 0.0, 0.0, 0.0], 2, [2.0, 0.0, 2.0, 0.0], opening_due=opening)
    # FIFO: 2 h of the opening done in 0, 1 h of it late at the end of 1; the new 1 h done in 2
    np.testing.assert_allclose(flow.done, [2, 2, 3, 3])
    np.testing.assert_allclose(flow.late, [0, 1, 1, 1])
    np.testing.assert_allclose(flow.backlog, [2, 1, 0, 0])


# --- the optimizer, on a week of one-day shifts ---------------------------------------------------
def _night_week(mode: str, backlog: pd.DataFrame | None = None):
    """8 h of work at 20:00 each day, due within 12 h (by the end of 07:00 next day); one-day 00:00-08:00 shifts, $10/h."""
    cfg = config()
    cfg.planning.week_end = mode
    ws = workspace(cfg, [queue("d", kind="deferred", within_s=12 * 3600)], [pool("a", queues=("d",))],
                   [shift(days=1)])
    ws.backlog = backlog
    req = requirements(cfg, {("d", "en"): daily_profile([8] * 7, cfg, [20])}, kinds={"d": "deferred"})
    result = solve_plan(ws, req, with_baseline=False)
    assert result.checks == [] and check_plan(ws, req, result) == []
    return result


def test_cyclic_week_staffs_monday_morning_for_sunday_evening():
    r = _night_week("cyclic")
    # 7 shifts of 8 h at $10: Monday 00:00-08:00 clears Sunday 20:00's work (a wrap), nothing late
    assert r.solve["cost"] == pytest.approx(7 * 8 * 10.0)
    assert r.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)
    assert r.solve["week_end"] == "cyclic" and r.solve["end_backlog_hours"] == pytest.approx(8.0)
    monday = r.allocation[r.allocation["interval_start"] < pd.Timestamp(f"{config().planning.start}T08:00Z")]
    assert monday["productive_hours"].sum() == pytest.approx(8.0)


def test_terminal_week_prices_what_it_leaves():
    r = _night_week("terminal")
    # no opening backlog: Monday morning has nothing to do (6 shifts); Sunday's 8 h are left, priced at $10 / h
    assert r.solve["cost"] == pytest.approx(6 * 8 * 10.0)
    assert r.solve["end_backlog_hours"] == pytest.approx(8.0)
    assert r.solve["terminal_backlog_cost"] == pytest.approx(80.0)
    start = pd.Timestamp(config().planning.start, tz="UTC")
    # an opening backlog of 480 items x 60 s = 8 h, arrived Sunday 20:00 of the week before: Monday's shift again
    opening = pd.DataFrame({"queue": ["d"], "language": ["en"], "arrived": [start - pd.Timedelta(hours=4)], "items": [480.0]})
    r2 = _night_week("terminal", opening)
    assert r2.solve["cost"] == pytest.approx(7 * 8 * 10.0)
    assert r2.solve["opening_backlog_hours"] == pytest.approx(8.0) and r2.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)


# --- bad input ------------------------------------------------------------------------------------
def test_backlog_file_errors_name_file_row_and_column(tmp_path):
    start = pd.Timestamp(START, tz="UTC")
    text = ("queue,language,arrived,items\n"
            f"video,en,{(start - pd.Timedelta(hours=2)):%Y-%m-%dT%H:%M:%SZ},30\n"  # fine
            f"video,fr,{(start - pd.Timedelta(hours=2)):%Y-%m-%dT%H:%M:%SZ},5\n"  # unknown cell
            f"photo,en,{(start - pd.Timedelta(hours=2)):%Y-%m-%dT%H:%M:%SZ},5\n"  # unknown queue
            f"video,es,{(start + pd.Timedelta(hours=1)):%Y-%m-%dT%H:%M:%SZ},5\n"  # after the plan start
            f"live,en,{(start - pd.Timedelta(hours=1)):%Y-%m-%dT%H:%M:%SZ},5\n")  # realtime queue
    root = make_workspace(tmp_path / "ws", backlog=text)
    ws, problems = check_workspace(root)
    assert ws is None
    found = {(p.row, p.column) for p in problems if p.severity == "error" and p.file == "inputs/backlog.csv"}
    assert found == {(3, "language"), (4, "queue"), (5, "arrived"), (6, "queue")}


def test_backlog_file_read_into_the_workspace(tmp_path):
    start = pd.Timestamp(START, tz="UTC")
    text = ("queue,language,arrived,items\n"
            f"video,en,{(start - pd.Timedelta(hours=2)):%Y-%m-%dT%H:%M:%SZ},30\n"
            f"video,es,{(start - pd.Timedelta(hours=9)):%Y-%m-%dT%H:%M:%SZ},4\n")  # 4 h window: already overdue
    ws, problems = check_workspace(make_workspace(tmp_path / "ws", backlog=text))
    assert ws is not None and list(ws.backlog["items"]) == [30.0, 4.0]
    assert [(p.row, p.column) for p in problems if p.severity == "warning" and p.file == "inputs/backlog.csv"] == [(3, "arrived")]


# --- the replay starts from the same opening backlog and hands the next week its closing backlog -------------
def test_replay_judges_the_opening_backlog_on_its_own_deadlines():
    import _sim_data as sim
    from capplan.simulate import replay_plan

    cfg = sim.config(days=1)
    ws = sim.workspace([{"queue": "d", "kind": "deferred", "within_s": 4 * 3600.0}], [("d", "en", 60.0)], [{"pool": "a", "queues": ("d",), "languages": ("en",)}],
                       shifts=[{"shift": "early", "start_minute": 120, "paid_hours": 8.0, "break_minutes": 0.0}], cfg=cfg)
    start = pd.Timestamp(sim.START, tz="UTC")
    opening = pd.DataFrame({"queue": ["d", "d"], "language": ["en", "en"], "items": [60.0, 120.0],
                            "arrived": [start - pd.Timedelta(minutes=60), start - pd.Timedelta(minutes=30)]})
    last = np.zeros(24)
    last[23] = 30.0  # 30 items at 23:00, after the shift: the closing backlog
    arrivals = sim.arrivals({("d", "en"): last}, days=1, poisson=False)
    r = replay_plan(ws, sim.shift_plan(ws, {("a", "early"): 1}), sim.no_allocation(), arrivals, opening=opening)
    # one moderator from 02:00 at 1 item a minute: the 60 items due by 02:59 are done on time; of the 120 due by 03:29,
    # 30 are (hand: minutes 120-209 do 90 items, 60 + 30); the 30 arrivals of 23:00 wait at the end
    first = r.cells[r.cells["interval_start"] == start].iloc[0]
    assert first["on_time"] == pytest.approx(90.0) and r.cells["arrived"].sum() == pytest.approx(30.0)
    assert r.summary["opening_backlog_items"] == pytest.approx(180.0)
    assert r.closing_backlog[["queue", "language", "items"]].values.tolist() == [["d", "en", 30.0]]
    assert r.closing_backlog["arrived"].iloc[0] == start + pd.Timedelta(hours=23)


def test_scenario_paths_open_with_the_plans_backlog():
    """replay --scenarios: every drawn path starts from the opening backlog, as the plain replay does (it started from
    empty lines). With a forecast of nothing, each path is the plain replay of no arrivals: 90 of the 180 waiting items
    on time (the hand count of the test above) in every path."""
    import _sim_data as sim
    from capplan.simulate import replay_plan
    from capplan.simulate.scenarios import run_scenarios

    cfg = sim.config(days=1)
    ws = sim.workspace([{"queue": "d", "kind": "deferred", "within_s": 4 * 3600.0}], [("d", "en", 60.0)], [{"pool": "a", "queues": ("d",), "languages": ("en",)}],
                       shifts=[{"shift": "early", "start_minute": 120, "paid_hours": 8.0, "break_minutes": 0.0}], cfg=cfg)
    start = pd.Timestamp(sim.START, tz="UTC")
    opening = pd.DataFrame({"queue": ["d", "d"], "language": ["en", "en"], "items": [60.0, 120.0],
                            "arrived": [start - pd.Timedelta(minutes=60), start - pd.Timedelta(minutes=30)]})
    times = pd.date_range(start, periods=24, freq="h")
    nothing = pd.DataFrame({"queue": "d", "language": "en", "interval_start": times, "volume": 0.0, "volume_lo_80": 0.0,
                            "volume_hi_80": 0.0, "model": "test"})
    sp = sim.shift_plan(ws, {("a", "early"): 1})
    sc = run_scenarios(ws, sp, sim.no_allocation(), nothing, n_paths=2, opening=opening)
    plain = replay_plan(ws, sp, sim.no_allocation(), nothing[["queue", "language", "interval_start", "volume"]], opening=opening)
    assert sc.paths["opening_backlog_items"].tolist() == [180.0, 180.0]
    for _, path in sc.cell_weeks.groupby("path"):
        pd.testing.assert_frame_equal(path.drop(columns="path").reset_index(drop=True), plain.cell_weeks.reset_index(drop=True))
    assert plain.cell_weeks["on_time"].sum() == pytest.approx(90.0)
    empty = run_scenarios(ws, sp, sim.no_allocation(), nothing, n_paths=1)  # what --scenarios did before: nothing to judge
    assert empty.paths["opening_backlog_items"].tolist() == [0.0]
