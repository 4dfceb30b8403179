"""The chapter-2 quiz: the bank, its validation, the widgets driven from Python, lecture mode."""
from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from mlmcourse import lecture
from mlmcourse.errors import CourseError
from mlmcourse.quiz import answerdb
from mlmcourse.quiz.bank import bank_path, decode_text, encode_text, load_bank
from mlmcourse.quiz.checking import parse_number
from mlmcourse.quiz.live import COMPUTATIONS, Context
from mlmcourse.quiz.markup import render
from mlmcourse.quiz.store import AnswerStore
from mlmcourse.quiz.views import Quiz

HANDOUT_IDS = ["1-A", "1-B", "1-C", "1-D", "1-E", "2-A", "2-B", "2-C"]


@pytest.fixture
def ctx(dat):
    """Live data computations; the model-based values preset, so these tests need no fit."""
    c = Context(data=dat)
    c._values.update({"icc_school_mathgain": 0.0908, "sd_ratio_mathgain": 0.2401,
                      "var_ratio_mathgain": 0.0998, "var_school_mathgain": 109.24,
                      "var_resid_mathgain": 1094.0})
    return c


def _raw():
    return yaml.safe_load(bank_path(2).read_text())


def _write(tmp_path, raw) -> Path:
    p = tmp_path / "bank.yml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return p


# -- the bank ----------------------------------------------------------------------------
def test_bank_has_every_handout_question_with_a_model_answer():
    bank = load_bank(chapter=2)
    ids = [q.id for q in bank.questions]
    for qid in HANDOUT_IDS:
        q = bank.question(qid)
        assert q.kind == "open" and len(q.model_answer) > 100 and q.key_points
    assert ids[:1] == ["1-A"]
    auto = [q for q in bank.questions if q.auto]
    assert any(q.kind == "choice" for q in auto) and any(q.kind == "numeric" for q in auto)
    assert {s.id for s in bank.sections} >= {"self-assessment", "levels", "lab-quiz", "homework"}
    assert bank.form == "W2 Activity Form"


def test_live_numeric_questions_name_registered_computations():
    bank = load_bank(chapter=2)
    live = {q.answer_expr for q in bank.questions if q.answer_expr}
    assert {"n_schools", "icc_school_mathgain", "icc_school_mathkind_minority", "var_class_mathgain_mathkind",
            "lrt_slope_ses", "sd_class_constructed_mathgain", "boot_icc_mathkind_ses", "boot_n_complete",
            "boot_lrt_mathknow", "sim_var_school", "sim_sd_school_mean_resid"} <= live
    assert live <= set(COMPUTATIONS)
    # the answers the chapter notebooks print (handout numbers) are no longer asked for
    assert not live & {"var_class_mathkind_ses", "lrt_class_mathgain", "sd_school_mean_resid",
                       "icc_school_mathkind_ses", "n_in_sample", "lrt_block_ses_mathknow"}
    # every question on the student's own data says so, and only those
    for q in bank.questions:
        assert bool(q.variant) == bool(q.answer_expr and COMPUTATIONS[q.answer_expr].seeded), q.id


def test_1_d_does_not_give_its_own_answer():
    bank = load_bank(chapter=2)
    for qid in ("1-D", "1-D.n"):
        prompt = bank.question(qid).prompt.lower()
        assert "one per school" not in prompt and "per school" not in prompt, qid


def test_model_answers_are_not_readable_in_the_file():
    text = bank_path(2).read_text()
    bank = load_bank(chapter=2)
    for q in bank.questions:
        for secret in [q.model_answer, q.explanation, *q.key_points]:
            for line in (secret or "").splitlines():
                if len(line.strip()) > 25:
                    assert line.strip() not in text, (q.id, line)
    assert "b64:" in text


