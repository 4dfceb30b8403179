"""What a check says, as a pure function of (question, result, mode): each kind of question in each
mode, called directly, with lecture mode's global state set to the opposite to show it is not read."""
from __future__ import annotations

import dataclasses

import pytest

from mlmcourse import lecture
from mlmcourse.lecture import Mode
from mlmcourse.quiz.bank import load_bank
from mlmcourse.quiz.feedback import TRIES_BEFORE_SOLUTION, feedback_html

STUDENT = Mode()
HIDDEN = Mode(lecture=True)
REVEALED = Mode(lecture=True, revealed=True)


@pytest.fixture(scope="module")
def bank():
    return load_bank(chapter=2)


@pytest.fixture
def open_q(bank):
    return dataclasses.replace(bank.question("1-A"), model_answer="**i** is a student.",
                               key_points=["i = student", "k = school"])


@pytest.fixture
def choice_q(bank):
    return dataclasses.replace(bank.question("1-B.mc"), explanation="The shared school effect.",
                               choice_feedback=["Different schools share nothing.", "Right: they share it."])


@pytest.fixture
def numeric_q(bank):
    return dataclasses.replace(bank.question("L-1"), explanation="ICC = 109.2 / (109.2 + 1094) = 0.0908.")


@pytest.fixture(autouse=True)
def _global_mode_is_the_opposite(request):
    """Lecture mode's global state says the opposite of the mode passed in: feedback must not read it."""
    mode = next((m for m in (request.node.callspec.params.values() if hasattr(request.node, "callspec") else [])
                 if isinstance(m, Mode)), STUDENT)
    lecture.lecture_mode(not mode.lecture)
    if not mode.lecture:
        lecture.reveal_solutions(False)
    yield
    lecture.lecture_mode(False)


def _numeric(value, correct, tries, target=0.0908, mistake=None):
    return {"status": "ok" if correct else "bad", "correct": correct, "value": value, "target": target,
            "mistake": mistake, "wrong_tries": tries}


def test_no_check_no_feedback(open_q):
    assert feedback_html(open_q, None, STUDENT) == ""


@pytest.mark.parametrize("mode", [STUDENT, HIDDEN, REVEALED])
def test_a_failed_check_says_why_in_every_mode(open_q, mode):
    html = feedback_html(open_q, {"status": "error", "message": "Write your own answer first."}, mode)
    assert "mlm-fb-bad" in html and "Write your own answer first." in html and "Model answer" not in html


@pytest.mark.parametrize("mode", [STUDENT, REVEALED])
def test_open_answer_shows_the_model_answer_and_key_points(open_q, mode):
    html = feedback_html(open_q, {"status": "open", "correct": None, "wrong_tries": 0}, mode)
    assert "mlm-fb-info" in html and "Model answer" in html and "<b>i</b> is a student." in html
    assert "Key points" in html and "<li>k = school</li>" in html


def test_open_answer_in_a_lecture_waits_for_the_reveal(open_q):
    html = feedback_html(open_q, {"status": "open", "correct": None, "wrong_tries": 0}, HIDDEN)
    assert "mlm-fb-hidden" in html and "Your answer is saved" in html
    assert "Model answer" not in html and "is a student" not in html and "k = school" not in html


@pytest.mark.parametrize("mode", [STUDENT, REVEALED])
def test_choice_right_and_wrong_with_their_feedback_and_explanation(choice_q, mode):
    right = feedback_html(choice_q, {"status": "ok", "correct": True, "choice": 1, "wrong_tries": 0}, mode)
    assert "mlm-fb-ok" in right and "Correct." in right and "Right: they share it." in right
    assert "The shared school effect." in right
    wrong = feedback_html(choice_q, {"status": "bad", "correct": False, "choice": 0, "wrong_tries": 1}, mode)
    assert "mlm-fb-bad" in wrong and "Not quite." in wrong and "Different schools share nothing." in wrong
    assert "The shared school effect." in wrong     # a choice's explanation is not withheld


def test_choice_in_a_lecture_says_right_or_not_and_nothing_more(choice_q):
    html = feedback_html(choice_q, {"status": "bad", "correct": False, "choice": 0, "wrong_tries": 1}, HIDDEN)
    assert "Not quite." in html and "instructor reveals" in html
    assert "share nothing" not in html and "shared school effect" not in html


def test_numeric_wrong_withholds_the_value_until_enough_tries(numeric_q):
    for tries in range(1, TRIES_BEFORE_SOLUTION):
        html = feedback_html(numeric_q, _numeric(0.5, False, tries), STUDENT)
        left = TRIES_BEFORE_SOLUTION - tries
        assert "Not quite." in html and "You entered 0.5: not the course's value" in html
        assert f"{left} more {'try' if left == 1 else 'tries'}" in html
        assert "0.0908" not in html and "ICC =" not in html
    html = feedback_html(numeric_q, _numeric(0.5, False, TRIES_BEFORE_SOLUTION), STUDENT)
    assert "the course's fit gives 0.0908 (within ±0.002 counts as right)" in html and "ICC =" in html


def test_numeric_slip_is_named_even_while_the_value_is_withheld(numeric_q):
    html = feedback_html(numeric_q, _numeric(0.24, False, 1, mistake="You divided the standard deviations."),
                         STUDENT)
    assert "You divided the standard deviations." in html and "0.0908" not in html


def test_numeric_right_shows_the_explanation(numeric_q):
    html = feedback_html(numeric_q, _numeric(0.091, True, 0), STUDENT)
    assert "mlm-fb-ok" in html and "Correct." in html and "ICC =" in html and "fit gives" not in html


def test_numeric_in_a_lecture_hidden_then_shown_at_once_when_revealed(numeric_q):
    hidden = feedback_html(numeric_q, _numeric(0.5, False, 1), HIDDEN)
    assert "Not quite." in hidden and "0.0908" not in hidden and "instructor reveals" in hidden
    assert "more tries" not in hidden
    revealed = feedback_html(numeric_q, _numeric(0.5, False, 1), REVEALED)  # no waiting for tries in class
    assert "the course's fit gives 0.0908" in revealed and "ICC =" in revealed


@pytest.mark.parametrize("mode", [STUDENT, HIDDEN])
def test_a_failed_save_is_said_after_the_feedback(numeric_q, mode):
    result = {**_numeric(0.091, True, 0), "save_error": "The answers file is read-only."}
    html = feedback_html(numeric_q, result, mode)
    assert html.index("Correct.") < html.index("The answers file is read-only.")


def test_the_same_arguments_give_the_same_html_whatever_the_global_state(open_q, numeric_q):
    result = _numeric(0.5, False, 1)
    before = feedback_html(numeric_q, result, HIDDEN), feedback_html(open_q, {"status": "open"}, STUDENT)
    lecture.lecture_mode(True)
    lecture.reveal_solutions(True)
    assert (feedback_html(numeric_q, result, HIDDEN), feedback_html(open_q, {"status": "open"}, STUDENT)) == before
    assert result == _numeric(0.5, False, 1)   # the result is not changed either
