"""The quiz's checks of one answer, without widgets.

Used by the Check button (:class:`mlmcourse.quiz.views.QuestionView`) and by the instructors'
grading (:mod:`mlmcourse.quiz.grade`), so that a hand-in is graded exactly as the live quiz checked
it.
"""
from __future__ import annotations

import math

from ..errors import CourseError
from .bank import Question


def parse_number(text: str) -> float:
    """Read a student's number: '0.091', ' 0,091 ', '1e-3', '9.1%' (-> 0.091).

    A comma followed by exactly three digits ('1,123': 1123 or 1.123?) is refused with a CourseError
    saying how to write it.
    """
    t = (text or "").strip().replace(" ", "")
    if not t:
        raise CourseError("Type a number first, then press Check.")
    percent = t.endswith("%")
    if percent:
        t = t[:-1]
    if t.count(",") == 1 and "." not in t:
        whole, _, digits = t.partition(",")
        if len(digits) == 3 and digits.isdigit() and whole.lstrip("+-").isdigit() and whole.lstrip("+-") != "0":
            # a thousands separator or a decimal comma: asked, never guessed (and not a try)
            sign = "-" if whole.startswith("-") else ""
            number, pct = whole.lstrip("+-"), "%" if percent else ""
            raise CourseError(f"'{text.strip()}' can be read two ways: write {sign}{number}{digits}{pct} or "
                              f"{sign}{number}.{digits}{pct} (a point for decimals, no separator for thousands).")
        t = t.replace(",", ".")
    try:
        value = float(t)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # nan, inf and 1e999 are refused, never counted as a wrong try
        raise CourseError(f"'{text.strip()}' is not a number. Type digits only, e.g. 0.123 or 42.")
    return value / 100 if percent else value


def check_choice(q: Question, answer) -> dict:
    """Check a choice (the index of the picked option, from 0) against the bank's key."""
    if answer is None:
        raise CourseError("Pick one of the choices first, then press Check.")
    idx = int(answer)
    return {"status": "ok" if idx == q.answer else "bad", "correct": idx == q.answer, "choice": idx}


def check_numeric(q: Question, text, value) -> dict:
    """Check a typed number against the expected one, within the question's tolerance.

    ``value(name)`` gives the live values (the student's context: their seed's data and fits). A
    wrong answer is compared with the bank's recognised slips; ``mistake_index`` is the first
    that matches (``mistake`` its message, unfilled).
    """
    number = parse_number(str(text))
    target = value(q.answer_expr) if q.answer_expr else q.answer
    correct = q.tolerance.accepts(number, float(target))
    result = {"status": "ok" if correct else "bad", "correct": correct, "value": number,
              "target": float(target), "mistake": None, "mistake_index": None}
    if not correct:
        for i, m in enumerate(q.mistakes):
            mv = value(m.expr) if m.expr else m.value
            if (m.tolerance or q.tolerance).accepts(number, float(mv)):
                result["mistake"], result["mistake_index"] = m.message, i
                break
    return result