def test_encode_decode_roundtrip_cli(tmp_path, capsys):
    raw = _raw()
    plain = copy.deepcopy(raw)
    from mlmcourse.quiz.bank import _map_secrets
    _map_secrets(plain, lambda v: decode_text(v))
    plain["sections"][0]["questions"][0]["model_answer"] = "A brand new plain model answer."
    p = _write(tmp_path, plain)
    from mlmcourse.__main__ import main as course_main

    def main(argv):
        return course_main(["quiz", *argv])
    assert main(["encode", str(p)]) == 0
    assert "A brand new plain model answer." not in p.read_text()
    assert load_bank(p).question("1-A").model_answer == "A brand new plain model answer."
    capsys.readouterr()
    assert main(["decode", str(p)]) == 0
    assert "A brand new plain model answer." in capsys.readouterr().out
    assert main(["check", str(p)]) == 0
    assert "27 questions, valid" in capsys.readouterr().out
    p.write_text(p.read_text().replace("kind: numeric", "kind: number", 1))
    assert main(["check", str(p)]) == 2
    assert "'kind' is 'number'" in capsys.readouterr().err
    assert decode_text(encode_text("ü $\\zeta_k$")) == "ü $\\zeta_k$"


def _q(raw, qid):
    for s in raw["sections"]:
        for q in s["questions"]:
            if q["id"] == qid:
                return q
    raise KeyError(qid)


MALFORMED = [
    ("no prompt", "1-A", lambda q: q.pop("prompt"), "'1-A'.*prompt"),
    ("unknown kind", "1-B", lambda q: q.update(kind="essay"), "'1-B'.*kind.*essay"),
    ("open without model answer", "1-C", lambda q: q.pop("model_answer"), "'1-C'.*model_answer"),
    ("unknown computation", "L-1", lambda q: q.update(answer_expr="icc_typo"), "'L-1'.*icc_typo"),
    ("answer and answer_expr", "L-1", lambda q: q.update(answer=0.1), "'L-1'.*exactly one"),
    ("no tolerance", "L-2", lambda q: q.pop("tolerance"), "'L-2'.*tolerance"),
    ("bad tolerance", "L-2", lambda q: q.update(tolerance="about"), "'L-2'.*tolerance.*about"),
    ("choice out of range", "1-B.mc", lambda q: q.update(answer=9), "'1-B.mc'.*numbered 1 to 4"),
    ("one choice", "2-A.mc", lambda q: q.update(choices=["only"]), "'2-A.mc'.*two 'choices'"),
    ("misspelt field", "1-D", lambda q: q.update(modle_answer="x"), "'1-D'.*modle_answer"),
    ("damaged encoding", "1-E", lambda q: q.update(model_answer="b64:@@@not base64"), "'1-E'.*damaged"),
    ("unknown placeholder", "H-1", lambda q: q.update(prompt="SD of [[nope:.2f]]"), "'H-1'.*nope"),
    ("mistake without message", "L-3", lambda q: q["mistakes"][0].pop("message"), "'L-3'.*mistake 1"),
    ("seeded answer, no variant", "L-5", lambda q: q.pop("variant"), "'L-5'.*own data.*variant: bootstrap"),
    ("variant on the real data", "L-2", lambda q: q.update(variant="bootstrap"), "'L-2'.*must not say"),
    ("unknown variant", "H-2", lambda q: q.update(variant="mine"), "'H-2'.*'variant' is 'mine'"),
    ("seeded value in a prompt", "L-6", lambda q: q.update(prompt="sigma is [[sim_sigma_zeta]]"),
     "'L-6'.*depends on the student's seed"),
]


