"""A scenario inside a forecast or plan run: which forecast it uses, what it changes, what the run records.

Forecast adjustments (``[[volume]]``, ``[[events]]``, ``[[drivers]]``) are applied exactly once: by
``capplan forecast --scenario`` when the forecast run was made with the same scenario file (same
sha256), otherwise by ``capplan plan --scenario`` to the base forecast it reads. A scenario with
``[forecast]`` keys changes how the forecast is made, so its plan needs a forecast run made with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capplan.errors import ConfigError
from capplan.inputs import Workspace
from capplan.runs import LATEST, TMP_PREFIX
from capplan.scenarios.apply import adjust_forecast, apply_scenario
from capplan.scenarios.drivers import check_drivers, driver_factors_for, drivers_record, read_drivers
from capplan.scenarios.load import Scenario, load_scenario

FORECASTS = "forecasts"


@dataclass
class WhatIf:
    """A scenario applied to a loaded workspace, ready for a plan or forecast run."""

    scenario: Scenario
    workspace: Workspace
    forecast_run: str | None  # the forecast run the plan should read (None: forecasts/latest)
    warnings: list[str] = field(default_factory=list)  # e.g. drivers that do not multiply out to the history
    extra_record: dict = field(default_factory=dict)

    @property
    def record(self) -> dict:
        """What run.json and solve.json record: scenario name, file, sha256 (and the drivers file's, when used)."""
        return {**self.scenario.record, **self.extra_record}

    def adjust(self, forecast: pd.DataFrame, forecast_dir: Path | None = None) -> pd.DataFrame:
        """The forecast with the scenario's volume changes, unless the forecast run already has them."""
        if forecast_dir is not None and run_scenario(forecast_dir).get("scenario_sha256") == self.scenario.sha256:
            return forecast
        return adjust_forecast(forecast, self.scenario, self.workspace, driver_factors_for(self.workspace, self.scenario))


def what_if(root: Path, name: str, ws: Workspace, forecast_run: str | None = None, *, for_plan: bool = True) -> WhatIf:
    """Load scenario ``name`` of the workspace at ``root``, apply it to ``ws`` and pick its forecast run.

    For a plan, the forecast is the named run, else the newest run made with this scenario file, else
    (when the scenario does not change how forecasts are made) the newest run made without a scenario.

    Raises
    ------
    ConfigError
        Bad scenario (file and line named), or no forecast run fits the scenario.
    """
    scenario = load_scenario(root, name)
    applied = apply_scenario(ws, scenario)
    chosen = forecast_run
    if for_plan:
        chosen = _forecast_for(Path(root), scenario, forecast_run)
    result = WhatIf(scenario=scenario, workspace=applied, forecast_run=chosen)
    if scenario.spec.drivers:  # check the drivers now, before anything is solved
        driver_factors_for(applied, scenario)
        problems = check_drivers(applied, read_drivers(applied))
        applied.warnings.extend(problems)
        result.warnings = [str(p) for p in problems]
        result.extra_record = drivers_record(applied, scenario)
    return result


def run_scenario(run_dir: Path) -> dict:
    """The scenario fields a run's run.json records ({} for a run without a scenario or run.json)."""
    path = Path(run_dir) / "run.json"
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: payload[k] for k in ("scenario", "scenario_file", "scenario_sha256") if payload.get(k)}


def _forecast_for(root: Path, scenario: Scenario, forecast_run: str | None) -> str | None:
    base = root / FORECASTS
    if forecast_run is not None:
        made_with = run_scenario(base / forecast_run)
        if made_with and made_with.get("scenario_sha256") != scenario.sha256:
            raise ConfigError(f"forecast run {forecast_run} was made with scenario '{made_with.get('scenario')}' "
                              f"(or another version of it), not with {scenario.label} as it is now. Fix: name a forecast run "
                              f"made without a scenario, or run 'capplan forecast --scenario {scenario.name}'")
        if not made_with and scenario.touches_forecast:
            raise _needs_own_forecast(scenario)
        return forecast_run
    runs = _complete_runs(base)
    own = [r for r in runs if run_scenario(base / r).get("scenario_sha256") == scenario.sha256]
    if own:
        return own[-1]
    if scenario.touches_forecast:
        raise _needs_own_forecast(scenario)
    plain = [r for r in runs if not run_scenario(base / r)]
    return plain[-1] if plain else None


def _needs_own_forecast(scenario: Scenario) -> ConfigError:
    return ConfigError(f"{scenario.label} changes [forecast] settings, so its plan needs a forecast made with it. "
                       f"Fix: run 'capplan forecast --scenario {scenario.name}' first")


def _complete_runs(base: Path) -> list[str]:
    """Complete run folders, oldest first (run ids sort by time)."""
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(TMP_PREFIX) and p.name != LATEST)
