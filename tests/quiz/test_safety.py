"""Nothing typed is lost, whatever is typed (issue 15, part 4): unencodable text, a read-only
answers folder, non-numbers in a numeric check, a huge answer typed key by key; and banks that
are refused clearly (duplicate keys, schema, encoding)."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
import yaml

from mlmcourse.errors import CourseError
from mlmcourse.quiz import answerdb
from mlmcourse.quiz import store as store_module
from mlmcourse.quiz.bank import bank_path, load_bank
from mlmcourse.quiz.checking import parse_number
from mlmcourse.quiz.store import AnswerStore
from mlmcourse.quiz.views import Quiz

BROKEN = "a pasted formula \ud835 with half an emoji"   # a lone surrogate: what a broken paste gives


def _db_answers(path: Path, qid: str) -> list:
    conn = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True)
    try:
        return [v.get("answer") for v in answerdb.versions(conn, 2, qid)]
    finally:
        conn.close()


# -- 1. text that cannot be encoded ------------------------------------------------------------
def test_a_lone_surrogate_is_saved_replaced_and_the_student_told(tmp_path):
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    store.update("1-A", answer=BROKEN, kind="open")        # no UnicodeEncodeError
    assert store.last_error is None and store.unsaved == set()
    assert _db_answers(path, "1-A") == ["a pasted formula \ufffd with half an emoji"]
    assert "1-A" in store.replaced and "could not be stored" in store.replaced["1-A"]
    store.update("1-B", answer="the next question", kind="open")   # later saves go on
    assert _db_answers(path, "1-B") == ["the next question"]
    store.update("1-A", answer="fixed text", kind="open")
    assert "1-A" not in store.replaced
    # a surrogate pair arriving as two halves is one character, kept as it is
    store.update("1-C", answer="x \ud83d\ude00 y", kind="open")
    assert _db_answers(path, "1-C") == ["x \U0001F600 y"] and "1-C" not in store.replaced
    store.set_student("Ad\udca0a")
    assert AnswerStore(2, path=path).student == "Ad\ufffda"


def test_a_failing_save_never_stops_the_other_questions(tmp_path, monkeypatch):
    """Whatever makes one answer unsavable (here: an unexpected error for it alone), the other
    questions are saved, the failure is told, and the header does not claim 'saved'."""
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    real = answerdb._crc

    def crc(chapter, question, *rest):
        if question == "1-A":
            raise ValueError("this row cannot be written")
        return real(chapter, question, *rest)
    monkeypatch.setattr(answerdb, "_crc", crc)
    store.update("1-A", answer="cannot be saved", kind="open")
    assert store.unsaved == {"1-A"} and "1-A" in store.last_error
    store.update("1-B", answer="saved anyway", kind="open")
    assert _db_answers(path, "1-B") == ["saved anyway"]
    assert store.unsaved == {"1-A"} and store.last_error  # still told: not everything is saved
    monkeypatch.setattr(answerdb, "_crc", real)
    store.update("1-C", answer="and now", kind="open")
    assert store.unsaved == set() and store.last_error is None
    assert _db_answers(path, "1-A") == ["cannot be saved"]


def test_the_quiz_with_a_broken_paste_saves_exports_and_says_so(quiz, tmp_path, monkeypatch):
    quiz.header()
    v, w = quiz.view("1-A"), quiz.view("1-B")
    v.input.value = BROKEN
    assert "could not be stored" in v.save_note.value and "\ufffd" in v.save_note.value
    assert "saved as you type" in quiz.save_status.value
    w.input.value = "another answer"
    saved = AnswerStore(2, path=quiz.store.path).data["answers"]
    assert saved["1-B"]["answer"] == "another answer" and "\ufffd" in saved["1-A"]["answer"]
    monkeypatch.chdir(tmp_path)
    quiz.export_panel()
    quiz.export_button.click()
    assert quiz.export_result is not None and "another answer" in quiz.export_result.read_text()
    assert "Written to" in quiz.export_output.value


def test_the_header_never_says_saved_while_a_change_is_not(quiz, monkeypatch):
    quiz.header()

    def broken(conn, rows, *args, **kwargs):
        raise RuntimeError("something nobody foresaw")
    monkeypatch.setattr(answerdb, "append", broken)
    quiz.view("1-A").input.value = "typed"      # never raises into the widget
    assert "saved as you type" not in quiz.save_status.value
    assert "something nobody foresaw" in quiz.save_status.value
    assert "something nobody foresaw" in quiz.view("1-A").save_note.value


# -- 2. a read-only answers folder ---------------------------------------------------------------
def test_a_read_only_folder_shows_the_saved_answers_and_seed(tmp_path, monkeypatch, ctx):
    folder = tmp_path / "ro"
    path = folder / "answers.sqlite3"
    first = AnswerStore(2, path=path)
    seed = first.ensure_seed()
    first.set_student("Ada")
    first.update("1-A", answer="saved before the folder became read-only", kind="open")
    first.close()
    folder.chmod(0o500)
    path.chmod(0o400)
    try:
        with monkeypatch.context() as patch:
            # as root, file modes do not stop SQLite: make opening for writing fail as it would
            refused = sqlite3.OperationalError("attempt to write a readonly database")
            patch.setattr(answerdb, "connect", _raises(refused))
            store = AnswerStore(2, path=path)
            assert store.read_only and store.seed == seed and store.student == "Ada"
            assert store.get("1-A")["answer"] == "saved before the folder became read-only"
            quiz = Quiz(chapter=2, store=store, context=ctx)
            quiz.header()
            assert quiz.seed == seed and quiz.name_widget.value == "Ada"
            assert quiz.view("1-A").input.value == "saved before the folder became read-only"
            status = quiz.save_status.value
            assert "read-only" in status and "MLMCOURSE_ANSWERS_DIR" in status and str(folder) in status
            assert "saved as you type" not in status
            quiz.view("1-B").input.value = "typed while read-only"   # kept in memory, told
            assert "1-B" in store.unsaved
    finally:
        folder.chmod(0o700)
        path.chmod(0o600)
    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "writable"))
    store._fixed_path = False   # as a store made without a path: it follows the variable
    quiz.view("1-C").input.value = "after pointing the variable elsewhere"
    again = AnswerStore(2, path=tmp_path / "writable" / "answers.sqlite3")
    assert again.seed == seed and again.student == "Ada"
    assert again.get("1-A")["answer"] == "saved before the folder became read-only"
    assert again.get("1-B")["answer"] == "typed while read-only"


def _raises(exc):
    def f(*args, **kwargs):
        raise exc
    return f


# -- 3. banks ---------------------------------------------------------------------------------
def _bank_text() -> str:
    return bank_path(2).read_text(encoding="utf-8")


def test_a_duplicate_key_is_refused(tmp_path):
    text = _bank_text().replace("    answer: b64:Mg==\n", "    answer: b64:Mg==\n    answer: 1\n", 1)
    p = tmp_path / "bank.yml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(CourseError, match=r"bank\.yml.*'answer' twice.*lines \d+ and \d+.*1-B\.mc"):
        load_bank(p)


def test_a_latin1_bank_gets_a_clear_message(tmp_path):
    p = tmp_path / "bank.yml"
    p.write_bytes(_bank_text().replace("Self-assessment", "Auto-\u00e9valuation").encode("latin-1"))
    with pytest.raises(CourseError, match=r"bank\.yml is not UTF-8.*line \d+.*save it as UTF-8"):
        load_bank(p)


def test_the_bank_is_checked_against_one_json_schema():
    import jsonschema

    from mlmcourse.quiz import bank
    schema = bank.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    raw = bank.decoded_raw(bank_path(2))
    jsonschema.Draft202012Validator(schema).validate(raw)   # the packaged bank is valid


@pytest.mark.parametrize("mutate,pattern", [
    (lambda q: q.update(tolerance=-1), r"'L-1' in bank\.yml: 'tolerance' is -1.*number >= 0"),
    (lambda q: q.update(kind="essay"), r"'L-1' in bank\.yml: 'kind' is 'essay'.*open, choice, numeric"),
    (lambda q: q.update(extra="x"), r"'L-1' in bank\.yml: unknown field 'extra'"),
])
def test_schema_errors_name_the_file_the_question_and_the_fix(tmp_path, mutate, pattern):
    raw = yaml.safe_load(_bank_text())
    q = next(q for s in raw["sections"] for q in s["questions"] if q["id"] == "L-1")
    mutate(q)
    p = tmp_path / "bank.yml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    with pytest.raises(CourseError, match=pattern):
        load_bank(p)


# -- 4. numbers that are not numbers -------------------------------------------------------------
@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e999", "Infinity", "NaN%", "1e999%"])
def test_non_finite_input_is_not_a_number(text):
    with pytest.raises(CourseError, match="not a number"):
        parse_number(text)


def test_non_numbers_never_count_as_tries(quiz):
    v = quiz.view("L-1")
    for text in ("nan", "inf", "1e999", "nan"):
        v.input.value = text
        v.check_button.click()
        assert "not a number" in v.feedback.value
    assert v.wrong_tries == 0
    v.input.value = "0.5"
    v.check_button.click()
    assert "2 more tries" in v.feedback.value   # the first real try


@pytest.mark.parametrize("text", ["1,123", "-2,500", "1,000%"])
def test_a_comma_before_three_digits_is_ambiguous_and_refused(text):
    """'1,123' may be 1123 (a thousands separator) or 1.123 (a decimal comma): asked, never guessed."""
    with pytest.raises(CourseError, match=r"write .* or .*") as info:
        parse_number(text)
    assert "not a number" not in str(info.value)   # (grading counts 'not a number' as a wrong answer)


@pytest.mark.parametrize("text,value", [("0,091", 0.091), ("1,12", 1.12), ("1,1234", 1.1234), ("12,5%", 0.125)])
def test_a_decimal_comma_is_still_read(text, value):
    assert parse_number(text) == pytest.approx(value)


def test_an_ambiguous_number_is_not_a_try(quiz):
    v = quiz.view("L-1")
    v.input.value = "0,123"   # a leading zero: a decimal comma, unambiguous
    v.check_button.click()
    assert v.wrong_tries == 1
    v.input.value = "1,123"
    v.check_button.click()
    assert "1123 or 1.123" in v.feedback.value and v.wrong_tries == 1


def test_an_edit_clears_correct_and_the_feedback(quiz):
    v = quiz.view("L-1")
    v.input.value = "0.5"
    v.check_button.click()
    assert v.wrong_tries == 1
    v.input.value = "0.0908"
    v.check_button.click()
    assert "Correct" in v.feedback.value
    v.input.value = "999"
    assert "Correct" not in v.feedback.value and v.feedback.value == ""
    saved = AnswerStore(2, path=quiz.store.path).data["answers"]["L-1"]
    assert saved["answer"] == "999" and saved["checked"] is False and saved["correct"] is None
    assert v.wrong_tries == 1     # the count of wrong tries stays
    from mlmcourse.quiz.handin import export_answers
    form = export_answers(2, fmt="md", store=quiz.store, bank=quiz.bank,
                          out=quiz.store.path.parent / "form.md").read_text(encoding="utf-8")
    assert "(checked: correct)" not in form


# -- 5. a huge answer, typed key by key ----------------------------------------------------------
def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.iterdir() if p.name.startswith(path.name))


@pytest.fixture
def clock(monkeypatch):
    """The store's clock, in seconds, set by the test: ``clock[0] += 0.1`` is a tenth of a second."""
    now = [1000.0]
    monkeypatch.setattr(store_module, "_clock", lambda: now[0])
    return now