@pytest.mark.parametrize("what,qid,mutate,pattern", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_question_names_the_question_and_the_problem(tmp_path, what, qid, mutate, pattern):
    raw = _raw()
    mutate(_q(raw, qid))
    with pytest.raises(CourseError, match=pattern):
        load_bank(_write(tmp_path, raw))


def test_duplicate_id_and_bad_yaml(tmp_path):
    raw = _raw()
    _q(raw, "1-C")["id"] = "1-B"
    with pytest.raises(CourseError, match=r"'1-B'.*used twice"):
        load_bank(_write(tmp_path, raw))
    bad = tmp_path / "bad.yml"
    bad.write_text("chapter: 2\nsections:\n  - id: x\n   questions: [\n")
    with pytest.raises(CourseError, match="not valid YAML near line"):
        load_bank(bad)


# -- small helpers -----------------------------------------------------------------------
def test_parse_number_and_render():
    assert parse_number(" 0,091 ") == pytest.approx(0.091)
    assert parse_number("9.1%") == pytest.approx(0.091)
    with pytest.raises(CourseError, match="not a number"):
        parse_number("about 7")
    html = render("Use `icc(m)` and the **Variance** column, *not* Std.Dev.: $a < b$\n\nNext")
    assert "<code>icc(m)</code>" in html and "<b>Variance</b>" in html and "<i>not</i>" in html
    assert "$a &lt; b$" in html and html.count("<p>") == 2


# -- widgets -----------------------------------------------------------------------------
def _saved(quiz):
    """What is in the database now, read as another kernel would."""
    return AnswerStore(2, path=quiz.store.path).data["answers"]


def test_open_question_check_reveals_model_answer_and_saves(quiz):
    v = quiz.view("1-A")
    v.check()
    assert "Write your own answer first" in v.feedback.value
    v.input.value = "i is a student, j a classroom, k a school"
    assert _saved(quiz)["1-A"]["answer"] == "i is a student, j a classroom, k a school"
    v.check_button.click()
    assert "Model answer" in v.feedback.value
    assert "Key points" in v.feedback.value and quiz.bank.question("1-A").key_points[0] in v.feedback.value
    assert _saved(quiz)["1-A"]["checked"] is True


def test_choice_question_right_and_wrong(quiz):
    v = quiz.view("1-B.mc")
    v.input.value = 0
    v.check_button.click()
    assert "Not quite" in v.feedback.value and "different schools" in v.feedback.value
    assert _saved(quiz)["1-B.mc"]["correct"] is False
    v.input.value = 1
    v.check_button.click()
    assert "Correct" in v.feedback.value
    assert _saved(quiz)["1-B.mc"] == {**_saved(quiz)["1-B.mc"], "answer": 1, "correct": True}


def test_numeric_count_of_estimates_is_computed_from_the_data(quiz, dat):
    n_schools = dat["schoolid"].nunique()
    sizes = dat.groupby("schoolid").size()
    v = quiz.view("1-D.n")
    v.input.value = str(n_schools)
    v.check_button.click()
    fb = v.feedback.value
    assert "Correct" in fb
    # the explanation carries the live counts: schools of two students leave no residual df
    assert f"{(sizes == 2).sum()} schools have only" in fb
    assert f"Only {(sizes >= 3).sum()} schools" in fb
    v.input.value = str(dat["classid"].nunique())
    v.check_button.click()
    assert "Not quite" in v.feedback.value and "number of classrooms" in v.feedback.value
    w = quiz.view("1-D.df")
    w.input.value = str((sizes >= 3).sum())
    w.check_button.click()
    assert "Correct" in w.feedback.value


def test_numeric_live_answer_tolerance_and_mistake_feedback(quiz):
    v = quiz.view("L-1")
    v.input.value = "0.091"
    v.check_button.click()
    assert "Correct" in v.feedback.value and "0.091" in v.feedback.value
    v.input.value = "0.240"   # divided the standard deviations
    v.check_button.click()
    assert "Not quite" in v.feedback.value and "standard deviations" in v.feedback.value
    assert "0.0908" not in v.feedback.value and "2 more tries" in v.feedback.value  # worked, not read off
    v.input.value = "0.5"
    v.check_button.click()
    assert "Not quite" in v.feedback.value and "standard deviations" not in v.feedback.value
    assert "0.0908" not in v.feedback.value and "1 more try" in v.feedback.value
    v.input.value = "0.6"
    v.check_button.click()
    assert "0.0908" in v.feedback.value  # the live value, after three wrong tries
    v.input.value = "zero point one"
    v.check_button.click()
    assert "is not a number" in v.feedback.value
    saved = _saved(quiz)["L-1"]   # the unreadable try is not recorded as a check; the edit cleared the last one
    assert saved["answer"] == "zero point one" and saved["checked"] is False and saved["correct"] is None


def test_an_unexpected_failure_is_shown_not_swallowed(quiz, monkeypatch):
    def broken(name):
        raise ZeroDivisionError("division by zero")
    monkeypatch.setattr(quiz.context, "value", broken)
    v = quiz.view("L-2")
    v.input.value = "20.4"
    v.check_button.click()
    assert "could not be completed (ZeroDivisionError" in v.feedback.value
    assert quiz.store.get("L-2")["answer"] == "20.4"


def test_answers_restored_in_a_new_session(tmp_path, ctx):
    path = tmp_path / "answers" / "answers.sqlite3"
    q1 = Quiz(chapter=2, store=AnswerStore(2, path=path), context=ctx)
    q1.header()
    q1.name_widget.value = "Ada"
    q1.view("1-C").input.value = "independent school effects"
    q1.view("1-C").check()
    q1.view("2-A.mc").input.value = 1
    q2 = Quiz(chapter=2, store=AnswerStore(2, path=path), context=ctx)
    q2.header()
    assert q2.name_widget.value == "Ada"
    assert q2.view("1-C").input.value == "independent school effects"
    assert "Model answer" in q2.view("1-C").feedback.value  # checked before: feedback shown again
    assert q2.view("2-A.mc").input.value == 1 and q2.view("2-A.mc").feedback.value == ""


def test_section_widgets_and_css_classes(quiz):
    box = quiz.section("self-assessment")
    classes = [c for w in box.children[1:] for c in w._dom_classes]
    assert "mlm-q-1-A" in classes and "mlm-q-1-D_n" in classes
    with pytest.raises(CourseError, match="no section 'nope'"):
        quiz.section("nope")


def test_export_button_writes_the_form(quiz, tmp_path, monkeypatch):
    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "answers"))
    quiz.header()
    quiz.name_widget.value = "Ada Lovelace"
    quiz.view("1-A").input.value = "students in classrooms in schools"
    panel = quiz.export_panel()
    quiz.export_button.click()
    path = quiz.export_result
    assert path.name == "W2-Activity-Form-Ada-Lovelace.md"
    text = path.read_text()
    assert "Ada Lovelace" in text and "students in classrooms in schools" in text
    assert "Written to" in quiz.export_output.value and "download=" in quiz.export_output.value
    quiz.export_format.value = "html"
    quiz.export_button.click()
    assert quiz.export_result.suffix == ".html"
    assert panel is not None
    assert "Hand this file in" in quiz.export_output.value and "may not hold" not in quiz.export_output.value


