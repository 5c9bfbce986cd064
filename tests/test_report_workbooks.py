"""Plan and forecast workbooks, tested by reading them back (STYLE.md point 12)."""

from __future__ import annotations

import functools
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from _report_data import make_context
from capplan.report import planner, roster, tidy, write_forecast_workbook, write_plan_workbooks, xlsx
from capplan.report.finance import write_finance
from capplan.report.vendor import write_vendor

INVALID_TITLE = re.compile(r"[\[\]:*?/\\]")
NAME_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


@pytest.fixture(scope="module")
def ctx():
    return make_context()


@pytest.fixture(scope="module")
def written(ctx, tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    paths = write_plan_workbooks(out, ctx)
    return out, paths


def load(path: Path, **kw):
    """The workbook as openpyxl reads it; each file and mode is parsed once (the tests only read workbooks, and the
    planner workbook takes seconds to parse: it was parsed ten times)."""
    stat = Path(path).stat()
    return _load(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size, tuple(sorted(kw.items())))


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, size: int, kw: tuple):
    return openpyxl.load_workbook(path, **dict(kw))


def table_frame(ws, table_name: str) -> pd.DataFrame:
    """An Excel table read back as a DataFrame (header row -> columns)."""
    ref = ws.tables[table_name].ref
    rows = [[c.value for c in row] for row in ws[ref]]
    return pd.DataFrame(rows[1:], columns=rows[0])


def find_table(wb, name: str):
    for ws in wb.worksheets:
        if name in ws.tables:
            return ws
    raise AssertionError(f"table {name} not found")


def test_files_written(written):
    out, paths = written
    names = [p.relative_to(out).as_posix() for p in paths]
    assert names == ["planner.xlsx", "finance.xlsx", "vendors/Acme_Outsourcing.xlsx", "vendors/Globex_Services.xlsx"]
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)


def test_structure_of_every_workbook(written):
    """Valid unique sheet titles, unique valid table names, frozen headers and print setup on table sheets."""
    _, paths = written
    for path in paths:
        wb = load(path)
        titles = wb.sheetnames
        assert len({t.lower() for t in titles}) == len(titles)
        tables = []
        for ws in wb.worksheets:
            assert len(ws.title) <= 31 and not INVALID_TITLE.search(ws.title), ws.title
            assert ws.sheet_state == "visible"
            tables += list(ws.tables)
            if ws.tables and ws.title != "README":
                assert ws.freeze_panes is not None, (path.name, ws.title)
                assert ws.page_setup.orientation == "landscape"
                assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
                assert ws.column_dimensions["A"].width and ws.column_dimensions["A"].width >= 8
        assert len({t.lower() for t in tables}) == len(tables), path.name
        assert all(NAME_OK.match(t) for t in tables)
        for name in wb.defined_names:
            assert NAME_OK.match(name), name
        assert wb.properties.creator == "capplan"


