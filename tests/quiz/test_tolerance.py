"""A relative tolerance ("1%" in the bank) stays relative, an absolute one stays absolute.

Each check picks a target where the two readings disagree: within 1% of a large number but far
more than 0.01 away from it; within 0.01 of a small number but far more than 1% away from it.
Making either reading the other one (in the bank's parser or in the check) fails a test here.
"""
from __future__ import annotations

import pytest

from mlmcourse.quiz.bank import load_bank
from mlmcourse.quiz.checking import check_numeric


@pytest.fixture(scope="module")
def bank():
    """Read the packaged chapter 2 question bank once."""
    return load_bank(chapter=2)


def checked(question, answer: str, target: float) -> dict:
    """Check ``answer`` against ``target``; every recognised slip is set far away (never matches)."""
    values = {m.expr: 1e9 for m in question.mistakes if m.expr}
    values[question.answer_expr] = target
    return check_numeric(question, answer, values.__getitem__)


def test_the_bank_reads_a_percentage_as_relative(bank):
    """Read "1%" as a relative tolerance of 0.01 and a plain number as absolute."""
    tol = bank.question("T-2").tolerance
    assert (tol.relative, tol.value) == (True, 0.01)
    assert bank.question("L-1").tolerance.relative is False


@pytest.mark.parametrize(("answer", "target", "correct"), [
    ("1009", 1000.0, True),       # 0.9% off: within 1%, though 9 away (an absolute 0.01 refuses it)
    ("1011", 1000.0, False),      # 1.1% off
    ("0.0125", 0.0123, False),    # 0.0002 away (an absolute 0.01 accepts it), yet 1.6% off
    ("0.01231", 0.0123, True),    # 0.08% off
])
def test_relative_tolerance_scales_with_the_target(bank, answer, target, correct):
    """Accept within 1% of the target, whatever its size."""
    result = checked(bank.question("T-2"), answer, target)
    assert result["correct"] is correct, result


@pytest.mark.parametrize(("answer", "target", "correct"), [
    ("1000.0015", 1000.0, True),  # within the absolute 0.002
    ("1001", 1000.0, False),      # 0.1% off (a relative 0.2% accepts it), yet 1 away
    ("0.0015", 0.0001, True),     # 0.0014 away: within 0.002 though 15 times the target
])
def test_absolute_tolerance_does_not_scale(bank, answer, target, correct):
    """Accept within 0.002 of the target, whatever its size."""
    result = checked(bank.question("L-1"), answer, target)
    assert result["correct"] is correct, result


def test_a_slips_relative_tolerance_is_relative_too(bank):
    """Recognise a slip within its own 1%: T-2's slips carry "1%" as well."""
    q = bank.question("T-2")
    slip = q.mistakes[0]
    values = {m.expr: 1e9 for m in q.mistakes if m.expr}
    values[q.answer_expr], values[slip.expr] = 5.0, 1000.0
    result = check_numeric(q, "1009", values.__getitem__)
    assert not result["correct"] and result["mistake_index"] == 0, result
