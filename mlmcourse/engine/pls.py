"""lme4's profiled deviance by penalized least squares (Bates et al. 2015, JSS 67(1), sect. 3).

For relative covariance factor Lambda(theta) and spherical random effects u:

    A = Lambda' Z'Z Lambda + I
    min over beta, u of  ||y - X beta - Z Lambda u||^2 + ||u||^2  = r^2(theta)
    R_X'R_X = X'X - X'Z Lambda A^-1 Lambda' Z'X
    ML   deviance:  log|A| + n (1 + log(2 pi r^2 / n))
    REML criterion: log|A| + log|R_X'R_X| + (n - p)(1 + log(2 pi r^2 / (n - p)))

Z'Z, Z'X, Z'y, X'X, X'y and y'y are computed once; each evaluation works on q x q and q x p
matrices only (factor.py / blockfactor.py, structure analysed once per model), so a fit costs
little even with 1,000,000 observations.

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

from .blockfactor import BlockTermsFactor
from .design import Design
from .factor import GeneralFactor, ScalarTermsFactor, SchurTooLarge


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


@dataclass
class VarparTerms:
    """What the deviance in (theta, sigma) and the covariance of beta-hat need at one theta."""

    ldA: float
    ldRX: float
    r2: float
    Lx: np.ndarray      # R~_X'R~_X = L_X L_X'
    Rq: np.ndarray

    @property
    def F(self) -> np.ndarray:
        """(R_X'R_X)^-1 = R_q^-1 L_X^-T L_X^-1 R_q^-T = F F',  F = R_q^-1 L_X^-T."""
        if self.Lx.size == 0:
            return np.zeros((0, 0))
        Li, _ = lapack.dtrtri(self.Lx, lower=1)
        F, _ = lapack.dtrtrs(self.Rq, np.ascontiguousarray(Li.T), lower=0)
        return F


def _chol(M: np.ndarray) -> np.ndarray:
    L, info = lapack.dpotrf(M, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError("R_X'R_X is not positive definite")
    return L


def _logdet2(L: np.ndarray) -> float:
    """2 log|det L| of a triangular factor (the product first: one log for small p)."""
    d = L.diagonal()
    prod = float(d.prod())
    if 1e-280 < prod < 1e280:
        return 2.0 * math.log(prod)
    return 2.0 * float(np.log(np.abs(d)).sum())


class ProfiledDeviance:
    """The deviance of a linear mixed model as a function of theta (and of theta, sigma)."""

    def __init__(self, design: Design):
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
        self._build_lambda_template()
        self._choose_factor()

    def _set_y(self, y: np.ndarray) -> None:
        """The response's part of the cross-products (y~ = y - Q Q'y, its Z'y~, X~'y~, y~'y~)."""
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
        """Change y and keep everything else (X, Z and the factorisation's analysis): what a
        profile of a fixed effect needs, y - x_j b_j for many b_j (engine/profile.py)."""
        self._set_y(np.asarray(y, dtype=float))
        if self._kind == "scalar":
            self._scalar.attach(self.ZtyX)
        elif self._kind == "block":
            self._block.attach(self.ZtyX)

    # -- theta <-> Lambda -------------------------------------------------------------------
    def _build_lambda_template(self) -> None:
        lower, diag_pos, tmats = [], [], []
        k = 0
        for td in self.design.terms:
            p = td.p
            tri = [(r, c) for c in range(p) for r in range(c, p)]  # column-major lower triangle
            for j, (r, c) in enumerate(tri):
                lower.append(0.0 if r == c else -np.inf)
                if r == c:
                    diag_pos.append(k + j)
            tmats.append((p, np.array([r for r, _ in tri]), np.array([c for _, c in tri]),
                          slice(k, k + len(tri))))
            k += len(tri)
        self._tmats = tmats
        self._lam = None                # Lambda's sparse pattern, built on first use
        self.ntheta = k
        self.lower = np.array(lower)
        self.diag_index = np.array(diag_pos, dtype=int)

    def _lambda_pattern(self) -> None:
        rows, cols, idx = [], [], []
        for td, (p, rr, cc, sl) in zip(self.design.terms, self._tmats):
            base = td.offset + np.arange(td.nlevels) * p
            for j, (r, c) in enumerate(zip(rr, cc)):
                rows.append(base + r)
                cols.append(base + c)
                idx.append(np.full(td.nlevels, sl.start + j))
        rows, cols, idx = (np.concatenate(a) for a in (rows, cols, idx))
        lam = sp.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(self.q, self.q))
        # map each stored entry of the CSC matrix to its theta index
        order = sp.csc_matrix((idx + 1.0, (rows, cols)), shape=(self.q, self.q))
        order.sort_indices()
        lam.sort_indices()
        self._lam = lam
        self._lind = order.data.astype(int) - 1

    def _choose_factor(self) -> None:
        """Pick the factorisation for this model's structure (analysed once, here)."""
        terms = self.design.terms
        self._kind = "general"
        try:
            if all(td.p == 1 for td in terms):
                self._scalar = ScalarTermsFactor(self.ZtZ, terms[0].q)
                self._scalar.attach(self.ZtyX)
                self._diag_theta = np.concatenate(
                    [np.full(td.nlevels, i) for i, td in enumerate(terms)])
                self._kind = "scalar"
            else:
                self._block = BlockTermsFactor(self.ZtZ, [(td.nlevels, td.p) for td in terms])
                self._block.attach(self.ZtyX)
                self._kind = "block"
        except SchurTooLarge:
            pass

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
        if self._lam is None:
            self._lambda_pattern()
        lam = self._lam.copy()
        lam.data = np.asarray(theta, dtype=float)[self._lind]
        return lam

    def factor(self, theta: np.ndarray):
        """The numeric factorisation of A(theta): logdet, lam_t, gram, solve (see factor.py)."""
        if self._kind == "scalar":
            return self._scalar.factor(theta[self._diag_theta])
        if self._kind == "block":
            return self._block.factor_theta(theta)
        return GeneralFactor(self.ZtZ, self.lambda_of(theta), self.ZtyX)

    # -- the PLS solution ---------------------------------------------------------------------
    def _core(self, theta: np.ndarray):
        """(factor, log|A|, L_X, w, r2, log|R_X'R_X|) at theta: R~_X'R~_X = L_X L_X' and
        w = L_X^-1 (X~'y~ - X~'Z Lambda A^-1 Lambda'Z'y~), so that r2 = y~'y~ - ... - w'w."""
        fac = self.factor(theta)
        G = fac.gram_rhs()              # [Z'y~ Z'Q]' Lambda A^-1 Lambda' [Z'y~ Z'Q]
        if self.p == 0:                 # no fixed effects (y ~ 0 + (1|g))
            r2 = float(self.yty - G[0, 0])
            return fac, fac.logdet, np.zeros((0, 0)), np.zeros(0), max(r2, 1e-300), 0.0
        if self.p == 1:                 # one fixed effect: all scalars
            d = float(self.XtX[0, 0] - G[1, 1])
            if not d > 0.0:
                raise np.linalg.LinAlgError("R_X'R_X is not positive definite")
            lx = math.sqrt(d)
            w1 = float(self.Xty[0] - G[1, 0]) / lx
            r2 = float(self.yty - G[0, 0]) - w1 * w1
            return (fac, fac.logdet, np.array([[lx]]), np.array([w1]), max(r2, 1e-300),
                    math.log(d) + self._ldRq)
        Lx = _chol(self.XtX - G[1:, 1:])
        w, _ = lapack.dtrtrs(Lx, self.Xty - G[1:, 0], lower=1)
        r2 = self.yty - G[0, 0] - float(w @ w)
        return fac, fac.logdet, Lx, w, max(r2, 1e-300), _logdet2(Lx) + self._ldRq

    def solve(self, theta: np.ndarray) -> PLSState:
        theta = np.asarray(theta, dtype=float)
        fac, ldA, Lx, w, r2, ldRX = self._core(theta)
        R = fac.lam_t(self.ZtyX)
        bt = lapack.dtrtrs(Lx, w, lower=1, trans=1)[0] if self.p else np.zeros(0)    # beta~
        u = fac.solve(R[:, 0] - R[:, 1:] @ bt)
        beta = lapack.dtrtrs(self._Rq, bt + self._b0, lower=0)[0] if self.p else np.zeros(0)
        LR = Lx.T @ self._Rq                                       # R_X = L_X' R_q
        return PLSState(theta=theta, beta=beta, u=np.asarray(u, float), r2=r2, ldA=ldA, ldRX=ldRX,
                        RXtRX=LR.T @ LR)

    def varpar_terms(self, theta: np.ndarray) -> VarparTerms:
        _, ldA, Lx, _, r2, ldRX = self._core(np.asarray(theta, dtype=float))
        return VarparTerms(ldA=ldA, ldRX=ldRX, r2=r2, Lx=Lx, Rq=self._Rq)

    def vcov_theta_derivatives(self, theta: np.ndarray, sigma: float) -> list[np.ndarray]:
        """d/dtheta_k of sigma^2 (R_X'R_X)^-1, analytically, from one solve at theta.

        With H = Z'X, B = Lambda'H, Phi = A^-1 B and Lambda_k = dLambda/dtheta_k:
        d(B'A^-1 B) = (Lambda_k Phi)' Psi + Psi' (Lambda_k Phi),  Psi = H - Z'Z Lambda Phi,
        and R_X'R_X = X'X - B'A^-1 B, so dC = sigma^2 K d(B'A^-1 B) K with K = (R_X'R_X)^-1.
        (numDeriv's Richardson-extrapolated differences of lmerTest give the same to ~1e-10;
        tests/engine/test_numderiv.py compares them.)"""
        theta = np.asarray(theta, dtype=float)
        fac, _, Lx, _, _, _ = self._core(theta)
        H = self.ZtyX[:, 1:]
        Phi = np.asarray(fac.solve(fac.lam_t(H))).reshape(self.q, self.p)
        lam = self.lambda_of(theta)
        Psi = H - self.ZtZ @ (lam @ Phi)
        F = VarparTerms(0.0, 0.0, 0.0, Lx, self._Rq).F       # K = F F' (original coordinates)
        rows, cols = self._lam.indices, np.repeat(np.arange(self.q), np.diff(self._lam.indptr))
        out = []
        for k in range(self.ntheta):
            sel = self._lind == k
            LkPhi = np.zeros((self.q, self.p))
            np.add.at(LkPhi, rows[sel], Phi[cols[sel]])
            D = LkPhi.T @ Psi
            D = D + D.T                                           # transformed coordinates
            FRq = F @ (F.T @ self._Rq.T)                          # K R_q' = R_q^-1 K~
            out.append(sigma * sigma * (FRq @ D @ FRq.T))
        return out

    # -- deviances ----------------------------------------------------------------------------
    def profiled(self, theta: np.ndarray, reml: bool) -> float:
        """REML criterion (reml=True) or ML deviance, with beta and sigma profiled out."""
        try:
            _, ldA, _, _, r2, ldRX = self._core(np.asarray(theta, dtype=float))
        except (np.linalg.LinAlgError, RuntimeError, ValueError):
            return np.inf
        n = self.n
        if reml:
            nmp = n - self.p
            return ldA + ldRX + nmp * (1.0 + math.log(2.0 * math.pi * r2 / nmp))
        return ldA + n * (1.0 + math.log(2.0 * math.pi * r2 / n))

    def profiled_from(self, s: PLSState, reml: bool) -> float:
        n, p = self.n, self.p
        if reml:
            nmp = n - p
            return s.ldA + s.ldRX + nmp * (1.0 + np.log(2.0 * np.pi * s.r2 / nmp))
        return s.ldA + n * (1.0 + np.log(2.0 * np.pi * s.r2 / n))

    def sigma_from(self, s: PLSState, reml: bool) -> float:
        return float(np.sqrt(s.r2 / (self.n - self.p if reml else self.n)))

    def deviance_at(self, t: VarparTerms, sigma: float, reml: bool) -> float:
        """Deviance at (theta, sigma) from theta's terms: analytic in sigma (lmerTest's devfun_vp)."""
        s2 = sigma * sigma
        dev = t.ldA + t.r2 / s2 + self.n * np.log(2.0 * np.pi * s2)
        if reml:
            dev += t.ldRX - self.p * np.log(2.0 * np.pi * s2)
        return float(dev)

    def deviance_varpar(self, varpar: np.ndarray, reml: bool) -> float:
        """Deviance at (theta, sigma) with beta profiled, sigma NOT profiled (lmerTest's devfun_vp)."""
        return self.deviance_at(self.varpar_terms(varpar[:-1]), varpar[-1], reml)

    def vcov_varpar_beta(self, varpar: np.ndarray) -> np.ndarray:
        """Covariance of beta-hat at (theta, sigma): sigma^2 (R_X'R_X)^-1."""
        F = self.varpar_terms(varpar[:-1]).F
        return varpar[-1] ** 2 * (F @ F.T)