def test_planner_sheets_names_and_formulas(written, ctx):
    wb = load(written[0] / "planner.xlsx")
    assert wb.sheetnames == ["README", "Weekly summary", "Assumptions", "Forecast", "Forecast weekly", "Forecast charts", "Requirements",
                             "Shift plan", "Headcount", "Coverage", "Coverage gaps", "Vendors", "Vendor allocation", "Shortfalls", "Issues"]
    names = set(wb.defined_names)
    assert {"shrinkage", "max_occupancy", "deferred_max_utilisation", "fx_EUR", "fx_PHP", "fx_USD", "target_video",
            "within_s_video", "rate_lis_p2", "rate_man_p1"} <= names
    assert wb.defined_names["shrinkage"].attr_text.replace("'", "") == "Assumptions!$B$2"
    assert wb["Assumptions"]["B2"].value == pytest.approx(ctx.config.staffing.shrinkage)

    ws = wb["Requirements"]
    header = [c.value for c in ws[1]]
    assert header[:6] == ["queue", "language", "interval_start (UTC)", "volume", "aht_s [s]", "workload_hours"]
    col = {h: i + 1 for i, h in enumerate(header)}
    assert ws.cell(2, col["workload_hours"]).value == "=D2*E2/3600"
    assert ws.cell(2, col["required_paid"]).value == "=J2/(1-shrinkage)"
    assert ws.freeze_panes == "D2"
    assert ws.cell(2, col["interval_start (UTC)"]).number_format == "yyyy-mm-dd hh:mm"

    # the numbers are the tidy table's, sorted by cell and interval, times as naive UTC
    got = table_frame(ws, "tbl_requirements")
    exp = ctx.requirements.sort_values(["queue", "language", "interval_start"]).reset_index(drop=True)
    assert got["volume"].tolist() == exp["volume"].tolist()
    assert got["required_productive"].tolist() == exp["required_productive"].tolist()
    assert list(pd.to_datetime(got["interval_start (UTC)"])) == list(exp["interval_start"].dt.tz_localize(None))

    sp = wb["Shift plan"]
    sp_header = [c.value for c in sp[1]]
    total_row = sp.max_row
    assert sp.cell(total_row, 1).value == "Total"
    hc = sp_header.index("headcount") + 1
    assert sp.cell(total_row, hc).value == f"=SUM({openpyxl.utils.get_column_letter(hc)}2:{openpyxl.utils.get_column_letter(hc)}{total_row - 1})"
    assert sum(sp.cell(r, hc).value for r in range(2, total_row)) == ctx.shift_plan["headcount"].sum()

    cov = wb["Coverage"]
    assert cov.freeze_panes == "C2"
    status = tidy.status_grid(tidy.coverage_status(ctx.coverage, ctx.queues))
    fills: dict[str, set] = {}
    for i in range(len(status)):
        for j, col in enumerate(status.columns[2:]):
            fills.setdefault(status.iloc[i][col], set()).add(cov.cell(2 + i, 3 + j).fill.fgColor.rgb)
    # deliberate deferral (backlog within deadline) is not coloured as a shortfall
    assert fills[tidy.SHORTFALL] == {"FFF8696B"} and fills[tidy.DEFERRED] == {"FFDDEBF7"} and fills[tidy.MET] == {"00000000"}
    assert cov.max_row == 1 + len(ctx.requirements[["queue", "language"]].drop_duplicates())
    assert cov.max_column == 2 + ctx.coverage["interval_start"].nunique()
    heat = tidy.coverage_heatmap(ctx.coverage)
    assert cov.cell(2, 3).value == pytest.approx(heat.iloc[0, 2])

    issues = [c.value for c in wb["Issues"]["B"]][1:]
    assert issues == ctx.warnings  # including the one that looks like a formula, as text
    assert wb["Issues"]["B3"].data_type == "s"

    readme = [c.value for row in wb["README"].iter_rows() for c in row if isinstance(c.value, str)]
    text = " ".join(readme)
    assert ctx.run_id in text and "does NOT re-run the optimizer" in text
    assert "optimal" in readme
    assert all(i["sha256"] in readme for i in ctx.inputs)


def test_planner_forecast_sheets_and_charts(written, ctx):
    wb = load(written[0] / "planner.xlsx")
    got = table_frame(wb["Forecast"], "tbl_forecast_daily")
    exp = tidy.daily_forecast(ctx.forecast, ctx.history)
    assert got["volume"].tolist() == pytest.approx(exp["volume"].tolist())
    assert got["volume_hi_95"].tolist() == pytest.approx(exp["volume_hi_95"].tolist())
    # the fake history has independent hourly noise: the daily band is far narrower than the sum of hourly bounds
    summed = ctx.forecast["volume_hi_95"].sum() - ctx.forecast["volume"].sum()
    assert got["volume_hi_95"].sum() - got["volume"].sum() < 0.5 * summed
    charts = wb["Forecast charts"]._charts
    assert len(charts) == ctx.queues.shape[0]
    assert all(len(ch.series) == 4 for ch in charts)  # history, forecast, lo, hi


def test_vendor_tables_equal_the_tidy_allocation(written, ctx):
    wb = load(written[0] / "planner.xlsx")
    va = table_frame(wb["Vendor allocation"], "tbl_vendor_allocation")
    exp = ctx.vendor_allocation.groupby("vendor")[["hours", "items", "cost"]].sum()
    got = va.groupby("vendor")[["productive_hours", "items", "cost [USD]"]].sum()
    assert np.allclose(got.to_numpy(), exp.to_numpy())
    assert va["cost_per_1000_items"].iloc[0] == '=IF(H2>0,I2/H2*1000,"")'
    paid = (ctx.shift_plan["paid_hours"] * ctx.shift_plan["headcount"]).groupby(ctx.shift_plan["vendor"]).sum()
    assert np.allclose(va.groupby("vendor")["paid_hours"].sum().to_numpy(), paid.sort_index().to_numpy())
    vendors = table_frame(wb["Vendors"], "tbl_vendors")
    assert vendors["paid_hours_per_week"].iloc[0] == "=F2/plan_weeks"
    assert vendors["utilisation"].iloc[0].startswith("=IF(")


