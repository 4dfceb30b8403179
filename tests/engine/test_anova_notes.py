"""anova()'s notes on comparisons whose test is not valid: lme4's numbers are kept, and a
CourseMessage says why the p-value does not mean what it seems (REML fits with different fixed
effects compared with refit=False; models that are not nested). The handout's comparisons get
no note."""
import warnings

import numpy as np
import pytest

from mlmcourse import complete_cases, lmer
from mlmcourse.engine.compare import AnovaNote, anova


def _notes(*models, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = anova(*models, **kw)
    return table, [str(w.message) for w in caught if issubclass(w.category, AnovaNote)]


@pytest.fixture(scope="module")
def m0(dat):
    return lmer("mathkind ~ 1 + (1|schoolid)", dat)


@pytest.fixture(scope="module")
def m1(dat):
    return lmer("mathkind ~ ses + (1|schoolid)", dat)


def test_reml_fits_with_different_fixed_effects_get_a_note(m0, m1):
    table, notes = _notes(m0, m1, refit=False)
    assert len(notes) == 1 and "refit=True" in notes[0] and "REML" in notes[0]
    # lme4's numbers are kept: the REML log-likelihoods, as printed by anova(m0, m1, refit = FALSE)
    assert table["logLik"].tolist() == pytest.approx([m0.loglik, m1.loglik])
    assert notes[0] in table.attrs["notes"]


def test_non_nested_models_get_a_note(dat, m1):
    mc = lmer("mathkind ~ sex + minority + (1|schoolid)", dat)
    table, notes = _notes(m1, mc)
    assert len(notes) == 1 and "nested" in notes[0] and "AIC" in notes[0]
    assert table["Df"].iloc[1] == 1  # the test is still printed, as lme4 prints it


def test_non_nested_random_parts_get_a_note(dat):
    ma = lmer("mathkind ~ ses + (1|classid)", dat)
    mb = lmer("mathkind ~ ses + (1|schoolid) + (1|sex)", dat)
    _, notes = _notes(ma, mb, refit=False)
    assert len(notes) == 1 and "nested" in notes[0]


@pytest.mark.parametrize("pair", [
    ("mathkind ~ ses + (1|schoolid)", "mathkind ~ ses + (ses|schoolid)"),
    ("mathkind ~ ses + (1|schoolid)", "mathkind ~ ses + (1|schoolid/classid)"),
    ("mathkind ~ ses + (1|schoolid)", "mathkind ~ scale(ses) + sex + (1|schoolid)"),  # same span
    ("mathkind ~ 1 + (1|schoolid)", "mathkind ~ ses + (1|schoolid)"),
])
def test_nested_models_get_no_nesting_note(dat, pair):
    small, large = (lmer(f, dat, REML=False) for f in pair)
    _, notes = _notes(small, large)
    assert notes == []


def test_shuffled_rows_are_still_nested(dat):
    shuffled = dat.sample(frac=1, random_state=1)
    small = lmer("mathkind ~ 1 + (1|schoolid)", dat, REML=False)
    large = lmer("mathkind ~ ses + (1|schoolid)", shuffled, REML=False)
    _, notes = _notes(small, large)
    assert notes == []


def test_the_handouts_comparisons_print_no_note(dat):
    fit2 = lmer("mathgain ~ (1|schoolid)", dat)
    fit3 = lmer("mathgain ~ (1|schoolid/classid)", dat)
    _, notes = _notes(fit2, fit3, refit=False)
    assert notes == []
    in_sample = complete_cases(dat, "mathgain ~ ses + mathknow + (1|schoolid/classid)")
    fit7 = lmer("mathgain ~ 1 + (1|schoolid/classid)", dat, subset=in_sample)
    fit8 = lmer("mathgain ~ ses + mathknow + (1|schoolid/classid)", dat, subset=in_sample)
    table, notes = _notes(fit7, fit8, refit=True)
    assert notes == []
    assert table.attrs["notes"] == ["refitting model(s) with ML (instead of REML)"]
    assert np.isfinite(table["Pr(>Chisq)"].iloc[1])
