"""Scenarios: the override language, errors with file and line, hand-checkable effects, nothing written on error."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from _scenario_data import CELLS, FORECAST_RUN, cell, hand_forecast, scenario_workspace
from capplan.cli.main import app
from capplan.errors import ConfigError
from capplan.inputs import load_workspace
from capplan.scenarios import apply_scenario, load_scenario, what_if
from capplan.scenarios.language import key_lines
from capplan.staffing.requirements import compute_requirements

SURGE = """description = "video/en +10 % on the first two days"
[[volume]]
queues = ["video"]
languages = ["en"]
start = 2026-03-02
end = 2026-03-04
multiplier = 1.10
"""


@pytest.fixture
def ws_root(tmp_path):
    return scenario_workspace(tmp_path / "ws", {"surge": SURGE})


def _requirements(root, scenario=None):
    ws = load_workspace(root)
    forecast = hand_forecast()
    if scenario:
        wi = what_if(root, scenario, ws)
        ws, forecast = wi.workspace, wi.adjust(forecast)
    return compute_requirements(forecast, ws, 50)


def test_volume_multiplier_raises_exactly_that_cell_and_window(ws_root):
    base, surge = _requirements(ws_root), _requirements(ws_root, "surge")
    assert len(base) == len(surge)
    key = ["queue", "language", "interval_start"]
    merged = base.merge(surge, on=key, suffixes=("_a", "_b"))
    window = (merged["queue"] == "video") & (merged["language"] == "en") & \
        (merged["interval_start"] >= pd.Timestamp("2026-03-02", tz="UTC")) & (merged["interval_start"] < pd.Timestamp("2026-03-04", tz="UTC"))
    assert window.sum() == 48
    assert list(merged.loc[window, "volume_b"]) == pytest.approx(list(1.1 * merged.loc[window, "volume_a"]), rel=1e-12)
    assert list(merged.loc[window, "workload_hours_b"]) == pytest.approx(list(1.1 * merged.loc[window, "workload_hours_a"]), rel=1e-12)
    assert merged.loc[window, "volume_b"].iloc[0] == pytest.approx(44.0)
    assert (merged.loc[~window, "volume_b"] == merged.loc[~window, "volume_a"]).all()
    assert (merged["aht_s_b"] == merged["aht_s_a"]).all()


def test_bands_move_with_the_volume(ws_root):
    wi = what_if(ws_root, "surge", load_workspace(ws_root))
    fc = wi.adjust(hand_forecast())
    row = cell(fc, "video", "en").iloc[0]
    assert (row["volume"], row["volume_hi_95"], row["volume_lo_80"]) == pytest.approx((44.0, 1.3 * 44.0, 0.8 * 44.0))
    assert cell(fc, "video", "es")["volume"].eq(CELLS[("video", "es")]).all()


def test_aht_delta_config_and_table_overrides(tmp_path):
    text = """[[aht]]
