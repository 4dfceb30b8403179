"""What a student can get wrong, and the one paragraph they see instead of a traceback."""
import warnings

import numpy as np
import pandas as pd
import pytest

from mlmcourse import CourseError, anova, lmer, ranova
from mlmcourse.engine.smbridge import statsmodels_call


def message(fn):
    with pytest.raises(CourseError) as err:
        fn()
    return str(err.value)


def test_unknown_column_in_fixed_part_suggests_close_names(dat):
    msg = message(lambda: lmer("mathkind ~ sess + (1|schoolid)", data=dat))
    assert msg.startswith("The fixed part uses a column 'sess' that is not in the data. Did you mean 'ses'?")
    assert "The data's columns are: sex, minority, mathkind" in msg


def test_unknown_outcome_and_grouping_factor(dat):
    assert message(lambda: lmer("mathkid ~ ses + (1|schoolid)", data=dat)).startswith(
        "The outcome uses a column 'mathkid' that is not in the data. "
        "Did you mean 'mathkind' or 'mathknow' or 'mathgain'?")
    assert message(lambda: lmer("mathkind ~ ses + (1|school)", data=dat)).startswith(
        "The random-effects term (1|school) uses a column 'school' that is not in the data. "
        "Did you mean 'schoolid'?")


def test_unknown_column_in_random_slope(dat):
    assert message(lambda: lmer("mathkind ~ ses + (sees|schoolid)", data=dat)).startswith(
        "The random-effects term (sees|schoolid) uses a column 'sees' that is not in the data. "
        "Did you mean 'ses'?")


def test_non_numeric_outcome(dat):
    d = dat.assign(grade=np.where(dat.mathkind > 460, "high", "low"))
    assert message(lambda: lmer("grade ~ ses + (1|schoolid)", data=d)) == (
        "The outcome 'grade' is not numeric (it holds values such as 'low'). A linear mixed model "
        "needs a numeric outcome: pick a numeric column, or convert this one with pd.to_numeric first.")


def test_rows_with_missing_values_are_dropped_and_counted(dat):
    m = lmer("mathgain ~ ses + mathknow + (1|schoolid)", data=dat)
    assert m.nobs == 1081 and m.design.n_dropped_na == 109
    text = str(m.summary())
    assert "Number of obs: 1081, groups:  schoolid, 105" in text
    assert "mlmcourse: 109 observations deleted due to missingness in mathknow" in text  # the course's note


def test_grouping_factor_with_one_group_per_observation(dat):
    assert message(lambda: lmer("mathkind ~ ses + (1|childid)", data=dat)) == (
        "The grouping factor 'childid' has 1190 levels for 1190 observations: every observation is "
        "its own group, so its random effect cannot be told apart from the residual (lme4: number "
        "of levels of each grouping factor must be < number of observations). Remove this term or "
        "group by a coarser factor.")


def test_single_level_grouping_factor(dat):
    d = dat.assign(district=1)
    assert message(lambda: lmer("mathkind ~ ses + (1|district)", data=d)) == (
        "The grouping factor 'district' in (1|district) has only one level in the rows used (1). "
        "lme4: grouping factors must have > 1 sampled level. A random effect needs several groups: "
        "check the subset or choose another factor.")


def test_formula_without_random_effects_points_to_lm(dat):
    assert message(lambda: lmer("mathkind ~ ses", data=dat)) == (
        "The formula 'mathkind ~ ses' has no random-effects term such as (1 | schoolid). "
        "lmer() fits mixed models; for a plain regression use lm().")


def test_data_that_is_not_a_dataframe():
    assert message(lambda: lmer("y ~ (1|g)", data=[1, 2, 3])) == (
        "data= must be a pandas DataFrame, e.g. the result of load_classroom().")


def test_column_named_with_a_python_keyword_works(dat):
    d = dat.rename(columns={"classid": "class", "ses": "lambda"})
    m = lmer("mathkind ~ lambda + (1|schoolid/class)", data=d)
    assert list(m.fixef.index) == ["(Intercept)", "lambda"]
    assert list(m.varcorr["Groups"]) == ["class:schoolid", "schoolid", "Residual"]
    ref = lmer("mathkind ~ ses + (1|schoolid/classid)", data=dat)
    assert m.criterion == pytest.approx(ref.criterion, abs=1e-6)


def test_anova_needs_two_models(dat):
    m = lmer("mathgain ~ (1|schoolid)", data=dat)
    assert message(lambda: anova(m)).startswith("anova() compares two or more models: anova(m1, m2).")
    assert message(lambda: anova(m, "m2")) == "anova() takes models from lmer(); got str."


def test_statsmodels_cannot_express_a_correlated_slope_on_a_nested_factor(dat):
    assert message(lambda: statsmodels_call("mathgain ~ ses + (ses|schoolid/classid)", dat)) == (
        "statsmodels MixedLM cannot express the random term (ses | classid:schoolid): a correlated "
        "random slope on a nested factor. mlmcourse.lmer fits it (its own lme4-style engine); there "
        "is no plain statsmodels equivalent to show or to compare with.")


