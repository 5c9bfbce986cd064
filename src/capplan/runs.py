"""Run folders: written under a temporary name, renamed into place only when complete.

A run folder ``<kind>/<run-id>/`` appears under its final name only after every file in it is
written; ``<kind>/latest`` (a text file holding the run id) moves only after that rename. A run
killed at any point leaves at most a ``.tmp-<run-id>`` folder, which readers ignore.

Shared workspaces (several processes, hosts or containers on one folder):

* **Run ids are reserved**, not just computed: the temporary folder ``.tmp-<run-id>`` is created with
  an atomic ``mkdir``, so two runs started in the same second get different ids (``<id>``,
  ``<id>-2``) and the id written inside a run's files is the name of its folder.
* **Owner file**: each temporary folder holds ``.owner.json`` (host, boot and pid-namespace identity,
  pid). A later run deletes a temporary folder only when its owner ran on the same machine and
  process namespace and that process is gone; a folder of another host or container is never deleted
  (unless it carries no owner file and is older than :data:`ABANDONED_AFTER_S`, the lease of folders
  written by older capplan versions or killed before the owner file was written).
* **Permissions**: run folders and files get the permissions the umask allows (``mkdtemp`` and
  ``mkstemp`` would make them private to the user).
* **Checks first**: :func:`check_writable` tells a read-only workspace or a full disk before any
  computing starts; an ``OSError`` while a run is written becomes a :class:`WorkspaceError`.
* **Resolving runs**: ``latest`` and ``--forecast`` name a folder directly inside ``<kind>/``; links
  and ids that lead outside it, an empty or dangling ``latest`` and an empty id are clear errors.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import itertools
import json
import os
import re
import shutil
import socket
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from capplan.errors import RunNotFoundError, WorkspaceError

LATEST = "latest"
TMP_PREFIX = ".tmp-"
OWNER_FILE = ".owner.json"
ABANDONED_AFTER_S = 7 * 24 * 3600  # lease of a temporary folder with no owner file [s]
MIN_FREE_BYTES = 64 * 1024**2  # free space a run needs at least before it starts [bytes]
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable run id from the UTC time, e.g. ``20261125T103012Z``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%SZ")


def machine_identity() -> dict:
    """Who may judge whether a process id is alive: host name, boot id and pid namespace."""
    ident = {"host": socket.gethostname()}
    try:
        ident["boot_id"] = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        ident["boot_id"] = None
    try:
        ident["pid_ns"] = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        ident["pid_ns"] = None
    return ident


STAGE_PREFIX = f"{TMP_PREFIX}stage-"  # + <machine key>-<pid>-<random>: who made it, readable without the owner file
_STAGE = re.compile(rf"^{re.escape(STAGE_PREFIX)}([0-9a-f]{{12}})-(\d+)-")


def _machine_key(identity: dict) -> str:
    """12 hex digits naming this machine, boot and process namespace (put into staging folder names)."""
    text = json.dumps({k: identity.get(k) for k in ("host", "boot_id", "pid_ns")}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _reserve(base: Path, run_id: str) -> tuple[Path, str]:
    """Create ``.tmp-<id>`` for the first free id (``id``, ``id-2``, ...), owner file included from birth.

    The folder is made as a private staging folder holding the owner file, then renamed to ``.tmp-<id>``: a
    rename onto an existing (never empty) ``.tmp-<id>`` fails, so the id is reserved atomically, and no
    ``.tmp-`` folder is ever without its owner (a run killed between ``mkdir`` and writing the owner file
    used to leave one that only the 7-day lease removed). A staging folder left by a kill is cleaned up
    like a ``.tmp-`` folder (:func:`remove_abandoned`).
    """
    owner = {**machine_identity(), "pid": os.getpid(), "started_utc": dt.datetime.now(dt.timezone.utc).isoformat()}
    stage = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{_machine_key(owner)}-{os.getpid()}-", dir=base))
    os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes 0o700; run folders follow the umask
    (stage / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
    for n in itertools.count(1):
        candidate = run_id if n == 1 else f"{run_id}-{n}"
        tmp = base / f"{TMP_PREFIX}{candidate}"
        if (base / candidate).exists() or tmp.exists():
            continue
        try:
            os.rename(stage, tmp)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue  # another run took this id between the check and the rename
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return tmp, candidate
    raise AssertionError("unreachable")


@contextmanager
def run_folder(base: Path, run_id: str | None = None) -> Iterator[tuple[Path, str]]:
    """Yield ``(tmp_dir, run_id)``; on success rename tmp_dir to ``base/run_id`` and move latest.

    On any exception the temporary folder is removed and nothing else changes; an ``OSError`` of a
    full disk or a read-only folder becomes a :class:`WorkspaceError`.
    """
    base = Path(base)
    try:
        base.mkdir(parents=True, exist_ok=True)
        remove_abandoned(base)
        tmp, run_id = _reserve(base, run_id or new_run_id())
    except OSError as exc:
        raise _workspace_error(exc, base) from None
    try:
        yield tmp, run_id
        (tmp / OWNER_FILE).unlink(missing_ok=True)
        final = base / run_id
        if final.exists():  # only something other than capplan can have made it: never replace it
            raise WorkspaceError(f"{final} appeared while the run was written. Fix: remove or rename that folder and run again")
        os.rename(tmp, final)
        _fsync_dir(base)
        write_text_atomic(base / LATEST, final.name + "\n")
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno in _DISK_ERRORS:
            raise _workspace_error(exc, base) from None
        raise


def _workspace_error(exc: OSError, base: Path) -> WorkspaceError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        what, fix = "the disk is full", "free some space (old runs in forecasts/ and plans/ can be deleted) and run again"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        what, fix = "the folder is not writable", "run capplan as a user who may write there, or copy the workspace to a writable folder"
    elif exc.errno in (errno.EEXIST, errno.ENOTDIR):
        what, fix = "a file is in the way of the run folder", f"move or rename the file {exc.filename or base}"
    else:
        what, fix = f"it cannot be written ({exc.strerror})", "check the folder and run again"
    return WorkspaceError(f"{base}: cannot write a run here: {what} ({exc.filename or base}). Fix: {fix}; nothing was written")


def check_writable(base: Path, need_bytes: int = MIN_FREE_BYTES) -> None:
    """Fail early, before the computing, when a run could not be written into ``base``.

    Creates ``base`` if needed, writes and removes a probe file, and compares the free space with
    ``need_bytes``.

    Raises
    ------
    WorkspaceError
        Read-only or not writable folder, or less free space than ``need_bytes``.
    """
    base = Path(base)
    try:
        base.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f"{TMP_PREFIX}probe-", dir=base)
        try:
            os.write(fd, b"capplan")
            os.fsync(fd)
        finally:
            os.close(fd)
            Path(probe).unlink(missing_ok=True)
        free = shutil.disk_usage(base).free
    except OSError as exc:
        raise _workspace_error(exc, base) from None
    if free < need_bytes:
        raise WorkspaceError(f"{base}: cannot write a run here: only {free / 1024**2:,.0f} MiB free, a run needs about "
                             f"{need_bytes / 1024**2:,.0f} MiB. Fix: free some space (old runs in forecasts/ and plans/ can be "
                             "deleted) and run again; nothing was written")


def remove_abandoned(base: Path, now: float | None = None) -> list[Path]:
    """Delete temporary run folders of runs that were killed, as far as this process can know.

    A folder is removed when its owner file names this machine and process namespace and a process
    id that no longer exists, or when it has no owner file and is older than
    :data:`ABANDONED_AFTER_S`. Folders of live runs and of other hosts or containers are left alone.
    """
    removed = []
    me = machine_identity()
    now = time.time() if now is None else now
    for tmp in Path(base).glob(f"{TMP_PREFIX}*"):
        if not tmp.is_dir() or tmp.is_symlink():
            continue
        if _abandoned(tmp, me, now):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def _abandoned(tmp: Path, me: dict, now: float) -> bool:
    try:
        owner = json.loads((tmp / OWNER_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):  # no owner file, or one cut short (empty, partial JSON) by a kill
        owner = None
    except OSError:
        return False
    if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int):
        staged = _STAGE.match(tmp.name)
        if staged and staged.group(1) == _machine_key(me):  # killed before its owner file was (fully) written
            return not _alive(int(staged.group(2)))
        try:
            return now - tmp.stat().st_mtime > ABANDONED_AFTER_S
        except OSError:
            return False
    if any(owner.get(k) != me[k] for k in ("host", "boot_id", "pid_ns")):
        return False  # another machine, boot or container: its process ids mean nothing here
    return not _alive(owner["pid"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc: read it by setting it (and put it back at once)
    os.umask(mask)
    return mask


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a file under a temporary name and rename it into place; permissions follow the umask."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), 0o666 & ~_umask())
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


def resolve_run(base: Path, run_id: str | None, what: str, required: tuple[str, ...] = ()) -> Path:
    """The folder of a named run, or of the latest complete one, always a folder directly inside ``base``.

    ``run_id`` None (or ``"latest"``) reads ``base/latest``: a text file holding the id, or a link to
    the run folder. ``required`` names files the run must hold.

    Raises
    ------
    RunNotFoundError
        No latest run, an empty, dangling or outside-pointing ``latest``, an id that is empty, a path, a
        temporary folder or leads outside ``base``, or a run that lacks a ``required`` file.
    """
    base = Path(base)
    fix = f"run 'capplan {what}' again, or name a run folder listed in {base} with --{what}"
    if run_id is None or run_id.strip() == LATEST:
        run_id = _read_latest(base, what, fix)
    run_id = run_id.strip()
    if not run_id:
        raise RunNotFoundError(f"the {what} run id is empty. Fix: name a run folder listed in {base}, or leave the option out for the latest run")
    if not _RUN_ID.match(run_id) or run_id.startswith(TMP_PREFIX):
        raise RunNotFoundError(f"{what} run {run_id!r} is not a run id (a folder name inside {base}, e.g. 20261125T103012Z). Fix: {fix}")
    folder = base / run_id
    if not folder.is_dir():
        raise RunNotFoundError(f"{what} run '{run_id}' not found in {base}. Fix: {fix}")
    if not _inside(folder, base):
        raise RunNotFoundError(f"{what} run '{run_id}' is a link to {folder.resolve()}, outside {base}. Fix: {fix}")
    for name in required:
        if not (folder / name).is_file():
            raise RunNotFoundError(f"{what} run '{run_id}' in {base} is incomplete: it has no {name}. Fix: {fix}")
    return folder


def _read_latest(base: Path, what: str, fix: str) -> str:
    latest = base / LATEST
    if latest.is_symlink():
        target = latest.resolve()
        if not latest.exists():
            raise RunNotFoundError(f"{latest} is a link to {target}, which does not exist. Fix: {fix}")
        if not _inside(target, base):
            raise RunNotFoundError(f"{latest} is a link to {target}, outside {base}. Fix: {fix}")
        if target.is_dir():
            return target.name
    if not latest.exists():
        raise RunNotFoundError(f"no {what} run in {base}. Fix: run 'capplan {what}' first")
    if latest.is_dir():
        raise RunNotFoundError(f"{latest} is a folder, not the file naming the latest run. Fix: remove it and {fix}")
    try:
        text = latest.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise RunNotFoundError(f"{latest} cannot be read ({exc}). Fix: {fix}") from None
    if not text:
        raise RunNotFoundError(f"{latest} is empty (a run may have been interrupted while it wrote it). Fix: {fix}")
    return text.splitlines()[0]


def _inside(path: Path, base: Path) -> bool:
    """True when ``path`` (links followed) is directly inside ``base`` (links followed)."""
    try:
        return path.resolve().parent == base.resolve()
    except OSError:
        return False


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path: Path, payload: dict) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
