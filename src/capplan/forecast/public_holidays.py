"""Public holidays per cell (the ``holidays`` package): taken out of the history, put into the forecast.

``forecast.holiday_countries`` maps a language code, or ``"*"`` for every cell, to a country code
known to the ``holidays`` package, optionally with a subdivision (``"US"``, ``"AU-VIC"``). For every
cell with a country:

* its holiday days in the history are replaced by the usual volume of the same weekday (like an
  outage, :mod:`capplan.forecast.clean`), so no model copies a holiday into an ordinary week;
* its **holiday effect** is the ratio of its volume on past holidays to the usual volume of those
  weekdays (ratio of sums), shrunk toward 1 by one pseudo-holiday of ordinary volume:
  ``r = (sum y_h + m) / (sum ref_h + m)`` with ``m`` the mean reference volume of a holiday;
* holiday days in the horizon are multiplied by ``r`` (forecast and bounds).

One effect per cell pools all its country's holidays (a year of history holds each holiday once).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from capplan.forecast.clean import reference_median
from capplan.schema import LANGUAGE

ALL = "*"


def split_code(code: str) -> tuple[str, str | None]:
    """``"AU-VIC"`` -> ``("AU", "VIC")``; ``"US"`` -> ``("US", None)``."""
    country, _, subdiv = code.partition("-")
    return country.upper(), (subdiv.upper() or None)


def holiday_mask(cells: pd.DataFrame, countries: dict[str, str], start: pd.Timestamp, n_days: int) -> np.ndarray:
    """Whether each day from ``start`` is a public holiday for each cell, shape (n_cells, n_days)."""
    import holidays

    mask = np.zeros((len(cells), n_days), bool)
    if not countries or n_days <= 0:
        return mask
    days = pd.date_range(start, periods=n_days, freq="D")
    years = sorted(set(days.year))
    cache: dict[str, np.ndarray] = {}
    for i, lang in enumerate(cells[LANGUAGE]):
        code = countries.get(lang, countries.get(ALL))
        if not code:
            continue
        if code not in cache:
            country, subdiv = split_code(code)
            cal = holidays.country_holidays(country, subdiv=subdiv, years=years)
            cache[code] = np.array([dt.date(d.year, d.month, d.day) in cal for d in days])
        mask[i] = cache[code]
    return mask


def holiday_effect(daily: np.ndarray, past: np.ndarray) -> np.ndarray:
    """Each cell's holiday multiplier from its past holidays (see module notes), shape (n_cells,).

    ``daily`` (n, d): daily totals [items] before cleaning; ``past`` (n, d): holiday days. 1 where a
    cell has no past holiday with a usual volume to compare with.
    """
    ref = reference_median(daily)
    use = past & np.isfinite(ref) & np.isfinite(daily)
    y = np.where(use, daily, 0.0).sum(axis=1)
    r = np.where(use, ref, 0.0).sum(axis=1)
    k = use.sum(axis=1)
    m = np.where(k > 0, r / np.maximum(k, 1), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        effect = np.where((k > 0) & (r > 0), (y + m) / (r + m), 1.0)
    return effect
