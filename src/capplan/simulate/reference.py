"""Item-by-item reference for one deferred cell, to check the engine's one-minute fluid steps.

The engine simulates deferred work as a fluid in one-minute steps (fast at millions of items). This
module simulates the same cell item by item with the realtime event simulation
(:class:`capplan.simulate.realtime.RealtimeSim`): integer servers per minute, FIFO, no abandonment,
each item's handle time drawn separately. An item is on time when it is *finished* by its arrival
plus the turnaround window. A test shows both agree (on-time share, backlog per interval).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from capplan.simulate.arrivals import Arrivals
from capplan.simulate.realtime import Group, RealtimeSim


@dataclass
class ItemReplay:
    """on_time_share over items due inside the window; backlog (items arrived, not finished) at each minute's end."""

    on_time_share: float
    backlog: np.ndarray
    finish_s: np.ndarray


def replay_deferred_items(arrival_s: np.ndarray, handle_s: np.ndarray, servers: np.ndarray, within_s: float) -> ItemReplay:
    """Simulate one deferred cell item by item.

    Parameters
    ----------
    arrival_s : item arrival instants [s from the window start], sorted
    handle_s : each item's handle time on the servers [s] (already divided by utilisation x proficiency)
    servers : [M] integer servers in each minute
    within_s : turnaround window [s]
    """
    minutes = len(servers)
    n = len(arrival_s)
    items = Arrivals(rt_cell=np.zeros(n, dtype=np.int64), rt_time_s=np.asarray(arrival_s, dtype=float),
                     rt_patience_s=np.full(n, np.inf), rt_handle_s=np.asarray(handle_s, dtype=float),
                     def_cells=np.zeros(0, dtype=int), def_items=np.zeros((0, minutes)), def_work_s=np.zeros((0, minutes)))
    cells = pd.DataFrame({"within_s": [within_s], "severity": [1]})
    sim = RealtimeSim([Group(pool=0, cells=(0,), egregious=False)], np.array([1.0]), cells, items, minutes)
    for m in range(minutes):
        sim.advance(m, [int(servers[m])])
    sim.finish()
    finish = sim.end
    due = arrival_s + within_s
    judged = due <= minutes * 60.0
    on_time = np.isfinite(finish) & (finish <= due)
    ends = (np.arange(minutes) + 1) * 60.0
    arrived_by = np.searchsorted(arrival_s, ends, side="right")
    done = np.sort(np.where(np.isfinite(finish), finish, np.inf))
    finished_by = np.searchsorted(done, ends, side="right")
    share = float(on_time[judged].mean()) if judged.any() else 1.0
    return ItemReplay(on_time_share=share, backlog=(arrived_by - finished_by).astype(float), finish_s=finish)
