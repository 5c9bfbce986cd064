"""``capplan reforecast``: update the rest of today's forecast from the arrivals so far and re-route with the shifts fixed."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd
import typer


def reforecast(
    workspace: Path = typer.Argument(Path("."), help="Workspace folder."),
    as_of: str = typer.Option(..., "--as-of", help="Now: an interval start inside the plan window, ISO 8601 (e.g. 2026-12-02T14:00Z); "
                                                    "a time without a zone is read as UTC."),
    plan_run: Optional[str] = typer.Option(None, "--plan", help="Plan run id (default: plans/latest)."),
    arrivals: Optional[Path] = typer.Option(None, "--arrivals", help="History-shaped CSV or Parquet with today's arrivals so far "
                                                                     "(default: the workspace history)."),
    time_zone: Optional[str] = typer.Option(None, "--time-zone", help="Whose calendar day is today: a site of pools.csv or an IANA "
                                                                      "zone (default: [reforecast] time_zone, see docs/reforecast.md)."),
) -> None:
    """Update today's forecast from the arrivals so far and re-route the rest of the day; writes reforecasts/<run-id>/."""
    from capplan.cli.main import _progress, print_summary
    from capplan.pipeline.reforecast import run_reforecast_stage

    with _progress() as progress:
        run = run_reforecast_stage(workspace, as_of=as_of, plan_run=plan_run, arrivals_file=arrivals, time_zone=time_zone,
                                   progress=progress)
    print_summary(reforecast_summary(run))


def reforecast_summary(run):
    """A :class:`capplan.pipeline.reforecast.ReforecastRun` as text: forecast change, service, moves, overtime and VTO."""
    from capplan.cli.present import Summary

    s = run.summary
    cur = s["currency"]
    lines = [f"reforecast run {run.run_id} of plan {run.plan_run} as of {run.as_of:%Y-%m-%d %H:%M} UTC ({s['intervals']} intervals left today) -> {run.folder}",
             f"today: {pd.Timestamp(s['day_start']):%Y-%m-%d %H:%M} to {pd.Timestamp(s['day_end']):%Y-%m-%d %H:%M} UTC, the local day of "
             f"{s['time_zone']} ({s['time_zone_from']})",
             f"rest of the day: {s['forecast_items_original']:,.0f} items forecast, {s['forecast_items_updated']:,.0f} after the update",
             f"expected service: plan {_pct(s['service_plan'])} ({s['cells_met_plan']} of {s['cells']} cells at target), "
             f"re-plan {_pct(s['service_replan'])} ({s['cells_met_replan']} of {s['cells']})",
             f"moved {s['moved_hours']:,.1f} productive hours; overtime {s['overtime_paid_hours']:,.1f} paid h ({s['overtime_cost']:,.0f} {cur}); "
             f"VTO {s['vto_paid_hours']:,.1f} paid h (saves {s['vto_saving']:,.0f} {cur}); re-plan solved in {s['seconds']:.1f} s"]
    tables = {}
    cells = run.cells[run.cells["weight"] > 0].assign(change=lambda f: f["multiplier"] - 1.0)
    top = cells.reindex(cells["change"].abs().sort_values(ascending=False).index).head(10)
    if len(top):
        tables["Forecast update (largest changes)"] = pd.DataFrame({
            "queue": top["queue"], "language": top["language"], "forecast so far": top["seen_forecast"].map("{:,.0f}".format),
            "actual so far": top["seen_actual"].map("{:,.0f}".format), "weight": top["weight"].map("{:.2f}".format),
            "rest of day x": top["multiplier"].map("{:.3f}".format)})
    moves = run.moves.reindex(run.moves["change_hours"].abs().sort_values(ascending=False).index).head(10)
    if len(moves):
        tables["Moves (largest first)"] = pd.DataFrame({
            "pool": moves["pool"], "queue": moves["queue"], "language": moves["language"],
            "planned h": moves["planned_hours"].map("{:,.1f}".format), "re-planned h": moves["replanned_hours"].map("{:,.1f}".format)})
    if len(run.staffing):
        st = run.staffing.head(10)
        tables["Overtime and voluntary time off"] = pd.DataFrame({
            "kind": st["kind"], "pool": st["pool"], "shift": st["shift"], "from (UTC)": st["from_utc"].dt.strftime("%H:%M"),
            "to (UTC)": st["to_utc"].dt.strftime("%H:%M"), "moderators": st["moderators"].map("{:,.1f}".format),
            f"cost {cur}": st["cost"].map("{:,.0f}".format)})
    return Summary(lines=lines, tables=tables, warnings=list(run.warnings))


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.1%}"