def test_finance_numbers_and_formulas(written, ctx):
    wb = load(written[0] / "finance.xlsx")
    assert wb.sheetnames == ["README", "Assumptions", "In-house vs vendor", "By vendor", "Unit cost", "Cost by week", "Cost by month",
                             "P50 vs P90"]
    assert {"fte_hours_per_week", "plan_weeks", "fx_EUR"} <= set(wb.defined_names)
    week = table_frame(wb["Cost by week"], "tbl_cost_by_week")
    exp = ctx.vendor_allocation.groupby(["vendor", "queue", "language"])["cost"].sum()
    assert np.allclose(week.groupby(["vendor", "queue", "language"])["cost [USD]"].sum().to_numpy(), exp.to_numpy())
    assert week["FTE (paid h / 40)"].iloc[0] == "=G2/fte_hours_per_week"
    month = table_frame(wb["Cost by month"], "tbl_cost_by_month")
    assert month["cost [USD]"].sum() == pytest.approx(ctx.vendor_allocation["cost"].sum())
    assert set(pd.to_datetime(month["month"]).dt.month) == {1, 2}  # the plan week spans January and February
    byv = wb["By vendor"]
    assert byv["B2"].value.startswith("=SUMPRODUCT(EXACT('Cost by week'!$C$2:$C$")
    sheet = wb["Cost by week"]
    total = sheet.max_row
    assert sheet.cell(total, 1).value == "Total" and sheet.cell(total, 9).value == f"=SUM(I2:I{total - 1})"
    assert sheet["I2"].number_format == '#,##0.00 "USD"'
    p = table_frame(wb["P50 vs P90"], "tbl_p50_vs_p90")
    assert p["P90 plan cost [USD]"].sum() == pytest.approx(1.15 * ctx.vendor_allocation["cost"].sum())
    assert p["difference [USD]"].iloc[0] == "=C2-B2"


def test_finance_separates_inhouse_and_prices_units(written, ctx):
    """In-house is not a vendor: By vendor lists BPO vendors only; In-house vs vendor and Unit cost add up."""
    values = pd.read_excel(written[0] / "finance.xlsx", sheet_name=None)
    byv = values["By vendor"]
    byv = byv[byv["vendor"] != "Total"]
    assert list(byv["vendor"]) == sorted(set(ctx.vendors["vendor"]))
    va = ctx.vendor_allocation
    bpo = va[va["vendor"] != "inhouse"].groupby("vendor")[["hours", "items", "cost"]].sum()
    assert np.allclose(byv["cost [USD]"], bpo["cost"]) and np.allclose(byv["items"], bpo["items"])
    src = values["In-house vs vendor"].set_index("sourcing")
    assert src.loc["in-house", "cost [USD]"] == pytest.approx(va.loc[va["vendor"] == "inhouse", "cost"].sum())
    assert src.loc["vendor", "cost [USD]"] == pytest.approx(bpo["cost"].sum())
    assert src.loc["vendor", "share of cost"] == pytest.approx(bpo["cost"].sum() / va["cost"].sum())
    unit = values["Unit cost"]
    row = unit[(unit["vendor"] == "Globex Services") & (unit["queue"] == "photo")].iloc[0]
    mine = va[(va["vendor"] == "Globex Services") & (va["queue"] == "photo")]
    assert row["cost per item [USD]"] == pytest.approx(mine["cost"].sum() / mine["items"].sum())
    assert row["cost per productive hour [USD]"] == pytest.approx(mine["cost"].sum() / mine["hours"].sum())


def test_fx_rates_keep_their_significant_digits(tmp_path):
    ctx = make_context(p90=False, plan_days=2)
    ctx.config.policy.fx = {**ctx.config.policy.fx, "COP": 0.00025}
    write_finance(tmp_path / "finance.xlsx", ctx)
    sheet = load(tmp_path / "finance.xlsx")["Assumptions"]
    cells = {sheet.cell(r, 1).value: sheet.cell(r, 2) for r in range(2, sheet.max_row + 1)}
    assert cells["fx_COP"].value == 0.00025
    assert xlsx.render(cells["fx_COP"].value, cells["fx_COP"].number_format) == "0.00025"
    assert xlsx.render(cells["fx_PHP"].value, cells["fx_PHP"].number_format) == "0.0175"


def test_vendor_totals_match_names_exactly(tmp_path):
    """SUMIFS would treat 'A*' as a wildcard and 'acme' as 'Acme': totals must match exact names only."""
    ctx = make_context(p90=False, plan_days=2, n_vendors=3, n_pools=4, vendor_names=["Acme", "acme", "A*"])
    write_finance(tmp_path / "finance.xlsx", ctx)
    formulas = load(tmp_path / "finance.xlsx")
    assert not any("SUMIFS" in str(c.value) or "COUNTIFS" in str(c.value)
                   for sheet in formulas.worksheets for row in sheet.iter_rows() for c in row)
    byv = pd.read_excel(tmp_path / "finance.xlsx", sheet_name="By vendor")
    byv = byv[byv["vendor"] != "Total"].set_index("vendor")
    exp = ctx.vendor_allocation.groupby("vendor")["cost"].sum()
    assert sorted(byv.index) == ["A*", "Acme", "acme"]
    for vendor in byv.index:
        assert byv.loc[vendor, "cost [USD]"] == pytest.approx(exp[vendor])
    total = pd.read_excel(tmp_path / "finance.xlsx", sheet_name="By vendor").iloc[-1]
    assert total["cost [USD]"] == pytest.approx(exp.drop("inhouse").sum())


