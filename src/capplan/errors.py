"""Project exceptions.

Every expected failure is a :class:`CapplanError`; the CLI turns it into a one-line message on
stderr and an exit code (``exit_code``). Anything else is a bug and exits 1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One finding about an input, located as a spreadsheet user would find it.

    ``row`` is the row number as a spreadsheet shows it (the header is row 1, the first data
    row is row 2), or the line of a ``.toml`` file; ``None`` when the problem concerns a whole file or column.
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    expected: str | None = None
    found: str | None = None
    fix: str | None = None
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", {'line' if self.file.endswith('.toml') else 'row'} {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.expected is not None:
            text += f"; expected {self.expected}"
        if self.found is not None:
            text += f", found {self.found!r}" if not isinstance(self.found, str) or self.found else ", found an empty cell"
        if self.fix:
            text += f". Fix: {self.fix}"
        return text


class CapplanError(Exception):
    """Base class of every error capplan expects and reports without a traceback."""

    exit_code = 1


class InputError(CapplanError):
    """Bad input files: carries every problem found, not just the first."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(file="input", message=problems)]
        self.problems = [p for p in problems if p.severity == "error"] or list(problems)
        n = len(self.problems)
        head = str(self.problems[0]) if self.problems else "invalid input"
        more = f" (and {n - 1} more problem{'s' if n > 2 else ''}; run 'capplan validate' for the full list)" if n > 1 else ""
        super().__init__(head + more)


class ConfigError(CapplanError):
    """Bad capplan.toml or command-line options."""

    exit_code = 2


class RunNotFoundError(CapplanError):
    """A named or latest forecast/plan run does not exist."""

    exit_code = 2


class WorkspaceError(CapplanError):
    """A run cannot be written: read-only or full workspace, or a run folder in the way."""

    exit_code = 2


class SolverError(CapplanError):
    """The optimizer failed for a reason other than infeasibility (which is priced, not an error)."""

    exit_code = 1


class SolverTimeout(SolverError):
    """The time limit ran out before the optimizer had any plan (the LP relaxation or the MIP did not finish).

    Carries what is known when it happened: ``seconds`` spent, ``bound`` the best proven lower bound [reporting
    currency] (NaN when none), ``reason`` in words and ``phases`` (the optimizer's per-phase figures).
    :func:`capplan.optimize.solve_plan` answers it with the fallback plan (``[solver] fallback``, docs/optimizer.md).
    """

    def __init__(self, message: str, *, seconds: float, reason: str, bound: float = float("nan"), phases: dict | None = None,
                 relaxed=None):
        super().__init__(message)
        self.seconds, self.reason, self.bound, self.phases = seconds, reason, bound, dict(phases or {})
        self.relaxed = relaxed  # the LP relaxation's staffing when it finished (capplan.optimize.solve.RelaxedStaff), else None
