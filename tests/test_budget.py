"""The optional inputs/budget.csv as the finance workbook reads it (one reader and format, shared with capacity)."""

from __future__ import annotations

import pandas as pd
import pytest

from _ws import make_workspace
from capplan.errors import InputError
from capplan.inputs import load_workspace
from capplan.inputs.budget import finance_budget

HEADER = "month,cost_centre,budget,currency\n"


def _ws(tmp_path, budget: str | None):
    root = make_workspace(tmp_path)
    if budget is not None:
        (root / "inputs" / "budget.csv").write_text(HEADER + budget, encoding="utf-8")
    return root, load_workspace(root)


def test_no_budget_file_is_an_empty_table(tmp_path):
    root, ws = _ws(tmp_path, None)
    assert finance_budget(root, ws).empty


def test_sites_count_toward_inhouse_vendors_keep_their_name_in_reporting_currency(tmp_path):
    # tiny workspace: Dublin is the in-house site (EUR at 1.08 USD), bpo1 a vendor; reporting currency USD
    root, ws = _ws(tmp_path, "2026-03,Dublin,1000,EUR\n2026-03,bpo1,500,USD\n2026-04,bpo1,700,USD\n")
    b = finance_budget(root, ws)
    got = {(m.month, v): a for m, v, a in zip(b["month"], b["vendor"], b["amount"])}
    assert got == {(3, "inhouse"): pytest.approx(1080.0), (3, "bpo1"): 500.0, (4, "bpo1"): 700.0}
    assert set(b["currency"]) == {"USD"} and b["month"].min() == pd.Timestamp("2026-03-01")


def test_budget_errors_name_file_row_and_column(tmp_path):
    root, ws = _ws(tmp_path, "2026-13,Dublin,1,EUR\n2026-03,ghost,5,USD\n")
    with pytest.raises(InputError) as info:
        finance_budget(root, ws)
    found = {(p.row, p.column) for p in info.value.problems}
    assert all(p.file == "inputs/budget.csv" for p in info.value.problems)
    assert (2, "month") in found and (3, "cost_centre") in found
