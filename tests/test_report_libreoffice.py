"""Open the workbooks in a real spreadsheet application (LibreOffice, headless), let it recalculate
every formula, and check the results equal the numbers computed in Python from the tidy tables."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from _report_data import make_context
from capplan.report import write_plan_workbooks

pytestmark = pytest.mark.libreoffice


def _soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        pytest.skip("LibreOffice not installed: apt-get install -y libreoffice-calc-nogui")
    return exe


def _recalculated(paths: list[Path], out: Path) -> dict[str, openpyxl.Workbook]:
    exe = _soffice()
    out.mkdir()
    profile = out.parent / "lo-profile"  # a private profile: parallel runs never share a lock
    cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--convert-to", "xlsx",
           "--outdir", str(out), *map(str, paths)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=240)
    books = {}
    for p in paths:
        converted = out / p.name
        assert converted.exists(), f"LibreOffice did not convert {p.name}"
        books[p.name] = openpyxl.load_workbook(converted, data_only=True)
    return books


def _table(ws, name: str) -> pd.DataFrame:
    """A sheet's first table read back (the whole used range, without the Total row)."""
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    return frame[frame.iloc[:, 0] != "Total"].reset_index(drop=True)


ALIKE = ["Acme", "acme", "A*"]  # vendor names a spreadsheet's SUMIFS would mix up


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict:
    """The plan workbooks, and the finance workbook of three vendors named alike, recalculated by one start of
    LibreOffice (each start costs seconds)."""
    ctx = make_context(plan_days=2)
    base = tmp_path_factory.mktemp("lo")
    paths = write_plan_workbooks(base / "plan", ctx)
    alike = make_context(p90=False, plan_days=2, n_vendors=3, n_pools=4, vendor_names=ALIKE)
    finance = next(p for p in write_plan_workbooks(base / "alike", alike) if p.name == "finance.xlsx")
    alike_finance = finance.rename(finance.with_name("finance_alike.xlsx"))  # one output folder: names must differ
    books = _recalculated([*paths, alike_finance], base / "out")
    return {"ctx": ctx, "paths": paths, "books": books, "alike": alike, "alike_finance": books[alike_finance.name]}


@pytest.fixture(scope="module")
def recalculated(converted):
    return converted["ctx"], converted["paths"], {p.name: converted["books"][p.name] for p in converted["paths"]}


def _same(stored, recalculated) -> bool:
    if stored in (None, "") and recalculated in (None, ""):
        return True
    if isinstance(stored, (int, float)) and isinstance(recalculated, (int, float)):
        return bool(np.isclose(float(stored), float(recalculated), rtol=1e-9, atol=1e-9))
    return stored == recalculated


def test_every_stored_formula_value_is_what_a_spreadsheet_computes(recalculated):
    """Each formula cell's stored value (what pandas and previews show) equals LibreOffice's recalculation."""
    _, paths, books = recalculated
    checked = 0
    for path in paths:
        formulas = openpyxl.load_workbook(path)
        stored = openpyxl.load_workbook(path, data_only=True)
        recalc = books[path.name]
        for sheet in formulas.worksheets:
            for row in sheet.iter_rows():
                for c in row:
                    if c.data_type != "f":
                        continue
                    s, r = stored[sheet.title][c.coordinate].value, recalc[sheet.title][c.coordinate].value
                    assert _same(s, r), (path.name, sheet.title, c.coordinate, c.value, s, r)
                    checked += 1
    assert checked > 1000


