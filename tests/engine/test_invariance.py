"""Affine changes of the outcome or of a predictor leave the fit where it was.

With an intercept in the model, y -> a (y + b) and ses -> a (ses + b) give the same model in
other units: theta, the t value, df and p of the ses slope, the df of every coefficient (under
changes of y) and the convergence do not move; sigma scales with a; the REML criterion moves by
the Jacobian term only: 2 (n - p) log|a| when y is rescaled (ML: 2 n log|a|), 2 log|a| when ses
is (the log|R_X'R_X| term; ML: nothing). Offsets and scales are random draws (fixed seeds):
offsets 0..1e9 of y (mathkind is a whole number, so y + b is exact), 0..1e5 of ses (beyond ~1e7
standard deviations lme4's rank check, and checks.py's, drops the column as collinear with the
intercept), scales 1e-6..1e6, log-uniform.

Before pls.py computed r^2 in well-conditioned coordinates, an offset of 3.5e8 moved theta by
15% and the REML criterion by 107 (with "converged"). Measured now, over these draws: theta
within 2e-8 (relative), t within 3e-9, df within 3e-8, p within 2e-7, the criterion within 1e-7
of the shifted value. The tolerances below are those with a margin of about five. Where lmerTest
drops an eigenvalue of the variance parameters' Hessian (its tolerance is absolute), the df move
as they move in R, which the last test checks against R's numbers.
"""
from __future__ import annotations

from functools import cache

import numpy as np
import pytest

import mlmcourse

THETA_REL = 1e-7
T_REL = 2e-8
DF_REL = 2e-7
P_REL = 1e-6
SIGMA_REL = 1e-7
CRIT_ABS = 1e-6

FORMULAS = ["mathkind ~ ses + (1|schoolid)", "mathkind ~ ses + (1|schoolid/classid)"]


@cache
def data():
    return mlmcourse.load_classroom()


@cache
def base(formula: str, reml: bool):
    return mlmcourse.lmer(formula, data=data(), REML=reml)


def draws(seed: int, max_offset_exp: float, n: int = 3):
    """(offset, scale) pairs: one pure rescaling, then offsets with scales."""
    rng = np.random.default_rng(seed)
    out = [(0.0, float(10 ** rng.uniform(-6, 6)))]
    for _ in range(n - 1):
        out.append((float(np.floor(10 ** rng.uniform(0, max_offset_exp))), float(10 ** rng.uniform(-6, 6))))
    return out


def rel(got, want):
    got, want = np.asarray(got, float), np.asarray(want, float)
    return float(np.max(np.abs(got - want) / np.abs(want)))


CASES = [(f, reml, var, seed) for f in FORMULAS for reml in (True, False)
         for var, seed in (("mathkind", 1), ("ses", 2))]


@pytest.mark.parametrize("formula, reml, var, seed", CASES)
def test_affine_change_leaves_the_fit_unchanged(formula, reml, var, seed):
    m0 = base(formula, reml)
    ct0 = m0.coef_table
    n, p = m0.nobs, len(ct0)
    for offset, scale in draws(seed + 10 * FORMULAS.index(formula) + (5 if reml else 0),
                               9 if var == "mathkind" else 5):
        d = data().copy()
        d[var] = (d[var] + offset) * scale
        m = mlmcourse.lmer(formula, data=d, REML=reml)
        ct = m.coef_table
        what = f"{var} -> {scale:.3g} ({var} + {offset:.3g})"
        assert m.converged == m0.converged, what
        assert rel(m.theta, m0.theta) < THETA_REL, what
        assert rel(ct.loc["ses", "t value"], ct0.loc["ses", "t value"]) < T_REL, what
        if m.satterthwaite_notes:
            # lmerTest's tolerance on the Hessian's eigenvalues is absolute (1e-8): with y in
            # units ~1e5 times larger the residual SD's eigenvalue falls below it and is dropped,
            # and the df change -- in R too (test_lmertest_drops_the_eigenvalue_as_r_does)
            assert var == "mathkind" and scale > 1e4, what
            assert list(m.satterthwaite_notes) == ["zero"], what
            continue
        assert rel(ct.loc["ses", "Pr(>|t|)"], ct0.loc["ses", "Pr(>|t|)"]) < P_REL, what
        if var == "mathkind":
            shift = (2 * (n - p) if reml else 2 * n) * np.log(scale)
            assert rel(m.sigma, scale * m0.sigma) < SIGMA_REL, what
            assert rel(ct["df"], ct0["df"]) < DF_REL, what
            assert rel(ct["Std. Error"], scale * ct0["Std. Error"]) < SIGMA_REL, what
        else:
            shift = 2 * np.log(scale) if reml else 0.0
            assert rel(m.sigma, m0.sigma) < SIGMA_REL, what
            assert rel(ct.loc["ses", "df"], ct0.loc["ses", "df"]) < DF_REL, what
            assert rel(ct.loc["ses", "Estimate"], ct0.loc["ses", "Estimate"] / scale) < SIGMA_REL, what
        if offset == 0.0:   # a pure rescaling: the intercept's t and df stay too
            assert rel(ct["t value"], ct0["t value"]) < T_REL, what
            assert rel(ct["df"], ct0["df"]) < DF_REL, what
        assert abs(m.criterion - (m0.criterion + shift)) < CRIT_ABS, what


@pytest.mark.parametrize("offset", [0.0, 1e3, 1e5])
def test_vcov_agrees_with_the_coefficient_table_far_from_zero(offset):
    """The correlation of fixed effects in the summary comes from m.vcov: it must carry the
    table's standard errors exactly, however far from zero a predictor sits."""
    dat = data()
    m = mlmcourse.lmer("mathkind ~ ses + (1|schoolid)", data=dat.assign(ses=dat["ses"] + offset))
    se = m.coef_table["Std. Error"].to_numpy()
    np.testing.assert_allclose(np.sqrt(np.diag(m.vcov.to_numpy())), se, rtol=1e-12)


def test_lmertest_drops_the_eigenvalue_as_r_does():
    """R 4.x, lme4 1.1-31, lmerTest 3.1-3 on the classroom data:
        dat$y <- (dat$mathkind + 2350) * 707000; m <- lmer(y ~ ses + (1|schoolid), data = dat)
    warns "Model may not have converged with 1 eigenvalue close to zero: 6.6e-12" and gives ses
    df 13046.10013, p 1.567831e-11 (unscaled: df 1187.99546, p 2.345118e-11)."""
    d = data().copy()
    d["y"] = (d["mathkind"] + 2350) * 707000
    note = "Model may not have converged with 1 eigenvalue close to zero: 6.6e-12"
    with pytest.warns(UserWarning, match=note) as record:
        ct = mlmcourse.lmer("y ~ ses + (1|schoolid)", data=d).coef_table
    assert [w.filename for w in record if note in str(w.message)] == [__file__]  # the caller's line
    assert abs(ct.loc["ses", "df"] - 13046.10013) < 0.05
    assert abs(ct.loc["ses", "Pr(>|t|)"] / 1.567831e-11 - 1) < 1e-5
    assert abs(ct.loc["(Intercept)", "df"] - 98.76698) < 1e-3
