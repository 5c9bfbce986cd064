"""Monte Carlo before the week: arrival paths drawn from the forecast's uncertainty, each replayed.

Drawing a path
--------------
For each cell and UTC day one standard normal ``z`` is drawn: a day that runs high runs high all day
(errors of a day's intervals are perfectly correlated; days and cells are independent). The
forecast's central interval at level ``L`` (``volume_lo_L``, ``volume_hi_L``; the lowest level the
forecast has, default 80) gives a spread above and below the mean, ``(hi - volume) / q`` and
``(volume - lo) / q`` with ``q`` the normal quantile of ``0.5 + L/200``. That spread includes the
Poisson noise of the interval's count (variance = volume), which is drawn separately, so the day
level moves by ``sqrt(max(spread^2 - volume, 0))``: the path's rate is
``max(volume + z * that, 0)`` and its count is Poisson of that rate. Each path has its own seed
(``numpy.random.SeedSequence(seed).spawn``), so a path's numbers do not depend on where it runs.

Risk
----
Each path is replayed with the plan and a routing policy; per cell-week, ``p_met`` is the share of
paths meeting the target, with the mean and the 10th / 90th percentiles of the achieved share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from capplan.errors import ConfigError
from capplan.schema import INTERVAL_START, LANGUAGE, QUEUE, REPLAY_RISK_COLUMNS, VOLUME


@dataclass
class ScenarioResult:
    """Per cell-week risk over the paths, every path's cell-weeks, and one summary row per path."""

    risk: pd.DataFrame
    cell_weeks: pd.DataFrame
    paths: pd.DataFrame
    summary: dict


def band_level(forecast: pd.DataFrame, level: int | None = None) -> int:
    """The interval level to draw from: ``level`` if the forecast has it, else the lowest it has."""
    levels = sorted(int(c.removeprefix("volume_hi_")) for c in forecast.columns
                    if c.startswith("volume_hi_") and c.removeprefix("volume_hi_").isdigit() and f"volume_lo_{c.removeprefix('volume_hi_')}" in forecast.columns)
    if not levels:
        raise ConfigError("--scenarios needs the forecast's prediction intervals (volume_lo_<L>, volume_hi_<L>), and this forecast run has none. "
                          "Fix: set [forecast] levels in capplan.toml, re-run 'capplan forecast' and 'capplan plan'")
    if level is not None and level in levels:
        return level
    return levels[0]


