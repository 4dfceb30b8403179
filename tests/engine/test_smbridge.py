"""mlmcourse's fits are statsmodels MixedLM models: statsmodels' own likelihood, evaluated at
mlmcourse's estimates, equals mlmcourse's (REML and ML; nested, crossed, slopes)."""
import warnings

import pandas as pd
import pytest

from mlmcourse import icc, lmer, load_classroom
from mlmcourse.engine.smbridge import mixedlm_spec, statsmodels_call, statsmodels_loglike

REF = "tests/reference/data/"
CASES = [
    ("classroom", "mathkind ~ ses + (1|schoolid/classid)", True),
    ("classroom", "mathgain ~ ses + (ses|schoolid)", True),
    ("classroom", "mathgain ~ ses + mathknow + (1|schoolid/classid)", False),
    ("Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)", True),
    ("sleepstudy", "Reaction ~ Days + (Days||Subject)", False),
    ("sleepstudy", "Reaction ~ Days + (Days|Subject)", True),
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
