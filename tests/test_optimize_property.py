"""Property test: tiny random instances always give a plan that passes the checker, with vendor hours adding up."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _optimize_data import config, pool, queue, requirements, shift, vendor, workspace
from capplan.optimize import baseline_plan, check_plan, solve_plan


@st.composite
def instances(draw):
    cfg = config(interval_minutes=60, plan_days=1 * 7, exposure_max_share=draw(st.sampled_from([0.5, 1.0])),
                 exposure_max_hours_per_day=draw(st.sampled_from([2.0, 24.0])))
    cfg.solver.relative_gap = 0.01
    cfg.solver.time_limit_s = 10
    queues = [queue("rt", kind="realtime", severity=1, egregious=draw(st.booleans())),
              queue("df", kind="deferred", severity=3, within_s=draw(st.sampled_from([1800.0, 4 * 3600.0])))]
    tz = draw(st.sampled_from(["UTC", "Europe/Dublin", "Asia/Manila", "America/Chicago"]))
    shifts = [shift("day", "08:00", paid_hours=8.0, break_minutes=30, days=5),
              shift("night", "22:00", paid_hours=8.0, days=draw(st.integers(1, 7)), start_days=("Mon", "Thu"))]
    pools = [pool("a", queues=("rt", "df"), languages=("en",), tz=tz, rate=draw(st.floats(5, 20)), max_hc=draw(st.integers(0, 6)),
                  shifts=("day", "night")),
             pool("b", queues=("df",), languages=("en", "es"), vendor="bpo", rate=draw(st.floats(5, 20)),
                  proficiency=draw(st.sampled_from([1.0, 1.3])), shifts=("day",))]
    vendors = [vendor("bpo", min_h=draw(st.sampled_from([0.0, 80.0])), max_h=draw(st.sampled_from([40.0, 400.0])),
                      share=draw(st.sampled_from([0.6, 1.0])))]
    ws = workspace(cfg, queues, pools, shifts, vendors)
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    rows = {("rt", "en"): rng.integers(0, 3, 168).astype(float),
            ("df", "en"): rng.uniform(0, 2, 168) * (rng.random(168) < 0.5),
            ("df", "es"): rng.uniform(0, 1, 168) * (rng.random(168) < 0.3)}
    return ws, requirements(cfg, rows, kinds={"rt": "realtime", "df": "deferred"})


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_random_plans_pass_the_checker(instance):
    ws, req = instance
    r = solve_plan(ws, req, with_baseline=False)
    assert r.checks == []
    assert check_plan(ws, req, baseline_plan(ws, req)) == []  # the planner's baseline is a valid plan too
    assert check_plan(ws, req, r) == []
    assert r.vendor_allocation["hours"].sum() == pytest.approx(r.allocation["productive_hours"].sum())
    assert r.solve["gap"] <= 0.01 + 1e-9 or r.solve["status"] != "optimal"
    # the objective is at least the plan's cost plus its penalties (the tie-breaker is >= 0)
    assert r.solve["objective"] >= r.solve["cost"] + r.solve["take_or_pay"] + r.solve["penalty"] - 1e-3 - 1e-6 * abs(r.solve["objective"])
