"""Optimizer: exact small cases with hand-computed optima; every plan passes the independent checker."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from _optimize_data import config, daily_profile, pool, queue, requirements, shift, vendor, workspace
from capplan.optimize import baseline_plan, check_plan, solve_plan
from capplan.optimize.data import map_occurrence, plan_window


def solved(ws, req, **kw):
    result = solve_plan(ws, req, **kw)
    assert result.checks == [], result.checks
    assert check_plan(ws, req, result) == []
    assert result.solve["status"] == "optimal"
    return result


def test_days_off_covering_known_optimum():
    """Winston's post-office problem: daily needs 17,13,15,19,14,16,11 with 5 consecutive days on.

    The LP optimum is 67/3 = 22.33 moderators; the integer optimum is 23 (Winston, Operations
    Research, 4th ed., section 3.5, example 14 / 9.2)."""
    cfg = config()
    ws = workspace(cfg, [queue("q")], [pool("a", rate=10.0)], [shift(days=5)])
    req = requirements(cfg, {("q", "en"): daily_profile([17, 13, 15, 19, 14, 16, 11], cfg, range(8))})
    r = solved(ws, req)
    assert r.solve["moderators"] == 23
    assert r.solve["cost"] == pytest.approx(23 * 5 * 8 * 10.0)
    assert r.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)
    # every day's requirement met by the rota
    per_day = r.shift_plan.groupby("day")["headcount"].sum().to_numpy()
    assert (per_day >= np.array([17, 13, 15, 19, 14, 16, 11])).all()
    assert set(r.shift_plan["start_utc"].dt.hour) == {0}
    assert (r.patterns["days_per_week"] == 5).all()


def test_lp_relaxation_integral_three_shifts():
    """Constant need of 3 moderators around the clock, three 8 h shifts, 7-day patterns: exactly 3 per shift."""
    cfg = config()
    shifts = [shift("early", "00:00", days=7, start_days=("Mon",)), shift("mid", "08:00", days=7, start_days=("Mon",)),
              shift("late", "16:00", days=7, start_days=("Mon",))]
    ws = workspace(cfg, [queue("q")], [pool("a", shifts=("early", "mid", "late"))], shifts)
    req = requirements(cfg, {("q", "en"): np.full(168, 3.0)})
    r = solved(ws, req)
    assert r.solve["moderators"] == 9
    assert r.solve["cost"] == pytest.approx(9 * 7 * 8 * 10.0)
    assert r.patterns.set_index("shift")["moderators"].to_dict() == {"early": 3, "mid": 3, "late": 3}
    assert r.solve["gap"] == pytest.approx(0.0, abs=1e-9)


def test_multi_skill_hours_spent_once():
    """A pool skilled on two languages, one moderator needed on each at the same hours: 2, not 1.

    A cover that counts a multi-skilled moderator toward both cells would answer 1 moderator."""
    cfg = config()
    ws = workspace(cfg, [queue("q")], [pool("a", languages=("en", "es"))], [shift(days=7, start_days=("Mon",))])
    need = daily_profile([1] * 7, cfg, range(8))
    req = requirements(cfg, {("q", "en"): need, ("q", "es"): need})
    r = solved(ws, req)
    assert r.solve["moderators"] == 2
    alloc = r.allocation.groupby("interval_start")["productive_hours"].sum()
    assert alloc.max() == pytest.approx(2.0)


def test_exposure_share_binds():
    """2 moderators of egregious work 00-08; at most 50 % of productive time on it -> 4 moderators."""
    cfg = config(exposure_max_share=0.5, exposure_max_hours_per_day=24.0)
    ws = workspace(cfg, [queue("gore", egregious=True), queue("text")], [pool("a", queues=("gore", "text"))],
                   [shift(days=7, start_days=("Mon",))])
    req = requirements(cfg, {("gore", "en"): daily_profile([2] * 7, cfg, range(8))})
    r = solved(ws, req)
    assert r.solve["moderators"] == 4
    assert "exposure_share" in set(r.binding["kind"])
    # shadow price by hand: relaxed, moderators = 2 / share and cost = 2 / share x 56 h x 10 = 1120 / share a
    # week; d cost / d share = 1120 / 0.25 = 4480 per unit = 44.8 per percentage point
    row = r.binding.set_index("kind").loc["exposure_share"]
    assert row["shadow_price"] == pytest.approx(44.8, rel=1e-3) and "per +1 point" in row["shadow_unit"]


def test_no_exposure_share_row_without_a_cap():
    """A share of 1 is no cap: a pool doing nothing but egregious work is not at a binding exposure share."""
    cfg = config(exposure_max_share=1.0, exposure_max_hours_per_day=24.0)
    ws = workspace(cfg, [queue("gore", egregious=True)], [pool("a", queues=("gore",))], [shift(days=7, start_days=("Mon",))])
    req = requirements(cfg, {("gore", "en"): daily_profile([2] * 7, cfg, range(8))})
    r = solved(ws, req)
    assert r.solve["moderators"] == 2
    assert "exposure_share" not in set(r.binding["kind"])


def test_exposure_hours_per_day_binds():
    """16 egregious hours a day, at most 2 h per moderator per day -> 8 moderators (not 2 or 4)."""
    cfg = config(exposure_max_share=1.0, exposure_max_hours_per_day=2.0)
    ws = workspace(cfg, [queue("gore", egregious=True)], [pool("a", queues=("gore",))], [shift(days=7, start_days=("Mon",))])
    req = requirements(cfg, {("gore", "en"): daily_profile([2] * 7, cfg, range(8))})
    r = solved(ws, req)
    assert r.solve["moderators"] == 8
    assert "exposure_daily" in set(r.binding["kind"])
    assert (r.exposure["egregious_hours"] <= r.exposure["limit_hours"] + 1e-6).all()
    assert r.exposure["egregious_hours"].sum() == pytest.approx(16 * 7)


def test_vendor_minimum_binds_take_or_pay():
    """Demand needs 1 moderator (56 paid h/week) but the vendor's commitment is 200 h: the rest is paid anyway."""
    cfg = config()
    ws = workspace(cfg, [queue("q")], [pool("b", vendor="bpo", rate=10.0)], [shift(days=7, start_days=("Mon",))],
                   vendors=[vendor("bpo", min_h=200.0)])
    req = requirements(cfg, {("q", "en"): daily_profile([1] * 7, cfg, range(8))})
    r = solved(ws, req)
    assert r.solve["total_cost"] == pytest.approx(200 * 10.0)
    assert "vendor_min_hours" in set(r.binding["kind"])
    assert r.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)