# -- the student's seed ------------------------------------------------------------------------
def test_the_quiz_has_a_seed_shown_in_the_header_and_used_by_the_checks(quiz, tmp_path, ctx):
    seed = quiz.seed
    assert 10000 <= seed <= 99999 and quiz.store.seed == seed and quiz.context.seed == seed
    quiz.header()
    assert f"seed <b class=\"mlm-seed-value\">{seed}</b>" in quiz.seed_widget.value
    assert "mlm-seed" in quiz.seed_widget._dom_classes
    assert "the run that made this page" not in quiz.seed_widget.value
    mine = quiz.my_data()
    assert mine.equals(ctx.for_seed(seed).variant("bootstrap")) and mine is not quiz.my_data()
    assert quiz.my_data("simulated").columns.tolist() == ["school", "student", "x", "y"]
    with pytest.raises(CourseError, match="no data of kind"):
        quiz.my_data("other")
    # the same student comes back: the same seed; a student of their own: another one
    again = Quiz(chapter=2, store=AnswerStore(2, path=quiz.store.path), context=ctx)
    assert again.seed == seed
    other = Quiz(chapter=2, store=AnswerStore(2, path=tmp_path / "other.sqlite3"), context=ctx)
    assert 10000 <= other.seed <= 99999 and other.context.seed == other.seed


