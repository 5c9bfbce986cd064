"""``capplan init`` and ``capplan demo``: a workspace from the templates, or a synthetic one run end to end."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from capplan.errors import ConfigError
from capplan.pipeline.common import FORECASTS, PLANS, Progress, no_progress
from capplan.pipeline.forecast import ForecastRun, run_forecast_stage
from capplan.pipeline.plan import PlanRun, run_plan_stage


@dataclass
class DemoRun:
    """A demo workspace and, when it was run, its forecast and plan runs."""

    directory: Path
    seed: int
    size: str
    forecast: ForecastRun | None = None
    plan: PlanRun | None = None

    @property
    def warnings(self) -> list[str]:
        return [w for part in (self.forecast, self.plan) if part is not None for w in part.warnings]

    @property
    def unmet_hours(self) -> float:
        return self.plan.unmet_hours if self.plan is not None else 0.0


def _require_empty(directory: Path, hint: str) -> None:
    if directory.exists() and any(directory.iterdir()):
        raise ConfigError(f"{directory}: folder is not empty{hint}")


def init_workspace(directory: Path) -> Path:
    """Create an empty workspace (commented capplan.toml, blank input templates) in a new folder."""
    from capplan.inputs.templates import write_templates

    directory = Path(directory)
    _require_empty(directory, ". Fix: choose a new folder name")
    directory.mkdir(parents=True, exist_ok=True)
    write_templates(directory)
    (directory / FORECASTS).mkdir(exist_ok=True)
    (directory / PLANS).mkdir(exist_ok=True)
    return directory


def run_demo(directory: Path, *, seed: int = 7, size: str = "default", run: bool = True,
             progress: Progress = no_progress) -> DemoRun:
    """Build the synthetic demo workspace and (unless ``run`` is false) forecast and plan it."""
    from capplan.demo import build_demo_workspace

    directory = Path(directory)
    _require_empty(directory, "; the demo never overwrites a workspace. Fix: pass a new folder, e.g. 'capplan demo demo2'")
    progress("building demo workspace", 0.0)
    build_demo_workspace(directory, seed=seed, size=size)
    progress("building demo workspace", 1.0)
    result = DemoRun(directory=directory, seed=seed, size=size)
    if run:
        result.forecast = run_forecast_stage(directory, progress=progress)
        result.plan = run_plan_stage(directory, progress=progress)
    return result