def test_budget_vs_plan_by_month(tmp_path):
    ctx = make_context(p90=False)
    ctx.budget = pd.DataFrame({"month": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-01-01"]), "vendor": ["", "", "Globex Services"],
                               "amount": [50_000.0, 40_000.0, 10_000.0], "currency": ["USD", "USD", "EUR"]})
    write_finance(tmp_path / "finance.xlsx", ctx)
    frame = pd.read_excel(tmp_path / "finance.xlsx", sheet_name="Budget vs plan")
    frame = frame[frame.iloc[:, 0] != "Total"]
    monthly = tidy.finance_monthly(ctx.vendor_allocation, ctx.allocation, tidy.plan_start(ctx.config), ctx.shift_plan)
    plan = monthly.groupby(monthly["month"].dt.month)["cost"].sum()
    globex_jan = monthly[(monthly["vendor"] == "Globex Services") & (monthly["month"].dt.month == 1)]["cost"].sum()
    got = {(pd.Timestamp(m).month, s): r for m, s, r in zip(frame["month"], frame["scope"], frame.to_dict("records"))}
    assert got[(1, "(all)")]["budget [USD]"] == 50_000 and got[(1, "(all)")]["plan cost [USD]"] == pytest.approx(plan[1])
    assert got[(2, "(all)")]["variance (plan - budget) [USD]"] == pytest.approx(plan[2] - 40_000)
    assert got[(1, "Globex Services")]["budget [USD]"] == pytest.approx(10_000 * 1.08)  # EUR budget at the stated FX
    assert got[(1, "Globex Services")]["plan cost [USD]"] == pytest.approx(globex_jan)
    assert got[(1, "(all)")]["variance [% of budget]"] == pytest.approx(plan[1] / 50_000 - 1)


def test_finance_without_p90_has_no_comparison(tmp_path):
    ctx = make_context(p90=False, plan_days=2)
    write_finance(tmp_path / "finance.xlsx", ctx)
    assert "P50 vs P90" not in load(tmp_path / "finance.xlsx").sheetnames


def _all_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def _numbers(wb) -> list[float]:
    return [float(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, (int, float)) and not isinstance(c.value, bool)]


def test_vendor_workbooks_hold_only_their_vendor(written, ctx):
    """No other vendor's (or in-house) name, pool, rate or cost anywhere in the file: cells, names,
    titles, charts, comments, properties, every XML part of the zip."""
    out, _ = written
    pools = ctx.pools
    for vendor in ("Acme Outsourcing", "Globex Services"):
        path = out / "vendors" / f"{vendor.replace(' ', '_')}.xlsx"
        wb = load(path)
        others = pools[pools["vendor"] != vendor]
        forbidden_text = sorted(set(ctx.vendors["vendor"]) - {vendor}) + ["inhouse"] + others["pool"].tolist()
        raw = _all_text(path)
        for word in forbidden_text:
            assert word not in raw, (vendor, word)
        # numbers: other pools' rates and other vendors' costs, hours, items
        other_va = ctx.vendor_allocation[ctx.vendor_allocation["vendor"] != vendor]
        forbidden_numbers = set(others["cost_per_hour"].round(6)) | set(other_va[["hours", "items", "cost"]].to_numpy().round(6).ravel())
        forbidden_numbers |= {round(float(ctx.solve["cost"]), 6), round(float(ctx.solve["objective"]), 6)}
        found = {round(x, 6) for x in _numbers(wb)}
        assert not (found & forbidden_numbers), (vendor, found & forbidden_numbers)
        # things that are not cells
        assert all(ws.sheet_state == "visible" for ws in wb.worksheets)
        assert all(not ws._charts for ws in wb.worksheets)
        assert all(c.comment is None for ws in wb.worksheets for row in ws.iter_rows() for c in row)
        assert set(wb.defined_names) == {f"rate_{p.replace('-', '_')}" for p in pools.loc[pools["vendor"] == vendor, "pool"]}
        props = " ".join(str(getattr(wb.properties, a)) for a in ("title", "subject", "creator", "description", "keywords", "lastModifiedBy", "category"))
        assert vendor in props and not any(w in props for w in forbidden_text)


