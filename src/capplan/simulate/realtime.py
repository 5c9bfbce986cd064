"""Realtime queues item by item: a discrete-event simulation advanced one minute at a time.

Servers come in **groups** (a routing policy defines them): a group belongs to one pool, serves a
set of realtime cells and has an integer number of servers in each minute. An arriving item goes to
the group of its cell with the most free servers, else it waits in its cell's FIFO line. A server
that frees up (or a server added at a minute boundary) takes the waiting item of its group's cells
with the smallest (severity, deadline) key. An item whose patience runs out before a server takes
it has abandoned (at arrival + patience; it is removed lazily, which is exact for FIFO lines).
Service is not pre-empted: when a group's servers drop at a shift end, busy servers finish their
item and no new item starts until the busy count is below the new number.

Realtime work has priority over deferred work (pre-emptive resume at minute resolution: the time
realtime servers are busy in a minute is taken from the pool before deferred work gets the rest).
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass
class Group:
    """Servers of one pool for a set of realtime cells."""

    pool: int
    cells: tuple[int, ...]
    egregious: bool  # any of its cells is egregious (its servers count against the exposure caps)


class RealtimeSim:
    """State of the realtime simulation; :meth:`advance` runs one minute.

    Scalars live in Python lists (indexing numpy arrays one element at a time is slow); the busy
    server-seconds of each group in the current minute are integrated between events.
    """

    def __init__(self, groups: list[Group], proficiency: np.ndarray, cells, items, minutes: int) -> None:
        self.groups = groups
        self.speed = [float(proficiency[g.pool]) for g in groups]  # handle-time multiplier
        self.minutes = minutes
        n = len(items.rt_cell)
        self.n = n
        self.cell = items.rt_cell
        self.arrival = items.rt_time_s
        self.deadline_abandon = items.rt_time_s + items.rt_patience_s
        self.handle = items.rt_handle_s
        self._cell = items.rt_cell.tolist()
        self._arrival = items.rt_time_s.tolist()
        self._leave = self.deadline_abandon.tolist()
        self._handle = items.rt_handle_s.tolist()
        self._start = [np.nan] * n
        self._group = [-1] * n
        self._abandoned = [False] * n
        self.busy_s = np.zeros((len(groups), minutes))  # server seconds busy per group and minute
        within = cells["within_s"].to_numpy(float)
        severity = cells["severity"].to_numpy(float)
        self.key_base = (severity * 1e9 + within).tolist()  # severity first, then deadline = arrival + within
        self.capacity = [0] * len(groups)
        self.busy = [0] * len(groups)
        self._integral = [0.0] * len(groups)
        self._last = [0.0] * len(groups)
        self.lines: dict[int, deque] = {c: deque() for c in {c for g in groups for c in g.cells}}
        self.groups_of: dict[int, list[int]] = {}
        for gi, g in enumerate(groups):
            for c in g.cells:
                self.groups_of.setdefault(c, []).append(gi)
        self.heap: list[tuple[float, int, int]] = []
        self.next_item = 0

    # --- one minute ----------------------------------------------------------------------------
    def advance(self, m: int, capacity) -> np.ndarray:
        """Set the servers of each group for minute ``m``, run its events; busy server-seconds per group."""
        self.capacity = [int(c) for c in capacity]
        t0, t1 = m * 60.0, (m + 1) * 60.0
        for gi in range(len(self.groups)):
            if self.busy[gi] < self.capacity[gi]:
                self._fill(gi, t0)
        heap, arrival, n = self.heap, self._arrival, self.n
        while True:
            t_arr = arrival[self.next_item] if self.next_item < n else np.inf
            t_dep = heap[0][0] if heap else np.inf
            if t_dep <= t_arr:
                if t_dep >= t1:
                    break
                _, item, gi = heapq.heappop(heap)
                self._tick(gi, t_dep)
                self.busy[gi] -= 1
                if self.busy[gi] < self.capacity[gi]:
                    self._fill(gi, t_dep)
            else:
                if t_arr >= t1:
                    break
                item = self.next_item
                self.next_item += 1
                self._arrive(item, t_arr)
        out = self.busy_s[:, m]
        for gi in range(len(self.groups)):
            self._tick(gi, t1)
            out[gi] = self._integral[gi]
            self._integral[gi] = 0.0
        return out

    def _tick(self, gi: int, t: float) -> None:
        self._integral[gi] += self.busy[gi] * (t - self._last[gi])
        self._last[gi] = t

    def _arrive(self, item: int, t: float) -> None:
        c = self._cell[item]
        best, free = -1, 0
        for gi in self.groups_of.get(c, ()):
            f = self.capacity[gi] - self.busy[gi]
            if f > free:
                best, free = gi, f
        if best >= 0:
            self._begin(item, best, t)
        else:
            self.lines[c].append(item)

    def _fill(self, gi: int, t: float) -> None:
        """Start waiting items on group ``gi`` while it has free servers."""
        cells = self.groups[gi].cells
        leave, arrival, key_base, lines = self._leave, self._arrival, self.key_base, self.lines
        while self.busy[gi] < self.capacity[gi]:
            best_item, best_key, best_line = -1, np.inf, None
            for c in cells:
                line = lines[c]
                while line and leave[line[0]] < t:
                    self._abandoned[line.popleft()] = True
                if line:
                    item = line[0]
                    key = key_base[c] + arrival[item]
                    if key < best_key:
                        best_item, best_key, best_line = item, key, line
            if best_item < 0:
                return
            best_line.popleft()
            self._begin(best_item, gi, t)

    def _begin(self, item: int, gi: int, t: float) -> None:
        self._tick(gi, t)
        self._start[item] = t
        self._group[item] = gi
        self.busy[gi] += 1
        heapq.heappush(self.heap, (t + self._handle[item] * self.speed[gi], item, gi))

    def finish(self) -> None:
        """Close the window: item records as arrays; items still waiting whose patience ran out have abandoned."""
        end = self.minutes * 60.0
        self.start = np.array(self._start, dtype=float)
        self.group = np.array(self._group, dtype=np.int64)
        self.end = self.start + self.handle * np.where(self.group >= 0, np.array(self.speed + [np.nan])[self.group], np.nan)
        self.abandoned = np.array(self._abandoned, dtype=bool)
        waiting = np.isnan(self.start) & ~self.abandoned
        waiting[self.next_item:] = False
        self.abandoned |= waiting & (self.deadline_abandon < end)
