"""Deferred-queue backlog model: deadline arithmetic, the flattest on-time profile, the checker."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from capplan.staffing.backlog import (
    check_capacity,
    cumulative_due,
    due_interval_index,
    minimal_peak,
    minimal_profile,
)


def test_due_index_convention():
    # 60-min intervals, 4 h window: interval i (start i h) is due at i + 4 h = end of interval i + 3
    np.testing.assert_array_equal(due_interval_index(6, 60, 4 * 3600), [3, 4, 5, 6, 7, 8])
    np.testing.assert_array_equal(due_interval_index(6, 60, 4 * 3600, clip=True), [3, 4, 5, 5, 5, 5])
    # 15-min intervals, 4 h: 16 intervals ahead, the last one ending exactly at the deadline
    assert due_interval_index(3, 15, 4 * 3600)[0] == 15
    # a deadline inside an interval does not count that interval: 90 min with 60-min intervals -> i
    np.testing.assert_array_equal(due_interval_index(3, 60, 90 * 60), [0, 1, 2])
    # 150 min with 60-min intervals: interval i+1 ends at 120 min <= 150 -> i + 1
    np.testing.assert_array_equal(due_interval_index(3, 60, 150 * 60), [1, 2, 3])
    # a window shorter than one interval: due in the arrival interval itself
    np.testing.assert_array_equal(due_interval_index(3, 60, 60), [0, 1, 2])
    with pytest.raises(ValueError):
        due_interval_index(3, 0, 60)


def test_cumulative_due():
    w = np.array([1.0, 2.0, 3.0, 4.0])
    due = due_interval_index(4, 60, 2 * 3600)  # i + 1
    np.testing.assert_allclose(cumulative_due(w, due), [0, 1, 3, 6])  # the last arrival is due after the horizon


def test_spike_is_spread_evenly_over_its_window():
    # 10 h of work arriving in interval 2, 4 h window on hourly intervals: done by the end of 5
    w = np.zeros(10)
    w[2] = 10.0
    p = minimal_profile(w, 60, 4 * 3600)
    np.testing.assert_allclose(p, [0, 0, 2.5, 2.5, 2.5, 2.5, 0, 0, 0, 0], atol=1e-12)


def test_constant_work_is_done_as_it_arrives():
    w = np.full(24, 3.0)
    np.testing.assert_allclose(minimal_profile(w, 60, 4 * 3600), w)


def test_short_window_means_just_in_time():
    w = np.array([0.0, 5.0, 1.0, 7.0, 0.0, 2.0])
    np.testing.assert_allclose(minimal_profile(w, 60, 30 * 60), w)


def test_daily_peak_is_shaved_but_never_late():
    t = np.arange(48)
    w = 10 + 8 * np.sin(2 * np.pi * t / 24)
    p = minimal_profile(w, 60, 6 * 3600)
    assert p.sum() == pytest.approx(w.sum())
    assert p.max() < w.max() - 2  # flatter than the arrivals
    assert p.max() == pytest.approx(minimal_peak(w, 60, 6 * 3600), rel=1e-9)
    check = check_capacity(w, p, 60, 6 * 3600)
    assert check.on_time_share == pytest.approx(1.0)
    assert np.all(check.late_hours == 0)
    assert check.backlog_hours[-1] == pytest.approx(0.0, abs=1e-9)


def test_horizon_end_work_is_finished_inside_the_horizon():
    w = np.zeros(6)
    w[-1] = 4.0  # due after the horizon: clipped to the last interval
    np.testing.assert_allclose(minimal_profile(w, 60, 4 * 3600), [0, 0, 0, 0, 0, 4])


_work = st.lists(st.floats(0, 50, allow_nan=False), min_size=1, max_size=40)
_window_h = st.sampled_from([0.5, 1, 2, 3, 4, 8, 24])


@settings(max_examples=80, deadline=None)
@given(w=_work, window_h=_window_h)
def test_profile_is_feasible_and_has_the_least_possible_peak(w, window_h):
    w = np.array(w)
    within = window_h * 3600
    p = minimal_profile(w, 60, within)
    assert np.all(p >= 0)
    assert p.sum() == pytest.approx(w.sum(), abs=1e-9)
    cum = np.cumsum(p)
    assert np.all(cum <= np.cumsum(w) + 1e-9)  # nothing done before it arrives
    check = check_capacity(w, p, 60, within)
    assert check.on_time_share == pytest.approx(1.0, abs=1e-9)
    assert np.all(check.late_hours <= 1e-9)
    assert p.max() == pytest.approx(minimal_peak(w, 60, within), abs=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_profile_minimises_every_convex_cost_like_an_lp(seed):
    """The taut string minimises sum_t f(done_t) for every convex f. The hinge costs
    f(p) = max(0, p - level) span all convex costs; for each level, an LP (HiGHS in scipy) finds
    the least hinge cost of any on-time plan, and the profile must achieve it."""
    rng = np.random.default_rng(seed)
    n = 20
    w = rng.gamma(1.0, 5.0, n) * (rng.random(n) < 0.6)
    within = 3 * 3600
    due = due_interval_index(n, 60, within, clip=True)
    lower = cumulative_due(w, due)
    upper = np.cumsum(w)
    p = minimal_profile(w, 60, within)
    tri = np.tril(np.ones((n, n)))  # cumulative sums
    # variables [p (n), s (n)]; s_t >= p_t - level, s >= 0, p >= 0, lower <= tri p <= upper, sum p = total
    a_ub = np.block([[-tri, np.zeros((n, n))], [tri, np.zeros((n, n))], [np.eye(n), -np.eye(n)]])
    for level in np.quantile(p, [0.0, 0.3, 0.6, 0.9]):
        b_ub = np.concatenate([-lower, upper, np.full(n, level)])
        res = linprog(np.concatenate([np.zeros(n), np.ones(n)]), A_ub=a_ub, b_ub=b_ub,
                      A_eq=np.concatenate([np.ones(n), np.zeros(n)])[None, :], b_eq=[w.sum()],
                      bounds=[(0, None)] * (2 * n), method="highs")
        assert res.status == 0
        assert np.maximum(p - level, 0).sum() == pytest.approx(res.fun, abs=1e-7)


def test_checker_reports_backlog_and_late_work_by_hand():
    # 2 h windows on hourly intervals: due[i] = i + 1
    w = np.array([4.0, 4.0, 0.0, 0.0])
    c = np.array([1.0, 1.0, 1.0, 1.0])
    chk = check_capacity(w, c, 60, 2 * 3600)
    np.testing.assert_allclose(chk.done_hours, [1, 1, 1, 1])
    np.testing.assert_allclose(chk.backlog_hours, [3, 6, 5, 4])
    # due by end of 1: 4 h (arrival 0), done 2 -> 2 late; end of 2: due 8, done 3 -> 5 late; end of 3: 8 - 4
    np.testing.assert_allclose(chk.late_hours, [0, 2, 5, 4])
    # arrival 0: FIFO positions (0, 4], done by end of 1 = 2 -> 2 on time; arrival 1: (4, 8], done by 2 = 3 -> 0
    np.testing.assert_allclose(chk.late_by_arrival_hours, [2, 4, 0, 0])
    assert chk.on_time_share == pytest.approx(2 / 8)


def test_checker_idle_capacity_is_not_banked():
    # capacity before work arrives cannot be used later
    w = np.array([0.0, 0.0, 6.0])
    c = np.array([5.0, 5.0, 2.0])
    chk = check_capacity(w, c, 60, 3600)
    np.testing.assert_allclose(chk.done_hours, [0, 0, 2])
    np.testing.assert_allclose(chk.late_hours, [0, 0, 4])


def test_checker_without_clip_does_not_judge_work_due_after_the_horizon():
    w = np.array([1.0, 1.0, 1.0])
    chk = check_capacity(w, np.zeros(3), 60, 4 * 3600, clip=False)
    assert chk.on_time_share == 1.0  # nothing is due inside the horizon
    np.testing.assert_allclose(chk.backlog_hours, [1, 2, 3])
    chk = check_capacity(w, np.zeros(3), 60, 4 * 3600)
    assert chk.on_time_share == 0.0


def test_zero_work():
    np.testing.assert_array_equal(minimal_profile(np.zeros(5), 30, 7200), np.zeros(5))
    assert check_capacity(np.zeros(5), np.zeros(5), 30, 7200).on_time_share == 1.0
    assert minimal_profile([], 60, 3600).size == 0
