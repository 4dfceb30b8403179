"""The Cholesky of the Schur complement S (what is left of A after the first term's blocks).

S is given on its precomputed pattern (schurmap.py) and factorised in one of three ways, chosen
once per model by schurmap.complement_kind: diagonal (nested factors: a few vector operations), dense
(LAPACK, for crossed factors when S is small) or sparse LU (``SparseLU``, also the whole of A in
sparse.py).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg import lapack

from .schurmap import SchurMap


class SparseLU:
    """A sparse LU factorisation of a symmetric positive definite matrix (SuperLU)."""

    def __init__(self, A: sp.spmatrix):
        self._lu = spla.splu(A.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                             options={"SymmetricMode": True})
        self.logdet = float(np.sum(np.log(np.abs(self._lu.U.diagonal()))))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Return A^-1 rhs."""
        return self._lu.solve(rhs)

    def gram(self, R: np.ndarray) -> np.ndarray:
        """Return R' A^-1 R."""
        return R.T @ self._lu.solve(R)


class DenseCholesky:
    """A dense symmetric positive definite S given by its upper triangle (LAPACK Cholesky)."""

    def __init__(self, S_upper_fortran: np.ndarray):
        U, info = lapack.dpotrf(S_upper_fortran, lower=0, clean=0, overwrite_a=1)
        if info != 0:
            raise np.linalg.LinAlgError("Schur complement not positive definite")
        self._U = U
        self.logdet = 2.0 * float(np.log(U.diagonal()).sum())

    def gram(self, R: np.ndarray) -> np.ndarray:
        """Return R' S^-1 R."""
        z, _ = lapack.dtrtrs(self._U, R, lower=0, trans=1)
        return z.T @ z

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Return S^-1 rhs."""
        x, _ = lapack.dpotrs(self._U, rhs, lower=0)
        return x


class DiagonalCholesky:
    """A diagonal S (nested factors)."""

    def __init__(self, s: np.ndarray):
        self._s = s
        self._rs = 1.0 / np.sqrt(s)
        self.logdet = float(np.log(s).sum())

    def gram(self, R: np.ndarray) -> np.ndarray:
        """Return R' S^-1 R."""
        z = R * self._rs[:, None]
        return z.T @ z

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Return S^-1 rhs."""
        return rhs / (self._s[:, None] if rhs.ndim == 2 else self._s)


def factorize_complement(smap: SchurMap, kind: str, values: np.ndarray):
    """Factorise S from its pattern values with the method chosen for the model."""
    if kind == "diag":
        return DiagonalCholesky(values)
    if kind == "dense":
        return DenseCholesky(smap.dense(values))
    return SparseLU(smap.sparse(values))
