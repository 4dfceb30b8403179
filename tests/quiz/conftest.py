"""The quiz tests' shared fixtures: the student's view, a live context and a quiz with its own answers file."""
from __future__ import annotations

import pytest

from mlmcourse import lecture
from mlmcourse.quiz.live import Context
from mlmcourse.quiz.store import AnswerStore
from mlmcourse.quiz.views import Quiz


@pytest.fixture(autouse=True)
def _student_view():
    """Run each quiz test in the student's view (lecture mode off before and after)."""
    lecture.lecture_mode(False)
    yield
    lecture.lecture_mode(False)


@pytest.fixture
def ctx(dat):
    """Return the live computations on the classroom data (tests/conftest.py's ``dat``)."""
    return Context(data=dat)


@pytest.fixture
def quiz(tmp_path, ctx):
    """Return the chapter-2 quiz saving to a fresh answers file of this test's own."""
    return Quiz(chapter=2, store=AnswerStore(2, path=tmp_path / "answers" / "answers.sqlite3"), context=ctx)
