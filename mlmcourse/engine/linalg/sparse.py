"""Any Lambda: A formed and factorised whole by sparse LU.

The fallback when the Schur map of the first term would be too large to build, and the
reference the other strategies are tested against.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .complement import SparseLU
from .layout import ThetaLayout
from .protocol import Frozen


class SparsePlan(Frozen):
    """The plan for the sparse strategy: Z'Z, theta's layout and the right-hand side B."""

    def __init__(self, ZtZ: sp.spmatrix, layout: ThetaLayout, B: np.ndarray):
        self.ZtZ = sp.csc_matrix(ZtZ)
        self.layout = layout
        self.B = B
        self._freeze()

    def with_rhs(self, B: np.ndarray) -> SparsePlan:
        """Return the same plan for another right-hand side B."""
        return self._replaced(B=B)

    def cholesky(self, theta: np.ndarray) -> SparseCholesky:
        """Factorise A at theta."""
        return SparseCholesky(self.ZtZ, self.layout.lambda_of(theta), self.B)


class SparseCholesky:
    """The sparse LU of A = Lambda' Z'Z Lambda + I at one Lambda."""

    def __init__(self, ZtZ: sp.spmatrix, lam: sp.spmatrix, B: np.ndarray | None = None):
        self.lam, self._B = sp.csc_matrix(lam), B
        A = (self.lam.T @ ZtZ @ self.lam + sp.identity(ZtZ.shape[0], format="csc")).tocsc()
        self._lu = SparseLU(A)
        self.logdet = self._lu.logdet

    def lam_t(self, b: np.ndarray) -> np.ndarray:
        """Return Lambda' b."""
        return self.lam.T @ b

    def gram(self, R: np.ndarray) -> np.ndarray:
        """Return R' A^-1 R."""
        return self._lu.gram(R)

    def gram_rhs(self) -> np.ndarray:
        """Return B' Lambda A^-1 Lambda' B for the plan's B."""
        return self.gram(self.lam_t(self._B))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Return A^-1 rhs."""
        return self._lu.solve(rhs)
