"""capplan capability: production records in, estimates that recover the demo generator's truth out (issue 17)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from capplan.capability import estimate_capability
from capplan.capability.pooling import isotonic_decreasing, partial_pool
from capplan.cli.main import app
from capplan.demo import build_demo_workspace, demo_spec, production_truth
from capplan.errors import InputError
from capplan.inputs import load_workspace
from capplan.inputs.production import read_production
from _ws import make_workspace

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = build_demo_workspace(tmp_path_factory.mktemp("capability") / "small", size="small")
    ws = load_workspace(root)
    prod = read_production(root, pools=ws.pools, skills=ws.skills(), cells=ws.cells())
    return ws, prod


@pytest.fixture(scope="module")
def cli_run(demo):
    """``capplan capability`` on the small demo, once: (CLI result, run folder)."""
    ws, _ = demo
    result = runner.invoke(app, ["capability", str(ws.root)])
    latest = ws.root / "capability" / "latest"
    return result, ws.root / "capability" / latest.read_text().strip() if latest.exists() else None


def _estimate(ws, frame):
    return estimate_capability(frame, handle_times=ws.handle_times, skills=ws.skills(), pools=ws.pools, config=ws.config.capability)


@pytest.fixture(scope="module")
def estimated(demo):
    ws, prod = demo
    return _estimate(ws, prod.frame), production_truth(demo_spec("small"), 7)


def _inside(frame, lo, value, hi):
    return (frame[lo] <= frame[value]) & (frame[value] <= frame[hi])


def test_estimates_cover_the_true_parameters(estimated):
    est, truth = estimated
    m = est.estimates.merge(truth.pairs, on=["pool", "queue", "language"], suffixes=("", "_true"))
    assert len(m) == len(truth.pairs) == len(est.estimates)
    # 95 % intervals: across ~50 pairs at least 85 % must cover (a binomial 95 % miss of that is < 1e-3)
    assert _inside(m, "multiplier_lo", "multiplier_true", "multiplier_hi").mean() >= 0.85
    assert _inside(m, "qa_pass_lo", "qa_pass", "qa_pass_hi").mean() >= 0.85
    assert _inside(m, "overturn_lo", "overturn", "overturn_hi").mean() >= 0.85
    assert np.abs(np.log(m["multiplier"] / m["multiplier_true"])).median() < 0.02
    # and the intervals are not vacuous
    assert (m["multiplier_hi"] / m["multiplier_lo"]).median() < 1.1


def test_policy_bump_and_half_life_recovered(estimated):
    est, truth = estimated
    assert list(est.policy["queue"]) == [truth.policy_queue]
    row = est.policy.iloc[0]
    assert abs((pd.Timestamp(row["date"]) - pd.Timestamp(truth.policy_date)).days) <= 1
    true_pct = np.expm1(truth.policy_bump) * 100
    assert row["bump_lo_pct"] - 1.0 <= true_pct <= row["bump_hi_pct"] + 1.0
    assert row["half_life_lo"] - 1.0 <= truth.policy_half_life_days <= row["half_life_hi"] + 1.0


def test_configured_policy_date_is_fitted(demo):
    ws, prod = demo
    truth = production_truth(demo_spec("small"), 7)
    config = ws.config.capability.model_copy(update={"policy_changes": [truth.policy_date]})
    est = estimate_capability(prod.frame, handle_times=ws.handle_times, skills=ws.skills(), pools=ws.pools, config=config)
    video = est.policy[est.policy["queue"] == truth.policy_queue].iloc[0]
    assert video["source"] == "configured" and abs(video["bump_pct"] - 25.0) < 3.0
    others = est.policy[est.policy["queue"] != truth.policy_queue]
    assert (others["bump_pct"].abs() < 3.0).all()  # queues without a change: a bump near zero


def test_learning_curves_follow_the_truth(estimated):
    est, truth = estimated
    for site, g in est.learning.groupby("site"):
        true = truth.learning_multiplier(site, g["tenure_weeks"])
        assert np.max(np.abs(np.log(g["relative_multiplier"].to_numpy() / true))) < 0.06, site
        assert (np.diff(g["relative_multiplier"].to_numpy()) <= 1e-12).all()  # monotone fit


def test_intervals_widen_with_less_data(demo, estimated):
    ws, prod = demo
    full, truth = estimated
    f = prod.frame
    days = f["date"].drop_duplicates().sort_values()
    thin = f[f["date"].isin(days.iloc[:: 10]) | f["moderator"].fillna("").ne("")]  # every tenth day
    est = _estimate(ws, thin).estimates
    key = ["pool", "queue", "language"]
    both = full.estimates.merge(est, on=key, suffixes=("_full", "_thin")).merge(truth.pairs.rename(columns={"multiplier": "multiplier_true"}), on=key)
    width = lambda s: np.log(both[f"multiplier_hi_{s}"] / both[f"multiplier_lo_{s}"])  # noqa: E731
    assert (width("thin") >= width("full") - 1e-9).mean() > 0.9 and width("thin").mean() > 2 * width("full").mean()
    err = np.abs(np.log(both["multiplier_thin"] / both["multiplier_true"]))
    assert err.max() < 0.3  # no wild estimates
    assert ((both["multiplier_lo_thin"] <= both["multiplier_true"]) & (both["multiplier_true"] <= both["multiplier_hi_thin"])).mean() >= 0.8


def test_partial_pooling_by_hand():
    # two pools x two cells, additive truth; pair 3 has no data: it gets pool + cell, with a wider interval
    y = np.array([0.0, 0.2, 0.1, np.nan])
    pooled = partial_pool(y, [1e-4, 1e-4, 1e-4, np.inf], [0, 0, 1, 1], [0, 1, 0, 1], 2, 2)
    assert pooled.tau2 == pytest.approx(0.0, abs=1e-6)  # no spread beyond the additive effects
    assert pooled.estimate[3] == pytest.approx(0.3, abs=1e-3)  # 0.1 + (0.2 - 0.0)
    assert pooled.variance[3] == pytest.approx(3e-4, rel=0.01)  # var(y10 + y01 - y00): three known variances
    assert pooled.variance[3] > 2.5 * pooled.variance[0]
    assert pooled.weight[3] == 0.0


def test_isotonic_by_hand():
    assert isotonic_decreasing([3.0, 1.0, 2.0], [1.0, 1.0, 1.0]).tolist() == [3.0, 1.5, 1.5]
    assert isotonic_decreasing([1.0, 2.0], [3.0, 1.0]).tolist() == [1.25, 1.25]


PROD_HEADER = "date,pool,moderator,tenure_weeks,queue,language,items,handle_time_s,qa_sampled,qa_passed,appeals,overturned\n"


def _tiny(tmp_path, body: str):
    root = make_workspace(tmp_path / "ws")
    (root / "inputs" / "production.csv").write_text(PROD_HEADER + body, encoding="utf-8")
    return root


def test_bad_production_rows_are_named(tmp_path):
    root = _tiny(tmp_path, "2026-02-02,dub-ih,,,video,en,100,12000,5,4,1,0\n"   # row 2 fine
                           "2026-02-02,nosuch,,,video,en,100,12000,5,4,1,0\n"   # row 3 unknown pool
                           "2026-02-02,mnl-b1,,,video,en,100,0,5,4,1,0\n"       # row 4 handle time 0
                           "2026-02-03,mnl-b1,,,video,es,100,900,5,6,1,0\n"     # row 5 qa_passed > qa_sampled
                           "2026-02-02,dub-ih,m1,5,video,en,10,1200,,,,\n"      # row 6
                           "2026-02-09,dub-ih,m1,4,video,en,10,1200,,,,\n")     # row 7 tenure backward
    ws = load_workspace(root)
    with pytest.raises(InputError) as exc:
        read_production(root, pools=ws.pools, skills=ws.skills(), cells=ws.cells())
    found = {(p.row, p.column) for p in exc.value.problems}
    assert {(3, "pool"), (4, "handle_time_s"), (5, "qa_passed"), (7, "tenure_weeks")} <= found
    assert all(p.file == "inputs/production.csv" for p in exc.value.problems)
    result = runner.invoke(app, ["validate", str(root)])
    assert result.exit_code == 2 and "qa_passed is above qa_sampled" in result.output + (result.stderr or "")
    assert not (root / "capability").exists() or not any((root / "capability").iterdir())
    assert runner.invoke(app, ["capability", str(root)]).exit_code == 2


def test_unskilled_work_is_a_warning_and_parquet_reads_the_same(tmp_path):
    root = _tiny(tmp_path, "2026-02-02,dub-ih,,,video,es,100,12000,5,4,1,0\n"   # dub-ih has no es: warning
                           "2026-02-02,mnl-b1,,,video,en,100,12000,5,5,,\n")
    ws = load_workspace(root)
    prod = read_production(root, pools=ws.pools, skills=ws.skills(), cells=ws.cells())
    assert any("dub-ih on video/es" in p.message and p.severity == "warning" for p in prod.warnings)
    csv = root / "inputs" / "production.csv"
    pd.read_csv(csv).assign(date=lambda d: pd.to_datetime(d["date"])).to_parquet(root / "inputs" / "production.parquet")
    csv.unlink()
    again = read_production(root, pools=ws.pools, skills=ws.skills(), cells=ws.cells())
    cols = ["pool", "queue", "language", "items", "handle_time_s", "qa_passed"]
    pd.testing.assert_frame_equal(prod.frame[cols], again.frame[cols], check_dtype=False)


def test_capability_command_writes_a_run_and_workbook(demo, cli_run):
    ws, _ = demo
    result, folder = cli_run
    assert result.exit_code == 0, result.output
    assert "video" in result.output and "detected" in result.output  # the policy bump is reported
    for name in ("estimates.parquet", "estimates.csv", "learning_curve.parquet", "policy_changes.csv", "pools_suggested.csv",
                 "capability.xlsx", "run.json"):
        assert (folder / name).is_file(), name
    est = pd.read_parquet(folder / "estimates.parquet")
    book = pd.read_excel(folder / "capability.xlsx", sheet_name=None)
    assert {"README", "Pools", "Estimates", "Learning curve", "Policy changes"} <= set(book)
    sheet = book["Estimates"]
    np.testing.assert_allclose(sheet["multiplier"].to_numpy(float), est["multiplier"].to_numpy(float), rtol=1e-9)
    from openpyxl import load_workbook

    wb = load_workbook(folder / "capability.xlsx")
    assert len(wb["Learning curve"]._charts) == 1 and len(wb["Pools"]._charts) == 1
    suggested = pd.read_csv(folder / "pools_suggested.csv")
    assert list(suggested.columns) == list(pd.read_csv(ws.root / "inputs" / "pools.csv").columns)
    assert suggested["proficiency"].between(0.5, 3.0).all()


def test_estimated_proficiency_reads_the_latest_run(demo, cli_run):
    from capplan.errors import ConfigError
    from capplan.staffing.proficiency import pool_cell_proficiency

    ws, _ = demo
    folder = cli_run[1]
    est = pd.read_parquet(folder / "estimates.parquet")
    ws.config = ws.config.model_copy(deep=True)
    ws.config.staffing.proficiency = "estimated"
    table = pool_cell_proficiency(ws)
    assert set(table["source"]) == {f"capability {folder.name}"}
    both = table.merge(est, on=["pool", "queue", "language"], suffixes=("", "_est"))
    assert len(both) == len(table)
    np.testing.assert_allclose(both["multiplier"], both["multiplier_est"])  # rework off: the estimate itself
    ws.config.staffing.rework, ws.config.staffing.rework_aht_ratio = True, 2.0
    table = pool_cell_proficiency(ws).merge(est, on=["pool", "queue", "language"], suffixes=("", "_est"))
    np.testing.assert_allclose(table["multiplier"], table["multiplier_est"] * (1 + 2.0 * (1 - table["quality_est"])))
    fresh = load_workspace(make_workspace(ws.root.parent / "none"))
    fresh.config.staffing.proficiency = "estimated"
    with pytest.raises(ConfigError, match="needs a capability run"):
        pool_cell_proficiency(fresh)


def test_rework_gives_the_cheap_low_quality_vendor_its_true_cost():
    """10 moderators 8 h a day: a vendor at 9/h of quality 0.8 beats in-house at 10/h until its rework counts
    (x 1.2: 12 moderators = 108/h > 100/h), then in-house wins (hand-computed)."""
    from _optimize_data import config, daily_profile, pool, queue, requirements, shift, vendor, workspace

    from capplan.optimize import solve_plan
    from capplan.report.tidy import quality_cost_by_vendor

    cfg = config()
    ws = workspace(cfg, [queue("q")], [pool("ih", rate=10.0), pool("cheap", vendor="bpo", rate=9.0)],
                   [shift(days=7, start_days=("Mon",))], vendors=[vendor("bpo", quality=0.8)])
    req = requirements(cfg, {("q", "en"): daily_profile([10] * 7, cfg, range(8))})
    plain = solve_plan(ws, req, with_baseline=False)
    assert plain.checks == [] and plain.solve["cost"] == pytest.approx(10 * 56 * 9.0)
    cost = quality_cost_by_vendor(plain.vendor_allocation, plain.allocation, plain.proficiency, False, 1.0).set_index("vendor")
    assert cost.at["bpo", "quality"] == pytest.approx(0.8) and cost.at["bpo", "rework_factor"] == pytest.approx(1.2)
    assert cost.at["bpo", "quality_adjusted_cost_per_item"] == pytest.approx(1.2 * cost.at["bpo", "cost_per_item_first_review"])
    cfg.staffing.rework = True
    adjusted = solve_plan(ws, req, with_baseline=False)
    assert adjusted.checks == [] and adjusted.solve["cost"] == pytest.approx(10 * 56 * 10.0)
    assert set(adjusted.shift_plan.loc[adjusted.shift_plan["headcount"] > 0, "vendor"]) == {"inhouse"}
