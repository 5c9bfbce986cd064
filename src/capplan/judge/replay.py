"""The replay as the judge of a checked plan's scenarios (``[staffing] check_judge = "replay"``).

:class:`ReplayJudge` has the interface of the linear check (:class:`capplan.optimize.checked.ShiftCheck`):
``shortfalls(demands, staff, time_limit_s)`` gives per scenario, cell and interval the late or unmet work
[standard h] of a shift plan, from which the check counts the scenarios each cell meets and the lift takes *how
much* and *where*. Here each scenario's volumes are replayed (:func:`capplan.simulate.engine.replay_model`, routing
``[staffing] check_policy``, the default ``priority`` of ``capplan evaluate``) on the shifts of ``staff``:

* **How much.** A cell's late share in a scenario is the replay's: items not on time (deferred: done after their
  deadline; real-time: answered after the threshold or abandoned) over items judged (those due inside the window), as
  :func:`capplan.evaluate.walkforward.per_cell` counts a cell-week. The shortfall hours are that share of the
  scenario's work, ``late_items(c, t) / items(c) x work(c)``, so the check's met rule (late share within
  ``1 - target``) is the replay's ``achieved >= target`` (ASA and abandonment caps act through the requirements, as in
  the walk-forward's ``met``).
* **Where.** The late items are placed at the interval they *arrived* in (``at_arrival``): the lift adds requirement
  there, where the linear check's shortfall had to be moved back by the turnaround window.

Each scenario has its own seed (``[solver] seed`` + its index among the run's scenarios), the same in every round, so
a lift is judged on the same random paths and the result is deterministic. The shift plan of ``staff`` is the one the
plan writes (:func:`capplan.optimize.extract.staff_table`); routing ``priority`` and ``edf`` do not follow the
allocation, so none is solved for the judge.

Cost: one replay per scenario and round (the small demo's week: about 1-2 CPU s; the default demo's 90 cells: about
10 CPU s, as much as one check LP; ``bench/results/replay.json``). On a week as large as the linear check spreads over
``[staffing] check_workers`` processes, so are the replays (:class:`ReplayPool`).
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pandas as pd

from capplan.optimize.data import PlanData
from capplan.schema import ALLOCATION_COLUMNS, INTERVAL_START, LANGUAGE, QUEUE, VOLUME


class ReplayJudge:
    """The check of :mod:`capplan.optimize.checked` with the replay as judge (see the module notes).

    ``demands`` are the scenarios, each with its volume table in ``frames``: of a scenario the judge reads only its
    work per cell (:func:`as_hours`), so :func:`capplan.optimize.checked.solve_checked_plan` hands it
    :class:`~capplan.optimize.stochastic.ScenarioWork` (no requirements computed); a scenario's
    :class:`~capplan.optimize.data.PlanData` works as well.
    """

    at_arrival = True  # shortfalls are placed where the late work arrived (the lift's intervals)

    def __init__(self, ws, d: PlanData, demands: list[PlanData], frames: list[pd.DataFrame], *, policy: str = "priority",
                 seed: int = 0):
        from capplan.simulate.arrivals import cell_table, handle_cv
        from capplan.simulate.policies import get_policy

        get_policy(policy)  # an unknown policy is a clear error before any solve
        if len(demands) != len(frames):
            raise ValueError(f"{len(demands)} scenarios' demands but {len(frames)} volume tables")
        self.ws, self.d, self.policy, self.seed = ws, d, policy, int(seed)
        self._frames = {id(ds): (i, f[[INTERVAL_START, QUEUE, LANGUAGE, VOLUME]]) for i, (ds, f) in enumerate(zip(demands, frames))}
        cells = cell_table(ws)
        self._cv = handle_cv(ws.history, cells, "auto")
        index = {k: i for i, k in enumerate(zip(cells[QUEUE], cells[LANGUAGE]))}
        self._rows = np.array([index.get(k, -1) for k in zip(d.cells[QUEUE], d.cells[LANGUAGE])])  # d's cell -> replay's cell
        self._staff: bytes | None = None
        self._model = None

    def model(self, staff: np.ndarray):
        """The replay's model of the shift plan of ``staff`` (kept while the staffing does not change)."""
        from capplan.optimize.extract import staff_table
        from capplan.simulate.engine import Model
        from capplan.simulate.opening import opening_cohorts

        key = np.asarray(staff, dtype=np.int64).tobytes()
        if key != self._staff:
            shift_plan, _ = staff_table(self.d, np.asarray(staff))
            model = Model(self.ws, shift_plan, pd.DataFrame(columns=ALLOCATION_COLUMNS))
            model.handle_cv = self._cv
            model.opening = opening_cohorts(model, getattr(self.ws, "backlog", None))
            self._staff, self._model = key, model
        return self._model

    def late_items(self, ds: PlanData, staff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(late items (C, T) by arrival interval, items judged (C,)) of scenario ``ds``'s replay, in ``d``'s cell order."""
        from capplan.simulate.engine import replay_model

        i, arrivals = self._frames[id(ds)]
        result = replay_model(self.model(staff), arrivals, policy=self.policy, seed=self.seed + i)
        T = self.d.T
        C = len(result.cells) // T
        judged = result.cells["judged"].to_numpy(float).reshape(C, T)
        on_time = result.cells["on_time"].to_numpy(float).reshape(C, T)
        late = np.maximum(judged - on_time, 0.0)
        ok = self._rows >= 0
        out, items = np.zeros((len(self._rows), T)), np.zeros(len(self._rows))
        out[ok], items[ok] = late[self._rows[ok]], judged[self._rows[ok]].sum(axis=1)
        return out, items

    def shortfalls(self, demands: list[PlanData], staff: np.ndarray, time_limit_s: float) -> np.ndarray:
        """(S, C, T) late or unmet work [standard h] of each of ``demands`` replayed on the shift plan ``staff``."""
        return as_hours(self.d, demands, [self.late_items(ds, staff) for ds in demands])


def as_hours(d: PlanData, demands: list, late: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """(S, C, T) standard hours from each scenario's (late items (C, T), items judged (C,)): the late share of the
    scenario's work, ``late_items(c, t) / items(c) x work(c)`` (see the module notes), ``work`` its deferred workload plus
    real-time requirement hours (:func:`~capplan.optimize.stochastic.scenario_work`), so a lift is in standard hours of
    requirement."""
    from capplan.optimize.stochastic import scenario_work

    work = scenario_work(d, demands)
    out = np.zeros((len(demands), len(d.cells), d.T))
    for s, (items_late, items) in enumerate(late):
        share = np.divide(items_late, items[:, None], out=np.zeros_like(items_late), where=items[:, None] > 0)
        out[s] = share * work[s][:, None]
    return out


_WORKER: ReplayJudge | None = None  # in a worker process: its judge of the run's scenarios


def _start_worker(ws, d: PlanData, demands: list[PlanData], frames: list[pd.DataFrame], policy: str, seed: int) -> None:
    global _WORKER
    _WORKER = ReplayJudge(ws, d, demands, frames, policy=policy, seed=seed)
    _WORKER.demands = demands


def _worker_ready() -> bool:
    return _WORKER is not None


def _worker_late(index: int, staff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _WORKER.late_items(_WORKER.demands[index], staff)


class ReplayPool:
    """The replays of :class:`ReplayJudge` shared by ``workers`` spawned processes, each with its own judge.

    Every replay has its scenario's own seed whichever worker runs it, so the shortfalls are those of one process
    (``tests/test_judge.py``). Same :meth:`shortfalls` as the judge, for the scenarios the pool was made with.
    """

    at_arrival = True

    def __init__(self, ws, d: PlanData, demands: list[PlanData], frames: list[pd.DataFrame], workers: int, *, policy: str = "priority",
                 seed: int = 0):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        from capplan.simulate.policies import get_policy

        get_policy(policy)
        self.d = d
        self._index = {id(ds): i for i, ds in enumerate(demands)}
        self._pool = ProcessPoolExecutor(max_workers=int(workers), mp_context=mp.get_context("spawn"), initializer=_start_worker,
                                         initargs=(ws, d, demands, frames, policy, int(seed)))
        self._started = [self._pool.submit(_worker_ready) for _ in range(int(workers))]

    def shortfalls(self, demands: list[PlanData], staff: np.ndarray, time_limit_s: float) -> np.ndarray:
        from itertools import repeat

        index = [self._index[id(ds)] for ds in demands]
        return as_hours(self.d, demands, list(self._pool.map(_worker_late, index, repeat(np.asarray(staff)))))

    def __enter__(self) -> ReplayPool:
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(cancel_futures=True)


def replay_judge(ws):
    """The judge factory :func:`capplan.optimize.checked.solve_checked_plan` takes, for ``[staffing] check_judge``:
    None for ``"model"`` (the linear check), else a function of (plan data, scenarios' demands, their volume tables)
    giving a context manager around a :class:`ReplayJudge`, or a :class:`ReplayPool` of ``[staffing] check_workers``
    processes on a week as large as the linear check spreads (a Dask worker, which may not start processes, keeps one)."""
    staffing = ws.config.staffing
    if staffing.check_judge != "replay":
        return None

    def make(d: PlanData, demands: list[PlanData], frames: list[pd.DataFrame]):
        from capplan.optimize.checked import check_processes

        options = {"policy": staffing.check_policy, "seed": int(ws.config.solver.seed)}
        processes = check_processes(d, len(demands), int(staffing.check_workers))  # as the linear check spreads its LPs
        if processes > 1:
            return ReplayPool(ws, d, demands, frames, processes, **options)
        return nullcontext(ReplayJudge(ws, d, demands, frames, **options))
    return make


__all__ = ["ReplayJudge", "ReplayPool", "replay_judge"]
