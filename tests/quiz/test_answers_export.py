"""The command line's ``answers export``: the activity form written for hand-in.

Its default name, a bad format refused, and exit code 2 with a message when the answers cannot
all be read.
"""
from __future__ import annotations

import sqlite3

from store_helpers import filled_database, flipping, raising

from mlmcourse.quiz import answerdb
from mlmcourse.quiz.store import AnswerStore, answers_dir, answers_path


def test_cli_export_writes_the_activity_form(tmp_path, monkeypatch, capsys):
    """Write the activity form from the command line, with every saved answer."""
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
    """Name the form after the chapter, in the current folder, when no --out is given."""
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
    """Refuse an unknown format with a short message, not a traceback."""
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
    """Export what could be read from a damaged file, say so, and exit with code 2."""
    filled_database(answers_path())
    flipping(lambda data: data.find(b"version 120 ") + 9)(answers_path())
    code, out, err = _export(tmp_path, capsys)
    assert code == 2 and "but check it: a damaged answers file was set aside as" in out
    assert "may not hold all your answers" in err and "Open the quiz notebook" in err
    code, out, err = _export(tmp_path, capsys)  # said again until the student has checked them
    assert code == 2 and "a damaged answers file was set aside as" in out
    AnswerStore(2).dismiss_notices()             # (the quiz's 'I have checked my answers' button)
    code, out, err = _export(tmp_path, capsys)  # the recovered answers are there: a clean export
    assert code == 0 and "2 of 27 questions answered" in out and err == ""


def test_export_when_the_answers_cannot_be_read_exits_2(tmp_path, capsys, monkeypatch):
    """Exit with code 2 and say why when the answers cannot be read at all."""
    AnswerStore(2).update("1-A", answer="saved")
    monkeypatch.setattr(answerdb, "connect", raising(sqlite3.OperationalError("disk I/O error")))
    code, out, _ = _export(tmp_path, capsys)
    assert code == 2 and "the saved answers could not be read (disk I/O error)" in out


def test_export_with_no_answers_but_a_set_aside_copy_exits_2(tmp_path, capsys):
    """Point to the set-aside copy when no answers are saved but one exists."""
    folder = answers_dir()
    folder.mkdir(parents=True)
    (folder / "answers.sqlite3.damaged-20261001T100000Z").write_bytes(b"an earlier copy")
    code, out, _ = _export(tmp_path, capsys)
    assert code == 2 and "no answers are saved, but an earlier copy exists" in out
    assert "answers.sqlite3.damaged-20261001T100000Z" in out
