"""Saves that fail: a read-only or unusable folder, a full disk.

The answer is kept in memory, the student told what to do, and the save retried.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from store_helpers import answers_on_disk, raising

from mlmcourse.errors import CourseError
from mlmcourse.quiz import answerdb
from mlmcourse.quiz.store import AnswerStore


def _blocked_by_chmod(folder: Path) -> bool:
    """Tell whether chmod 0o500 stops writes here: not for root (these tests may run as root)."""
    probe = folder / ".probe"
    try:
        probe.write_text("x")
    except OSError:
        return True
    probe.unlink()
    return False


def _assert_kept_and_told(store, qid, answer, reason):
    assert store.get(qid)["answer"] == answer  # what the widget shows stays
    assert qid in store.unsaved and reason in store.last_error
    assert "MLMCOURSE_ANSWERS_DIR" in store.last_error
    with pytest.raises(CourseError, match="could not be saved"):
        store.flush()


def test_a_read_only_folder_keeps_answers_in_memory_and_retries(tmp_path, monkeypatch):
    """Keep answers in memory in a read-only folder, say what to do, and retry."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with monkeypatch.context() as patch:
            if not _blocked_by_chmod(folder):  # root: make SQLite fail as in a read-only folder
                patch.setattr(answerdb, "connect", raising(sqlite3.OperationalError("unable to open database file")))
            store = AnswerStore(2, path=folder / "answers.sqlite3")
            assert "could not be opened" in store.last_error and "MLMCOURSE_ANSWERS_DIR" in store.last_error
            store.update("1-A", answer="typed in a read-only folder")
            _assert_kept_and_told(store, "1-A", "typed in a read-only folder", "unable to open database file")
    finally:
        folder.chmod(0o700)
    store.update("1-B", answer="the next change")  # retried: both are saved now
    assert store.last_error is None and store.unsaved == set()
    assert answers_on_disk(folder / "answers.sqlite3") == ["typed in a read-only folder"]
    assert answers_on_disk(folder / "answers.sqlite3", "1-B") == ["the next change"]


def test_an_unusable_folder_and_setting_mlmcourse_answers_dir_in_the_kernel(tmp_path, monkeypatch):
    """Keep answers from an unusable folder in memory; save them all once the kernel sets MLMCOURSE_ANSWERS_DIR."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(blocker / "sub"))
    store = AnswerStore(2)
    store.set_student("Ada")
    store.update("1-A", answer="kept in memory")
    _assert_kept_and_told(store, "1-A", "kept in memory", "Not a directory")
    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "good"))  # %env in a cell
    store.update("1-B", answer="next change")
    assert store.last_error is None and store.path == tmp_path / "good" / "answers.sqlite3"
    again = AnswerStore(2)
    assert again.student == "Ada" and again.get("1-A")["answer"] == "kept in memory"
    assert again.get("1-B")["answer"] == "next change"


def test_a_full_disk_keeps_the_answer_and_retries(tmp_path, monkeypatch):
    """Keep the answer when the disk is full, and retry."""
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    store.update("1-A", answer="saved before")
    with monkeypatch.context() as patch:
        patch.setattr(answerdb, "append", raising(sqlite3.OperationalError("database or disk is full")))
        store.update("1-A", answer="typed on a full disk")
        _assert_kept_and_told(store, "1-A", "typed on a full disk", "database or disk is full")
        assert answers_on_disk(path) == ["saved before"]
    # space freed
    store.update("1-B", answer="next")
    assert answers_on_disk(path) == ["saved before", "typed on a full disk"] and store.last_error is None


@pytest.fixture
def tiny_disk(tmp_path):
    """Mount a real 256 KiB file system (tmpfs), where mounting is allowed (root on Linux)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if sys.platform != "linux" or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
                                                 capture_output=True).returncode != 0:
        pytest.skip("a tiny tmpfs cannot be mounted here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_really_full_disk(tiny_disk):
    """Keep an answer too big for a full file system in memory; save the next one that fits."""
    path = tiny_disk / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    store.update("1-A", answer="short and saved")
    store.update("1-B", answer="x" * 400_000)  # more than the disk holds
    assert "database or disk is full" in store.last_error and store.get("1-B")["answer"] == "x" * 400_000
    store.update("1-B", answer="shortened")
    assert store.last_error is None
    again = AnswerStore(2, path=path)
    assert again.get("1-A")["answer"] == "short and saved" and again.get("1-B")["answer"] == "shortened"
    again.close()
    store.close()
    assert {p.name for p in tiny_disk.iterdir()} <= {"answers.sqlite3", "answers.sqlite3-wal", "answers.sqlite3-shm"}
