"""From the simulation's state to the replay tables: per cell and interval, per cell-week, per pool.

Realtime items are counted by the interval they arrived in (``handled`` by the interval service
started); a wait is service start minus arrival for answered items, the time until leaving for
abandoned ones, and the time waited so far for items still waiting at the window's end (the mean
wait over all arrivals, as ASA in Erlang A). Deferred cohorts (the items of one minute) are on time
for the share of their work done by their deadline (FIFO: ``clip(done(due) - arrived_before, 0,
work)``); their wait is the completion time of the cohort's middle item minus the middle of its
arrival minute (NaN while not done). ``backlog`` is items waiting at an interval's end.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.schema import (INTERVAL_START, ITEMS, LANGUAGE, POOL, QUEUE, REPLAY_CELL_COLUMNS, REPLAY_CELL_WEEK_COLUMNS,
                            REPLAY_POOL_COLUMNS)


def _per_interval(x: np.ndarray, step: int) -> np.ndarray:
    """[N, M] per minute -> [N, T] sums."""
    n, m = x.shape
    return x.reshape(n, m // step, step).sum(axis=2)


def deferred_tables(model, items, trace) -> dict[str, np.ndarray]:
    """Per deferred cell and interval: arrived, handled, on_time, judged, backlog, wait sums [D, T]."""
    D, M, step = len(model.def_cells), model.M, model.step
    n = items.def_items
    w = items.def_work_s
    cum_w = trace.def_arrived_s
    done = trace.def_done_s
    before = cum_w - w
    k = np.arange(M)
    due = k[None, :] + model.def_within_min[:, None] - 1
    judged = due < M
    due_c = np.minimum(due, M - 1)
    done_at_due = np.take_along_axis(done, due_c, axis=1)
    on_w = np.clip(done_at_due - before, 0.0, w)
    share = np.divide(on_w, w, out=np.ones_like(w), where=w > 0)
    on_items = np.where(judged, n * share, 0.0)
    judged_items = np.where(judged, n, 0.0)
    opening = getattr(items, "def_open", None)
    if opening is not None and M:  # minute 0 holds the opening backlog ahead of its own arrivals (simulate.opening)
        on_items, judged_items, n_arrived = _judge_opening(opening, n, w, done, due_c, judged, on_items, judged_items, M)
    else:
        n_arrived = n
    # items done per minute: cumulative done work mapped to cumulative items (FIFO, linear inside a cohort)
    cum_n = np.cumsum(n, axis=1)
    done_items = np.zeros((D, M))
    wait_sum = np.zeros((D, M))
    waited = np.zeros((D, M))
    for d in range(D):
        xp = np.concatenate([[0.0], cum_w[d]])
        fp = np.concatenate([[0.0], cum_n[d]])
        done_items[d] = np.interp(done[d], xp, fp)
        mid = before[d] + w[d] / 2.0
        dp = np.concatenate([[0.0], done[d]])
        j = np.searchsorted(dp, mid - 1e-9 * (1.0 + mid), side="left")  # first index with done >= mid
        ok = (n[d] > 0) & (j <= M) & (j >= 1)
        jj = np.clip(j, 1, M)
        lo, hi = dp[jj - 1], dp[jj]
        frac = np.divide(mid - lo, hi - lo, out=np.ones_like(mid), where=hi > lo)
        finish_s = (jj - 1 + np.clip(frac, 0.0, 1.0)) * 60.0
        wait = finish_s - (k + 0.5) * 60.0
        ok &= mid <= dp[-1] + 1e-9 * (1.0 + mid)
        wait_sum[d] = np.where(ok, np.maximum(wait, 0.0) * n[d], 0.0)
        waited[d] = np.where(ok, n[d], 0.0)
    handled = np.diff(np.concatenate([np.zeros((D, 1)), done_items], axis=1), axis=1)
    backlog_end = (cum_n - done_items)[:, step - 1::step]
    return {
        "arrived": _per_interval(n_arrived, step), "handled": _per_interval(handled, step), "on_time": _per_interval(on_items, step),
        "judged": _per_interval(judged_items, step), "abandoned": np.zeros((D, M // step)), "backlog": backlog_end,
        "wait_sum": _per_interval(wait_sum, step), "waited": _per_interval(waited, step),
    }


def _judge_opening(opening, n, w, done, due_c, judged, on_items, judged_items, M):
    """Minute 0 with an opening backlog: its own arrivals sit behind the opening work; the opening cohorts are judged
    on their deadlines (:func:`capplan.simulate.opening.judge_opening`) and counted as judged, not arrived, items."""
    from capplan.simulate.opening import judge_opening

    open_w, open_n = opening.work_total_s, opening.items_total
    own_w, own_n = w[:, 0] - open_w, n[:, 0] - open_n
    own_on = np.clip(done[np.arange(done.shape[0]), due_c[:, 0]] - open_w, 0.0, own_w)
    own_share = np.divide(own_on, own_w, out=np.ones_like(own_w), where=own_w > 0)
    on_open, total_open = judge_opening(opening, done, M)
    on_items, judged_items, n_arrived = on_items.copy(), judged_items.copy(), n.copy()
    on_items[:, 0] = np.where(judged[:, 0], own_n * own_share, 0.0) + on_open
    judged_items[:, 0] = np.where(judged[:, 0], own_n, 0.0) + total_open
    n_arrived[:, 0] = own_n
    return on_items, judged_items, n_arrived


def realtime_tables(model, items, trace) -> dict[str, np.ndarray]:
    """Per cell (all cells, realtime filled) and interval: the same counts from item records [C, T]."""
    C, T, step = len(model.cells), model.T, model.step
    rt = trace.rt
    end_s = model.M * 60.0
    interval_s = step * 60.0
    cell = items.rt_cell
    arr = items.rt_time_s
    served = ~np.isnan(rt.start)
    aband = rt.abandoned
    within = model.cells["within_s"].to_numpy(float)[cell] if len(cell) else np.zeros(0)
    wait = np.where(served, rt.start - arr, np.where(aband, rt.deadline_abandon - arr, end_s - arr))
    on_time = served & (wait <= within + 1e-9)
    t_arr = np.minimum((arr // interval_s).astype(int), T - 1)
    flat = cell * T + t_arr

    def count(weights, index=flat):
        return np.bincount(index, weights=weights, minlength=C * T).reshape(C, T)

    ones = np.ones(len(cell))
    t_start = np.minimum((np.nan_to_num(rt.start, nan=0.0) // interval_s).astype(int), T - 1)
    t_leave = np.minimum((np.nan_to_num(rt.deadline_abandon, posinf=end_s) // interval_s).astype(int), T)
    started_by = np.cumsum(count(served.astype(float), cell * T + t_start), axis=1)
    left = aband & ~served
    abandoned_by = np.cumsum(np.bincount(cell[left] * (T + 1) + t_leave[left], minlength=C * (T + 1)).reshape(C, T + 1)[:, :T], axis=1)
    arrived_by = np.cumsum(count(ones), axis=1)
    return {
        "arrived": count(ones), "handled": count(served.astype(float), cell * T + t_start), "on_time": count(on_time.astype(float)),
        "judged": count(ones), "abandoned": count(aband.astype(float)), "backlog": arrived_by - started_by - abandoned_by,
        "wait_sum": count(wait), "waited": count(ones),
    }


def cell_frames(model, items, trace) -> pd.DataFrame:
    """The per cell and interval table (all cells, every interval)."""
    C, T = len(model.cells), model.T
    tables = realtime_tables(model, items, trace)
    if len(model.def_cells):
        deferred = deferred_tables(model, items, trace)
        for key, value in deferred.items():
            tables[key][model.def_cells] = value
    times = pd.date_range(model.start, periods=T, freq=f"{model.step}min")
    arrived, judged = tables["arrived"], tables["judged"]
    frame = pd.DataFrame({
        QUEUE: np.repeat(model.cells[QUEUE].to_numpy(), T), LANGUAGE: np.repeat(model.cells[LANGUAGE].to_numpy(), T),
        INTERVAL_START: np.tile(times, C), "arrived": arrived.ravel(), "handled": tables["handled"].ravel(),
        "on_time": tables["on_time"].ravel(), "abandoned": tables["abandoned"].ravel(), "backlog": np.maximum(tables["backlog"], 0.0).ravel(),
        "avg_wait_s": np.divide(tables["wait_sum"], tables["waited"], out=np.full((C, T), np.nan), where=tables["waited"] > 0).ravel(),
        "service_level": np.divide(tables["on_time"], judged, out=np.full((C, T), np.nan), where=judged > 0).ravel(),
        "judged": judged.ravel(), "kind": np.repeat(model.cells["kind"].to_numpy(), T),
    })
    frame[INTERVAL_START] = pd.to_datetime(frame[INTERVAL_START], utc=True)
    return frame[REPLAY_CELL_COLUMNS + ["judged", "kind"]]


def iso_week(times: pd.Series) -> pd.Series:
    iso = times.dt.isocalendar()
    return iso["year"].astype(str) + "-W" + iso["week"].astype(int).map("{:02d}".format)


def cell_week_frame(model, cells: pd.DataFrame) -> pd.DataFrame:
    """Per cell and ISO week: judged items, on time, abandoned, achieved share, target met."""
    c = cells.assign(week=iso_week(cells[INTERVAL_START]))
    out = c.groupby([QUEUE, LANGUAGE, "week"], as_index=False, sort=True).agg(
        items=("judged", "sum"), on_time=("on_time", "sum"), abandoned=("abandoned", "sum"), arrived=("arrived", "sum"))
    info = model.cells.set_index([QUEUE, LANGUAGE])
    keys = list(zip(out[QUEUE], out[LANGUAGE]))
    out["kind"] = [info.at[k, "kind"] for k in keys]
    out["target"] = [float(info.at[k, "target"]) for k in keys]
    out["achieved"] = np.divide(out["on_time"], out["items"], out=np.full(len(out), np.nan), where=out["items"] > 0)
    out["met"] = (out["items"] <= 0) | (out["achieved"] >= out["target"] - 1e-9)
    out = _realtime_targets(out, c, info, keys)
    return out[REPLAY_CELL_WEEK_COLUMNS + ["arrived", "asa_s", "max_asa_s", "abandon_rate", "max_abandon"]]


def _realtime_targets(out: pd.DataFrame, c: pd.DataFrame, info: pd.DataFrame, keys: list) -> pd.DataFrame:
    """Realtime cell-weeks: achieved ASA (mean wait over all arrivals [s]) and abandonment share against the queue's
    optional ``max_asa_s`` / ``max_abandon``; ``met`` also requires those targets (NaN target = none)."""
    rt = c[c["kind"] == "realtime"]
    waited = (rt["avg_wait_s"].fillna(0.0) * rt["arrived"]).groupby([rt[QUEUE], rt[LANGUAGE], rt["week"]]).sum()
    arrived = rt.groupby([QUEUE, LANGUAGE, "week"])["arrived"].sum()
    idx = list(zip(out[QUEUE], out[LANGUAGE], out["week"]))
    n = arrived.reindex(idx).to_numpy(float)
    rt_rows = (out["kind"] == "realtime").to_numpy()
    out["asa_s"] = np.where(rt_rows & (n > 0), waited.reindex(idx).to_numpy(float) / np.where(n > 0, n, 1.0), np.nan)
    out["abandon_rate"] = np.where(rt_rows & (n > 0), out["abandoned"].to_numpy(float) / np.where(n > 0, n, 1.0), np.nan)
    for column in ("max_asa_s", "max_abandon"):
        out[column] = [float(info.at[k, column]) if column in info else np.nan for k in keys]
    asa_ok = ~(out["asa_s"] > out["max_asa_s"] * (1 + 1e-9))
    ab_ok = ~(out["abandon_rate"] > out["max_abandon"] + 1e-9)
    out["met"] = out["met"] & asa_ok & ab_ok
    return out


def pool_frame(model, trace) -> pd.DataFrame:
    """Per pool and interval: moderators on site, busy, idle and egregious hours, occupancy."""
    P, T, step = model.P, model.T, model.step
    productive_h = _per_interval(trace.productive, step) / 60.0
    busy_h = _per_interval(trace.rt_busy_s + trace.def_busy_s, step) / 3600.0
    egr_h = _per_interval(trace.egregious_s, step) / 3600.0
    on_shift = _per_interval(model.supply.on_site, step) / step
    times = pd.date_range(model.start, periods=T, freq=f"{step}min")
    frame = pd.DataFrame({
        POOL: np.repeat(model.supply.pools[POOL].to_numpy(), T), INTERVAL_START: np.tile(times, P),
        "on_shift": on_shift.ravel(), "busy_hours": busy_h.ravel(), "idle_hours": np.maximum(productive_h - busy_h, 0.0).ravel(),
        "egregious_hours": egr_h.ravel(),
        "occupancy": np.divide(busy_h, productive_h, out=np.full((P, T), np.nan), where=productive_h > 0).ravel(),
        "productive_hours": productive_h.ravel(),
    })
    frame[INTERVAL_START] = pd.to_datetime(frame[INTERVAL_START], utc=True)
    return frame[REPLAY_POOL_COLUMNS + ["productive_hours"]]


def summarise(model, cells: pd.DataFrame, weeks: pd.DataFrame, pools: pd.DataFrame, *, policy: str, seed: int,
              seconds: float, n_items: int) -> dict:
    """The replay.json summary: shares over judged items and cell-weeks, abandonment, occupancy, speed."""
    judged = float(cells["judged"].sum())
    rt = cells["kind"] == "realtime"
    rt_arrived = float(cells.loc[rt, "arrived"].sum())
    def_judged = float(cells.loc[~rt, "judged"].sum())
    productive = float(pools["productive_hours"].sum())
    busy = float(pools["busy_hours"].sum())
    return {
        "policy": policy, "seed": seed, "items": int(round(float(cells["arrived"].sum()))), "items_judged": int(round(judged)),
        "on_time_share": float(cells["on_time"].sum() / judged) if judged else float("nan"),
        "cell_weeks": int(len(weeks)), "cell_weeks_met": int(weeks["met"].sum()),
        "cell_weeks_met_share": float(weeks["met"].mean()) if len(weeks) else float("nan"),
        "abandon_rate": float(cells.loc[rt, "abandoned"].sum() / rt_arrived) if rt_arrived else 0.0,
        "realtime_service_level": float(cells.loc[rt, "on_time"].sum() / rt_arrived) if rt_arrived else float("nan"),
        "deferred_on_time_share": float(cells.loc[~rt, "on_time"].sum() / def_judged) if def_judged else float("nan"),
        "backlog_end_items": float(cells.groupby([QUEUE, LANGUAGE])["backlog"].last().sum()),
        "productive_hours": productive, "busy_hours": busy, "occupancy": busy / productive if productive else float("nan"),
        "egregious_hours": float(pools["egregious_hours"].sum()),
        "window_start": model.start.isoformat(), "intervals": model.T, "interval_minutes": model.step,
        "seconds": round(seconds, 3), "items_per_second": n_items / seconds if seconds > 0 else float("nan"),
    }


def build_result(model, items, trace, *, policy: str, seed: int, seconds: float):
    from capplan.simulate.engine import ReplayResult

    cells = cell_frames(model, items, trace)
    weeks = cell_week_frame(model, cells)
    pools = pool_frame(model, trace)
    n_items = int(len(items.rt_cell) + items.def_items.sum())
    summary = summarise(model, cells, weeks, pools, policy=policy, seed=seed, seconds=seconds, n_items=n_items)
    from capplan.simulate.opening import closing_backlog

    closing = closing_backlog(model, items, trace) if len(model.def_cells) else None
    opening = getattr(items, "def_open", None)
    summary["opening_backlog_items"] = float(opening.items_total.sum()) if opening is not None else 0.0
    summary["closing_backlog_items"] = float(closing[ITEMS].sum()) if closing is not None else 0.0
    return ReplayResult(cells=cells, cell_weeks=weeks, pools=pools, summary=summary, closing_backlog=closing)
