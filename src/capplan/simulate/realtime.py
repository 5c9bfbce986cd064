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
    """State of the realtime simulation; :meth:`advance` runs one minute."""

    def __init__(self, groups: list[Group], proficiency: np.ndarray, cells, items, minutes: int) -> None:
        self.groups = groups
        self.speed = np.array([float(proficiency[g.pool]) for g in groups])  # handle-time multiplier
        self.minutes = minutes
        n = len(items.rt_cell)
        self.cell = items.rt_cell
        self.arrival = items.rt_time_s
        self.deadline_abandon = items.rt_time_s + items.rt_patience_s
        self.handle = items.rt_handle_s
        self.start = np.full(n, np.nan)
        self.end = np.full(n, np.nan)
        self.group = np.full(n, -1, dtype=np.int64)
        self.abandoned = np.zeros(n, dtype=bool)
        self.busy_s = np.zeros((len(groups), minutes))  # server seconds busy per group and minute
        within = cells["within_s"].to_numpy(float)
        severity = cells["severity"].to_numpy(float)
        self.key_base = severity * 1e9  # severity first, then deadline = arrival + within
        self.within = within
        self.capacity = np.zeros(len(groups), dtype=np.int64)
        self.busy = np.zeros(len(groups), dtype=np.int64)
        self.lines: dict[int, deque] = {c: deque() for c in {c for g in groups for c in g.cells}}
        self.groups_of: dict[int, list[int]] = {}
        for gi, g in enumerate(groups):
            for c in g.cells:
                self.groups_of.setdefault(c, []).append(gi)
        self.heap: list[tuple[float, int, int]] = []
        self.next_item = 0

    # --- one minute ----------------------------------------------------------------------------
    def advance(self, m: int, capacity: np.ndarray) -> None:
        """Set the servers of each group for minute ``m`` and run the events of that minute."""
        self.capacity = np.asarray(capacity, dtype=np.int64)
        t0, t1 = m * 60.0, (m + 1) * 60.0
        for gi in range(len(self.groups)):
            if self.busy[gi] < self.capacity[gi]:
                self._fill(gi, t0)
        heap, arrival = self.heap, self.arrival
        n = len(arrival)
        while True:
            t_arr = arrival[self.next_item] if self.next_item < n else np.inf
            t_dep = heap[0][0] if heap else np.inf
            if t_dep <= t_arr:
                if t_dep >= t1:
                    break
                _, item, gi = heapq.heappop(heap)
                self.busy[gi] -= 1
                if self.busy[gi] < self.capacity[gi]:
                    self._fill(gi, t_dep)
            else:
                if t_arr >= t1:
                    break
                item = self.next_item
                self.next_item += 1
                self._arrive(item, t_arr)

    def _arrive(self, item: int, t: float) -> None:
        c = int(self.cell[item])
        best, free = -1, 0
        for gi in self.groups_of.get(c, ()):
            f = self.capacity[gi] - self.busy[gi]
            if f > free:
                best, free = gi, f
        if best >= 0:
            self._start(item, best, t)
        else:
            self.lines[c].append(item)

    def _fill(self, gi: int, t: float) -> None:
        """Start waiting items on group ``gi`` while it has free servers."""
        cells = self.groups[gi].cells
        while self.busy[gi] < self.capacity[gi]:
            best_item, best_key, best_line = -1, np.inf, None
            for c in cells:
                line = self.lines[c]
                while line and self.deadline_abandon[line[0]] < t:
                    self.abandoned[line.popleft()] = True
                if line:
                    item = line[0]
                    key = self.key_base[c] + self.arrival[item] + self.within[c]
                    if key < best_key:
                        best_item, best_key, best_line = item, key, line
            if best_item < 0:
                return
            best_line.popleft()
            self._start(best_item, gi, t)

    def _start(self, item: int, gi: int, t: float) -> None:
        duration = self.handle[item] * self.speed[gi]
        end = t + duration
        self.start[item], self.end[item], self.group[item] = t, end, gi
        self.busy[gi] += 1
        heapq.heappush(self.heap, (end, item, gi))
        # server time per minute (for pool occupancy and the deferred work's leftover capacity)
        m0, m1 = int(t // 60.0), int(min(end, self.minutes * 60.0 - 1e-9) // 60.0)
        if m0 == m1:
            self.busy_s[gi, m0] += end - t
        else:
            self.busy_s[gi, m0] += (m0 + 1) * 60.0 - t
            if m1 > m0 + 1:
                self.busy_s[gi, m0 + 1:m1] += 60.0
            self.busy_s[gi, m1] += min(end, self.minutes * 60.0) - m1 * 60.0

    def finish(self) -> None:
        """Close the window: items still waiting whose patience ran out have abandoned."""
        end = self.minutes * 60.0
        waiting = np.isnan(self.start) & ~self.abandoned
        waiting[self.next_item:] = False
        self.abandoned |= waiting & (self.deadline_abandon < end)
