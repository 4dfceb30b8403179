"""Answer storage (SQLite): per-user location, every version kept, saves at once, damaged and old
files set aside and told, failed saves kept and retried, killed writers, concurrent kernels, export."""
from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import platformdirs
import pytest

from mlmcourse.errors import CourseError
from mlmcourse.quiz import answerdb
from mlmcourse.quiz.store import AnswerStore, answers_dir, answers_path

PROJECT = Path(__file__).resolve().parents[2]


def _versions(path: Path, question: str = "1-A", chapter: int = 2) -> list[dict]:
    """Every saved version of one question, read by a separate connection (as another kernel)."""
    conn = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True)
    try:
        return answerdb.versions(conn, chapter, question)
    finally:
        conn.close()


def _answers(path: Path, question: str = "1-A") -> list:
    return [v.get("answer") for v in _versions(path, question)]


# -- where, and the basic promises -------------------------------------------------------
def test_location_env_var_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "mine"))
    assert answers_dir() == tmp_path / "mine"
    assert answers_path(2) == answers_path(4) == tmp_path / "mine" / "answers.sqlite3"


def test_location_default_is_per_user_not_the_course_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("MLMCOURSE_ANSWERS_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert answers_dir() == tmp_path / "xdg" / "mlmcourse" / "answers"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert answers_dir() == tmp_path / "home" / ".local" / "share" / "mlmcourse" / "answers"
    assert PROJECT not in answers_dir().parents


def test_save_and_reload(tmp_path):
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
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    for text in ["i", "i is", "i is the", "i is the student"]:
        store.update("1-A", answer=text, kind="open")
    store.update("1-A", answer="i is the student", kind="open")  # no change: no new version
    store.set_student("Ada")
    store.set_student("Ada Lovelace")
    assert _answers(path) == ["i", "i is", "i is the", "i is the student"]
    assert [v["version"] for v in _versions(path)] == [1, 2, 3, 4]
    assert _answers(path, answerdb.STUDENT) == ["Ada", "Ada Lovelace"]
    again = AnswerStore(2, path=path)
    assert again.get("1-A")["answer"] == "i is the student" and again.student == "Ada Lovelace"


# -- the student's seed ------------------------------------------------------------------------
def test_the_seed_is_made_once_per_chapter_and_kept(tmp_path):
    from mlmcourse.quiz.store import SEED
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    assert store.seed is None and store.data["seed"] is None   # none until the quiz asks for one
    seed = store.ensure_seed()
    assert isinstance(seed, int) and 10000 <= seed <= 99999
    assert store.ensure_seed() == seed == store.seed and _answers(path, SEED) == [seed]  # made once
    assert AnswerStore(2, path=path).seed == seed                 # the next session: the same
    assert AnswerStore(2, path=path).ensure_seed() == seed and _answers(path, SEED) == [seed]
    third = AnswerStore(3, path=path)                              # another chapter: its own
    assert third.seed is None and 10000 <= third.ensure_seed() <= 99999
    assert _versions(path, SEED, chapter=3)[0]["kind"] == "seed"
    store.update("1-A", answer="an answer")
    data = AnswerStore(2, path=path).data
    assert data["seed"] == seed and set(data["answers"]) == {"1-A"}  # not an answer of the bank


def test_two_kernels_making_a_seed_at_once_keep_the_first_saved(tmp_path):
    from mlmcourse.quiz.store import SEED
    path = tmp_path / "answers.sqlite3"
    a, b = AnswerStore(2, path=path), AnswerStore(2, path=path)   # both opened before either has one
    first = a.ensure_seed()
    b.update(SEED, answer=first + 1 if first < 99999 else first - 1, kind="seed")  # b made its own too
    assert b.seed == first and b.ensure_seed() == first            # the first saved version wins
    assert b.data["seed"] == first and AnswerStore(2, path=path).seed == first
    assert len(_answers(path, SEED)) == 2                          # both kept, as every version is


def test_a_seed_is_there_even_when_it_cannot_be_saved(tmp_path, monkeypatch):
    path = tmp_path / "answers.sqlite3"
    with monkeypatch.context() as patch:
        patch.setattr(answerdb, "append", _raises(sqlite3.OperationalError("database or disk is full")))
        store = AnswerStore(2, path=path)
        seed = store.ensure_seed()
        assert 10000 <= seed <= 99999 and store.seed == seed and "(seed)" in store.unsaved
    store.update("1-A", answer="next")                              # saved with the next change
    assert AnswerStore(2, path=path).seed == seed


def test_each_change_is_on_disk_at_once_and_flush_is_safe_to_call(tmp_path):
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    assert store.flush() == path  # nothing to do: fine
    store.update("1-A", answer="typed")
    assert _answers(path) == ["typed"]  # no flush needed, seen by another connection
    store.flush()
    store.flush()
    assert _answers(path) == ["typed"]  # flush writes nothing twice
    with pytest.raises(TypeError, match="unknown answer field"):
        store.update("1-A", answr="typo")


def test_a_delay_shares_one_transaction_and_never_exceeds_0_2_s(tmp_path):
    assert AnswerStore(2, path=tmp_path / "a.sqlite3", delay=5).delay == 0.2
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path, delay=0.05)
    for text in ["t", "ty", "typ", "typed"]:
        store.update("1-A", answer=text)
    deadline = time.time() + 5
    while time.time() < deadline and not _answers(path):
        time.sleep(0.01)
    assert _answers(path) == ["typed"]  # the timer saved by itself, the burst as one version


