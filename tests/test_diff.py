"""capplan diff and capplan scenarios on the tiny workspace with a hand-written forecast (a few small solves)."""

from __future__ import annotations

import json
import shutil

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from _scenario_data import scenario_workspace
from capplan.cli.main import app
from capplan.errors import ConfigError
from capplan.pipeline.diff import run_diff
from capplan.pipeline.plan import run_plan_stage
from capplan.pipeline.scenarios import run_scenarios

CAP = 'description = "bpo1 capped at 80 paid hours a week"\n[vendors.bpo1]\nmax_weekly_hours = 80\n'


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    root = scenario_workspace(tmp_path_factory.mktemp("diff") / "ws", {"cap": CAP})
    base = run_plan_stage(root)
    capped = run_plan_stage(root, scenario="cap")
    return root, base, capped


def test_scenario_plan_records_scenario_and_cap_binds(plans):
    root, base, capped = plans
    for name in ("run.json", "solve.json"):
        meta = json.loads((capped.folder / name).read_text())
        assert meta["scenario"] == "cap" and len(meta["scenario_sha256"]) == 64
        assert "scenario" not in json.loads((base.folder / name).read_text())
    binding = pd.read_csv(capped.folder / "binding.csv")
    assert ((binding["kind"] == "vendor_max_hours") & (binding["name"] == "bpo1")).any()
    hours = pd.read_csv(capped.folder / "shift_plan.csv").query("vendor == 'bpo1'")["paid_hours_total"].sum()
    assert hours == pytest.approx(80.0)  # 7-day plan = one week
    assert "bpo1,0,5000," in (root / "inputs" / "vendors.csv").read_text()  # the input file is untouched


def test_diff_names_the_new_limit_and_the_cost_change(plans):
    root, base, capped = plans
    run = run_diff(base.run_id, capped.run_id, root)
    d = run.diff
    appeared = d.binding[d.binding["status"] == "appeared"]
    assert ("vendor_max_hours", "bpo1") in set(zip(appeared["kind"], appeared["name"]))
    cost = d.headline.set_index("metric").loc["cost"]
    assert cost["a"] == pytest.approx(base.solve["cost"]) and cost["b"] == pytest.approx(capped.solve["cost"])
    by_vendor = d.cost[d.cost["by"] == "vendor"].set_index("name")
    assert by_vendor["b"].sum() == pytest.approx(capped.solve["cost"])  # cost by vendor adds up to the plan cost
    assert d.vendor_hours.set_index("vendor").loc["bpo1", "b"] == pytest.approx(80.0)
    assert d.sentences[0].startswith("Cost rises by" if capped.solve["cost"] > base.solve["cost"] else "Cost")
    assert any("started binding: " in s and "vendor_max_hours bpo1" in s for s in d.sentences)
    assert any(s.startswith("Why: scenario (none) -> 'cap' (bpo1 capped") for s in d.sentences)
    wb = openpyxl.load_workbook(run.folder / "diff.xlsx")
    assert wb.sheetnames[:3] == ["Summary", "Cost", "Moderators"] and len(wb["Summary"]._charts) == 1
    assert wb["Summary"]["A9"].value == d.sentences[0]
    assert (root / "diffs" / "latest").read_text().strip() == run.run_id


def test_diff_errors(plans, tmp_path):
    root, base, capped = plans
    other = tmp_path / "other"
    shutil.copytree(root, other)
    with pytest.raises(ConfigError, match="different workspaces"):
        run_diff(str(root / "plans" / base.run_id), str(other / "plans" / capped.run_id), root)
    before = sorted(p.name for p in (root / "diffs").iterdir()) if (root / "diffs").exists() else []
    result = CliRunner().invoke(app, ["diff", base.run_id, "nope", "--workspace", str(root)])
    assert result.exit_code == 2 and "no plan run 'nope'" in result.output
    result = CliRunner().invoke(app, ["diff", str(root / "plans" / base.run_id), str(other / "plans" / capped.run_id)])
    assert result.exit_code == 2 and "different workspaces" in result.output
    after = sorted(p.name for p in (root / "diffs").iterdir()) if (root / "diffs").exists() else []
    assert before == after


def test_cli_diff_prints_sentences_first(plans):
    root, base, capped = plans
    result = CliRunner().invoke(app, ["diff", base.run_id, capped.run_id, "-w", str(root)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"plan B {capped.run_id} compared with plan A {base.run_id}")
    assert lines[1].startswith("Cost ")


@pytest.mark.slow  # one more solve
def test_scenarios_command_reuses_the_base_plan(plans):
    root, base, capped = plans
    run = run_scenarios(root)
    assert run.reused_base and run.base_plan == base.run_id
    s = run.summary.set_index("scenario")
    assert list(s.index) == ["(base)", "cap"]
    assert s.loc["cap", "cost_change"] == pytest.approx(s.loc["cap", "cost"] - s.loc["(base)", "cost"])
    assert "vendor_max_hours bpo1" in s.loc["cap", "new_limits"]
    wb = openpyxl.load_workbook(run.folder / "scenarios.xlsx")
    assert wb.sheetnames == ["README", "Scenarios"] and len(wb["Scenarios"]._charts) == 1
