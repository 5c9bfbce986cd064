"""DSA language report: moderators and FTE per EU language, checked by hand against the plan tables."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from _report_data import make_context
from capplan.report import dsa, tidy


@pytest.fixture(scope="module")
def ctx():
    return make_context(n_languages=4, n_pools=5)


def _table(ctx, **kw):
    return dsa.dsa_languages(ctx.pools, ctx.shift_plan, ctx.allocation, ctx.patterns, tidy.plan_start(ctx.config),
                             ctx.config.planning.plan_days, **kw)


def test_iso_codes_and_names():
    assert dsa.iso_639_1("pt-BR") == "pt" and dsa.iso_639_1("EN") == "en" and dsa.iso_639_1("zh_Hant") == "zh"
    assert len(dsa.EU_LANGUAGES) == 24 and dsa.EU_LANGUAGES["ga"] == "Irish"


def test_moderators_are_people_of_pools_with_the_language(ctx):
    table = _table(ctx)
    people = ctx.patterns.groupby("pool")["moderators"].sum()
    for row in table.itertuples(index=False):
        pools = ctx.pools[[any(dsa.iso_639_1(c) == row.iso_639_1 for c in ls) for ls in ctx.pools["languages"]]]
        pools = pools[(pools["vendor"] == "inhouse") == (row.sourcing == "in-house")]
        assert row.moderators == people.reindex(pools["pool"]).sum()
        assert row.pools == ";".join(sorted(pools["pool"]))


def test_fte_adds_up_to_the_planned_workforce(ctx):
    table = _table(ctx)
    paid = (ctx.shift_plan["paid_hours"] * ctx.shift_plan["headcount"]).sum()
    weeks = ctx.config.planning.plan_days / 7
    assert table["fte"].sum() == pytest.approx(paid / (40 * weeks))
    assert table["productive_hours"].sum() == pytest.approx(ctx.allocation["productive_hours"].sum())


def test_eu_languages_first_and_regional_tags_merged(ctx):
    pools = ctx.pools.copy()
    pools["languages"] = [("en", "pt-BR", "tl")] + list(pools["languages"].iloc[1:])
    table = dsa.dsa_languages(pools, ctx.shift_plan, ctx.allocation, ctx.patterns, tidy.plan_start(ctx.config), 7)
    assert table["eu_official"].tolist() == sorted(table["eu_official"], reverse=True)
    assert "pt-BR" in ";".join(table.loc[table["iso_639_1"] == "pt", "language_codes"])
    assert table.loc[table["iso_639_1"] == "tl", "language_name"].tolist() == [""] * (table["iso_639_1"] == "tl").sum()
    assert set(dsa._by_language(pd.DataFrame({"iso_639_1": ["tl"], "language_code": ["tl"], "pool": ["p"], "site": ["s"],
                                              "sourcing": ["vendor"], "moderators": [3], "productive_hours": [1.0], "paid_hours": [2.0],
                                              "queues": [("q",)], "proficiency": [1.0]}), 7, eu_only=True)["iso_639_1"]) == set()


def test_written_files(tmp_path, ctx):
    table = _table(ctx)
    table.loc[0, "sites"] = "=cmd|' /C calc'!A0"
    csv_path, xlsx_path = dsa.write_dsa(tmp_path, table, [("Plan run", "r1", None)])
    text = csv_path.read_text()
    assert "\n" in text and ",'=cmd" in text  # a formula-like name is text in the CSV
    back = pd.read_excel(xlsx_path, sheet_name="DSA languages")
    assert back["moderators qualified (people)"].tolist() == table["moderators"].tolist()
    cell = [c for row in openpyxl.load_workbook(xlsx_path)["DSA languages"].iter_rows() for c in row if c.value == table.loc[0, "sites"]]
    assert cell and cell[0].data_type == "s"


def test_csv_safe_escapes_only_formula_like_text(tmp_path):
    from capplan.report.csvsafe import write_csv

    frame = pd.DataFrame({"vendor": ["-Acme", "=cmd", "@x", "\tTab", "Acme", None], "cost": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0]})
    back = pd.read_csv(write_csv(frame, tmp_path / "x.csv"), keep_default_na=False)
    assert back["vendor"].tolist() == ["'-Acme", "'=cmd", "'@x", "'\tTab", "Acme", ""]
    assert back["cost"].tolist() == [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0]  # negative numbers stay numbers