def test_wal_mode_and_a_busy_writer_is_waited_for(tmp_path, pauses):
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
    assert _answers(path) == ["first", "second"]
    other.close()


def test_a_file_replaced_underneath_is_reopened(tmp_path):
    """Another kernel set the file aside: this kernel's next save goes to the file now at the
    path, with every answer this kernel knows that the new file lacks."""
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    store.update("1-A", answer="before")
    store.update("1-B", answer="known here")
    aside = answerdb.set_aside(path, "damaged")  # with its WAL, as the other kernel does
    store.update("1-A", answer="after")
    assert _answers(path) == ["after"] and _answers(path, "1-B") == ["known here"]
    assert _answers(aside) == ["before"]


def test_damaged_while_two_kernels_have_it_open(tmp_path):
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


# -- damaged databases -------------------------------------------------------------------
def _filled(path: Path) -> None:
    """A closed database with 120 versions of 1-A (over many pages) and one of 1-B."""
    from mlmcourse.quiz import store as store_module
    clock, real = iter(range(0, 10**6, 10)), store_module._clock
    store_module._clock = lambda: float(next(clock))   # a pause between versions: all are kept
    try:
        store = AnswerStore(2, path=path)
        for i in range(1, 121):
            store.update("1-A", answer=f"version {i:03d} " + "w" * 300, kind="open")
        store.update("1-B", answer="the other answer", kind="open")
        store.set_student("Ada")
        store.close()
    finally:
        store_module._clock = real


def _flip(offset):
    def damage(path: Path) -> None:
        data = bytearray(path.read_bytes())
        at = offset(data)
        data[at] ^= 0x5A
        path.write_bytes(bytes(data))
    return damage


def _truncate(path: Path) -> None:
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)


def _other_schema(path: Path) -> None:
    path.unlink()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text)")
    conn.commit()
    conn.close()