def test_vendor_maximum_forces_priced_shortfall():
    """3 moderators needed, the vendor may sell 112 h/week = 2 moderators: one third unmet, priced, limit named."""
    cfg = config()
    ws = workspace(cfg, [queue("q", severity=2)], [pool("b", vendor="bpo")], [shift(days=7, start_days=("Mon",))],
                   vendors=[vendor("bpo", max_h=112.0)])
    req = requirements(cfg, {("q", "en"): daily_profile([3] * 7, cfg, range(8))})
    r = solved(ws, req)
    assert r.solve["moderators"] == 2
    assert r.solve["unmet_hours"] == pytest.approx(7 * 8 * 1.0)
    assert r.solve["penalty"] == pytest.approx(56 * 400.0)
    assert "vendor_max_hours" in set(r.binding["kind"])
    # one more weekly paid hour covers one unmet hour: saves the penalty 400 less the rate 10
    row = r.binding.set_index("kind").loc["vendor_max_hours"]
    assert row["shadow_price"] == pytest.approx(390.0, rel=1e-3) and row["shadow_unit"] == "USD/week per weekly paid hour"
    assert r.shortfalls["reason"].str.contains("vendor_max_hours bpo").all()
    assert len(r.shortfalls) == 56


def test_no_skilled_pool_is_a_shortfall_with_reason():
    cfg = config()
    ws = workspace(cfg, [queue("q", severity=1)], [pool("a", languages=("en",))], [shift(days=7, start_days=("Mon",))],
                   handle_times=[("q", "en", 60.0), ("q", "fr", 60.0)])
    req = requirements(cfg, {("q", "en"): daily_profile([1] * 7, cfg, range(8)), ("q", "fr"): daily_profile([1] * 7, cfg, range(8))})
    r = solved(ws, req)
    fr = r.shortfalls[r.shortfalls["language"] == "fr"]
    assert len(fr) == 56 and fr["reason"].str.startswith("no skilled pool").all()
    assert fr["penalty"].sum() == pytest.approx(56 * 2000.0)
    assert ("no_skilled_pool", "q/fr") in set(zip(r.binding["kind"], r.binding["name"]))
    assert r.solve["moderators"] == 1


