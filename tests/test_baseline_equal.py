"""The planner's baseline at equal service (issue 12): overtime, temps and further capacity for the work its repair
rounds leave unmet, the committed / decidable cost split, and a cyclic week the checker accepts."""

from __future__ import annotations

import numpy as np
import pytest

from _optimize_data import config, daily_profile, pool, queue, requirements, shift, vendor, workspace
from capplan.optimize import baseline_plan, check_plan
from capplan.optimize.plan import baseline_savings
from test_contracts import roster


def _two_employees(days: list[int], overtime_cap: float = 8.0):
    """Two rostered employees on 40 h contracts (five 8 h day shifts at 10 USD/h); 2 moderators needed 08-16 on ``days``."""
    cfg = config()
    cfg.planning.week_end = "terminal"
    cfg.contracts.overtime_max_hours_per_week = overtime_cap
    ws = workspace(cfg, [queue("q")], [pool("ih", shifts=("day",))], [shift(start="08:00", days=7)])
    ws.roster = roster(("ih", 2, 40.0))
    req = requirements(cfg, {("q", "en"): 2 * daily_profile(days, cfg, range(8, 16))})
    return ws, req


def test_overtime_covers_the_sixth_day_within_the_cap():
    """Mon-Sat needs 12 shifts; the contracts give 10. One extra 8 h shift each (cap 8 h) at 1.5 x 10 USD covers the
    rest: 2 x (400 + 120) = 1,040 USD, nothing unmet; committed 800 (contract pay), decidable 240 (the premium hours)."""
    ws, req = _two_employees([1, 1, 1, 1, 1, 1, 0])
    base = baseline_plan(ws, req)
    assert check_plan(ws, req, base) == []
    assert base.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)
    used = base.solve["baseline_remedies"]["by_kind"]
    assert set(used) == {"overtime"} and used["overtime"]["moderators"] == 2
    assert used["overtime"]["paid_hours"] == pytest.approx(16.0)
    assert (base.patterns["contract"] == "overtime").sum() >= 1 and base.patterns["moderators"].sum() == 2
    assert base.patterns.loc[base.patterns["contract"] == "overtime", "days_per_week"].eq(6).all()
    assert base.solve["total_cost"] == pytest.approx(1040.0)
    assert base.solve["committed_cost"] == pytest.approx(800.0)
    assert base.solve["decidable_cost"] == pytest.approx(240.0)
    assert base.solve["committed_cost"] + base.solve["decidable_cost"] == pytest.approx(base.solve["total_cost"])


def test_no_overtime_without_unmet_work_or_above_the_cap():
    ws, req = _two_employees([1, 1, 1, 1, 1, 0, 0])  # the contracts cover Mon-Fri: nothing to remedy
    base = baseline_plan(ws, req)
    assert base.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)
    assert not base.solve["baseline_remedies"] and (base.patterns["contract"] == "contract").all()
    assert base.solve["total_cost"] == pytest.approx(800.0) and base.solve["decidable_cost"] == pytest.approx(0.0)
    ws, req = _two_employees([1, 1, 1, 1, 1, 1, 0], overtime_cap=4.0)  # an 8 h shift is above a 4 h cap: no overtime
    base = baseline_plan(ws, req)
    assert check_plan(ws, req, base) == []
    assert base.solve["unmet_hours"] == pytest.approx(16.0)
    assert not base.solve["baseline_remedies"].get("by_kind") and (base.patterns["contract"] == "contract").all()
    assert base.solve["total_cost"] == pytest.approx(800.0)
    assert base.solve["baseline_remedies"]["gap_cost_estimate"] == pytest.approx(16 * 10 * 1.5)  # at the overtime rate


def test_vendor_minimum_is_committed_and_the_split_sums_to_the_total():
    """The roster (one 40 h employee, 10 USD/h) covers five days 08-16; the weekend goes to a vendor (5 USD/h, weekend
    shifts of 16 h a week, at least 20 h a week): roster pay 400 and the vendor's first 20 h are committed."""
    cfg = config()
    cfg.planning.week_end = "terminal"
    cfg.contracts.overtime_max_hours_per_week = 0.0
    ws = workspace(cfg, [queue("q")], [pool("ih", shifts=("day",)), pool("bpo", vendor="apex", rate=5.0, shifts=("wknd",))],
                   [shift(start="08:00", days=7), shift("wknd", start="08:00", days=2, start_days=("Sat",))],
                   vendors=[vendor("apex", min_h=20.0)])
    ws.roster = roster(("ih", 1, 40.0))
    req = requirements(cfg, {("q", "en"): daily_profile([1] * 7, cfg, range(8, 16))})
    base = baseline_plan(ws, req)
    assert check_plan(ws, req, base) == []
    assert base.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)
    paid = float(base.shift_plan.loc[base.shift_plan["vendor"] == "apex", "paid_hours_total"].sum())
    assert paid >= 16.0
    assert base.solve["committed_roster_cost"] == pytest.approx(400.0)
    assert base.solve["committed_vendor_cost"] == pytest.approx(min(paid, 20.0) * 5.0 + base.solve["take_or_pay"])
    assert base.solve["decidable_cost"] == pytest.approx(max(paid - 20.0, 0.0) * 5.0)
    assert base.solve["committed_cost"] + base.solve["decidable_cost"] == pytest.approx(base.solve["total_cost"])