def test_a_burst_of_edits_of_a_huge_answer_is_one_version(tmp_path, clock):
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    text = "x" * 1_000_000
    store.update("1-A", answer=text, kind="open")
    for _ in range(31):                       # 31 keystrokes, 0.2 s apart: one burst
        clock[0] += 0.2
        text += "y"
        store.update("1-A", answer=text, kind="open")
    assert _db_answers(path, "1-A")[-1] == text
    store.close()
    assert len(_db_answers(path, "1-A")) <= 2
    assert _size(path) < 3_000_000            # was 32.6 MB: one full copy per keystroke


def test_versions_older_than_a_burst_are_all_kept(tmp_path, clock):
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    for text in ["a", "ab", "abc"]:           # a pause between each: three versions
        store.update("1-A", answer=text, kind="open")
        clock[0] += store_module.BURST_GAP + 0.1
    for text in ["abcd", "abcde", "abcdef"]:  # one burst: only its last
        store.update("1-A", answer=text, kind="open")
        clock[0] += 0.3
    assert _db_answers(path, "1-A") == ["a", "ab", "abc", "abcdef"]


def test_a_burst_never_drops_a_text_it_deletes(tmp_path, clock):
    """Select all + delete inside a burst keeps the text it removed as a version of its own."""
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    long = "a long answer written with care " * 20
    store.update("1-A", answer=long[:-1], kind="open")
    clock[0] += 0.2
    store.update("1-A", answer=long, kind="open")
    clock[0] += 0.2
    store.update("1-A", answer="", kind="open")
    assert _db_answers(path, "1-A") == [long, ""]