def test_dst_week_dublin_last_sunday_of_october():
    """Dublin 08:00 is 07:00 UTC (IST) Mon-Sat 20-25 Oct 2025 and 08:00 UTC (GMT) on Sun 26 Oct."""
    cfg = config(start=dt.date(2025, 10, 20))
    start, T, h = plan_window(cfg)
    local, utc, overlap = map_occurrence("Europe/Dublin", dt.date(2025, 10, 25), 8 * 60, 8.5, start, T, h)
    assert utc == pd.Timestamp("2025-10-25T07:00Z")
    local, utc, overlap = map_occurrence("Europe/Dublin", dt.date(2025, 10, 26), 8 * 60, 8.5, start, T, h)
    assert utc == pd.Timestamp("2025-10-26T08:00Z")
    assert sorted(overlap) == list(range(6 * 24 + 8, 6 * 24 + 17)) and overlap[6 * 24 + 16] == pytest.approx(0.5)
    ws = workspace(cfg, [queue("q")], [pool("dub", tz="Europe/Dublin")], [shift(start="08:00", paid_hours=8, days=7, start_days=("Mon",))])
    # need 1 moderator 08:00-16:00 UTC every day: on Mon-Sat the 07:00-15:00 UTC shift misses 15:00-16:00
    req = requirements(cfg, {("q", "en"): daily_profile([1] * 7, cfg, range(8, 16))})
    r = solved(ws, req)
    hours = r.shift_plan.set_index("day")["start_utc"].dt.hour.to_dict()
    assert hours[dt.date(2025, 10, 20)] == 7 and hours[dt.date(2025, 10, 26)] == 8
    assert r.solve["unmet_hours"] == pytest.approx(6.0)  # the 15:00 UTC hour on Mon-Sat
    assert r.shift_plan["start_local"].str.endswith("T08:00").all()


def test_overnight_shift_wraps_cyclically():
    """22:00-06:00 UTC shift; need 1 moderator 22:00-06:00 every night: one 7-day moderator.

    Monday 00:00-06:00 of the window is covered by Sunday night's shift (cyclic weekly rota)."""
    cfg = config()
    ws = workspace(cfg, [queue("q")], [pool("a")], [shift("night", "22:00", days=7, start_days=("Mon",))],)
    ws.pools.loc[0, "shifts"] = ("night",)
    need = daily_profile([1] * 7, cfg, list(range(0, 6)) + [22, 23])
    req = requirements(cfg, {("q", "en"): need})
    r = solved(ws, req)
    assert r.solve["moderators"] == 1 and r.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)
    first = r.allocation[r.allocation["interval_start"] < pd.Timestamp("2026-01-05T06:00Z")]
    assert first["productive_hours"].sum() == pytest.approx(6.0)


def test_overnight_local_shift_in_manila_maps_across_utc_midnight():
    """Manila 06:00 local is 22:00 UTC the day before: Monday's shift is placed at the end of the week."""
    cfg = config()
    start, T, h = plan_window(cfg)
    local, utc, overlap = map_occurrence("Asia/Manila", dt.date(2026, 1, 5), 6 * 60, 8.0, start, T, h)
    assert utc == pd.Timestamp("2026-01-04T22:00Z")
    assert sorted(overlap) == [0, 1, 2, 3, 4, 5, 166, 167]


def test_deferred_backlog_meets_deadline():
    """8 h of work arrives at 00:00 each day, due within 8 h: one 00:00-08:00 moderator clears it exactly."""
    cfg = config()
    ws = workspace(cfg, [queue("d", kind="deferred", within_s=8 * 3600)], [pool("a", queues=("d",))],
                   [shift(days=7, start_days=("Mon",))])
    work = daily_profile([8] * 7, cfg, [0])
    req = requirements(cfg, {("d", "en"): work}, kinds={"d": "deferred"})
    r = solved(ws, req)
    assert r.solve["moderators"] == 1 and r.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)
    cov = r.coverage.set_index("interval_start")
    assert cov["backlog"].iloc[0] == pytest.approx(7.0)  # 8 arrived, 1 done in the first hour
    assert cov["backlog"].iloc[7] == pytest.approx(0.0, abs=1e-6)


