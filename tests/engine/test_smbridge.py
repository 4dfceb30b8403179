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
    ("classroom", "mathgain ~ ses + (ses|schoolid)", True),
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
