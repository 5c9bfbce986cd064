"""``forecast.xlsx``: daily and weekly forecast totals with bands, the backtest, and history-vs-forecast charts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from capplan.report import sheets, tidy, xlsx
from capplan.report.accuracy_xlsx import PastAccuracy, accuracy_sheet
from capplan.schema import INTERVAL_START, LANGUAGE, MODEL, QUEUE

CHOSEN = {"bg_color": "#C6EFCE"}
BAND_METHOD = (
    "Bands of daily and weekly totals are not sums of the hourly bounds (that assumes every hour errs the same way "
    "and is far too wide): the hourly half widths are aggregated as sqrt((1 - rho) x sum w^2 + rho x (sum w)^2), "
    "with rho the correlation of hourly errors within the day (week) estimated per cell from the history's "
    "weekly-naive residuals (column band_correlation; rho = 1, the sum of bounds, when the history is too short)."
)


def write_forecast_workbook(path: Path, forecast: pd.DataFrame, backtest: pd.DataFrame, history: pd.DataFrame, info: dict,
                            accuracy: PastAccuracy | None = None) -> Path:
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
    accuracy
        The newest ``capplan accuracy`` run's tables, when there is one: an ``Accuracy`` sheet
        (:func:`capplan.report.accuracy_xlsx.accuracy_sheet`) written in the same pass.
    """
    book = xlsx.Book(path)
    readme_sheet = xlsx.new_sheet(book, "README")
    start = tidy.naive_utc(forecast[INTERVAL_START]).min().normalize() if len(forecast) else None
    sheets.forecast_sheets(book, forecast, history, start)
    _backtest(book, backtest)
    if accuracy is not None:
        accuracy_sheet(book, accuracy)
    row = xlsx.readme(readme_sheet, "capplan forecast workbook", _facts(info, start), [
        "Forecast: daily totals per queue and language (UTC days) with prediction bands.",
        BAND_METHOD,
        "Forecast weekly: weekly history (the last complete weeks) against the forecast weeks, with weekly bands "
        "(the same method with the within-week correlation); 'hours' below 168 marks a partial week.",
        "Forecast charts: daily history vs forecast per queue (all languages), with the narrowest band.",
        "Backtest: rolling-origin accuracy of every candidate model per cell; the chosen model is highlighted.",
        *(["Accuracy: past forecast runs against the actuals now in history (from " + accuracy.source + ")."] if accuracy is not None else []),
        "The interval-level forecast is forecast.parquet in the same folder.",
    ])
    inputs = info.get("inputs") or []
    xlsx.put(readme_sheet, row, 1, "Inputs:", style=xlsx.BOLD)
    frame = pd.DataFrame(inputs) if inputs else pd.DataFrame(columns=["file", "sha256", "rows"])
    xlsx.write_table(readme_sheet, frame, "inputs", top=row + 1)
    readme_sheet.width(2, 70, exact=True)
    xlsx.set_properties(book, f"capplan forecast {info.get('run_id', '')}", info.get("created_utc"))
    return book.close()


def _backtest(book: xlsx.Book, backtest: pd.DataFrame | None) -> None:
    sheet = xlsx.new_sheet(book, "Backtest")
    bt = backtest.copy() if backtest is not None else pd.DataFrame()
    if bt.empty:
        bt = pd.DataFrame(columns=[QUEUE, LANGUAGE, MODEL, "chosen"])
    keys = [c for c in (QUEUE, LANGUAGE, MODEL) if c in bt.columns]
    bt = bt.sort_values(keys, kind="stable").reset_index(drop=True) if keys else bt
    metric_fmt = {c: "0.000" for c in bt.columns if c not in (QUEUE, LANGUAGE, MODEL, "chosen") and pd.api.types.is_float_dtype(bt[c])}
    placed = xlsx.write_table(sheet, bt, "backtest", formats=metric_fmt)
    if "chosen" in placed.columns and len(bt):
        col = placed.columns["chosen"]
        last_col = max(placed.columns.values(), key=lambda c: (len(c), c))
        sheet.xl.conditional_format(f"A{placed.first_row}:{last_col}{placed.last_row}", {
            "type": "formula", "criteria": f"=${col}{placed.first_row}=TRUE", "format": book.fmt(None, CHOSEN)})
    xlsx.finish_sheet(sheet, freeze="D2")


def _facts(info: dict, start) -> list[tuple]:
    facts = [(key, info[key], None) for key in ("run_id", "created_utc", "capplan_version") if key in info]
    for key, value in sorted(info.items()):
        if key in ("run_id", "created_utc", "capplan_version", "inputs"):
            continue
        if isinstance(value, (dict, list, tuple)):
            value = json.dumps(value, sort_keys=True, default=str)[:2000]
        facts.append((key, value, None))
    facts.append(("forecast start (UTC)", str(start.date()) if start is not None else "", None))
    return facts
