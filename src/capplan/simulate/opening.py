"""Rolling weeks in a replay: the opening backlog a week starts from and the closing backlog it leaves.

A replay starts from the same opening backlog as the plan it replays (docs/rolling.md):

* a *terminal* plan opened with ``inputs/backlog.csv``: the same rows;
* a *cyclic* plan carried its own end-of-week backlog into its start: that backlog, from the plan's
  ``coverage.parquet`` (the last interval's backlog per cell, the newest work of the week, FIFO), placed one week
  earlier, as :func:`capplan.staffing.backlog.carried_over` places it.

Opening items sit at the head of their cell's FIFO line (they are worked at minute 0 onwards, before the window's
arrivals) and are judged against their own deadlines: an item that arrived at minute ``k < 0`` is due by the end of
minute ``k + within - 1`` (the engine's rule; :mod:`capplan.simulate.engine`), already late if that is before 0.
They count as judged items of the first interval, not as arrivals. The closing backlog (items not done at the
window's end, by arrival interval) is written in the layout of ``inputs/backlog.csv``, so the next week can start
from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from capplan.schema import ARRIVED, BACKLOG_TABLE, INTERVAL_START, ITEMS, LANGUAGE, QUEUE


@dataclass
class Opening:
    """Opening cohorts per deferred cell (row d of the engine's arrays): due minute, work [standard s], items."""

    due_min: list[np.ndarray]
    work_s: list[np.ndarray]
    items: list[np.ndarray]

    @property
    def work_total_s(self) -> np.ndarray:
        return np.array([float(w.sum()) for w in self.work_s])

    @property
    def items_total(self) -> np.ndarray:
        return np.array([float(n.sum()) for n in self.items])


def opening_cohorts(model, backlog: pd.DataFrame | None) -> Opening | None:
    """The opening rows (``queue``, ``language``, ``arrived``, ``items``) as cohorts of the model's deferred cells.

    Rows of cells the model does not replay (realtime or unknown) are left out; work is ``items x aht_s``.
    """
    if backlog is None or not len(backlog):
        return None
    D = len(model.def_cells)
    index = {k: d for d, k in enumerate(zip(model.cells[QUEUE].to_numpy()[model.def_cells], model.cells[LANGUAGE].to_numpy()[model.def_cells]))}
    aht = model.cells["aht_s"].to_numpy(float)[model.def_cells]
    due, work, items = [np.zeros(0)] * D, [np.zeros(0)] * D, [np.zeros(0)] * D
    offset = np.floor((pd.to_datetime(backlog[ARRIVED], utc=True) - model.start).dt.total_seconds().to_numpy() / 60.0).astype(np.int64)
    cell = np.array([index.get(k, -1) for k in zip(backlog[QUEUE], backlog[LANGUAGE])])
    n = backlog[ITEMS].to_numpy(float)
    for d in range(D):
        sel = np.flatnonzero(cell == d)
        order = sel[np.argsort(offset[sel], kind="stable")]
        due[d] = offset[order] + model.def_within_min[d] - 1
        items[d] = n[order]
        work[d] = n[order] * aht[d]
    return Opening(due, work, items)


def add_opening(items, opening: Opening | None) -> None:
    """Put the opening work at the head of each line: in minute 0 of ``def_work_s`` / ``def_items``; keeps ``items.def_open``."""
    items.def_open = opening
    if opening is None or not items.def_work_s.shape[0]:
        return
    items.def_work_s[:, 0] += opening.work_total_s
    items.def_items[:, 0] += opening.items_total


def judge_opening(opening: Opening, done: np.ndarray, M: int) -> tuple[np.ndarray, np.ndarray]:
    """Items of the opening cohorts done by their deadlines, and all of them, per deferred cell [items].

    Cohort j occupies FIFO positions ``[P_j, P_j + w_j)`` of the line (``P`` the work before it); it is on time for
    ``clip(done(due_j) - P_j, 0, w_j) / w_j`` of its items, none when it was due before the window.
    """
    D = done.shape[0]
    on = np.zeros(D)
    total = np.zeros(D)
    for d in range(D):
        w, n, due = opening.work_s[d], opening.items[d], opening.due_min[d]
        if not len(w):
            continue
        before = np.concatenate([[0.0], np.cumsum(w)[:-1]])
        at_due = np.where(due >= 0, done[d, np.clip(due, 0, M - 1)], 0.0)
        share = np.divide(np.clip(at_due - before, 0.0, w), w, out=np.ones_like(w), where=w > 0)
        on[d] = float((share * n).sum())
        total[d] = float(n.sum())
    return on, total


def closing_backlog(model, items, trace) -> pd.DataFrame:
    """Deferred items not done at the window's end, per cell and arrival interval (the layout of ``inputs/backlog.csv``).

    FIFO: the undone work is the newest, ``clip(arrived_k - done_end, 0, w_k)`` of minute k's work; items pro rata.
    Items are rounded to 0.01 and dated at the start of their arrival interval.
    """
    rows = []
    cum_w, done = trace.def_arrived_s, trace.def_done_s
    for d, c in enumerate(model.def_cells):
        if not cum_w.shape[1]:
            break
        w, n = items.def_work_s[d], items.def_items[d]
        undone = np.clip(cum_w[d] - done[d, -1], 0.0, w)
        left = np.divide(undone, w, out=np.zeros_like(w), where=w > 0) * n
        per_t = left.reshape(model.T, model.step).sum(axis=1)
        for t in np.flatnonzero(per_t > 0.005):
            rows.append((model.cells.at[c, QUEUE], model.cells.at[c, LANGUAGE], model.start + pd.Timedelta(minutes=int(t) * model.step),
                         round(float(per_t[t]), 2)))
    frame = pd.DataFrame(rows, columns=BACKLOG_TABLE.column_names)
    frame[ARRIVED] = pd.to_datetime(frame[ARRIVED], utc=True)
    return frame


def plan_opening(plan_dir, ws, config) -> pd.DataFrame | None:
    """The opening backlog the plan in ``plan_dir`` started from (see the module docstring), or None."""
    import json
    from pathlib import Path

    from capplan.staffing.backlog import carried_over, due_shift

    path = Path(plan_dir) / "solve.json"
    solve = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    mode = solve.get("week_end")
    if mode == "terminal":
        return getattr(ws, "backlog", None)
    if mode != "cyclic" or not (Path(plan_dir) / "coverage.parquet").is_file():
        return None
    cov = pd.read_parquet(Path(plan_dir) / "coverage.parquet")
    if "kind" not in cov or "workload_hours" not in cov:
        return None
    start = pd.Timestamp(config.planning.start, tz="UTC")
    h = config.planning.interval_minutes / 60.0
    within = dict(zip(ws.queues[QUEUE], ws.queues["within_s"].astype(float)))
    aht = dict(zip(zip(ws.handle_times[QUEUE], ws.handle_times[LANGUAGE]), ws.handle_times["aht_s"].astype(float)))
    rows = []
    for (q, lang), g in cov[cov["kind"] != "realtime"].groupby([QUEUE, LANGUAGE], sort=True):
        g = g.sort_values(INTERVAL_START)
        end = float(g["backlog"].iloc[-1])
        if end <= 0 or (q, lang) not in aht:
            continue
        shift = due_shift(h * 60.0, within[q])
        by_due = carried_over(g["workload_hours"].to_numpy(float), shift, end)
        T = len(g)
        for j in np.flatnonzero(by_due[:T] > 0):
            rows.append((q, lang, start + pd.Timedelta(hours=(int(j) - shift) * h), float(by_due[j]) * 3600.0 / aht[(q, lang)]))
    return pd.DataFrame(rows, columns=BACKLOG_TABLE.column_names) if rows else None
