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


def test_abandoned_tmp_folders_of_dead_processes_are_removed(tmp_path):
    import os

    dead = tmp_path / ".tmp-999999999-r0-abc"
    live = tmp_path / f".tmp-{os.getpid()}-r9-abc"
    dead.mkdir()
    live.mkdir()
    with run_folder(tmp_path, "r1") as (tmp, _):
        pass
    assert not dead.exists() and live.exists()
