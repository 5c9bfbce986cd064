"""Sheets shared by several workbooks: forecast daily totals with native charts, split long tables."""

from __future__ import annotations

import pandas as pd

from capplan.report import tidy, xlsx
from capplan.schema import QUEUE, VOLUME, WEEK_START

HISTORY_DAYS_IN_CHART = 56  # days of history shown before the forecast in each chart [days]
CHART_ROWS = 17  # rows between two charts


def band_formats(frame: pd.DataFrame, fmt: str) -> dict[str, str]:
    return {c: fmt for c in [VOLUME, *tidy.level_columns(frame)]}


def forecast_sheets(book: xlsx.Book, forecast: pd.DataFrame, history: pd.DataFrame, start: pd.Timestamp | None) -> tuple:
    """``Forecast`` (daily totals per queue x language, bands aggregated properly), ``Forecast weekly``
    (weekly history vs forecast) and ``Forecast charts`` (one line chart per queue).

    Returns the three sheets. ``start`` is the first forecast day (history is shown before it).
    """
    daily = tidy.daily_forecast(forecast, history)
    sheet = xlsx.new_sheet(book, "Forecast")
    xlsx.write_table(sheet, daily, "forecast_daily", formats={**band_formats(daily, xlsx.INT), "date": xlsx.DATE},
                     headers={"date": "date (UTC)", "band_correlation": "within-day error correlation"})
    xlsx.finish_sheet(sheet, freeze="D2")

    weekly = tidy.weekly_history_forecast(history, forecast)
    week_sheet = xlsx.new_sheet(book, "Forecast weekly")
    xlsx.write_table(week_sheet, weekly, "forecast_weekly",
                     formats={**band_formats(weekly, xlsx.INT), WEEK_START: xlsx.DATE, "history": xlsx.INT},
                     headers={WEEK_START: "week_start (UTC, Monday)", "history": "history volume", VOLUME: "forecast volume",
                              "band_correlation": "within-week error correlation"})
    xlsx.finish_sheet(week_sheet, freeze="D2")

    if start is None:
        start = daily["date"].min() if len(daily) else None
    hist = tidy.daily_history(history, before=start, days=HISTORY_DAYS_IN_CHART) if start is not None else tidy.daily_history(history)
    levels = sorted({int(c.rsplit("_", 1)[1]) for c in tidy.level_columns(daily)})
    level = levels[0] if levels else None
    wide = tidy.chart_frame(hist, daily, level)
    chart_sheet = xlsx.new_sheet(book, "Forecast charts")
    placed = xlsx.write_table(chart_sheet, wide, "forecast_chart_data", formats={c: xlsx.INT for c in wide.columns if c != "date"} | {"date": xlsx.DATE},
                              headers={"date": "date (UTC)"})
    xlsx.finish_sheet(chart_sheet, freeze="B2")
    _charts(book, chart_sheet, placed, wide, sorted(set(hist[QUEUE]).union(daily[QUEUE])), level)
    return sheet, week_sheet, chart_sheet


def _charts(book: xlsx.Book, chart_sheet: xlsx.Sheet, placed: xlsx.Placed, wide: pd.DataFrame, queues: list[str], level: int | None) -> None:
    """One line chart per queue: history, forecast and the band (dashed) by day."""
    cols = list(wide.columns)
    anchor_col = len(cols) + 1  # 0-based column after the data and one blank column
    for i, q in enumerate(queues):
        series = [c for c in cols if c.startswith(f"{q} ") and c[len(q) + 1:] in _series_suffixes(level)]
        if not series or len(wide) == 0:
            continue
        chart = book.wb.add_chart({"type": "line"})
        chart.set_title({"name": f"{q}: daily volume, history vs forecast" + (f" with {level}% band" if level else "")})
        chart.set_y_axis({"name": "items per day", "num_format": "#,##0"})
        chart.set_x_axis({"name": "date (UTC)", "num_format": "yyyy-mm-dd", "date_axis": True})
        chart.set_size({"width": 830, "height": 300})
        for name in series:
            c = cols.index(name)
            line = {"width": 0.75, "dash_type": "dash"} if (" lo " in name or " hi " in name) else {"width": 1.5}
            chart.add_series({
                "name": [chart_sheet.title, placed.header_row - 1, c],
                "categories": [chart_sheet.title, placed.first_row - 1, 0, placed.last_row - 1, 0],
                "values": [chart_sheet.title, placed.first_row - 1, c, placed.last_row - 1, c],
                "line": line, "marker": {"type": "none"},
            })
        chart_sheet.xl.insert_chart(CHART_ROWS * i, anchor_col, chart)


def _series_suffixes(level: int | None) -> set[str]:
    out = {"history", "forecast"}
    if level is not None:
        out |= {f"lo {level}%", f"hi {level}%"}
    return out


def split_table(book: xlsx.Book, title: str, df: pd.DataFrame, name: str, *, max_rows: int, freeze: str = "A2", **kwargs) -> list:
    """Write ``df`` as one table, or over continuation sheets ``Title``, ``Title (2)``... when it exceeds ``max_rows``.

    ``kwargs`` go to :func:`xlsx.write_table`; formula values (``xlsx.Formula.values``) are cut with the rows.
    Returns ``[(sheet, placed), ...]``.
    """
    formulas = kwargs.pop("formulas", None) or {}
    out = []
    offset = 0
    for i, part in enumerate(xlsx.chunks(df, max_rows)):
        sheet = xlsx.new_sheet(book, title if i == 0 else f"{title} ({i + 1})")
        part_formulas = {c: xlsx.Formula(f.template, list(f.values)[offset:offset + len(part)]) for c, f in formulas.items()}
        placed = xlsx.write_table(sheet, part.reset_index(drop=True), name if i == 0 else f"{name}_{i + 1}",
                                  formulas=part_formulas, **kwargs)
        xlsx.finish_sheet(sheet, freeze=freeze)
        out.append((sheet, placed))
        offset += len(part)
    return out
