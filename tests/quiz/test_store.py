"""Answer storage (SQLite): where answers are saved, and the basic promises.

The per-user location, every version kept, the student's seed, saves on disk at once, WAL and
busy writers, a file replaced or damaged underneath, no files left behind. The other subjects of
the store have their own files: test_store_damaged.py (damaged databases, the earlier JSON
store), test_store_failed_saves.py, test_answers_export.py (the command line),
test_store_kernels.py (killed and concurrent kernels).
"""
from __future__ import annotations

import random
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from store_helpers import answers_on_disk, raising, versions_on_disk

from mlmcourse.quiz import answerdb
from mlmcourse.quiz.store import AnswerStore, answers_dir, answers_path

PROJECT = Path(__file__).resolve().parents[2]


# -- where, and the basic promises -------------------------------------------------------
def test_location_env_var_wins(tmp_path, monkeypatch):
    """Save where MLMCOURSE_ANSWERS_DIR says, when it is set."""
    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "mine"))
    assert answers_dir() == tmp_path / "mine"
    assert answers_path(2) == answers_path(4) == tmp_path / "mine" / "answers.sqlite3"


def test_location_default_is_per_user_not_the_course_folder(tmp_path, monkeypatch):
    """Save in the user's data folder by default, never in the course folder."""
    monkeypatch.delenv("MLMCOURSE_ANSWERS_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert answers_dir() == tmp_path / "xdg" / "mlmcourse" / "answers"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert answers_dir() == tmp_path / "home" / ".local" / "share" / "mlmcourse" / "answers"
    assert PROJECT not in answers_dir().parents


def test_save_and_reload(tmp_path):
    """Read back every saved field after the store is opened again."""
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    store.update("1-A", answer="i is the student", kind="open")
    store.update("1-B.mc", answer=1, kind="choice", checked=True, correct=True)
    store.set_student("Ada")
    again = AnswerStore(2, path=path)
    assert again.get("1-A")["answer"] == "i is the student" and again.student == "Ada"
    assert again.get("1-B.mc") == {**again.get("1-B.mc"), "answer": 1, "checked": True, "correct": True}
    assert set(again.data) >= {"student", "answers"} and again.data["student"] == "Ada"
    assert AnswerStore(3, path=path).get("1-A") == {}  # chapters share the file, not their answers
    assert again.notices == [] and again.damaged == []


@pytest.fixture
def pauses(monkeypatch):
    """Every save a pause after the one before (no burst of typing: every version is kept)."""
    from mlmcourse.quiz import store as store_module
    clock = iter(range(0, 10**6, 10))
    monkeypatch.setattr(store_module, "_clock", lambda: float(next(clock)))


def test_every_version_is_kept_and_the_latest_is_shown(tmp_path, pauses):
    """Keep every changed version of an answer and show the latest."""
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    for text in ["i", "i is", "i is the", "i is the student"]:
        store.update("1-A", answer=text, kind="open")
    store.update("1-A", answer="i is the student", kind="open")  # no change: no new version
    store.set_student("Ada")
    store.set_student("Ada Lovelace")
    assert answers_on_disk(path) == ["i", "i is", "i is the", "i is the student"]
    assert [v["version"] for v in versions_on_disk(path)] == [1, 2, 3, 4]
    assert answers_on_disk(path, answerdb.STUDENT) == ["Ada", "Ada Lovelace"]
    again = AnswerStore(2, path=path)
    assert again.get("1-A")["answer"] == "i is the student" and again.student == "Ada Lovelace"


# -- the student's seed ------------------------------------------------------------------------
def test_the_seed_is_made_once_per_chapter_and_kept(tmp_path):
    """Make the student's seed once per chapter and keep it."""
    from mlmcourse.quiz.store import SEED
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    assert store.seed is None and store.data["seed"] is None   # none until the quiz asks for one
    seed = store.ensure_seed()
    assert isinstance(seed, int) and 10000 <= seed <= 99999
    assert store.ensure_seed() == seed == store.seed and answers_on_disk(path, SEED) == [seed]  # made once
    assert AnswerStore(2, path=path).seed == seed                 # the next session: the same
    assert AnswerStore(2, path=path).ensure_seed() == seed and answers_on_disk(path, SEED) == [seed]
    third = AnswerStore(3, path=path)                              # another chapter: its own
    assert third.seed is None and 10000 <= third.ensure_seed() <= 99999
    assert versions_on_disk(path, SEED, chapter=3)[0]["kind"] == "seed"
    store.update("1-A", answer="an answer")
    data = AnswerStore(2, path=path).data
    assert data["seed"] == seed and set(data["answers"]) == {"1-A"}  # not an answer of the bank


def test_two_kernels_making_a_seed_at_once_keep_the_first_saved(tmp_path):
    """Keep the first saved seed when two kernels make one at once."""
    from mlmcourse.quiz.store import SEED
    path = tmp_path / "answers.sqlite3"
    a, b = AnswerStore(2, path=path), AnswerStore(2, path=path)   # both opened before either has one
    first = a.ensure_seed()
    b.update(SEED, answer=first + 1 if first < 99999 else first - 1, kind="seed")  # b made its own too
    assert b.seed == first and b.ensure_seed() == first            # the first saved version wins
    assert b.data["seed"] == first and AnswerStore(2, path=path).seed == first
    assert len(answers_on_disk(path, SEED)) == 2                          # both kept, as every version is


def test_a_seed_is_there_even_when_it_cannot_be_saved(tmp_path, monkeypatch):
    """Give a seed even when it cannot be saved; save it with the next change."""
    path = tmp_path / "answers.sqlite3"
    with monkeypatch.context() as patch:
        patch.setattr(answerdb, "append", raising(sqlite3.OperationalError("database or disk is full")))
        store = AnswerStore(2, path=path)
        seed = store.ensure_seed()
        assert 10000 <= seed <= 99999 and store.seed == seed and "(seed)" in store.unsaved
    store.update("1-A", answer="next")                              # saved with the next change
    assert AnswerStore(2, path=path).seed == seed


def test_each_change_is_on_disk_at_once_and_flush_is_safe_to_call(tmp_path):
    """Put each change on disk at once; flush() may be called any time."""
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    assert store.flush() == path  # nothing to do: fine
    store.update("1-A", answer="typed")
    assert answers_on_disk(path) == ["typed"]  # no flush needed, seen by another connection
    store.flush()
    store.flush()
    assert answers_on_disk(path) == ["typed"]  # flush writes nothing twice
    with pytest.raises(TypeError, match="unknown answer field"):
        store.update("1-A", answr="typo")


def test_a_delay_shares_one_transaction_and_never_exceeds_0_2_s(tmp_path):
    """Share one transaction within a short delay, never longer than 0.2 s."""
    assert AnswerStore(2, path=tmp_path / "a.sqlite3", delay=5).delay == 0.2
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path, delay=0.05)
    for text in ["t", "ty", "typ", "typed"]:
        store.update("1-A", answer=text)
    deadline = time.time() + 5
    while time.time() < deadline and not answers_on_disk(path):
        time.sleep(0.01)
    assert answers_on_disk(path) == ["typed"]  # the timer saved by itself, the burst as one version