def test_vendor_workbook_content(written, ctx):
    out, _ = written
    vendor = "Globex Services"
    path = out / "vendors" / "Globex_Services.xlsx"
    wb = load(path)
    assert wb.sheetnames == ["README", "Rates", "Roster", "Patterns", "Headcount by day", "Requirement", "Contract", "Targets", "Volume", "Cost"]
    values = pd.read_excel(path, sheet_name=None)
    sp = ctx.shift_plan[ctx.shift_plan["vendor"] == vendor]
    # roster: whole moderators per shift and skill, adding up to each shift's headcount
    ros = values["Roster"]
    ros = ros[ros["site"] != "Total"]
    per_shift = ros.groupby(["pool", "day (site-local)", "shift"])["moderators on this skill"].sum()
    exp = sp.groupby(["pool", pd.to_datetime(sp["day"]), "shift"])["headcount"].sum()
    assert per_shift.sort_index().tolist() == exp.sort_index().tolist()
    assert (ros["moderators on this skill"] == ros["moderators on this skill"].round()).all()
    # patterns: people, not moderator-days
    pats = values["Patterns"]
    pats = pats[pats["site"] != "Total"]
    mine = ctx.patterns[ctx.patterns["vendor"] == vendor]
    assert pats["moderators (people)"].sum() == mine["moderators"].sum() < sp["headcount"].sum()
    assert set(pats["days_off"]) <= {"Sat, Sun", "Sun, Mon", "Mon, Tue", "Tue, Wed", "Wed, Thu", "Thu, Fri", "Fri, Sat"}
    readme = values["README"].to_string()
    assert "WELLBEING RULE" in readme and "50%" in readme and f"{ctx.config.policy.exposure_max_hours_per_day:g} hours per day" in readme
    facts = {r[0]: r[1] for r in load(path, data_only=True)["README"].iter_rows(min_row=3, max_col=2, values_only=True) if r[0]}
    assert facts["Moderators (people on weekly patterns)"] == mine["moderators"].sum()
    assert facts["Contract currency"] == "EUR"
    # hourly requirement: the vendor's productive hours per queue x language and hour
    req = values["Requirement"]
    alloc = ctx.allocation[ctx.allocation["vendor"] == vendor]
    cell = alloc[(alloc["queue"] == "photo") & (alloc["language"] == "en")].groupby("interval_start")["productive_hours"].sum()
    assert req["photo / en"].tolist() == pytest.approx(cell.tolist())
    vol = values["Volume"]
    mine_va = ctx.vendor_allocation[ctx.vendor_allocation["vendor"] == vendor]
    assert vol["items allocated"].iloc[:-1].sum() == pytest.approx(mine_va["items"].sum())
    targets = values["Targets"]
    assert set(targets["queue"]) == set(mine_va["queue"])
    cost = wb["Cost"]
    header = [c.value for c in cost[1]]
    assert cost.cell(2, header.index("rate [EUR]") + 1).value == "=rate_aus_p3"
    assert cost.cell(2, header.index("cost [EUR]") + 1).value == "=D2*E2"
    assert cost.cell(2, header.index("cost [EUR]") + 1).number_format == '#,##0.00 "EUR"'


def test_vendor_cost_in_contract_currency(tmp_path):
    """A pool priced in USD under a EUR contract: rates and cost are converted with the stated FX."""
    ctx = make_context(p90=False, plan_days=2)
    vendor = "Globex Services"
    ctx.pools.loc[ctx.pools["vendor"] == vendor, "currency"] = "USD"
    path = write_vendor(tmp_path / "g.xlsx", ctx, vendor)
    fx = ctx.config.policy.fx
    rates = pd.read_excel(path, sheet_name="Rates")
    pool = ctx.pools[ctx.pools["vendor"] == vendor].iloc[0]
    assert rates["FX: 1 pool currency in EUR"].iloc[0] == pytest.approx(fx["USD"] / fx["EUR"])
    assert rates["rate per paid hour [EUR]"].iloc[0] == pytest.approx(pool["cost_per_hour"] * fx["USD"] / fx["EUR"])
    cost = pd.read_excel(path, sheet_name="Cost")
    sp = ctx.shift_plan[ctx.shift_plan["vendor"] == vendor]
    paid = (sp["paid_hours"] * sp["headcount"]).sum()
    assert cost["cost [EUR]"].iloc[-1] == pytest.approx(paid * pool["cost_per_hour"] * fx["USD"] / fx["EUR"])
    assert list(cost.columns).count("cost [EUR]") == 1 and not any("USD" in str(c) for c in cost.columns)


def test_apportion_is_whole_and_adds_up():
    assert roster.apportion(10, np.array([1.0, 1.0, 1.0])).tolist() == [4, 3, 3]
    assert roster.apportion(7, np.array([0.5, 0.25, 0.25])).tolist() == [3, 2, 2]  # quotas 3.5, 1.75, 1.75
    assert roster.apportion(3, np.array([0.0, 0.0])).tolist() == [0, 0]
    rng = np.random.default_rng(1)
    for _ in range(50):
        w = rng.uniform(0, 1, 6)
        n = int(rng.integers(0, 40))
        parts = roster.apportion(n, w)
        assert parts.sum() == n and np.all(np.abs(parts - n * w / w.sum()) < 1)


