"""lme4's profiled deviance by penalized least squares (Bates et al. 2015, JSS 67(1), sect. 3).

For Lambda(theta) (the random effects' covariance is sigma^2 Lambda Lambda') and spherical
random effects u:

    A = Lambda' Z'Z Lambda + I
    min over beta, u of  ||y - X beta - Z Lambda u||^2 + ||u||^2  = r^2(theta)
    R_X'R_X = X'X - X'Z Lambda A^-1 Lambda' Z'X
    ML   deviance:  log|A| + n (1 + log(2 pi r^2 / n))
    REML criterion: log|A| + log|R_X'R_X| + (n - p)(1 + log(2 pi r^2 / (n - p)))

Z'Z, Z'X, Z'y, X'X, X'y and y'y are computed once; each evaluation works on q x q and q x p
matrices only (linalg/: the plan is built once per model), so a fit costs little even with
1,000,000 observations.

Numerics. r^2 is y'y minus what X and Z Lambda explain, a difference that cancels when y'y is
far larger than r^2: an outcome measured as 1e9 + y kept no digit of r^2. So the PLS runs in
well-conditioned coordinates, set up once: X = Q R_q (thin QR; Q orthonormal) and y replaced by
its OLS residual y~ = y - Q Q'y (orthogonal to X). The model is the same (y - X beta = y~ - Q
beta~ with beta~ = R_q beta - Q'y), y~'y~ is the OLS residual sum of squares, and the results are
transformed back: beta = R_q^-1 (beta~ + Q'y), R_X'R_X = R_q' R~_X'R~_X R_q, log|R_X'R_X| =
log|R~_X'R~_X| + 2 log|det R_q|. Shifting or rescaling y or a predictor (with an intercept in the
model) then leaves theta, t values and df where they were (tests/engine/test_invariance.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from .design import Design
from .linalg.layout import ThetaLayout
from .linalg.plan import build_plan
from .linalg.protocol import Factorization


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


@dataclass(frozen=True)
class PLSCore:
    """What one factorisation at theta gives: enough for the deviance and vcov of beta-hat.

    R~_X'R~_X = L_X L_X' (transformed coordinates, see the module's note) and
    w = L_X^-1 (X~'y~ - X~'Z Lambda A^-1 Lambda'Z'y~), so that r2 = y~'y~ - ... - w'w.
    """

    chol: Factorization
    ldA: float          # log |A|
    Lx: np.ndarray      # L_X
    w: np.ndarray
    r2: float           # penalized residual sum of squares
    ldRX: float         # log |R_X'R_X|
    Rq: np.ndarray      # X = Q R_q

    @property
    def F(self) -> np.ndarray:
        """(R_X'R_X)^-1 = R_q^-1 L_X^-T L_X^-1 R_q^-T = F F',  F = R_q^-1 L_X^-T."""
        if self.Lx.size == 0:
            return np.zeros((0, 0))
        Li, _ = lapack.dtrtri(self.Lx, lower=1)
        F, _ = lapack.dtrtrs(self.Rq, np.ascontiguousarray(Li.T), lower=0)
        return F


def profiled_criterion(ldA: float, ldRX: float, r2: float, n: int, p: int, reml: bool) -> float:
    """REML criterion (reml=True) or ML deviance, with beta and sigma profiled out."""
    if reml:
        nmp = n - p
        return ldA + ldRX + nmp * (1.0 + math.log(2.0 * math.pi * r2 / nmp))
    return ldA + n * (1.0 + math.log(2.0 * math.pi * r2 / n))


def _chol(M: np.ndarray) -> np.ndarray:
    L, info = lapack.dpotrf(M, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError("R_X'R_X is not positive definite")
    return L


def _logdet2(L: np.ndarray) -> float:
    """Return 2 log|det L| of a triangular L (the product first: one log for small p)."""
    d = L.diagonal()
    prod = float(d.prod())
    if 1e-280 < prod < 1e280:
        return 2.0 * math.log(prod)
    return 2.0 * float(np.log(np.abs(d)).sum())


class ProfiledDeviance:
    """The deviance of a linear mixed model as a function of theta (and of theta, sigma).

    ``strategy`` names the Cholesky strategy of linalg/ ("auto": chosen by the terms).
    """

    def __init__(self, design: Design, strategy: str = "auto"):
        self.design = design
        Z = design.Z.tocsc()
        X, y = np.asarray(design.X, float), np.asarray(design.y, float)
        self.n, self.p = X.shape
        self.q = Z.shape[1]
        Q, Rq = np.linalg.qr(X)
        self._Z, self._Q, self._Rq = Z, Q, Rq
        self._ldRq = 2.0 * float(np.sum(np.log(np.abs(np.diag(Rq)))))
        self.ZtZ = (Z.T @ Z).tocsr()
        self._ZtX = np.asarray(Z.T @ Q)
        self.XtX = Q.T @ Q
        self._set_y(y)
        self.layout = ThetaLayout(design.terms)
        self.ntheta = self.layout.ntheta
        self.lower = self.layout.lower
        self.diag_index = self.layout.diag_index
        self.plan = build_plan(self.ZtZ, self.layout, self.ZtyX, strategy)

    def _set_y(self, y: np.ndarray) -> None:
        """Set the response's part of the cross-products (y~ = y - Q Q'y, Z'y~, X~'y~, y~'y~)."""
        Q = self._Q
        b0 = Q.T @ y
        yt = y - Q @ b0
        b1 = Q.T @ yt                   # a second pass removes what rounding left of X in y~
        yt = yt - Q @ b1
        self._b0 = b0 + b1
        Zty = np.asarray(self._Z.T @ yt).ravel()
        self.ZtyX = np.column_stack([Zty, self._ZtX])
        self.Xty = Q.T @ yt
        self.yty = float(yt @ yt)

    def set_response(self, y: np.ndarray) -> None:
        """Change y and keep everything else (X, Z and the plan's analysis).

        What a profile of a fixed effect needs: y - x_j b_j for many b_j (engine/profile.py).
        """
        self._set_y(np.asarray(y, dtype=float))
        self.plan = self.plan.with_rhs(self.ZtyX)

    def theta_start(self) -> np.ndarray:
        """Return lme4's start values.

        1 on the diagonal of each term's T and 0 off it; but when every term is a random
        intercept, lme4 (mkLmerDevfun) starts from the variance of the group means of y
        relative to what is left: theta_k = sqrt(var(mean of y by group k) / v_e).
        """
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
        """Return Lambda at theta (sparse)."""
        return self.layout.lambda_of(theta)

    # -- the PLS solution ---------------------------------------------------------------------
    def _core(self, theta: np.ndarray) -> PLSCore:
        """Factorise at theta and reduce the fixed effects (see PLSCore)."""
        chol = self.plan.cholesky(theta)
        G = chol.gram_rhs()             # [Z'y~ Z'Q]' Lambda A^-1 Lambda' [Z'y~ Z'Q]
        if self.p == 0:                 # no fixed effects (y ~ 0 + (1|g))
            r2 = float(self.yty - G[0, 0])
            return PLSCore(chol, chol.logdet, np.zeros((0, 0)), np.zeros(0), max(r2, 1e-300), 0.0,
                           self._Rq)
        if self.p == 1:                 # one fixed effect: all scalars
            d = float(self.XtX[0, 0] - G[1, 1])
            if not d > 0.0:
                raise np.linalg.LinAlgError("R_X'R_X is not positive definite")
            lx = math.sqrt(d)
            w1 = float(self.Xty[0] - G[1, 0]) / lx
            r2 = float(self.yty - G[0, 0]) - w1 * w1
            return PLSCore(chol, chol.logdet, np.array([[lx]]), np.array([w1]), max(r2, 1e-300),
                           math.log(d) + self._ldRq, self._Rq)
        Lx = _chol(self.XtX - G[1:, 1:])
        w, _ = lapack.dtrtrs(Lx, self.Xty - G[1:, 0], lower=1)
        r2 = self.yty - G[0, 0] - float(w @ w)
        return PLSCore(chol, chol.logdet, Lx, w, max(r2, 1e-300), _logdet2(Lx) + self._ldRq,
                       self._Rq)

    def solve(self, theta: np.ndarray) -> PLSState:
        """Solve the PLS problem at theta: beta, u, r2 and the log-determinants."""
        theta = np.asarray(theta, dtype=float)
        c = self._core(theta)
        R = c.chol.lam_t(self.ZtyX)
        bt = lapack.dtrtrs(c.Lx, c.w, lower=1, trans=1)[0] if self.p else np.zeros(0)  # beta~
        u = c.chol.solve(R[:, 0] - R[:, 1:] @ bt)
        beta = lapack.dtrtrs(self._Rq, bt + self._b0, lower=0)[0] if self.p else np.zeros(0)
        LR = c.Lx.T @ self._Rq                                     # R_X = L_X' R_q
        return PLSState(theta=theta, beta=beta, u=np.asarray(u, float), r2=c.r2, ldA=c.ldA,
                        ldRX=c.ldRX, RXtRX=LR.T @ LR)

    def varpar_terms(self, theta: np.ndarray) -> PLSCore:
        """Return what the deviance in (theta, sigma) and the covariance of beta-hat need at theta."""
        return self._core(np.asarray(theta, dtype=float))

    def vcov_theta_derivatives(self, theta: np.ndarray, sigma: float) -> list[np.ndarray]:
        """Return d/dtheta_k of sigma^2 (R_X'R_X)^-1, analytically, from one solve at theta.

        With H = Z'X, B = Lambda'H, Phi = A^-1 B and Lambda_k = dLambda/dtheta_k:
        d(B'A^-1 B) = (Lambda_k Phi)' Psi + Psi' (Lambda_k Phi),  Psi = H - Z'Z Lambda Phi,
        and R_X'R_X = X'X - B'A^-1 B, so dC = sigma^2 K d(B'A^-1 B) K with K = (R_X'R_X)^-1.
        (numDeriv's Richardson-extrapolated differences of lmerTest give the same to ~1e-10;
        tests/engine/test_numderiv.py compares them.)
        """
        theta = np.asarray(theta, dtype=float)
        c = self._core(theta)
        H = self.ZtyX[:, 1:]
        Phi = np.asarray(c.chol.solve(c.chol.lam_t(H))).reshape(self.q, self.p)
        Psi = H - self.ZtZ @ (self.layout.lambda_of(theta) @ Phi)
        F = c.F                                                   # K = F F' (original coordinates)
        FRq = F @ (F.T @ self._Rq.T)                              # K R_q' = R_q^-1 K~
        pattern, index = self.layout.lam_pattern, self.layout.lam_index
        rows, cols = pattern.indices, np.repeat(np.arange(self.q), np.diff(pattern.indptr))
        out = []
        for k in range(self.ntheta):
            sel = index == k
            LkPhi = np.zeros((self.q, self.p))
            np.add.at(LkPhi, rows[sel], Phi[cols[sel]])
            D = LkPhi.T @ Psi
            D = D + D.T                                           # transformed coordinates
            out.append(sigma * sigma * (FRq @ D @ FRq.T))
        return out

    # -- deviances ----------------------------------------------------------------------------
    def profiled(self, theta: np.ndarray, reml: bool) -> float:
        """REML criterion (reml=True) or ML deviance, with beta and sigma profiled out."""
        try:
            c = self._core(np.asarray(theta, dtype=float))
        except (np.linalg.LinAlgError, RuntimeError, ValueError):
            return np.inf
        return profiled_criterion(c.ldA, c.ldRX, c.r2, self.n, self.p, reml)

    def profiled_from(self, s: PLSState, reml: bool) -> float:
        """Return the same criterion from a PLS solution."""
        return profiled_criterion(s.ldA, s.ldRX, s.r2, self.n, self.p, reml)

    def sigma_from(self, s: PLSState, reml: bool) -> float:
        """Return the residual SD at a PLS solution (REML: r2 / (n - p); ML: r2 / n)."""
        return float(np.sqrt(s.r2 / (self.n - self.p if reml else self.n)))

    def deviance_at(self, t: PLSCore, sigma: float, reml: bool) -> float:
        """Deviance at (theta, sigma) from theta's core: analytic in sigma (lmerTest's devfun_vp)."""
        s2 = sigma * sigma
        dev = t.ldA + t.r2 / s2 + self.n * np.log(2.0 * np.pi * s2)
        if reml:
            dev += t.ldRX - self.p * np.log(2.0 * np.pi * s2)
        return float(dev)

    def vcov_varpar_beta(self, varpar: np.ndarray) -> np.ndarray:
        """Covariance of beta-hat at (theta, sigma): sigma^2 (R_X'R_X)^-1."""
        F = self.varpar_terms(varpar[:-1]).F
        return varpar[-1] ** 2 * (F @ F.T)