DAMAGES = {
    "truncated": _truncate,
    "stray byte in an answer": _flip(lambda data: data.find(b"version 120 ") + 9),
    "stray byte in SQLite's structures": _flip(lambda data: 4096),  # the table's root page type
    "garbage": lambda path: path.write_bytes(random.Random(1).randbytes(8192)),
    "wrong schema": _other_schema,
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_database_is_set_aside_and_the_student_told(tmp_path, damage):
    path = tmp_path / "answers.sqlite3"
    _filled(path)
    DAMAGES[damage](path)
    damaged_bytes = path.read_bytes()
    store = AnswerStore(2, path=path)
    [aside] = store.damaged
    assert aside.name.startswith("answers.sqlite3.damaged-") and aside.read_bytes() == damaged_bytes
    assert len(store.notices) == 1 and "was damaged" in store.notices[0] and str(aside) in store.notices[0]
    assert "nothing was deleted" in store.notices[0]
    if damage == "stray byte in an answer":  # every other version still reads: the one before is shown
        assert store.get("1-A")["answer"].startswith("version 119 ") and store.student == "Ada"
        assert "the 121 saved versions that still read correctly were copied" in store.notices[0]
    elif damage == "truncated":  # the rows on the pages that are left still read
        assert store.get("1-A")["answer"].startswith("version ") and "saved versions" in store.notices[0]
    elif damage in ("garbage", "wrong schema"):
        assert store.get("1-A") == {} and "nothing in it could be read" in store.notices[0]
    store.update("1-A", answer="typed again")  # the new file works
    again = AnswerStore(2, path=path)              # the notice stays until the student dismisses it
    assert again.get("1-A")["answer"] == "typed again" and again.notices == store.notices
    again.dismiss_notices()
    assert AnswerStore(2, path=path).notices == []
    assert aside.exists() and not Path(f"{aside}-shm").exists()


def _zeroed_page_with_a_huge_answer(path: Path) -> dict:
    """About 15 answers, one of them 1 MB, then 4 KB of zeros at offset 12288 (one page): the
    answers that were saved, {question: text}."""
    store = AnswerStore(2, path=path)
    store.ensure_seed()
    saved = {}
    for i in range(15):
        text = ("w" * 1_000_000) if i == 3 else f"answer {i} " * (i + 1)
        store.update(f"q{i}", answer=text, kind="open")
        store.flush()
        saved[f"q{i}"] = text
    store.set_student("Ada")
    store.close()
    data = bytearray(path.read_bytes())
    data[12288:12288 + 4096] = bytes(4096)
    path.write_bytes(bytes(data))
    return saved


def test_recovery_skips_only_the_rows_that_cannot_be_read(tmp_path):
    path = tmp_path / "answers.sqlite3"
    saved = _zeroed_page_with_a_huge_answer(path)
    conn = sqlite3.connect(path)
    readable = []
    for (rowid,) in [(i,) for i in range(1, 40)]:   # what plain SELECTs, row by row, still read
        try:
            readable += [r[2:3] for r in conn.execute("SELECT * FROM answers WHERE id = ?", (rowid,))]
        except sqlite3.Error:
            pass
    conn.close()
    store = AnswerStore(2, path=path)
    back = {q: e["answer"] for q, e in store.data["answers"].items()}
    assert len(back) >= 13 and all(saved[q] == a for q, a in back.items())
    assert len(back) == len({q for (q,) in readable} - {answerdb.STUDENT, "(seed)"})
    assert store.student == "Ada" and store.seed is not None
    [notice] = store.notices
    lost = 17 - len(readable)    # of 17 rows: the seed, 15 answers, the name
    assert f"{lost} saved version" in notice and "could not be read" in notice


def test_the_damage_notice_stays_until_the_student_dismisses_it(tmp_path):
    path = tmp_path / "answers.sqlite3"
    _zeroed_page_with_a_huge_answer(path)
    first = AnswerStore(2, path=path)
    [notice] = first.notices
    [problem] = first.problems()
    assert "could not be read" in problem and str(first.damaged[0]) in problem
    first.close()
    later = AnswerStore(2, path=path)              # the next session: told again, and in the hand-in
    assert later.notices == [notice] and later.problems() == [problem]
    other = AnswerStore(3, path=path)              # the file is every chapter's
    assert other.notices == [notice]
    later.dismiss_notices()
    assert later.notices == [] and later.problems() == []
    later.close()
    assert AnswerStore(2, path=path).notices == [] and AnswerStore(2, path=path).problems() == []


def test_an_empty_file_is_a_new_database(tmp_path):
    path = tmp_path / "answers.sqlite3"
    path.write_bytes(b"")  # a first start killed before its first save
    store = AnswerStore(2, path=path)
    store.update("1-A", answer="x")
    assert store.notices == [] and _answers(path) == ["x"]


# -- the earlier JSON store --------------------------------------------------------------
def _old_json(folder: Path, answers: dict, name: str = "chapter02.json", student: str = "Grace") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps({"version": 1, "chapter": 2, "student": student, "answers": answers}))
    return path


