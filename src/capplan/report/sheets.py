"""Sheets shared by several workbooks: forecast daily totals with native charts, split long tables."""

from __future__ import annotations

import pandas as pd
from openpyxl.chart import LineChart, Reference
from openpyxl.utils import get_column_letter

from capplan.report import tidy, xlsx

HISTORY_DAYS_IN_CHART = 56  # days of history shown before the forecast in each chart [days]


def band_formats(frame: pd.DataFrame, fmt: str) -> dict[str, str]:
    return {c: fmt for c in ["volume", *tidy.level_columns(frame)]}


def forecast_sheets(wb, book: xlsx.Book, forecast: pd.DataFrame, history: pd.DataFrame, start: pd.Timestamp | None) -> tuple:
    """A ``Forecast`` sheet (daily totals per queue x language) and ``Forecast charts`` (one line chart per queue).

    Returns the two worksheets. ``start`` is the first forecast day (history is shown before it).
    """
    daily = tidy.daily_forecast(forecast)
    sheet = xlsx.new_sheet(wb, book, "Forecast")
    xlsx.write_table(sheet, book, daily, "forecast_daily", formats={**band_formats(daily, xlsx.NUM), "date": xlsx.DATE},
                     headers={"date": "date (UTC)"})
    xlsx.finish_sheet(sheet, freeze="D2")

    if start is None:
        start = daily["date"].min() if len(daily) else None
    hist = tidy.daily_history(history, before=start, days=HISTORY_DAYS_IN_CHART) if start is not None else tidy.daily_history(history)
    levels = sorted({int(c.rsplit("_", 1)[1]) for c in tidy.level_columns(daily)})
    level = levels[0] if levels else None
    wide = tidy.chart_frame(hist, daily, level)
    chart_sheet = xlsx.new_sheet(wb, book, "Forecast charts")
    placed = xlsx.write_table(chart_sheet, book, wide, "forecast_chart_data", formats={c: xlsx.NUM for c in wide.columns if c != "date"} | {"date": xlsx.DATE},
                              headers={"date": "date (UTC)"})
    xlsx.finish_sheet(chart_sheet, freeze="B2")
    queues = sorted(set(hist["queue"]).union(daily["queue"]))
    anchor_col = get_column_letter(len(wide.columns) + 2)
    cols = list(wide.columns)
    for i, q in enumerate(queues):
        series = [c for c in cols if c.startswith(f"{q} ") and c[len(q) + 1:] in _series_suffixes(level)]
        if not series or len(wide) == 0:
            continue
        chart = LineChart()
        chart.title = f"{q}: daily volume, history vs forecast" + (f" with {level}% band" if level else "")
        chart.y_axis.title = "items per day"
        chart.x_axis.title = "date (UTC)"
        chart.x_axis.number_format = "yyyy-mm-dd"
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.height, chart.width = 8, 22
        for name in series:
            c = cols.index(name) + 1
            chart.add_data(Reference(chart_sheet, min_col=c, min_row=placed.header_row, max_row=placed.last_row), titles_from_data=True)
        for s, name in zip(chart.series, series):
            s.smooth = False
            if " lo " in name or " hi " in name:
                s.graphicalProperties.line.dashStyle = "dash"
                s.graphicalProperties.line.width = 9525
        chart.set_categories(Reference(chart_sheet, min_col=1, min_row=placed.first_row, max_row=placed.last_row))
        chart_sheet.add_chart(chart, f"{anchor_col}{1 + 17 * i}")
    return sheet, chart_sheet


def _series_suffixes(level: int | None) -> set[str]:
    out = {"history", "forecast"}
    if level is not None:
        out |= {f"lo {level}%", f"hi {level}%"}
    return out


def split_table(wb, book: xlsx.Book, title: str, df: pd.DataFrame, name: str, *, max_rows: int, freeze: str = "A2", **kwargs) -> list:
    """Write ``df`` as one table, or over continuation sheets ``Title``, ``Title (2)``... when it exceeds ``max_rows``.

    Returns the worksheets written.
    """
    sheets = []
    for i, part in enumerate(xlsx.chunks(df, max_rows)):
        sheet = xlsx.new_sheet(wb, book, title if i == 0 else f"{title} ({i + 1})")
        xlsx.write_table(sheet, book, part.reset_index(drop=True), name if i == 0 else f"{name}_{i + 1}", **kwargs)
        xlsx.finish_sheet(sheet, freeze=freeze)
        sheets.append(sheet)
    return sheets