def test_input_strings_never_become_formulas(tmp_path):
    evil_pool = '=HYPERLINK("http://evil.example","click")'
    ctx = make_context(pool_names=["man-p1", evil_pool, "+aus-p3", "@dub"], vendor_names=["-Acme", "Globex Services"], plan_days=2)
    paths = write_plan_workbooks(tmp_path, ctx)
    ours = re.compile(r"^=(SUM|SUMIFS|IF|[A-Z]+\d+[*/+-]|[A-Z]+\d+/\(|rate_|[A-Z]+\d+-)")
    seen_evil = False
    for path in paths:
        wb = load(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.data_type == "f":
                        assert "HYPERLINK(" not in c.value and '"http' not in c.value and ours.match(c.value), (path.name, ws.title, c.coordinate, c.value)
                    if c.value == evil_pool:
                        seen_evil = True
                        assert c.data_type == "s" and c.quotePrefix
    assert seen_evil
    assert (tmp_path / "vendors" / "Acme.xlsx").exists()  # '-Acme' sanitised for the file system


def test_long_tables_continue_on_more_sheets(tmp_path, monkeypatch):
    monkeypatch.setattr(planner, "MAX_TABLE_ROWS", 150)
    ctx = make_context(p90=False, plan_days=2)  # 9 cells x 48 intervals = 432 rows
    planner.write_planner(tmp_path / "planner.xlsx", ctx)
    wb = load(tmp_path / "planner.xlsx")
    parts = [t for t in wb.sheetnames if t.startswith("Requirements")]
    assert parts == ["Requirements", "Requirements (2)", "Requirements (3)"]
    rows = sum(wb[t].max_row - 1 for t in parts)
    assert rows == len(ctx.requirements)
    assert wb["Requirements (2)"]["F2"].value == "=D2*E2/3600"
    readme = " ".join(str(c.value) for row in wb["README"].iter_rows() for c in row if c.value)
    assert "continues on 2 more sheet(s)" in readme


def test_inconsistent_workload_is_written_as_values(tmp_path):
    ctx = make_context(p90=False, plan_days=2)
    ctx.requirements.loc[0, "workload_hours"] += 1.0
    planner.write_planner(tmp_path / "planner.xlsx", ctx)
    ws = load(tmp_path / "planner.xlsx")["Requirements"]
    assert not str(ws["F2"].value).startswith("=")
    assert ws["L2"].value == "=J2/(1-shrinkage)"


def test_same_inputs_same_cells(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_plan_workbooks(a, make_context(plan_days=2, seed=3))
    write_plan_workbooks(b, make_context(plan_days=2, seed=3))
    for name in ("planner.xlsx", "finance.xlsx", "vendors/Acme_Outsourcing.xlsx"):
        wa, wb_ = load(a / name), load(b / name)
        assert wa.sheetnames == wb_.sheetnames
        for sa, sb in zip(wa.worksheets, wb_.worksheets):
            assert [[c.value for c in r] for r in sa.iter_rows()] == [[c.value for c in r] for r in sb.iter_rows()]


def test_forecast_workbook(tmp_path, ctx):
    backtest = pd.DataFrame({"queue": ["video", "video"], "language": ["en", "en"], "model": ["mstl", "seasonal_naive"],
                             "mase": [0.81, 1.02], "wape": [0.12, 0.15], "chosen": [True, False]})
    info = {"run_id": "20260120T090000Z", "created_utc": "2026-01-20T09:00:00Z", "capplan_version": "0.1.0",
            "inputs": ctx.inputs, "seed": 0, "models": ["mstl", "seasonal_naive"]}
    path = write_forecast_workbook(tmp_path / "forecast.xlsx", ctx.forecast, backtest, ctx.history, info)
    wb = load(path)
    assert wb.sheetnames == ["README", "Forecast", "Forecast weekly", "Forecast charts", "Backtest"]
    bt = table_frame(wb["Backtest"], "tbl_backtest")
    assert bt["mase"].tolist() == [0.81, 1.02] and bt["chosen"].tolist() == [True, False]
    assert len(wb["Backtest"].conditional_formatting) == 1
    assert len(wb["Forecast charts"]._charts) == ctx.forecast["queue"].nunique()
    daily = table_frame(wb["Forecast"], "tbl_forecast_daily")
    assert daily["volume"].sum() == pytest.approx(ctx.forecast["volume"].sum())
    chart_data = table_frame(wb["Forecast charts"], "tbl_forecast_chart_data")
    hist_days = chart_data.dropna(subset=["video history"])
    assert len(hist_days) == 28  # all fake history days fall inside the 56 days shown
    readme = [c.value for row in wb["README"].iter_rows() for c in row]
    assert "20260120T090000Z" in readme and ctx.inputs[0]["sha256"] in readme


def test_forecast_workbook_with_minimal_info(tmp_path, ctx):
    """The pipeline passes only run_id, version and workspace; no backtest rows is fine too."""
    info = {"run_id": "r1", "capplan_version": "0.1.0", "workspace": "=cmd|' /C calc'!A0"}
    path = write_forecast_workbook(tmp_path / "forecast.xlsx", ctx.forecast, pd.DataFrame(), ctx.history, info)
    wb = load(path)
    assert wb.sheetnames == ["README", "Forecast", "Forecast weekly", "Forecast charts", "Backtest"]
    cells = [c for row in wb["README"].iter_rows() for c in row if c.value == info["workspace"]]
    assert cells and all(c.data_type == "s" for c in cells)


def test_report_import_is_light():
    import subprocess
    import sys

    code = "import sys, capplan.report; print('openpyxl' in sys.modules or 'xlsxwriter' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")})
    assert out.stdout.strip() == "False"


