"""templates/: blank CSVs, commented config and the Excel input workbook never drift from the code."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from openpyxl import load_workbook

from capplan.config import parse_config
from capplan.inputs.templates import EXAMPLES, INSTRUCTIONS_SHEET, TEMPLATE_START, WORKBOOK_FILE, write_templates
from capplan.schema import INPUT_TABLES, TABLES_BY_NAME

REPO_TEMPLATES = Path(__file__).parents[1] / "templates"
PARSE_MESSAGES = ("not a number", "not yes/no", "not a duration", "not a time of day", "not a list of weekdays",
                  "empty cell", "not a whole number", "not a timestamp", "below the minimum", "above the maximum")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("templates")
    write_templates(out)
    return out


def _values(path: Path) -> dict[str, list[tuple]]:
    wb = load_workbook(path)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def _validations(path: Path) -> dict[str, list[tuple]]:
    wb = load_workbook(path)
    return {ws.title: sorted((str(dv.sqref), dv.type, dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation)
            for ws in wb.worksheets}


def test_committed_templates_match_a_fresh_generation(fresh):
    """Regenerate with `PYTHONPATH=src python3 -c "from capplan.inputs.templates import write_templates; write_templates('templates')"`."""
    for spec in INPUT_TABLES:
        name = f"inputs/{spec.name}.csv"
        assert (REPO_TEMPLATES / name).read_text() == (fresh / name).read_text(), name
    assert (REPO_TEMPLATES / "capplan.toml").read_text() == (fresh / "capplan.toml").read_text()
    assert _values(REPO_TEMPLATES / WORKBOOK_FILE) == _values(fresh / WORKBOOK_FILE)
    assert _validations(REPO_TEMPLATES / WORKBOOK_FILE) == _validations(fresh / WORKBOOK_FILE)


def test_csv_templates_are_the_headers(fresh):
    for spec in INPUT_TABLES:
        assert (fresh / "inputs" / f"{spec.name}.csv").read_text() == ",".join(spec.column_names) + "\n"


def test_toml_template_is_the_default_config_with_a_fixed_start(fresh):
    raw = tomllib.loads((fresh / "capplan.toml").read_text())
    config = parse_config(raw)
    assert config.planning.start == TEMPLATE_START and TEMPLATE_START.weekday() == 0
    assert config.staffing.shrinkage == 0.30 and config.planning.horizon_days == 28


def test_workbook_sheets_headers_and_examples(fresh):
    wb = load_workbook(fresh / WORKBOOK_FILE)
    assert wb.sheetnames == [INSTRUCTIONS_SHEET] + [t.name for t in INPUT_TABLES]
    for spec in INPUT_TABLES:
        ws = wb[spec.name]
        rows = list(ws.iter_rows(values_only=True))
        assert list(rows[0]) == spec.column_names
        assert 2 <= len(rows) - 1 <= 3 and len(rows) - 1 == len(EXAMPLES[spec.name])
        assert ws.freeze_panes == "A2"
    # numbers are numbers, codes stay text
    q = list(wb["queues"].iter_rows(min_row=2, max_row=2, values_only=True))[0]
    assert q[:7] == ("video", "deferred", 0.9, "4h", 2, "yes", None) and set(q[7:]) <= {None}
    s = list(wb["shifts"].iter_rows(min_row=2, max_row=2, values_only=True))[0]
    assert s == ("day", "08:00", 8, 30, 5, "Mon-Sun")


def test_workbook_dropdowns(fresh):
    wb = load_workbook(fresh / WORKBOOK_FILE)
    by_col = {}
    for ws in wb.worksheets[1:]:
        header = [c.value for c in ws[1]]
        for dv in ws.data_validations.dataValidation:
            letter = str(dv.sqref).split(":")[0].rstrip("0123456789")
            by_col[(ws.title, header[ord(letter) - ord("A")])] = dv
    kind = by_col["queues", "kind"]
    assert kind.type == "list" and kind.formula1 == '"deferred,realtime"'
    assert by_col["queues", "egregious"].formula1 == '"yes,no"'
    assert by_col["queues", "severity"].formula1 == '"1,2,3"'
    assert by_col["shifts", "days_per_week"].formula1 == '"1,2,3,4,5,6,7"'
    assert (by_col["queues", "target"].type, by_col["queues", "target"].formula1, by_col["queues", "target"].formula2) == ("decimal", "0", "1")
    assert by_col["history", "volume"].operator == "greaterThanOrEqual"
    for dv in by_col.values():
        assert not dv.showDropDown  # True would hide the arrow (inverted flag)
        assert str(dv.sqref).endswith("1048576")
    assert ("pools", "timezone") not in by_col  # free text columns have no validation


def test_instructions_describe_every_column(fresh):
    wb = load_workbook(fresh / WORKBOOK_FILE)
    rows = list(wb[INSTRUCTIONS_SHEET].iter_rows(values_only=True))
    listed = {(r[0], r[1]) for r in rows if r and r[1]}
    for spec in INPUT_TABLES:
        for col in spec.columns:
            assert (spec.name, col.name) in listed
    meaning = {(r[0], r[1]): r[4] for r in rows if r and r[1]}
    assert meaning["queues", "within"] == TABLES_BY_NAME["queues"].column("within").description


def test_example_rows_parse_cleanly_through_the_loader(fresh, tmp_path):
    """The examples are typed correctly; only cross-table facts (one-row history, FX) remain to fix."""
    from capplan.inputs import check_workspace

    (tmp_path / WORKBOOK_FILE).write_bytes((fresh / WORKBOOK_FILE).read_bytes())
    (tmp_path / "capplan.toml").write_text((fresh / "capplan.toml").read_text())
    ws, problems = check_workspace(tmp_path)
    parse_problems = [str(p) for p in problems if any(m in p.message for m in PARSE_MESSAGES)]
    assert parse_problems == []
    assert all(p.file.startswith(WORKBOOK_FILE) for p in problems)