OLD = {"1-A": {"answer": "from the json file", "kind": "open", "checked": True, "correct": None,
               "updated": "2026-10-01T10:00:00+00:00"},
       "1-B.mc": {"answer": 1, "kind": "choice", "checked": True, "correct": True,
                  "updated": "2026-10-01T10:01:00+00:00"}}


def test_old_json_answers_are_migrated_once_and_the_file_kept(tmp_path):
    folder = tmp_path / "answers"
    old = _old_json(folder, OLD)
    text = old.read_bytes()
    store = AnswerStore(2, path=folder / "answers.sqlite3")
    assert store.get("1-A")["answer"] == "from the json file" and store.get("1-A")["checked"] is True
    assert store.get("1-B.mc")["answer"] == 1 and store.get("1-B.mc")["correct"] is True
    assert store.student == "Grace" and store.damaged == []
    [kept] = [p for p in folder.iterdir() if p.name.startswith("chapter02.json.migrated-")]
    assert kept.read_bytes() == text and not old.exists()
    assert "moved into" in store.notices[0] and str(kept) in store.notices[0]
    store.update("1-A", answer="edited")
    again = AnswerStore(2, path=folder / "answers.sqlite3")
    assert again.notices == [] and again.get("1-A")["answer"] == "edited"
    assert _answers(folder / "answers.sqlite3") == ["from the json file", "edited"]


def test_old_json_never_overwrites_newer_answers(tmp_path):
    folder = tmp_path / "answers"
    store = AnswerStore(2, path=folder / "answers.sqlite3")
    store.update("1-A", answer="newer, in the database")
    store.close()
    _old_json(folder, OLD)
    again = AnswerStore(2, path=folder / "answers.sqlite3")
    assert again.get("1-A")["answer"] == "newer, in the database"
    assert again.get("1-B.mc")["answer"] == 1  # only in the old file: moved in


def test_a_damaged_json_falls_back_to_its_backup_and_says_so(tmp_path):
    folder = tmp_path / "answers"
    _old_json(folder, {"1-A": {**OLD["1-A"], "answer": "one save older"}}, name="chapter02.json.bak")
    (folder / "chapter02.json").write_text('{"answers": {"1-A": {"answ')  # torn
    store = AnswerStore(2, path=folder / "answers.sqlite3")
    assert store.get("1-A")["answer"] == "one save older"
    assert "was damaged" in store.notices[0] and "backup copy" in store.notices[0]
    names = sorted(p.name for p in folder.iterdir() if p.name.startswith("chapter02"))
    assert [n.split("-")[0] for n in names] == ["chapter02.json.bak.migrated", "chapter02.json.damaged"]
    assert (folder / names[1]).read_text() == '{"answers": {"1-A": {"answ'
    assert len(store.damaged) == 1 and store.damaged[0].name == names[1]


@pytest.mark.parametrize("content", [b"", b"\x00\xff garbage", b'{"answers": [1, 2]}'])
def test_a_damaged_json_without_backup_is_kept_and_told(tmp_path, content):
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "chapter02.json").write_bytes(content)
    store = AnswerStore(2, path=folder / "answers.sqlite3")
    [kept] = store.damaged
    assert kept.read_bytes() == content and "could not be read" in store.notices[0]
    assert str(kept) in store.notices[0] and store.get("1-A") == {}


# -- saves that fail -------------------------------------------------------------------------
def _raises(exc):
    def fail(*args, **kwargs):
        raise exc
    return fail


