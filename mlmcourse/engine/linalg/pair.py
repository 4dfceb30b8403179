"""One random term with two correlated effects, ``(1 + x | g)`` (sleepstudy's ``(Days | Subject)``).

A is block diagonal with 2 x 2 blocks A_l = T' G_l T + I, inverted in closed form over all
levels at once, and the criterion's B' Lambda A^-1 Lambda' B is one matrix product with
products of B precomputed by the plan.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .layout import ThetaLayout
from .protocol import Frozen


class PairPlan(Frozen):
    """The plan for one term with two effects.

    Attributes: n1 (levels), G4 (rows g00, g10, g11 of the blocks of Z'Z, and ones), K2 and k
    (the right-hand side's products, k its columns).
    """

    def __init__(self, ZtZ: sp.spmatrix, layout: ThetaLayout, B: np.ndarray):
        n1, p1 = layout.sizes[0]
        if len(layout.sizes) != 1 or p1 != 2:
            raise ValueError("PairPlan is for one term with two effects")
        self.n1 = n1
        Z = sp.coo_matrix(ZtZ)
        G = np.zeros((n1, 2, 2))
        np.add.at(G, (Z.row // 2, Z.row % 2, Z.col % 2), Z.data)
        self.G4 = np.stack([G[:, 0, 0], G[:, 1, 0], G[:, 1, 1], np.ones(n1)])
        for name, value in self._rhs_products(B).items():
            setattr(self, name, value)
        self._freeze()

    def _rhs_products(self, B: np.ndarray) -> dict:
        """Precompute B's products: B' Lambda A^-1 Lambda' B = sum_l b_l' M_l b_l.

        M_l = T A_l^-1 T' and b_l is the level's two rows of B, so the sum is one product of M's
        three distinct entries with the products of b_l's rows.
        """
        b = B.reshape(self.n1, 2, -1)
        b0, b1 = b[:, 0], b[:, 1]
        k = B.shape[1]

        def outer(u, v):
            return u[:, :, None] * v[:, None, :]

        K2 = np.concatenate([outer(b0, b0), outer(b0, b1) + outer(b1, b0),
                             outer(b1, b1)]).reshape(3 * self.n1, k * k)
        return {"k": k, "K2": K2}

    def with_rhs(self, B: np.ndarray) -> PairPlan:
        """Return the same plan for another right-hand side B."""
        return self._replaced(**self._rhs_products(B))

    def cholesky(self, theta: np.ndarray) -> PairCholesky:
        """Factorise A at theta (T's entries t00, t10, t11)."""
        t0, t1, t2 = np.asarray(theta, dtype=float).tolist()
        return PairCholesky(self, t0, t1, t2)


class PairCholesky:
    """The 2 x 2 blocks of A at one theta, in closed form, vectorised over the levels."""

    def __init__(self, plan: PairPlan, t0: float, t1: float, t2: float):
        # rows a00, a10, a11 of the blocks, from G's rows g00, g10, g11 and ones
        A = np.array([[t0 * t0, 2.0 * t0 * t1, t1 * t1, 1.0], [0.0, t2 * t0, t2 * t1, 0.0],
                      [0.0, 0.0, t2 * t2, 1.0]]) @ plan.G4
        det = A[0] * A[2] - A[1] * A[1]
        self.logdet = float(np.log(det).sum())
        if not np.isfinite(self.logdet):
            raise np.linalg.LinAlgError("2 x 2 block not positive definite")
        self._A, self._det = A, det
        self._t = (t0, t1, t2)
        self._plan = plan
        self._n = plan.n1

    def gram_rhs(self) -> np.ndarray:
        """Return sum_l b_l' T A_l^-1 T' b_l for the plan's B.

        M_l = T A_l^-1 T' has entries M00 = t0^2 i00, M10 = t0 (t1 i00 + t2 i10),
        M11 = t1^2 i00 + 2 t1 t2 i10 + t2^2 i11, with A_l^-1 = [[a11, -a10], [-a10, a00]] / det.
        """
        t0, t1, t2 = self._t
        M = np.array([[t0 * t0, 0.0, 0.0], [t0 * t1, -t0 * t2, 0.0],
                      [t1 * t1, -2.0 * t1 * t2, t2 * t2]]) @ self._A[::-1]
        M /= self._det
        k = self._plan.k
        return (M.ravel() @ self._plan.K2).reshape(k, k)

    def _chol(self):
        (a00, a10, _), det = self._A, self._det
        l00 = np.sqrt(a00)
        return l00[:, None], (a10 / l00)[:, None], np.sqrt(det / a00)[:, None]

    def lam_t(self, b: np.ndarray) -> np.ndarray:
        """Return Lambda' b."""
        t0, t1, t2 = self._t
        b3 = b.reshape(self._n, 2, -1)
        out = np.empty_like(b3)
        out[:, 0] = t0 * b3[:, 0] + t1 * b3[:, 1]
        out[:, 1] = t2 * b3[:, 1]
        return out.reshape(b.shape)

    def _lower(self, b: np.ndarray, L):
        b3 = b.reshape(self._n, 2, -1)
        z0 = b3[:, 0] / L[0]
        return z0, (b3[:, 1] - L[1] * z0) / L[2]

    def gram(self, R: np.ndarray) -> np.ndarray:
        """Return R' A^-1 R."""
        z0, z1 = self._lower(R, self._chol())
        return z0.T @ z0 + z1.T @ z1

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Return A^-1 rhs."""
        L = self._chol()
        z0, z1 = self._lower(rhs, L)
        x1 = z1 / L[2]
        x0 = (z0 - L[1] * x1) / L[0]
        return np.stack([x0, x1], axis=1).reshape(rhs.shape)
