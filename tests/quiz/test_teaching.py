"""The quiz's questions on testing and reading variance components (issue 16), and where the quiz
sends a student to construct effects by hand."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlmcourse import lecture
from mlmcourse.quiz.bank import load_bank
from mlmcourse.quiz.live import Context
from mlmcourse.quiz.store import AnswerStore
from mlmcourse.quiz.views import Quiz

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((ROOT / "tests" / "reference" / "quiz_reference.json").read_text())


@pytest.fixture(scope="module")
def data():
    from mlmcourse import load_classroom
    return load_classroom()


@pytest.fixture(autouse=True)
def _student_view():
    lecture.lecture_mode(False)
    yield
    lecture.lecture_mode(False)


def test_the_tests_section_asks_each_of_the_four_things():
    bank = load_bank(chapter=2)
    section = bank.section("tests")
    prompts = {q.id: q.prompt for q in section.questions}
    assert set(prompts) == {"T-1", "T-2", "T-3", "T-4"}
    assert "fixed effects" in bank.question("T-1").choices[bank.question("T-1").answer]  # REML vs ML
    assert "50:50 mixture" in prompts["T-2"]
    assert bank.question("T-2").answer_expr == "p_boundary_class_mathgain_mathkind"
    assert "`(1 | schoolid)`" in prompts["T-3"]                                          # ranova's rows
    assert "0.000 to 10.719" in prompts["T-4"]                                          # touches zero


def test_the_interval_question_prints_lme4s_numbers():
    """T-4 stands on numbers it prints: they are lme4's confint() (tests/reference), as printed."""
    printed = REFERENCE["printed"]
    prompt = " ".join(load_bank(chapter=2).question("T-4").prompt.split())
    assert printed["ci_sd_class_mathkind_ses_lower"] == pytest.approx(0, abs=5e-4)
    for key, shown in [("ci_sd_class_mathkind_ses_upper", "{:.3f}"), ("ci_sd_school_mathkind_ses_lower", "{:.3f}"),
                       ("ci_sd_school_mathkind_ses_upper", "{:.3f}"), ("sd_class_mathkind_ses", "{:.2f}")]:
        assert shown.format(printed[key]) in prompt, key
    assert "0.000 to" in prompt


def test_the_boundary_p_value_is_half_the_printed_one():
    real = REFERENCE["real"]
    assert real["p_boundary_class_mathgain_mathkind"] == pytest.approx(real["p_class_mathgain_mathkind"] / 2, rel=1e-9)


@pytest.mark.slow
def test_the_boundary_question_is_checked_with_its_slips(tmp_path, data):
    quiz = Quiz(chapter=2, store=AnswerStore(2, path=tmp_path / "answers.sqlite3"), context=Context(data=data))
    v = quiz.view("T-2")
    real = REFERENCE["real"]
    v.input.value = f"{real['p_class_mathgain_mathkind']:.3g}"      # ranova's printed p
    v.check_button.click()
    assert "Not quite" in v.feedback.value and "halve it" in v.feedback.value
    v.input.value = f"{real['p_boundary_class_mathgain_mathkind']:.3g}"
    v.check_button.click()
    assert "Correct" in v.feedback.value


def _decoded_texts() -> str:
    bank = load_bank(chapter=2)
    return "\n".join([q.prompt + q.explanation + q.model_answer + " ".join(m.message for m in q.mistakes)
                      for q in bank.questions] + [s.intro for s in bank.sections])


def test_the_quiz_sends_students_to_the_pandas_steps_of_notebook_02_not_a_helper():
    notebook = (ROOT / "notebooks" / "05_quiz.ipynb").read_text()
    for text in (_decoded_texts(), "\n".join("".join(c["source"]) for c in json.loads(notebook)["cells"])):
        assert "nested_mean_residuals" not in text and "mlmcourse.residuals" not in text
    assert 'transform("mean")' in load_bank(chapter=2).question("H-1").explanation


def test_the_h1_recipe_gives_the_expected_answer(data):
    """The code spans of H-1's explanation, run as a student would, give the quiz's answer."""
    import statsmodels.formula.api as smf

    spans = re.findall(r"`([^`]+)`", load_bank(chapter=2).question("H-1").explanation)
    steps = [s for s in spans if "(" in s and ("groupby" in s or "smf.ols" in s)]
    assert len(steps) == 3
    scope = {"smf": smf, "dat": data}
    for step in steps[:-1]:
        exec(step, scope)
    value = eval(steps[-1], scope)
    assert value == pytest.approx(REFERENCE["real"]["sd_class_constructed_mathgain"], rel=1e-9)


def test_every_question_has_a_short_title_for_the_instructors_figure():
    """Notebook 09's lecture figure and report.html label each question with id and title."""
    titles = [q.title for q in load_bank(chapter=2).questions]
    assert all(0 < len(t) <= 40 for t in titles)
    assert len(set(titles)) == len(titles)