def _typed(store, clock, texts, qid="1-A"):
    for text in texts:                        # key by key, 0.1 s apart: one burst
        store.update(qid, answer=text, kind="open")
        clock[0] += 0.1


def test_holding_backspace_then_typing_keeps_the_text_deleted(tmp_path, clock):
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    text = "The subscript i indexes students, j classrooms, k schools; "
    _typed(store, clock, [text[:n] for n in range(1, len(text) + 1)])
    _typed(store, clock, [text[:n] for n in range(len(text) - 1, -1, -1)])   # Backspace held
    _typed(store, clock, ["o", "oo", "oop", "oops"])
    kept = _db_answers(path, "1-A")
    assert text in kept and kept[-1] == "oops"


def test_pasting_over_an_answer_keeps_the_answer_pasted_over(tmp_path, clock):
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    mine = "my own careful answer to 1-B, written by me"
    _typed(store, clock, [mine[:n] for n in range(1, len(mine) + 1)])
    _typed(store, clock, ["PASTED: something else entirely that is long"])
    assert _db_answers(path, "1-A") == [mine, "PASTED: something else entirely that is long"]


def test_every_text_of_a_burst_survives_in_a_kept_version(tmp_path, clock):
    """Random edits (typing, deleting, pasting anywhere), one burst: every text the answer ever
    had is in a kept version (its characters, in order), so nothing typed can be lost."""
    import random
    rng = random.Random(7)
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    text, history = "", []
    for _ in range(400):
        i = rng.randint(0, len(text))
        j = min(len(text), i + rng.choice([0, 0, 1, 1, 5, 40]))
        text = text[:i] + rng.choice(["", "a", "bc", "pasted words "]) + text[j:]
        history.append(text)
        store.update("1-A", answer=text, kind="open")
        clock[0] += 0.1
    kept = _db_answers(path, "1-A")

    def within(small, big):
        it = iter(big)
        return all(c in it for c in small)
    assert kept[-1] == text
    assert all(any(within(h, k) for k in kept) for h in history)
    assert len(kept) < len(history) / 2        # still a burst: far fewer rows than edits


