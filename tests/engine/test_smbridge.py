"""mlmcourse's fits are statsmodels MixedLM models: statsmodels' own likelihood, evaluated at
mlmcourse's estimates, equals mlmcourse's (REML and ML; nested, crossed, slopes). The bridge
builds that MixedLM from the course's design (arrays, not the formula text), and it is the
model a student builds with the smf.mixedlm call that statsmodels_call prints."""
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.regression.mixed_linear_model import MixedLM, MixedLMParams

from mlmcourse import complete_cases, icc, lmer, load_classroom
from mlmcourse.engine.design import build_design
from mlmcourse.engine.smbridge import mixedlm_spec, statsmodels_call, statsmodels_loglike, to_mixedlm

REF = "tests/reference/data/"
CASES = [
    ("classroom", "mathkind ~ ses + (1|schoolid/classid)", True),
    # a correlated slope away from the boundary: at lme4's end point of (ses|schoolid) theta has an
    # exact 0 (a singular fit, as in lme4), where statsmodels' cov_re has no inverse
    ("classroom", "mathgain ~ mathkind + (1 + minority|schoolid)", True),
    ("classroom", "mathgain ~ ses + mathknow + (1|schoolid/classid)", False),
    ("Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)", True),
    ("sleepstudy", "Reaction ~ Days + (Days||Subject)", False),
    ("sleepstudy", "Reaction ~ Days + (Days|Subject)", True),
    # patsy puts C(sex) before ses, R after it: the bridge keeps the course's (R's) column order
    ("classroom", "mathgain ~ ses + C(sex) + (1|schoolid/classid)", True),
]


def data(name):
    return load_classroom() if name == "classroom" else pd.read_csv(REF + name + ".csv")


@pytest.mark.parametrize("name, formula, reml", CASES)
def test_statsmodels_likelihood_at_our_estimates_is_ours(name, formula, reml):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = lmer(formula, data(name), REML=reml)
    assert statsmodels_loglike(m) == pytest.approx(m.loglik, abs=1e-6)


def test_statsmodels_calls_for_the_handout_models():
    dat = load_classroom()
    assert statsmodels_call("mathkind ~ ses + (1|schoolid)", dat) == (
        "smf.mixedlm('mathkind ~ ses', dat, groups='schoolid', re_formula='1').fit(reml=True)")
    assert statsmodels_call("mathgain ~ (1|schoolid/classid)", dat) == (
        "smf.mixedlm('mathgain ~ 1', dat, groups='schoolid', re_formula='1', "
        "vc_formula={'classid': '0 + C(classid)'}).fit(reml=True)")
    # class ids are unique across schools, so the data nest classrooms in schools even when the
    # formula writes the two factors as separate terms
    assert statsmodels_call("mathgain ~ (1|schoolid) + (1|classid)", dat) == (
        "smf.mixedlm('mathgain ~ 1', dat, groups='schoolid', re_formula='1', "
        "vc_formula={'classid': '0 + C(classid)'}).fit(reml=True)")
    assert statsmodels_call("mathkind ~ ses + (0 + ses|schoolid) + (1|schoolid)", dat) == (
        "smf.mixedlm('mathkind ~ ses', dat, groups='schoolid', re_formula='1', "
        "vc_formula={'schoolid_ses': '0 + ses'}).fit(reml=True)")
    pen = data("Penicillin")
    crossed = statsmodels_call("diameter ~ 1 + (1|plate) + (1|sample)", pen, data_name="pen")
    assert crossed.startswith('pen["_one"] = 1\n') and "groups='_one'" in crossed


def test_icc_of_the_handout_models():
    dat = load_classroom()
    m1 = lmer("mathkind ~ ses + (1|schoolid)", data=dat)
    assert icc(m1)["schoolid"] == pytest.approx(308.97 / (308.97 + 1307.51), abs=1e-4)
    m3 = lmer("mathkind ~ ses + (1|schoolid/classid)", data=dat)
    shares = icc(m3)
    assert list(shares.index) == ["classid:schoolid", "schoolid"]
    assert shares["schoolid"] == pytest.approx(301.52 / (20.44 + 301.52 + 1294.08), abs=1e-4)
    assert mixedlm_spec(m3.design).groups == "schoolid"


