"""Factorise A = Lambda' Z'Z Lambda + I: its log-determinant and solves with it.

Two ways, chosen once per model:

- ``ScalarTermsFactor`` when every random term is a single effect (random intercepts, or
  uncorrelated slopes), so Lambda is diagonal. The first term's block of Z'Z is then diagonal
  (each observation has one level of a factor), and A is reduced to the Schur complement on the
  remaining terms: S = A22 - A12' A11^-1 A12. For two nested factors S is diagonal too, so a
  fit costs a few vector operations per evaluation, even with 100,000 observations.
- ``SparseLUFactor`` otherwise (correlated random slopes): a sparse LU factorisation of A.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

DENSE_MAX = 400  # Schur complements up to this size are factorised densely


class SparseLUFactor:
    def __init__(self, A: sp.csc_matrix):
        self._lu = spla.splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                             options={"SymmetricMode": True})
        self.logdet = float(np.sum(np.log(np.abs(self._lu.U.diagonal()))))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return self._lu.solve(rhs)


class ScalarTermsFactor:
    """Precomputed block structure of Z'Z for models whose Lambda is diagonal."""

    def __init__(self, ZtZ: sp.spmatrix, q1: int):
        ZtZ = ZtZ.tocsr()
        self.q, self.q1 = ZtZ.shape[0], q1
        self.d1 = ZtZ[:q1, :q1].diagonal()
        B0 = ZtZ[:q1, q1:].tocoo()
        self.b_rows, self.b_cols, self.b_data = B0.row, B0.col, B0.data
        self.B0, self.B0T = B0.tocsr(), B0.T.tocsr()  # B = diag(l1) B0 diag(l2), never rebuilt
        Z22 = ZtZ[q1:, q1:].tocoo()
        self.z_rows, self.z_cols, self.z_data = Z22.row, Z22.col, Z22.data
        q2 = self.q - q1
        # S's pattern: Z22 plus B0'B0; diagonal when every level of term 1 meets one level of
        # each other factor (nesting) and the other factors are a single term
        fill = (sp.csr_matrix((np.ones_like(self.b_data), (self.b_rows, self.b_cols)), shape=(q1, q2)))
        pattern = (fill.T @ fill + sp.csr_matrix((np.ones_like(self.z_data), (self.z_rows, self.z_cols)),
                                                 shape=(q2, q2))).tocoo()
        self.s_diagonal = bool(np.all(pattern.row == pattern.col))
        self.q2 = q2

    def factor(self, lam: np.ndarray) -> _ScalarFactor:
        return _ScalarFactor(self, lam)


class _ScalarFactor:
    def __init__(self, st: ScalarTermsFactor, lam: np.ndarray):
        q1, q2 = st.q1, st.q2
        l1, l2 = lam[:q1], lam[q1:]
        self.st, self.l1, self.l2 = st, l1, l2
        self.a1 = l1 * l1 * st.d1 + 1.0
        bdata = st.b_data * l1[st.b_rows] * l2[st.b_cols]
        logdet = float(np.sum(np.log(self.a1)))
        if q2 == 0:
            self._kind = "none"
        elif st.s_diagonal:
            s = np.zeros(q2)
            np.add.at(s, st.z_rows, st.z_data * l2[st.z_rows] * l2[st.z_cols])
            s += 1.0 - np.bincount(st.b_cols, weights=bdata * bdata / self.a1[st.b_rows], minlength=q2)
            self.s = s
            logdet += float(np.sum(np.log(s)))
            self._kind = "diag"
        else:
            A22 = sp.csr_matrix((st.z_data * l2[st.z_rows] * l2[st.z_cols], (st.z_rows, st.z_cols)),
                                shape=(q2, q2)) + sp.identity(q2, format="csr")
            Bs = sp.csr_matrix((bdata / np.sqrt(self.a1[st.b_rows]), (st.b_rows, st.b_cols)), shape=(q1, q2))
            S = (A22 - Bs.T @ Bs)
            if q2 <= DENSE_MAX:
                self._chol = sla.cho_factor(S.toarray(), lower=True, check_finite=False)
                logdet += 2.0 * float(np.sum(np.log(np.diag(self._chol[0]))))
                self._kind = "dense"
            else:
                self._lu = SparseLUFactor(S.tocsc())
                logdet += self._lu.logdet
                self._kind = "sparse"
        self.logdet = logdet

    def _solve_s(self, rhs: np.ndarray) -> np.ndarray:
        if self._kind == "diag":
            return rhs / (self.s[:, None] if rhs.ndim == 2 else self.s)
        if self._kind == "dense":
            return sla.cho_solve(self._chol, rhs, check_finite=False)
        return self._lu.solve(rhs)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        q1 = len(self.a1)
        a1 = self.a1[:, None] if rhs.ndim == 2 else self.a1
        t = rhs[:q1] / a1
        if self._kind == "none":
            return t
        l1 = self.l1[:, None] if rhs.ndim == 2 else self.l1
        l2 = self.l2[:, None] if rhs.ndim == 2 else self.l2
        x2 = self._solve_s(rhs[q1:] - l2 * (self.st.B0T @ (l1 * t)))   # B' t
        x1 = t - l1 * (self.st.B0 @ (l2 * x2)) / a1                     # B x2
        return np.concatenate([x1, x2])
