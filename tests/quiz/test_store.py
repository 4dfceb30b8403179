"""Answer storage: per-user location, atomic saves with a backup, crash safety, export."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mlmcourse.quiz import store as answers
from mlmcourse.quiz.store import AnswerStore, answers_dir, answers_path, atomic_write_json
from mlmcourse.errors import CourseError

PROJECT = Path(__file__).resolve().parents[2]


def test_location_env_var_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "mine"))
    assert answers_dir() == tmp_path / "mine"
    assert answers_path(2) == tmp_path / "mine" / "chapter02.json"


def test_location_default_is_per_user_not_the_course_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("MLMCOURSE_ANSWERS_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert answers_dir() == tmp_path / "xdg" / "mlmcourse" / "answers"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert answers_dir() == tmp_path / "home" / ".local" / "share" / "mlmcourse" / "answers"
    assert PROJECT not in answers_dir().parents


def test_save_and_reload(tmp_path):
    store = AnswerStore(2, path=tmp_path / "a.json", delay=0)
    store.update("1-A", answer="i is the student", kind="open")
    store.set_student("Ada")
    again = AnswerStore(2, path=tmp_path / "a.json")
    assert again.get("1-A")["answer"] == "i is the student"
    assert again.student == "Ada"
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["answers"]["1-A"]["answer"] == "i is the student" and data["version"] == 1


def test_debounced_saves_coalesce_and_flush_writes(tmp_path, monkeypatch):
    writes = []
    real = answers.atomic_write_json
    monkeypatch.setattr(answers, "atomic_write_json", lambda p, d: (writes.append(1), real(p, d)))
    store = AnswerStore(2, path=tmp_path / "a.json", delay=30)
    for text in ["i", "i is", "i is the", "i is the student"]:
        store.update("1-A", answer=text)
    assert writes == [] and not (tmp_path / "a.json").exists()
    store.flush()
    assert len(writes) == 1
    assert AnswerStore(2, path=tmp_path / "a.json").get("1-A")["answer"] == "i is the student"
    store.flush()  # nothing changed: no second write
    assert len(writes) == 1


def test_debounce_timer_saves_by_itself(tmp_path):
    store = AnswerStore(2, path=tmp_path / "a.json", delay=0.05)
    store.update("1-A", answer="typed")
    deadline = time.time() + 5
    while time.time() < deadline and not (tmp_path / "a.json").exists():
        time.sleep(0.02)
    assert AnswerStore(2, path=tmp_path / "a.json").get("1-A")["answer"] == "typed"


def test_backup_holds_the_previous_version(tmp_path):
    path = tmp_path / "a.json"
    store = AnswerStore(2, path=path, delay=0)
    store.update("1-A", answer="first")
    store.update("1-A", answer="second")
    assert json.loads(path.read_text())["answers"]["1-A"]["answer"] == "second"
    bak = path.with_name("a.json.bak")
    assert json.loads(bak.read_text())["answers"]["1-A"]["answer"] == "first"


def test_damaged_file_falls_back_to_backup(tmp_path):
    path = tmp_path / "a.json"
    store = AnswerStore(2, path=path, delay=0)
    store.update("1-A", answer="first")
    store.update("1-A", answer="second")
    path.write_text('{"answers": {"1-A": {"answ')  # torn write (cannot happen via our saves)
    again = AnswerStore(2, path=path)
    assert again.restored_from_backup
    assert again.get("1-A")["answer"] == "first"


def test_failure_between_write_and_replace_keeps_old_answers(tmp_path, monkeypatch):
    path = tmp_path / "a.json"
    store = AnswerStore(2, path=path, delay=0)
    store.update("1-A", answer="safe")
    before = path.read_bytes()

    real_replace = os.replace

    def failing_replace(src, dst):
        if Path(dst) == path:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(answers.os, "replace", failing_replace)
    with pytest.raises(CourseError, match="could not be saved"):
        store.update("1-A", answer="lost?")
    monkeypatch.setattr(answers.os, "replace", real_replace)
    assert path.read_bytes() == before
    assert AnswerStore(2, path=path).get("1-A")["answer"] == "safe"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


CHILD = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from mlmcourse.quiz import store as answers
    from mlmcourse.quiz.store import AnswerStore
    path = Path(sys.argv[1])
    store = AnswerStore(2, path=path, delay=0)
    store.update("1-A", answer="version one")
    real_replace = os.replace
    def slow_replace(src, dst):
        if Path(dst) == path:
            print("READY", flush=True)   # the new file is written, not yet swapped in
            time.sleep(60)
        return real_replace(src, dst)
    answers.os.replace = slow_replace
    store.update("1-A", answer="version two " + "x" * 100000)
""")


