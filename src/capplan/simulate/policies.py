"""Routing policies: who works on what, minute by minute. Each policy is a named, pluggable piece.

A policy answers two questions for the engine (:mod:`capplan.simulate.engine`):

1. **Realtime servers**: :meth:`groups` (server groups, see :class:`capplan.simulate.realtime.Group`)
   and :meth:`realtime_servers` (integer servers per group and minute, for the whole window).
2. **Deferred work**: :meth:`allocate` splits the moderator time left after realtime work among the
   deferred cells, returning productive seconds per (pool, deferred cell) for the minute.

Every policy keeps to the pools' skills and the wellbeing caps: the engine hands it, per pool, the
egregious seconds still allowed in the minute (``room``), and the policy never exceeds it.

Policies
--------
``plan``
    Follow the plan: each pool gives each cell the productive hours the plan allocated to it in the
    interval, spread evenly over its minutes (realtime: ``round(hours / interval hours)`` servers
    dedicated to that cell). Time a cell does not need stays idle; it never moves to another cell.
``priority``
    Realtime first (every skilled moderator on the floor, within the exposure share, is a server of
    the pool's realtime cells and deferred work only gets their idle time), then deferred work by
    severity (1 first), then earliest deadline of the oldest waiting item (EDF). Moderators move to
    wherever work waits within their skills: every minute the pools, specialists first (fewest
    deferred skills), take the most urgent skilled cell with work waiting, then the next, until their
    free time (or the cell's work) runs out.
``edf``
    As ``priority`` but deferred work strictly by earliest deadline, whatever the severity.
"""

from __future__ import annotations

import numpy as np

from capplan.simulate.realtime import Group

_EPS = 1e-9