def test_a_seeded_question_is_checked_on_the_students_own_data(quiz):
    v = quiz.view("H-2")
    assert "mlm-your-data" in v.prompt.value and "quiz.my_data()" in v.prompt.value
    expected = quiz.context.value("boot_n_complete")
    v.input.value = str(len(quiz.my_data()))   # every row: the complete cases were not taken
    v.check_button.click()
    assert "Not quite" in v.feedback.value and "Some have no <code>mathknow</code>" in v.feedback.value
    from mlmcourse import complete_cases
    mine = quiz.my_data()
    v.input.value = str(int(complete_cases(mine, "mathgain ~ mathkind + mathknow").sum()))
    v.check_button.click()
    assert "Correct" in v.feedback.value and int(v.input.value) == expected


def test_the_hand_in_holds_the_seed(quiz, tmp_path, monkeypatch):
    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "answers"))
    from mlmcourse.quiz.cli import seed_of_handin
    quiz.view("H-2").input.value = "1000"
    quiz.export_panel()
    quiz.export_button.click()
    md = quiz.export_result.read_text()
    assert f"**Your data:** seed {quiz.seed}" in md
    assert f"python -m mlmcourse quiz answers --seed {quiz.seed}" in md
    assert f"### H-2 (your data, seed {quiz.seed})" in md and "### H-1\n" in md
    assert "312 classroom means" in md and "[[" not in md        # prompts as the quiz shows them
    assert seed_of_handin(quiz.export_result) == quiz.seed
    quiz.export_format.value = "html"
    quiz.export_button.click()
    page = quiz.export_result.read_text()
    assert f'seed <b class="seed">{quiz.seed}</b>' in page and seed_of_handin(quiz.export_result) == quiz.seed


# -- what the quiz says about its answers file ---------------------------------------------
def test_header_says_where_answers_are_kept(quiz):
    quiz.header()
    assert "answers.sqlite3" in quiz.save_status.value and "every version kept" in quiz.save_status.value
    assert quiz.notices.value == ""


def test_header_tells_of_a_damaged_file_set_aside(tmp_path, ctx):
    path = tmp_path / "answers" / "answers.sqlite3"
    path.parent.mkdir()
    path.write_bytes(b"this is not a database" * 100)
    quiz = Quiz(chapter=2, store=AnswerStore(2, path=path), context=ctx)
    quiz.header()
    aside = quiz.store.damaged[0]
    assert "mlm-fb-bad" in quiz.notices.value and "was damaged" in quiz.notices.value
    assert f"<code>{aside}</code>" in quiz.notices.value and aside.exists()
    later = Quiz(chapter=2, store=AnswerStore(2, path=path), context=ctx)   # the next session: said again
    later.header()
    assert "mlm-fb-bad" in later.notices.value and f"<code>{aside}</code>" in later.notices.value
    assert later.dismiss_button.layout.display != "none"
    later.dismiss_button.click()
    assert later.notices.value == "" and later.dismiss_button.layout.display == "none"
    assert not any("set aside" in p for p in later.store.problems()) and AnswerStore(2, path=path).notices == []


def test_header_tells_of_old_answers_moved_in(tmp_path, ctx):
    folder = tmp_path / "answers"
    folder.mkdir()
    (folder / "chapter02.json").write_text(json.dumps({"version": 1, "chapter": 2, "student": "Ada", "answers": {
        "1-C": {"answer": "from the old file", "kind": "open", "checked": False, "correct": None,
                "updated": "2026-10-01T10:00:00+00:00"}}}))
    quiz = Quiz(chapter=2, store=AnswerStore(2, path=folder / "answers.sqlite3"), context=ctx)
    quiz.header()
    assert "mlm-fb-info" in quiz.notices.value and "moved into" in quiz.notices.value
    assert quiz.name_widget.value == "Ada" and quiz.view("1-C").input.value == "from the old file"


