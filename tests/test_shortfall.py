"""Never just 'infeasible': missing skills, capped vendors and zero headcount give a priced shortfall."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from _cli import capplan
from _ws import make_workspace

POOL_HEADER = "pool,vendor,site,timezone,queues,languages,proficiency,min_headcount,max_headcount,cost_per_hour,currency,shifts\n"


@pytest.fixture(scope="module")
def short_ws(tmp_path_factory):
    """Nobody serves video/es; the in-house pool has zero headcount; the vendor is capped at 40 h a week."""
    root = tmp_path_factory.mktemp("short") / "ws"
    make_workspace(
        root,
        pools=POOL_HEADER
        + "dub-ih,inhouse,Dublin,Europe/Dublin,video;live,en,1.0,0,0,30,EUR,day;night\n"
        + "mnl-b1,bpo1,Manila,Asia/Manila,video,en,1.2,0,60,9,USD,day;night\n",
        vendors="vendor,min_weekly_hours,max_weekly_hours,max_language_share,quality,currency\nbpo1,0,40,1.0,0.92,USD\n",
    )
    res = capplan("forecast", root)
    assert res.returncode == 0, res.stderr
    return root


def test_shortfall_is_priced_reported_and_named(short_ws):
    res = capplan("plan", short_ws)
    assert res.returncode == 0, res.stderr
    assert "unmet" in res.stderr and "warning" in res.stderr
    run = short_ws / "plans" / (short_ws / "plans" / "latest").read_text().strip()
    solve = json.loads((run / "solve.json").read_text())
    assert solve["unmet_hours"] > 0
    short = pd.read_csv(run / "shortfalls.csv")
    assert {"video", "live"} <= set(short["queue"])
    assert (short.loc[short["language"] == "es", "reason"].str.contains("no skilled pool|no_skilled_pool|skill", case=False)).all()
    binding = pd.read_csv(run / "binding.csv")
    kinds = set(binding["kind"])
    assert "vendor_max_hours" in kinds
    assert "pool_max_headcount" in kinds or "no_skilled_pool" in kinds
    cov = pd.read_parquet(run / "coverage.parquet")
    assert cov["unmet"].sum() > 0


def test_strict_exits_3_on_shortfall(short_ws):
    res = capplan("plan", short_ws, "--strict")
    assert res.returncode == 3
    assert "Traceback" not in res.stderr


def test_plan_refuses_a_forecast_that_misses_the_plan_window(short_ws, tmp_path):
    import shutil

    ws = tmp_path / "moved"
    shutil.copytree(short_ws, ws)
    text = (ws / "capplan.toml").read_text().replace("start = 2026-03-02", "start = 2026-02-23")
    (ws / "capplan.toml").write_text(text)
    res = capplan("plan", ws)
    assert res.returncode == 2
    assert "not the plan window" in res.stderr and "capplan forecast" in res.stderr
