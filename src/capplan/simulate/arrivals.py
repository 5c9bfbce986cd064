"""Arrivals of the window: items per cell placed in time, with random handle times.

Counts
------
An arrivals table gives the items of each (queue, language, interval) (history-shaped: ``volume``
per ``interval_start``). A fractional volume is rounded at random (``floor(v)`` plus one with
probability ``v - floor(v)``), so counts keep their mean. Inside its interval every item arrives at
a uniform random instant: given the count, that *is* a Poisson process of constant rate over the
interval (order statistics of uniforms), for realtime and deferred cells alike. The interval length
of the arrivals is their own spacing (the most common step between a cell's rows), so hourly
history replays a 15-minute plan correctly.

Handle times
------------
Every item's handle time at proficiency 1.0 is drawn around the cell's AHT (``handle_times``), and a
moderator of a pool with proficiency ``f`` takes ``f`` times as long. Distribution per cell:

* ``lognormal`` with mean AHT and a per-item coefficient of variation (CV) estimated from the
  history's ``aht_s``: an interval mean of ``n`` items varies as ``Var = s^2 + sigma^2 / n``
  (``s`` = drift between intervals, ``sigma`` = item spread), so the least-squares slope of the
  squared deviations on ``1/n`` estimates ``sigma^2`` (method of moments). Used when at least
  :data:`MIN_AHT_INTERVALS` intervals carry ``aht_s`` and the slope is positive; CV clipped to
  [:data:`CV_MIN`, :data:`CV_MAX`].
* ``exponential`` (CV 1) otherwise, or for every cell with ``handle="exponential"``.

Deferred cells are simulated per minute (see :mod:`capplan.simulate.engine`): the work of the
``n`` items arriving in a minute is the sum of ``n`` handle times, drawn as a gamma variable with
the same mean ``n AHT`` and variance ``n (CV AHT)^2`` (exact for exponential handle times).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from capplan.errors import InputError, Problem
from capplan.schema import INTERVAL_START, LANGUAGE, QUEUE, VOLUME

MIN_AHT_INTERVALS = 20
CV_MIN, CV_MAX = 0.1, 3.0
HANDLE_DISTRIBUTIONS = ("auto", "lognormal", "exponential")


def cell_table(ws) -> pd.DataFrame:
    """Every workspace cell with its queue's kind, target, windows, severity and AHT (cell index = row)."""
    cells = ws.cells()
    q = ws.queues.set_index(QUEUE).loc[cells[QUEUE]]
    ht = ws.handle_times.set_index([QUEUE, LANGUAGE])["aht_s"]
    out = cells.copy()
    out["kind"] = q["kind"].to_numpy()
    out["target"] = q["target"].astype(float).to_numpy()
    out["within_s"] = q["within_s"].astype(float).to_numpy()
    patience = q["patience_s"].astype(float).to_numpy() if "patience_s" in q else np.full(len(out), np.nan)
    out["patience_s"] = np.where(np.isfinite(patience), patience, np.inf)
    out["severity"] = q["severity"].astype(int).to_numpy()
    out["egregious"] = q["egregious"].astype(bool).to_numpy()
    out["aht_s"] = [float(ht.loc[k]) for k in zip(out[QUEUE], out[LANGUAGE])]
    for column in ("max_asa_s", "max_abandon"):  # optional realtime targets, NaN = none
        out[column] = q[column].astype(float).to_numpy() if column in q else np.full(len(out), np.nan)
    return out