def test_deferred_deadline_missed_is_unmet_once():
    """Work due within 4 h but the only shift starts 8 h later: all of it is late, counted once."""
    cfg = config()
    ws = workspace(cfg, [queue("d", kind="deferred", within_s=4 * 3600, severity=3)], [pool("a", queues=("d",))],
                   [shift(start="08:00", days=7, start_days=("Mon",))])
    req = requirements(cfg, {("d", "en"): daily_profile([2] * 7, cfg, [0])}, kinds={"d": "deferred"})
    r = solved(ws, req)
    assert r.solve["unmet_hours"] == pytest.approx(14.0)
    assert r.solve["penalty"] == pytest.approx(14 * 120.0)


def test_severity_decides_who_is_served():
    """One moderator available, two cells of equal need: the severity-1 cell is served."""
    cfg = config()
    ws = workspace(cfg, [queue("urgent", severity=1), queue("low", severity=3)],
                   [pool("a", queues=("urgent", "low"), max_hc=1)], [shift(days=7, start_days=("Mon",))])
    need = daily_profile([1] * 7, cfg, range(8))
    req = requirements(cfg, {("urgent", "en"): need, ("low", "en"): need})
    r = solved(ws, req)
    un = r.coverage.groupby("queue")["unmet"].sum()
    assert un["urgent"] == pytest.approx(0.0, abs=1e-6) and un["low"] == pytest.approx(56.0)
    assert "pool_max_headcount" in set(r.binding["kind"])


def test_critical_language_needs_two_providers_and_fx():
    """en is critical: the cheap vendor may take at most 90 % of en hours; rates converted with fx."""
    cfg = config(critical_languages=["en"], fx={"USD": 1.0, "EUR": 2.0})
    ws = workspace(cfg, [queue("d", kind="deferred", within_s=24 * 3600)],
                   [pool("cheap", queues=("d",), vendor="bpo", rate=5.0), pool("dear", queues=("d",), rate=10.0, currency="EUR")],
                   [shift(days=7, start_days=("Mon",))], vendors=[vendor("bpo")])
    req = requirements(cfg, {("d", "en"): daily_profile([40] * 7, cfg, [0])}, kinds={"d": "deferred"})
    r = solved(ws, req)
    hours = r.allocation.groupby("vendor")["productive_hours"].sum()
    assert hours["bpo"] <= 0.9 * hours.sum() + 1e-6
    assert hours["inhouse"] > 0
    dear = r.shift_plan[r.shift_plan["pool"] == "dear"]
    assert dear["cost"].sum() == pytest.approx((dear["paid_hours"] * dear["headcount"]).sum() * 20.0)


def test_baseline_pools_multi_skilled_moderators():
    """Two small cells in one multi-skilled pool: the planner's baseline pools them (2 moderators, as the
    optimizer); the old spreadsheet method rounded each cell up and needed 4."""
    cfg = config()
    ws = workspace(cfg, [queue("q")], [pool("a", languages=("en", "es"))], [shift(days=5)])
    need = daily_profile([0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.4], cfg, range(8))
    req = requirements(cfg, {("q", "en"): need, ("q", "es"): need})
    base = baseline_plan(ws, req)
    r = solved(ws, req)
    assert check_plan(ws, req, base) == []
    assert base.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)
    assert base.solve["moderators"] == 2 and r.solve["moderators"] == 2
    assert r.solve["total_cost"] <= base.solve["total_cost"] + 1e-6
    assert r.solve["baseline_cost"] == pytest.approx(base.solve["total_cost"])


