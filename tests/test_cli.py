"""The CLI contract: --help everywhere, one-line errors, exit codes, no tracebacks.

Most checks run the program in this process (``_cli.capplan``); the tests marked "a real process" run
``python -m capplan.cli.main`` as a user does."""

from __future__ import annotations

import pytest

from _cli import capplan, capplan_process
from _ws import make_workspace

COMMANDS = ["init", "validate", "demo", "forecast", "plan", "erlang"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    res = capplan(command, "--help")
    assert res.returncode == 0, res.stderr
    assert "Usage" in res.stdout


def test_help_of_the_installed_program():
    """A real process, through ``python -m capplan`` (the package's __main__)."""
    res = capplan_process("--help", module="capplan")
    assert res.returncode == 0, res.stderr
    assert "Usage" in res.stdout and all(c in res.stdout for c in COMMANDS)


def test_validate_ok_and_errors(tmp_path):
    good = make_workspace(tmp_path / "good")
    res = capplan("validate", good)
    assert res.returncode == 0, res.stderr
    assert "inputs valid" in res.stdout

    bad = make_workspace(tmp_path / "bad", vendors="vendor,min_weekly_hours,max_weekly_hours,max_language_share,quality,currency\nbpo1,6000,5000,0.8,0.9,USD\n")
    res = capplan("validate", bad)
    assert res.returncode == 2
    assert "inputs/vendors.csv, row 2, column 'min_weekly_hours'" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_bad_input_in_a_stage_gives_one_line_and_no_run_folder(tmp_path):
    """A real process: stderr holds the one error line and nothing else (no warning, no traceback)."""
    ws = make_workspace(tmp_path, queues="queue,kind,target,within,severity,egregious,patience\nvideo,deferred,1.7,4h,1,yes,\nlive,realtime,0.8,60s,1,no,3m\n")
    res = capplan_process("forecast", ws)
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: inputs/queues.csv, row 2, column 'target'")
    assert "Traceback" not in res.stderr
    assert not (ws / "forecasts").exists() or not any((ws / "forecasts").iterdir())


def test_missing_workspace_and_config(tmp_path):
    res = capplan("validate", tmp_path / "nowhere")
    assert res.returncode == 2 and "no such workspace folder" in res.stderr
    res = capplan("validate", tmp_path)
    assert res.returncode == 2 and "no capplan.toml" in res.stderr


def test_plan_without_forecast_is_a_clear_error(tmp_path):
    ws = make_workspace(tmp_path)
    res = capplan("plan", ws)
    assert res.returncode == 2
    assert "no forecast run" in res.stderr and "Traceback" not in res.stderr


def test_init_creates_a_workspace_that_validate_explains(tmp_path):
    ws = tmp_path / "new"
    res = capplan("init", ws)
    assert res.returncode == 0, res.stderr
    assert (ws / "capplan.toml").exists() and (ws / "inputs" / "pools.csv").exists()
    res = capplan("validate", ws)  # blank CSVs: the workbook template (with its example rows) is read
    assert res.returncode == 2
    assert "capplan-inputs.xlsx, sheet 'pools', row 2, column 'currency'" in res.stderr
    (ws / "capplan-inputs.xlsx").unlink()
    res = capplan("validate", ws)
    assert res.returncode == 2
    assert "inputs/history.csv, row 2: no data rows" in res.stderr
    res = capplan("init", ws)
    assert res.returncode == 2 and "not empty" in res.stderr


def test_demo_never_overwrites(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("mine")
    res = capplan("demo", tmp_path / "d", "--size", "small", "--no-run")
    assert res.returncode == 2 and "not empty" in res.stderr
    assert (tmp_path / "d" / "notes.txt").read_text() == "mine"
