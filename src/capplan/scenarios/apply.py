"""Apply a scenario: a modified in-memory workspace and forecast; the input files are never touched.

* :func:`apply_scenario` checks the scenario against the workspace (every queue, language, pool and
  vendor it names must exist; limits stay consistent) and returns a new :class:`Workspace` with the
  config overrides, AHT rules and pool / vendor / queue overrides applied.
* :func:`adjust_forecast` multiplies a forecast by the scenario's ``[[volume]]`` rules and
  ``[[events]]`` (the volume and every band, so every planning quantile moves alike) and, with
  ``inputs/drivers.csv``, by the change in review demand its ``[[drivers]]`` rules imply.

Overlapping rules multiply; an interval is affected when it overlaps ``[start, end)``.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import pandas as pd
from pydantic import ValidationError

from capplan.config import Config
from capplan.inputs import Workspace
from capplan.schema import (AHT_S, INTERVAL_START, LANGUAGE, MAX_HEADCOUNT, MAX_WEEKLY_HOURS, MIN_HEADCOUNT,
                            MIN_WEEKLY_HOURS, POOL, QUEUE, VENDOR, VOLUME)
from capplan.scenarios.language import ALL, CONFIG_SECTIONS, Cells
from capplan.scenarios.load import Scenario, ScenarioProblems, pydantic_message

AHT_MIN_S = 1.0  # the smallest handle time handle_times.csv accepts [s]


def apply_scenario(ws: Workspace, scenario: Scenario) -> Workspace:
    """A copy of ``ws`` with the scenario's overrides applied (config, handle times, pools, vendors, queues).

    Raises
    ------
    ConfigError
        Every problem at once, each with the scenario file and line: unknown queue, language, pool or
        vendor; an unknown or out-of-range config key; limits that contradict each other (min above
        max); a handle time pushed below 1 s.
    """
    problems = ScenarioProblems(scenario.label, scenario.lines)
    config = scenario_config(ws.config, scenario, problems)
    _check_cells(ws, scenario, problems)
    pools = _override_rows(ws.pools, POOL, scenario.spec.pools, "pools", problems, (MIN_HEADCOUNT, MAX_HEADCOUNT))
    vendors = _override_rows(ws.vendors, VENDOR, scenario.spec.vendors, "vendors", problems,
                             (MIN_WEEKLY_HOURS, MAX_WEEKLY_HOURS))
    queues = _override_rows(ws.queues, QUEUE, scenario.spec.queues, "queues", problems, None)
    handle_times, history = _apply_aht(ws, scenario, problems)
    problems.raise_if_any()
    return dataclasses.replace(ws, config=config, pools=pools, vendors=vendors, queues=queues,
                               handle_times=handle_times, history=history, warnings=list(ws.warnings))


def scenario_config(config: Config, scenario: Scenario, problems: ScenarioProblems | None = None) -> Config:
    """The workspace config with the scenario's ``[planning]`` ... ``[solver]`` keys laid over it.

    A key replaces the workspace value, except that tables (``fx``, ``shrinkage_by_site``,
    ``unmet_penalty_per_hour``) are merged key by key.
    """
    own = problems or ScenarioProblems(scenario.label, scenario.lines)
    merged = config.model_dump(mode="python")
    for section in CONFIG_SECTIONS:
        for key, value in getattr(scenario.spec, section).items():
            base = merged[section].get(key)
            if isinstance(base, dict) and isinstance(value, dict):
                value = {**base, **{_like_keys(base, k): v for k, v in value.items()}}
            merged[section][key] = value
    try:
        result = Config.model_validate(merged)
    except ValidationError as exc:
        for err in exc.errors():
            own.add(err["loc"], pydantic_message(err, Config))
        result = config
    if problems is None:
        own.raise_if_any()
    return result


def _like_keys(base: dict, key):
    """TOML table keys are strings; ``unmet_penalty_per_hour`` is keyed by integer tiers."""
    if base and all(isinstance(k, int) for k in base) and str(key).lstrip("-").isdigit():
        return int(key)
    return key


def _check_cells(ws: Workspace, scenario: Scenario, problems: ScenarioProblems) -> None:
    known_queues = set(ws.queues[QUEUE])
    known_languages = set(ws.cells()[LANGUAGE]) | set(ws.history[LANGUAGE].unique())
    spec = scenario.spec
    for kind, rules in ((VOLUME, spec.volume), ("aht", spec.aht), ("events", spec.events), ("drivers", spec.drivers)):
        for i, rule in enumerate(rules):
            _check_names(problems, (kind, i, "queues"), rule.queues, known_queues, QUEUE, "queues.csv")
            _check_names(problems, (kind, i, "languages"), rule.languages, known_languages, LANGUAGE, "the history")
            start, end = getattr(rule, "start", None), getattr(rule, "end", None)
            if start is not None and end is not None and to_utc(end) <= to_utc(start):
                problems.add((kind, i, "end"), f"end {end} is not after start {start}; end is exclusive")


def _check_names(problems, loc, names, known, what, where) -> None:
    unknown = [n for n in names if n != ALL and n not in known]
    if unknown:
        problems.add(loc, f"unknown {what}(s) {', '.join(map(repr, unknown))}; known in {where}: {', '.join(sorted(known))}")


def _override_rows(table: pd.DataFrame, key: str, overrides: dict, section: str, problems: ScenarioProblems,
                   min_max: tuple[str, str] | None) -> pd.DataFrame:
    """Set the given columns of the rows named in ``overrides``; min above max is a problem."""
    if not overrides:
        return table
    out = table.copy()
    names = list(out[key])
    for name, values in overrides.items():
        if name not in names:
            problems.add((section, name), f"unknown {key} '{name}' in [{section}.{name}]; known: {', '.join(sorted(names))}")
            continue
        row = names.index(name)
        for column, value in values.model_dump(exclude_none=True).items():
            out.loc[out.index[row], column] = value
        if min_max is not None:
            low, high = (float(out.iloc[row][c]) for c in min_max)
            if low > high:
                problems.add((section, name), f"{key} '{name}': {min_max[0]} {low:g} is above {min_max[1]} {high:g}")
    return out


def _apply_aht(ws: Workspace, scenario: Scenario, problems: ScenarioProblems) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Handle times (and the history's ``aht_s``, the fallback for cells without one) after the AHT rules."""
    if not scenario.spec.aht:
        return ws.handle_times, ws.history
    handle_times, history = ws.handle_times.copy(), ws.history
    has_history_aht = AHT_S in history.columns
    if has_history_aht:
        history = history.copy()
    for i, rule in enumerate(scenario.spec.aht):
        mask = cell_mask(handle_times, rule)
        new = handle_times.loc[mask, AHT_S] * rule.multiplier + rule.delta_s
        if (new < AHT_MIN_S).any():
            bad = handle_times.loc[mask & (handle_times[AHT_S] * rule.multiplier + rule.delta_s < AHT_MIN_S)]
            cells = ", ".join(f"{q}/{lg}" for q, lg in zip(bad[QUEUE], bad[LANGUAGE]))
            problems.add(("aht", i), f"handle time falls below {AHT_MIN_S:g} s for {cells}")
        handle_times.loc[mask, AHT_S] = new.clip(lower=AHT_MIN_S)
        if has_history_aht:
            hmask = cell_mask(history, rule)
            history.loc[hmask, AHT_S] = (history.loc[hmask, AHT_S] * rule.multiplier + rule.delta_s).clip(lower=AHT_MIN_S)
    return handle_times, history