def path_seeds(seed: int, n_paths: int) -> list[int]:
    """One independent 32-bit seed per path (SeedSequence spawning: reproducible, engine-independent)."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n_paths)]


def draw_path(forecast: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, level: int, seed: int) -> pd.DataFrame:
    """One arrival path (history-shaped: queue, language, interval_start, volume) for the window."""
    f = forecast[(forecast[INTERVAL_START] >= start) & (forecast[INTERVAL_START] < end)]
    f = f.sort_values([QUEUE, LANGUAGE, INTERVAL_START], kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    q = float(norm.ppf(0.5 + level / 200.0))
    mean = np.clip(f[VOLUME].to_numpy(float), 0.0, None)
    up = np.clip(f[f"volume_hi_{level}"].to_numpy(float) - mean, 0.0, None) / q
    down = np.clip(mean - f[f"volume_lo_{level}"].to_numpy(float), 0.0, None) / q
    up = np.sqrt(np.clip(up ** 2 - mean, 0.0, None))
    down = np.sqrt(np.clip(down ** 2 - mean, 0.0, None))
    day = f[INTERVAL_START].dt.floor("D")
    groups = pd.MultiIndex.from_arrays([f[QUEUE], f[LANGUAGE], day]).factorize()[0]
    z = rng.standard_normal(int(groups.max()) + 1 if len(groups) else 0)[groups]
    rate = np.clip(mean + np.where(z > 0, z * up, z * down), 0.0, None)
    return pd.DataFrame({QUEUE: f[QUEUE], LANGUAGE: f[LANGUAGE], INTERVAL_START: f[INTERVAL_START],
                         VOLUME: rng.poisson(rate).astype(float)})


def replay_path(model, forecast, start, end, level, seed, policy) -> tuple[pd.DataFrame, dict]:
    """Draw one path and replay it on the prepared model: (its cell-weeks, its summary). Runs on a Dask worker or locally."""
    from capplan.simulate.engine import replay_model

    arrivals = draw_path(forecast, start, end, level, seed)
    result = replay_model(model, arrivals, policy=policy, seed=seed)
    return result.cell_weeks, result.summary


def risk_table(cell_weeks: pd.DataFrame) -> pd.DataFrame:
    """Per cell-week over the paths: probability of meeting the target, achieved mean and percentiles."""
    g = cell_weeks.groupby([QUEUE, LANGUAGE, "week"], sort=True)
    out = g.agg(kind=("kind", "first"), target=("target", "first"), paths=("path", "nunique"), p_met=("met", "mean"),
                achieved_mean=("achieved", "mean")).reset_index()
    out["achieved_p10"] = g["achieved"].quantile(0.10).to_numpy()
    out["achieved_p90"] = g["achieved"].quantile(0.90).to_numpy()
    return out[REPLAY_RISK_COLUMNS]


def run_scenarios(ws, shift_plan, allocation, forecast, *, n_paths: int, policy: str = "priority", seed: int = 0,
                  config=None, level: int | None = None, engine: str = "local", dask_address: str | None = None,
                  progress=None, opening: pd.DataFrame | None = None) -> ScenarioResult:
    """Replay ``n_paths`` arrival paths drawn from the forecast (see the module docstring).

    ``opening`` is the backlog the plan started from (:func:`capplan.simulate.opening.plan_opening`): every path
    opens with it, as the plain replay does (None: empty lines).

    ``engine="dask"`` runs the paths on Dask (``dask_address`` or a local cluster); the numbers are
    those of ``engine="local"`` (each path has its own seed).
    """
    from capplan.optimize.data import plan_window
    from capplan.simulate.arrivals import handle_cv
    from capplan.simulate.engine import Model
    from capplan.simulate.opening import opening_cohorts
    from capplan.simulate.policies import get_policy

    if n_paths < 1:
        raise ConfigError(f"--scenarios must be at least 1, got {n_paths}")
    get_policy(policy)
    config = config or ws.config
    start, T, h = plan_window(config)
    end = start + pd.Timedelta(hours=T * h)
    level = band_level(forecast, level)
    forecast = forecast.assign(interval_start=pd.to_datetime(forecast[INTERVAL_START], utc=True))
    seeds = path_seeds(seed, n_paths)
    model = Model(ws, shift_plan, allocation, config)  # shifts, skills and handle-time spreads: once for all paths
    model.handle_cv = handle_cv(ws.history, model.cells)
    model.opening = opening_cohorts(model, opening)
    f = forecast[(forecast[INTERVAL_START] >= start) & (forecast[INTERVAL_START] < end)]
    args = (model, f, start, end, level)
    if engine == "dask":
        outputs = _run_dask(args, seeds, policy, dask_address)
    elif engine == "local":
        outputs = []
        for k, s in enumerate(seeds):
            outputs.append(replay_path(*args, s, policy))
            if progress is not None:
                progress("scenarios", (k + 1) / n_paths)
    else:
        raise ConfigError(f"unknown engine {engine!r}; valid: local, dask")
    weeks = pd.concat([cw.assign(path=k) for k, (cw, _) in enumerate(outputs)], ignore_index=True)
    paths = pd.DataFrame([dict(summary, path=k, path_seed=s) for k, ((_, summary), s) in enumerate(zip(outputs, seeds))])
    risk = risk_table(weeks)
    summary = {
        "paths": n_paths, "policy": policy, "seed": seed, "level": level, "engine": engine,
        "cell_weeks_met_share_mean": float(paths["cell_weeks_met_share"].mean()),
        "on_time_share_mean": float(paths["on_time_share"].mean()),
        "p_all_met": float((weeks.groupby("path")["met"].all()).mean()),
        "cells_at_risk": int((risk["p_met"] < 0.9).sum()),
        "items_mean": float(paths["items"].mean()),
        "seconds_per_path": float(paths["seconds"].mean()),
    }
    return ScenarioResult(risk=risk, cell_weeks=weeks, paths=paths, summary=summary)


def _run_dask(args, seeds, policy, dask_address):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError(f"--engine dask needs Dask ({exc.name} is not installed). "
                          "Fix: pip install 'capplan[dask]' (or -e '.[dask]' in a checkout), or use --engine local") from None
    cluster = None
    if dask_address:
        client = Client(dask_address)
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        shared = client.scatter(list(args), broadcast=True)
        futures = [client.submit(replay_path, *shared, s, policy, pure=False) for s in seeds]
        return client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
