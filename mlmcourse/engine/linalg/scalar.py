"""Scalar terms: every random term has one effect (random intercepts, uncorrelated slopes).

Lambda is then diagonal. The first term's block of Z'Z is diagonal (each observation has one
level of a grouping factor), and A is reduced to the Schur complement on the remaining terms,
S = A22 - A12' A11^-1 A12, through schurmap.py's precomputed map: S is diagonal for nested
factors (a few vector operations per evaluation, even with 100,000 observations), dense for
crossed factors when small (1,000 x 1,000: one LAPACK Cholesky), sparse otherwise.

The first term's levels are pooled by size where that pays (pooling.py).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .complement import factorize_complement
from .layout import ThetaLayout
from .pooling import SizeClasses
from .protocol import Frozen
from .schurmap import Coupling


class ScalarPlan(Frozen):
    """The plan for scalar terms (first term: q1 columns), from its size classes and coupling.

    Attributes read by ``ScalarCholesky``: q1, q2, d1, pooled (levels pooled by size: dv the
    distinct sizes, cls each level's class, mult the class sizes, E the level-by-class
    indicator), kind ("none": one term; else how S is factorised), C, Ct, smap, P (the Schur
    map, by class when pooled), B1, B2, K1, D (the right-hand side's precomputed products).
    """

    def __init__(self, ZtZ: sp.spmatrix, layout: ThetaLayout, B: np.ndarray, classes: SizeClasses,
                 coupling: Coupling | None):
        self.column_theta = layout.column_theta
        q1 = layout.sizes[0][0]
        self.q, self.q1 = ZtZ.shape[0], q1
        self.q2 = self.q - q1
        self.d1, self.pooled = classes.d1, classes.pooled
        if self.pooled:
            self.dv, self.cls, self.mult, self.E = classes.dv, classes.cls, classes.mult, classes.E
        self.kind = "none"
        if self.q2:
            self.C, self.Ct, self.smap = coupling.C, coupling.Ct, coupling.smap
            self.kind, self.P = coupling.kind, coupling.P
        for name, value in self._rhs_products(B).items():
            setattr(self, name, value)
        self._freeze()

    def _rhs_products(self, B: np.ndarray) -> dict:
        """Precompute what ``gram_rhs`` needs of B (q x k, Z'[y X]).

        On the first term B' Lambda A^-1 Lambda' B is sum_l m_l b_l b_l' (m_l = l1^2 / a_l): one
        product with the precomputed outer products b_l b_l' (summed by size class when pooled).
        """
        q1, k = self.q1, B.shape[1]
        out = {"B1": B[:q1], "B2": B[q1:], "D": None}
        K1 = (B[:q1, :, None] * B[:q1, None, :]).reshape(q1, k * k)
        if not self.pooled:
            out["K1"] = K1
            return out
        nc = len(self.dv)
        out["K1"] = self.E.T @ K1
        if self.q2 and nc * max(q1, self.q2) * k <= 20_000_000:
            # C' diag(m) B1 = sum over classes of m_c D_c, D_c = C_c' B1_c
            B1E = (out["B1"][:, :, None] * self.E[:, None, :]).reshape(q1, k * nc)
            D = np.asarray(self.Ct @ B1E).reshape(self.q2, k, nc)
            out["D"] = np.ascontiguousarray(D.transpose(2, 0, 1)).reshape(nc, self.q2 * k)
        return out

    def with_rhs(self, B: np.ndarray) -> ScalarPlan:
        """Return the same plan for another right-hand side B."""
        return self._replaced(**self._rhs_products(B))

    def cholesky(self, theta: np.ndarray) -> ScalarCholesky:
        """Factorise A at theta."""
        return ScalarCholesky(self, np.asarray(theta, dtype=float)[self.column_theta])


class ScalarCholesky:
    """The Cholesky of A at one theta for scalar terms (``lam``: Lambda's diagonal)."""

    def __init__(self, plan: ScalarPlan, lam: np.ndarray):
        q1 = plan.q1
        self.plan, self.lam = plan, lam
        self.t2 = t2 = lam[0] * lam[0]       # the first term is one term: one theta
        if plan.pooled:                      # per size class
            a = t2 * plan.dv + 1.0
            self.logdet = float(plan.mult @ np.log(a))
        else:
            a = t2 * plan.d1 + 1.0
            self.logdet = float(np.log(a).sum())
        self.w = t2 / a                      # m_l = l1^2 / a_l, A11^-1 scaled by Lambda1 twice
        if plan.kind == "none":
            return
        l2 = lam[q1:]
        self.l1, self.l2 = lam[:q1], l2
        smap = plan.smap
        ll = l2 * l2 if smap.diagonal else l2[smap.rows] * l2[smap.cols]
        g = smap.z22 - plan.P @ self.w       # Z22 - C' diag(m) C on S's pattern
        self._s = factorize_complement(smap, plan.kind, g * ll + smap.is_diag)
        self.logdet += self._s.logdet

    @property
    def a1(self) -> np.ndarray:
        """The first term's diagonal block of A."""
        return self.t2 * self.plan.d1 + 1.0

    @property
    def m(self) -> np.ndarray:
        """m_l = l1^2 / a_l per level."""
        return self.w[self.plan.cls] if self.plan.pooled else self.w

    def gram_rhs(self) -> np.ndarray:
        """Return B' Lambda A^-1 Lambda' B for the plan's B."""
        plan = self.plan
        k = plan.B1.shape[1]
        G = (self.w @ plan.K1).reshape(k, k)
        if plan.kind == "none":
            return G
        u = ((self.w @ plan.D).reshape(plan.q2, k) if plan.D is not None
             else plan.Ct @ (self.m[:, None] * plan.B1))
        return G + self._s.gram(self.l2[:, None] * (plan.B2 - u))

    def lam_t(self, b: np.ndarray) -> np.ndarray:
        """Return Lambda' b."""
        return self.lam[:, None] * b if b.ndim == 2 else self.lam * b

    def gram(self, R: np.ndarray) -> np.ndarray:
        """Return R' A^-1 R for a q x k array R."""
        q1 = self.plan.q1
        ra = 1.0 / np.sqrt(self.a1)
        z1 = R[:q1] * ra[:, None]
        G = z1.T @ z1
        if self.plan.kind == "none":
            return G
        t = R[q1:] - self.l2[:, None] * (self.plan.Ct @ ((self.l1 * ra)[:, None] * z1))
        return G + self._s.gram(t)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Return A^-1 rhs."""
        q1 = self.plan.q1
        vec = rhs.ndim == 1
        b = rhs[:, None] if vec else rhs
        x1 = b[:q1] / self.a1[:, None]
        if self.plan.kind != "none":
            l1, l2 = self.l1[:, None], self.l2[:, None]
            x2 = self._s.solve(b[q1:] - l2 * (self.plan.Ct @ (l1 * x1)))
            x1 = x1 - l1 * (self.plan.C @ (l2 * x2)) / self.a1[:, None]
            x1 = np.concatenate([x1, x2])
        return x1[:, 0] if vec else x1
