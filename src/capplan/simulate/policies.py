"""Routing policies: who works on what, minute by minute. Each policy is a named, pluggable piece.

A policy answers two questions for the engine (:mod:`capplan.simulate.engine`):

1. **Realtime servers**: :meth:`groups` (server groups, see :class:`capplan.simulate.realtime.Group`)
   and :meth:`realtime_servers` (integer servers per group in a minute).
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
    wherever work waits within their skills: every minute each pool offers its free time to its
    most urgent skilled cell with work; when several pools offer a cell more than it has, each
    offer is cut pro rata and the rest goes to the pool's next cell (a few rounds a minute).
``edf``
    As ``priority`` but deferred work strictly by earliest deadline, whatever the severity.
"""

from __future__ import annotations

import numpy as np

from capplan.simulate.realtime import Group

ROUNDS = 12  # offer rounds per minute (pools whose cell is saturated re-offer to their next cell)
_EPS = 1e-9


class RoutingPolicy:
    """Base class: subclasses set :attr:`name` and implement the three methods."""

    name = "base"
    description = ""

    def groups(self, model) -> list[Group]:
        raise NotImplementedError

    def realtime_servers(self, model, m: int, room_servers: np.ndarray) -> np.ndarray:
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

    def realtime_servers(self, model, m: int, room_servers: np.ndarray) -> np.ndarray:
        t = m // model.step
        wanted = np.array([model.planned_moderators(p, c, t) for p, c in self._pairs])
        servers = np.floor(wanted + 0.5).astype(np.int64)
        return servers

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

    def realtime_servers(self, model, m: int, room_servers: np.ndarray) -> np.ndarray:
        if not len(self._pools):
            return np.zeros(0, dtype=np.int64)
        all_servers = model.productive[self._pools, m]
        limit = np.where(self._egr, np.minimum(all_servers, room_servers[self._pools]), all_servers)
        return np.floor(limit + 1e-9).astype(np.int64)

    def key(self, model, deadline_min: np.ndarray) -> np.ndarray:
        if self.severity_first:
            return model.def_severity * 1e8 + deadline_min
        return deadline_min.astype(float)

    def allocate(self, model, m, free_s, room_s, need_s, deadline_min):
        skill = model.def_skill  # [P, D]
        rate = model.rate  # standard seconds of work per productive second, per pool
        egr = model.def_egregious
        key = self.key(model, deadline_min)
        free = free_s.copy()
        room = room_s.copy()
        need = need_s.copy()
        x = np.zeros(skill.shape)
        P = skill.shape[0]
        rows = np.arange(P)
        for _ in range(ROUNDS):
            open_ = skill & (need > _EPS)[None, :] & (free > _EPS)[:, None] & (~egr[None, :] | (room > _EPS)[:, None])
            if not open_.any():
                break
            choice = np.argmin(np.where(open_, key[None, :], np.inf), axis=1)
            active = open_[rows, choice]
            give = np.where(egr[choice], np.minimum(free, room), free) * active  # productive seconds offered
            std = give * rate
            total = np.bincount(choice, weights=std, minlength=len(need))
            scale = np.where(total > need, need / np.maximum(total, _EPS), 1.0)
            take = give * scale[choice]
            x[rows, choice] += take
            free -= take
            room -= np.where(egr[choice], take, 0.0)
            need -= np.bincount(choice, weights=take * rate, minlength=len(need))
            np.maximum(need, 0.0, out=need)
        return x


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