def test_statsmodels_likelihood_with_repeated_row_labels():
    """Data glued from two pieces (pd.concat keeps both indexes): the formula-built MixedLM
    picked each group's rows by label (data.loc) and failed; the bridge works by position."""
    dat = load_classroom()
    glued = pd.concat([dat.iloc[:600], dat.iloc[600:].reset_index(drop=True)])
    assert not glued.index.is_unique
    m = lmer("mathgain ~ ses + (1|schoolid/classid)", glued)
    assert statsmodels_loglike(m) == pytest.approx(m.loglik, abs=1e-6)
    assert m.loglik == pytest.approx(lmer("mathgain ~ ses + (1|schoolid/classid)", dat).loglik, abs=1e-6)


# -- the bridge is the model a student would type ---------------------------------------------
HANDOUT = [
    ("mathkind ~ ses + (1|schoolid)", False),
    ("mathkind ~ ses + (1|schoolid/classid)", False),
    ("mathgain ~ (1|schoolid)", False),
    ("mathgain ~ (1|schoolid/classid)", False),
    ("mathgain ~ 1 + (1|schoolid/classid)", True),
    ("mathgain ~ ses + mathknow + (1|schoolid/classid)", True),
]


def _loglike(model, fe, cov_re, vcomp, reml):
    """statsmodels' log-likelihood at given parameters (no penalties, as fit() sets them)."""
    model.reml, model.cov_pen, model.fe_pen, model._cov_sing = reml, None, None, 0
    params = MixedLMParams.from_components(fe_params=fe, cov_re=cov_re, vcomp=vcomp)
    return float(model.loglike(params, profile_fe=False))


@pytest.mark.parametrize("formula, complete", HANDOUT)
def test_the_bridge_is_the_model_a_student_types(formula, complete):
    dat = load_classroom()
    rows = dat[complete_cases(dat, "mathgain ~ ses + mathknow")] if complete else dat
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmer(formula, data=rows)
    bridge = to_mixedlm(fit.design)
    # what statsmodels_call prints, as the student would type it (without the fit)
    call = mixedlm_spec(fit.design).call("rows")
    assert "\n" not in call and call.endswith(".fit(reml=True)")
    student = eval(call.removesuffix(".fit(reml=True)"), {"smf": smf, "rows": rows})
    # the same data, grouping, random effects and names; the fixed effects named as R names them
    assert bridge.nobs == student.nobs == fit.design.n
    assert bridge.group_labels == student.group_labels
    np.testing.assert_array_equal(bridge.endog, student.endog)
    np.testing.assert_array_equal(bridge.exog, student.exog)
    assert bridge.exog_names == list(fit.fixef.index)
    assert bridge.exog_names == ["(Intercept)" if n == "Intercept" else n for n in student.exog_names]
    assert bridge.data.param_names[bridge.k_fe:] == student.data.param_names[student.k_fe:]
    assert list(bridge.data.exog_re_names) == list(student.data.exog_re_names)
    assert bridge.exog_vc.names == student.exog_vc.names
    assert bridge.exog_vc.colnames == student.exog_vc.colnames  # random_effects' labels
    # the same likelihood (REML and ML) at lme4's estimates and at another point
    ms = mixedlm_spec(fit.design)
    covs, s2 = list(fit.covariance_matrices().values()), fit.sigma ** 2
    fe = fit.fixef.to_numpy()
    cov_re = covs[ms.re_term].to_numpy() / s2
    vcomp = np.array([covs[ms.vc_terms[k]].to_numpy()[0, 0] / s2 for k in bridge.exog_vc.names])
    for point in [(fe, cov_re, vcomp), (fe + 1.0, 2.0 * cov_re, 0.5 * vcomp + 0.01)]:
        for reml in (True, False):
            ours = _loglike(bridge, *point, reml)
            assert ours == pytest.approx(_loglike(student, *point, reml), rel=1e-12, abs=1e-9)
    assert _loglike(bridge, fe, cov_re, vcomp, fit.REML) == pytest.approx(fit.loglik, abs=1e-6)