def test_baseline_blends_graphic_work_to_meet_the_exposure_cap():
    """1 moderator of graphic and 1 of text work 00-08, at most 50 % graphic: 2 blended moderators, not 3."""
    cfg = config(exposure_max_share=0.5, exposure_max_hours_per_day=24.0)
    ws = workspace(cfg, [queue("gore", egregious=True), queue("text")], [pool("a", queues=("gore", "text"))],
                   [shift(days=7, start_days=("Mon",))])
    req = requirements(cfg, {("gore", "en"): daily_profile([1] * 7, cfg, range(8)), ("text", "en"): daily_profile([1] * 7, cfg, range(8))})
    base = baseline_plan(ws, req)
    assert check_plan(ws, req, base) == []
    assert base.solve["moderators"] == 2 and base.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)


def test_baseline_fills_the_vendor_minimum_first():
    """A contracted vendor minimum is paid anyway: the planner uses it before the cheaper in-house pool."""
    cfg = config()
    ws = workspace(cfg, [queue("q")], [pool("home", rate=5.0), pool("bpo", vendor="v", rate=10.0)],
                   [shift(days=5, start_days=("Mon",))], vendors=[vendor("v", min_h=40.0)])
    req = requirements(cfg, {("q", "en"): daily_profile([1, 1, 1, 1, 1, 0, 0], cfg, range(8))})
    base = baseline_plan(ws, req)
    assert check_plan(ws, req, base) == []
    assert base.solve["take_or_pay"] == pytest.approx(0.0)
    assert base.patterns.set_index("pool")["moderators"].to_dict() == {"bpo": 1}
    assert base.solve["unmet_hours"] == pytest.approx(0.0, abs=1e-6)


def test_checker_catches_tampered_plans():
    cfg = config()
    ws = workspace(cfg, [queue("q")], [pool("a", max_hc=5)], [shift(days=5)])
    req = requirements(cfg, {("q", "en"): daily_profile([3] * 7, cfg, range(8))})
    r = solved(ws, req)
    r.solve["cost"] *= 0.9
    assert any(v.startswith("cost") for v in check_plan(ws, req, r))
    r.solve["cost"] /= 0.9
    r.allocation.loc[0, "productive_hours"] += 5.0
    problems = check_plan(ws, req, r)
    assert any(v.startswith("pool capacity") for v in problems)
    r.allocation.loc[0, "productive_hours"] -= 5.0
    r.shift_plan.loc[0, "headcount"] += 1
    assert any(v.startswith("patterns") for v in check_plan(ws, req, r))
    r.shift_plan.loc[0, "headcount"] -= 1
    r.coverage["unmet"] = 0.0
    r.allocation["productive_hours"] *= 0.5
    assert any(v.startswith("realtime coverage") for v in check_plan(ws, req, r))


def test_requirements_outside_window_ignored_and_progress_reported():
    cfg = config()
    ws = workspace(cfg, [queue("q")], [pool("a")], [shift(days=7, start_days=("Mon",))])
    req = requirements(cfg, {("q", "en"): np.concatenate([daily_profile([1] * 7, cfg, range(8)), np.full(24, 50.0)])})
    stages = []
    r = solved(ws, req, progress=lambda stage, frac: stages.append((stage, frac)))
    assert r.solve["moderators"] == 1
    assert stages[0] == ("optimize: prepare", 0.0) and stages[-1] == ("optimize: done", 1.0)
    assert r.coverage["interval_start"].max() < pd.Timestamp("2026-01-12T00:00Z")


def test_round_staff_nearest_then_repairs_hard_limits():
    """Nearest rounding, then round-ups undone (smallest fraction first) for max headcount and vendor hours."""
    from types import SimpleNamespace

    from capplan.optimize.rounding import round_staff

    pats = [SimpleNamespace(pool=0, paid_hours_horizon=40.0), SimpleNamespace(pool=0, paid_hours_horizon=40.0),
            SimpleNamespace(pool=1, paid_hours_horizon=40.0), SimpleNamespace(pool=1, paid_hours_horizon=40.0)]
    pools = pd.DataFrame({"vendor": ["v", "w"], "min_headcount": [0, 6], "max_headcount": [3, 99]})
    vendors = pd.DataFrame({"vendor": ["v", "w"], "max_weekly_hours": [1e9, 1e9]})
    d = SimpleNamespace(patterns=pats, pools=pools, vendors=vendors, weeks=1.0)
    x = np.array([1.6, 1.7, 2.2, 2.0])
    # pool 0: 2 + 2 = 4 > max 3 -> undo the round-up of the smaller fraction (1.6); pool 1: 2 + 2 = 4 < min 6
    # -> two more on its most fractional pattern first (2.2), then the next (2.0)
    assert round_staff(d, x, 0.5).tolist() == [1, 2, 3, 3]
    assert round_staff(d, x, 0.65).tolist() == [1, 2, 3, 3]
    d.pools = pools.assign(min_headcount=0)
    d.vendors = vendors.assign(max_weekly_hours=[120.0, 1e9])  # vendor v: at most 3 moderators x 40 h
    assert round_staff(d, np.array([1.6, 1.7, 2.2, 2.0]), 0.5).tolist() == [1, 2, 2, 2]