class RoutingPolicy:
    """Base class: subclasses set :attr:`name` and implement the three methods."""

    name = "base"
    description = ""

    def groups(self, model) -> list[Group]:
        raise NotImplementedError

    def realtime_servers(self, model, egregious_servers: np.ndarray) -> np.ndarray:
        """[M, G] integer servers per minute and group; ``egregious_servers`` [M, P] is the most a pool
        may put on egregious work at once (the exposure share of its productive moderators)."""
        raise NotImplementedError

    def allocate(self, model, m: int, free_s: np.ndarray, room_s: np.ndarray, need_s: np.ndarray,
                 deadline_min: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class PlanPolicy(RoutingPolicy):
    """Follow the planned per-cell allocation (see the module docstring)."""

    name = "plan"
    description = "follow the plan's allocation: each pool works each cell for the hours the plan gave it"

    def groups(self, model) -> list[Group]:
        out = []
        for p, c in model.planned_realtime_pairs():
            out.append(Group(pool=p, cells=(c,), egregious=bool(model.egregious[c])))
        self._pairs = [(g.pool, g.cells[0]) for g in out]
        return out

    def realtime_servers(self, model, egregious_servers: np.ndarray) -> np.ndarray:
        if not self._pairs:
            return np.zeros((model.M, 0), dtype=np.int64)
        p = np.array([p for p, _ in self._pairs])
        c = np.array([c for _, c in self._pairs])
        wanted = model.planned[p, c, :].T / model.h  # [T, G] productive moderators the plan gives the cell
        servers = np.floor(wanted + 0.5)
        return np.repeat(servers, model.step, axis=0).astype(np.int64)

    def allocate(self, model, m, free_s, room_s, need_s, deadline_min):
        t = m // model.step
        offer = model.planned_deferred_seconds(t)  # [P, D] productive seconds this minute
        std = offer * model.rate[:, None]  # standard (proficiency-1) seconds of work
        total = std.sum(axis=0)
        scale = np.where(total > need_s, need_s / np.maximum(total, _EPS), 1.0)
        x = offer * scale[None, :]
        # pool time left after realtime, and the egregious room, bind pro rata
        used = x.sum(axis=1)
        x *= np.where(used > free_s, free_s / np.maximum(used, _EPS), 1.0)[:, None]
        egr = x[:, model.def_egregious].sum(axis=1)
        cut = np.where(egr > room_s, room_s / np.maximum(egr, _EPS), 1.0)
        x[:, model.def_egregious] *= cut[:, None]
        return x


class PriorityPolicy(RoutingPolicy):
    """Realtime first, then deferred by severity and earliest deadline (see the module docstring)."""

    name = "priority"
    description = "realtime first, then deferred work by severity and earliest deadline; moderators go where work waits"
    severity_first = True

    def groups(self, model) -> list[Group]:
        out = []
        for p in range(model.P):
            cells = tuple(int(c) for c in np.flatnonzero(model.skill[p] & model.realtime))
            if cells:
                out.append(Group(pool=p, cells=cells, egregious=bool(model.egregious[list(cells)].any())))
        self._pools = np.array([g.pool for g in out], dtype=int)
        self._egr = np.array([g.egregious for g in out], dtype=bool)
        return out

    def realtime_servers(self, model, egregious_servers: np.ndarray) -> np.ndarray:
        if not len(self._pools):
            return np.zeros((model.M, 0), dtype=np.int64)
        all_servers = model.productive[self._pools].T  # [M, G]
        limit = np.where(self._egr[None, :], np.minimum(all_servers, egregious_servers[:, self._pools]), all_servers)
        return np.floor(limit + 1e-9).astype(np.int64)

    def key(self, model, deadline_min: np.ndarray) -> np.ndarray:
        if self.severity_first:
            return model.def_severity * 1e8 + deadline_min
        return deadline_min.astype(float)

    def allocate(self, model, m, free_s, room_s, need_s, deadline_min):
        # plain Python on short lists: a handful of pools and cells, ten thousand minutes a week
        if not hasattr(self, "_order"):
            self._prepare(model)
        key = self.key(model, deadline_min)
        order = np.argsort(key, kind="stable").tolist()
        need = need_s.tolist()
        free = free_s.tolist()
        room = room_s.tolist()
        rate, egr, skills = self._rate, self._egr_def, self._skills
        x = np.zeros(model.def_skill.shape)
        for p in self._order:
            f, r, rt, sk = free[p], room[p], rate[p], skills[p]
            if f <= _EPS:
                continue
            for d in order:
                if d not in sk or need[d] <= _EPS:
                    continue
                cap = min(f, r) if egr[d] else f
                if cap <= _EPS:
                    continue
                take = min(cap, need[d] / rt)
                need[d] -= take * rt
                f -= take
                if egr[d]:
                    r -= take
                x[p, d] += take
                if f <= _EPS:
                    break
        return x

    def _prepare(self, model) -> None:
        """Pools in the order they pick work: fewest deferred skills first (specialists before generalists)."""
        self._rate = model.rate.tolist()
        self._egr_def = model.def_egregious.tolist()
        self._skills = [set(np.flatnonzero(row).tolist()) for row in model.def_skill]
        n_skills = model.def_skill.sum(axis=1)
        self._order = [int(p) for p in np.lexsort((np.arange(model.P), n_skills)) if n_skills[p] > 0]


class EdfPolicy(PriorityPolicy):
    """As ``priority`` but deferred work by earliest deadline only."""

    name = "edf"
    description = "realtime first, then deferred work by earliest deadline whatever the severity"
    severity_first = False


POLICIES: dict[str, type[RoutingPolicy]] = {cls.name: cls for cls in (PlanPolicy, PriorityPolicy, EdfPolicy)}


def get_policy(name: str) -> RoutingPolicy:
    """A fresh policy object by name.

    Raises
    ------
    ConfigError
        Unknown name (the message lists the valid ones).
    """
    from capplan.errors import ConfigError

    if name not in POLICIES:
        raise ConfigError(f"unknown routing policy {name!r}; valid policies: {', '.join(POLICIES)}")
    return POLICIES[name]()