def handle_cv(history: pd.DataFrame, cells: pd.DataFrame, handle: str = "auto") -> np.ndarray:
    """Per-item coefficient of variation of handle time per cell (NaN = exponential).

    See the module docstring for the estimator; ``handle`` is ``auto`` (lognormal where history
    allows), ``lognormal`` (same, exponential where it does not) or ``exponential``.
    """
    if handle not in HANDLE_DISTRIBUTIONS:
        raise ValueError(f"handle must be one of {HANDLE_DISTRIBUTIONS}, got {handle!r}")
    cv = np.full(len(cells), np.nan)
    if handle == "exponential" or "aht_s" not in history.columns:
        return cv
    h = history.dropna(subset=["aht_s"])
    h = h[h[VOLUME] >= 1]
    groups = dict(tuple(h.groupby([QUEUE, LANGUAGE], sort=False)))
    for i, key in enumerate(zip(cells[QUEUE], cells[LANGUAGE])):
        g = groups.get(key)
        if g is None or len(g) < MIN_AHT_INTERVALS:
            continue
        n = g[VOLUME].to_numpy(float)
        a = g["aht_s"].to_numpy(float)
        mean = float(np.average(a, weights=n))
        y = (a - mean) ** 2
        x = 1.0 / n
        if np.ptp(x) <= 0:
            continue
        slope = np.polyfit(x, y, 1)[0]
        if slope > 0:
            cv[i] = float(np.clip(np.sqrt(slope) / mean, CV_MIN, CV_MAX))
    return cv


def draw_handle(rng: np.random.Generator, mean_s: np.ndarray, cv: np.ndarray) -> np.ndarray:
    """One handle time per item [s]: lognormal with the given mean and CV, exponential where CV is NaN."""
    mean_s = np.asarray(mean_s, dtype=float)
    cv = np.asarray(cv, dtype=float)
    out = np.empty(mean_s.shape)
    expo = ~np.isfinite(cv)
    out[expo] = rng.exponential(1.0, int(expo.sum())) * mean_s[expo]
    logn = ~expo
    if logn.any():
        s2 = np.log1p(cv[logn] ** 2)
        out[logn] = mean_s[logn] * np.exp(rng.normal(0.0, 1.0, int(logn.sum())) * np.sqrt(s2) - s2 / 2.0)
    return out


def draw_work(rng: np.random.Generator, counts: np.ndarray, mean_s: np.ndarray, cv: np.ndarray) -> np.ndarray:
    """Total handle time of ``counts`` items [s]: gamma with mean ``n AHT`` and variance ``n (CV AHT)^2``."""
    counts = np.asarray(counts, dtype=float)
    c2 = np.where(np.isfinite(cv), cv, 1.0) ** 2
    shape = counts / c2
    out = np.zeros(counts.shape)
    pos = counts > 0
    out[pos] = rng.gamma(shape[pos], 1.0) * (mean_s * c2)[pos]
    return out


def arrival_step_minutes(arrivals: pd.DataFrame, default: int) -> int:
    """The spacing of the arrivals' intervals [min]: the most common step between a cell's rows."""
    if len(arrivals) < 2:
        return default
    step = arrivals.sort_values([QUEUE, LANGUAGE, INTERVAL_START]).groupby([QUEUE, LANGUAGE], sort=False)[INTERVAL_START].diff()
    mode = step.dropna().mode()
    if mode.empty:
        return default
    return max(int(round(mode.iloc[0].total_seconds() / 60.0)), 1)


@dataclass
class Arrivals:
    """Items of the window. Realtime: one row per item; deferred: counts and work per cell and minute.

    Attributes
    ----------
    rt_cell, rt_time_s, rt_patience_s, rt_handle_s : per realtime item (sorted by arrival time):
        cell index, arrival [s from the window start], patience [s] (inf = never abandons),
        handle time at proficiency 1.0 [s]
    def_cells : cell indices of the deferred cells (row d of the arrays below)
    def_items : [D, M] items arriving per minute
    def_work_s : [D, M] their total handle time at proficiency 1.0 [s]
    """

    rt_cell: np.ndarray
    rt_time_s: np.ndarray
    rt_patience_s: np.ndarray
    rt_handle_s: np.ndarray
    def_cells: np.ndarray
    def_items: np.ndarray
    def_work_s: np.ndarray
    def_open: object = None  # capplan.simulate.opening.Opening: the opening backlog at the head of the lines (or None)