def test_pool_rounding_brings_each_pool_to_the_ceiling_of_its_relaxed_headcount():
    """rounding.pool_thresholds: per pool, the largest fractions up until ceil(sum x), the rest down; then round_staff's repairs."""
    from types import SimpleNamespace

    from capplan.optimize.rounding import pool_thresholds, round_staff

    pats = [SimpleNamespace(pool=p, paid_hours_horizon=40.0) for p in (0, 0, 0, 1, 1, 2)]
    pools = pd.DataFrame({"vendor": ["v", "v", "v"], "min_headcount": [0, 0, 0], "max_headcount": [99, 99, 99]})
    vendors = pd.DataFrame({"vendor": ["v"], "max_weekly_hours": [1e9]})
    d = SimpleNamespace(patterns=pats, pools=pools, vendors=vendors, weeks=1.0)
    x = np.array([1.3, 0.4, 2.45, 0.45, 3.0, 1.0])
    # pool 0: sum 4.15 -> 5 = floors 3 + two round-ups: the largest fractions 0.45 (2.45) and 0.4, not 0.3 (threshold 0.5
    # would round none of the three up: 3); pool 1: sum 3.45 -> 4: floors 3 + 0.45 up; pool 2: integral, kept
    assert pool_thresholds(d, x).tolist() == [2.0, 0.0, 0.0, 0.0, 2.0, 2.0]
    assert round_staff(d, x, pool_thresholds(d, x)).tolist() == [1, 1, 3, 1, 3, 1]
    assert round_staff(d, x, 0.5).tolist() == [1, 0, 2, 0, 3, 1]
    # vendor at 9 moderators x 40 h: one of the 10 undone, the round-up of the smallest fraction (0.4)
    d.vendors = vendors.assign(max_weekly_hours=[360.0])
    assert round_staff(d, x, pool_thresholds(d, x)).tolist() == [1, 0, 3, 1, 3, 1]


def test_large_model_path_rounds_and_proves_its_gap(monkeypatch):
    """As for a model above SMALL_MODEL_VARIABLES: relaxation + rounding only, no MIP; a valid plan.

    Winston's post-office problem (see above): the relaxation bound is 67/3 x 400 = 8,933.33 and
    any integer plan costs at least 23 x 400 (both plus the tie-breaker, under 1 here)."""
    from capplan.optimize import solve as model

    monkeypatch.setattr(model, "SMALL_MODEL_VARIABLES", 0)
    cfg = config()
    ws = workspace(cfg, [queue("q")], [pool("a", rate=10.0)], [shift(days=5)])
    req = requirements(cfg, {("q", "en"): daily_profile([17, 13, 15, 19, 14, 16, 11], cfg, range(8))})
    r = solve_plan(ws, req)
    assert r.checks == [] and check_plan(ws, req, r) == []
    assert r.solve["method"] == "relax_round_fix" and "mip_seconds" not in r.solve["phases"]
    assert 67 / 3 * 400 <= r.solve["bound"] <= 67 / 3 * 400 + 2.0  # + the tie-breaker (0.001 per productive hour)
    assert r.solve["objective"] >= 23 * 400 - 1e-6
    assert r.solve["gap"] == pytest.approx((r.solve["objective"] - r.solve["bound"]) / r.solve["objective"])


