"""Factorise A = Lambda' Z'Z Lambda + I: its log-determinant and solves with it.

The structure is analysed once per model (``ScalarTermsFactor(...)``, ``BlockTermsFactor(...)``
in blockfactor.py), and ``attach(B)`` fixes the criterion's right-hand side B = Z'[y X]; each
evaluation then calls ``.factor(...)`` for the numeric factorisation, which gives ``logdet``,
``gram_rhs()`` (B' Lambda A^-1 Lambda' B: all the profiled criterion needs), ``lam_t(b)``
(Lambda' b), ``gram(R)`` (R' A^-1 R) and ``solve(b)`` (A^-1 b).

- ``ScalarTermsFactor`` when every random term is a single effect (random intercepts, or
  uncorrelated slopes), so Lambda is diagonal. The first term's block of Z'Z is then diagonal
  (each observation has one level of a factor), and A is reduced to the Schur complement on the
  remaining terms, S = A22 - A12' A11^-1 A12, through schur.py's precomputed map: S is diagonal
  for nested factors (a few vector operations per evaluation, even with 100,000 observations),
  dense for crossed factors when small (1,000 x 1,000: one LAPACK Cholesky), sparse otherwise.
- ``BlockTermsFactor`` (blockfactor.py) when a term has correlated effects (random slopes): the
  first term's p x p blocks are factorised in one batch, the rest as above.
- ``SparseLUFactor``: a sparse LU factorisation of a symmetric positive definite matrix (a large
  sparse Schur complement, or the whole of A when the map would be too large).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg import lapack

from .schur import MAX_PAIRS, SchurMap, schur_pairs, small_dense

DENSE_MAX = 4000    # Schur complements up to this size may be factorised densely ...
DENSE_ALWAYS = 600  # ... always up to this size, above it only when at least 5% filled


class SchurTooLarge(ValueError):
    """The precomputed Schur map would be too large (see schur.MAX_PAIRS): use GeneralFactor."""


def dense_schur(q2: int, npattern: int) -> bool:
    """Factorise S densely? (A dense Cholesky of 1,000 x 1,000 takes ~20 ms; SuperLU on a matrix
    that full takes seconds.)"""
    return q2 <= DENSE_ALWAYS or (q2 <= DENSE_MAX and 2 * npattern >= 0.05 * q2 * q2)


class SparseLUFactor:
    def __init__(self, A: sp.csc_matrix):
        self._lu = spla.splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                             options={"SymmetricMode": True})
        self.logdet = float(np.sum(np.log(np.abs(self._lu.U.diagonal()))))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return self._lu.solve(rhs)

    def gram(self, R: np.ndarray) -> np.ndarray:
        return R.T @ self._lu.solve(R)


class DenseSchur:
    """A dense symmetric positive definite S given by its upper triangle (LAPACK Cholesky)."""

    def __init__(self, S_upper_fortran: np.ndarray):
        U, info = lapack.dpotrf(S_upper_fortran, lower=0, clean=0, overwrite_a=1)
        if info != 0:
            raise np.linalg.LinAlgError("Schur complement not positive definite")
        self._U = U
        self.logdet = 2.0 * float(np.log(U.diagonal()).sum())

    def gram(self, R: np.ndarray) -> np.ndarray:
        z, _ = lapack.dtrtrs(self._U, R, lower=0, trans=1)
        return z.T @ z

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        x, _ = lapack.dpotrs(self._U, rhs, lower=0)
        return x


class DiagonalSchur:
    def __init__(self, s: np.ndarray):
        self._s = s
        self._rs = 1.0 / np.sqrt(s)
        self.logdet = float(np.log(s).sum())

    def gram(self, R: np.ndarray) -> np.ndarray:
        z = R * self._rs[:, None]
        return z.T @ z

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return rhs / (self._s[:, None] if rhs.ndim == 2 else self._s)


def factor_schur(smap: SchurMap, kind: str, values: np.ndarray):
    """Factorise S from its pattern values with the method chosen for the model."""
    if kind == "diag":
        return DiagonalSchur(values)
    if kind == "dense":
        return DenseSchur(smap.dense(values))
    return SparseLUFactor(smap.sparse(values))


def schur_kind(smap: SchurMap) -> str:
    if smap.diagonal:
        return "diag"
    return "dense" if dense_schur(smap.q2, len(smap.keys)) else "sparse"


class ScalarTermsFactor:
    """Precomputed structure of Z'Z for models whose Lambda is diagonal (first term: q1 columns).

    The first term's diagonal block is d_l (observations per level, for an intercept), so
    A11 = diag(theta1^2 d_l + 1) and everything the criterion takes from it depends on the level
    only through d_l. When d_l takes few values (group sizes), levels are pooled by size once:
    log|A11|, the Schur map and B's products then cost O(distinct sizes) per evaluation, not
    O(levels) (the 1,000,000-row crossed model: 37 sizes for 50,000 levels)."""

    def __init__(self, ZtZ: sp.spmatrix, q1: int):
        ZtZ = ZtZ if sp.isspmatrix_csr(ZtZ) else sp.csr_matrix(ZtZ)
        self.q, self.q1 = ZtZ.shape[0], q1
        self.q2 = self.q - q1
        self.d1 = ZtZ.diagonal()[:q1]
        dv, cls = np.unique(self.d1, return_inverse=True)
        self.pooled = len(dv) <= max(16, q1 // 4)
        if self.pooled:     # E: levels -> their size class
            self._dv, self._cls, self._mult = dv, cls.ravel(), np.bincount(cls.ravel()).astype(float)
            self._E = (self._cls[:, None] == np.arange(len(dv))[None, :]).astype(float)
        self.kind = "none"
        if self.q2:
            C = ZtZ[:q1, q1:]
            if schur_pairs(C, 1) > MAX_PAIRS:
                raise SchurTooLarge("the Schur map would not fit in memory")
            self.C, self.Ct = small_dense(C), small_dense(C.T)
            self.map = SchurMap(C, 1, ZtZ[q1:, q1:])
            self.kind = schur_kind(self.map)
            self._l2r, self._l2c = self.map.rows, self.map.cols
            P = self.map.P
            self._P = P if not self.pooled else (P @ self._E if isinstance(P, np.ndarray)
                                                 else small_dense(P @ sp.csr_matrix(self._E)))

    def attach(self, B: np.ndarray) -> None:
        """Fix the right-hand side B (q x k, Z'[y X]) whose B' Lambda A^-1 Lambda' B ``gram_rhs``
        gives. On the first term it is sum_l m_l b_l b_l' (m_l = l1^2 / a_l): one product with
        the precomputed outer products b_l b_l' (summed by size class when pooled)."""
        q1, k = self.q1, B.shape[1]
        self._B1, self._B2 = B[:q1], B[self.q1:]
        K1 = (B[:q1, :, None] * B[:q1, None, :]).reshape(q1, k * k)
        self._D = None      # C' diag(m) B1 = sum over classes of m_c D_c, D_c = C_c' B1_c
        if self.pooled:
            nc = len(self._dv)
            self._K1 = self._E.T @ K1
            if self.q2 and nc * max(q1, self.q2) * k <= 20_000_000:
                B1E = (self._B1[:, :, None] * self._E[:, None, :]).reshape(q1, k * nc)
                D = np.asarray(self.Ct @ B1E).reshape(self.q2, k, nc)
                self._D = np.ascontiguousarray(D.transpose(2, 0, 1)).reshape(nc, self.q2 * k)
        else:
            self._K1 = K1

    def factor(self, lam: np.ndarray) -> _ScalarFactor:
        return _ScalarFactor(self, np.asarray(lam, dtype=float))


class _ScalarFactor:
    def __init__(self, st: ScalarTermsFactor, lam: np.ndarray):
        q1 = st.q1
        self.st, self.lam = st, lam
        self.t2 = t2 = lam[0] * lam[0]       # the first term is one term: one theta
        if st.pooled:                        # per size class
            a = t2 * st._dv + 1.0
            self.logdet = float(st._mult @ np.log(a))
        else:
            a = t2 * st.d1 + 1.0
            self.logdet = float(np.log(a).sum())
        self.w = t2 / a                      # m_l = l1^2 / a_l, A11^-1 scaled by Lambda1 twice
        if st.kind == "none":
            return
        l2 = lam[q1:]
        self.l1, self.l2 = lam[:q1], l2
        ll = l2 * l2 if st.map.diagonal else l2[st._l2r] * l2[st._l2c]
        g = st.map.z22 - st._P @ self.w      # Z22 - C' diag(m) C on S's pattern
        self._s = factor_schur(st.map, st.kind, g * ll + st.map.is_diag)
        self.logdet += self._s.logdet

    @property
    def a1(self) -> np.ndarray:
        return self.t2 * self.st.d1 + 1.0

    @property
    def m(self) -> np.ndarray:
        return self.w[self.st._cls] if self.st.pooled else self.w

    def gram_rhs(self) -> np.ndarray:
        """B' Lambda A^-1 Lambda' B for the attached B (see ScalarTermsFactor.attach)."""
        st = self.st
        k = st._B1.shape[1]
        G = (self.w @ st._K1).reshape(k, k)
        if st.kind == "none":
            return G
        u = ((self.w @ st._D).reshape(st.q2, k) if st._D is not None
             else st.Ct @ (self.m[:, None] * st._B1))
        return G + self._s.gram(self.l2[:, None] * (st._B2 - u))

    def lam_t(self, b: np.ndarray) -> np.ndarray:
        return self.lam[:, None] * b if b.ndim == 2 else self.lam * b

    def gram(self, R: np.ndarray) -> np.ndarray:
        """R' A^-1 R for a q x k array R."""
        q1 = self.st.q1
        ra = 1.0 / np.sqrt(self.a1)
        z1 = R[:q1] * ra[:, None]
        G = z1.T @ z1
        if self.st.kind == "none":
            return G
        t = R[q1:] - self.l2[:, None] * (self.st.Ct @ ((self.l1 * ra)[:, None] * z1))
        return G + self._s.gram(t)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        q1 = self.st.q1
        vec = rhs.ndim == 1
        b = rhs[:, None] if vec else rhs
        x1 = b[:q1] / self.a1[:, None]
        if self.st.kind != "none":
            l1, l2 = self.l1[:, None], self.l2[:, None]
            x2 = self._s.solve(b[q1:] - l2 * (self.st.Ct @ (l1 * x1)))
            x1 = x1 - l1 * (self.st.C @ (l2 * x2)) / self.a1[:, None]
            x1 = np.concatenate([x1, x2])
        return x1[:, 0] if vec else x1


class GeneralFactor:
    """Any Lambda (sparse): A formed and factorised whole by sparse LU. The fallback when the
    Schur map of the first term would be too large to build."""

    def __init__(self, ZtZ: sp.spmatrix, lam: sp.spmatrix, B: np.ndarray | None = None):
        self.lam, self._B = sp.csc_matrix(lam), B
        A = (self.lam.T @ ZtZ @ self.lam + sp.identity(ZtZ.shape[0], format="csc")).tocsc()
        self._lu = SparseLUFactor(A)
        self.logdet = self._lu.logdet

    def lam_t(self, b: np.ndarray) -> np.ndarray:
        return self.lam.T @ b

    def gram(self, R: np.ndarray) -> np.ndarray:
        return self._lu.gram(R)

    def gram_rhs(self) -> np.ndarray:
        """B' Lambda A^-1 Lambda' B for the B given at construction."""
        return self.gram(self.lam_t(self._B))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return self._lu.solve(rhs)
