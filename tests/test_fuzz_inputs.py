"""Property-based fuzz test of the input layer (issue 13).

Random tables from the input schema (``capplan.schema``: every column's kind, range and choices),
starting from the tiny valid workspace of ``_ws`` and changed cell by cell, with injected faults:
bad cells (empty, text, NaN, infinities, formulas, control characters, case variants, decimal commas,
out-of-range numbers), duplicated rows, dropped or misspelled columns, ``;`` separators, ragged rows.

The property: every run of the CLI ends in exit 0 (and, for ``plan``, a plan that passes
:func:`capplan.optimize.check.check_plan`), exit 2 with messages naming the file and the row or column,
or exit 3 with ``--strict`` when work is unmet; never exit 1 (a crash). Derandomized (tests/conftest.py)
and bounded: ``CAPPLAN_FUZZ_EXAMPLES`` raises the number of examples (default 25 validate runs and 2 plans).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from _ws import TABLES, make_workspace
from capplan.cli.main import app
from capplan.schema import TABLES_BY_NAME

N = int(os.environ.get("CAPPLAN_FUZZ_EXAMPLES", "0"))
BAD_CELLS = ["", "abc", "-1", "1e400", "NaN", "inf", "=1+1", "-x", "@x", "+x", "\tx", "a\rb", "Video", "EN", "1,5", "0",
             "99999999999", "Zürich", "x" * 300, "2026-13-45", "08:61", "Mon-Fry", "4", "yes;no", "*"]
LOCATED = re.compile(r"^(?:warning|error): (?:inputs/\S+|capplan\.toml|capplan-inputs\.xlsx)[^:]*?(?:, (?:row|line) \d+|, column '[^']+')")
FILE_LEVEL = ("file missing", "file is empty", "no inputs folder", "columns are separated", "separator hint", "has no header")
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]  # no shrinking: a failure is reported as found, in bounded time
PLAN_TABLES = ("queues", "handle_times", "pools", "vendors", "shifts")  # the forecast depends on history and events only


def _valid_value(draw, column) -> str:
    kind = column.kind
    if kind in {"float", "int"}:
        lo = column.min if column.min is not None else 0.0
        hi = column.max if column.max is not None else max(lo * 4, 100.0)
        value = draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))
        return str(int(value)) if kind == "int" else f"{value:.3g}"
    if column.choices:
        return draw(st.sampled_from(column.choices))
    if kind == "bool":
        return draw(st.sampled_from(["yes", "no", "Y", "0"]))
    if kind == "duration":
        return draw(st.sampled_from(["30s", "90s", "5m", "2h", "24h"]))
    if kind == "time":
        return f"{draw(st.integers(0, 23)):02d}:{draw(st.sampled_from([0, 30])):02d}"
    if kind == "days":
        return draw(st.sampled_from(["Mon-Sun", "Mon-Fri", "Sat,Sun", "daily"]))
    return None  # names, lists and timestamps keep their valid value (references must still match)


@st.composite
def mutated_table(draw, name: str, text: str) -> str:
    """One table of the tiny workspace with random valid changes and random faults."""
    spec = TABLES_BY_NAME[name]
    lines = text.rstrip("\n").split("\n")
    header, rows = lines[0].split(","), [line.split(",") for line in lines[1:]]
    for _ in range(draw(st.integers(0, 3))):  # valid changes from the schema
        if rows:
            r, c = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(header) - 1))
            value = _valid_value(draw, spec.column(header[c])) if header[c] in spec.column_names else None
            if value is not None:
                rows[r][c] = value
    fault = draw(st.sampled_from(["none", "cell", "cell", "cell", "duplicate", "drop_column", "rename_column", "semicolons",
                                  "ragged", "no_rows"]))
    if fault == "cell" and rows:
        r, c = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(header) - 1))
        rows[r][c] = draw(st.sampled_from(BAD_CELLS))
    elif fault == "duplicate" and rows:
        rows.append(list(rows[draw(st.integers(0, len(rows) - 1))]))
    elif fault == "drop_column":
        c = draw(st.integers(0, len(header) - 1))
        header, rows = header[:c] + header[c + 1:], [row[:c] + row[c + 1:] for row in rows]
    elif fault == "rename_column":
        c = draw(st.integers(0, len(header) - 1))
        header = header[:c] + [header[c].title().replace("_", " ")] + header[c + 1:]
    elif fault == "ragged" and rows:
        rows[draw(st.integers(0, len(rows) - 1))].append("extra")
    elif fault == "no_rows":
        rows = []
    sep = ";" if fault == "semicolons" else ","
    return "\n".join(sep.join(_quote(v) for v in row) for row in [header] + rows) + "\n"


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(ch in value for ch in ',"\r\n') else value


@st.composite
def workspaces(draw, tables=tuple(TABLES)) -> dict[str, str]:
    chosen = draw(st.lists(st.sampled_from(tables), min_size=1, max_size=3, unique=True))
    return {name: draw(mutated_table(name, TABLES[name])) for name in chosen}


def _check_output(result, strict: bool = False) -> None:
    """The property for one run."""
    text = result.output
    assert result.exit_code != 1, f"crash (exit 1):\n{text}"
    assert result.exit_code in ({0, 2, 3} if strict else {0, 2}), f"exit {result.exit_code}:\n{text}"
    assert "Traceback" not in text and "unexpected error" not in text, text
    if result.exit_code == 2:
        errors = [line for line in text.splitlines() if line.startswith("error:") and "error(s)" not in line]
        assert errors, text
        for line in errors:
            assert any(f in line for f in FILE_LEVEL) or LOCATED.match(line), f"error without file and row/column: {line}"
            assert "Fix:" in line, f"error without a fix: {line}"


@settings(max_examples=N or 25, suppress_health_check=list(HealthCheck), phases=PHASES)
@given(overrides=workspaces())
def test_fuzzed_inputs_validate_cleanly(tmp_path_factory, overrides):
    root = make_workspace(tmp_path_factory.mktemp("fz") / "ws", **overrides)
    result = CliRunner().invoke(app, ["--verbose", "validate", str(root)])
    _check_output(result)


# --- through the plan --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def forecasted(tmp_path_factory) -> Path:
    from capplan.pipeline import run_forecast_stage

    root = make_workspace(tmp_path_factory.mktemp("fzp") / "ws")
    text = (root / "capplan.toml").read_text()
    text = text.replace('models = ["seasonal_naive", "seasonal_mean", "daily_ets", "daily_shift", "mstl", "croston", "combo"]', 'models = ["seasonal_naive"]')
    text = text.replace("backtest_windows = 6", "backtest_windows = 1").replace("plan_days = 7", "plan_days = 2")
    text = text.replace("time_limit_s = 300.0", "time_limit_s = 20.0")
    (root / "capplan.toml").write_text(text)
    run_forecast_stage(root)
    return root


@settings(max_examples=N // 10 or 2, suppress_health_check=list(HealthCheck), phases=PHASES)
@given(overrides=workspaces(PLAN_TABLES), strict=st.booleans())
def test_fuzzed_inputs_plan_cleanly(forecasted, tmp_path_factory, monkeypatch, overrides, strict):
    import capplan.optimize as optimize
    from capplan.optimize.check import check_plan

    root = tmp_path_factory.mktemp("fzp") / "ws"
    shutil.copytree(forecasted, root)
    for name, text in overrides.items():
        (root / "inputs" / f"{name}.csv").write_text(text, encoding="utf-8")
    solved = []
    real = optimize.solve_plan

    def checked(ws, requirements, **kw):
        result = real(ws, requirements, **kw)
        solved.append((ws, requirements, result))
        return result

    with monkeypatch.context() as m:
        m.setattr(optimize, "solve_plan", checked)
        result = CliRunner().invoke(app, ["plan", str(root), *(["--strict"] if strict else [])])
    _check_output(result, strict=strict)
    if result.exit_code in (0, 3):
        for ws, requirements, plan in solved:
            assert check_plan(ws, requirements, plan) == []
