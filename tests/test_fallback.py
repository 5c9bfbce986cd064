"""The fallback plan (optimize/fallback.py): out of time without a plan -> the baseline's shifts, labelled.

"Out of time" is forced deterministically, never by a wall-clock race: the seams are the solver's own phases
(``relax_round_fix`` / ``_lp`` return None exactly when HiGHS stops at the time limit, ``_mip`` returns
NO_SOLUTION_FOUND), patched so that they report running out of time. Every plan ends with the independent checker.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _optimize_data import config, daily_profile, pool, queue, requirements, shift, vendor, workspace
from capplan.errors import InputError, SolverError, SolverTimeout
from capplan.optimize import check_plan, solve_plan
from capplan.optimize import solve as solve_module
from capplan.optimize.baseline import baseline_plan
from capplan.optimize.solve import MipOutcome


def _instance():
    """A realtime and a deferred egregious cell; an in-house pool and a vendor with a weekly minimum."""
    cfg = config()
    cfg.solver.relative_gap = 0.01
    ws = workspace(cfg, [queue("q"), queue("d", kind="deferred", within_s=4 * 3600, egregious=True)],
                   [pool("a", queues=("q", "d"), languages=("en",), rate=10.0, shifts=("day", "night")),
                    pool("b", queues=("d",), languages=("en",), vendor="v", rate=8.0, max_hc=50)],
                   [shift("day", "08:00", days=5), shift("night", "20:00", days=5)], vendors=[vendor("v", min_h=100)])
    rng = np.random.default_rng(3)
    req = requirements(cfg, {("q", "en"): daily_profile([3, 3, 3, 3, 3, 2, 2], cfg, range(8, 20)), ("d", "en"): rng.uniform(0, 2, 168)},
                       kinds={"q": "realtime", "d": "deferred"})
    return ws, req


def _mip_out_of_time(*args, **kwargs):
    from capplan.optimize.model import mathopt

    return MipOutcome(None, mathopt().TerminationReason.NO_SOLUTION_FOUND, timed_out=True)


@pytest.fixture
def no_relaxation(monkeypatch):
    """The LP relaxation does not finish and the MIP gets no plan in the time left: the 3x demo on a loaded machine."""
    monkeypatch.setattr(solve_module, "relax_round_fix", lambda *a, **k: None)
    monkeypatch.setattr(solve_module, "_mip", _mip_out_of_time)


def _same_shifts(a, b) -> None:
    cols = ["pool", "shift", "day", "start_utc", "headcount"]
    pd.testing.assert_frame_equal(a.shift_plan[cols].reset_index(drop=True), b.shift_plan[cols].reset_index(drop=True))


def test_out_of_time_gives_the_baselines_shifts_routed_by_the_fixed_lp(no_relaxation):
    ws, req = _instance()
    r = solve_plan(ws, req)
    base = baseline_plan(ws, req)
    assert r.solve["status"] == "fallback" and r.solve["method"] == "baseline_fixed_lp"
    _same_shifts(r, base)
    assert r.checks == [] and check_plan(ws, req, r) == []
    assert r.solve["status_detail"].startswith("fallback: baseline plan, optimizer ran out of time (the LP relaxation did not finish")
    assert "no bound" in r.solve["status_detail"] and r.solve["bound"] is None and r.solve["gap"] is None
    assert r.solve["cost"] == pytest.approx(base.solve["cost"])  # same shifts, same paid cost
    # the LP routes the same staff at least as well as the baseline's dispatch (unmet work priced in both)
    assert r.solve["penalty"] <= base.solve["penalty"] + 1e-6
    assert r.solve["savings_vs_baseline"] >= -1e-9 and r.solve["fallback"]["lp_seconds"] >= 0


def test_out_of_time_and_no_lp_keeps_the_baselines_own_plan(monkeypatch, no_relaxation):
    monkeypatch.setattr(solve_module, "_lp", lambda *a, **k: None)  # the fixed-staff LP does not finish either
    ws, req = _instance()
    r = solve_plan(ws, req)
    base = baseline_plan(ws, req)
    assert r.solve["status"] == "fallback" and r.solve["method"] == "baseline"
    _same_shifts(r, base)
    pd.testing.assert_frame_equal(r.allocation, base.allocation)
    assert r.checks == [] and check_plan(ws, req, r) == []
    assert r.solve["total_cost"] == pytest.approx(base.solve["total_cost"]) and r.solve["savings_vs_baseline"] == pytest.approx(0.0)
    assert "did not finish" in r.solve["fallback"]["allocation"] and r.solve["gap"] is None


def _rounding_lp_out_of_time(monkeypatch):
    """The relaxation finishes, the rounded plan's LP (the optimizer's second LP) does not; the MIP gets no plan either.
    Every later LP (the fallback's) solves."""
    real, calls = solve_module._lp, []

    def second_lp_out_of_time(*args, **kwargs):
        calls.append(1)
        return None if len(calls) == 2 else real(*args, **kwargs)

    monkeypatch.setattr(solve_module, "_lp", second_lp_out_of_time)
    monkeypatch.setattr(solve_module, "_mip", _mip_out_of_time)


def test_a_finished_relaxation_is_rounded_and_kept_when_cheaper(monkeypatch):
    """The relaxation finished, its rounded plan's LP did not: the fallback rounds the relaxation (relax-round-fix's
    roundings in order) and keeps that plan, being cheaper by the model's objective than the baseline's shifts routed
    by the same LP; the bound is the relaxation's and the gap is proven."""
    ws, req = _instance()
    optimal = solve_plan(ws, req, with_baseline=False)
    _rounding_lp_out_of_time(monkeypatch)
    r = solve_plan(ws, req)
    fb = r.solve["fallback"]
    assert r.solve["status"] == "fallback" and r.solve["method"] == "relaxation_fixed_lp" and r.checks == []
    assert check_plan(ws, req, r) == []
    # on this instance nearest rounding is 23 % above the bound, at 0.4 5 %, cover 2.6 %: the baseline's LP (4 %) sits between
    assert list(fb["roundings"]) == ["round_0.5", "round_0.4", "cover"] and fb["rounding"] == "cover"
    assert r.solve["objective"] == pytest.approx(min(fb["roundings"].values())) == pytest.approx(fb["candidates"]["relaxation_fixed_lp"])
    assert fb["candidates"]["relaxation_fixed_lp"] < fb["candidates"]["baseline_fixed_lp"]
    assert r.solve["bound"] == pytest.approx(r.solve["phases"]["relaxation_objective"])
    assert r.solve["bound"] <= optimal.solve["objective"] + 1e-6 <= r.solve["objective"] + 1e-6
    assert r.solve["gap"] == pytest.approx((r.solve["objective"] - r.solve["bound"]) / r.solve["objective"])
    # the model's objective is the plan's paid cost, take-or-pay and unmet penalty (a second computation, from the tables)
    assert r.solve["objective"] == pytest.approx(r.solve["total_cost"] + r.solve["penalty"] + r.solve["terminal_backlog_cost"], rel=1e-3)
    assert r.solve["status_detail"].startswith("fallback: the LP relaxation's staffing rounded (cover), optimizer ran out of time "
                                               "(the LP relaxation finished")
    assert f"{r.solve['gap']:.2%} above the proven bound" in r.solve["status_detail"]
    assert r.solve["moderators"] != r.solve["baseline_moderators"]  # not the baseline's shifts


def test_a_rounded_relaxation_is_priced_from_its_relaxation(monkeypatch):
    """The relaxation finished: the fallback that rounds it prices binding.csv from its duals, as the optimizer's plan of
    the same relaxation is priced (same rows, same prices: the one-moderator cap at 2,239.94 USD a week)."""
    from capplan.staffing.requirements import compute_requirements
    from test_checked import _deferred_world

    cfg, ws, forecast, errors = _deferred_world(max_hc=1)
    req = compute_requirements(forecast, ws, 50)
    optimal = solve_plan(ws, req, with_baseline=False, price_rules=False)
    _rounding_lp_out_of_time(monkeypatch)
    r = solve_plan(ws, req, with_baseline=False)
    assert r.solve["method"] == "relaxation_fixed_lp"
    priced = r.binding[r.binding["shadow_price"].notna()].set_index(["kind", "name"])
    mine = optimal.binding[optimal.binding["shadow_price"].notna()].set_index(["kind", "name"])
    common = priced.index.intersection(mine.index)
    assert len(common) > 0
    np.testing.assert_allclose(priced.loc[common, "shadow_price"], mine.loc[common, "shadow_price"], rtol=1e-6, atol=1e-6)
    assert (priced.loc[common, "shadow_unit"] == mine.loc[common, "shadow_unit"]).all()
    assert ("pool_max_headcount", "a") in common and priced.loc[("pool_max_headcount", "a"), "shadow_price"] > 0


def test_the_baselines_shifts_are_kept_when_the_rounded_relaxation_is_dearer(monkeypatch):
    """Cover rounding replaced by nearest rounding: the best rounded plan (at 0.4, 5 % above the bound) is dearer than the
    baseline's shifts routed by the LP (4 %), so those are written."""
    ws, req = _instance()
    real_round = solve_module.round_staff
    monkeypatch.setattr(solve_module, "cover_staff", lambda b, values, x: real_round(b.data, x, 0.5))
    _rounding_lp_out_of_time(monkeypatch)
    r = solve_plan(ws, req)
    fb = r.solve["fallback"]
    assert r.solve["method"] == "baseline_fixed_lp" and r.checks == [] and check_plan(ws, req, r) == []
    _same_shifts(r, baseline_plan(ws, req))
    assert fb["candidates"]["relaxation_fixed_lp"] > fb["candidates"]["baseline_fixed_lp"] == pytest.approx(r.solve["objective"])
    assert fb["rounding"] == "round_0.4" and r.solve["status_detail"].startswith("fallback: baseline plan, optimizer ran out of time")
    # the baseline's shifts are far from the relaxation whose duals price a plan: not priced, and said why
    from capplan.optimize.fallback import UNPRICED_PLAN
    assert len(r.binding) and r.binding["shadow_price"].isna().all() and (r.binding["shadow_unit"] == UNPRICED_PLAN).all()


def test_a_rounded_relaxation_within_the_gap_skips_the_baselines_lp(monkeypatch):
    """Cover rounding is 2.6 % above the bound: with relative_gap = 3 % no plan can be more than that cheaper, so the
    baseline's fixed LP is not run."""
    ws, req = _instance()
    ws.config.solver.relative_gap = 0.03
    _rounding_lp_out_of_time(monkeypatch)
    r = solve_plan(ws, req)
    fb = r.solve["fallback"]
    assert r.solve["method"] == "relaxation_fixed_lp" and r.checks == [] and r.solve["gap"] <= 0.03
    assert list(fb["candidates"]) == ["relaxation_fixed_lp"] and "lp_seconds" not in fb and fb["baseline_lp"].startswith("skipped")


def test_a_plan_found_by_the_optimizer_is_always_preferred(monkeypatch):
    """Relax-round-fix out of time, but the MIP finds a plan in the time left: that plan, not the fallback."""
    monkeypatch.setattr(solve_module, "relax_round_fix", lambda *a, **k: None)
    ws, req = _instance()
    r = solve_plan(ws, req, with_baseline=False)
    assert r.solve["status"] in ("optimal", "feasible", "time_limit_feasible") and r.solve["method"] == "mip"
    assert "fallback" not in r.solve and r.checks == []


def test_the_fallback_never_answers_a_bug_or_bad_input(monkeypatch, no_relaxation):
    from capplan.optimize.model import mathopt

    ws, req = _instance()
    ws.config.solver.fallback = "none"
    with pytest.raises(SolverTimeout, match="time_limit_s"):
        solve_plan(ws, req)
    ws.config.solver.fallback = "baseline"
    monkeypatch.setattr(solve_module, "_mip", lambda *a, **k: MipOutcome(None, mathopt().TerminationReason.INFEASIBLE))
    with pytest.raises(SolverError, match="bug") as info:  # priced slack makes the model always feasible
        solve_plan(ws, req)
    assert not isinstance(info.value, SolverTimeout)
    ws.pools.loc[1, "cost_per_hour"] = float("inf")
    with pytest.raises(InputError):
        solve_plan(ws, req)


def test_the_checked_risk_modes_p50_plan_falls_back_and_states_its_risk(no_relaxation):
    """``[staffing] risk = "checked"``: the P50 plan out of time is the fallback's (the baseline's shifts here), its risk
    checked and stated on the held-out scenarios as for any plan."""
    from capplan.optimize.checked import solve_checked_plan
    from capplan.optimize.data import prepare
    from capplan.staffing.requirements import compute_requirements
    from test_checked import _deferred_world

    cfg, ws, forecast, errors = _deferred_world()
    req = compute_requirements(forecast, ws, 50)
    r = solve_checked_plan(ws, req, forecast, errors)
    assert r.solve["status"] == "fallback" and r.solve["method"] == "checked/baseline_fixed_lp"
    assert r.solve["status_detail"].startswith("fallback: baseline plan, optimizer ran out of time (the LP relaxation did not finish")
    assert r.checks == [] and check_plan(ws, req, r) == []
    base = baseline_plan(ws, req, data=prepare(ws, req))
    _same_shifts(r, base)
    risk = r.solve["risk"]
    assert risk["mode"] == "checked" and all(row["status"] == "fallback" for row in risk["rounds"])
    assert len(r.risk) == 1 and r.risk["held_out"].iloc[0] == 2 and 0 < r.risk["probability"].iloc[0] < 1
    ws.config.solver.fallback = "none"
    with pytest.raises(SolverTimeout):
        solve_checked_plan(ws, req, forecast, errors)


def test_a_checked_fallback_plan_says_why_its_limits_are_not_priced(no_relaxation):
    """No relaxation, no duals: the binding cap (one moderator at most for 16 h of work) has no price and says why."""
    from capplan.optimize.checked import solve_checked_plan
    from capplan.staffing.requirements import compute_requirements
    from test_checked import _deferred_world

    cfg, ws, forecast, errors = _deferred_world(max_hc=1, shifts=("day", "day2"))
    r = solve_checked_plan(ws, compute_requirements(forecast, ws, 50), forecast, errors)
    row = r.binding.set_index(["kind", "name"]).loc[("pool_max_headcount", "a")]
    assert r.solve["status"] == "fallback" and pd.isna(row["shadow_price"])
    assert row["shadow_unit"].startswith("not priced: the optimizer ran out of time (a fallback plan)")


@pytest.mark.parametrize("lp_finishes", [True, False])
def test_a_fallback_plan_says_why_its_limits_are_not_priced(monkeypatch, no_relaxation, lp_finishes):
    """solve_plan out of time, its shifts routed by the fixed-staff LP or by the baseline's own dispatch: the binding cap
    (one moderator, one shift, for 16 h of work) has no price, and its unit says why rather than nothing."""
    from capplan.optimize.fallback import UNPRICED
    from capplan.staffing.requirements import compute_requirements
    from test_checked import _deferred_world

    if not lp_finishes:
        monkeypatch.setattr(solve_module, "_lp", lambda *a, **k: None)
    cfg, ws, forecast, errors = _deferred_world(max_hc=1)
    r = solve_plan(ws, compute_requirements(forecast, ws, 50), with_baseline=False)
    assert r.solve["status"] == "fallback" and r.solve["method"] == ("baseline_fixed_lp" if lp_finishes else "baseline")
    assert ("pool_max_headcount", "a") in set(zip(r.binding["kind"], r.binding["name"]))
    assert r.binding["shadow_price"].isna().all() and (r.binding["shadow_unit"] == UNPRICED).all()


# --- through `capplan plan` on the tiny workspace ---------------------------------------------------
@pytest.fixture(scope="module")
def forecasted(tmp_path_factory) -> Path:
    from _ws import make_workspace
    from capplan.pipeline import run_forecast_stage

    root = make_workspace(tmp_path_factory.mktemp("fb") / "ws")
    text = (root / "capplan.toml").read_text()
    text = text.replace('models = ["seasonal_naive", "seasonal_mean", "daily_ets", "daily_shift", "mstl", "croston", "combo"]', 'models = ["seasonal_naive"]')
    text = text.replace("backtest_windows = 6", "backtest_windows = 1").replace("plan_days = 7", "plan_days = 2")
    (root / "capplan.toml").write_text(text)
    run_forecast_stage(root)
    return root


def test_plan_command_writes_the_fallback_and_says_so(forecasted, tmp_path, no_relaxation):
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from capplan.cli.main import app

    root = tmp_path / "ws"
    shutil.copytree(forecasted, root, symlinks=True)
    result = CliRunner().invoke(app, ["plan", str(root)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "warning: fallback: baseline plan, optimizer ran out of time" in text and "Fix: raise [solver] time_limit_s" in text
    assert "solver: fallback in" in text and "no bound" in text
    folder = root / "plans" / (root / "plans" / "latest").read_text().strip()
    solve = json.loads((folder / "solve.json").read_text())
    assert solve["status"] == "fallback" and solve["bound"] is None and solve["checks"] == []
    assert solve["fallback"]["reason"].startswith("the optimizer ran out of time")
    facts = {row[0]: row[1] for row in load_workbook(folder / "planner.xlsx")["README"].iter_rows(values_only=True) if row and row[0]}
    assert facts["Solver status"] == solve["status_detail"]


def test_a_compared_plan_that_fell_back_is_warned_about(forecasted, tmp_path, monkeypatch):
    """The finance workbook's P50 plan (beside a ``--quantile 90`` plan) ran out of time: its cost is a fallback's,
    so the run says so instead of quoting it as the optimizer's."""
    import capplan.optimize as optimize
    from typer.testing import CliRunner

    from capplan.cli.main import app

    real = optimize.solve_plan

    def secondary_out_of_time(*args, **kwargs):
        result = real(*args, **kwargs)
        if kwargs.get("with_baseline") is False:  # only the compared plans are solved without the baseline
            result.solve["status"] = "fallback"
        return result

    monkeypatch.setattr(optimize, "solve_plan", secondary_out_of_time)
    root = tmp_path / "ws"
    shutil.copytree(forecasted, root, symlinks=True)
    result = CliRunner().invoke(app, ["plan", str(root), "--quantile", "90"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "the finance_p50 plan(s) compared with this one ran out of time and are fallback plans" in text
    folder = root / "plans" / (root / "plans" / "latest").read_text().strip()
    solve = json.loads((folder / "solve.json").read_text())
    assert solve["status"] != "fallback" and solve["secondary_status"] == {"finance_p50": "fallback"}


def test_a_price_of_reliability_from_a_fallback_is_warned_about():
    """``risk = "scenarios"``/``"checked"``: the P50 and P90 plans priced beside the chosen one carry their status."""
    from types import SimpleNamespace

    from capplan.pipeline.plan import _plan_warnings

    ws = SimpleNamespace(config=SimpleNamespace(solver=SimpleNamespace(time_limit_s=60.0)))
    price = {"p50": 1.0, "chosen": 1.1, "status": {"chosen": "optimal", "p50": "optimal", "p90_per_interval": "fallback"}}
    warnings = _plan_warnings(ws, {"status": "optimal", "price_of_reliability": price}, [], pd.DataFrame(), 0.0, [])
    assert len(warnings) == 1 and warnings[0].startswith("the p90_per_interval plan(s) compared with this one ran out of time")
    price["status"]["p90_per_interval"] = "optimal"
    assert _plan_warnings(ws, {"status": "optimal", "price_of_reliability": price}, [], pd.DataFrame(), 0.0, []) == []