def test_a_failed_save_is_shown_and_the_answer_kept_until_it_is_saved(quiz, monkeypatch):
    quiz.header()
    v, w = quiz.view("1-A"), quiz.view("1-B")
    with monkeypatch.context() as patch:
        def full(conn, rows):
            raise sqlite3.OperationalError("database or disk is full")
        patch.setattr(answerdb, "append", full)
        v.input.value = "typed while the disk is full"
        assert v.input.value == "typed while the disk is full"  # stays in the widget
        assert "database or disk is full" in v.save_note.value and "MLMCOURSE_ANSWERS_DIR" in v.save_note.value
        assert v.save_note.value.count("<p>") == 1  # one short paragraph
        assert "database or disk is full" in quiz.save_status.value and w.save_note.value == ""
        v.check_button.click()  # Check says so too, and still shows the model answer
        assert "Model answer" in v.feedback.value and "could not be saved" in v.feedback.value
        quiz.export_panel()
        quiz.export_button.click()  # the hand-in holds the answer, and warns it is not saved
        assert "typed while the disk is full" in quiz.export_result.read_text()
        assert "may not hold all your answers" in quiz.export_output.value
    w.input.value = "the next change"  # retried: everything is saved
    assert v.save_note.value == "" and "every version kept" in quiz.save_status.value
    assert _saved(quiz)["1-A"]["answer"] == "typed while the disk is full"
    assert _saved(quiz)["1-A"]["checked"] is True and _saved(quiz)["1-B"]["answer"] == "the next change"


# -- lecture mode ------------------------------------------------------------------------
def test_lecture_mode_hides_solutions_until_revealed(quiz, monkeypatch):
    from mlmcourse import plots
    plots.set_style()                    # the notebook asked for the course's figure style
    calls, real = [], plots.set_style
    monkeypatch.setattr(plots, "set_style", lambda lecture=None: (calls.append(lecture), real(lecture=lecture)))
    lecture.lecture_mode(True)
    assert calls == [True]               # lecture mode restyles the figures
    quiz.header()
    v = quiz.view("1-B")
    v.input.value = "zeta_k"
    v.check_button.click()
    assert "Model answer" not in v.feedback.value and "instructor reveals" in v.feedback.value
    n = quiz.view("L-1")
    n.input.value = "0.2401"
    n.check_button.click()
    assert "Not quite" in n.feedback.value and "0.0908" not in n.feedback.value
    lecture.reveal_solutions()
    assert "Model answer" in v.feedback.value  # existing feedback updates on reveal
    assert "0.0908" in n.feedback.value
    lecture.lecture_mode(False)
    assert calls == [True, False]
    assert "Model answer" in v.feedback.value


def test_reveal_button_is_the_instructor_control():
    button = lecture.reveal_control()
    assert button.layout.display == "none"  # students never see it
    lecture.lecture_mode(True)
    assert button.layout.display == "" and lecture.solutions_hidden()
    button.value = True
    assert not lecture.solutions_hidden()
    lecture.reveal_solutions(False)
    assert button.value is False


def test_lecture_env_var(monkeypatch):
    import subprocess
    import sys
    for value, expected in [("1", True), ("yes", True), ("0", False), ("", False)]:
        monkeypatch.setenv("MLMCOURSE_LECTURE", value)
        assert lecture._env_on() is expected
    # a fresh kernel started with the variable begins in lecture mode, solutions hidden
    code = "from mlmcourse import lecture; print(lecture.is_lecture(), lecture.solutions_hidden())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**__import__("os").environ, "MLMCOURSE_LECTURE": "1"})
    assert done.stdout.split() == ["True", "True"], done.stderr