def test_backspace_in_a_huge_answer_stays_small(tmp_path, clock):
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    text = "x" * 1_000_000
    store.update("1-A", answer=text, kind="open")
    for _ in range(31):                       # 31 Backspaces, 0.2 s apart
        clock[0] += 0.2
        text = text[:-1]
        store.update("1-A", answer=text, kind="open")
    store.close()
    assert _db_answers(path, "1-A")[-1] == text and len(_db_answers(path, "1-A")) <= 2
    assert _size(path) < 4_000_000            # two copies and the pages freed by the updates (not 32 MB)


def test_a_long_burst_still_keeps_a_version_every_half_minute(tmp_path, clock):
    path = tmp_path / "answers.sqlite3"
    store = AnswerStore(2, path=path)
    text = ""
    for _ in range(600):                      # two minutes of typing without a pause
        text += "z"
        store.update("1-A", answer=text, kind="open")
        clock[0] += 0.2
    kept = _db_answers(path, "1-A")
    assert kept[-1] == text and 4 <= len(kept) <= 6


def test_a_checked_answer_stays_a_version_of_its_own(quiz, clock):
    v = quiz.view("1-C")
    v.input.value = "my answer"
    clock[0] += 0.2
    v.check_button.click()
    for text in ("my answer, edited", "my answer, edited again"):   # typed right after Check
        clock[0] += 0.2
        v.input.value = text
    conn = sqlite3.connect(f"{quiz.store.path.as_uri()}?mode=ro", uri=True)
    versions = answerdb.versions(conn, 2, "1-C")
    conn.close()
    assert [(v["answer"], v["checked"]) for v in versions] == [
        ("my answer", False), ("my answer", True), ("my answer, edited again", False)]   # the check is kept