def test_saving_on_the_decidable_cost_is_reported_beside_the_total():
    plan = {"total_cost": 90.0, "penalty": 0.0, "unmet_hours": 0.0, "committed_cost": 60.0, "decidable_cost": 30.0}
    base = {"total_cost": 100.0, "penalty": 0.0, "unmet_hours": 0.0, "committed_cost": 60.0, "decidable_cost": 40.0}
    s = baseline_savings(plan, base)
    assert s["savings_vs_baseline_paid"] == pytest.approx(0.10)
    assert s["savings_vs_baseline_decidable"] == pytest.approx(0.25) and s["baseline_decidable_share"] == pytest.approx(0.4)
    assert "decidable cost" in s["baseline_comparison"] and "25.0% below" in s["baseline_comparison"]


def test_work_left_to_the_next_week_is_valued_in_the_saving():
    """A terminal week: the plan 10 % cheaper in paid cost but leaving 20 h to the next week (at 2 a standard hour)
    against the baseline's 5 h: (90 + 40) / (100 + 10) = 1.18, so it is 18.2 % dearer once that work is valued. A cyclic
    week (no terminal price) reports no such figure."""
    plan = {"total_cost": 90.0, "penalty": 0.0, "unmet_hours": 0.0, "week_end": "terminal", "end_backlog_hours": 20.0,
            "terminal_backlog_cost": 40.0}
    base = {"total_cost": 100.0, "penalty": 0.0, "unmet_hours": 0.0, "week_end": "terminal", "end_backlog_hours": 5.0,
            "terminal_backlog_cost": 10.0}
    s = baseline_savings(plan, base)
    assert s["savings_vs_baseline_paid"] == pytest.approx(0.10)
    assert s["savings_vs_baseline_with_end_backlog"] == pytest.approx(1.0 - 130.0 / 110.0)
    assert "left to the next week valued (20 h vs 5 h, 40 vs 10) 18.2% above" in s["baseline_comparison"]
    cyclic = baseline_savings({**plan, "week_end": "cyclic"}, {**base, "week_end": "cyclic"})
    assert "savings_vs_baseline_with_end_backlog" not in cyclic and "next week" not in cyclic["baseline_comparison"]


def test_idle_capacity_at_the_end_of_a_cyclic_week_leaves_a_plan_the_checker_accepts():
    """Deferred work (1 h an hour, 24 h turnaround) and ten in-house moderators paid 00-08 every day (80 h a day, mostly idle
    otherwise). The dispatch counts on Sunday's newest work being carried to Monday, but the idle Sunday capacity does
    some of it; the week then carries less, and Monday's hours did work that was not there: the checker rejected
    the plan (done before arrival, the week does not wrap). Hours with no work waiting in the week's own flow are
    now given back (idle)."""
    cfg = config()
    cfg.planning.week_end = "cyclic"
    ws = workspace(cfg, [queue("d", kind="deferred", within_s=24 * 3600, severity=3)],
                   [pool("ih", queues=("d",), shifts=("night",), min_hc=10, max_hc=10)], [shift("night", start="00:00", days=7)])
    req = requirements(cfg, {("d", "en"): np.ones(7 * 24)}, kinds={"d": "deferred"})
    base = baseline_plan(ws, req)
    assert check_plan(ws, req, base) == []
    assert base.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)
    assert base.allocation["productive_hours"].sum() == pytest.approx(7 * 24.0, rel=1e-6)  # the week's work, once


def test_solve_json_reports_the_split_the_remedies_and_the_decidable_saving():
    from capplan.optimize import solve_plan

    ws, req = _two_employees([1, 1, 1, 1, 1, 1, 0])
    r = solve_plan(ws, req)
    s = r.solve
    assert r.checks == [] and s["baseline_checks"] == []
    assert s["total_cost"] == pytest.approx(1040.0) and s["baseline_cost"] == pytest.approx(1040.0)  # both need the 2 overtime shifts
    assert s["committed_cost"] == pytest.approx(800.0) and s["baseline_committed_cost"] == pytest.approx(800.0)
    assert s["savings_vs_baseline_decidable"] == pytest.approx(0.0, abs=1e-9)
    assert s["baseline_remedies"]["by_kind"]["overtime"]["moderators"] == 2
    assert "decidable cost" in s["baseline_comparison"]
