"""Queueing maths checked against textbook values, exact rational arithmetic, a numerically solved
birth-death chain (a second, independent method for Erlang A) and pyworkforce."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from capplan.staffing.erlang import (
    erlang_a_metrics,
    erlang_b,
    erlang_b_recursive,
    erlang_c,
    erlang_c_asa,
    erlang_c_metrics,
    erlang_c_service_level,
    occupancy,
    offered_load,
    queue_metrics,
    required_agents,
)


# --- textbook ----------------------------------------------------------------------------------
def test_textbook_100_calls_30_min_aht_180_target_80_20():
    """The widely quoted example: 100 calls / 30 min, AHT 180 s, 80 % in 20 s -> 14 agents, SL 88.8 %."""
    r = required_agents(100, 1800, 180, 0.8, 20)
    assert r.agents == 14
    assert r.offered_load == pytest.approx(10.0)
    assert round(float(r.service_level) * 100, 1) == 88.8
    assert float(r.asa_s) == pytest.approx(7.84, abs=0.01)  # "ASA about 8 s"
    assert float(r.occupancy) == pytest.approx(10 / 14)
    assert float(r.abandon_rate) == 0.0
    # 13 agents: 79.6 %, just short of the target
    assert round(float(erlang_c_service_level(13, 10, 180, 20)) * 100, 1) == 79.6


def test_erlang_c_textbook_table_values():
    # P(wait) for a = 10 Erlang: 11 -> 68.2 %, 14 -> 17.4 % (standard Erlang C tables)
    assert float(erlang_c(11, 10)) == pytest.approx(0.6821, abs=1e-4)
    assert float(erlang_c(14, 10)) == pytest.approx(0.1741, abs=1e-4)


# --- exact rational arithmetic -------------------------------------------------------------------
def _erlang_b_exact(n: int, a: Fraction) -> Fraction:
    """B(n, a) = (a^n / n!) / sum_{k<=n} a^k / k!, in exact rationals."""
    terms = [a**k / math.factorial(k) for k in range(n + 1)]
    return terms[-1] / sum(terms)


def _erlang_c_exact(n: int, a: Fraction) -> Fraction:
    """C(n, a) = (a^n / n! * n / (n - a)) / (sum_{k<n} a^k / k! + a^n / n! * n / (n - a))."""
    top = a**n / math.factorial(n) * Fraction(n) / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize("a", [Fraction(1, 3), Fraction(37, 4), Fraction(10), Fraction(123, 2)])
def test_erlang_b_and_c_equal_exact_rationals(a):
    ns = [n for n in (1, 2, 5, 9, 10, 11, 14, 20, 40, 62, 80) if n > a]
    exact_b = np.array([float(_erlang_b_exact(n, a)) for n in ns])
    exact_c = np.array([float(_erlang_c_exact(n, a)) for n in ns])
    np.testing.assert_allclose(erlang_b(ns, float(a)), exact_b, rtol=1e-11)
    np.testing.assert_allclose(erlang_c(ns, float(a)), exact_c, rtol=1e-11)
    np.testing.assert_allclose([erlang_b_recursive(n, float(a)) for n in ns], exact_b, rtol=1e-12)


def test_erlang_b_below_load_where_the_gamma_tail_underflows():
    # n far below a: Q(n+1, a) underflows (< 1e-280) and the continued fraction takes over
    from scipy.special import gammaincc

    a = 3000.0
    for n in (5, 50, 500, 1500, 2500):
        assert (gammaincc(n + 1, a) < 1e-280) == (n <= 500)  # both paths are exercised
        want = float(_erlang_b_exact(n, Fraction(3000))) if n <= 50 else erlang_b_recursive(n, a)
        assert float(erlang_b(n, a)) == pytest.approx(want, rel=1e-10)


def test_erlang_b_matches_forward_recursion_at_5000_erlangs():
    for n in (4000, 4999, 5000, 5100, 5400):
        assert float(erlang_b(n, 5000.0)) == pytest.approx(erlang_b_recursive(n, 5000.0), rel=1e-9)


def test_continuous_extension_is_monotone_between_integers():
    n = np.linspace(10.01, 20, 200)
    b = erlang_b(n, 10.0)
    assert np.all(np.diff(b) < 0)
    sl = erlang_c_service_level(n, 10.0, 180, 20)
    assert np.all(np.diff(sl) > 0)


# --- Erlang A against a truncated birth-death chain ---------------------------------------------
def _chain(n: int, a: float, aht: float, patience: float, within: float, k_max: int = 250) -> dict:
    """M/M/n+M solved numerically: stationary distribution of the birth-death chain truncated at
    n + k_max; the tagged arrival's wait by the transient chain of 'items ahead of it' (expm)."""
    mu, theta = 1.0 / aht, 1.0 / patience
    lam = a * mu
    # stationary probabilities, log space
    logp = [0.0]
    for j in range(1, n + k_max + 1):
        death = min(j, n) * mu + max(j - n, 0) * theta
        logp.append(logp[-1] + math.log(lam / death))
    logp = np.array(logp)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    assert p[-1] < 1e-15, "truncation too short"
    queue = np.arange(len(p)) - n
    p_wait = p[n:].sum()
    p_abandon = theta * (p[n:] * queue[n:]).sum() / lam
    # tagged arrival finding k ahead of it: states m = k..0 ahead, then 'served' (absorbing)
    size = k_max + 2  # m = 0..k_max, served = k_max + 1 (abandoned is the lost mass)
    q = np.zeros((size, size))
    for m in range(k_max + 1):
        advance = n * mu + m * theta
        if m == 0:
            q[0, size - 1] = n * mu
        else:
            q[m, m - 1] = advance
        q[m, m] = -(advance + theta)
    served_by_t = expm(q * within)[: k_max + 1, size - 1]
    sl = p[:n].sum() + (p[n : n + k_max + 1] * served_by_t).sum()
    return {"p_wait": p_wait, "abandon_rate": p_abandon, "service_level": sl, "asa_s": p_abandon / theta,
            "occupancy": lam * (1 - p_abandon) / (n * mu)}


