"""Run the walk-forward weeks of one or two configurations, here or on Dask.

Weeks (and variants) are independent: :func:`walk_forward` runs them one after the other in this
process (``engine="local"``) or as tasks on Dask (``engine="dask"``): a scheduler at ``dask_address``,
or a LocalCluster of two single-threaded worker processes started and closed here. Each task is
:func:`capplan.evaluate.walkforward.evaluate_week`, deterministic for its inputs (forecast models and
solver settings are seeded and timing-independent), so both engines give the same numbers.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import pandas as pd

from capplan.errors import ConfigError
from capplan.evaluate.walkforward import WeekOutcome, evaluate_week, preflight, with_config

Progress = Callable[[str, float], None]
STAGE = "evaluating weeks"
LOCAL_WORKERS = 2


@contextmanager
def dask_client(address: str | None = None) -> Iterator:
    """A Dask client: to ``address``, or to a LocalCluster started (and closed) here."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError(f"--engine dask needs dask.distributed ({exc.name} is not installed). "
                          "Fix: pip install 'capplan[dask]' (or -e '.[dask]' in a checkout), or use --engine local") from None
    if address:
        try:
            client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"--dask-address {address}: no Dask scheduler answers there ({exc}). "
                              "Fix: start one ('dask scheduler') or leave --dask-address out for a local cluster") from None
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(n_workers=LOCAL_WORKERS, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def walk_forward(ws, weeks: list[pd.Timestamp], variants: dict, *, engine: str = "local", dask_address: str | None = None,
                 policy: str = "priority", policies: dict[str, str] | None = None, seed: int = 0,
                 progress: Progress | None = None, replay: Callable | None = None) -> list[WeekOutcome]:
    """Evaluate every week for every variant config; outcomes ordered by variant, then week.

    Parameters
    ----------
    ws : Workspace (its whole history).
    weeks : UTC week starts (:func:`capplan.evaluate.weeks.evaluation_weeks`).
    variants : label -> Config, e.g. ``{"A": ws.config}`` or ``{"A": ..., "B": ...}``.
    engine : ``"local"`` or ``"dask"``.
    policy, seed : the replay's routing policy and seed.
    policies : label -> routing policy for variants that use another one than ``policy``.
    replay : replay function (default :func:`capplan.simulate.replay_plan`); must be importable by
        Dask workers when ``engine="dask"``.
    """
    for config in variants.values():
        preflight(with_config(ws, config), weeks[0])
    tasks = [(label, week) for label in variants for week in weeks]
    step = progress or (lambda stage, fraction: None)
    step(STAGE, 0.0)
    routing = {label: (policies or {}).get(label, policy) for label in variants}
    kwargs = {"seed": seed, "replay": replay}
    if engine == "local":
        outcomes = []
        for i, (label, week) in enumerate(tasks):
            outcomes.append(evaluate_week(with_config(ws, variants[label]), week, variant=label, policy=routing[label], **kwargs))
            step(STAGE, (i + 1) / len(tasks))
        return outcomes
    if engine != "dask":
        raise ConfigError(f"--engine must be local or dask, got {engine!r}")
    from dask.distributed import as_completed

    with dask_client(dask_address) as client:
        shared = {label: client.scatter(with_config(ws, config), broadcast=True) for label, config in variants.items()}
        futures = [client.submit(evaluate_week, shared[label], week, variant=label, policy=routing[label], pure=False, **kwargs)
                   for label, week in tasks]
        for done, _ in enumerate(as_completed(futures), start=1):
            step(STAGE, done / len(tasks))
        return client.gather(futures)


__all__ = ["walk_forward", "dask_client", "STAGE"]
