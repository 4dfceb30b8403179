"""Damaged answer databases are set aside and the student told.

Rows that can be read are recovered; the earlier JSON store is migrated once, and a damaged one
falls back to its backup or is kept.
"""
from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest
from store_helpers import answers_on_disk, filled_database, flipping

from mlmcourse.quiz import answerdb
from mlmcourse.quiz.store import AnswerStore


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
    "stray byte in an answer": flipping(lambda data: data.find(b"version 120 ") + 9),
    "stray byte in SQLite's structures": flipping(lambda data: 4096),  # the table's root page type
    "garbage": lambda path: path.write_bytes(random.Random(1).randbytes(8192)),
    "wrong schema": _other_schema,
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_database_is_set_aside_and_the_student_told(tmp_path, damage):
    """Set a damaged database aside, recover what can be read, and tell the student."""
    path = tmp_path / "answers.sqlite3"
    filled_database(path)
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
    """Save about 15 answers, one of them 1 MB, then zero 4 KB at offset 12288 (one page).

    Return the answers that were saved, {question: text}.
    """
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
    """Skip only the unreadable rows when recovering, not everything after them."""
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
    """Keep the damage notice in every session until the student dismisses it."""
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
    """Treat an empty file as a new database, not as damage."""
    path = tmp_path / "answers.sqlite3"
    path.write_bytes(b"")  # a first start killed before its first save
    store = AnswerStore(2, path=path)
    store.update("1-A", answer="x")
    assert store.notices == [] and answers_on_disk(path) == ["x"]


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
    """Migrate the earlier JSON answers once and keep the JSON file."""
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
    assert answers_on_disk(folder / "answers.sqlite3") == ["from the json file", "edited"]


def test_old_json_never_overwrites_newer_answers(tmp_path):
    """Never let the earlier JSON answers overwrite newer ones."""
    folder = tmp_path / "answers"
    store = AnswerStore(2, path=folder / "answers.sqlite3")
    store.update("1-A", answer="newer, in the database")
    store.close()
    _old_json(folder, OLD)
    again = AnswerStore(2, path=folder / "answers.sqlite3")
    assert again.get("1-A")["answer"] == "newer, in the database"
    assert again.get("1-B.mc")["answer"] == 1  # only in the old file: moved in


def test_a_damaged_json_falls_back_to_its_backup_and_says_so(tmp_path):
    """Fall back to the JSON backup when the JSON file is damaged, and say so."""
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
    """Keep a damaged JSON file without a backup, and tell the student."""
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "chapter02.json").write_bytes(content)
    store = AnswerStore(2, path=folder / "answers.sqlite3")
    [kept] = store.damaged
    assert kept.read_bytes() == content and "could not be read" in store.notices[0]
    assert str(kept) in store.notices[0] and store.get("1-A") == {}
