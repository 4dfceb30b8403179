"""The SD / correlation scale on which lme4 profiles the random effects, and its labels.

lme4's sd_ and cor_ parameters (devfun2's scale), and lme4's labels for the parameters
(``oldNames=FALSE``).

theta holds, per term, the lower triangle of the relative Cholesky factor column by column; the
same positions hold an SD (diagonal) or a correlation (below it) on this scale.
"""
from __future__ import annotations

import math

import numpy as np


def parameter_names(model) -> tuple[list[str], list[str]]:
    """Return lme4's labels (``oldNames=FALSE``) of the parameters.

    The variance parameters in theta's order (per term, column by column: an SD on the diagonal,
    a correlation below it), then sigma; and the fixed effects.
    """
    names = []
    for td in model.design.terms:
        p = td.p
        for c in range(p):
            for r in range(c, p):
                names.append(f"sd_{td.cnames[r]}|{td.term.group}" if r == c
                             else f"cor_{td.cnames[r]}.{td.cnames[c]}|{td.term.group}")
    return [*names, "sigma"], list(model.design.xnames)


def sdcor_from_theta(theta, sigma, tmats):
    """(SDs and correlations in theta's positions) from theta and sigma, per term."""
    out = np.empty(len(theta))
    for p, rr, cc, sl in tmats:
        T = np.zeros((p, p))
        T[rr, cc] = theta[sl]
        cov = sigma * sigma * (T @ T.T)
        sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        vals = []
        for r, c in zip(rr, cc):
            if r == c:
                vals.append(sd[r])
            else:
                den = sd[r] * sd[c]
                vals.append(cov[r, c] / den if den > 0 else 0.0)
        out[sl] = vals
    return out


def theta_from_sdcor(sdcor, sigma, tmats):
    """Return theta from SDs, correlations and sigma.

    Per term, the lower Cholesky factor of the covariance over sigma^2; a zero pivot (an SD of 0
    or a correlation of +-1) gives a zero column below it instead of failing. Also returns how
    far the correlations are from a valid (positive semi-definite) matrix, 0 when they are one:
    with three or more effects, values each within [-1, 1] can together be impossible, and the
    deviance is then penalised.
    """
    theta = np.empty(len(sdcor))
    deficit = 0.0
    for p, rr, cc, sl in tmats:
        v = sdcor[sl]
        if p == 1:
            theta[sl] = v[0] / sigma
            continue
        sd = np.zeros(p)
        C = np.eye(p)
        for r, c, x in zip(rr, cc, v):
            if r == c:
                sd[r] = x
            else:
                C[r, c] = C[c, r] = x
        S = C * np.outer(sd, sd) / (sigma * sigma)
        L = np.zeros((p, p))
        for j in range(p):
            d = S[j, j] - L[j, :j] @ L[j, :j]
            if d < 0 and S[j, j] > 0:
                deficit -= d / S[j, j]
            L[j, j] = math.sqrt(d) if d > 1e-14 * max(S[j, j], 1e-300) else 0.0
            for i in range(j + 1, p):
                L[i, j] = (S[i, j] - L[i, :j] @ L[j, :j]) / L[j, j] if L[j, j] > 0 else 0.0
        theta[sl] = L[rr, cc]
    return theta, deficit
