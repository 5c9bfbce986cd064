"""``forecast.xlsx``: daily forecast totals with bands, the backtest, and history-vs-forecast charts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import PatternFill

from capplan.report import sheets, tidy, xlsx

CHOSEN_FILL = PatternFill("solid", fgColor="C6EFCE")


def write_forecast_workbook(path: Path, forecast: pd.DataFrame, backtest: pd.DataFrame, history: pd.DataFrame, info: dict) -> Path:
    """Write ``forecast.xlsx``.

    Parameters
    ----------
    path
        File to write.
    forecast
        Forecast contract table (``queue, language, interval_start, volume, volume_lo_<L>, volume_hi_<L>, model``).
    backtest
        ``queue, language, model``, one column per metric, ``chosen`` (bool).
    history
        Input history (``interval_start, queue, language, volume``); the last weeks are charted.
    info
        Provenance: ``run_id``, ``created_utc``, ``capplan_version``, ``inputs`` (list of dicts with
        ``file, sha256, rows``) and any other scalar facts to show on README.
    """
    wb = Workbook()
    book = xlsx.Book()
    readme_sheet = xlsx.new_sheet(wb, book, "README", first=True)
    start = tidy.naive_utc(forecast["interval_start"]).min().normalize() if len(forecast) else None
    sheets.forecast_sheets(wb, book, forecast, history, start)

    sheet = xlsx.new_sheet(wb, book, "Backtest")
    bt = backtest.copy() if backtest is not None else pd.DataFrame()
    if bt.empty:
        bt = pd.DataFrame(columns=["queue", "language", "model", "chosen"])
    keys = [c for c in ("queue", "language", "model") if c in bt.columns]
    bt = bt.sort_values(keys, kind="stable").reset_index(drop=True) if keys else bt
    metric_fmt = {c: "0.000" for c in bt.columns if c not in ("queue", "language", "model", "chosen") and pd.api.types.is_float_dtype(bt[c])}
    placed = xlsx.write_table(sheet, book, bt, "backtest", formats=metric_fmt)
    if "chosen" in placed.columns and len(bt):
        col = placed.columns["chosen"]
        last_col = max(placed.columns.values(), key=lambda c: (len(c), c))
        sheet.conditional_formatting.add(f"A{placed.first_row}:{last_col}{placed.last_row}",
                                      FormulaRule(formula=[f"${col}{placed.first_row}=TRUE"], fill=CHOSEN_FILL))
    xlsx.finish_sheet(sheet, freeze="D2")

    facts = []
    for key in ("run_id", "created_utc", "capplan_version"):
        if key in info:
            facts.append((key, info[key]))
    for key, value in sorted(info.items()):
        if key in ("run_id", "created_utc", "capplan_version", "inputs"):
            continue
        if isinstance(value, (dict, list, tuple)):
            value = json.dumps(value, sort_keys=True, default=str)[:2000]
        facts.append((key, value))
    facts.append(("forecast start (UTC)", str(start.date()) if start is not None else ""))
    row = xlsx.readme(readme_sheet, "capplan forecast workbook", facts, [
        "Forecast: daily totals per queue and language (UTC days); bands are sums of interval bounds (conservative).",
        "Forecast charts: daily history vs forecast per queue (all languages), with the narrowest band.",
        "Backtest: rolling-origin accuracy of every candidate model per cell; the chosen model is highlighted.",
        "The interval-level forecast is forecast.parquet in the same folder.",
    ])
    inputs = info.get("inputs") or []
    xlsx.put(readme_sheet, row, 1, "Inputs:").font = xlsx.BOLD
    frame = pd.DataFrame(inputs) if inputs else pd.DataFrame(columns=["file", "sha256", "rows"])
    xlsx.write_table(readme_sheet, book, frame, "inputs", top=row + 1)
    readme_sheet.column_dimensions["B"].width = 70
    xlsx.set_properties(wb, f"capplan forecast {info.get('run_id', '')}", info.get("created_utc"))
    wb.save(path)
    return path