def cell_mask(frame: pd.DataFrame, rule: Cells) -> pd.Series:
    """Rows of a table whose (queue, language) the rule selects."""
    mask = pd.Series(True, index=frame.index)
    if ALL not in rule.queues:
        mask &= frame[QUEUE].isin(rule.queues)
    if ALL not in rule.languages:
        mask &= frame[LANGUAGE].isin(rule.languages)
    return mask


def to_utc(value) -> pd.Timestamp:
    """A TOML date (midnight UTC), naive datetime (read as UTC) or aware datetime as a UTC timestamp."""
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def forecast_factors(forecast: pd.DataFrame, scenario: Scenario, interval: pd.Timedelta) -> np.ndarray:
    """Volume multiplier of every forecast row: the product of the ``[[volume]]`` and ``[[events]]`` rules."""
    factor = np.ones(len(forecast))
    times = forecast[INTERVAL_START]
    for rule in [*scenario.spec.volume, *scenario.spec.events]:
        mask = cell_mask(forecast, rule)
        if rule.start is not None:
            mask &= times + interval > to_utc(rule.start)
        if rule.end is not None:
            mask &= times < to_utc(rule.end)
        factor[mask.to_numpy()] *= rule.multiplier
    return factor


def volume_columns(forecast: pd.DataFrame) -> list[str]:
    """The forecast's volume and band columns (``volume``, ``volume_lo_<L>``, ``volume_hi_<L>``)."""
    return [c for c in forecast.columns if c == VOLUME or c.startswith(("volume_lo_", "volume_hi_"))]


def adjust_forecast(forecast: pd.DataFrame, scenario: Scenario, ws: Workspace,
                    driver_factors: Callable[[pd.DataFrame], np.ndarray] | None = None) -> pd.DataFrame:
    """The forecast with the scenario's volume rules, events (and driver changes) multiplied in.

    Parameters
    ----------
    forecast : DataFrame
        ``queue``, ``language``, ``interval_start`` (UTC) and the volume columns [items per interval].
    scenario : Scenario
    ws : Workspace
        Supplies the interval length (``[planning] interval_minutes``).
    driver_factors : callable, optional
        Rows -> multiplier from the enqueue drivers (:mod:`capplan.scenarios.drivers`).

    Returns
    -------
    DataFrame, a copy; a ``scenario_factor`` column records each row's multiplier.
    """
    interval = pd.Timedelta(minutes=int(ws.config.planning.interval_minutes))
    factor = forecast_factors(forecast, scenario, interval)
    if driver_factors is not None:
        factor = factor * driver_factors(forecast)
    out = forecast.copy()
    for column in volume_columns(out):
        out[column] = out[column].to_numpy(dtype=float) * factor
    out["scenario_factor"] = factor
    return out
