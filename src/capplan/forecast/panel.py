"""History -> a dense hourly panel (cells x hours), the grid every model works on.

Documented choices
------------------
* **Model grid is hourly.** History finer than an hour is summed to hours; history coarser than
  an hour is an :class:`~capplan.errors.InputError`; a cell mixing whole-hour and finer rows is
  summed per hour too, with a warning (an hour exported at both grains would count twice). Forecasts for 15/30-minute planning
  intervals split each hour evenly (see :func:`capplan.forecast.run.run_forecast`).
* **Whole UTC days.** The panel starts and ends at UTC midnight so daily and hourly models share
  backtest cut-offs. A partial last day is dropped (with a warning), unless its last row is at
  or after the latest hour of day of the previous four weeks (business-hours history: exports
  omit the empty night hours); a cell whose first row is not at midnight starts at the next midnight.
* **Gaps are zeros.** Hours with no row between a cell's first row and the end of the history
  are read as zero volume (many exports omit empty intervals); the count is reported as a warning.
* **History after the planning start** is ignored (with a warning); history ending more than
  ``planning.max_history_gap_days`` before the planning start is an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capplan.errors import InputError, Problem
from capplan.schema import CELL_KEYS, INTERVAL_START, LANGUAGE, QUEUE, VOLUME

HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)


@dataclass
class Panel:
    """Hourly volumes of every cell on one UTC grid.

    Attributes
    ----------
    cells : DataFrame
        ``queue``, ``language``; row ``i`` is row ``i`` of :attr:`values`. Sorted.
    start : Timestamp
        UTC midnight of the first column (tz-naive, UTC).
    values : ndarray, shape (n_cells, n_days * 24)
        Volume per hour [items]; NaN before a cell's first day.
    first_day : ndarray of int, shape (n_cells,)
        Index of each cell's first day with data.
    filled_zero : ndarray of int, shape (n_cells,)
        Hours with no history row, read as zero.
    """

    cells: pd.DataFrame
    start: pd.Timestamp
    values: np.ndarray
    first_day: np.ndarray
    filled_zero: np.ndarray

    @property
    def n_days(self) -> int:
        return self.values.shape[1] // 24

    @property
    def end(self) -> pd.Timestamp:
        """Exclusive end (UTC midnight, tz-naive)."""
        return self.start + self.n_days * DAY

    def days_of_history(self) -> np.ndarray:
        return self.n_days - self.first_day

    def hours(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.values.shape[1], freq="h")

    def daily(self) -> np.ndarray:
        """Daily totals, shape (n_cells, n_days) [items]; NaN before a cell's first day."""
        return self.values.reshape(len(self.cells), self.n_days, 24).sum(axis=2)


def planning_start(config) -> pd.Timestamp:
    """UTC midnight of ``config.planning.start`` (tz-naive, UTC)."""
    return pd.Timestamp(dt.datetime.combine(config.planning.start, dt.time()))


