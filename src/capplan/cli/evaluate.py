"""``capplan evaluate`` (walk-forward, experiments) and ``capplan accuracy`` (past forecasts vs actuals).

Thin adapters: parse options, call one pipeline function, print its result as a :class:`Summary`.
"""

from __future__ import annotations

import math
from enum import Enum
from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from capplan.cli.present import Summary


class WeeksEngine(str, Enum):
    local = "local"
    dask = "dask"


def evaluate(
    workspace: Path = typer.Argument(Path("."), help="Workspace folder."),
    weeks: int = typer.Option(..., "--weeks", help="Evaluate the last K whole weeks of history (one whole week must come before them)."),
    compare: Optional[Path] = typer.Option(None, "--compare", help="A second configuration: a TOML file whose keys replace the workspace's capplan.toml (full or partial)."),
    policy: str = typer.Option("priority", "--policy", help="Routing policy of the replay (see 'capplan replay --help')."),
    compare_policy: Optional[str] = typer.Option(None, "--compare-policy", help="Routing policy of configuration B (with or without --compare)."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the replay and of the bootstrap."),
    engine: WeeksEngine = typer.Option(WeeksEngine.local, "--engine", help="Run the weeks here (local) or on Dask."),
    dask_address: Optional[str] = typer.Option(None, "--dask-address", help="Address of a running Dask scheduler (default: a local cluster)."),
) -> None:
    """Walk-forward: for each past week forecast, plan, replay the actual arrivals, plan in hindsight; writes evaluations/<run-id>/."""
    from capplan.cli.main import _progress, print_summary
    from capplan.pipeline.evaluate import run_evaluate_stage

    with _progress() as progress:
        run = run_evaluate_stage(workspace, weeks=weeks, compare=compare, engine=engine.value, dask_address=dask_address,
                                 policy=policy, compare_policy=compare_policy, seed=seed, progress=progress)
    print_summary(evaluation_summary(run))


def accuracy(workspace: Path = typer.Argument(Path("."), help="Workspace folder.")) -> None:
    """Past forecast runs against the actuals now in history: WAPE and bias by cell, week, lead time; writes accuracy/<run-id>/."""
    from capplan.cli.main import _progress, print_summary
    from capplan.pipeline.accuracy import run_accuracy_stage

    with _progress() as progress:
        run = run_accuracy_stage(workspace, progress=progress)
    print_summary(accuracy_summary(run))


# --- what is printed -------------------------------------------------------------------------------
def _pct(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1%}"


def _money(value, currency: str) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.0f} {currency}"


def _week_rows(frame: pd.DataFrame, currency: str, label: str, vs: str = "total_cost_vs_hindsight") -> pd.DataFrame:
    return pd.DataFrame({
        label: frame[label],
        "met target": [f"{m}/{n} ({_pct(s)})" for m, n, s in zip(frame["cell_weeks_met"], frame["cell_weeks"], frame["cell_weeks_met_share"])],
        "hindsight met": [f"{m}/{n}" for m, n in zip(frame["hindsight_cell_weeks_met"], frame["cell_weeks"])],
        "on time": frame["on_time_share"].map(_pct), "hindsight on time": frame["hindsight_on_time_share"].map(_pct),
        "abandoned (RT)": frame["abandon_rate"].map(_pct),
        "cost": frame["plan_total_cost"].map(lambda v: _money(v, currency)),
        "vs hindsight": frame[vs].map(lambda v: "" if v is None or pd.isna(v) else f"{v:+.1%}"),
        "WAPE": frame["wape"].map(_pct), "bias": frame["bias"].map(lambda v: "" if v is None or pd.isna(v) else f"{v:+.1%}"),
    })


def evaluation_summary(run) -> Summary:
    """A :class:`capplan.pipeline.evaluate.EvaluationRun` as text: weeks, totals, the verdict."""
    weeks = run.by_week.copy()
    weeks["week"] = [f"{row.variant} {row.week:%Y-%m-%d}" if run.comparison else f"{row.week:%Y-%m-%d}"
                     for row in weeks.itertuples(index=False)]
    totals = run.totals.copy()
    totals["configuration"] = totals["variant"].map({"A": "A (capplan.toml)", "B": f"B ({run.compare_file or 'capplan.toml'})"})
    tables = {"Walk-forward: each week planned from the history before it, then replayed with its actual arrivals":
              _week_rows(weeks, run.currency, "week"),
              "Totals over all weeks (cost vs the plan made knowing the actual arrivals)":
              _week_rows(totals, run.currency, "configuration")}
    lines = [f"evaluation run {run.run_id}: {len(run.weeks)} week(s) from {run.weeks[0]:%Y-%m-%d} -> {run.folder}"]
    if run.comparison:
        lines.append("B differs from A in: " + "; ".join(f"{k} {v['A']!r} -> {v['B']!r}" for k, v in run.changes.items())
                     if run.changes else "B has the same settings as A")
        lines.append(f"verdict: {run.verdict}")
    return Summary(lines=lines, tables=tables, warnings=list(run.warnings))


def accuracy_summary(run) -> Summary:
    """A :class:`capplan.pipeline.accuracy.AccuracyRun` as text: one row per past run, the trend."""
    r = run.by_run
    table = pd.DataFrame({
        "forecast run": r["run_id"], "start": [f"{s:%Y-%m-%d}" for s in r["start"]],
        "days compared": ((r["end"] - r["start"]) / pd.Timedelta(days=1)).round(1).astype(str),
        "WAPE": r["wape"].map(_pct), "bias": r["bias"].map(lambda v: "" if pd.isna(v) else f"{v:+.1%}"),
        "naive WAPE": r["naive_wape"].map(_pct), "skill vs naive": r["skill"].map(_pct),
    })
    t = run.trend
    if t.get("wape_slope_per_week") is None:
        trend = "trend: needs two runs with different planning starts"
    else:
        slope = 100 * t["wape_slope_per_week"]
        trend = (f"trend: WAPE {'falls' if slope < 0 else 'rises'} {abs(slope):.2f} points per week across {t['runs']} runs "
                 f"(naive: {100 * t['naive_wape_slope_per_week']:+.2f}); {'getting better' if slope < 0 else 'not getting better'}")
    return Summary(lines=[f"accuracy run {run.run_id} -> {run.folder}", trend],
                   tables={"Past forecast runs vs the actuals now in history (naive = weekly seasonal naive)": table},
                   warnings=list(run.warnings))
