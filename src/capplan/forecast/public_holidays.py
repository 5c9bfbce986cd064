"""Public holidays per cell (the ``holidays`` package): taken out of the history, put into the forecast.

``forecast.holiday_countries`` maps a language code, or ``"*"`` for every cell, to a country code
known to the ``holidays`` package, optionally with a subdivision (``"US"``, ``"AU-VIC"``). For every
cell with a country:

* its holiday days in the history are replaced by the usual volume of the same weekday (like an
  outage, :mod:`capplan.forecast.clean`), so no model copies a holiday into an ordinary week;
* the **effect** of a holiday is the ratio of the cell's volume on its past occurrences of the same
  holiday (by name) to the usual volume of those weekdays, shrunk toward 1 by a prior of
  :data:`PRIOR_ITEMS` ordinary items: ``r = (sum y_h + p) / (sum ref_h + p)``;
* holiday days in the horizon are multiplied by ``r`` (forecast and bounds). A holiday with no past
  occurrence in the history is not adjusted, with a warning: a bank's call centre closed on Labor Day
  may be open on Columbus Day (seen in the benchmark), so guessing from other holidays cuts the
  staffing of an ordinary day. With a year of history every holiday has been seen once.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from capplan.forecast.clean import MIN_REFERENCE_ITEMS, reference_median
from capplan.schema import LANGUAGE

ALL = "*"
#: Pseudo-count of the holiday effect's prior (an ordinary day) [items]: a busy cell's own past holiday
#: decides, a thin cell's noisy one is shrunk toward 1.
PRIOR_ITEMS = MIN_REFERENCE_ITEMS


def split_code(code: str) -> tuple[str, str | None]:
    """``"AU-VIC"`` -> ``("AU", "VIC")``; ``"US"`` -> ``("US", None)``."""
    country, _, subdiv = code.partition("-")
    return country.upper(), (subdiv.upper() or None)


def holiday_names(cells: pd.DataFrame, countries: dict[str, str], start: pd.Timestamp, n_days: int) -> np.ndarray:
    """The public holiday of each cell on each day from ``start`` (``""`` on ordinary days), shape (n_cells, n_days)."""
    import holidays

    out = np.full((len(cells), max(n_days, 0)), "", dtype=object)
    if not countries or n_days <= 0:
        return out
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
            cache[code] = np.array([cal.get(dt.date(d.year, d.month, d.day), "") for d in days], dtype=object)
        out[i] = cache[code]
    return out


def holiday_multipliers(daily: np.ndarray, past: np.ndarray, future: np.ndarray) -> tuple[np.ndarray, int]:
    """Multiplier of each future day (1 on ordinary days and unseen holidays), shape of ``future``.

    Parameters
    ----------
    daily : ndarray (n, d)
        Daily totals of the history [items] before cleaning.
    past, future : ndarray of str (n, d) and (n, h)
        Holiday names of the history and the horizon days (:func:`holiday_names`).

    Returns the multipliers and the number of (cell, holiday) pairs in the horizon with no past occurrence.
    """
    ref = reference_median(daily)
    mult = np.ones(future.shape)
    unseen = 0
    for i, j in zip(*np.nonzero(future != "")):
        same = (past[i] == future[i, j]) & np.isfinite(ref[i]) & np.isfinite(daily[i])
        if not same.any():
            unseen += 1
            continue
        y, r = daily[i, same].sum(), ref[i, same].sum()
        mult[i, j] = (y + PRIOR_ITEMS) / (r + PRIOR_ITEMS)
    return mult, unseen