def test_killed_between_write_and_replace(tmp_path):
    path = tmp_path / "a.json"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "READY"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    store = AnswerStore(2, path=path)
    assert store.get("1-A")["answer"] == "version one"
    assert not store.restored_from_backup


LOOP = textwrap.dedent("""
    import sys
    from pathlib import Path
    from mlmcourse.quiz.store import AnswerStore
    store = AnswerStore(2, path=Path(sys.argv[1]), delay=0)
    n = 0
    while True:
        n += 1
        store.update("1-A", answer=f"{n}:" + "y" * 200000, n=n)
        if n == 1:
            print("STARTED", flush=True)
""")


def test_killed_at_random_moments_never_corrupts(tmp_path):
    path = tmp_path / "a.json"
    last = 0
    for delay in (0.013, 0.05, 0.11, 0.2, 0.33):
        proc = subprocess.Popen([sys.executable, "-c", LOOP, str(path)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "STARTED"
        time.sleep(delay)  # somewhere in the middle of one of the many saves
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        data = json.loads(path.read_text())  # always a complete, valid file
        entry = data["answers"]["1-A"]
        assert entry["answer"] == f"{entry['n']}:" + "y" * 200000
        last = entry["n"]
    assert last > 1  # the kills did land in the middle of a series of saves


def test_unwritable_location_gives_a_course_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = AnswerStore(2, path=blocker / "sub" / "a.json", delay=0)
    with pytest.raises(CourseError, match="MLMCOURSE_ANSWERS_DIR"):
        store.update("1-A", answer="x")


def test_atomic_write_leaves_no_temp_files(tmp_path):
    atomic_write_json(tmp_path / "b.json", {"answers": {}})
    atomic_write_json(tmp_path / "b.json", {"answers": {"x": {}}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json", "b.json.bak"]


def test_cli_export_writes_the_activity_form(tmp_path, monkeypatch, capsys):
    from mlmcourse.__main__ import main
    from mlmcourse.quiz.bank import load_bank

    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "ans"))
    store = AnswerStore(2, delay=0)
    store.update("1-A", answer="i: student, j: classroom, k: school")
    store.update("1-B.mc", answer=1, checked=True, correct=True)
    store.set_student("Grace Hopper")
    out = tmp_path / "form.md"
    assert main(["answers", "export", "--out", str(out)]) == 0
    text = out.read_text()
    bank = load_bank(chapter=2)
    assert text.startswith("# W2 Activity Form")
    assert "Grace Hopper" in text
    assert "i: student, j: classroom, k: school" in text
    assert "checked: correct" in text
    for q in bank.questions:  # every question text is there, no model answer is
        assert q.prompt.splitlines()[0] in text
        if q.model_answer:
            assert q.model_answer.splitlines()[0] not in text
    assert "2 of 20 questions answered" in capsys.readouterr().out
    html_out = tmp_path / "form.html"
    assert main(["answers", "export", "--out", str(html_out), "--name", "G. H."]) == 0
    page = html_out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "G. H." in page and "i: student, j: classroom" in page


def test_cli_export_default_name_in_current_folder(tmp_path, monkeypatch, capsys):
    from mlmcourse.__main__ import main

    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "ans"))
    monkeypatch.chdir(tmp_path)
    AnswerStore(2, delay=0).set_student("Ada L")
    assert main(["answers", "export"]) == 0
    assert (tmp_path / "W2-Activity-Form-Ada-L.md").is_file()
    assert "0 of 20 questions answered" in capsys.readouterr().out


def test_cli_bad_format_is_a_course_error(tmp_path, monkeypatch, capsys):
    from mlmcourse.__main__ import main

    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "ans"))
    assert main(["answers", "export", "--out", str(tmp_path / "x.docx")]) == 2
    assert "export format 'docx'" in capsys.readouterr().err
