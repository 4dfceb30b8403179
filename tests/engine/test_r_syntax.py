"""R syntax a student types in a formula means what it means in R (lme4's numbers), or is refused
in one paragraph: never passed through with Python's meaning. Reference numbers from
tests/reference/make_syntax_reference.R (R, lme4, lmerTest), in syntax_reference.json."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlmcourse import CourseError, complete_cases, lm, lmer, ranova

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"
REF = json.loads((REFERENCE_DIR / "syntax_reference.json").read_text())
FIXEF_REL = 1e-5
CRIT_ABS = 1e-3


@pytest.fixture(scope="module")
def orthodont():
    return pd.read_csv(REFERENCE_DIR / "data" / "Orthodont.csv")


def message(fn):
    with pytest.raises(CourseError) as err:
        fn()
    return str(err.value)


def same_fit(m, want):
    """The model's fixed effects (names and values), rows, groups and criterion are lme4's."""
    assert list(m.fixef.index) == list(want["fixef"])
    for name, value in want["fixef"].items():
        assert m.fixef[name] == pytest.approx(value, rel=FIXEF_REL, abs=1e-8), name
    assert m.nobs == want["nobs"]
    assert m.ngroups == want["ngroups"]
    assert m.criterion == pytest.approx(want["reml_criterion"], abs=CRIT_ABS)


# --- ^: a power inside a function, crossing outside ---------------------------------------------
def test_power_of_an_integer_column_is_a_power(orthodont):
    assert orthodont["age"].dtype.kind == "i"
    m = lmer("distance ~ age + I(age^2) + (1 | Subject)", data=orthodont)
    same_fit(m, REF["orthodont_power"])  # age 0.02361, as lme4 (XOR gave 0.6400)


def test_crossing_with_caret_outside_a_function(orthodont):
    m = lmer("distance ~ (age + Sex)^2 + (1 | Subject)", data=orthodont)
    same_fit(m, REF["orthodont_cross"])


def test_lm_power_is_a_power(orthodont):
    fit = lm("distance ~ age + I(age^2)", data=orthodont)
    for name, value in REF["orthodont_power_lm"].items():
        assert fit.coef[name] == pytest.approx(value, rel=FIXEF_REL)


def test_caret_in_a_quoted_column_name_is_kept(orthodont):
    d = orthodont.rename(columns={"age": "age^"})
    m = lmer('distance ~ Q("age^") + (1 | Subject)', data=d)
    assert list(m.fixef.index) == ["(Intercept)", "age^"]


# --- scale(): R's, over all the data's rows -----------------------------------------------------
def test_scale_divides_by_the_n_minus_1_sd(orthodont):
    same_fit(lmer("distance ~ scale(age) + (1 | Subject)", data=orthodont), REF["orthodont_scale"])


def test_scale_uses_rows_dropped_for_other_variables(dat):
    # R's model.frame evaluates scale(ses) on all 1190 rows; mathknow's NA rows are dropped after
    same_fit(lmer("mathgain ~ scale(ses) + mathknow + (1 | schoolid)", data=dat), REF["classroom_scale_na"])


def test_scale_is_computed_before_the_subset(dat):
    m = lmer("mathkind ~ scale(ses) + (1 | schoolid)", data=dat, subset=dat["sex"] == 1)
    same_fit(m, REF["classroom_scale_subset"])


def test_scale_without_centring(dat):
    m = lmer("mathkind ~ scale(ses, center=FALSE) + (1 | schoolid)", data=dat)
    same_fit(m, REF["classroom_scale_nocenter"])


def test_scale_in_lm(dat):
    fit = lm("mathgain ~ scale(ses) + mathknow", data=dat)
    for name, value in REF["classroom_scale_lm"].items():
        assert fit.coef[name] == pytest.approx(value, rel=FIXEF_REL)


def test_scale_survives_ranova(orthodont):
    m = lmer("distance ~ scale(age) + (1 | Subject)", data=orthodont)
    table = ranova(m)
    assert table["npar"].tolist() == [4, 3]
    assert "scale(age)" in table.heading


def test_scale_with_other_arguments_is_refused(dat):
    msg = message(lambda: lmer("mathkind ~ scale(ses, 2) + (1 | schoolid)", data=dat))
    assert "scale() the argument '2'" in msg and "dat['ses'].std()" in msg


# --- grouping factors and factor levels as R's factor() -----------------------------------------
def test_group_ids_mixing_numbers_and_text_are_one_level(dat):
    plain = lmer("mathkind ~ ses + (1 | schoolid)", data=dat)
    mixed = dat.copy()
    ids = mixed["schoolid"].astype(object)
    school10 = ids.index[ids == 10]
    ids[school10[::2]] = "10"  # some rows of school 10 as text, the others as a number
    ids.iloc[:3] = ids.iloc[:3].astype(float)  # and 10.0 and 1.0 count as 10 and 1, as in R
    mixed["schoolid"] = ids
    assert mixed["schoolid"].map(type).nunique() > 1
    m = lmer("mathkind ~ ses + (1 | schoolid)", data=mixed)
    assert m.ngroups == {"schoolid": 107}
    assert m.criterion == pytest.approx(plain.criterion, abs=1e-6)


def test_text_levels_sorted_as_r_sorts_them(orthodont):
    want = REF["text_levels"]
    d = pd.DataFrame({"y": orthodont["distance"], "Subject": orthodont["Subject"],
                      "g": (["b", "B", "a", "A"] * 27)[: len(orthodont)]})
    same_fit(lmer("y ~ g + (1 | Subject)", data=d), want["fit"])  # baseline 'a', as R's


def test_factor_of_a_float_column_names_levels_as_r(dat):
    d = dat.assign(sex=dat["sex"].astype(float))
    d.loc[d.index[:5], "sex"] = np.nan  # missing values make a pandas column float: 1.0 is R's "1"
    same_fit(lmer("mathkind ~ factor(sex) + ses + (1 | schoolid)", data=d), REF["factor_with_na"])


def test_nullable_boolean_with_missing_values_drops_the_rows(dat):
    d = dat.copy()
    d["knows"] = (d["mathknow"] > 0).astype("boolean")
    d.loc[d["mathknow"].isna(), "knows"] = pd.NA
    same_fit(lmer("mathkind ~ knows + (1 | schoolid)", data=d), REF["classroom_logical_na"])


# --- refused R syntax, each with what to write instead --------------------------------------------
@pytest.mark.parametrize("formula, words", [
    ("mathgain ~ ses + offset(mathkind) + (1 | schoolid)", ["offset()", "outcome mathgain", "estimate its"]),
    ("mathkind ~ poly(ses, 2) + (1 | schoolid)", ["poly()", "I(ses^2)"]),
    ("mathkind ~ bs(ses, df=3) + (1 | schoolid)", ["splines", "patsy.dmatrix"]),
    ("mathkind ~ ses %in% sex + (1 | schoolid)", ["%in%", "a:b"]),
    ("mathkind ~ C(sex, contr.sum) + (1 | schoolid)", ["contr.sum", "C(x, Sum)"]),
    ("mathkind ~ relevel(factor(sex), ref='1') + (1 | schoolid)", ["relevel()", "Treatment(reference="]),
    ("mathkind ~ ordered(sex) + (1 | schoolid)", ["ordered()", "C(x, Poly)"]),
])
def test_r_only_syntax_is_refused_with_what_to_write(dat, formula, words):
    msg = message(lambda: lmer(formula, data=dat))
    for w in words:
        assert w in msg, (w, msg)


def test_offset_is_not_advised_as_a_column(dat):
    msg = message(lambda: lmer("mathgain ~ offset(mathkind) + (1 | schoolid)", data=dat))
    assert "Compute the column first" not in msg


def test_r_true_and_false_in_a_formula(dat):
    m = lmer("mathkind ~ I(minority == TRUE) + (1 | schoolid)", data=dat.assign(minority=dat["minority"] == 1))
    assert list(m.fixef.index) == ["(Intercept)", "I(minority == TRUE)TRUE"]


# --- lm() reads formulas as lmer() does ---------------------------------------------------------
def test_lm_refuses_a_duplicated_column_name(dat):
    d = pd.concat([dat[["mathkind", "ses"]], dat[["ses"]]], axis=1)
    assert "more than one column named 'ses'" in message(lambda: lm("mathkind ~ ses", data=d))


def test_lm_refuses_infinite_values_and_an_empty_frame(dat):
    d = dat.assign(ses=dat["ses"].where(dat.index != 5, np.inf))
    assert "infinite values" in message(lambda: lm("mathkind ~ ses", data=d))
    assert "no rows" in message(lambda: lm("mathkind ~ ses", data=dat.iloc[:0]))


@pytest.mark.parametrize("kwargs, words", [
    ({"weights": "w"}, ["weights=", "not supported"]),
    ({"offset": "mathkind"}, ["offset=", "mathgain"]),
    ({"na_action": "omit"}, ["na_action=", "not supported"]),
])
def test_unsupported_lme4_arguments(dat, kwargs, words):
    for call in (lambda: lmer("mathgain ~ ses + (1 | schoolid)", data=dat, **kwargs),
                 lambda: lm("mathgain ~ ses", data=dat, **kwargs)):
        msg = message(call)
        for w in words:
            assert w in msg, (w, msg)


# --- data shapes ------------------------------------------------------------------------------
def test_multiindex_columns_suggest_flattening(dat):
    d = dat[["mathkind", "ses", "schoolid"]].copy()
    d.columns = pd.MultiIndex.from_tuples([("mathkind", ""), ("ses", ""), ("schoolid", "")])
    for call in (lambda: lmer("mathkind ~ ses + (1 | schoolid)", data=d), lambda: lm("mathkind ~ ses", data=d),
                 lambda: complete_cases(d, "mathkind ~ ses")):
        msg = message(call)
        assert "MultiIndex" in msg and "'_'.join" in msg and "Q(" not in msg


def test_grouping_column_in_the_index_suggests_reset_index(dat):
    d = dat.set_index("schoolid")
    msg = message(lambda: lmer("mathkind ~ ses + (1 | schoolid)", data=d))
    assert "reset_index()" in msg and "level of the data's index" in msg


def test_complete_cases_names_an_unknown_function(dat):
    msg = message(lambda: complete_cases(dat, "mathgain ~ foo(ses) + mathknow"))
    assert "function foo()" in msg and "missing column" not in msg and "not in the data" not in msg


def test_update_explains_how_to_refit(dat):
    m = lmer("mathkind ~ ses + (1 | schoolid)", data=dat)
    msg = message(lambda: m.update(". ~ . + sex"))
    assert "lmer(" in msg and "REML=False" in msg


# --- lme4 fits what lme4's own checks allow -----------------------------------------------------
def test_single_child_classes_and_one_pair_are_fitted(dat):
    ref = REF["single_child_classes"]
    few = dat.set_index("childid").loc[ref["childids"]].reset_index()
    for key, formula in (("intercept", "mathgain ~ 1 + (1 | classid)"), ("ses", "mathgain ~ ses + (1 | classid)")):
        m = lmer(formula, data=few)
        same_fit(m, ref[key])
        assert m.sigma == pytest.approx(ref[key]["sigma"], rel=1e-3)


def test_outcome_constant_within_groups_is_still_refused(dat):
    d = dat.assign(avg=dat.groupby("schoolid")["mathkind"].transform("mean"))
    assert "does not vary within the groups" in message(lambda: lmer("avg ~ ses + (1 | schoolid)", data=d))


@pytest.mark.parametrize("value, text", [
    (10, "10"), (np.int64(10), "10"), (10.0, "10"), (10.5, "10.5"), (0.1, "0.1"), (1e5, "1e+05"),
    (123456.0, "123456"), (1e-4, "1e-04"), (0.1 + 0.2, "0.3"), (True, "TRUE"), ("10", "10"),
])
def test_factor_levels_are_rs_as_character(value, text):
    from mlmcourse.engine.rsyntax import r_text
    assert r_text(value) == text


def test_statsmodels_bridge_keeps_rs_scale(dat):
    from mlmcourse.engine.smbridge import statsmodels_call
    m = lmer("mathkind ~ scale(ses) + (1 | schoolid)", data=dat)
    sm = m.to_statsmodels().fit(reml=True)  # the array-built model: the same column as lmer's
    assert sm.fe_params.iloc[1] == pytest.approx(m.fixef.iloc[1], rel=1e-4)
    msg = message(lambda: statsmodels_call("mathkind ~ scale(ses) + (1 | schoolid)", dat))
    assert "patsy's" in msg and "dat['ses'].std()" in msg
    assert "I(ses**2)" in statsmodels_call("mathkind ~ I(ses^2) + (1 | schoolid)", dat)