def test_another_kernels_version_is_never_replaced(tmp_path, clock):
    path = tmp_path / "answers.sqlite3"
    one, two = AnswerStore(2, path=path), AnswerStore(2, path=path)
    one.update("1-A", answer="one 1", kind="open")
    two.update("1-A", answer="two 1", kind="open")
    one.update("1-A", answer="one 12", kind="open")   # its burst row is no longer the latest
    assert _db_answers(path, "1-A") == ["one 1", "two 1", "one 12"]


READER = """
import sys, types
sys.path[:0] = [{site!r}]
for name, sub in (("mlmcourse", ""), ("mlmcourse.quiz", "quiz")):
    module = types.ModuleType(name)
    module.__path__ = [{package!r} + ("/" + sub if sub else "")]
    sys.modules[name] = module
from pathlib import Path
from mlmcourse.quiz.store import AnswerStore
store = AnswerStore(2, path=Path(sys.argv[1]))
store.update("1-B", answer="typed while read-only", kind="open")
print(store.read_only, store.seed, store.student, store.get("1-A").get("answer"), sorted(store.unsaved), sep="|")
"""


def test_a_folder_an_unprivileged_user_cannot_write():
    """The real thing, without patching SQLite: a user who may read the folder but not write it."""
    import shutil
    import subprocess
    import sys
    import tempfile

    import platformdirs
    if (sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("setpriv")
            or not Path("/usr/bin/python3").exists()):
        pytest.skip("needs root (to run as another user), setpriv and /usr/bin/python3")
    folder = Path(tempfile.mkdtemp(prefix="mlm-ro-"))  # pytest's tmp_path is closed to other users
    try:
        first = AnswerStore(2, path=folder / "answers.sqlite3")
        seed = first.ensure_seed()
        first.set_student("Ada")
        first.update("1-A", answer="saved before", kind="open")
        first.close()
        folder.chmod(0o755)
        (folder / "answers.sqlite3").chmod(0o644)     # readable by all, writable by its owner only
        code = READER.format(site=str(Path(platformdirs.__file__).parent.parent),
                             package=str(Path(__file__).resolve().parents[2] / "mlmcourse"))
        out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3",
                              "-S", "-c", code, str(folder / "answers.sqlite3")], capture_output=True, text=True,
                             timeout=60, env={"HOME": str(folder), "PATH": os.environ.get("PATH", "")})
        if out.returncode != 0 and "Permission denied" in out.stderr:
            pytest.skip("the course folder cannot be read by another user here")
        assert out.stdout.strip() == f"True|{seed}|Ada|saved before|['1-B']", out.stderr
        assert sorted(p.name for p in folder.iterdir()) == ["answers.sqlite3"]   # nothing written there
    finally:
        shutil.rmtree(folder, ignore_errors=True)