def test_planner_formulas_recalculate_to_python_numbers(recalculated):
    ctx, _, books = recalculated
    wb = books["planner.xlsx"]
    sheet = wb["Requirements"]
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    got = pd.DataFrame(rows, columns=header)
    exp = ctx.requirements.sort_values(["queue", "language", "interval_start"]).reset_index(drop=True)
    assert np.allclose(got["workload_hours"].astype(float), exp["volume"] * exp["aht_s"] / 3600, rtol=1e-12)
    assert np.allclose(got["required_paid"].astype(float), exp["required_productive"] / (1 - ctx.config.staffing.shrinkage), rtol=1e-12)

    sp = wb["Shift plan"]
    last = sp.max_row
    assert sp.cell(last, 1).value == "Total"
    sp_header = [c.value for c in sp[1]]
    assert sp.cell(last, sp_header.index("paid_hours_total") + 1).value == pytest.approx(
        (ctx.shift_plan["paid_hours"] * ctx.shift_plan["headcount"]).sum())

    gaps = _table(wb["Coverage gaps"], "tbl_coverage_gaps")
    detail = ctx.coverage.sort_values(["queue", "language", "interval_start"])
    detail = detail[(detail["planned_productive"] < detail["required_productive"]) | (detail["unmet"] > 0)]
    assert len(gaps) == len(detail) > 0
    assert np.allclose(gaps["gap"].astype(float), detail["planned_productive"] - detail["required_productive"])

    va = _table(wb["Vendor allocation"], "tbl_vendor_allocation")
    exp_va = ctx.vendor_allocation.sort_values(["week", "vendor", "queue", "language"]).reset_index(drop=True)
    assert np.allclose(va["cost_per_1000_items"].astype(float), exp_va["cost"] / exp_va["items"] * 1000)
    vendors = _table(wb["Vendors"], "tbl_vendors").set_index("vendor")
    paid = (ctx.shift_plan["paid_hours"] * ctx.shift_plan["headcount"]).groupby(ctx.shift_plan["vendor"]).sum()
    per_week = paid / (ctx.config.planning.plan_days / 7)
    assert np.allclose(vendors["paid_hours_per_week"].astype(float).reindex(per_week.index), per_week.to_numpy())
    limit = ctx.vendors.set_index("vendor")["max_weekly_hours"].reindex(per_week.index)
    util = pd.to_numeric(vendors["utilisation"], errors="coerce").reindex(per_week.index)
    assert np.allclose(util, (per_week / limit).to_numpy(), equal_nan=True)


def test_finance_formulas_recalculate_to_python_numbers(recalculated):
    ctx, _, books = recalculated
    wb = books["finance.xlsx"]
    byv = _table(wb["By vendor"], "tbl_cost_by_vendor")
    va = ctx.vendor_allocation[ctx.vendor_allocation["vendor"] != "inhouse"]
    exp = va.groupby("vendor")[["hours", "items", "cost"]].sum()
    assert np.allclose(byv["cost [USD]"].astype(float), exp["cost"].to_numpy())
    assert np.allclose(byv["productive_hours"].astype(float), exp["hours"].to_numpy())
    sp = ctx.shift_plan[ctx.shift_plan["vendor"] != "inhouse"]
    paid = (sp["paid_hours"] * sp["headcount"]).groupby(sp["vendor"]).sum().sort_index()
    assert np.allclose(byv["paid_hours"].astype(float), paid.to_numpy())
    weeks = ctx.config.planning.plan_days / 7
    assert np.allclose(byv["FTE (average per week)"].astype(float), (paid / (40.0 * weeks)).to_numpy())
    sheet = wb["Cost by week"]
    header = [c.value for c in sheet[1]]
    total = sheet.max_row
    assert sheet.cell(total, header.index("cost [USD]") + 1).value == pytest.approx(ctx.vendor_allocation["cost"].sum())
    p = wb["P50 vs P90"]
    ph = [c.value for c in p[1]]
    assert p.cell(2, ph.index("difference [USD]") + 1).value == pytest.approx(0.15 * exp["cost"].iloc[0])
    assert p.cell(2, ph.index("change") + 1).value == pytest.approx(0.15)


def test_vendor_cost_recalculates_at_own_rates(recalculated):
    ctx, _, books = recalculated
    wb = books["Globex_Services.xlsx"]
    cost = _table(wb["Cost"], "tbl_cost")
    pools = ctx.pools.set_index("pool")
    sp = ctx.shift_plan[ctx.shift_plan["vendor"] == "Globex Services"]
    exp = (sp["paid_hours"] * sp["headcount"]).groupby(sp["pool"]).sum() * pools["cost_per_hour"].reindex(sp["pool"].unique())
    assert np.allclose(cost["cost [EUR]"].astype(float), exp.sort_index().to_numpy())
    assert np.allclose(cost["rate [EUR]"].astype(float), pools.loc[sorted(sp["pool"].unique()), "cost_per_hour"].to_numpy())


def test_exact_vendor_names_recalculate_without_double_counting(converted):
    """Vendors 'Acme', 'acme' and 'A*': a spreadsheet's SUMIFS would mix them; SUMPRODUCT(EXACT) does not."""
    ctx = converted["alike"]
    byv = _table(converted["alike_finance"]["By vendor"], "tbl_cost_by_vendor").set_index("vendor")
    exp = ctx.vendor_allocation.groupby("vendor")["cost"].sum()
    for vendor in ALIKE:
        assert float(byv.loc[vendor, "cost [USD]"]) == pytest.approx(exp[vendor])
