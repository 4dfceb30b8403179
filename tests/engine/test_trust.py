"""The course's promise: a number it prints is right, or it says why it cannot give one.

Family by family: rank deficiency (dropped as lme4 drops it), non-finite and degenerate data,
messages for formulas patsy cannot read, comparisons that are not valid, icc() without an
intercept. Every bad input ends in one CourseError paragraph, never NaN estimates or a numpy,
patsy or pandas traceback."""
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from mlmcourse import CourseError, anova, complete_cases, icc, lmer, load_classroom
from mlmcourse.engine.checks import RankDeficiencyWarning

BASE = "mathkind ~ ses + (1|schoolid)"


@pytest.fixture(scope="module")
def ref(dat):
    return lmer(BASE, data=dat)


def message(fn) -> str:
    with pytest.raises(CourseError) as err:
        fn()
    assert err.value.__suppress_context__ or err.value.__context__ is None  # no chained traceback
    return str(err.value)


def same_numbers(m, ref, names=None):
    assert list(m.fixef.index) == (names or list(ref.fixef.index))
    np.testing.assert_allclose(m.fixef.to_numpy(), ref.fixef.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(m.coef_table.to_numpy(), ref.coef_table.to_numpy(), rtol=1e-5)
    assert m.criterion == pytest.approx(ref.criterion, abs=1e-7)
    np.testing.assert_allclose(m.varcorr["Variance"], ref.varcorr["Variance"], rtol=1e-6)


# -- 1. rank deficiency: lme4 drops the redundant columns and says so -------------------------
@pytest.mark.parametrize("noise", [0.0, 1e-12], ids=["exact", "near"])
def test_collinear_predictor_is_dropped_as_lme4_does(dat, ref, noise):
    rng = np.random.default_rng(7)
    d = dat.assign(ses2=2 * dat.ses + noise * rng.normal(size=len(dat)))
    with pytest.warns(RankDeficiencyWarning) as caught:
        m = lmer("mathkind ~ ses + ses2 + (1|schoolid)", data=d)
    (w,) = caught
    assert str(w.message).startswith(
        "fixed-effect model matrix is rank deficient so dropping 1 column / coefficient (ses2)")
    assert w.filename == __file__  # points at the student's lmer() line
    assert m.design.dropped_columns == ["ses2"]
    same_numbers(m, ref)
    text = str(m.summary())
    assert "ses2" not in text.split("Fixed effects:")[1] and "nan" not in text.lower()


def test_several_dropped_columns_are_named_in_the_plural(dat):
    d = dat.assign(female=1 - dat.sex, ses2=2 * dat.ses)
    with pytest.warns(RankDeficiencyWarning, match=re.escape(
            "rank deficient so dropping 2 columns / coefficients (female, ses2)")):
        m = lmer("mathkind ~ ses + sex + female + ses2 + (1|schoolid)", data=d)
    assert list(m.fixef.index) == ["(Intercept)", "ses", "sex"]
    same_numbers(m, lmer("mathkind ~ ses + sex + (1|schoolid)", data=dat))


def test_the_later_column_goes_and_the_order_is_kept(dat, ref):
    d = dat.assign(ses2=2 * dat.ses)
    with pytest.warns(RankDeficiencyWarning, match=r"\(ses\):"):
        m = lmer("mathkind ~ ses2 + ses + (1|schoolid)", data=d)
    assert list(m.fixef.index) == ["(Intercept)", "ses2"]
    assert m.fixef["ses2"] == pytest.approx(ref.fixef["ses"] / 2, rel=1e-8)


def test_factor_dummies_and_constant_columns(dat):
    d = dat.assign(female=1 - dat.sex, zero=0.0)
    with pytest.warns(RankDeficiencyWarning, match=re.escape("(female, zero)")):
        m = lmer("mathkind ~ ses + factor(sex) + female + zero + (1|schoolid)", data=d)
    assert list(m.fixef.index) == ["(Intercept)", "ses", "factor(sex)1"]


def test_unused_categories_are_dropped_before_the_rank_check(dat):
    d = dat.assign(sex=pd.Categorical(dat.sex, categories=[0, 1, 2]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RankDeficiencyWarning)
        m = lmer("mathkind ~ ses + C(sex) + (1|schoolid)", data=d)
    assert list(m.fixef.index) == ["(Intercept)", "ses", "C(sex)1"]
    assert m.criterion == pytest.approx(lmer("mathkind ~ ses + C(sex) + (1|schoolid)", data=dat).criterion)
    assert list(d.sex.cat.categories) == [0, 1, 2]  # the student's data is left as it was


def test_a_predictor_in_small_units_is_not_mistaken_for_zero(dat, ref):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RankDeficiencyWarning)
        m = lmer("mathkind ~ z + (1|schoolid)", data=dat.assign(z=dat.ses * 1e-9))
    assert m.fixef["z"] == pytest.approx(ref.fixef["ses"] * 1e9, rel=1e-6)


# -- 2. non-finite and degenerate data ---------------------------------------------------------
def test_infinite_values_in_a_predictor_column(dat):
    with np.errstate(all="ignore"):
        d = dat.assign(lses=np.log(dat.ses + 0.5))  # NaN below -0.5 (dropped as missing), -inf at -0.5
    assert message(lambda: lmer("mathkind ~ lses + (1|schoolid)", data=d)) == (
        "The column 'lses' has 4 infinite values (4 -inf) in the 901 rows used, e.g. from np.log of a "
        "value <= 0 or a division by 0. A model needs finite numbers: fix the column, or leave those "
        "rows out with subset=np.isfinite(dat['lses']).")


def test_infinite_values_in_the_outcome_column(dat):
    d = dat.assign(y=np.where(dat.index < 3, np.inf, dat.mathkind))
    assert message(lambda: lmer("y ~ ses + (1|schoolid)", data=d)).startswith(
        "The column 'y' has 3 infinite values (3 inf) in the 1190 rows used")


def test_a_transformation_in_the_formula_that_gives_inf_or_nan(dat):
    assert message(lambda: lmer("np.log(mathkind - 400) ~ ses + (1|schoolid)", data=dat)).startswith(
        "The outcome 'np.log(mathkind - 400)' gives 2 infinite (inf or -inf) and 50 undefined (NaN) "
        "values in the 1190 rows used, e.g. np.log or np.sqrt of a value <= 0")
    assert message(lambda: lmer("mathkind ~ ses + np.sqrt(ses) + (1|schoolid)", data=dat)).startswith(
        "The fixed part term 'np.sqrt(ses)' gives ")
    assert message(lambda: lmer("mathkind ~ ses + (np.log(ses + 1) | schoolid)", data=dat)).startswith(
        "In the random-effects term (np.log(ses + 1) | schoolid), 'np.log(ses + 1)' gives ")
    # a transformation that is finite everywhere is fine
    m = lmer("np.log(mathkind) ~ ses + (1|schoolid)", data=dat)
    assert np.isfinite(m.fixef).all()


def test_an_outcome_without_variation(dat):
    assert message(lambda: lmer("y ~ ses + (1|schoolid)", data=dat.assign(y=5.0))) == (
        "The outcome 'y' has the same value (5) in all 1190 rows used: there is no variation to "
        "model, so no variance can be estimated. Check the outcome column (and the subset): a model "
        "needs an outcome that varies.")
    assert message(lambda: lmer("y ~ ses + (1|schoolid)", data=dat.assign(y=3 + 2 * dat.ses))).startswith(
        "The outcome 'y' is an exact linear function of the fixed part 'ses' in the 1190 rows used")
    assert message(lambda: lmer("y ~ ses + (1|schoolid/classid)",
                                data=dat.assign(y=dat.classid * 1.0 + 2 * dat.ses))).startswith(
        "The outcome 'y' does not vary within the groups of 'classid:schoolid' (beyond what the fixed "
        "part explains)")


@pytest.mark.parametrize("scale, word", [(1e300, "overflow"), (1e-160, "underflow")])
def test_values_whose_squares_overflow_or_underflow(dat, scale, word):
    msg = message(lambda: lmer("y ~ ses + (1|schoolid)", data=dat.assign(y=dat.mathkind * scale)))
    assert msg.startswith("The outcome 'y' has ") and f"would {word} floating-point numbers" in msg
    assert message(lambda: lmer("mathkind ~ x + (1|schoolid)", data=dat.assign(x=dat.ses * scale))).startswith(
        "The fixed-effect column 'x' has ")
    assert message(lambda: lmer("mathkind ~ ses + (x|schoolid)", data=dat.assign(x=dat.ses * scale))).startswith(
        "The column 'x' of the random-effects term (x|schoolid) has ")


def test_complex_numbers_and_numbers_stored_as_objects(dat):
    assert message(lambda: lmer("y ~ ses + (1|schoolid)", data=dat.assign(y=dat.mathkind + 1j))).startswith(
        "The column 'y' holds complex numbers (complex128): a model needs real numbers.")
    assert message(lambda: lmer("mathkind ~ s + (1|schoolid)", data=dat.assign(s=dat.ses.astype(object)))).startswith(
        "The column 's' holds numbers stored as Python objects (dtype object), which a formula would treat "
        "as text: ")


def test_dates_as_predictors(dat):
    when = pd.Timestamp("2020-09-01") + pd.to_timedelta(np.arange(len(dat)) % 90, "D")
    assert message(lambda: lmer("mathkind ~ tested + (1|schoolid)", data=dat.assign(tested=when))).startswith(
        "The column 'tested' holds dates or times (datetime64")
    assert message(lambda: lmer("mathkind ~ wait + (1|schoolid)",
                                data=dat.assign(wait=when - when.min()))).startswith(
        "The column 'wait' holds dates or times (timedelta64")


def test_text_with_one_value_per_row_as_a_predictor(dat):
    d = dat.assign(child=dat.childid.astype(str))
    msg = message(lambda: lmer("mathkind ~ child + (1|schoolid)", data=d))
    assert msg.startswith("The column 'child' is text (") and (
        "with 1190 different values in the 1190 rows used, so as a predictor it would become 1190 "
        "dummy columns (one per value)") in msg
    assert "pd.to_numeric(dat['child'])" in msg and "(1 | child)" in msg
    assert message(lambda: lmer("mathkind ~ factor(childid) + (1|schoolid)", data=dat)).startswith(
        "The fixed part 'factor(childid)' gives 1190 coefficients for 1190 observations")


def test_duplicate_column_names(dat):
    d = pd.concat([dat, dat[["ses"]] * 2], axis=1)
    assert message(lambda: lmer(BASE, data=d)).startswith(
        "The data has more than one column named 'ses' (2 columns), so the formula's 'ses' could mean either.")
    assert message(lambda: complete_cases(d, "mathkind ~ ses")).startswith("The data has more than one column")


@pytest.mark.parametrize("name", ["schülerid", "école"])
def test_grouping_factor_with_letters_beyond_ascii(dat, ref, name):
    m = lmer(f"mathkind ~ ses + (1|{name})", data=dat.rename(columns={"schoolid": name}))
    assert list(m.varcorr["Groups"]) == [name, "Residual"]
    same_numbers(m, ref)
    assert f"{name}, 107" in str(m.summary())


def test_non_ascii_predictor_with_missing_values(dat):
    d = dat.rename(columns={"mathknow": "connaissance_é", "classid": "classe"})
    m = lmer("mathgain ~ ses + connaissance_é + (1|schoolid/classe)", data=d)
    assert m.nobs == 1081 and m.design.variables_with_na == ["connaissance_é"]
    assert list(m.fixef.index) == ["(Intercept)", "ses", "connaissance_é"]


def test_quoted_names_in_every_part(dat, ref):
    d = dat.rename(columns={"ses": "my ses", "schoolid": "school id"})
    m = lmer('mathkind ~ Q("my ses") + (1|Q("school id"))', data=d)
    assert list(m.varcorr["Groups"]) == ["school id", "Residual"]
    same_numbers(m, ref, names=["(Intercept)", "my ses"])
    assert complete_cases(d, 'mathkind ~ Q("my ses") + (1|Q("school id"))').all()


# -- 3. messages for what patsy cannot read ----------------------------------------------------
def test_an_unknown_function_is_named_as_a_function(dat):
    assert message(lambda: lmer("mathkind ~ logit(ses) + (1|schoolid)", data=dat)).startswith(
        "The fixed part 'logit(ses)' uses a function logit() that is not defined: formulas know "
        "numpy's functions as np.name(...)")
    assert message(lambda: lmer("mathkind ~ np.logit(ses) + (1|schoolid)", data=dat)).startswith(
        "The fixed part 'np.logit(ses)' uses a function np.logit() that is not defined")
    # a misspelt column is still a column
    assert message(lambda: lmer("mathkind ~ sess + (1|schoolid)", data=dat)).startswith(
        "The fixed part uses a column 'sess' that is not in the data. Did you mean 'ses'?")


def test_r_only_spellings(dat):
    assert message(lambda: lmer("mathkind ~ . + (1|schoolid)", data=dat)).startswith(
        "The formula 'mathkind ~ . + (1|schoolid)' uses '.', R's 'every other column', which Python "
        "formulas do not have.")
    assert message(lambda: lmer("mathkind ~ poly(ses, 2) + (1|schoolid)", data=dat)).startswith(
        "The fixed part 'poly(ses, 2)' uses poly(): poly() is R's orthogonal polynomials, which Python "
        "formulas do not have. Write the powers as terms, e.g. ses + I(ses^2)")
    assert message(lambda: lmer('mathkind ~ Q("sess") + (1|schoolid)', data=dat)).startswith(
        "The fixed part uses a column 'sess' that is not in the data. Did you mean 'ses'?")


@pytest.mark.parametrize("formula, got", [
    (3, "an int, 3"), (None, "None"), (["mathkind ~ ses + (1|schoolid)"], "a list, ['mathkind ~ ses + (1|schoolid)']"),
])
def test_a_formula_that_is_not_text(dat, formula, got):
    assert message(lambda: lmer(formula, data=dat)).startswith(
        "The model formula must be text (a str) in quotes, such as 'mathkind ~ ses + (1 | schoolid)'; "
        f"got {got}.")


def test_r_backticks_suggest_q(dat):
    d = dat.assign(**{"my var": dat.ses})
    assert message(lambda: lmer("mathkind ~ `my var` + (1|schoolid)", data=d)) == (
        "The formula 'mathkind ~ `my var` + (1|schoolid)' uses R's backticks (`) around a column name. "
        "Python formulas quote a column name with Q() instead: Q(\"my var\") for `my var`, i.e. "
        "'mathkind ~ Q(\"my var\") + (1|schoolid)'.")
    assert lmer('mathkind ~ Q("my var") + (1|schoolid)', data=d).fixef.index[1] == "my var"


@pytest.mark.parametrize("formula", [
    "mathkind ~ " + " + ".join(f"x{i}" for i in range(5000)) + " + (1|schoolid)",
    "mathkind ~ ses + (" + " + ".join(f"x{i}" for i in range(3000)) + " || schoolid)",
    "mathkind ~ " + "(ses + " * 1000 + "ses" + ")" * 1000 + " + (1|schoolid)",
    "mathkind ~ " + "I(" * 1000 + "ses" + ")" * 1000 + " + (1|schoolid)",
], ids=["5000 terms", "3000 terms in ||", "1000 nested sums", "1000 nested I()"])
def test_a_formula_too_long_for_the_parser(dat, formula):
    msg = message(lambda: lmer(formula, data=dat))
    assert "is too long or too deeply nested for the formula parser (patsy)" in msg and len(msg) < 600


def test_deeply_nested_parentheses_around_a_name_still_fit(dat, ref):
    same_numbers(lmer("mathkind ~ " + "(" * 1000 + "ses" + ")" * 1000 + " + (1|schoolid)", data=dat), ref)


def test_no_rows_left_says_which_step_removed_them(dat):
    assert message(lambda: lmer(BASE, data=dat, subset=dat.ses > 100)) == (
        "No rows are left to fit: subset= keeps none of the data's 1190 rows (it is False for every "
        "row). Check the condition it was built from.")
    assert message(lambda: lmer("mathkind ~ ses + z + (1|schoolid)", data=dat.assign(z=np.nan))).startswith(
        "No rows are left to fit: 'z' is missing (NaN) in all 1190 rows")
    half = np.where(dat.index % 2 == 0, np.nan, 1.0)
    d = dat.assign(a=half, b=np.where(np.isnan(half), 1.0, np.nan))  # every row misses one of them
    assert message(lambda: lmer("mathkind ~ a + b + (1|schoolid)", data=d)).startswith(
        "No rows are left to fit: each of the 1190 rows has a missing value in at least one variable "
        "of the formula (a (595 missing), b (595 missing))")
    assert "kept by subset=" in message(lambda: lmer("mathkind ~ ses + z + (1|schoolid)",
                                                     data=dat.assign(z=np.nan), subset=dat.ses > 0))


def test_subset_as_one_column(dat):
    ref = lmer(BASE, data=dat, subset=dat.ses > 0)
    for subset in (dat[["ses"]] > 0, (dat.ses > 0).to_numpy()[:, None]):
        m = lmer(BASE, data=dat, subset=subset)
        assert m.nobs == ref.nobs and m.criterion == pytest.approx(ref.criterion)
    assert message(lambda: lmer(BASE, data=dat, subset=dat[["ses", "sex"]] > 0)).startswith(
        "subset= is a DataFrame with 2 columns: give one True/False per row")
    assert message(lambda: lmer(BASE, data=dat, subset=np.ones((len(dat), 2), bool))).startswith(
        "subset= is shape (1190, 2): give one True/False per row")


# -- 4. comparisons that are not valid ---------------------------------------------------------
@pytest.fixture(scope="module")
def nested(dat):
    return lmer("mathkind ~ ses + (1|schoolid/classid)", data=dat)


def test_a_shuffled_copy_is_the_same_data(dat, ref, nested):
    shuffled = dat.sample(frac=1, random_state=1)
    m2 = lmer("mathkind ~ ses + (1|schoolid/classid)", data=shuffled)
    pd.testing.assert_frame_equal(pd.DataFrame(anova(ref, m2)).reset_index(drop=True),
                                  pd.DataFrame(anova(ref, nested)).reset_index(drop=True), rtol=1e-6)


def test_a_shuffled_outcome_is_other_data(dat, ref):
    d = dat.assign(mathkind=dat.mathkind.sample(frac=1, random_state=2).to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = lmer("mathkind ~ ses + (1|schoolid/classid)", data=d)
    msg = message(lambda: anova(ref, other))
    assert msg.startswith("models were not all fitted to the same data: the outcome mathkind has other "
                          "values in 1180 of the 1190 rows (same row labels, different values) "
                          "(ref was fitted to dat, other was fitted to d)")


def test_different_outcomes(dat, ref):
    gain = lmer("mathgain ~ ses + (1|schoolid/classid)", data=dat, subset=dat.mathgain.notna())
    assert message(lambda: anova(ref, gain)).startswith(
        "models were not all fitted to the same data: ref models the outcome mathkind, gain models mathgain.")


def test_different_rows_of_the_same_size(dat):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = lmer(BASE, data=dat, subset=dat.index < 600)
        last = lmer("mathkind ~ ses + (1|schoolid/classid)", data=dat, subset=dat.index >= 590)
    assert message(lambda: anova(first, last)).startswith(
        "models were not all fitted to the same data: first and last have the same number of rows but "
        "not the same rows (590 of last's 600 row labels are not among first's).")
    other = dat.set_axis(dat.index + 10_000)  # the same values under other row labels
    relabelled = lmer("mathkind ~ ses + (1|schoolid/classid)", data=other)
    base = lmer(BASE, data=dat)
    assert message(lambda: anova(base, relabelled)).startswith(
        "models were not all fitted to the same data: base and relabelled have the same number of rows "
        "but not the same rows (1190 of relabelled's 1190 row labels are not among base's) (base was "
        "fitted to dat, relabelled was fitted to other).")


def test_different_sizes_keep_lme4s_words(dat, ref):
    small = lmer("mathkind ~ ses + (1|schoolid/classid)", data=dat, subset=dat.mathknow.notna())
    assert message(lambda: anova(ref, small)).startswith(
        "models were not all fitted to the same size of dataset (ref: 1190 rows, small: 1081 rows).")


@pytest.mark.parametrize("value", ["FALSE", 1, 0, None, "TRUE"])
def test_refit_and_reml_take_only_true_or_false(dat, ref, nested, value):
    assert message(lambda: anova(ref, nested, refit=value)) == f"refit= must be True or False, not {value!r}."
    assert message(lambda: lmer(BASE, data=dat, REML=value)) == f"REML= must be True or False, not {value!r}."


# -- 5. icc() needs a random intercept ---------------------------------------------------------
def test_icc_without_a_random_intercept(dat):
    m = lmer("mathkind ~ ses + (0 + ses|schoolid)", data=dat)
    assert message(lambda: icc(m)).startswith(
        "icc() needs a random intercept, and this model has none ((0 + ses | schoolid))")
    assert icc(lmer(BASE, data=dat)).name == "ICC"


def test_an_index_named_like_columns_fits_the_same_models():
    """dat.set_index(["schoolid", "classid"], drop=False) names index levels after columns (and
    repeats labels): pandas calls such names ambiguous; the course fits the same models."""
    from mlmcourse import lm

    dat = load_classroom()
    indexed = dat.set_index(["schoolid", "classid"], drop=False)
    formula = "mathkind ~ ses + (1|schoolid/classid)"
    assert lmer(formula, data=indexed).reml_criterion == pytest.approx(lmer(formula, data=dat).reml_criterion,
                                                                          abs=1e-9)
    keep = complete_cases(indexed, "mathgain ~ ses + mathknow")
    assert keep.sum() == complete_cases(dat, "mathgain ~ ses + mathknow").sum() == 1081
    assert lmer("mathgain ~ ses + (1|schoolid)", data=indexed, subset=keep).nobs == 1081
    np.testing.assert_allclose(lm("mathkind ~ ses", data=indexed).coef, lm("mathkind ~ ses", data=dat).coef)
    one = dat.set_index("schoolid", drop=False)
    sm = lmer("mathkind ~ ses + (1|schoolid)", data=one, engine="statsmodels")
    assert sm.reml_criterion == pytest.approx(lmer("mathkind ~ ses + (1|schoolid)", data=dat).reml_criterion, abs=1e-6)
