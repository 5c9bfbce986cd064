"""Evaluate: the pipeline and its forecasts measured against what actually happened.

* :mod:`.weeks` and :mod:`.walkforward`: walk-forward evaluation (forecast, plan, replay the actual week,
  plan in hindsight) for the last K weeks of history; :mod:`.run` runs the weeks here or on Dask.
* :mod:`.experiments`: two configurations on the same weeks, paired bootstrap differences, a verdict.
* :mod:`.accuracy`: past forecast runs (snapshots) against the actuals now in history.

Imports only lower layers (inputs, forecast, staffing, optimize, simulate); prints nothing, writes nothing.
"""

from capplan.evaluate.accuracy import AccuracyTables, Snapshot, forecast_accuracy
from capplan.evaluate.experiments import compare, config_changes, load_variant, verdict
from capplan.evaluate.run import walk_forward
from capplan.evaluate.walkforward import WeekOutcome, evaluate_week, week_summary
from capplan.evaluate.weeks import evaluation_weeks, whole_weeks

__all__ = ["AccuracyTables", "Snapshot", "forecast_accuracy", "compare", "config_changes", "load_variant", "verdict",
           "walk_forward", "WeekOutcome", "evaluate_week", "week_summary", "evaluation_weeks", "whole_weeks"]