def _workbooks(written, tmp_path_factory, ctx) -> list[Path]:
    out, paths = written
    backtest = pd.DataFrame({"queue": ["video"], "language": ["en"], "model": ["mstl"], "mase": [0.8], "chosen": [True]})
    info = {"run_id": "r1", "created_utc": "2026-01-20T09:00:00Z", "capplan_version": "0.1.0", "inputs": ctx.inputs}
    forecast = write_forecast_workbook(tmp_path_factory.mktemp("fc") / "forecast.xlsx", ctx.forecast, backtest, ctx.history, info)
    return [*paths, forecast]


def test_every_sheet_reads_with_pandas_and_formulas_carry_values(written, ctx, tmp_path_factory):
    """What a BI tool or a phone preview sees: every formula cell has a stored value, every formula column
    read by pandas has numbers, and the stored values equal the Python computation they stand for."""
    for path in _workbooks(written, tmp_path_factory, ctx):
        formulas, stored = load(path), load(path, data_only=True)
        frames = pd.read_excel(path, sheet_name=None)
        assert set(frames) == set(formulas.sheetnames)
        for sheet in formulas.worksheets:
            formula_cols: dict[int, list] = {}
            for row in sheet.iter_rows():
                for c in row:
                    if c.data_type == "f":
                        value = stored[sheet.title][c.coordinate].value
                        assert value is not None or '""' in c.value, (path.name, sheet.title, c.coordinate, c.value)
                        formula_cols.setdefault(c.column, []).append(value)
            for col, values in formula_cols.items():
                assert any(isinstance(v, (int, float)) or v in ("yes", "no") for v in values), (path.name, sheet.title, col)
    fin = pd.read_excel(written[0] / "finance.xlsx", sheet_name="Cost by week")
    body = fin[fin["week_start (UTC)"] != "Total"]
    assert np.allclose(body["FTE (paid h / 40)"].astype(float), body["paid_hours"] / 40)
    assert fin.iloc[-1]["cost [USD]"] == pytest.approx(ctx.vendor_allocation["cost"].sum())


def _width(sheet, column: int) -> float:
    """A column's width; a <col> element may cover a range of columns (min..max)."""
    for dim in sheet.column_dimensions.values():
        if dim.min and dim.max and dim.min <= column <= dim.max and dim.width:
            return dim.width
    return 8.43  # Excel's default column width


def test_no_number_renders_as_hash_marks(written, ctx, tmp_path_factory):
    """A number wider than its column shows as ### in a spreadsheet: every number fits at its format.

    Formula cells are checked with their stored values."""
    for path in _workbooks(written, tmp_path_factory, ctx):
        wb = load(path, data_only=True)
        for sheet in wb.worksheets:
            for row in sheet.iter_rows():
                for c in row:
                    v = c.value
                    if isinstance(v, bool) or not isinstance(v, (int, float)):
                        continue
                    text = xlsx.render(v, c.number_format)
                    width = _width(sheet, c.column)
                    assert len(text) + 1 <= width, (
                        path.name, sheet.title, c.coordinate, v, c.number_format, text, width)


def test_render_matches_spreadsheet_display():
    assert xlsx.render(1234.5, '#,##0.00 "USD"') == "1,234.50 USD"
    assert xlsx.render(1234567.891, "#,##0") == "1,234,568"
    assert xlsx.render(0.1234, "0.0%") == "12.3%"
    assert xlsx.render(0.00025, xlsx.FX) == "0.00025"
    assert xlsx.render(1.0, xlsx.FX) == "1.0"
    assert xlsx.render(-3.25, "0.0") == "-3.3" or xlsx.render(-3.25, "0.0") == "-3.2"


def test_planner_readme_numbers_are_formatted(written, ctx):
    sheet = load(written[0] / "planner.xlsx")["README"]
    facts = {sheet.cell(r, 1).value: sheet.cell(r, 2) for r in range(3, 25) if sheet.cell(r, 1).value}
    gap = facts["Gap"]
    assert gap.value == pytest.approx(ctx.solve["gap"]) and gap.number_format == "0.00%"
    assert xlsx.render(gap.value, gap.number_format) == "0.50%"
    assert facts["Plan cost [USD]"].number_format == '#,##0.00 "USD"'
    assert facts["Model size"].value == "12,345 variables, 6,789 constraints"
    req = load(written[0] / "planner.xlsx")["Requirements"]
    assert req["D2"].number_format == "#,##0"  # items are whole numbers