# -- live values against lme4 ------------------------------------------------------------
# lme4 1.1 + lmerTest on classroom.csv (see the R lines in each comment); the handout prints most.
LME4 = {
    "n_schools": (107, 0),
    "n_schools_estimable": (105, 0),            # sum(df.residual(lm(mathkind~ses)) per school > 0)
    "n_in_sample": (1081, 0),
    "sd_school_mean_resid": (22.43479, 1e-4),   # sd(tapply(residuals(fit1), schoolid, mean))
    "sd_school_mathkind_ses": (17.57764, 0.01),
    "icc_school_mathkind_ses": (0.1911387, 0.001),
    "icc_school_mathgain": (0.09078713, 0.001),  # VarCorr(lmer(mathgain~(1|schoolid)))
    "var_class_mathkind_ses": (20.43572, 0.2),
    "lrt_class_mathgain": (7.9048, 0.005),
    "lrt_school_row_nested_mathgain": (7.8875, 0.005),
    "lrt_block_ses_mathknow": (3.5921, 0.005),
    "reml_diff_block": (8.614095, 0.01),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LME4))
def test_live_values_match_lme4(name, dat):
    ctx = _shared_context(dat)
    expected, tol = LME4[name]
    assert ctx.value(name) == pytest.approx(expected, abs=tol)


_CTX = {}


def _shared_context(data):
    if "ctx" not in _CTX:
        _CTX["ctx"] = Context(data=data)
    return _CTX["ctx"]


def test_lecture_mode_switches_the_figure_style():
    import matplotlib as mpl

    from mlmcourse import plots
    plots.set_style()
    lecture.lecture_mode(True)
    lecture_width, lecture_font = mpl.rcParams["lines.linewidth"], mpl.rcParams["font.size"]
    lecture.lecture_mode(False)
    assert lecture_width > mpl.rcParams["lines.linewidth"]
    assert lecture_font > mpl.rcParams["font.size"]


def test_sections_have_a_static_rendering_of_their_questions():
    """GitHub, nbviewer or a notebook opened without a kernel show text/html, not the widget."""
    quiz = Quiz(chapter=2)
    bundle = quiz.section("self-assessment")._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "1-A" in bundle["text/plain"] and "VBox" not in bundle["text/plain"]
    assert "What does each subscript" in bundle["text/html"]
    homework = quiz.section("homework")._repr_mimebundle_()["text/plain"]
    assert "312 classroom means" in homework and "[[" not in homework  # live values filled in
    assert "(your data: <code>quiz.my_data()</code>)" in quiz.section("homework")._repr_mimebundle_()["text/html"]
    assert str(quiz.seed) not in quiz.section("lab-quiz")._repr_mimebundle_()["text/html"]  # the same for all


def test_the_static_rendering_lists_every_option_of_a_choice_question():
    """A page without the kernel (web, print) shows each multiple-choice question's options."""
    quiz = Quiz(chapter=2)
    for section, qid in (("self-assessment", "1-B.mc"), ("self-assessment", "1-E.mc"), ("levels", "2-A.mc")):
        bundle = quiz.section(section)._repr_mimebundle_()
        for choice in quiz.bank.question(qid).choices:
            assert render(choice)[3:-4] in bundle["text/html"], (qid, choice)
            assert choice in bundle["text/plain"], (qid, choice)


def test_the_header_has_a_static_rendering_without_the_build_seed(tmp_path, ctx, monkeypatch):
    from mlmcourse.userfiles import PAGE_BUILD_ENV
    monkeypatch.setenv(PAGE_BUILD_ENV, "1")     # as `make execute` sets it for the kernel, before the quiz
    quiz = Quiz(chapter=2, store=AnswerStore(2, path=tmp_path / "answers" / "answers.sqlite3"), context=ctx)
    bundle = quiz.header()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "Your name" in bundle["text/html"] and "a seed of your own" in bundle["text/html"]
    assert str(quiz.seed) not in bundle["text/html"] + bundle["text/plain"]
    assert str(quiz.store.path.parent) not in bundle["text/html"] + bundle["text/plain"]