def _blocked_by_chmod(folder: Path) -> bool:
    """chmod 0o500 stops writes, except for root (these tests may run as root)."""
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
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with monkeypatch.context() as patch:
            if not _blocked_by_chmod(folder):  # root: make SQLite fail as in a read-only folder
                patch.setattr(answerdb, "connect", _raises(sqlite3.OperationalError("unable to open database file")))
            store = AnswerStore(2, path=folder / "answers.sqlite3")
            assert "could not be opened" in store.last_error and "MLMCOURSE_ANSWERS_DIR" in store.last_error
            store.update("1-A", answer="typed in a read-only folder")
            _assert_kept_and_told(store, "1-A", "typed in a read-only folder", "unable to open database file")
    finally:
        folder.chmod(0o700)
    store.update("1-B", answer="the next change")  # retried: both are saved now
    assert store.last_error is None and store.unsaved == set()
    assert _answers(folder / "answers.sqlite3") == ["typed in a read-only folder"]
    assert _answers(folder / "answers.sqlite3", "1-B") == ["the next change"]


def test_an_unusable_folder_and_setting_mlmcourse_answers_dir_in_the_kernel(tmp_path, monkeypatch):
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
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    store.update("1-A", answer="saved before")
    with monkeypatch.context() as patch:
        patch.setattr(answerdb, "append", _raises(sqlite3.OperationalError("database or disk is full")))
        store.update("1-A", answer="typed on a full disk")
        _assert_kept_and_told(store, "1-A", "typed on a full disk", "database or disk is full")
        assert _answers(path) == ["saved before"]
    # space freed
    store.update("1-B", answer="next")
    assert _answers(path) == ["saved before", "typed on a full disk"] and store.last_error is None


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 256 KiB file system (tmpfs), where mounting is allowed (root on Linux)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if sys.platform != "linux" or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
                                                 capture_output=True).returncode != 0:
        pytest.skip("a tiny tmpfs cannot be mounted here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_really_full_disk(tiny_disk):
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


# -- export --------------------------------------------------------------------------------
def test_cli_export_writes_the_activity_form(tmp_path, monkeypatch, capsys):
    from mlmcourse.__main__ import main
    from mlmcourse.quiz.bank import load_bank

    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "ans"))
    store = AnswerStore(2)
    store.update("1-A", answer="a first draft")
    store.update("1-A", answer="i: student, j: classroom, k: school")
    store.update("1-B.mc", answer=1, checked=True, correct=True)
    store.set_student("Grace Hopper")
    out = tmp_path / "form.md"
    assert main(["answers", "export", "--out", str(out)]) == 0
    text = out.read_text()
    bank = load_bank(chapter=2)
    assert text.startswith("# W2 Activity Form")
    assert "Grace Hopper" in text
    assert "i: student, j: classroom, k: school" in text and "a first draft" not in text  # the latest
    assert "checked: correct" in text
    for q in bank.questions:  # every question text is there, no model answer is
        assert q.prompt.splitlines()[0] in text
        if q.model_answer:
            assert q.model_answer.splitlines()[0] not in text
    assert "2 of 27 questions answered" in capsys.readouterr().out
    html_out = tmp_path / "form.html"
    assert main(["answers", "export", "--out", str(html_out), "--name", "G. H."]) == 0
    page = html_out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "G. H." in page and "i: student, j: classroom" in page


def test_cli_export_default_name_in_current_folder(tmp_path, monkeypatch, capsys):
    from mlmcourse.__main__ import main

    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "ans"))
    monkeypatch.chdir(tmp_path)
    AnswerStore(2).set_student("Ada L")
    assert main(["answers", "export"]) == 0
    assert (tmp_path / "W2-Activity-Form-Ada-L.md").is_file()
    assert "0 of 27 questions answered" in capsys.readouterr().out
    assert main(["answers", "where"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "ans" / "answers.sqlite3")


def test_cli_bad_format_is_a_course_error(tmp_path, monkeypatch, capsys):
    from mlmcourse.__main__ import main

    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "ans"))
    assert main(["answers", "export", "--out", str(tmp_path / "x.docx")]) == 2
    assert "export format 'docx'" in capsys.readouterr().err


