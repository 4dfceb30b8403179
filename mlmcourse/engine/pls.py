"""lme4's profiled deviance by penalized least squares (Bates et al. 2015, JSS 67(1), sect. 3).

For relative covariance factor Lambda(theta) and spherical random effects u:

    A = Lambda' Z'Z Lambda + I
    min over beta, u of  ||y - X beta - Z Lambda u||^2 + ||u||^2  = r^2(theta)
    R_X'R_X = X'X - X'Z Lambda A^-1 Lambda' Z'X
    ML   deviance:  log|A| + n (1 + log(2 pi r^2 / n))
    REML criterion: log|A| + log|R_X'R_X| + (n - p)(1 + log(2 pi r^2 / (n - p)))

Z'Z, Z'X, Z'y, X'X, X'y and y'y are computed once; each evaluation works on q x q and q x p
matrices only (sparse LU of A), so a fit costs little even with 100,000 observations.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .design import Design
from .factor import ScalarTermsFactor, SparseLUFactor


@dataclass
class PLSState:
    """Everything the PLS solution gives at one theta."""

    theta: np.ndarray
    beta: np.ndarray
    u: np.ndarray
    r2: float           # penalized residual sum of squares
    ldA: float          # log |A|  (lme4's log|L|^2)
    ldRX: float         # log |R_X'R_X|
    RXtRX: np.ndarray


class ProfiledDeviance:
    """The deviance of a linear mixed model as a function of theta (and of theta, sigma)."""

    def __init__(self, design: Design):
        self.design = design
        Z = design.Z.tocsc()
        X, y = design.X, design.y
        self.n, self.p = X.shape
        self.q = Z.shape[1]
        self.ZtZ = (Z.T @ Z).tocsc()
        self.ZtX = np.asarray(Z.T @ X)
        self.Zty = np.asarray(Z.T @ y).ravel()
        self.XtX = X.T @ X
        self.Xty = X.T @ y
        self.yty = float(y @ y)
        self._build_lambda_template()

    # -- theta <-> Lambda -------------------------------------------------------------------
    def _build_lambda_template(self) -> None:
        rows, cols, idx, lower, diag_pos = [], [], [], [], []
        k = 0
        for td in self.design.terms:
            p = td.p
            tri = [(r, c) for c in range(p) for r in range(c, p)]  # column-major lower triangle
            for j, (r, c) in enumerate(tri):
                lower.append(0.0 if r == c else -np.inf)
                if r == c:
                    diag_pos.append(k + j)
            base = td.offset + np.arange(td.nlevels) * p
            for j, (r, c) in enumerate(tri):
                rows.append(base + r)
                cols.append(base + c)
                idx.append(np.full(td.nlevels, k + j))
            k += len(tri)
        rows, cols, idx = (np.concatenate(a) for a in (rows, cols, idx))
        lam = sp.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(self.q, self.q))
        # map each stored entry of the CSC matrix to its theta index
        order = sp.csc_matrix((idx + 1.0, (rows, cols)), shape=(self.q, self.q))
        order.sort_indices()
        lam.sort_indices()
        self._lam = lam
        self._lind = order.data.astype(int) - 1
        # fast path: every term a scalar (random intercepts, uncorrelated slopes) -> Lambda diagonal
        self._diag_lambda = all(td.p == 1 for td in self.design.terms)
        if self._diag_lambda:
            self._diag_theta = np.concatenate(
                [np.full(td.nlevels, i) for i, td in enumerate(self.design.terms)])
            self._scalar = ScalarTermsFactor(self.ZtZ, self.design.terms[0].q)
        self.ntheta = k
        self.lower = np.array(lower)
        self.diag_index = np.array(diag_pos, dtype=int)

    def theta_start(self) -> np.ndarray:
        """lme4's start values.

        1 on the diagonal of each factor and 0 off it; but when every term is a random
        intercept, lme4 (mkLmerDevfun) starts from the variance of the group means of y
        relative to what is left: theta_k = sqrt(var(mean of y by group k) / v_e)."""
        t = np.zeros(self.ntheta)
        t[self.diag_index] = 1.0
        terms = self.design.terms
        if all(td.cnames == ["(Intercept)"] for td in terms):
            y = self.design.y
            v = []
            for td in terms:
                sums = np.bincount(td.codes, weights=y, minlength=td.nlevels)
                counts = np.bincount(td.codes, minlength=td.nlevels)
                v.append(np.var((sums / counts)[td.codes], ddof=1))
            v_e = np.var(y, ddof=1) - sum(v)
            if v_e > 0:
                t = np.sqrt(np.array(v) / v_e)
        return t

    def lambda_of(self, theta: np.ndarray) -> sp.csc_matrix:
        lam = self._lam.copy()
        lam.data = np.asarray(theta, dtype=float)[self._lind]
        return lam

    # -- the PLS solution ---------------------------------------------------------------------
    def solve(self, theta: np.ndarray) -> PLSState:
        theta = np.asarray(theta, dtype=float)
        if self._diag_lambda:  # Lambda diagonal: scale vectors, factor by Schur complement
            lam_diag = theta[self._diag_theta]
            fac = self._scalar.factor(lam_diag)
            LtZty = lam_diag * self.Zty
            LtZtX = lam_diag[:, None] * self.ZtX
        else:
            lam = self.lambda_of(theta)
            fac = SparseLUFactor((lam.T @ self.ZtZ @ lam + sp.identity(self.q, format="csc")).tocsc())
            LtZty = lam.T @ self.Zty
            LtZtX = np.asarray(lam.T @ self.ZtX)
        ldA = fac.logdet
        sol = fac.solve(np.column_stack([LtZty, LtZtX]))
        cu, CX = sol[:, 0], sol[:, 1:]
        RXtRX = self.XtX - LtZtX.T @ CX
        RXtRX = 0.5 * (RXtRX + RXtRX.T)
        cR = sla.cho_factor(RXtRX, lower=True, check_finite=False)
        ldRX = 2.0 * float(np.sum(np.log(np.diag(cR[0]))))
        beta = sla.cho_solve(cR, self.Xty - LtZtX.T @ cu, check_finite=False)
        u = cu - CX @ beta
        r2 = self.yty - float(u @ LtZty) - float(beta @ self.Xty)
        return PLSState(theta=np.asarray(theta, float), beta=beta, u=u, r2=max(r2, 1e-300),
                        ldA=ldA, ldRX=ldRX, RXtRX=RXtRX)

    # -- deviances ----------------------------------------------------------------------------
    def profiled(self, theta: np.ndarray, reml: bool) -> float:
        """REML criterion (reml=True) or ML deviance, with beta and sigma profiled out."""
        try:
            s = self.solve(theta)
        except (np.linalg.LinAlgError, RuntimeError, ValueError):
            return np.inf
        return self.profiled_from(s, reml)

    def profiled_from(self, s: PLSState, reml: bool) -> float:
        n, p = self.n, self.p
        if reml:
            nmp = n - p
            return s.ldA + s.ldRX + nmp * (1.0 + np.log(2.0 * np.pi * s.r2 / nmp))
        return s.ldA + n * (1.0 + np.log(2.0 * np.pi * s.r2 / n))

    def sigma_from(self, s: PLSState, reml: bool) -> float:
        return float(np.sqrt(s.r2 / (self.n - self.p if reml else self.n)))

    def deviance_varpar(self, varpar: np.ndarray, reml: bool) -> float:
        """Deviance at (theta, sigma) with beta profiled, sigma NOT profiled (lmerTest's devfun_vp)."""
        theta, sigma = varpar[:-1], varpar[-1]
        s = self.solve(theta)
        s2 = sigma * sigma
        dev = s.ldA + s.r2 / s2 + self.n * np.log(2.0 * np.pi * s2)
        if reml:
            dev += s.ldRX - self.p * np.log(2.0 * np.pi * s2)
        return float(dev)

    def vcov_varpar_beta(self, varpar: np.ndarray) -> np.ndarray:
        """Covariance of beta-hat at (theta, sigma): sigma^2 (R_X'R_X)^-1."""
        s = self.solve(varpar[:-1])
        return varpar[-1] ** 2 * np.linalg.inv(s.RXtRX)
