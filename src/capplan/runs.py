"""Run folders: written under a temporary name, renamed into place only when complete.

A run folder ``<kind>/<run-id>/`` appears under its final name only after every file in it is
written; ``<kind>/latest`` (a text file holding the run id) moves only after that rename. A run
killed at any point leaves at most a ``.tmp-*`` folder, which readers ignore.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from capplan.errors import RunNotFoundError

LATEST = "latest"
TMP_PREFIX = ".tmp-"


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable run id from the UTC time, e.g. ``20261125T103012Z``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%SZ")


def _unique_id(base: Path, run_id: str) -> str:
    candidate, n = run_id, 1
    while (base / candidate).exists():
        n += 1
        candidate = f"{run_id}-{n}"
    return candidate


@contextmanager
def run_folder(base: Path, run_id: str | None = None) -> Iterator[tuple[Path, str]]:
    """Yield ``(tmp_dir, run_id)``; on success rename tmp_dir to ``base/run_id`` and move latest.

    On any exception the temporary folder is removed and nothing else changes.
    """
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    remove_abandoned(base)
    run_id = _unique_id(base, run_id or new_run_id())
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-{run_id}-", dir=base))
    try:
        yield tmp, run_id
        final = base / _unique_id(base, run_id)
        os.replace(tmp, final)
        _fsync_dir(base)
        write_text_atomic(base / LATEST, final.name + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_abandoned(base: Path) -> list[Path]:
    """Delete temporary run folders left by killed runs (their process no longer exists).

    Folders of runs still in progress (another live capplan process) are left alone.
    """
    removed = []
    for tmp in Path(base).glob(f"{TMP_PREFIX}*"):
        pid_text = tmp.name[len(TMP_PREFIX):].split("-", 1)[0]
        if not tmp.is_dir() or not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        shutil.rmtree(tmp, ignore_errors=True)
        removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def resolve_run(base: Path, run_id: str | None, what: str) -> Path:
    """The folder of a named run, or of the latest complete one."""
    base = Path(base)
    if run_id is None:
        latest = base / LATEST
        if not latest.exists():
            raise RunNotFoundError(f"no {what} run in {base}. Fix: run 'capplan {what}' first")
        run_id = latest.read_text(encoding="utf-8").strip()
    folder = base / run_id
    if run_id.startswith(TMP_PREFIX) or not folder.is_dir():
        raise RunNotFoundError(f"{what} run '{run_id}' not found in {base}. Fix: name a folder listed there")
    return folder


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path: Path, payload: dict) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