def test_the_bridge_reads_no_formula(monkeypatch):
    """from_formula runs patsy on each group's rows for every vc_formula (0.2-0.3 s here); the
    bridge builds the MixedLM from the design's arrays and never parses a formula."""
    import patsy.highlevel

    design = build_design("mathgain ~ ses + mathknow + (1|schoolid/classid)", load_classroom())

    def no_formula(*args, **kwargs):
        raise AssertionError("the bridge parsed a formula")

    monkeypatch.setattr(MixedLM, "from_formula", no_formula)
    monkeypatch.setattr(patsy.highlevel, "build_design_matrices", no_formula)
    model = to_mixedlm(design)
    assert model.k_vc == 1 and model.n_groups == design.terms[1].nlevels


def test_to_statsmodels_is_the_formula_built_model_a_student_can_keep_using():
    """m.to_statsmodels() is smf.mixedlm from the printed call: it has a formula (predict takes a
    data frame) and statsmodels' own names; fitted, it lands on the lme4 engine's criterion."""
    ss = data("sleepstudy")
    m = lmer("Reaction ~ Days + (Days|Subject)", ss)
    model = m.to_statsmodels()
    assert model.formula == "Reaction ~ Days" and model.exog_names == ["Intercept", "Days"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(reml=True, method="lbfgs")
    assert -2 * res.llf == pytest.approx(m.reml_criterion, abs=1e-3)
    np.testing.assert_allclose(res.predict(ss.head(3)), m.fixef["(Intercept)"] + m.fixef["Days"] * ss["Days"][:3],
                               rtol=1e-4)


def test_printed_calls_use_patsys_spellings_and_leave_out_what_lme4_drops():
    dat = load_classroom().assign(ses2=lambda d: 2 * d["ses"])
    # R's factor() is patsy's C(), in the fixed part and in re_formula
    call = statsmodels_call("mathkind ~ ses + factor(sex) + (1 + factor(sex)|schoolid)", dat)
    assert "factor(" not in call and "C(sex)" in call
    student = eval(call.removesuffix(".fit(reml=True)"), {"smf": smf, "dat": dat})
    assert student.exog_names == ["Intercept", "C(sex)[T.1]", "ses"] and student.k_re == 2
    # a redundant variable: lme4 drops it, and so does the printed formula
    with pytest.warns(UserWarning, match="rank deficient"):
        fit = lmer("mathkind ~ ses + ses2 + (1|schoolid)", data=dat)
    call = mixedlm_spec(fit.design).call()
    assert "mathkind ~ ses + ses2 - ses2" in call
    student = eval(call.removesuffix(".fit(reml=True)"), {"smf": smf, "dat": dat})
    assert student.exog_names == ["Intercept", "ses"]
    assert fit.to_statsmodels().exog_names == ["Intercept", "ses"]
    # a factor level no formula can leave out: the call says so, to_statsmodels is lmer's model
    dat["female"] = dat["sex"]
    with pytest.warns(UserWarning, match="rank deficient"):
        fit = lmer("mathkind ~ female + factor(sex) + (1|schoolid)", data=dat)
    assert fit.design.dropped_columns == ["factor(sex)1"]
    call = mixedlm_spec(fit.design).call()
    assert call.startswith("# lme4 drops factor(sex)1 (a rank-deficient fixed part)"), call
    assert fit.to_statsmodels().exog_names == list(fit.fixef.index) == ["(Intercept)", "female"]


def test_group_labels_statsmodels_cannot_sort_get_a_clear_message():
    from mlmcourse import CourseError

    dat = load_classroom()
    dat["school"] = [s if s % 2 else f"s{s}" for s in dat["schoolid"]]   # numbers mixed with text
    with pytest.raises(CourseError, match=r"mixes numbers and text.*astype\(str\)"):
        lmer("mathkind ~ ses + (1|school)", data=dat, engine="statsmodels")
    with pytest.raises(CourseError, match="mixes numbers and text"):
        lmer("mathkind ~ ses + (1|school)", data=dat).to_statsmodels()
    assert lmer("mathkind ~ ses + (1|school)", data=dat).ngroups["school"] == 107   # the lme4 engine fits it