def test_a_discarded_quiz_is_collected_and_no_longer_called(tmp_path):
    import gc
    import weakref

    from mlmcourse.quiz.store import AnswerStore
    store = AnswerStore(2, path=tmp_path / "answers.sqlite3")
    quiz = Quiz(chapter=2, store=store)
    quiz.header()
    quiz.view("1-A")
    gone = weakref.ref(quiz)
    quiz.close()                           # a widget lives until closed (ipywidgets keeps it till then)
    del quiz
    gc.collect()
    assert gone() is None                  # nothing (atexit, the store, lecture mode) keeps it alive
    lecture.lecture_mode(True)             # its listeners are gone with it: nothing to call
    store.update("1-A", answer="still saved")   # the store (closed with the quiz) reopens
    assert AnswerStore(2, path=tmp_path / "answers.sqlite3").get("1-A")["answer"] == "still saved"


def test_the_committed_page_shows_no_build_seed_or_path(tmp_path, ctx, monkeypatch):
    """`make execute` runs with a throw-away answers folder: the page read on the web shows neither
    that run's seed nor its temporary folder, and says what the reader will see instead."""
    from mlmcourse.tools.execute import STABLE_ENV
    from mlmcourse.userfiles import PAGE_BUILD_ENV

    assert STABLE_ENV[PAGE_BUILD_ENV] == "1"
    monkeypatch.setenv(PAGE_BUILD_ENV, "1")     # set for the kernel, before the quiz is made
    quiz = Quiz(chapter=2, store=AnswerStore(2, path=tmp_path / "answers" / "answers.sqlite3"), context=ctx)
    quiz.header()
    shown = quiz.seed_widget.value + quiz.save_status.value
    assert str(quiz.seed) not in shown and str(quiz.store.path.parent) not in shown
    assert "a seed of your own, made the first time you run this notebook" in quiz.seed_widget.value
    assert "this line names it when you run the notebook" in quiz.save_status.value


def test_the_quiz_is_a_box_built_whole_with_its_static_rendering_in_the_class(quiz):
    """ipywidgets' composite pattern: every part exists once the quiz is made (before header() or
    section() is called), each part is its own box, and the static rendering is the class's, not
    patched onto an instance."""
    import ipywidgets as widgets

    from mlmcourse.quiz.views import QuestionView, QuizHeader, SectionView

    assert isinstance(quiz, widgets.VBox)
    header, *sections, export = quiz.children
    assert isinstance(header, QuizHeader) and header is quiz.header()
    assert [s.section.id for s in sections] == [s.id for s in quiz.bank.sections]
    assert all(isinstance(s, SectionView) for s in sections) and export is quiz.export_panel()
    assert quiz.section("levels") is sections[1] and quiz.name_widget in header.children
    assert quiz.export_button in export.children
    v = quiz.view("1-A")
    assert isinstance(v, QuestionView) and v in sections[0].children
    for part in (quiz, header, *sections):
        assert "_repr_mimebundle_" not in vars(part)
    bundle = quiz._repr_mimebundle_()     # `quiz` alone at the end of a cell: the whole quiz, one output
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == quiz.model_id
    assert "Your name" in bundle["text/html"] and all(s.title in bundle["text/html"] for s in quiz.bank.sections)
    assert "1-A" in bundle["text/plain"] and "Quiz(" not in bundle["text/plain"]


def test_closing_the_quiz_closes_its_widgets_and_its_answers_file(quiz):
    parts = [quiz.header(), quiz.section("levels"), quiz.view("2-A.mc").check_button, quiz.export_button]
    quiz.view("1-A").input.value = "kept"
    quiz.close()
    assert quiz.comm is None and all(p.comm is None for p in parts)
    assert AnswerStore(2, path=quiz.store.path).get("1-A")["answer"] == "kept"