CHAIN_CASES = [
    # n, a, aht, patience, within
    (14, 10.0, 180.0, 300.0, 20.0),
    (10, 10.0, 180.0, 300.0, 20.0),  # n = a: stable only because of abandonment
    (7, 10.0, 180.0, 120.0, 30.0),  # n < a
    (3, 2.5, 60.0, 30.0, 15.0),
    (25, 22.0, 600.0, 60.0, 120.0),  # patience much shorter than AHT
    (40, 30.0, 120.0, 900.0, 60.0),
    (1, 0.3, 300.0, 600.0, 0.0),
]


@pytest.mark.parametrize("n,a,aht,patience,within", CHAIN_CASES)
def test_erlang_a_equals_birth_death_chain(n, a, aht, patience, within):
    want = _chain(n, a, aht, patience, within)
    got = erlang_a_metrics(n, a, aht, patience, within)
    for key in ("p_wait", "abandon_rate", "service_level", "occupancy"):
        assert float(getattr(got, key)) == pytest.approx(want[key], abs=1e-6), key
    assert float(got.asa_s) == pytest.approx(want["asa_s"], rel=1e-6, abs=1e-6)


def test_erlang_a_tends_to_erlang_c_as_patience_grows():
    """The gap to Erlang C shrinks like 1/patience: (gap * patience) settles to a constant, which
    also shows the formulas stay accurate at patience 10^8 s (x, y of order 10^7)."""
    c = erlang_c_metrics(14, 10.0, 180.0, 20.0)
    scaled = []
    for patience in (1e4, 1e6, 1e8):
        m = erlang_a_metrics(14, 10.0, 180.0, patience, 20.0)
        scaled.append([float(getattr(m, k) - getattr(c, k)) * patience for k in ("service_level", "p_wait", "asa_s")])
    scaled = np.array(scaled)
    np.testing.assert_allclose(scaled[2], scaled[1], rtol=1e-3)
    assert np.all(np.abs(scaled[2] / scaled[0] - 1) < 0.1)
    assert scaled[2][0] > 0  # abandonment shortens the queue: a slightly better service level
    # and infinite patience is exactly Erlang C
    inf = queue_metrics(14, 10.0, 180.0, 20.0, np.inf)
    assert float(inf.service_level) == float(c.service_level)
    assert float(queue_metrics(14, 10.0, 180.0, 20.0, np.nan).service_level) == float(c.service_level)


