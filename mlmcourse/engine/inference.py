"""lmerTest's inference on a fitted model: Satterthwaite df, t and p; and the ICC.

Satterthwaite (Kuznetsova, Brockhoff & Christensen 2017, JSS 82(13)): for a contrast L,

    df = 2 (L C L')^2 / (g' A g),   g_i = L (dC / d varpar_i) L',   A = 2 H^-1

where C = sigma^2 (R_X'R_X)^-1 is the covariance of beta-hat as a function of the variance
parameters varpar = (theta, sigma) (sigma included, as lmerTest does), and H is the Hessian of
the (not profiled) deviance in varpar. Derivatives are numerical with Richardson
extrapolation, the method lmerTest takes from numDeriv.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ..errors import CourseError

_ZERO_TOL = np.sqrt(np.finfo(float).eps / 7e-7)


def _steps(x: np.ndarray, d: float, eps: float) -> np.ndarray:
    return np.abs(d * x) + eps * (np.abs(x) < _ZERO_TOL)


def _richardson(estimates: list, r: int) -> np.ndarray:
    """Combine estimates at steps h, h/2, h/4, ... (error in h^2, h^4, ...)."""
    a = [np.asarray(e, dtype=float) for e in estimates]
    for m in range(1, r):
        f = 4.0 ** m
        a = [(f * a[k + 1] - a[k]) / (f - 1.0) for k in range(len(a) - 1)]
    return a[0]


def hessian(f, x: np.ndarray, d: float = 0.1, eps: float = 1e-4, r: int = 4) -> np.ndarray:
    """Hessian of a scalar function by central differences and Richardson extrapolation."""
    x = np.asarray(x, dtype=float)
    k = len(x)
    f0 = f(x)
    h0 = _steps(x, d, eps)
    ests = []
    for level in range(r):
        h = h0 / 2.0 ** level
        H = np.zeros((k, k))
        for i in range(k):
            ei = np.zeros(k)
            ei[i] = h[i]
            H[i, i] = (f(x + ei) - 2.0 * f0 + f(x - ei)) / h[i] ** 2
            for j in range(i):
                ej = np.zeros(k)
                ej[j] = h[j]
                H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                     + f(x - ei - ej)) / (4.0 * h[i] * h[j])
        ests.append(H)
    return _richardson(ests, r)


def jacobian(f, x: np.ndarray, d: float = 1e-4, eps: float = 1e-4, r: int = 4) -> list[np.ndarray]:
    """Derivatives of an array-valued function, one array per coordinate of x."""
    x = np.asarray(x, dtype=float)
    h0 = _steps(x, d, eps)
    out = []
    for i in range(len(x)):
        ests = []
        for level in range(r):
            h = h0[i] / 2.0 ** level
            e = np.zeros(len(x))
            e[i] = h
            ests.append((f(x + e) - f(x - e)) / (2.0 * h))
        out.append(_richardson(ests, r))
    return out


def satterthwaite_table(dev, theta: np.ndarray, sigma: float, beta: np.ndarray,
                        names: list[str], reml: bool) -> tuple[pd.DataFrame, dict]:
    """lmerTest's coefficient table: Estimate, Std. Error, df, t value, Pr(>|t|)."""
    varpar = np.append(np.asarray(theta, float), sigma)
    C = dev.vcov_varpar_beta(varpar)
    H = hessian(lambda v: dev.deviance_varpar(v, reml), varpar)
    dC = jacobian(dev.vcov_varpar_beta, varpar)
    notes = {}
    eig = np.linalg.eigvalsh(0.5 * (H + H.T))
    if np.min(eig) <= 0:
        notes["hessian"] = ("The Hessian of the variance parameters is not positive definite: "
                            "Satterthwaite df may be inaccurate (as lmerTest warns).")
    A = 2.0 * np.linalg.pinv(H)
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


def icc(model) -> pd.Series:
    """Intraclass correlations: each random-intercept variance over the total variance.

    For ``(1 | schoolid)`` this is sigma_zeta^2 / (sigma_zeta^2 + sigma_eps^2), the correlation of
    two students of the same school (net of the fixed effects). With nested effects
    ``(1 | schoolid/classid)`` the share of each level is given; the correlation of two students
    in the same classroom is the sum of the classroom and school shares. Models with random
    slopes have no single ICC (it depends on x): only intercept variances are used, and the
    result says so in its name."""
    if not hasattr(model, "varcorr") or not hasattr(model, "design"):
        raise CourseError(f"icc() takes a model from lmer(); got {type(model).__name__}.")
    vc = model.varcorr
    resid = float(vc.loc[vc["Groups"] == "Residual", "Variance"].iloc[0])
    intercepts = vc[vc["Name"] == "(Intercept)"]
    has_slopes = bool(((vc["Groups"] != "Residual") & (vc["Name"] != "(Intercept)")).any())
    total = float(intercepts["Variance"].sum()) + resid
    name = "ICC (intercepts only; slopes vary with x)" if has_slopes else "ICC"
    return pd.Series(intercepts["Variance"].to_numpy() / total,
                     index=intercepts["Groups"].to_numpy(), name=name)