def build_panel(history: pd.DataFrame, config, warnings: list[str]) -> Panel:
    """Turn the history table into a :class:`Panel` (see the module notes for every rule).

    Parameters
    ----------
    history : DataFrame
        ``interval_start`` (UTC), ``queue``, ``language``, ``volume`` [items].
    config : capplan.config.Config
    warnings : list of str
        Appended to (non-fatal findings).
    """
    missing = [c for c in (INTERVAL_START, QUEUE, LANGUAGE, VOLUME) if c not in history.columns]
    if missing:
        raise InputError(
            [Problem("history", f"missing column(s) {missing}", expected="interval_start, queue, language, volume",
                     found=", ".join(map(str, history.columns)), fix="add the columns to inputs/history.csv")]
        )
    t0 = planning_start(config)
    times = pd.to_datetime(history[INTERVAL_START], utc=True).dt.tz_convert("UTC").dt.tz_localize(None)
    df = pd.DataFrame({QUEUE: history[QUEUE].astype(str), LANGUAGE: history[LANGUAGE].astype(str),
                       "t": times, "y": pd.to_numeric(history[VOLUME], errors="coerce").astype(float)})
    df = df[df["y"].notna()]
    late = df["t"] >= t0
    if late.any():
        warnings.append(f"history: {int(late.sum())} rows at or after the planning start {t0.date()} are ignored")
        df = df[~late]
    if df.empty:
        raise InputError([Problem("history", "no history before the planning start",
                                  expected=f"hourly rows before {t0.date()}", found="none",
                                  fix="add history or move planning.start in capplan.toml")])
    _check_resolution(df)
    _warn_mixed_granularity(df, warnings)

    df["t"] = df["t"].dt.floor("h")
    df = df.groupby([QUEUE, LANGUAGE, "t"], sort=True, as_index=False)["y"].sum()
    last = df["t"].max()
    end = (last + HOUR).floor("D")
    if end < last + HOUR and _day_looks_complete(df["t"], last):
        end = end + DAY  # business-hours history: no rows after the usual last hour of a day
    elif end < last + HOUR:
        warnings.append(f"history: the last, partial day {last.date()} (until {last + HOUR:%H:%M} UTC) is not used")
    gap_days = (t0 - end) / DAY
    max_gap = config.planning.max_history_gap_days
    if gap_days > max_gap:
        raise InputError([Problem(
            "history", f"history ends {end - HOUR:%Y-%m-%d %H:%M} UTC, {gap_days:.0f} days before the planning start {t0.date()}",
            expected=f"history reaching within planning.max_history_gap_days = {max_gap} days of the start",
            found=f"a gap of {gap_days:.0f} days",
            fix="add recent history, move planning.start earlier, or raise planning.max_history_gap_days in capplan.toml")])

    cells = df[CELL_KEYS].drop_duplicates().sort_values(CELL_KEYS, kind="stable").reset_index(drop=True)
    start = df["t"].min().floor("D")
    n_hours = int((end - start) / HOUR)
    n_days = n_hours // 24
    code = pd.MultiIndex.from_frame(cells).get_indexer(pd.MultiIndex.from_frame(df[CELL_KEYS]))
    col = ((df["t"] - start) / HOUR).to_numpy().astype(np.int64)
    keep = col < n_hours
    values = np.zeros((len(cells), n_hours))
    seen = np.zeros((len(cells), n_hours), dtype=bool)
    values[code[keep], col[keep]] = df["y"].to_numpy()[keep]
    seen[code[keep], col[keep]] = True

    first_hour = np.full(len(cells), n_hours, dtype=np.int64)
    np.minimum.at(first_hour, code, col)
    first_day = np.minimum((first_hour + 23) // 24, n_days)  # next midnight unless at midnight
    hour_idx = np.arange(n_hours)
    before = hour_idx[None, :] < (first_day * 24)[:, None]
    values[before] = np.nan
    filled = (~seen & ~before).sum(axis=1)
    if filled.sum():
        worst = int(np.argmax(filled))
        warnings.append(
            f"history: {int(filled.sum())} missing hours inside the history of {int((filled > 0).sum())} cell(s) are "
            f"read as zero volume (most: {cells.at[worst, QUEUE]}/{cells.at[worst, LANGUAGE]} with {int(filled[worst])})"
        )
    return Panel(cells=cells, start=start, values=values, first_day=first_day, filled_zero=filled)


def _day_looks_complete(times: pd.Series, last: pd.Timestamp, weeks: int = 4) -> bool:
    """Whether the last day of the history is complete although it ends before midnight.

    Exports omit empty intervals, so a queue open 07:00-21:00 has no rows after 21:00 on any day.
    The last day counts as complete when its last row is at or after the latest hour of day that
    any of the previous ``weeks`` weeks reached (then it ends where days usually end).
    """
    day = last.floor("D")
    prev = times[(times >= day - pd.Timedelta(weeks=weeks)) & (times < day)]
    if prev.empty:
        return False
    return bool(last.hour >= prev.dt.hour.max())


def _warn_mixed_granularity(df: pd.DataFrame, warnings: list[str]) -> None:
    """Warn about cells whose history mixes whole-hour rows with 15/30-minute rows.

    Every hour's rows are summed, which is right when the single ``:00`` rows are hourly totals, but an
    export that switched granularity may also repeat an hour at both grains (counted twice), so the
    planner is told which cells to check.
    """
    hour = df["t"].dt.floor("h")
    sub = (df["t"] != hour).groupby([df[QUEUE], df[LANGUAGE]]).any()
    finer = sub[sub].index
    if not len(finer):
        return
    rows = df.groupby([df[QUEUE], df[LANGUAGE], hour]).size()
    rows = rows[rows.index.droplevel(2).isin(finer)]
    single = (rows == 1).groupby(level=[0, 1]).sum()
    mixed = single[(single > 0) & (single < rows.groupby(level=[0, 1]).size())]
    if len(mixed):
        (q, lang), n = mixed.index[0], int(mixed.iloc[0])
        warnings.append(
            f"history: {len(mixed)} cell(s) mix whole-hour rows with 15/30-minute rows (e.g. {q}/{lang}: {n} hour(s) "
            "with a single row); each hour's rows are summed: check that no hour is exported at both grains")


def _check_resolution(df: pd.DataFrame) -> None:
    """History must be hourly or finer: the smallest step within a cell is at most one hour."""
    s = df.sort_values([QUEUE, LANGUAGE, "t"], kind="stable")
    step = s["t"].diff()
    same = (s[QUEUE] == s[QUEUE].shift()) & (s[LANGUAGE] == s[LANGUAGE].shift())
    step = step[same & (step > pd.Timedelta(0))]
    if len(step) and step.min() > HOUR:
        raise InputError([Problem(
            "history", "history is coarser than hourly", expected="hourly (or finer) interval_start values",
            found=f"rows at least {step.min()} apart", fix="export arrivals per hour (or per 15/30 minutes)")])
