"""R arguments the course's public functions do not take: one CourseError paragraph naming the
argument, what it does in R and what the course does instead (never Python's TypeError)."""
import pytest

from mlmcourse import CourseError, all_fit, anova, complete_cases, confint, icc, lmer, profile, ranova


@pytest.fixture(scope="module")
def m1(dat):
    return lmer("mathkind ~ ses + (1|schoolid)", dat)


@pytest.fixture(scope="module")
def m0(dat):
    return lmer("mathkind ~ 1 + (1|schoolid)", dat)


CALLS = {
    "anova ddf": (lambda m0, m1: anova(m1, ddf="Kenward-Roger"), "ddf=", "summary"),
    "anova test": (lambda m0, m1: anova(m0, m1, test="Chisq"), "test=", "likelihood-ratio"),
    "ranova reduce_terms": (lambda m0, m1: ranova(m1, reduce_terms=False), "reduce_terms=", "anova("),
    "icc by_group": (lambda m0, m1: icc(m1, by_group=True), "by_group=", "grouping factor"),
    "profile which": (lambda m0, m1: profile(m1, which="beta_"), "which=", "parm="),
    "all_fit verbose": (lambda m0, m1: all_fit(m1, verbose=True), "verbose=", "all_fit()"),
    "confint oldNames": (lambda m0, m1: confint(m1, oldNames=False), "oldNames=", "sd_(Intercept)|schoolid"),
    "m.all_fit verbose": (lambda m0, m1: m1.all_fit(verbose=True), "verbose=", "all_fit()"),
    "m.confint oldNames": (lambda m0, m1: m1.confint(oldNames=False), "oldNames=", "sd_(Intercept)|schoolid"),
    "summary correlation": (lambda m0, m1: m1.summary(correlation=True), "correlation=",
                            "Correlation of Fixed Effects"),
}


@pytest.mark.parametrize("case", list(CALLS))
def test_unsupported_keyword_is_one_paragraph(case, m0, m1):
    call, argument, advice = CALLS[case]
    with pytest.raises(CourseError) as info:
        call(m0, m1)
    text = str(info.value)
    assert argument in text and advice in text
    assert "\n" not in text and "unexpected keyword" not in text


def test_complete_cases_without_formula(dat):
    with pytest.raises(CourseError, match="formula of the largest model"):
        complete_cases(dat)