def test_vendor_concentration_caps_the_cheap_vendor_at_half():
    """2 moderators needed 00-08 daily; the vendor is half the price but may carry at most 50 % of all hours."""
    cfg = config(vendor_max_share=0.5)
    ws = workspace(cfg, [queue("q")], [pool("home", rate=10.0), pool("bpo", vendor="v", rate=5.0)],
                   [shift(days=7, start_days=("Mon",))], vendors=[vendor("v")])
    req = requirements(cfg, {("q", "en"): daily_profile([2] * 7, cfg, range(8))})
    r = solved(ws, req)
    assert r.patterns.set_index("pool")["moderators"].to_dict() == {"bpo": 1, "home": 1}
    assert r.solve["cost"] == pytest.approx(56 * 5.0 + 56 * 10.0)
    assert ("vendor_share", "v") in set(zip(r.binding["kind"], r.binding["name"]))
    base = baseline_plan(ws, req)
    assert check_plan(ws, req, base) == []
    ws.config.policy.vendor_max_share = 0.4  # the checker recomputes the share from the allocation
    assert any(v.startswith("vendor concentration") for v in check_plan(ws, req, r))


def test_vendor_concentration_that_cannot_meet_demand_is_a_named_shortfall():
    """In-house has 1 moderator at most: the vendor may match it, the rest is unmet, priced and named."""
    cfg = config(vendor_max_share=0.5)
    ws = workspace(cfg, [queue("q")], [pool("home", rate=10.0, max_hc=1), pool("bpo", vendor="v", rate=5.0)],
                   [shift(days=7, start_days=("Mon",))], vendors=[vendor("v")])
    req = requirements(cfg, {("q", "en"): daily_profile([4] * 7, cfg, range(8))})
    r = solved(ws, req)
    assert r.solve["moderators"] == 2 and r.solve["unmet_hours"] == pytest.approx(2 * 56.0)
    kinds = set(zip(r.binding["kind"], r.binding["name"]))
    assert {("vendor_share", "v"), ("pool_max_headcount", "home")} <= kinds
    assert "vendor_share v" in r.shortfalls["reason"].iloc[0]


def test_a_limit_within_a_relative_tolerance_counts_as_binding():
    """74.99 % of a 75 % cap binds; 74 % does not (issue 12)."""
    from capplan.optimize.extract import _at

    assert _at(0.7499 * 1e4, 0.75 * 1e4) and _at(75.0, 75.0) and not _at(74.0, 75.0)
    assert _at(0.7499, 0.75) and not _at(0.70, 0.75)


def test_quality_floor_keeps_severe_graphic_work_off_low_quality_vendors():
    """Severity-1 graphic work, a cheap vendor of quality 0.85 and a dearer in-house pool: with a 0.9 floor the
    vendor gets none of it (its other work stays); the unmet-free plan costs the in-house rate."""
    cfg = config(severe_graphic_min_quality=0.9, exposure_max_share=1.0, exposure_max_hours_per_day=24.0)
    ws = workspace(cfg, [queue("gore", severity=1, egregious=True), queue("text", severity=3)],
                   [pool("home", queues=("gore",), rate=10.0), pool("bpo", queues=("gore", "text"), vendor="v", rate=5.0)],
                   [shift(days=7, start_days=("Mon",))], vendors=[vendor("v", quality=0.85)])
    req = requirements(cfg, {("gore", "en"): daily_profile([1] * 7, cfg, range(8)), ("text", "en"): daily_profile([1] * 7, cfg, range(8))})
    r = solved(ws, req)
    by = r.allocation.groupby(["pool", "queue"])["productive_hours"].sum()
    assert by.get(("bpo", "gore"), 0.0) == 0.0 and by[("home", "gore")] == pytest.approx(56.0)
    assert by[("bpo", "text")] == pytest.approx(56.0)
    base = baseline_plan(ws, req)
    assert check_plan(ws, req, base) == []
    ws.config.policy.severe_graphic_min_quality = 0.0
    loose = solved(ws, req)
    assert loose.allocation.groupby("pool")["productive_hours"].sum().get("home", 0.0) == 0.0  # cheaper without the floor
    ws.config.policy.severe_graphic_min_quality = 0.9
    assert any(v.startswith("quality floor") for v in check_plan(ws, req, loose))
