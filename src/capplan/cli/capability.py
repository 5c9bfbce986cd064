"""``capplan capability``: proficiency, accuracy and learning curves estimated from production records."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer


def capability(workspace: Path = typer.Argument(Path("."), help="Workspace folder (holds capplan.toml and inputs/production.csv).")) -> None:
    """Estimate AHT multipliers and accuracy per pool x cell, learning curves and policy bumps; writes capability/<run-id>/."""
    from capplan.cli.main import _progress, print_summary
    from capplan.pipeline.capability import run_capability_stage

    with _progress() as progress:
        run = run_capability_stage(workspace, progress=progress)
    print_summary(capability_summary(run))


def capability_summary(run):
    """A :class:`capplan.pipeline.capability.CapabilityRun` as text: pools typed vs suggested, policy bumps, learning."""
    from capplan.cli.present import Summary

    s = run.summary
    lines = [f"capability run {run.run_id} from {run.production_file} -> {run.folder}",
             f"{s['rows']:,} rows, {s['items']:,} items; {s['pairs_with_records']} of {s['pairs']} pool x cell pairs have records; "
             f"between-pair sd of log AHT {s['tau_log_aht']:.3f}; intervals at {s['level']:.0%}"]
    pools = pd.DataFrame({
        "pool": run.pools["pool"], "typed": [f"{v:.2f}" for v in run.pools["proficiency"]],
        "estimated": [f"{v:.2f} ({lo:.2f}-{hi:.2f})" if pd.notna(lo) else f"{v:.2f}"
                      for v, lo, hi in zip(run.pools["suggested"], run.pools["suggested_lo"], run.pools["suggested_hi"])],
        "quality": ["-" if pd.isna(q) else f"{q:.1%}" for q in run.pools["quality"]],
        "items": [f"{int(v):,}" if pd.notna(v) else "0" for v in run.pools["items"]]})
    tables = {"AHT multiplier per pool (pools.csv proficiency: typed vs estimated)": pools}
    if len(run.policy):
        tables["Policy changes (temporary AHT bump)"] = pd.DataFrame({
            "queue": run.policy["queue"], "from": run.policy["date"].astype(str), "found": run.policy["source"],
            "bump": [f"{b:+.1f}% ({lo:+.1f} to {hi:+.1f})" for b, lo, hi in zip(run.policy["bump_pct"], run.policy["bump_lo_pct"], run.policy["bump_hi_pct"])],
            "half-life": [f"{h:.1f} d ({lo:.1f}-{hi:.1f})" for h, lo, hi in zip(run.policy["half_life_days"], run.policy["half_life_lo"], run.policy["half_life_hi"])]})
    else:
        lines.append("no temporary AHT bump found (set [capability] policy_changes to test a dated change)")
    if run.plateau_week_by_site:
        lines.append("new hires at full speed (within 2 % of tenured) from tenure week: "
                     + ", ".join(f"{site} {'not yet' if w is None else w}" for site, w in sorted(run.plateau_week_by_site.items())))
    lines.append(f"suggested proficiency column: {run.folder / 'pools_suggested.csv'}; workbook {run.folder / 'capability.xlsx'}")
    return Summary(lines=lines, tables=tables, warnings=list(run.warnings))