def test_singular_fit_is_flagged_like_lme4():
    d = pd.read_csv("tests/reference/data/Dyestuff2.csv")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = lmer("Yield ~ 1 + (1|Batch)", data=d)
    assert m.singular and m.theta[0] == 0
    assert any("boundary (singular) fit: see help('isSingular')" in str(w.message) for w in caught)
    assert "boundary (singular) fit" in str(m.summary())


def test_subset_must_match_the_rows(dat):
    assert message(lambda: lmer("mathkind ~ ses + (1|schoolid)", data=dat, subset=np.ones(10, bool))) == (
        "subset= has 10 values but the data has 1190 rows: give one True/False per row, e.g. "
        "complete_cases(dat, formula).")
    shuffled = (dat.ses > 0).sort_values()
    m1 = lmer("mathkind ~ ses + (1|schoolid)", data=dat, subset=shuffled)
    m2 = lmer("mathkind ~ ses + (1|schoolid)", data=dat, subset=(dat.ses > 0))
    assert m1.nobs == m2.nobs and m1.criterion == pytest.approx(m2.criterion)  # aligned by label
    other = pd.Series(True, index=range(5000, 6190))
    assert message(lambda: lmer("mathkind ~ ses + (1|schoolid)", data=dat, subset=other)).startswith(
        "subset= is a Series whose index does not match the data's rows.")


def test_reml_must_be_a_boolean(dat):
    assert message(lambda: lmer("mathkind ~ ses + (1|schoolid)", data=dat, REML="False")) == (
        "REML= must be True or False, not 'False'.")


def test_more_random_effects_than_observations():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"g": np.repeat(np.arange(20), 2), "x": rng.normal(size=40), "y": rng.normal(size=40)})
    assert message(lambda: lmer("y ~ x + (x|g)", data=d)).startswith(
        "The term (x | g) has 40 random effects (2 per level of 'g' x 20 levels) for 40 observations")


def test_r_spellings_get_python_advice(dat):
    assert message(lambda: lmer("mathkind ~ log(ses + 5) + (1|schoolid)", data=dat)).startswith(
        "The fixed part 'log(ses + 5)' uses log(), which is R's spelling: in Python write np.log(...)")
    # R's ^ is a power inside I() (Python's would be XOR): translated, as lme4 names it
    squared = lmer("mathkind ~ I(ses^2) + (1|schoolid)", data=dat)
    assert list(squared.fixef.index) == ["(Intercept)", "I(ses^2)"]
    assert squared.fixef.iloc[1] == pytest.approx(
        lmer("mathkind ~ I(ses**2) + (1|schoolid)", data=dat).fixef.iloc[1], rel=1e-12)


def test_complete_cases_refuses_a_typo(dat):
    assert message(lambda: __import__("mlmcourse").complete_cases(dat, "mathgain ~ ses + mathknw")).startswith(
        "The formula given to complete_cases uses a column 'mathknw' that is not in the data.")


def test_ranova_and_icc_need_a_model():
    from mlmcourse import icc
    assert message(lambda: ranova("m")) == "ranova() takes one model from lmer(); got str."
    assert message(lambda: icc("m")) == "icc() takes a model from lmer(); got str."


def test_subset_with_missing_values_leaves_those_rows_out_as_r_does():
    """R's subset= treats NA as FALSE (model.frame drops the row): a nullable boolean Series with
    <NA>, or True/False/None objects, keeps the True rows only."""
    from mlmcourse import lmer, load_classroom
    dat = load_classroom()
    knows = (dat["mathknow"] > 0).astype("boolean").where(dat["mathknow"].notna())
    assert knows.isna().sum() == 109
    plain = lmer("mathkind ~ ses + (1|schoolid)", dat, subset=knows.fillna(False).astype(bool))
    for subset in (knows, knows.astype(object)):
        m = lmer("mathkind ~ ses + (1|schoolid)", dat, subset=subset)
        assert m.nobs == plain.nobs == 506
        assert m.fixef.to_numpy() == pytest.approx(plain.fixef.to_numpy(), rel=1e-12)


def test_a_column_name_with_a_space_is_quoted_with_Q():
    from mlmcourse import complete_cases, lm, lmer, load_classroom
    d2 = load_classroom().rename(columns={"ses": "SES score"})
    expected = 'Q("SES score")'
    for call in (lambda: lmer("mathkind ~ SES score + (1|schoolid)", d2),
                 lambda: lm("mathkind ~ SES score", d2),
                 lambda: complete_cases(d2, "mathkind ~ SES score")):
        with pytest.raises(CourseError) as info:
            call()
        assert expected in str(info.value) and "invalid syntax" not in str(info.value)
    # the advice works
    assert lm('mathkind ~ Q("SES score")', d2).coef["SES score"] == pytest.approx(14.35929025, abs=1e-7)
