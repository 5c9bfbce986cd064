"""The optional inputs/budget.csv reader: typed rows, and errors naming file, row and column."""

from __future__ import annotations

import pandas as pd
import pytest

from capplan.config import Config
from capplan.errors import InputError
from capplan.inputs.budget import read_budget


def _write(tmp_path, text: str):
    (tmp_path / "inputs").mkdir(exist_ok=True)
    (tmp_path / "inputs" / "budget.csv").write_text(text)
    return tmp_path


def _config() -> Config:
    config = Config()
    config.policy.fx = {"USD": 1.0, "EUR": 1.08}
    return config


def test_no_budget_file_is_an_empty_table(tmp_path):
    assert read_budget(tmp_path, _config()).empty


def test_budget_rows_are_typed(tmp_path):
    root = _write(tmp_path, "month,vendor,amount,currency\n2026-01,,50000,USD\n2026-02-01,bpo1,1200.5,EUR\n")
    b = read_budget(root, _config(), pd.Series(["bpo1"]))
    assert b["month"].tolist() == [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")]
    assert b["vendor"].tolist() == ["", "bpo1"] and b["amount"].tolist() == [50000.0, 1200.5]


def test_budget_errors_name_file_row_and_column(tmp_path):
    root = _write(tmp_path, "month,vendor,amount,currency\n2026-13,,50000,USD\n2026-02,ghost,-5,GBP\n2026-03,,1,USD\n2026-03,,2,USD\n")
    with pytest.raises(InputError) as info:
        read_budget(root, _config(), pd.Series(["bpo1"]))
    found = {(p.row, p.column, p.message) for p in info.value.problems}
    assert all(p.file == "inputs/budget.csv" for p in info.value.problems)
    assert (2, "month", "not a month") in found
    assert (3, "vendor", "unknown vendor") in found
    assert (3, "currency", "currency without an exchange rate") in found
    assert any(r == 3 and c == "amount" for r, c, _ in found)
    assert (5, "month", "month and vendor given twice") in found