queues = ["video"]
delta_s = 20
[staffing]
shrinkage = 0.4
quantile = 80
[policy]
unmet_penalty_per_hour = {1 = 5000}
exposure_max_share = 0.25
[pools.mnl-b1]
max_headcount = 7
cost_per_hour = 11.5
[vendors.bpo1]
max_weekly_hours = 800
max_language_share = 0.6
[queues.video]
target = 0.95
"""
    root = scenario_workspace(tmp_path / "ws", {"mix": text})
    ws = load_workspace(root)
    new = apply_scenario(ws, load_scenario(root, "mix"))
    aht = dict(zip(zip(new.handle_times["queue"], new.handle_times["language"]), new.handle_times["aht_s"]))
    assert aht == {("video", "en"): 140.0, ("video", "es"): 150.0, ("live", "en"): 180.0}
    assert new.config.staffing.shrinkage == 0.4 and new.config.staffing.quantile == 80
    assert new.config.policy.unmet_penalty_per_hour == {1: 5000.0, 2: 400.0, 3: 120.0}  # merged key by key
    assert new.config.policy.exposure_max_share == 0.25
    pool = new.pools.set_index("pool").loc["mnl-b1"]
    assert (pool["max_headcount"], pool["cost_per_hour"]) == (7, 11.5)
    vendor = new.vendors.set_index("vendor").loc["bpo1"]
    assert (vendor["max_weekly_hours"], vendor["max_language_share"]) == (800.0, 0.6)
    assert new.queues.set_index("queue").loc["video", "target"] == 0.95
    # the loaded workspace and the files are untouched
    assert ws.config.staffing.shrinkage == 0.3 and ws.pools.set_index("pool").loc["mnl-b1", "max_headcount"] == 60
    assert "mnl-b1,bpo1,Manila,Asia/Manila,video,en;es,1.2,0,60,9" in (root / "inputs" / "pools.csv").read_text()


BAD = [
    ("[[volume]]\nqueues = ['video']\nmultiplyer = 1.1\n", 3, "unknown key 'multiplyer'"),
    ("[[volume]]\nmultiplier = -0.5\n", 2, "greater than or equal to 0"),
    ("description = 'x'\n\n[[volume]]\nqueues = ['vidoe']\nmultiplier = 1.2\n", 4, "unknown queue(s) 'vidoe'"),
    ("[vendors.nobody]\nmax_weekly_hours = 10\n", 1, "unknown vendor 'nobody'"),
    ("[pools.dub-ih]\nmax_headcont = 10\n", 2, "unknown key 'max_headcont'"),
    ("[vendors.bpo1]\nmax_language_share = 1.5\n", 2, "less than or equal to 1"),
    ("[staffing]\nshrinkage = 0.2\nquantle = 80\n", 3, "unknown key 'quantle' in [staffing]"),
    ("[staffing]\nquantile = 70\n", 2, "staffing.quantile"),
    ("[[drivers]]\nqueues = ['video']\ndeflection_share = 1.3\n", 3, "less than or equal to 1"),
    ("colour = 'red'\n", 1, "unknown key 'colour'"),
    ("[[volume]\nmultiplier = 1\n", None, "not valid TOML"),
]


@pytest.mark.parametrize("text,line,message", BAD)
def test_bad_scenarios_name_file_and_line(tmp_path, text, line, message):
    root = scenario_workspace(tmp_path / "ws", {"bad": text})
    with pytest.raises(ConfigError) as info:
        what_if(root, "bad", load_workspace(root))
    text = str(info.value)
    assert text.startswith("scenarios/bad.toml") and message in text
    if line is not None:
        assert f"line {line}:" in text


def test_all_problems_at_once(tmp_path):
    root = scenario_workspace(tmp_path / "ws", {"bad": "[[volume]]\nqueues = ['vidoe']\nmultiplier = 1\n"
                                                "[vendors.bpo1]\nmin_weekly_hours = 900\nmax_weekly_hours = 100\n"})
    with pytest.raises(ConfigError, match=r"2 problems\n  line 2: unknown queue.*\n  line 4: vendor 'bpo1': min_weekly_hours 900"):
        what_if(root, "bad", load_workspace(root))


def test_unknown_scenario_lists_the_known_ones(ws_root):
    with pytest.raises(ConfigError, match="no scenario 'nope'.*surge"):
        load_scenario(ws_root, "nope")


def test_key_lines_paths():
    lines = key_lines("a = 1\n[[volume]]\nx = 1\n[[volume]]\n# c\nx = 2\n[vendors.'b.1']\nmax = 3\n[policy]\nfx.EUR = 1\n")
    assert lines[("a",)] == 1 and lines[("volume", "0", "x")] == 3 and lines[("volume", "1", "x")] == 6
    assert lines[("vendors", "b.1", "max")] == 8 and lines[("policy", "fx", "EUR")] == 10


def test_cli_bad_scenario_exits_2_and_writes_nothing(tmp_path):
    root = scenario_workspace(tmp_path / "ws", {"bad": "[vendors.bpo1]\nmax_weekly_hour = 10\n"})
    result = CliRunner().invoke(app, ["plan", str(root), "--scenario", "bad"])
    assert result.exit_code == 2, result.output
    assert "scenarios/bad.toml, line 2: unknown key 'max_weekly_hour'" in result.output
    assert not (root / "plans").exists() or not any((root / "plans").iterdir())
    result = CliRunner().invoke(app, ["plan", str(root), "--scenario", "missing"])
    assert result.exit_code == 2 and "no scenario 'missing'" in result.output


def test_forecast_choice(tmp_path):
    """A scenario with [forecast] keys needs a forecast made with it; others reuse the base forecast."""
    root = scenario_workspace(tmp_path / "ws", {"surge": SURGE, "models": "[forecast]\nmodels = ['seasonal_naive']\n"})
    ws = load_workspace(root)
    assert what_if(root, "surge", ws).forecast_run == FORECAST_RUN
    with pytest.raises(ConfigError, match="capplan forecast --scenario models"):
        what_if(root, "models", ws)
    other = root / "forecasts" / "20260302T000000Z"
    other.mkdir()
    hand_forecast().to_parquet(other / "forecast.parquet")
    scenario = load_scenario(root, "models")
    (other / "run.json").write_text(json.dumps(scenario.record))
    chosen = what_if(root, "models", ws)
    assert chosen.forecast_run == other.name
    fc = hand_forecast()
    assert chosen.adjust(fc, other) is fc  # made with this scenario: not adjusted twice
    assert what_if(root, "surge", ws).forecast_run == FORECAST_RUN  # the base forecast, not the scenario's


# --- enqueue drivers --------------------------------------------------------------------------------
DRIVERS_HEAD = "date,queue,language,content_volume,flag_rate,automation_share,deflection_share,appeal_rate\n"
DEFLECT = "[[drivers]]\nqueues = ['video']\nlanguages = ['en']\nstart = 2026-03-04\ndeflection_share = 0.3\n"


def _drivers_ws(tmp_path, rows: str):
    root = scenario_workspace(tmp_path / "ws", {"deflect": DEFLECT})
    (root / "inputs" / "drivers.csv").write_text(DRIVERS_HEAD + rows, encoding="utf-8")
    return root


def _history_day(root, day: str) -> float:
    ws = load_workspace(root)
    h = ws.history
    sel = (h["queue"] == "video") & (h["language"] == "en") & (h["interval_start"].dt.strftime("%Y-%m-%d") == day)
    return float(h.loc[sel, "volume"].sum())


def test_deflection_scales_that_cell_from_its_date_by_the_hand_ratio(tmp_path):
    root = scenario_workspace(tmp_path / "probe")
    day = "2026-03-01"
    review = _history_day(root, day)
    per_content = 0.05 * (0.5 * 1.0 + 0.1 * 0.5)  # flag x ((1 - auto)(1 - deflection) + appeal x auto)
    root = _drivers_ws(tmp_path, f"{day},video,en,{review / per_content:.3f},0.05,0.5,0,0.1\n")
    wi = what_if(root, "deflect", load_workspace(root))
    assert wi.warnings == [] and wi.record["drivers_sha256"]
    fc = wi.adjust(hand_forecast())
    en = cell(fc, "video", "en")
    before = en["interval_start"] < pd.Timestamp("2026-03-04", tz="UTC")
    ratio = (0.5 * 0.7 + 0.1 * 0.5) / (0.5 * 1.0 + 0.1 * 0.5)  # 0.40 / 0.55
    assert en.loc[before, "volume"].eq(40.0).all()
    assert list(en.loc[~before, "volume"]) == pytest.approx([40.0 * ratio] * int((~before).sum()))
    assert cell(fc, "video", "es")["volume"].eq(10.0).all()


def test_drivers_that_do_not_multiply_out_warn_naming_the_cells(tmp_path):
    root = _drivers_ws(tmp_path, "2026-03-01,video,en,1000,0.05,0.5,0,0.1\n")
    wi = what_if(root, "deflect", load_workspace(root))
    assert len(wi.warnings) == 1 and "video/en 2026-03-01: drivers give 28" in wi.warnings[0]
    assert "inputs/drivers.csv" in wi.warnings[0]


@pytest.mark.parametrize("row,message", [
    ("2026-03-01,video,en,1000,0.05,1.4,0,0.1\n", "column 'automation_share': value out of range; expected a share in [0, 1]"),
    ("2026-03-01,vidoe,en,1000,0.05,0.4,0,0.1\n", "column 'queue': unknown queue"),
    ("03/01/2026x,video,en,1000,0.05,0.4,0,0.1\n", "column 'date': not a date"),
])
def test_bad_drivers_are_input_errors_with_row_and_column(tmp_path, row, message):
    from capplan.errors import InputError

    root = _drivers_ws(tmp_path, row)
    with pytest.raises(InputError, match="inputs/drivers.csv, row 2, " + message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
        what_if(root, "deflect", load_workspace(root))


def test_driver_rules_without_drivers_file(tmp_path):
    root = scenario_workspace(tmp_path / "ws", {"deflect": DEFLECT})
    with pytest.raises(ConfigError, match="line 1: .*need inputs/drivers.csv"):
        what_if(root, "deflect", load_workspace(root))


def test_cli_scenarios_with_a_bad_file_solves_and_writes_nothing(tmp_path):
    root = scenario_workspace(tmp_path / "ws", {"surge": SURGE, "bad": "[[volume]]\nmultiplier = -1\n"})
    result = CliRunner().invoke(app, ["scenarios", str(root)])
    assert result.exit_code == 2, result.output
    assert "scenarios/bad.toml, line 2:" in result.output
    assert not (root / "plans").exists() and not (root / "scenario_runs").exists()
    result = CliRunner().invoke(app, ["scenarios", str(scenario_workspace(tmp_path / "empty"))])
    assert result.exit_code == 2 and "no scenarios in" in result.output


def test_the_base_plan_is_reused_when_the_workspace_has_a_budget(tmp_path, monkeypatch):
    # a plan records budget.csv and roster.csv in its run.json beside the workspace tables (pipeline.plan.extra_inputs);
    # the base plan of `capplan scenarios` is the newest plan of the same forecast, inputs and config, so it must compare
    # the same list: with only the workspace tables it never matched and re-planned the base every time
    import json

    import capplan.pipeline.scenarios as sc
    from _ws import make_workspace
    from capplan.inputs import load_workspace
    from capplan.pipeline.common import input_files
    from capplan.pipeline.plan import extra_inputs
    from capplan.timing import StageTimer

    root = make_workspace(tmp_path / "ws")
    (root / "inputs" / "budget.csv").write_text("month,cost_centre,budget,currency\n2026-03,Here,1000,USD\n")
    ws = load_workspace(root)
    recorded = input_files(ws) + extra_inputs(root, []) + [{"table": "capability", "file": "capability/x/estimates.parquet", "sha256": "0"}]
    assert any(i["file"] == "inputs/budget.csv" for i in recorded)
    run = root / "plans" / "20260301T000000Z"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"forecast_run": "F", "config": ws.config.model_dump(mode="json"), "inputs": recorded}))

    def replanned(*args, **kwargs):
        raise AssertionError("the base was planned again")

    monkeypatch.setattr(sc, "run_plan_stage", replanned)
    assert sc._base_plan(root, ws, "F", lambda *a: None, StageTimer()) == (run.name, True)
    (root / "inputs" / "budget.csv").write_text("month,cost_centre,budget,currency\n2026-03,Here,2000,USD\n")  # changed: not this plan
    with pytest.raises(AssertionError, match="planned again"):
        sc._base_plan(root, load_workspace(root), "F", lambda *a: None, StageTimer())
