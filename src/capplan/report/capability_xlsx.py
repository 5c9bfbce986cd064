"""``capability.xlsx``: what production records say about the pools (written with :mod:`capplan.report.xlsx`).

Sheets: README (provenance, how to read), Pools (typed vs suggested proficiency, chart), Estimates (per pool x
cell multiplier and accuracy with intervals), Learning curve (relative multiplier by tenure week per site,
chart), Policy changes (fitted bumps and half-lives).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capplan.report import xlsx

RATIO = "0.000"


def write_capability_workbook(path: Path, est, suggestion: pd.DataFrame, info: dict) -> Path:
    """Write the workbook; ``est`` is a :class:`capplan.capability.Estimates`."""
    book = xlsx.Book(path)
    _readme(book, est, info)
    _pools(book, suggestion)
    sheet = xlsx.new_sheet(book, "Estimates")
    ratio_cols = [c for c in est.estimates.columns if c.startswith(("multiplier", "shrinkage"))]
    pct_cols = [c for c in est.estimates.columns if c.startswith(("qa_pass_", "overturn_")) or c == "quality"]
    formats = {**{c: RATIO for c in ratio_cols}, **{c: "0.00%" for c in pct_cols},
               **{c: xlsx.HOURS for c in ("aht_s", "reference_aht_s")}, **{c: xlsx.INT for c in ("items", "days", "qa_sampled", "appeals")}}
    xlsx.write_table(sheet, est.estimates, "estimates", formats=formats)
    xlsx.finish_sheet(sheet, freeze="D2")
    _learning(book, est.learning)
    sheet = xlsx.new_sheet(book, "Policy changes")
    xlsx.write_table(sheet, est.policy, "policy_changes", formats={"bump": RATIO, "bump_pct": xlsx.NUM, "bump_lo_pct": xlsx.NUM,
                                                                   "bump_hi_pct": xlsx.NUM, "half_life_days": xlsx.NUM,
                                                                   "half_life_lo": xlsx.NUM, "half_life_hi": xlsx.NUM})
    xlsx.finish_sheet(sheet)
    xlsx.set_properties(book, f"capplan capability {info['run_id']}", info.get("created_utc"))
    return book.close()


def _readme(book, est, info: dict) -> None:
    sheet = xlsx.new_sheet(book, "README")
    s = est.summary
    facts = [("run id", info["run_id"], None), ("capplan version", info["capplan_version"], None),
             ("created (UTC)", info["created_utc"], None), ("workspace", info["workspace"], None),
             ("production rows", s["rows"], xlsx.INT), ("items", s["items"], xlsx.INT),
             ("pool x cell pairs", s["pairs"], xlsx.INT), ("pairs with records", s["pairs_with_records"], xlsx.INT),
             ("between-pair sd of log AHT (tau)", s["tau_log_aht"], RATIO), ("interval level", s["level"], "0%")]
    facts += [(f"input {i['table']}", f"{i['file']} sha256 {i['sha256']}", None) for i in info["inputs"]]
    xlsx.readme(sheet, "capplan capability: proficiency, accuracy and learning curves", facts, [
        "HOW TO READ:",
        "multiplier: handle time of the pool on the cell relative to handle_times.csv (1.10 = takes 10 % longer); lo/hi = the interval.",
        "Thin data are shrunk toward the pool's and the cell's overall values (shrinkage_weight = weight on the pair's own data).",
        "quality = QA pass rate x (1 - appeal share x overturn rate): the share of decisions that stand.",
        "Pools: the suggested pools.csv proficiency (items-weighted geometric mean of the pool's pairs); pools_suggested.csv in the run folder is ready to copy.",
        "Learning curve: a new hire's handle time relative to a tenured moderator of the site, by week of tenure (non-increasing fit).",
        "Policy changes: a temporary handle-time bump after a dated change and its half-life (docs/capability.md).",
    ])


def _pools(book, suggestion: pd.DataFrame) -> None:
    sheet = xlsx.new_sheet(book, "Pools")
    placed = xlsx.write_table(sheet, suggestion, "pool_proficiency", formats={"proficiency": RATIO, "suggested": RATIO, "suggested_lo": RATIO,
                                                                             "suggested_hi": RATIO, "quality": "0.00%", "items": xlsx.INT})
    if len(suggestion):
        chart = book.wb.add_chart({"type": "column"})
        for col in ("proficiency", "suggested"):
            chart.add_series({"name": col, "categories": "=" + placed.ref("pool"), "values": "=" + placed.ref(col)})
        chart.set_title({"name": "AHT multiplier per pool: typed vs estimated"})
        chart.set_y_axis({"name": "multiplier", "min": 0.5})
        chart.set_size({"width": 760, "height": 340})
        sheet.xl.insert_chart(1, len(suggestion.columns) + 1, chart)
    xlsx.finish_sheet(sheet)


def _learning(book, learning: pd.DataFrame) -> None:
    sheet = xlsx.new_sheet(book, "Learning curve")
    placed = xlsx.write_table(sheet, learning, "learning_curve", formats={"raw_multiplier": RATIO, "relative_speed": RATIO,
                                                                         "relative_multiplier": RATIO, "items": xlsx.INT})
    if len(learning):
        wide = learning.pivot(index="tenure_weeks", columns="site", values="relative_multiplier").reset_index()
        wide.columns = [str(c) for c in wide.columns]
        left = len(learning.columns) + 2
        by_site = xlsx.write_table(sheet, wide, "learning_by_site", left=left, formats={c: RATIO for c in wide.columns[1:]})
        chart = book.wb.add_chart({"type": "line"})
        for site in wide.columns[1:]:
            chart.add_series({"name": site, "categories": "=" + by_site.ref("tenure_weeks"), "values": "=" + by_site.ref(site)})
        chart.set_title({"name": "New-hire handle time relative to tenured, by week of tenure"})
        chart.set_x_axis({"name": "tenure [weeks]"})
        chart.set_y_axis({"name": "relative AHT multiplier", "min": 0.9})
        chart.set_size({"width": 760, "height": 380})
        sheet.xl.insert_chart(1, left + len(wide.columns) + 1, chart)
    xlsx.finish_sheet(sheet)