def test_erlang_a_staffing_can_be_below_offered_load():
    # 5,000 Erlangs, patience a fifth of AHT: fewer moderators than the load meet 80 % answered in 20 s
    r = required_agents(50_000, 1800, 180, 0.7777, 20, patience_s=36)
    assert float(r.offered_load) == 5000.0
    assert r.agents < 4000
    n = int(r.agents)
    below = erlang_a_metrics(n - 1, 5000.0, 180, 36, 20)
    assert float(r.service_level) >= 0.7777 > float(below.service_level)


def test_erlang_a_with_long_window_needs_more_than_erlang_c():
    """With abandonment, 'answered within T over all arrivals' counts abandons as misses, so a
    loose threshold with impatient users needs *more* moderators than Erlang C."""
    c = required_agents(100, 1800, 180, 0.95, 600)
    a = required_agents(100, 1800, 180, 0.95, 600, patience_s=30)
    assert a.agents > c.agents
    assert float(a.abandon_rate) <= 0.05 + 1e-12


# --- minimal staffing ----------------------------------------------------------------------------
GRID = [
    # volume, interval_s, aht_s, target, within_s, patience_s
    (100, 1800, 180, 0.8, 20, np.inf),
    (5, 3600, 600, 0.9, 60, np.inf),
    (850, 3600, 95, 0.8, 60, np.inf),
    (3, 1800, 400, 0.5, 10, np.inf),
    (100, 1800, 180, 0.8, 20, 300.0),
    (400, 900, 240, 0.7, 30, 45.0),
    (2, 3600, 1200, 0.95, 300, 600.0),
    (12000, 3600, 300, 0.85, 60, 90.0),
    (50000, 1800, 180, 0.99, 1, np.inf),  # 5,000 Erlang, strict: > 64 recursion steps, bisection finishes
]


@pytest.mark.parametrize("volume,interval,aht,target,within,patience", GRID)
def test_minimal_staffing_meets_target_and_one_less_misses(volume, interval, aht, target, within, patience):
    r = required_agents(volume, interval, aht, target, within, patience_s=patience)
    n = float(r.agents)
    a = volume * aht / interval
    assert n == int(n)
    m = queue_metrics(n, a, aht, within, patience)
    m1 = queue_metrics(n - 1, a, aht, within, patience)
    assert float(m.service_level) >= target
    assert float(m1.service_level) < target


def test_occupancy_cap_and_asa_target_are_minimal_too():
    r = required_agents(100, 1800, 60, 0.5, 60, max_occupancy=0.7)  # a = 3.33: SL needs 5, cap needs 5
    assert float(r.agents) == math.ceil(100 * 60 / 1800 / 0.7)
    r = required_agents(400, 1800, 60, 0.5, 60, max_occupancy=0.85)
    assert float(r.agents) == math.ceil((400 * 60 / 1800) / 0.85)
    assert float(r.occupancy) <= 0.85
    assert float(erlang_c_metrics(r.agents - 1, 400 * 60 / 1800, 60, 60).occupancy) > 0.85
    r = required_agents(100, 1800, 180, 0.5, 20, max_asa_s=5)
    n = float(r.agents)
    assert float(erlang_c_asa(n, 10.0, 180)) <= 5 < float(erlang_c_asa(n - 1, 10.0, 180))
    # Erlang A occupancy (carried load) cap
    r = required_agents(100, 1800, 180, 0.1, 20, patience_s=60, max_occupancy=0.8)
    n = float(r.agents)
    assert float(r.occupancy) <= 0.8 < float(erlang_a_metrics(n - 1, 10.0, 180, 60, 20).occupancy)


def test_zero_volume_needs_zero_moderators():
    r = required_agents([0.0, 0.0], 1800, 180, 0.8, 20, patience_s=[np.inf, 60.0], fractional=True)
    np.testing.assert_array_equal(r.agents, [0.0, 0.0])
    np.testing.assert_array_equal(r.service_level, [1.0, 1.0])
    np.testing.assert_array_equal(r.asa_s, [0.0, 0.0])
    np.testing.assert_array_equal(r.abandon_rate, [0.0, 0.0])