def window_counts(arrivals: pd.DataFrame, cells: pd.DataFrame, start: pd.Timestamp, minutes: int,
                  step_min: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cell index, first minute, count) per arrivals row inside the window, counts rounded at random."""
    index = {k: i for i, k in enumerate(zip(cells[QUEUE], cells[LANGUAGE]))}
    a = arrivals[[QUEUE, LANGUAGE, INTERVAL_START, VOLUME]]
    offset = ((pd.to_datetime(a[INTERVAL_START], utc=True) - start).dt.total_seconds() / 60.0).to_numpy()
    keep = (offset >= 0) & (offset < minutes)
    a, offset = a[keep], offset[keep]
    ci = np.array([index.get(k, -1) for k in zip(a[QUEUE], a[LANGUAGE])], dtype=int)
    unknown = ci < 0
    if unknown.any():
        bad = a[unknown].iloc[0]
        raise InputError([Problem(file="arrivals", column=QUEUE,
                                  message=f"arrivals for {bad['queue']}/{bad['language']}, a cell with no handle time or queue in the workspace",
                                  fix="add it to inputs/handle_times.csv and inputs/queues.csv, or drop those rows")])
    volume = np.clip(a[VOLUME].to_numpy(float), 0.0, None)
    base = np.floor(volume)
    counts = (base + (rng.random(len(volume)) < volume - base)).astype(np.int64)
    return ci, np.floor(offset).astype(np.int64), counts


def build_arrivals(arrivals: pd.DataFrame, cells: pd.DataFrame, cv: np.ndarray, start: pd.Timestamp, minutes: int,
                   step_min: int, rng: np.random.Generator) -> Arrivals:
    """Place every item of the window in time and draw handle times (see the module docstring)."""
    ci, first, counts = window_counts(arrivals, cells, start, minutes, step_min, rng)
    realtime = (cells["kind"] == "realtime").to_numpy()
    aht = cells["aht_s"].to_numpy(float)
    patience = cells["patience_s"].to_numpy(float)
    # realtime: one row per item at a uniform instant of its interval
    rt_rows = realtime[ci]
    n_rt = counts[rt_rows]
    cell_rt = np.repeat(ci[rt_rows], n_rt)
    t_rt = (np.repeat(first[rt_rows], n_rt) + rng.random(int(n_rt.sum())) * step_min) * 60.0
    t_rt = np.minimum(t_rt, minutes * 60.0 - 1e-6)
    order = np.argsort(t_rt, kind="stable")
    cell_rt, t_rt = cell_rt[order], t_rt[order]
    pat = patience[cell_rt]
    finite = np.isfinite(pat)
    pat_draw = np.full(len(cell_rt), np.inf)
    pat_draw[finite] = rng.exponential(1.0, int(finite.sum())) * pat[finite]
    handle = draw_handle(rng, aht[cell_rt], cv[cell_rt])
    # deferred: items per minute (uniform minute within the interval), then their total work
    def_cells = np.flatnonzero(~realtime)
    d_index = np.full(len(cells), -1)
    d_index[def_cells] = np.arange(len(def_cells))
    d_rows = ~rt_rows
    n_d = counts[d_rows]
    minute = np.repeat(first[d_rows], n_d) + (rng.random(int(n_d.sum())) * step_min).astype(np.int64)
    dcell = np.repeat(d_index[ci[d_rows]], n_d)
    ok = minute < minutes
    items = np.bincount(dcell[ok] * minutes + minute[ok], minlength=len(def_cells) * minutes).reshape(len(def_cells), minutes)
    work = draw_work(rng, items, aht[def_cells][:, None] * np.ones((1, minutes)), np.broadcast_to(cv[def_cells][:, None], items.shape))
    return Arrivals(rt_cell=cell_rt, rt_time_s=t_rt, rt_patience_s=pat_draw, rt_handle_s=handle,
                    def_cells=def_cells, def_items=items.astype(float), def_work_s=work)