def test_wal_mode_and_a_busy_writer_is_waited_for(tmp_path, pauses):
    """Use WAL mode and wait for a busy writer instead of failing."""
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    store.update("1-A", answer="first")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other.execute("BEGIN IMMEDIATE")  # another kernel holds the write lock for a moment
    threading.Timer(0.4, lambda: other.execute("COMMIT")).start()
    t0 = time.time()
    store.update("1-A", answer="second")
    assert time.time() - t0 >= 0.3 and store.last_error is None
    assert answers_on_disk(path) == ["first", "second"]
    other.close()


def test_a_file_replaced_underneath_is_reopened(tmp_path):
    """Save to the file now at the path after another kernel set the old one aside.

    This kernel's next save brings every answer it knows that the new file lacks.
    """
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    store.update("1-A", answer="before")
    store.update("1-B", answer="known here")
    aside = answerdb.set_aside(path, "damaged")  # with its WAL, as the other kernel does
    store.update("1-A", answer="after")
    assert answers_on_disk(path) == ["after"] and answers_on_disk(path, "1-B") == ["known here"]
    assert answers_on_disk(aside) == ["before"]


def test_damaged_while_two_kernels_have_it_open(tmp_path):
    """Set a damaged file aside when a second kernel opens it; the first kernel's next save keeps all it knows."""
    path = tmp_path / "answers.sqlite3"
    first = AnswerStore(2, path=path)
    for i in range(30):
        first.update("1-A", answer=f"v{i} " + "z" * 500)
    first._db["conn"].execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in the file itself
    with open(path, "r+b") as f:  # a disk fault: pages 2-3 overwritten
        f.seek(4096)
        f.write(random.Random(2).randbytes(8192))
    second = AnswerStore(2, path=path)  # opens, finds the damage, sets the file aside
    assert second.damaged and "was damaged" in second.notices[0]
    first.update("1-B", answer="typed on")  # the first kernel writes to the new file, and what it knows
    third = AnswerStore(2, path=path)
    assert third.get("1-A")["answer"] == "v29 " + "z" * 500 and third.get("1-B")["answer"] == "typed on"
    assert third.notices == second.notices     # shown until dismissed


def test_no_files_are_left_behind(tmp_path, monkeypatch, capsys):
    """Leave only the database behind after closing and after an export (no journal, no temporary file)."""
    from mlmcourse.__main__ import main

    folder = tmp_path / "mlmcourse-answers"
    store = AnswerStore(2)
    store.update("1-A", answer="x")
    store.close()
    assert sorted(p.name for p in folder.iterdir()) == ["answers.sqlite3"]
    monkeypatch.chdir(tmp_path)
    assert main(["answers", "export", "--out", str(tmp_path / "form.md")]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["answers.sqlite3"]
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp" or p.name.startswith(".")] == []
