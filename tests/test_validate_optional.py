"""capplan validate also checks the optional inputs (budget.csv, roster.csv, drivers.csv), all problems at once.

Tiny hand-written workspaces (tests/_ws.py); each malformed file has known bad cells, so the expected
problems (file, row, column) are listed by hand.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from _ws import make_workspace
from capplan.cli.main import app
from capplan.errors import InputError
from capplan.inputs.budget import read_budget
from capplan.pipeline.validate import validate_workspace

BAD_BUDGET = ("month,cost_centre,budget,currency\n"
              "2026-03,Dublin,1000,EUR\n"
              "2026-13,Dublin,1000,EUR\n"  # row 3: not a month
              "2026-04,Atlantis,-5,EUR\n"  # row 4: unknown cost centre, negative budget
              "2026-05,bpo1,100,XYZ\n")  # row 5: no FX rate
BAD_ROSTER = ("pool,headcount,class_start\n"
              "dub-ih,30,\n"
              "nowhere,3,\n"  # row 3: unknown pool
              "mnl-b1,5,2026-04-06\n"  # row 4: a hiring class for a vendor pool
              "dub-ih,2.5,2026-04-06\n")  # row 5: fractional headcount
BAD_DRIVERS = ("date,queue,language,content_volume,flag_rate,automation_share,deflection_share,appeal_rate\n"
               "2026-03-02,video,en,1000,0.5,0.2,0.1,0.05\n"
               "2026-03-03,video,en,1000,1.5,0.2,0.1,0.05\n"  # row 3: flag_rate above 1
               "not-a-day,video,en,1000,0.5,0.2,0.1,0.05\n"  # row 4: not a date
               "2026-03-02,chess,en,1000,0.5,0.2,0.1,0.05\n")  # row 5: unknown queue


def _where(problems) -> set[tuple[str, int | None, str | None]]:
    return {(p.file, p.row, p.column) for p in problems if p.severity == "error"}


@pytest.fixture(scope="module")
def bad_optional(tmp_path_factory):
    return make_workspace(tmp_path_factory.mktemp("ws"), budget=BAD_BUDGET, roster=BAD_ROSTER, drivers=BAD_DRIVERS)


def test_every_optional_file_is_checked_with_file_row_and_column(bad_optional):
    result = validate_workspace(bad_optional)
    assert result.workspace is not None  # the required inputs are fine
    assert result.optional_checked == ["inputs/budget.csv", "inputs/roster.csv", "inputs/drivers.csv"]
    where = _where(result.problems)
    assert {("inputs/budget.csv", 3, "month"), ("inputs/budget.csv", 4, "cost_centre"), ("inputs/budget.csv", 4, "budget"),
            ("inputs/budget.csv", 5, "currency")} <= where
    assert {("inputs/roster.csv", 3, "pool"), ("inputs/roster.csv", 4, "class_start"), ("inputs/roster.csv", 5, "headcount")} <= where
    assert {("inputs/drivers.csv", 3, "flag_rate"), ("inputs/drivers.csv", 4, "date"), ("inputs/drivers.csv", 5, "queue")} <= where
    assert all(p.fix for p in result.problems), [str(p) for p in result.problems if not p.fix]  # every problem says how to fix it
    assert ("inputs/budget.csv", 2, None) not in where and not any(r == 2 for f, r, _ in where if f != "inputs/drivers.csv")


def test_the_readers_used_by_the_commands_are_unchanged(bad_optional):
    """read_budget still raises for the same file (capacity and plan stop on it as before)."""
    with pytest.raises(InputError) as info:
        read_budget(bad_optional, cost_centres={"Dublin", "bpo1"}, fx={"USD": 1.0, "EUR": 1.08})
    assert ("inputs/budget.csv", 3, "month") in _where(info.value.problems)


def test_cli_lists_optional_problems_and_exits_2(bad_optional):
    res = CliRunner().invoke(app, ["validate", str(bad_optional)])
    assert res.exit_code == 2
    text = res.output
    for expected in ("inputs/budget.csv, row 3, column 'month'", "inputs/roster.csv, row 3, column 'pool'",
                     "inputs/drivers.csv, row 5, column 'queue'"):
        assert expected in text
    assert "Traceback" not in text


def test_required_errors_and_optional_errors_are_listed_together(tmp_path):
    """With an error in vendors.csv the optional files are still checked, against the raw names."""
    ws = make_workspace(tmp_path, budget=BAD_BUDGET, roster=BAD_ROSTER,
                        vendors="vendor,min_weekly_hours,max_weekly_hours,max_language_share,quality,currency\n"
                                "bpo1,6000,5000,0.8,0.9,USD\n")
    result = validate_workspace(ws)
    assert result.workspace is None
    where = _where(result.problems)
    assert ("inputs/vendors.csv", 2, "min_weekly_hours") in where
    assert {("inputs/budget.csv", 3, "month"), ("inputs/budget.csv", 4, "cost_centre"), ("inputs/roster.csv", 3, "pool")} <= where
    assert ("inputs/budget.csv", 5, "cost_centre") not in where  # bpo1 is a vendor, read from the raw table


def test_unreadable_reference_table_is_a_warning_not_a_guess(tmp_path):
    ws = make_workspace(tmp_path, roster=BAD_ROSTER, pools=None)
    result = validate_workspace(ws)
    assert result.workspace is None
    notes = [p for p in result.problems if p.file == "inputs/roster.csv"]
    assert len(notes) == 1 and notes[0].severity == "warning" and "not checked" in notes[0].message


def test_valid_optional_files_pass_and_are_named(tmp_path):
    ws = make_workspace(tmp_path, budget="month,cost_centre,budget,currency\n2026-03,Dublin,1000,EUR\n2026-03,bpo1,900,USD\n",
                        roster="pool,headcount,class_start\ndub-ih,30,\ndub-ih,4,2026-04-06\n")
    result = validate_workspace(ws)
    assert result.workspace is not None and not [p for p in result.problems if p.severity == "error"]
    assert result.optional_checked == ["inputs/budget.csv", "inputs/roster.csv"]
    res = CliRunner().invoke(app, ["validate", str(ws)])
    assert res.exit_code == 0, res.output
    assert "also checked inputs/budget.csv, inputs/roster.csv" in " ".join(res.output.split())  # the console wraps lines
