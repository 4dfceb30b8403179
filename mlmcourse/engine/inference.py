"""lmerTest's inference on a fitted model: Satterthwaite df, t and p; and the ICC.

Satterthwaite (Kuznetsova, Brockhoff & Christensen 2017, JSS 82(13)): for a contrast L,

    df = 2 (L C L')^2 / (g' A g),   g_i = L (dC / d varpar_i) L',   A = 2 H^-1

where C = sigma^2 (R_X'R_X)^-1 is the covariance of beta-hat as a function of the variance
parameters varpar = (theta, sigma) (sigma included, as lmerTest does), and H is the Hessian of
the (not profiled) deviance in varpar. H is numerical with Richardson extrapolation (r = 4),
the method lmerTest takes from numDeriv; dC/d varpar is analytic from one solve (it matches
Richardson to ~1e-10; the df move by at most 3e-9 relative on the 25 lme4 reference models).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ..errors import CourseError
from .numderiv import hessian


class SatterthwaiteWarning(UserWarning):
    """Warn as lmerTest does about the Hessian of the variance parameters.

    Negative or near-zero eigenvalues, which lmerTest reports when lmer() returns.
    """


EIGEN_TOL = 1e-8  # lmerTest's as_lmerModLT(tol = 1e-8): absolute, on the Hessian's eigenvalues


def _eigen_list(values: np.ndarray) -> str:
    return " ".join(f"{v:1.1e}" for v in values)   # R's sprintf("%1.1e")


def vcov_varpar(H: np.ndarray) -> tuple[np.ndarray, dict]:
    """Return lmerTest's covariance of the variance parameters, 2 H^-1, by pseudo-inverse.

    The eigen-decomposition of the Hessian with every eigenvalue not above EIGEN_TOL dropped
    (negative ones and those near zero), and lmerTest's warnings for them in its words.
    """
    values, vectors = np.linalg.eigh(0.5 * (H + H.T))
    order = np.argsort(values)[::-1]                      # R's eigen(): decreasing
    values, vectors = values[order], vectors[:, order]
    neg, pos = values < -EIGEN_TOL, values > EIGEN_TOL
    zero = ~neg & ~pos
    notes = {}
    if neg.any():
        word = "eigenvalues" if neg.sum() > 1 else "eigenvalue"
        notes["negative"] = (f"Model failed to converge with {int(neg.sum())} negative {word}: "
                             f"{_eigen_list(values[neg])}")
    if zero.any():
        word = "eigenvalues" if zero.sum() > 1 else "eigenvalue"
        notes["zero"] = (f"Model may not have converged with {int(zero.sum())} {word} close to "
                         f"zero: {_eigen_list(values[zero])}")
    V = vectors[:, pos]
    return 2.0 * (V / values[pos]) @ V.T, notes


def satterthwaite_table(dev, theta: np.ndarray, sigma: float, beta: np.ndarray,
                        names: list[str], reml: bool) -> tuple[pd.DataFrame, dict]:
    """Return lmerTest's coefficient table: Estimate, Std. Error, df, t value, Pr(>|t|).

    The Hessian is numDeriv's (Richardson extrapolation, as lmerTest), and each of its points
    needs a PLS solve at its theta only: sigma enters the deviance analytically, so the points
    that differ only in sigma share one solve (kept by the bytes of theta; the numbers are those
    of one solve per point). The Jacobian of C = sigma^2 (R_X'R_X)^-1 is analytic (one solve at
    the estimate, pls.vcov_theta_derivatives; dC/dsigma = 2 C / sigma): it agrees with
    numDeriv's to ~1e-10, and the df with ~3e-9 (relative) on the 25 lme4 reference models.
    """
    varpar = np.append(np.asarray(theta, float), sigma)
    solves: dict[bytes, object] = {}

    def at(v: np.ndarray):
        key = v[:-1].tobytes()
        if key not in solves:
            solves[key] = dev.varpar_terms(v[:-1])
        return solves[key]

    F = at(varpar).F
    C = sigma ** 2 * (F @ F.T)
    H = hessian(lambda v: dev.deviance_at(at(v), v[-1], reml), varpar)
    dC = [*dev.vcov_theta_derivatives(theta, sigma), 2.0 * C / sigma]
    A, notes = vcov_varpar(H)
    se = np.sqrt(np.diag(C))
    df = np.empty(len(beta))
    for i in range(len(beta)):
        g = np.array([dCk[i, i] for dCk in dC])
        denom = float(g @ A @ g)
        df[i] = 2.0 * C[i, i] ** 2 / denom if denom > 0 else np.nan
    tval = beta / se
    pval = 2.0 * special.stdtr(df, -np.abs(tval))  # two-sided t tail (scipy.stats imports slowly)
    table = pd.DataFrame({"Estimate": beta, "Std. Error": se, "df": df, "t value": tval,
                          "Pr(>|t|)": pval}, index=pd.Index(names, name=None))
    return table, notes


def icc_from_sd(sigma_between: float, sigma_within: float) -> float:
    """Return the ICC a random-intercept model implies: sigma_b^2 / (sigma_b^2 + sigma_w^2).

    It is the correlation of two observations of the same group (net of the fixed effects).
    """
    total = sigma_between ** 2 + sigma_within ** 2
    if not total > 0:
        raise CourseError("With both standard deviations at 0 the ICC is undefined; raise one of them.")
    return sigma_between ** 2 / total


def icc(model, **unsupported) -> pd.Series:
    """Intraclass correlations: each random-intercept variance over the total variance.

    For ``(1 | schoolid)`` this is sigma_zeta^2 / (sigma_zeta^2 + sigma_eps^2), the correlation of
    two students of the same school (net of the fixed effects). With nested effects
    ``(1 | schoolid/classid)`` the share of each level is given; the correlation of two students
    in the same classroom is the sum of the classroom and school shares. Models with random
    slopes have no single ICC (it depends on x): only intercept variances are used, and the
    result says so in its name.
    """
    from .arguments import refuse_unsupported
    refuse_unsupported("icc", unsupported)
    if not hasattr(model, "varcorr") or not hasattr(model, "design"):
        raise CourseError(f"icc() takes a model from lmer(); got {type(model).__name__}.")
    vc = model.varcorr
    resid = float(vc.loc[vc["Groups"] == "Residual", "Variance"].iloc[0])
    intercepts = vc[vc["Name"] == "(Intercept)"]
    if intercepts.empty:
        terms = ", ".join(td.term.label for td in model.design.terms)
        raise CourseError(
            f"icc() needs a random intercept, and this model has none ({terms}): the ICC is the "
            "share of the variance that lies between groups in their intercepts. Add one, e.g. "
            "(1 | schoolid) or (1 + ses | schoolid) instead of (0 + ses | schoolid)."
        )
    has_slopes = bool(((vc["Groups"] != "Residual") & (vc["Name"] != "(Intercept)")).any())
    total = float(intercepts["Variance"].sum()) + resid
    name = "ICC (intercepts only; slopes vary with x)" if has_slopes else "ICC"
    return pd.Series(intercepts["Variance"].to_numpy() / total,
                     index=intercepts["Groups"].to_numpy(), name=name)
