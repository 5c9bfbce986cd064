"""``capplan erlang``: the calculator command, through the real ``capplan`` app."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from capplan.cli.main import app
from capplan.units import format_duration, parse_duration

runner = CliRunner()
TEXTBOOK = ["erlang", "--volume", "100", "--interval", "30m", "--aht", "180s", "--target", "0.8", "--within", "20s"]


def test_textbook_table():
    result = runner.invoke(app, TEXTBOOK)
    assert result.exit_code == 0, result.output
    assert "14" in result.stdout and "88.8%" in result.stdout and "Erlang C" in result.stdout
    assert "71.4%" in result.stdout  # occupancy


def test_json_is_one_object_with_the_contract_keys():
    result = runner.invoke(app, TEXTBOOK + ["--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"agents", "service_level", "asa_s", "occupancy", "abandon_rate"} <= set(data)
    assert data["agents"] == 14
    assert round(data["service_level"], 3) == 0.888
    assert data["abandon_rate"] == 0.0
    assert data["method"] == "erlang_c"
    assert data["offered_load"] == pytest.approx(10.0)


def test_patience_switches_to_erlang_a():
    result = runner.invoke(app, TEXTBOOK + ["--patience", "5m", "--json"])
    data = json.loads(result.stdout)
    assert data["method"] == "erlang_a" and data["patience_s"] == 300.0
    assert data["agents"] == 13  # abandonment relieves the queue
    assert 0 < data["abandon_rate"] < 0.05
    table = runner.invoke(app, TEXTBOOK + ["--patience", "5m"])
    assert "Erlang A" in table.stdout and "abandonment" in table.stdout


def test_occupancy_cap_and_asa_target():
    capped = json.loads(runner.invoke(app, TEXTBOOK + ["--max-occupancy", "0.6", "--json"]).stdout)
    assert capped["agents"] == 17 and capped["occupancy"] <= 0.6  # ceil(10 / 0.6)
    fast = json.loads(runner.invoke(app, TEXTBOOK + ["--asa", "3s", "--json"]).stdout)
    assert fast["agents"] > 14 and fast["asa_s"] <= 3


def test_zero_volume():
    data = json.loads(runner.invoke(app, ["erlang", "--volume", "0", "--aht", "3m", "--target", "0.8", "--within", "20s", "--json"]).stdout)
    assert data["agents"] == 0 and data["service_level"] == 1.0


@pytest.mark.parametrize("args,needle", [
    (["--aht", "180"], "--aht"),
    (["--within", "soon"], "--within"),
    (["--target", "80"], "0.8"),
    (["--target", "1"], "--target"),
    (["--volume", "-5"], "--volume"),
    (["--max-occupancy", "1.5"], "--max-occupancy"),
    (["--patience", "0s"], "--patience"),
    (["--interval", "0m"], "--interval"),
])
def test_bad_values_exit_2_with_one_line_on_stderr(args, needle):
    argv = list(TEXTBOOK)
    for i in range(0, len(args), 2):
        if args[i] in argv:
            argv[argv.index(args[i]) + 1] = args[i + 1]
        else:
            argv += args[i : i + 2]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "error" in lines[0]


def test_help():
    result = runner.invoke(app, ["erlang", "--help"])
    assert result.exit_code == 0
    assert "--patience" in result.stdout and "--json" in result.stdout


def test_parse_duration():
    assert parse_duration("20s") == 20
    assert parse_duration("30m") == 1800
    assert parse_duration("4h") == 14400
    assert parse_duration(" 1.5 h ") == 5400
    assert parse_duration("1h30m") == 5400
    assert parse_duration("90 seconds") == 90
    assert parse_duration("2d") == 172800
    assert parse_duration("5M") == 300
    for bad in ("", "20", "-5m", "5 parsecs", "h", "1h 30", None):
        with pytest.raises(ValueError):
            parse_duration(bad)
    with pytest.raises(ValueError, match="has no unit"):
        parse_duration("20")


def test_format_duration():
    assert [format_duration(s) for s in (20, 180, 5400, 14400, 7.84)] == ["20s", "3m", "1h30m", "4h", "7.84s"]
