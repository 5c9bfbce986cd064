"""Run the ``capplan`` program from a test: in this process (fast) or as a real subprocess.

``capplan`` runs the typer app in this process with typer's CliRunner and returns what a subprocess run
returns (``returncode``, ``stdout``, ``stderr``), with the same environment (``CI=true``, ``COLUMNS``). It
saves starting an interpreter and importing the stack again for every call (1.5-3 s each on these machines).
An exception that escapes the program is appended to ``stderr`` as the traceback Python would print, so
``"Traceback" not in res.stderr`` checks the same thing in both.

``capplan_process`` is the real thing, for the tests whose subject is the process itself: one line on stderr
with nothing else (no stray warnings), kill -9, process ids, the fitted weights of an unpatched process.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import traceback
from pathlib import Path

ENV = {"CI": "true", "COLUMNS": "200"}


def capplan_process(*args, cwd=None, env=None, module: str = "capplan.cli.main", timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m capplan.cli.main ARGS`` in a new process: (returncode, stdout, stderr)."""
    full_env = {**os.environ, **ENV, **(env or {})}
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=full_env, timeout=timeout)


@contextlib.contextmanager
def _cwd(path):
    if path is None:
        yield
        return
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def capplan(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
    """The same command in this process (typer's CliRunner): (returncode, stdout, stderr) as a subprocess gives them."""
    from typer.testing import CliRunner

    from capplan.cli import main

    full_env = {**ENV, **(env or {})}
    width = main.err._width
    main.err.width = int(full_env["COLUMNS"])  # rich reads COLUMNS when the console is made, i.e. once per process
    try:
        with _cwd(cwd):
            res = CliRunner().invoke(main.app, [str(a) for a in args], env=full_env, catch_exceptions=True)
    finally:
        main.err._width = width
    stderr = res.stderr
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        stderr += "".join(traceback.format_exception(res.exception))
    return subprocess.CompletedProcess(["capplan", *map(str, args)], res.exit_code, res.stdout, stderr)
