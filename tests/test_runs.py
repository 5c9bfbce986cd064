"""Run folders appear only when complete; latest moves only after success; nothing is overwritten."""

from __future__ import annotations

import pytest

from capplan.errors import RunNotFoundError
from capplan.runs import LATEST, resolve_run, run_folder


def test_run_folder_is_renamed_when_complete(tmp_path):
    with run_folder(tmp_path, "r1") as (tmp, run_id):
        (tmp / "a.txt").write_text("x")
        assert not (tmp_path / "r1").exists()
        assert tmp.name.startswith(".tmp-")
    assert (tmp_path / "r1" / "a.txt").read_text() == "x"
    assert (tmp_path / LATEST).read_text().strip() == "r1"
    assert resolve_run(tmp_path, None, "forecast") == tmp_path / "r1"


def test_failed_run_leaves_nothing_and_latest_unchanged(tmp_path):
    with run_folder(tmp_path, "r1") as (tmp, _):
        (tmp / "a.txt").write_text("x")
    with pytest.raises(RuntimeError):
        with run_folder(tmp_path, "r2") as (tmp, _):
            (tmp / "b.txt").write_text("half")
            raise RuntimeError("killed")
    assert sorted(p.name for p in tmp_path.iterdir()) == [LATEST, "r1"]
    assert (tmp_path / LATEST).read_text().strip() == "r1"


def test_same_run_id_never_overwrites(tmp_path):
    for text in ("first", "second"):
        with run_folder(tmp_path, "same") as (tmp, _):
            (tmp / "a.txt").write_text(text)
    assert (tmp_path / "same" / "a.txt").read_text() == "first"
    assert (tmp_path / "same-2" / "a.txt").read_text() == "second"
    assert (tmp_path / LATEST).read_text().strip() == "same-2"


def test_missing_runs_are_clear_errors(tmp_path):
    with pytest.raises(RunNotFoundError, match="run 'capplan forecast' first"):
        resolve_run(tmp_path, None, "forecast")
    with pytest.raises(RunNotFoundError, match="'nope' not found"):
        resolve_run(tmp_path, "nope", "forecast")


def _owned(folder, **owner):
    import json

    from capplan.runs import OWNER_FILE, machine_identity

    folder.mkdir()
    (folder / OWNER_FILE).write_text(json.dumps({**machine_identity(), **owner}))
    return folder


def test_abandoned_tmp_folders_of_dead_processes_are_removed(tmp_path):
    """Issue 13 class 5: a dead process of this machine -> removed; a live one, another host's or another
    container's (pid namespace) -> kept, whatever its pid."""
    import os

    dead = _owned(tmp_path / ".tmp-r0", pid=999_999_999)
    live = _owned(tmp_path / ".tmp-r9", pid=os.getpid())
    other_host = _owned(tmp_path / ".tmp-r8", pid=999_999_999, host="another-host")
    other_container = _owned(tmp_path / ".tmp-r7", pid=999_999_999, pid_ns=1)
    with run_folder(tmp_path, "r1") as (tmp, _):
        pass
    assert not dead.exists() and live.exists() and other_host.exists() and other_container.exists()


def test_tmp_folder_without_owner_is_kept_until_its_lease_ends(tmp_path):
    import os
    import time

    from capplan.runs import ABANDONED_AFTER_S, remove_abandoned

    young, old = tmp_path / ".tmp-123-r0-abc", tmp_path / ".tmp-124-r1-abc"
    young.mkdir()
    old.mkdir()
    past = time.time() - ABANDONED_AFTER_S - 60
    os.utime(old, (past, past))
    assert remove_abandoned(tmp_path) == [old]
    assert young.exists()


def test_two_runs_in_the_same_second_get_different_ids(tmp_path):
    """Issue 13 class 5: the id is reserved when the run starts, so the id a run writes into its files is its folder."""
    with run_folder(tmp_path, "20261130T100000Z") as (tmp_a, id_a):
        with run_folder(tmp_path, "20261130T100000Z") as (tmp_b, id_b):
            (tmp_b / "id").write_text(id_b)
        (tmp_a / "id").write_text(id_a)
    assert (id_a, id_b) == ("20261130T100000Z", "20261130T100000Z-2")
    for run_id in (id_a, id_b):
        assert (tmp_path / run_id / "id").read_text() == run_id
    assert (tmp_path / LATEST).read_text().strip() == id_a  # finished last


def test_run_folders_and_files_respect_the_umask(tmp_path):
    import os
    import stat

    old = os.umask(0o002)
    try:
        with run_folder(tmp_path, "r1") as (tmp, _):
            (tmp / "a.txt").write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r1").stat().st_mode) == 0o775
    assert stat.S_IMODE((tmp_path / LATEST).stat().st_mode) == 0o664


@pytest.mark.parametrize("latest_text", ["", "\n", "   \n"])
def test_empty_latest_is_a_clear_error(tmp_path, latest_text):
    (tmp_path / LATEST).write_text(latest_text)
    with pytest.raises(RunNotFoundError, match="latest is empty"):
        resolve_run(tmp_path, None, "forecast")


