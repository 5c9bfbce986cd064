"""The ``capplan`` program: typer commands that parse options, call one library function each,
print a summary and map project errors to exit codes (2 bad input/config, 3 shortfall with
--strict, 1 unexpected)."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from capplan import __version__
from capplan.cli.present import Summary, demo_summary, forecast_summary, plan_summary
from capplan.errors import CapplanError, InputError

app = typer.Typer(
    name="capplan",
    help="Capacity forecasting and staffing planner for content-moderation operations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)  # tables stay readable in logs
err = Console(stderr=True, highlight=False)
_state = {"verbose": False}


class DemoSize(str, Enum):
    small = "small"
    default = "default"
    large = "large"


class Engine(str, Enum):
    local = "local"
    dask = "dask"


def _show_progress() -> bool:
    return err.is_terminal and not os.environ.get("CI")


def guarded(fn: Callable) -> Callable:
    """Run a command; expected errors become one line on stderr and an exit code, no traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except InputError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            if _state["verbose"]:
                for problem in exc.problems[1:]:
                    err.print(f"  - {escape(str(problem))}", soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except CapplanError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            if _state["verbose"]:
                err.print(traceback.format_exc())
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("[bold red]interrupted[/]: nothing was written")
            raise typer.Exit(130) from None
        except Exception as exc:  # a bug: say so, short, unless --verbose
            err.print(f"[bold red]unexpected error:[/] {type(exc).__name__}: {escape(str(exc))} (run with --verbose for details)", soft_wrap=True)
            if _state["verbose"]:
                err.print(traceback.format_exc())
            raise typer.Exit(1) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        out.print(f"capplan {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show every problem and tracebacks of unexpected errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Capacity forecasting and staffing planner for content-moderation operations."""
    _state["verbose"] = verbose


def _print_problems(problems, limit: int | None = None) -> None:
    shown = problems if limit is None else problems[:limit]
    for p in shown:
        colour = "red" if p.severity == "error" else "yellow"
        err.print(f"[{colour}]{p.severity}[/]: {escape(str(p))}", soft_wrap=True)
    if limit is not None and len(problems) > limit:
        err.print(f"... and {len(problems) - limit} more (run 'capplan validate' to list all)")


# commands ---------------------------------------------------------------------------------------
@app.command()
@guarded
def init(directory: Path = typer.Argument(..., help="Folder to create the workspace in (must be empty or new).")) -> None:
    """Create an empty workspace: commented capplan.toml, blank input templates and the Excel template."""
    from capplan.pipeline import init_workspace

    path = init_workspace(directory)
    out.print(f"created workspace {path}: fill in inputs/*.csv (or capplan-inputs.xlsx), then run 'capplan validate {path}'")


@app.command()
@guarded
def validate(workspace: Path = typer.Argument(Path("."), help="Workspace folder (holds capplan.toml).")) -> None:
    """Check every input and list all problems at once (exit 2 on errors; warnings alone exit 0)."""
    from capplan.pipeline.validate import validate_workspace

    result = validate_workspace(workspace)
    ws, problems = result.workspace, result.problems
    _print_problems(problems)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if errors:
        err.print(f"[bold red]{errors} error(s)[/], {warnings} warning(s) in {escape(str(workspace))}")
        raise typer.Exit(2)
    optional = f"; also checked {', '.join(result.optional_checked)}" if result.optional_checked else ""
    out.print(f"{escape(str(workspace))}: inputs valid ({len(ws.history):,} history rows, {len(ws.cells())} cells, {len(ws.pools)} pools{escape(optional)}), {warnings} warning(s)")


@app.command()
@guarded
def demo(
    directory: Path = typer.Argument(Path("demo"), help="Folder for the demo workspace (default ./demo)."),
    seed: int = typer.Option(7, help="Random seed of the synthetic data."),
    size: DemoSize = typer.Option(DemoSize.default, help="Size of the synthetic workspace."),
    run: bool = typer.Option(True, "--run/--no-run", help="Run the pipeline after building the workspace."),
) -> None:
    """Build a realistic synthetic workspace and run the whole pipeline on it."""
    from capplan.pipeline import run_demo

    with _progress() as progress:
        result = run_demo(directory, seed=seed, size=size.value, run=run, progress=progress)
    print_summary(demo_summary(result))


@app.command()
@guarded
def forecast(
    workspace: Path = typer.Argument(Path("."), help="Workspace folder."),
    engine: Optional[Engine] = typer.Option(None, help="Where models are fitted (default: [forecast] engine in capplan.toml)."),
    dask_address: Optional[str] = typer.Option(None, help="Address of a running Dask scheduler (default: a local cluster)."),
    scenario: Optional[str] = typer.Option(None, help="Apply scenarios/<NAME>.toml (its [forecast] keys and volume changes)."),
) -> None:
    """Forecast volume per queue, language and interval; writes forecasts/<run-id>/."""
    from capplan.pipeline import run_forecast_stage

    with _progress() as progress:
        run = run_forecast_stage(workspace, engine=engine.value if engine else None, dask_address=dask_address, progress=progress,
                                 scenario=scenario)
    print_summary(forecast_summary(run))


@app.command()
@guarded
def plan(
    workspace: Path = typer.Argument(Path("."), help="Workspace folder."),
    forecast_run: Optional[str] = typer.Option(None, "--forecast", help="Forecast run id (default: forecasts/latest)."),
    quantile: Optional[int] = typer.Option(None, help="Plan for this forecast quantile: 50, 80, 90 or 95 (default from capplan.toml)."),
    strict: bool = typer.Option(False, help="Exit 3 when the plan leaves work unmet."),
    scenario: Optional[str] = typer.Option(None, help="Apply the what-if overrides of scenarios/<NAME>.toml (inputs stay untouched)."),
) -> None:
    """Compute requirements and the cost-minimal shift plan; writes plans/<run-id>/ with workbooks."""
    from capplan.pipeline import run_plan_stage

    with _progress() as progress:
        run = run_plan_stage(workspace, forecast_run=forecast_run, quantile=quantile, progress=progress, scenario=scenario)
    print_summary(plan_summary(run))
    if strict and run.unmet_hours > 0:
        raise typer.Exit(3)


# further commands are registered below by the modules that own them
from capplan.cli.erlang import erlang  # noqa: E402

app.command()(guarded(erlang))
from capplan.cli.capacity import capacity  # noqa: E402

app.command()(guarded(capacity))
from capplan.cli.replay import replay  # noqa: E402

app.command()(guarded(replay))
from capplan.cli.evaluate import accuracy, evaluate  # noqa: E402
app.command()(guarded(evaluate))
app.command()(guarded(accuracy))
from capplan.cli.scenarios import diff as diff_command, scenarios as scenarios_command  # noqa: E402

app.command(name="diff")(guarded(diff_command))
app.command(name="scenarios")(guarded(scenarios_command))
from capplan.cli.report import report_app  # noqa: E402

app.add_typer(report_app, name="report")
from capplan.cli.reforecast import reforecast  # noqa: E402

app.command()(guarded(reforecast))
from capplan.cli.capability import capability  # noqa: E402

app.command()(guarded(capability))


def _progress():
    from capplan.cli.progress import progress_bar

    return progress_bar(err, enabled=_show_progress())


def print_summary(summary: Summary) -> None:
    """Warnings on stderr, then the tables and lines on stdout."""
    for line in summary.warnings:
        err.print(f"[yellow]warning:[/] {escape(str(line))}", soft_wrap=True)
    for title, frame in summary.tables.items():
        table = Table(title=title)
        for col in frame.columns:
            table.add_column(str(col))
        for row in frame.itertuples(index=False):
            table.add_row(*[f"{v:,.3f}" if isinstance(v, float) else str(v) for v in row])
        out.print(table)
    for line in summary.lines:
        out.print(escape(str(line)), soft_wrap=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
