"""``capplan capability``: proficiency, accuracy and learning curves estimated from production records.

Reads and validates the workspace and ``inputs/production.csv`` (or ``.parquet``), estimates
(:mod:`capplan.capability`) and writes ``capability/<run-id>/`` atomically: ``estimates`` (Parquet + CSV),
``learning_curve`` (Parquet + CSV), ``policy_changes.csv``, ``pool_proficiency.csv`` (typed vs suggested per
pool), ``pools_suggested.csv`` (``inputs/pools.csv`` with the suggested proficiency column, ready to copy),
``capability.xlsx`` and ``run.json``. Nothing is written when an input is bad.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from capplan import __version__
from capplan.capability import CAPABILITY, ESTIMATES, Estimates, estimate_capability
from capplan.errors import ConfigError
from capplan.inputs import load_workspace
from capplan.inputs.production import PRODUCTION_CSV, PRODUCTION_PARQUET, production_path, read_production
from capplan.pipeline.common import Progress, input_files, no_progress, now_utc, provenance, write_table
from capplan.report.csvsafe import write_csv
from capplan.runs import check_writable, file_sha256, run_folder, write_json
from capplan.schema import CAPABILITY_ESTIMATE_COLUMNS, LEARNING_CURVE_COLUMNS, POOL, POOLS, PROFICIENCY, require_columns
from capplan.timing import StageTimer

LEARNING = "learning_curve"
PROFICIENCY_MIN, PROFICIENCY_MAX = POOLS.column(PROFICIENCY).min, POOLS.column(PROFICIENCY).max


@dataclass
class CapabilityRun:
    """What a capability run wrote and found."""

    run_id: str
    folder: Path
    production_file: str
    summary: dict
    pools: pd.DataFrame  # pool, proficiency (typed), suggested, suggested_lo, suggested_hi, items, quality
    policy: pd.DataFrame  # fitted policy changes
    plateau_week_by_site: dict
    warnings: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)


def estimate_workspace(ws) -> tuple[Estimates, object]:
    """The estimates of a loaded workspace and the production records they came from (writes nothing).

    Raises
    ------
    ConfigError
        The workspace has no production records.
    InputError
        Bad production records (every problem at once).
    """
    prod = read_production(ws.root, pools=ws.pools, skills=ws.skills(), cells=ws.cells())
    if prod is None:
        raise ConfigError(f"{ws.root}: no inputs/{PRODUCTION_CSV} or inputs/{PRODUCTION_PARQUET}. Fix: export items handled per day, "
                          "pool and cell with their total handle time (see docs/capability.md), or run 'capplan demo' for an example")
    est = estimate_capability(prod.frame, handle_times=ws.handle_times, skills=ws.skills(), pools=ws.pools, config=ws.config.capability)
    return est, prod


def pool_proficiency(estimates: pd.DataFrame, pools: pd.DataFrame) -> pd.DataFrame:
    """Typed vs suggested proficiency per pool: the items-weighted geometric mean of its pair multipliers.

    Pairs without records weigh as one item each, so a pool with no records gets the mean of its prior values.
    The interval is the same weighted mean of the pair bounds (conservative: it assumes the pairs' errors move
    together).
    """
    e = estimates.assign(wt=np.maximum(estimates["items"].to_numpy(float), 1.0))
    rows = []
    for pool, g in e.groupby(POOL, sort=True):
        w = g["wt"].to_numpy() / g["wt"].sum()
        geo = {c: float(np.exp(np.sum(w * np.log(g[c].to_numpy(float))))) for c in ("multiplier", "multiplier_lo", "multiplier_hi")}
        q = g["quality"].to_numpy(float)
        rows.append({POOL: pool, "items": int(g["items"].sum()), "suggested": geo["multiplier"], "suggested_lo": geo["multiplier_lo"],
                     "suggested_hi": geo["multiplier_hi"],
                     "quality": float(np.nansum(w * q) / np.sum(w[np.isfinite(q)])) if np.isfinite(q).any() else np.nan})
    out = pools[[POOL, PROFICIENCY]].merge(pd.DataFrame(rows), on=POOL, how="left")
    out["suggested"] = out["suggested"].fillna(out[PROFICIENCY]).clip(PROFICIENCY_MIN, PROFICIENCY_MAX)
    return out


def suggested_pools_csv(root: Path, suggestion: pd.DataFrame) -> pd.DataFrame:
    """``inputs/pools.csv`` as written, with the proficiency column replaced by the suggestion (2 decimals)."""
    raw = pd.read_csv(Path(root) / "inputs" / "pools.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    values = dict(zip(suggestion[POOL], suggestion["suggested"]))
    raw[PROFICIENCY] = [f"{values[p]:.2f}" if p in values else v for p, v in zip(raw[POOL].str.strip(), raw[PROFICIENCY])]
    return raw


def run_capability_stage(workspace: Path, *, progress: Progress = no_progress) -> CapabilityRun:
    """Estimate from the workspace's production records into ``capability/<run-id>/``."""
    timer = StageTimer(progress)
    workspace = Path(workspace)
    with timer.stage("reading inputs"):
        ws = load_workspace(workspace)
        check_writable(workspace / CAPABILITY)
        if production_path(workspace) is None:
            estimate_workspace(ws)  # raises the no-records error before any work
    with timer.stage("estimating"):
        est, prod = estimate_workspace(ws)
        suggestion = pool_proficiency(est.estimates, ws.pools)
        pools_csv = suggested_pools_csv(ws.root, suggestion) if (ws.root / "inputs" / "pools.csv").is_file() else None
    path = production_path(workspace)
    inputs = input_files(ws) + [{"table": "production", "file": prod.file, "sha256": file_sha256(path)}]
    warnings = [str(w) for w in prod.warnings]
    with run_folder(workspace / CAPABILITY) as (tmp, run_id), timer.stage("writing capability run"):
        require_columns(est.estimates, CAPABILITY_ESTIMATE_COLUMNS, ESTIMATES)
        require_columns(est.learning, LEARNING_CURVE_COLUMNS, LEARNING)
        write_table(est.estimates, tmp, ESTIMATES, csv=True)
        write_table(est.learning, tmp, LEARNING, csv=True)
        write_csv(est.policy, tmp / "policy_changes.csv")
        write_csv(suggestion, tmp / "pool_proficiency.csv")
        if pools_csv is not None:
            write_csv(pools_csv, tmp / "pools_suggested.csv")
        _workbook(tmp / "capability.xlsx", ws, est, suggestion, run_id, inputs)
        write_json(tmp / "run.json", provenance(ws, inputs, timer.timings, {
            "run_id": run_id, "kind": CAPABILITY, "summary": est.summary, "warnings_capability": warnings}))
    return CapabilityRun(run_id=run_id, folder=workspace / CAPABILITY / run_id, production_file=prod.file, summary=est.summary,
                         pools=suggestion, policy=est.policy, plateau_week_by_site=est.summary.get("plateau_week_by_site", {}),
                         warnings=warnings, timings=dict(timer.timings))


def _workbook(path: Path, ws, est: Estimates, suggestion: pd.DataFrame, run_id: str, inputs: list[dict]) -> None:
    from capplan.report.capability_xlsx import write_capability_workbook

    info = {"run_id": run_id, "capplan_version": __version__, "workspace": str(ws.root), "created_utc": now_utc(), "inputs": inputs}
    write_capability_workbook(path, est, suggestion, info)
