"""capplan scenarios end to end on the small demo (slow: a forecast and four plans)."""

from __future__ import annotations

import pandas as pd
import pytest

from capplan.pipeline import run_demo
from capplan.pipeline.diff import run_diff
from capplan.pipeline.scenarios import run_scenarios

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("sc") / "demo"
    run_demo(root, seed=3, size="small")
    return root


def test_demo_scenarios(demo):
    run = run_scenarios(demo, jobs=2)
    s = run.summary.set_index("scenario")
    assert run.reused_base and list(s.index) == ["(base)", "deflection", "surge", "vendor-cap"]
    assert (s["status"] != "").all() and not s["status"].str.startswith("failed").any()
    base = pd.read_parquet(demo / "plans" / run.base_plan / "requirements.parquet")
    for name, queue, language, factor in (("surge", "video", "es", 1.15), ("deflection", "comments", "en", 0.428 / 0.608)):
        req = pd.read_parquet(demo / "plans" / s.loc[name, "plan_run"] / "requirements.parquet")
        both = base.merge(req, on=["queue", "language", "interval_start"], suffixes=("_a", "_b"))
        sel = (both["queue"] == queue) & (both["language"] == language) & (both["volume_a"] != both["volume_b"])
        assert sel.any()
        assert list(both.loc[sel, "volume_b"]) == pytest.approx(list(factor * both.loc[sel, "volume_a"]), rel=1e-9)
        assert (both.loc[~((both["queue"] == queue) & (both["volume_a"] != both["volume_b"])), "volume_a"]
                == both.loc[~((both["queue"] == queue) & (both["volume_a"] != both["volume_b"])), "volume_b"]).all()
    diff = run_diff(run.base_plan, s.loc["surge", "plan_run"], demo).diff
    assert diff.why["what"].tolist()[0] == "scenario"
    assert (demo / "scenario_runs" / run.run_id / "scenarios.xlsx").is_file()
