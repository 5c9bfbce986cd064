"""Compose the stages into commands: one module per command, each returning a typed result.

``inputs -> forecast -> staffing -> optimize -> report`` are the stage packages; a command module here
loads what it needs, runs its stages, writes one run folder atomically (:func:`capplan.runs.run_folder`)
and returns a dataclass the CLI formats (``capplan.cli`` owns every sentence and column label). Nothing
here prints. New commands (replay, evaluate, capacity...) get a module of their own here or live in their
stage package; this package imports from the stages, never the other way round.
"""

from capplan.pipeline.common import FORECASTS, PLANS, input_files, provenance, versions, write_table
from capplan.pipeline.demo import DemoRun, init_workspace, run_demo
from capplan.pipeline.forecast import ForecastRun, run_forecast_stage
from capplan.pipeline.plan import PlanRun, run_plan_stage

__all__ = ["FORECASTS", "PLANS", "input_files", "provenance", "versions", "write_table", "DemoRun", "init_workspace",
           "run_demo", "ForecastRun", "run_forecast_stage", "PlanRun", "run_plan_stage"]
