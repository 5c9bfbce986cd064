"""``capplan report ...``: reports made from a finished run (``capplan report dsa``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from capplan.cli.present import Summary

report_app = typer.Typer(help="Reports made from a finished plan run.", no_args_is_help=True)

_DSA_LABELS = {"iso_639_1": "language", "language_name": "name", "sourcing": "sourcing", "moderators": "moderators",
               "fte": "FTE", "sites": "sites"}


def dsa_summary(run) -> Summary:
    """A :class:`capplan.pipeline.report.DsaRun` as text: the EU languages table."""
    eu = run.table[run.table["eu_official"]]
    table = eu[list(_DSA_LABELS)].rename(columns=_DSA_LABELS)
    others = sorted(set(run.table.loc[~run.table["eu_official"], "iso_639_1"]))
    lines = [f"DSA language report {run.run_id} from plan {run.plan_run}, {run.period[0]} to {run.period[1]} -> {run.folder}"]
    if others:
        lines.append(f"other languages in the file: {', '.join(others)}")
    return Summary(lines=lines, tables={"Moderators and FTE per official EU language (DSA Art. 42)": table},
                   warnings=list(run.warnings))


@report_app.command("dsa")
def dsa(
    workspace: Path = typer.Argument(Path("."), help="Workspace folder."),
    plan: Optional[str] = typer.Option(None, "--plan", help="Plan run id (default: plans/latest)."),
) -> None:
    """Moderators and FTE per EU language from a plan (Digital Services Act transparency); writes reports/dsa/<run-id>/."""
    from capplan.cli.main import guarded, print_summary
    from capplan.pipeline.report import run_dsa_report

    @guarded
    def _run() -> None:
        print_summary(dsa_summary(run_dsa_report(workspace, plan_run=plan)))

    _run()
