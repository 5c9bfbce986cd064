"""Forecast error measures shared by ``capplan accuracy`` and ``capplan evaluate``.

Both compare a forecast with the actual arrivals on a common hourly grid: a forecast for 15- or
30-minute intervals is an even split of an hourly one (:mod:`capplan.forecast.run`), and history may
be finer than an hour, so both sides are summed to whole UTC hours first.

WAPE and the cumulative error come from utilsforecast (``wape``, ``cfe``); the bias is the
cumulative error over the actual total, so both read as shares of the actual volume.

References
----------
Hyndman, R. J. and Athanasopoulos, G. (2021), *Forecasting: Principles and Practice*, 3rd ed.,
section 5.8 (scale-dependent errors, percentage errors).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.schema import ACTUAL, BIAS, CELL_KEYS, FORECAST, INTERVAL_START, WAPE

_ID = "unique_id"


def hourly(frame: pd.DataFrame, value: str, name: str) -> pd.DataFrame:
    """Sum ``value`` to whole UTC hours per cell: ``queue, language, interval_start, <name>``."""
    out = frame[[*CELL_KEYS, INTERVAL_START, value]].copy()
    out[INTERVAL_START] = pd.to_datetime(out[INTERVAL_START], utc=True).dt.floor("h")
    out = out.groupby([*CELL_KEYS, INTERVAL_START], sort=True, observed=True)[value].sum().reset_index()
    return out.rename(columns={value: name})


def errors_by(frame: pd.DataFrame, keys: list[str], models: tuple[str, ...] = (FORECAST,)) -> pd.DataFrame:
    """WAPE and bias of each forecast column in ``models`` against ``actual``, per group of ``keys``.

    Parameters
    ----------
    frame : DataFrame
        ``keys`` columns, ``actual`` and each column of ``models`` [items], one row per cell-hour.
    keys : grouping columns (an empty list gives one overall row).
    models : forecast columns; the first keeps the names ``wape`` and ``bias``, others get
        ``<model>_wape`` and ``<model>_bias``.

    Returns
    -------
    DataFrame
        ``keys``, ``actual``, each model's total, its WAPE and bias (NaN where nothing arrived),
        sorted by ``keys``.
    """
    from utilsforecast.losses import cfe, wape

    models = list(models)
    if not keys:
        frame = frame.assign(_all=0)
        return errors_by(frame, ["_all"], tuple(models)).drop(columns="_all")
    groups = frame.groupby(keys, sort=True, observed=True)
    df = pd.DataFrame({_ID: groups.ngroup().to_numpy(), "y": frame[ACTUAL].to_numpy(dtype=float)})
    for m in models:
        df[m] = frame[m].to_numpy(dtype=float)
    totals = df.groupby(_ID, sort=True)[["y", *models]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        w = wape(df, models).set_index(_ID).reindex(totals.index)
        c = cfe(df, models).set_index(_ID).reindex(totals.index)
    result = groups.size().reset_index()[keys].assign(**{ACTUAL: totals["y"].to_numpy()})
    actual = totals["y"].to_numpy()
    for i, m in enumerate(models):
        wape_name, bias_name = (WAPE, BIAS) if i == 0 else (f"{m}_{WAPE}", f"{m}_{BIAS}")
        result[m] = totals[m].to_numpy()
        ok = actual > 0
        result[wape_name] = np.where(ok, w[m].to_numpy(), np.nan)
        result[bias_name] = np.where(ok, c[m].to_numpy() / np.where(ok, actual, 1.0), np.nan)
    return result.reset_index(drop=True)


__all__ = ["hourly", "errors_by"]