def test_five_thousand_erlangs_do_not_overflow():
    r = required_agents(50_000, 1800, 180, 0.8, 20, fractional=False)
    assert float(r.offered_load) == 5000.0
    n = float(r.agents)
    assert 5001 <= n < 5100
    assert np.isfinite(r.asa_s) and float(r.service_level) >= 0.8
    # the forward recursion (stable at any load) agrees on the answer
    b = erlang_b_recursive(int(n), 5000.0)
    c = n * b / (n - 5000 * (1 - b))
    assert 1 - c * math.exp(-(n - 5000) * 20 / 180) >= 0.8
    b1 = erlang_b_recursive(int(n) - 1, 5000.0)
    c1 = (n - 1) * b1 / (n - 1 - 5000 * (1 - b1))
    assert 1 - c1 * math.exp(-(n - 1 - 5000) * 20 / 180) < 0.8


def test_fractional_staffing_rounds_up_to_the_integer_answer_and_meets_target():
    volume = np.array([100, 37, 5, 850, 400, 1.0])
    patience = np.array([np.inf, np.inf, np.inf, np.inf, 45.0, 60.0])
    r_int = required_agents(volume, 1800, 180, 0.8, 20, patience_s=patience)
    r = required_agents(volume, 1800, 180, 0.8, 20, patience_s=patience, fractional=True)
    np.testing.assert_array_equal(np.ceil(r.agents - 1e-9), r_int.agents)
    assert np.all(r.agents > r_int.agents - 1)
    erlang_c_cells = ~np.isfinite(patience)
    assert np.all(r.agents[erlang_c_cells] > r.offered_load[erlang_c_cells])  # never unstable
    assert np.all(r.service_level >= 0.8 - 1e-12)  # the continuous formulas agree the target is met
    np.testing.assert_array_equal(r.agents_int, r_int.agents)


@settings(max_examples=40, deadline=None)
@given(volume=st.floats(0.1, 3000), aht=st.floats(20, 1200), target=st.floats(0.05, 0.99),
       within=st.floats(0, 600), patience=st.one_of(st.just(np.inf), st.floats(5, 3600)))
def test_fractional_staffing_always_meets_the_target(volume, aht, target, within, patience):
    r = required_agents(volume, 1800, aht, target, within, patience_s=patience, max_occupancy=0.9, fractional=True)
    assert float(r.service_level) >= target - 1e-9
    assert float(r.occupancy) <= 0.9 + 1e-9
    assert np.ceil(float(r.agents) - 1e-9) == float(r.agents_int)


def test_vectorized_call_equals_scalar_calls():
    rng = np.random.default_rng(3)
    volume = rng.uniform(0, 500, 50)
    aht = rng.uniform(30, 600, 50)
    target = rng.uniform(0.5, 0.95, 50)
    patience = np.where(rng.random(50) < 0.5, np.inf, rng.uniform(10, 600, 50))
    r = required_agents(volume, 1800, aht, target, 30, patience_s=patience, max_occupancy=0.9)
    for i in range(0, 50, 7):
        one = required_agents(volume[i], 1800, aht[i], target[i], 30, patience_s=patience[i], max_occupancy=0.9)
        assert float(one.agents) == r.agents[i]


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="target"):
        required_agents(10, 1800, 180, 1.0, 20)
    with pytest.raises(ValueError, match="AHT"):
        required_agents(10, 1800, 0, 0.8, 20)
    with pytest.raises(ValueError, match="volume"):
        required_agents(-1, 1800, 180, 0.8, 20)
    with pytest.raises(ValueError, match="occupancy"):
        required_agents(10, 1800, 180, 0.8, 20, max_occupancy=0)
    # a target of 1 with no work is fine: nothing to answer
    assert float(required_agents(0, 1800, 180, 1.0, 20).agents) == 0


def test_offered_load_and_occupancy():
    assert float(offered_load(100, 1800, 180)) == 10.0
    np.testing.assert_allclose(occupancy([14, 10, 5, 0], [10, 10, 10, 0]), [10 / 14, 1, 1, 0])