def test_planner_weekly_summary(written, ctx):
    sheet = load(written[0] / "planner.xlsx", data_only=True)["Weekly summary"]
    pools = table_frame(sheet, "tbl_summary_pools")
    sp = ctx.shift_plan
    paid = (sp["paid_hours"] * sp["headcount"]).groupby(sp["pool"]).sum()
    assert pools.set_index("pool")["paid_hours"].sort_index().tolist() == pytest.approx(paid.sort_index().tolist())
    prod = ctx.allocation.groupby("pool")["productive_hours"].sum()
    got = pools.set_index("pool")
    assert got["productive_hours"].sort_index().tolist() == pytest.approx(prod.sort_index().tolist())
    assert np.allclose(got["idle_hours"], got["available_hours"] - got["productive_hours"])
    assert np.allclose(got["available_hours"], got["paid_hours"] * (1 - ctx.config.staffing.shrinkage))
    fte = table_frame(sheet, "tbl_summary_fte_pool")
    assert fte["fte"].sum() == pytest.approx(paid.sum() / 40)  # the paid hours of every pool, split over languages
    cells = table_frame(sheet, "tbl_summary_fte_cell")
    assert cells["fte"].sum() == pytest.approx(paid.sum() / 40)
    service = table_frame(sheet, "tbl_summary_service").set_index("queue")
    unmet = ctx.coverage.groupby("queue")["unmet"].sum()
    assert service["unmet_hours"].sort_index().tolist() == pytest.approx(unmet.sort_index().tolist())


def test_forecast_weekly_history_vs_forecast(tmp_path, ctx):
    path = write_forecast_workbook(tmp_path / "forecast.xlsx", ctx.forecast, pd.DataFrame(), ctx.history, {"run_id": "r"})
    weekly = pd.read_excel(path, sheet_name="Forecast weekly")
    video = weekly[(weekly["queue"] == "video") & (weekly["language"] == "en")]
    hist = ctx.history[(ctx.history["queue"] == "video") & (ctx.history["language"] == "en")]
    assert video["history volume"].sum() == pytest.approx(hist["volume"].sum())  # 4 complete history weeks
    fc = ctx.forecast[(ctx.forecast["queue"] == "video") & (ctx.forecast["language"] == "en")]
    assert video["forecast volume"].sum() == pytest.approx(fc["volume"].sum())
    lo, mid, hi = video["volume_lo_80"].dropna(), video["forecast volume"].dropna(), video["volume_hi_80"].dropna()
    assert (lo < mid).all() and (mid < hi).all()


def test_binding_limits_show_prices_zero_and_unpriced_apart(tmp_path):
    """The planner workbook's binding limits (Shortfalls sheet): a price in the reporting currency, a price of 0 as 0
    (not blank) and an unpriced limit blank, its reason beside it, equal to the tidy table they came from."""
    import dataclasses

    ctx = make_context()
    why = "not priced: the optimizer ran out of time (a fallback plan), so there is no LP relaxation to take duals from"
    binding = pd.DataFrame({"kind": ["pool_max_headcount", "vendor_max_hours", "exposure_share"], "name": ["a", "v", "b"],
                            "detail": ["2 moderators = max_headcount 2", "112.0 paid h/week = max_weekly_hours 112", "at 50 %"],
                            "shadow_price": [280.0, 0.0, np.nan],
                            "shadow_unit": ["USD/week per moderator", "USD/week per weekly paid hour; 0 at the margin: ...", why]})
    paths = write_plan_workbooks(tmp_path, dataclasses.replace(ctx, binding=binding))
    wb = openpyxl.load_workbook(next(p for p in paths if "planner" in Path(p).name))
    ws = find_table(wb, "tbl_binding_limits")
    table = table_frame(ws, "tbl_binding_limits")
    rep = ctx.config.policy.currency
    price = f"saving per week of one more unit [{rep}] (blank: not priced)"
    assert list(table.columns) == ["binding limit kind", "name", "detail", price, "per what unit, or why not priced"]
    assert table[price].tolist()[:2] == [280.0, 0.0] and pd.isna(table[price].iloc[2])
    assert table["per what unit, or why not priced"].tolist() == binding["shadow_unit"].tolist()
    first = ws[ws.tables["tbl_binding_limits"].ref.split(":")[0]]
    cells = [ws.cell(row=first.row + i, column=first.column + 3) for i in (1, 2, 3)]
    assert [c.value for c in cells] == [280.0, 0.0, None]  # 0 written as 0, the unpriced cell left blank
    assert all(c.number_format == xlsx.money(rep) for c in cells[:2])
