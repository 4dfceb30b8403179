"""all_fit (lme4's allFit) and where the fit's warnings point.

all_fit refits with several optimisers and reports each one's criterion and estimates; it never
changes the model. Warnings from lmer() point at the student's line, also when the fit happens
inside the course (anova's ML refit), not at a fixed depth of the course's own calls."""
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlmcourse
from mlmcourse.engine.fit import ConvergenceWarning
from mlmcourse.engine.optimize import OPTIMIZERS, SINGULAR_MESSAGE

DATA = Path(__file__).resolve().parents[1] / "reference" / "data"
LME4_BW_SLOPE = 1151.7199567501327     # lme4's REML criterion (parity_cases.json, bw.slope)


@pytest.fixture(scope="module")
def bodyweight():
    return pd.read_csv(DATA / "BodyWeight.csv")


def test_all_fit_reports_every_optimizer_and_leaves_the_model_alone(bodyweight):
    """An ill-conditioned model (lme4 warns max|grad| = 0.0169 on it; the course's own end point
    depends on the CPU's rounding: 2.1e-4 below lme4's criterion on SkylakeX, 2.73 above it, with
    a warning, under OPENBLAS_CORETYPE=Prescott). Which optimisers agree is not asserted; the
    table's structure is, the model is left alone, and the lowest row reaches lme4's criterion
    (measured 1151.7197488 under SkylakeX, Prescott, Haswell and Sandybridge; lme4 1151.7199568)."""
    m = mlmcourse.lmer("weight ~ Time * factor(Diet) + (Time|Rat)", data=bodyweight)
    theta, crit, messages = m.theta.copy(), m.criterion, list(m.optinfo.messages)
    table = mlmcourse.all_fit(m)
    assert list(table.index) == [f"(this fit: {m.optinfo.optimizer})", *OPTIMIZERS]
    assert list(table.columns[:3]) == ["REML criterion", "above lowest", "checkConv"]
    assert list(table.columns[3:6]) == ["theta1", "theta2", "theta3"]
    assert table["REML criterion"].iloc[0] == m.criterion
    assert table["above lowest"].min() == 0.0
    np.testing.assert_allclose(table["above lowest"],
                               table["REML criterion"] - table["REML criterion"].min())
    assert table["REML criterion"].min() <= LME4_BW_SLOPE * (1 + 1e-8)
    np.testing.assert_array_equal(m.theta, theta)          # the model is not replaced
    assert m.criterion == crit and m.optinfo.messages == messages
    assert list(m.all_fit(optimizers=["scipy.L-BFGS-B"]).index)[1:] == ["scipy.L-BFGS-B"]


def test_all_fit_optimizers_agree_on_a_well_conditioned_model():
    """sleepstudy's random slope: from the fit's estimates every optimiser ends within 6e-9 of the
    lowest criterion (measured under SkylakeX, Prescott, Haswell and Sandybridge), so the fixed
    effects agree to lme4's printed digits."""
    d = pd.read_csv(DATA / "sleepstudy.csv")
    m = mlmcourse.lmer("Reaction ~ Days + (Days|Subject)", data=d)
    table = mlmcourse.all_fit(m)
    assert table["above lowest"].max() < 1e-6
    for name in ("(Intercept)", "Days"):
        np.testing.assert_allclose(table[name], m.fixef[name], rtol=0, atol=5e-5)
    assert table["REML criterion"].min() == pytest.approx(1743.6283, abs=1e-4)   # lme4: 1743.6283


def test_all_fit_refuses_unknown_optimizers_and_starts(bodyweight):
    m = mlmcourse.lmer("weight ~ Time + (1|Rat)", data=bodyweight)
    with pytest.raises(mlmcourse.CourseError, match="unknown optimizer 'bfgs'"):
        mlmcourse.all_fit(m, optimizers=["bfgs"])
    with pytest.raises(mlmcourse.CourseError, match="start"):
        m.all_fit(start="zero")
    with pytest.raises(mlmcourse.CourseError, match="takes a model from lmer"):
        mlmcourse.all_fit("m")


def test_singular_warning_in_lme4s_words_points_at_the_callers_line():
    d = pd.read_csv(DATA / "Dyestuff2.csv")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = mlmcourse.lmer("Yield ~ 1 + (1|Batch)", data=d)
    w = [c for c in caught if issubclass(c.category, ConvergenceWarning)]
    assert len(w) == 1 and str(w[0].message).startswith(SINGULAR_MESSAGE + "\n")
    assert w[0].filename == __file__
    assert m.singular and m.optinfo.messages == [SINGULAR_MESSAGE]


def test_warnings_of_a_refit_inside_anova_point_at_the_callers_line():
    d = pd.read_csv(DATA / "Dyestuff2.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m0 = mlmcourse.lmer("Yield ~ 1 + (1|Batch)", data=d)
        m1 = mlmcourse.lmer("Yield ~ 1 + (1|Batch)", data=d)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mlmcourse.anova(m0, m1, refit=True)          # refits both by ML: singular again
    w = [c for c in caught if issubclass(c.category, ConvergenceWarning)]
    assert w and all(c.filename == __file__ for c in w)


def test_all_fit_takes_one_name_and_lme4s_names(bodyweight):
    m = mlmcourse.lmer("weight ~ Time + (1|Rat)", data=bodyweight)
    assert list(mlmcourse.all_fit(m, optimizers="scipy.Powell").index)[1:] == ["scipy.Powell"]
    # lme4's allFit names run the course's optimiser of the same algorithm, shown by its name
    table = mlmcourse.all_fit(m, optimizers=["bobyqa", "nloptwrap.NLOPT_LN_BOBYQA", "optimx.L-BFGS-B",
                                             "Nelder_Mead"])
    assert list(table.index)[1:] == ["nloptwrap", "scipy.L-BFGS-B", "nloptwrap.NLOPT_LN_NELDERMEAD"]
    with pytest.raises(mlmcourse.CourseError, match="nlminbwrap") as info:
        mlmcourse.all_fit(m, optimizers="nlminbwrap")
    assert "unknown optimizer 'n'" not in str(info.value)