# --- properties --------------------------------------------------------------------------------
_volume = st.floats(0, 3000, allow_nan=False)
_aht = st.floats(20, 1200, allow_nan=False)
_target = st.floats(0.05, 0.99, allow_nan=False)
_within = st.floats(0, 600, allow_nan=False)
_patience = st.one_of(st.just(np.inf), st.floats(5, 3600, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(v1=_volume, v2=_volume, aht=_aht, target=_target, within=_within, patience=_patience)
def test_more_volume_never_needs_fewer(v1, v2, aht, target, within, patience):
    lo, hi = sorted((v1, v2))
    r = required_agents([lo, hi], 1800, aht, target, within, patience_s=patience)
    assert r.agents[0] <= r.agents[1]
    f = required_agents([lo, hi], 1800, aht, target, within, patience_s=patience, fractional=True)
    assert f.agents[0] <= f.agents[1] + 1e-9


@settings(max_examples=60, deadline=None)
@given(volume=_volume, aht=_aht, t1=_target, t2=_target, within=_within, patience=_patience)
def test_higher_target_never_needs_fewer(volume, aht, t1, t2, within, patience):
    lo, hi = sorted((t1, t2))
    r = required_agents(volume, 1800, aht, [lo, hi], within, patience_s=patience)
    assert r.agents[0] <= r.agents[1]


# --- side by side with pyworkforce 0.5.1 ---------------------------------------------------------
def _pyworkforce():
    return pytest.importorskip("pyworkforce.queuing").ErlangC


PW_GRID = [
    # transactions per interval, aht [s], threshold [s], interval [s], target
    (100, 180, 20, 1800, 0.8),
    (250, 240, 30, 1800, 0.8),
    (40, 300, 60, 3600, 0.9),
    (1200, 90, 15, 900, 0.85),
    (18, 600, 120, 3600, 0.7),
    (900, 120, 20, 1800, 0.95),
    (60, 45, 10, 900, 0.75),
]


@pytest.mark.parametrize("volume,aht,within,interval,target", PW_GRID)
def test_agrees_with_pyworkforce_on_a_grid(volume, aht, within, interval, target):
    ErlangC = _pyworkforce()
    # pyworkforce works in minutes; its 'asa' argument is the service-level threshold
    pw = ErlangC(transactions=volume, aht=aht / 60, asa=within / 60, interval=interval / 60).required_positions(target, 1.0)
    r = required_agents(volume, interval, aht, target, within)
    assert float(r.agents) == pw["raw_positions"]
    assert float(r.service_level) == pytest.approx(pw["service_level"], rel=1e-9)
    assert float(r.p_wait) == pytest.approx(pw["waiting_probability"], rel=1e-9)
    assert float(r.occupancy) == pytest.approx(pw["occupancy"], rel=1e-12)


def test_where_pyworkforce_differs_its_search_skips_the_minimum():
    """pyworkforce starts its search at round(a + 1); when the fractional part of the load is
    >= 0.5 that is floor(a) + 2, so a loose target met by floor(a) + 1 moderators is overstaffed
    by one. Its *own* service-level function shows the smaller staffing meets the target."""
    ErlangC = _pyworkforce()
    volume, aht, within, interval, target = 26, 180, 60, 1800, 0.3  # a = 2.6
    pw = ErlangC(transactions=volume, aht=aht / 60, asa=within / 60, interval=interval / 60)
    theirs = pw.required_positions(target, 1.0)["raw_positions"]
    ours = float(required_agents(volume, interval, aht, target, within).agents)
    assert (ours, theirs) == (3, 4)
    assert pw.service_level(3) >= target  # pyworkforce's own formula: 3 moderators are enough
    assert float(erlang_c_service_level(3, 2.6, aht, within)) == pytest.approx(pw.service_level(3), rel=1e-12)
    assert float(erlang_c_service_level(2, 2.6, aht, within)) < target  # and 2 are unstable (n < a)


def test_where_pyworkforce_differs_it_rejects_zero_volume():
    ErlangC = _pyworkforce()
    with pytest.raises(ValueError):
        ErlangC(transactions=0, aht=3, asa=1 / 3, interval=30)
    assert float(required_agents(0, 1800, 180, 0.8, 20).agents) == 0


def test_subnormal_volume_is_staffed_like_a_tiny_one():
    """Regression (found by hypothesis in CI): a subnormal volume made the Erlang A search diverge."""
    for patience in (5.0, float("inf")):
        r = required_agents([1.1125369292536007e-308, 1e-20], 1800, 20.0, 0.8, 0.0, patience_s=patience)
        assert list(r.agents_int) == [1.0, 1.0]
