"""``capplan evaluate``: walk-forward over the last K weeks (optionally two configs); writes ``evaluations/<run-id>/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capplan.inputs import load_workspace
from capplan.pipeline.common import Progress, input_files, no_progress, now_utc, provenance, write_table
from capplan.runs import file_sha256, run_folder, write_json
from capplan.schema import VARIANT, WEEK
from capplan.timing import StageTimer

EVALUATIONS = "evaluations"


@dataclass
class EvaluationRun:
    """What an evaluation wrote: ids, totals per variant, per-week rows, the comparison (``--compare``)."""

    run_id: str
    folder: Path
    weeks: list[pd.Timestamp]
    totals: pd.DataFrame
    by_week: pd.DataFrame
    currency: str
    compare_file: str | None = None
    comparison: dict | None = None
    verdict: str | None = None
    changes: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def run_evaluate_stage(workspace: Path, *, weeks: int, compare: Path | None = None, engine: str = "local",
                       dask_address: str | None = None, policy: str = "priority", compare_policy: str | None = None,
                       seed: int = 0, progress: Progress = no_progress) -> EvaluationRun:
    """Walk forward over the last ``weeks`` whole weeks of history (see :mod:`capplan.evaluate`).

    ``compare`` (a TOML file) and/or ``compare_policy`` (a routing policy) make a second variant B;
    A is the workspace's config with ``policy``. Every check (workspace, ``--weeks``, ``--compare``
    file, policies, each variant's requirements) runs before any forecast; nothing is written unless
    the whole evaluation finishes.
    """
    from capplan.evaluate import config_changes, evaluation_weeks, load_variant, walk_forward

    timer = StageTimer(progress)
    workspace = Path(workspace)
    with timer.stage("reading inputs"):
        ws = load_workspace(workspace)
        variants, policies = {"A": ws.config}, {"A": policy}
        if compare is not None or compare_policy is not None:
            variants["B"] = load_variant(ws.config, compare) if compare is not None else ws.config
            policies["B"] = compare_policy or policy
        chosen = evaluation_weeks(ws.history, ws.config, weeks)
        for name in set(policies.values()):
            _check_policy(name)
    outcomes = walk_forward(ws, chosen, variants, engine=engine, dask_address=dask_address, policies=policies,
                            seed=seed, progress=progress)
    for o in outcomes:
        timer.merge(o.summary["timings_s"], prefix=f"{o.variant} {o.week:%Y-%m-%d} ")
    tables = _tables(outcomes)
    comparison = verdict = None
    changes = config_changes(variants["A"], variants["B"]) if "B" in variants else {}
    if policies.get("B", policy) != policy:
        changes["routing policy"] = {"A": policy, "B": policies["B"]}
    if "B" in variants:
        from capplan.evaluate import compare as compare_variants, verdict as say

        comparison = compare_variants(tables["cell_weeks"], seed=seed)
        verdict = say(comparison)
    extra = {"weeks": [w.isoformat() for w in chosen], "engine": engine, "policy": policy, "policies": policies, "replay_seed": seed,
             "compare_file": str(compare) if compare is not None else None, "config_changes": changes}
    with run_folder(workspace / EVALUATIONS) as (tmp, run_id), timer.stage("writing evaluation"):
        for name in ("cell_weeks", "weeks", "totals"):
            write_table(tables[name], tmp, name, csv=True)
        write_table(pd.concat([o.forecast for o in outcomes], ignore_index=True), tmp, "forecasts")
        summary = {"run_id": run_id, **extra, "totals": tables["totals"].to_dict("records"),
                   "weeks_detail": [o.summary for o in outcomes], "comparison": comparison, "verdict": verdict}
        write_json(tmp / "evaluation.json", summary)
        _workbook(tmp, run_id, tables, extra, verdict, ws.config.policy.currency)
        if compare is not None:
            extra["compare_file_sha256"] = file_sha256(Path(compare))
        write_json(tmp / "run.json", provenance(ws, input_files(ws), timer.timings, {"run_id": run_id, "kind": "evaluation", **extra}))
    warnings = sorted({w for o in outcomes for w in o.warnings if "too short to backtest" in w})
    limited = [f"{o.variant} {o.week:%Y-%m-%d} {which}" for o in outcomes for which in ("plan", "hindsight")
               if str(o.summary.get(f"{which}_status", "")).startswith(("time_limit", "fallback"))]
    if limited:
        warnings.append(f"{len(limited)} solve(s) stopped at [solver] time_limit_s ({', '.join(limited)}): their plans "
                        "depend on the machine's load and may differ between runs; raise time_limit_s for a stable comparison")
    return EvaluationRun(run_id=run_id, folder=workspace / EVALUATIONS / run_id, weeks=chosen, totals=tables["totals"],
                         by_week=tables["weeks"], currency=ws.config.policy.currency,
                         compare_file=str(compare) if compare is not None else None, comparison=comparison,
                         verdict=verdict, changes=changes, warnings=warnings)


def _check_policy(policy: str) -> None:
    """Refuse an unknown routing policy before the first forecast, when the simulator lists its policies."""
    from capplan import simulate
    from capplan.errors import ConfigError

    names = getattr(simulate, "POLICIES", None)
    if names is not None and policy not in names:
        raise ConfigError(f"--policy {policy!r} is not a routing policy; valid: {', '.join(sorted(names))}")


def _tables(outcomes) -> dict[str, pd.DataFrame]:
    from capplan.evaluate import week_summary

    cell_weeks = pd.concat([o.cell_weeks for o in outcomes], ignore_index=True)
    weeks = pd.DataFrame([{k: v for k, v in o.summary.items() if k != "timings_s"} for o in outcomes])
    weeks[WEEK] = pd.to_datetime(weeks[WEEK], utc=True)
    totals = []
    for variant, part in cell_weeks.groupby(VARIANT, sort=True):
        row = {VARIANT: variant, "weeks": int(part[WEEK].nunique()), **week_summary(part)}
        chosen = weeks[weeks[VARIANT] == variant]
        plan, best = chosen["plan_total_cost"].sum(), chosen["hindsight_total_cost"].sum()
        row.update({"plan_total_cost": float(plan), "hindsight_total_cost": float(best),
                    "total_cost_vs_hindsight": float(plan / best - 1.0) if best > 0 else None})
        totals.append(row)
    leading = [VARIANT, WEEK]
    weeks = weeks[leading + [c for c in weeks.columns if c not in leading]]
    return {"cell_weeks": cell_weeks, "weeks": weeks, "totals": pd.DataFrame(totals)}


def _workbook(folder: Path, run_id: str, tables: dict, extra: dict, verdict: str | None, currency: str) -> None:
    from capplan import __version__
    from capplan.report.evaluation_xlsx import write_evaluation_workbook

    facts = [("run_id", run_id), ("created_utc", now_utc()), ("capplan_version", __version__),
             ("weeks", ", ".join(w[:10] for w in extra["weeks"])), ("engine", extra["engine"]),
             ("routing policy", extra["policy"]), ("currency", currency)]
    if verdict:
        facts += [("compared with", extra["compare_file"] or "the workspace capplan.toml"), ("policies", str(extra["policies"])), ("verdict", verdict)]
    notes = [
        "Each week: the history before it was forecast and planned as capplan forecast / plan would, then the week's actual "
        "arrivals were replayed through the plan (items, on_time, abandoned, achieved, met).",
        "hindsight_*: the same week planned with the actual arrivals as the forecast, replayed the same way.",
        "cost: the plan's paid cost attributed to each cell by its productive hours; cost_vs_hindsight = cost / hindsight cost - 1.",
        "wape, bias: the forecast (mean) against the actuals, hour by hour over the week; bias > 0 = over-forecast.",
        "abandon_rate: abandoned / items of real-time cells. Variant A = the workspace's capplan.toml, B = --compare.",
    ]
    write_evaluation_workbook(folder / "evaluation.xlsx", tables["totals"], tables["weeks"], tables["cell_weeks"], facts, notes)
