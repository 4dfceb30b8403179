"""mlmcourse.chapter: the chapter's models and their one, bounded fit cache."""
import pandas as pd
import pytest

from mlmcourse import CourseError, chapter
from mlmcourse.explore import classroom as explore_classroom
from mlmcourse.quiz.live import Context


def test_in_sample_is_the_handouts_complete_cases(dat):
    mask = chapter.in_sample(dat)
    assert mask.sum() == 1081 and mask.index.equals(dat.index)


def test_a_fit_is_made_once_and_follows_the_data_not_the_object(dat, monkeypatch):
    first = chapter.chapter_fit(dat, chapter.RI_MODEL)
    calls = []
    monkeypatch.setattr("mlmcourse.engine.fit.lmer", lambda *a, **k: calls.append(a))
    assert chapter.chapter_fit(dat.copy(), chapter.RI_MODEL) is first      # same contents
    assert chapter.chapter_fit(dat, "mathkind ~ ses + (1|schoolid)") is first   # label or formula
    assert calls == []
    changed = dat.assign(mathkind=dat["mathkind"] + 1)
    chapter.chapter_fit(changed, chapter.RI_MODEL)
    assert len(calls) == 1                                                 # new contents: a new fit


def test_the_quiz_and_the_explorations_share_one_cache(dat):
    quiz_fit = Context(data=dat).fit(chapter.GAIN_BLOCK_IN)
    assert explore_classroom.chapter_fit(dat, chapter.GAIN_BLOCK_IN) is quiz_fit
    assert quiz_fit.nobs == 1081                        # the complete-case label brings its rows


def test_the_cache_is_bounded(dat, monkeypatch):
    monkeypatch.setattr(chapter, "MAX_CACHED_FITS", 3)
    small = dat.iloc[:400]
    for k in range(5):
        chapter.cached(small.assign(x=k), "n", len)
    assert len(chapter._FITS) <= 3


def test_unknown_subset_and_other_data_are_refused(dat):
    with pytest.raises(CourseError, match="subset"):
        chapter.chapter_fit(dat, "mathgain ~ 1 + (1|schoolid)", subset="everything")
    with pytest.raises(CourseError, match="its own rows"):
        chapter.chapter_fit(dat, chapter.GAIN_SCHOOL, subset="in_sample")
    with pytest.raises(CourseError, match="DataFrame"):
        chapter.data_key([1, 2, 3])
    assert isinstance(chapter.chapter_fit(dat, chapter.OLS_MODEL).coef, pd.Series)
