"""capplan evaluate: weeks, hindsight forecast, bootstrap by hand, variant configs, walk-forward on a tiny workspace."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from _cli import capplan
from _ws import START, make_workspace
from capplan.errors import ConfigError
from capplan.evaluate.experiments import (bootstrap_indices, compare, load_variant, mean_interval, ratio_interval,
                                          share_difference, verdict)
from capplan.evaluate.walkforward import hindsight_forecast, per_cell
from capplan.evaluate.weeks import evaluation_weeks, week_config, whole_weeks, workspace_before
from capplan.inputs import load_workspace

T0 = pd.Timestamp(START, tz="UTC")  # the tiny workspace's planning start (a Monday); history: 3 weeks before it




@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("evaluate") / "ws")
    return load_workspace(root)


# --- weeks ------------------------------------------------------------------------------------------
def test_whole_weeks_and_limits(tiny):
    weeks = whole_weeks(tiny.history, tiny.config)
    assert weeks == [T0 - pd.Timedelta(weeks=k) for k in (3, 2, 1)]
    assert evaluation_weeks(tiny.history, tiny.config, 2) == weeks[1:]
    with pytest.raises(ConfigError, match=r"--weeks 3: .* holds 3 whole week\(s\) .* at most 2 .* --weeks 2"):
        evaluation_weeks(tiny.history, tiny.config, 3)
    with pytest.raises(ConfigError, match="at least 1"):
        evaluation_weeks(tiny.history, tiny.config, 0)


def test_partial_week_is_not_whole(tiny):
    cut = tiny.history[pd.to_datetime(tiny.history["interval_start"], utc=True) < T0 - pd.Timedelta(hours=5)]
    assert whole_weeks(cut, tiny.config)[-1] == T0 - pd.Timedelta(weeks=2)


def test_week_config_and_cut(tiny):
    week = T0 - pd.Timedelta(weeks=1)
    cfg = week_config(tiny.config, week)
    assert (cfg.planning.start, cfg.planning.plan_days, cfg.planning.horizon_days) == (week.date(), 7, 7)
    assert tiny.config.planning.start == T0.date()  # the original is untouched
    assert cfg.staffing == tiny.config.staffing
    past = workspace_before(tiny, week, cfg)
    assert pd.to_datetime(past.history["interval_start"], utc=True).max() == week - pd.Timedelta(hours=1)
    assert past.config is cfg and len(tiny.history) == 3 * 168 * 3


def test_hindsight_forecast_splits_hours_evenly(tiny):
    week = T0 - pd.Timedelta(weeks=1)
    arrivals = pd.DataFrame({"interval_start": [week, week + pd.Timedelta(minutes=30), week + pd.Timedelta(hours=1)],
                             "queue": "video", "language": "en", "volume": [6.0, 4.0, 7.0]})
    cells = pd.DataFrame({"queue": ["video", "live"], "language": ["en", "en"]})
    cfg = week_config(tiny.config, week)
    cfg = cfg.model_copy(update={"planning": cfg.planning.model_copy(update={"interval_minutes": 30})})
    fc = hindsight_forecast(arrivals, cells, week, cfg)
    assert len(fc) == 2 * 7 * 48
    video = fc[fc["queue"] == "video"].set_index("interval_start")["volume"]
    assert video.iloc[:4].tolist() == [5.0, 5.0, 3.5, 3.5]  # hour sums 10 and 7, split in halves
    assert video.sum() == 17.0 and fc.loc[fc["queue"] == "live", "volume"].sum() == 0.0
    assert (fc["volume_lo_80"] == fc["volume"]).all() and (fc["volume_hi_95"] == fc["volume"]).all()


def test_per_cell_sums_iso_weeks():
    rows = pd.DataFrame({"queue": ["q", "q"], "language": ["en", "en"], "week": ["2026-W09", "2026-W10"],
                         "kind": "deferred", "target": 0.9, "items": [80.0, 20.0], "on_time": [80.0, 9.0],
                         "abandoned": 0.0})
    out = per_cell(rows)
    assert out["items"].iloc[0] == 100.0 and out["achieved"].iloc[0] == pytest.approx(0.89)
    assert not out["met"].iloc[0]


# --- bootstrap by hand --------------------------------------------------------------------------------
def test_bootstrap_two_points_by_hand():
    # diffs {0, 1}: a resample's mean is 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4
    idx = bootstrap_indices(2, 20000, seed=0)
    means = np.array([0.0, 1.0])[idx].mean(axis=1)
    assert np.mean(means == 0.0) == pytest.approx(0.25, abs=0.01)
    assert np.mean(means == 0.5) == pytest.approx(0.50, abs=0.01)
    iv = mean_interval(np.array([0.0, 1.0]), idx, scale=100)
    assert (iv.estimate, iv.lo, iv.hi) == (50.0, 0.0, 100.0)
    # cost ratio of b = [2, 1] over a = [1, 1]: resamples give 1.0, 0.5 or 0.0
    r = ratio_interval(np.array([2.0, 1.0]), np.array([1.0, 1.0]), idx)
    assert (r.estimate, r.lo, r.hi) == (0.5, 0.0, 1.0)


def test_bootstrap_constant_and_normal_approximation():
    idx = bootstrap_indices(50, 2000, seed=1)
    iv = mean_interval(np.ones(50), idx, scale=100)
    assert (iv.estimate, iv.lo, iv.hi) == (100.0, 100.0, 100.0)
    # 400 cell-weeks, 40 of them +1: mean 0.1, standard error sqrt(0.1 * 0.9 / 400) = 0.015 -> 95 % half-width 2.94 per 100
    diffs = np.zeros(400)
    diffs[:40] = 1.0
    iv = mean_interval(diffs, bootstrap_indices(400, 4000, seed=2), scale=100)
    assert iv.estimate == pytest.approx(10.0)
    assert iv.half_width == pytest.approx(1.96 * 1.5, rel=0.1)
    # on-time share difference: (sum b - sum a) / sum items
    d = share_difference(np.array([5.0, 5.0]), np.array([6.0, 7.0]), np.array([10.0, 10.0]), bootstrap_indices(2, 100))
    assert d.estimate == pytest.approx(3 / 20)


def test_compare_and_verdict_by_hand():
    # 10 cell-weeks; B meets target in 2 more, costs 10 % more on every cell-week
    keys = pd.DataFrame({"week": T0, "queue": "q", "language": [f"l{i}" for i in range(10)]})
    a = keys.assign(variant="A", met=[True] * 5 + [False] * 5, items=10.0, on_time=8.0, cost=100.0)
    b = keys.assign(variant="B", met=[True] * 7 + [False] * 3, items=10.0, on_time=9.0, cost=110.0)
    result = compare(pd.concat([a, b]), n_boot=2000, seed=0)
    assert (result["cell_weeks"], result["met_a"], result["met_b"]) == (10, 5, 7)
    assert result["met_more_per_100"]["estimate"] == pytest.approx(20.0)
    assert result["cost_change"]["estimate"] == pytest.approx(0.10)
    assert result["cost_change"]["half_width"] == pytest.approx(0.0, abs=1e-12)  # the same 10 % on every cell-week
    assert result["on_time_share_diff"]["estimate"] == pytest.approx(0.1)
    text = verdict(result)
    assert text.startswith("B meets target in 20 +/- ")
    assert "more cell-weeks of 100 at 10.0 % +/- 0.0 % more cost" in text
    again = compare(pd.concat([a, b]), n_boot=2000, seed=0)
    assert again == result  # fixed seed


# --- the variant config -----------------------------------------------------------------------------------
def test_load_variant_partial_and_errors(tiny, tmp_path):
    other = tmp_path / "b.toml"
    other.write_text("[staffing]\nquantile = 90\n[policy]\nfx = {USD = 1.0, EUR = 1.2}\n")
    b = load_variant(tiny.config, other)
    assert b.staffing.quantile == 90 and b.staffing.shrinkage == tiny.config.staffing.shrinkage
    assert b.policy.fx == {"USD": 1.0, "EUR": 1.2}  # a table value replaces the workspace's whole
    assert b.planning == tiny.config.planning
    other.write_text("[staffing]\nquantiel = 90\n")
    with pytest.raises(ConfigError, match="unknown key 'quantiel' in \\[staffing\\]; valid keys: quantile"):
        load_variant(tiny.config, other)
    other.write_text("[staffing\nquantile = 90\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_variant(tiny.config, other)
    with pytest.raises(ConfigError, match="no such file"):
        load_variant(tiny.config, tmp_path / "missing.toml")
    other.write_bytes(b"\xff\xfe[staffing]")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_variant(tiny.config, other)


# --- walk-forward on the tiny workspace (real forecast, optimizer and replay) -------------------------------
@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """``capplan evaluate --weeks 1`` on the tiny workspace: (workspace, run folder, stdout)."""
    ws = make_workspace(tmp_path_factory.mktemp("cli") / "ws")
    res = capplan("evaluate", ws, "--weeks", "1")
    assert res.returncode == 0, res.stderr
    run = ws / "evaluations" / (ws / "evaluations" / "latest").read_text().strip()
    return ws, run, res.stdout


def test_evaluate_cli_writes_a_run(cli_run):
    ws, run, stdout = cli_run
    assert "met target" in stdout and "evaluation run" in stdout
    for name in ("cell_weeks.csv", "weeks.csv", "totals.csv", "forecasts.parquet", "evaluation.json", "evaluation.xlsx", "run.json"):
        assert (run / name).is_file(), name
    summary = json.loads((run / "evaluation.json").read_text())
    assert summary["weeks"] == [(T0 - pd.Timedelta(weeks=1)).isoformat()]
    totals = pd.read_csv(run / "totals.csv")
    cells = pd.read_csv(run / "cell_weeks.csv")
    assert totals["cell_weeks_met"].iloc[0] == cells["met"].sum()
    from openpyxl import load_workbook

    wb = load_workbook(run / "evaluation.xlsx")
    assert wb.sheetnames == ["README", "Totals", "Weeks", "Cell-weeks"]
    assert wb["Cell-weeks"].max_row == len(cells) + 1


def test_walk_forward_is_consistent(cli_run):
    ws, run, _ = cli_run
    cw = pd.read_parquet(run / "cell_weeks.parquet")
    forecast = pd.read_parquet(run / "forecasts.parquet")
    s = json.loads((run / "evaluation.json").read_text())["weeks_detail"][0]
    assert len(cw) == 3 and set(cw["queue"]) == {"video", "live"}
    # plan and hindsight replay the same arrivals with the same seed: the same items are judged
    assert np.allclose(cw["items"], cw["hindsight_items"])
    # the forecast errors, recomputed from the kept forecast and the history
    hist = pd.read_csv(ws / "inputs" / "history.csv")
    hist["interval_start"] = pd.to_datetime(hist["interval_start"], utc=True)
    week = pd.Timestamp(s["week"])
    hist = hist[(hist["interval_start"] >= week) & (hist["interval_start"] < week + pd.Timedelta(weeks=1))]
    joined = forecast.merge(hist, on=["queue", "language", "interval_start"], suffixes=("_fc", ""))
    for (q, lang), g in joined.groupby(["queue", "language"]):
        row = cw[(cw["queue"] == q) & (cw["language"] == lang)].iloc[0]
        assert row["wape"] == pytest.approx((g["volume_fc"] - g["volume"]).abs().sum() / g["volume"].sum())
        assert row["actual"] == pytest.approx(g["volume"].sum())
    assert s["cell_weeks_met"] == int(cw["met"].sum())
    assert s["on_time_share"] == pytest.approx(cw["on_time"].sum() / cw["items"].sum())
    assert s["cost"] == pytest.approx(cw["cost"].sum())
    assert s["plan_total_cost"] >= s["cost"] - 1e-6  # paid cost attributed to cells, take-or-pay on top
    assert s["plan_status"] in ("optimal", "feasible") and s["hindsight_status"] in ("optimal", "feasible")


@pytest.mark.dask
@pytest.mark.slow  # a LocalCluster of two processes, each importing the stack: 80 s on a shared 2-core machine
def test_dask_gives_the_same_numbers(cli_run):
    pytest.importorskip("dask.distributed")
    from capplan.evaluate import walk_forward

    ws_dir, run, _ = cli_run
    ws = load_workspace(ws_dir)
    local = pd.read_parquet(run / "cell_weeks.parquet")
    remote = walk_forward(ws, [local["week"].iloc[0]], {"A": ws.config}, engine="dask")
    pd.testing.assert_frame_equal(remote[0].cell_weeks, local, check_dtype=False)


@pytest.mark.parametrize("command", ["evaluate", "accuracy"])
def test_help(command):
    res = capplan(command, "--help")
    assert res.returncode == 0 and "Usage" in res.stdout


@pytest.mark.slow
def test_compare_on_the_tiny_workspace(tiny, tmp_path):
    from capplan.evaluate import walk_forward

    other = tmp_path / "b.toml"
    other.write_text("[staffing]\nquantile = 90\n")
    week = T0 - pd.Timedelta(weeks=1)
    walked = walk_forward(tiny, [week], {"A": tiny.config, "B": load_variant(tiny.config, other)}, policies={"B": "plan"})
    assert walked[1].summary["variant"] == "B"
    assert walked[1].summary["plan_total_cost"] >= walked[0].summary["plan_total_cost"] - 1e-6  # P90 staffs more
    cell_weeks = pd.concat([o.cell_weeks for o in walked], ignore_index=True)
    result = compare(cell_weeks, n_boot=500, seed=0)
    assert result["cell_weeks"] == 3
    b_over_a = walked[1].summary["cost"] / walked[0].summary["cost"] - 1
    assert result["cost_change"]["estimate"] == pytest.approx(b_over_a)
    assert verdict(result).startswith("B meets target in")


# --- the command: bad input ------------------------------------------------------------------------------------
def test_evaluate_cli_errors_write_nothing(tmp_path):
    from typer.testing import CliRunner

    from capplan.cli.main import app

    def capplan(*args):  # in-process: the errors come before any heavy work
        res = CliRunner().invoke(app, [str(a) for a in args])
        res.returncode = res.exit_code
        return res

    ws = make_workspace(tmp_path / "ws")
    res = capplan("evaluate", ws, "--weeks", "5")
    assert res.returncode == 2 and "--weeks 5" in res.stderr and "Traceback" not in res.stderr
    (tmp_path / "bad.toml").write_text("[solver]\nbackend = 'highs'\nfoo = 1\n")
    res = capplan("evaluate", ws, "--weeks", "1", "--compare", tmp_path / "bad.toml")
    assert res.returncode == 2 and "unknown key 'foo' in [solver]" in res.stderr
    res = capplan("evaluate", ws, "--weeks", "1", "--compare", tmp_path / "nope.toml")
    assert res.returncode == 2 and "no such file" in res.stderr
    (tmp_path / "q95.toml").write_text("[staffing]\nquantile = 95\n")  # needs a 90 % band the forecast lacks
    res = capplan("evaluate", ws, "--weeks", "1", "--compare", tmp_path / "q95.toml")
    assert res.returncode == 2 and "needs the 90% prediction interval" in res.stderr
    res = capplan("evaluate", ws, "--weeks", "1", "--policy", "fastest")
    assert res.returncode == 2 and "routing policy" in res.stderr
    res = capplan("evaluate", ws, "--weeks", "1", "--compare-policy", "fastest")
    assert res.returncode == 2 and "'fastest' is not a routing policy" in res.stderr
    assert not (ws / "evaluations").exists() or not any((ws / "evaluations").iterdir())
