"""Coherence of the forecast: queue totals and language totals are the sums of their cells.

capplan reconciles **bottom-up**: the (queue, language) cells are forecast and every total is
derived by summing cells, so totals are coherent by construction and a planner sees the same
number whichever way the table is cut. Bounds of a total are the sums of the cells' bounds: a
conservative (wide) band, exact if the cells' errors were perfectly correlated. Top-down or
MinT reconciliation (e.g. Nixtla's hierarchicalforecast) would adjust the cells themselves; with
staffing decided per cell, bottom-up keeps each cell's own, backtested model.

References
----------
Hyndman, R. J., Athanasopoulos, G. (2021). Forecasting: principles and practice, 3rd ed., ch. 11.2
(bottom-up approach). OTexts.
"""

from __future__ import annotations

import pandas as pd

from capplan.schema import INTERVAL_START, LANGUAGE, QUEUE

ALL = "*"


def aggregate_totals(forecast: pd.DataFrame) -> pd.DataFrame:
    """Totals per queue, per language and overall, per interval, by summing cells.

    Parameters
    ----------
    forecast : DataFrame
        The forecast table (``queue``, ``language``, ``interval_start``, ``volume``,
        ``volume_lo_<L>``, ``volume_hi_<L>``, ...) [items per interval].

    Returns
    -------
    DataFrame
        ``level`` (``queue`` | ``language`` | ``total``), ``queue``, ``language`` (``*`` where
        summed over), ``interval_start`` and the summed volume columns; sorted.
    """
    value_cols = [c for c in forecast.columns if c == "volume" or c.startswith("volume_")]
    parts = []
    for level, keys in (("queue", [QUEUE]), ("language", [LANGUAGE]), ("total", [])):
        g = forecast.groupby(keys + [INTERVAL_START], sort=True, as_index=False)[value_cols].sum()
        for k in (QUEUE, LANGUAGE):
            if k not in keys:
                g[k] = ALL
        g.insert(0, "level", level)
        parts.append(g[["level", QUEUE, LANGUAGE, INTERVAL_START] + value_cols])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["level", QUEUE, LANGUAGE, INTERVAL_START], kind="stable").reset_index(drop=True)