def _export(tmp_path, capsys):
    from mlmcourse.__main__ import main
    out = tmp_path / "form.md"
    code = main(["answers", "export", "--out", str(out)])
    captured = capsys.readouterr()
    assert out.is_file()  # written in every case: what could be read is in it
    return code, captured.out, captured.err


def test_export_from_a_damaged_database_says_so_and_exits_2(tmp_path, capsys):
    _filled(answers_path())
    _flip(lambda data: data.find(b"version 120 ") + 9)(answers_path())
    code, out, err = _export(tmp_path, capsys)
    assert code == 2 and "but check it: a damaged answers file was set aside as" in out
    assert "may not hold all your answers" in err and "Open the quiz notebook" in err
    code, out, err = _export(tmp_path, capsys)  # said again until the student has checked them
    assert code == 2 and "a damaged answers file was set aside as" in out
    AnswerStore(2).dismiss_notices()             # (the quiz's 'I have checked my answers' button)
    code, out, err = _export(tmp_path, capsys)  # the recovered answers are there: a clean export
    assert code == 0 and "2 of 27 questions answered" in out and err == ""


def test_export_when_the_answers_cannot_be_read_exits_2(tmp_path, capsys, monkeypatch):
    AnswerStore(2).update("1-A", answer="saved")
    monkeypatch.setattr(answerdb, "connect", _raises(sqlite3.OperationalError("disk I/O error")))
    code, out, err = _export(tmp_path, capsys)
    assert code == 2 and "the saved answers could not be read (disk I/O error)" in out


def test_export_with_no_answers_but_a_set_aside_copy_exits_2(tmp_path, capsys):
    folder = answers_dir()
    folder.mkdir(parents=True)
    (folder / "answers.sqlite3.damaged-20261001T100000Z").write_bytes(b"an earlier copy")
    code, out, err = _export(tmp_path, capsys)
    assert code == 2 and "no answers are saved, but an earlier copy exists" in out
    assert "answers.sqlite3.damaged-20261001T100000Z" in out


# -- killed and concurrent kernels (real processes) --------------------------------------
# The child loads the store on its own (python -S, the store's modules only): the package's top
# (the model engine) takes 1.5 s to import, the site-packages' start-up files another 0.1 s.
BOOT = textwrap.dedent(f"""
    import sys, types
    sys.path[:0] = [{str(Path(platformdirs.__file__).parent.parent)!r}]
    for name, sub in (("mlmcourse", ""), ("mlmcourse.quiz", "quiz")):
        module = types.ModuleType(name)
        module.__path__ = [{str(PROJECT / "mlmcourse")!r} + ("/" + sub if sub else "")]
        sys.modules[name] = module
    from pathlib import Path
    from mlmcourse.quiz.store import AnswerStore
    store = AnswerStore(2, path=Path(sys.argv[1]))
""")


def _child(code: str, *args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-S", "-c", BOOT + textwrap.dedent(code), *map(str, args)],
                            stdout=subprocess.PIPE, text=True, **kwargs)


def _text(n: int) -> str:
    return f"{n}:" + "y" * (n * 37 % 2000)  # sizes vary: saves spread over one or several pages


TYPIST = """
    n = int(store.get("1-A").get("answer", "0:").split(":")[0])
    print("STARTED", flush=True)
    while True:
        n += 1
        store.update("1-A", answer=f"{n}:" + "y" * (n * 37 % 2000), kind="open")
        print(n, flush=True)  # after update returned: this version is committed
"""


def _check_after_kill(path: Path, printed: list[int], before: int) -> int:
    """The database opens, nothing is damaged, the last committed version and every one before it
    are there and intact; return the current version."""
    store = AnswerStore(2, path=path)  # opens, checks every row's CRC
    assert store.notices == [] and store.damaged == []
    committed = printed[-1] if printed else before
    current = int(store.get("1-A")["answer"].split(":")[0])
    assert current in (committed, committed + 1)  # + 1: committed, killed before it printed
    versions = _versions(path)  # a burst of typing keeps its last version (see store.BURST_GAP)
    assert [v["version"] for v in versions] == list(range(1, len(versions) + 1))
    typed = [int(v["answer"].split(":")[0]) for v in versions]
    assert typed == sorted(set(typed)) and typed[-1] == current  # in typing order, the last one there
    assert all(v["answer"] == _text(n) for v, n in zip(versions, typed))  # each one whole
    store.close()
    return current