def test_latest_as_a_link(tmp_path):
    """PRODUCT.md allows latest as a link: to a run folder inside -> that run; dangling or outside -> error."""
    (tmp_path / "runs").mkdir()
    base = tmp_path / "runs"
    (base / "r1").mkdir()
    (base / LATEST).symlink_to(base / "r1")
    assert resolve_run(base, None, "forecast") == base / "r1"
    (base / LATEST).unlink()
    (base / LATEST).symlink_to(base / "gone")
    with pytest.raises(RunNotFoundError, match="does not exist"):
        resolve_run(base, None, "forecast")
    (base / LATEST).unlink()
    (tmp_path / "elsewhere").mkdir()
    (base / LATEST).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RunNotFoundError, match="outside"):
        resolve_run(base, None, "forecast")
    (base / LATEST).unlink()
    (tmp_path / "id.txt").write_text("r1")
    (base / LATEST).symlink_to(tmp_path / "id.txt")
    with pytest.raises(RunNotFoundError, match="outside"):
        resolve_run(base, None, "forecast")


@pytest.mark.parametrize("run_id", ["", "  ", "../r1", "/etc", "..", ".", "r1/../r1", ".tmp-r1", "a\x00b"])
def test_run_ids_that_are_not_folder_names_are_refused(tmp_path, run_id):
    base = tmp_path / "runs"
    (base / "r1").mkdir(parents=True)
    (base / ".tmp-r1").mkdir()
    with pytest.raises(RunNotFoundError):
        resolve_run(base, run_id, "forecast")


def test_run_folder_linked_outside_is_refused(tmp_path):
    base = tmp_path / "runs"
    base.mkdir()
    (tmp_path / "outside").mkdir()
    (base / "r1").symlink_to(tmp_path / "outside")
    with pytest.raises(RunNotFoundError, match="outside"):
        resolve_run(base, "r1", "forecast")


def test_incomplete_run_is_a_clear_error(tmp_path):
    (tmp_path / "r1").mkdir()
    with pytest.raises(RunNotFoundError, match="no forecast.parquet"):
        resolve_run(tmp_path, "r1", "forecast", required=("forecast.parquet",))


def test_read_only_folder_fails_before_computing(tmp_path):
    import os

    from capplan.errors import WorkspaceError
    from capplan.runs import check_writable

    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(WorkspaceError, match="not writable"):
            check_writable(tmp_path / "forecasts")
    finally:
        tmp_path.chmod(0o755)


def test_permission_and_full_disk_errors_are_workspace_errors(tmp_path, monkeypatch):
    """Root ignores permissions, so the OS errors are simulated: EACCES and ENOSPC while probing or writing."""
    import errno
    import os

    import capplan.runs as runs
    from capplan.errors import WorkspaceError

    def fail(code):
        def raiser(*a, **k):
            raise OSError(code, os.strerror(code), str(tmp_path))
        return raiser

    monkeypatch.setattr(runs.tempfile, "mkstemp", fail(errno.EACCES))
    with pytest.raises(WorkspaceError, match="not writable"):
        runs.check_writable(tmp_path / "x")
    monkeypatch.undo()
    monkeypatch.setattr(runs.shutil, "disk_usage", lambda p: type("U", (), {"free": 10 * 1024**2})())
    with pytest.raises(WorkspaceError, match="MiB free"):
        runs.check_writable(tmp_path / "x")
    monkeypatch.undo()
    with pytest.raises(WorkspaceError, match="disk is full"):
        with runs.run_folder(tmp_path / "y", "r1") as (tmp, _):
            (tmp / "half").write_text("x")
            fail(errno.ENOSPC)()
    assert sorted(p.name for p in (tmp_path / "y").iterdir()) == []


def test_a_file_in_the_way_of_the_runs_folder_is_a_clear_error(tmp_path):
    from capplan.errors import WorkspaceError
    from capplan.runs import check_writable

    (tmp_path / "plans").write_text("x")
    with pytest.raises(WorkspaceError, match="a file is in the way"):
        check_writable(tmp_path / "plans")


def test_a_run_killed_before_its_owner_file_is_cleaned_up_by_the_next(tmp_path):
    """A kill between creating the temporary folder and writing its owner file (found by the kill -9 test in
    a clean CI run) left a folder only the 7-day lease removed: staging folders carry machine and pid in
    their name, so the next run on this machine removes a dead one and leaves other machines' alone."""
    import os
    import subprocess
    import sys

    from capplan import runs

    me = runs.machine_identity()
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    dead = tmp_path / f"{runs.STAGE_PREFIX}{runs._machine_key(me)}-{proc.pid}-abc"
    other_machine = tmp_path / f"{runs.STAGE_PREFIX}{'0' * 12}-{proc.pid}-abc"
    alive = tmp_path / f"{runs.STAGE_PREFIX}{runs._machine_key(me)}-{os.getpid()}-abc"
    cut_short = tmp_path / f"{runs.STAGE_PREFIX}{runs._machine_key(me)}-{proc.pid}-def"
    for folder in (dead, other_machine, alive, cut_short):
        folder.mkdir()
    (cut_short / runs.OWNER_FILE).write_text("")  # killed while writing its owner file (a clean CI run hit this)
    with runs.run_folder(tmp_path) as (tmp, _):
        assert (tmp / runs.OWNER_FILE).exists()  # a .tmp-<id> folder has its owner from birth
    assert not dead.exists() and not cut_short.exists() and other_machine.exists() and alive.exists()