@pytest.mark.slow
def test_killed_at_random_moments_keeps_the_last_committed_version(tmp_path):
    """30 kills, two typists at a time (each with its own database) to use both cores."""
    rng = random.Random(20261201)
    paths = [tmp_path / "one" / "answers.sqlite3", tmp_path / "two" / "answers.sqlite3"]
    latest = [0, 0]
    for _round in range(15):
        procs = [_child(TYPIST, path) for path in paths]
        try:
            assert [p.stdout.readline().strip() for p in procs] == ["STARTED", "STARTED"]
            printed = []
            for proc in procs:
                time.sleep(rng.uniform(0.0, 0.1))  # somewhere in the middle of a save
                proc.send_signal(signal.SIGKILL)
                printed.append([int(line) for line in proc.stdout.read().split() if line.isdigit()])
        finally:
            for proc in procs:
                proc.kill()
                proc.wait(timeout=10)
        assert [p.returncode for p in procs] == [-signal.SIGKILL] * 2
        latest = [_check_after_kill(path, out, before) for path, out, before in zip(paths, printed, latest)]
    assert min(latest) > 15  # the kills did land in the middle of series of saves
    for path in paths:
        assert sorted(p.name for p in path.parent.iterdir()) == ["answers.sqlite3"]


WRITER = """
    import sys
    who, n = sys.argv[2], int(sys.argv[3])
    print("READY", flush=True)
    sys.stdin.readline()  # both start together
    for i in range(1, n + 1):
        store.update("1-A", answer=f"{who}:{i}", kind="open")  # the same question
        store.update(f"own-{who}", answer=f"{who}:{i}", kind="open")  # a question of its own
    store.set_student(who)
    print("DONE" if store.last_error is None else store.last_error, flush=True)
"""


@pytest.mark.slow
def test_two_kernels_writing_at_once_both_keep_everything(tmp_path):
    path = tmp_path / "answers.sqlite3"
    AnswerStore(2, path=path).close()
    n = 100
    procs = [_child(WRITER, path, who, n, stdin=subprocess.PIPE) for who in ("A", "B")]
    try:
        assert [p.stdout.readline().strip() for p in procs] == ["READY", "READY"]
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        assert [p.stdout.readline().strip() for p in procs] == ["DONE", "DONE"]
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=10)
    def typed(answers, who):
        return [int(a.split(":")[1]) for a in answers if a.startswith(who)]

    for who in ("A", "B"):  # one burst of typing: its last version is kept (see store.BURST_GAP)
        own = typed(_answers(path, f"own-{who}"), who)
        assert own == sorted(set(own)) and own[-1] == n
    shared = _answers(path)
    assert len(set(shared)) == len(shared)
    for who in ("A", "B"):  # each kernel's versions, in the order it typed them, its last one there;
        mine = typed(shared, who)  # a burst never replaces the other kernel's version
        assert mine == sorted(set(mine)) and mine[-1] == n
    assert sorted(_answers(path, answerdb.STUDENT)) == ["A", "B"]
    store = AnswerStore(2, path=path)
    assert store.get("1-A")["answer"] == shared[-1] and store.notices == []


KEYSTROKE = """
    import sys, time
    print("READY", flush=True)
    store.update("1-A", answer=sys.stdin.readline().strip(), kind="open")
    time.sleep(60)
"""


@pytest.mark.slow
def test_an_answer_is_on_disk_within_0_3_s(tmp_path):
    path = tmp_path / "answers.sqlite3"
    proc = _child(KEYSTROKE, path, stdin=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == "READY"
        proc.stdin.write("typed just before the kernel died\n")
        proc.stdin.flush()  # the keystroke reaches the kernel
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    assert AnswerStore(2, path=path).get("1-A")["answer"] == "typed just before the kernel died"
