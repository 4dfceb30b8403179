"""Terms with correlated effects (random slopes): the first term's blocks in one batch.

Columns of A are ordered term by term, level by level, effect by effect (lme4's layout). The
first term (most levels) has a block-diagonal part of Z'Z, one p1 x p1 block G_l per level, and
Lambda is block diagonal with the same T1 in every level, so

    A_l = T1' G_l T1 + I,   one batch of small Choleskys (2 x 2 closed form, else numpy's).

With one grouping factor that is all of A (pair.py does the 2 x 2 case faster). Other terms go
into the Schur complement S on their q2 columns (schurmap.py's precomputed map): block diagonal
when the remaining term is nested in the first (one batch again), dense when small, sparse else.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .complement import DenseCholesky, SparseLU, factorize_complement
from .layout import ThetaLayout
from .protocol import Frozen
from .schurmap import Coupling


class BlockPlan(Frozen):
    """The plan for terms laid out as [(nlevels, p), ...], the first with the most levels.

    Attributes read by ``BlockCholesky``: n1, p1, q1, q2, G1 (the first term's blocks of Z'Z),
    kind ("none": one term; "blocks": the other term nested in the first; else how S is
    factorised), C, Ct, smap (the Schur map), rest (the other terms' sizes), bidx (for "blocks":
    level, row and column of each pattern entry of S), B (the right-hand side).
    """

    def __init__(self, ZtZ: sp.spmatrix, layout: ThetaLayout, B: np.ndarray,
                 coupling: Coupling | None):
        ZtZ = sp.csr_matrix(ZtZ)
        self.layout = layout
        n1, p1 = layout.sizes[0]
        self.n1, self.p1 = n1, p1
        self.q, self.q1 = ZtZ.shape[0], n1 * p1
        self.q2 = self.q - self.q1
        Z11 = sp.coo_matrix(ZtZ[:self.q1, :self.q1])
        G = np.zeros((n1, p1, p1))
        np.add.at(G, (Z11.row // p1, Z11.row % p1, Z11.col % p1), Z11.data)
        self.G1 = G
        self.kind = "none"
        if self.q2:
            self.C, self.Ct, self.smap = coupling.C, coupling.Ct, coupling.smap
            self.rest = layout.sizes[1:]
            m, p2 = self.smap, self.rest[0][1]
            if len(self.rest) == 1 and np.all(m.rows // p2 == m.cols // p2):
                self.kind = "blocks"        # the other term is nested in the first
                self.bidx = (m.rows // p2, m.rows % p2, m.cols % p2)
            else:
                self.kind = coupling.kind
        self.B = B
        self._freeze()

    def with_rhs(self, B: np.ndarray) -> BlockPlan:
        """Return the same plan for another right-hand side B."""
        return self._replaced(B=B)

    def cholesky(self, theta: np.ndarray) -> BlockCholesky:
        """Factorise A at theta."""
        return BlockCholesky(self, self.layout.matrices(np.asarray(theta, dtype=float)))


def _lam2(Ts: list[np.ndarray], sizes: list[tuple[int, int]]) -> sp.csr_matrix:
    """Lambda on the columns after the first term: block diagonal, one T per level."""
    return sp.block_diag([sp.kron(sp.identity(n, format="csr"), sp.csr_matrix(T)) for T, (n, _) in
                          zip(Ts, sizes)], format="csr")


def _chol2(A: np.ndarray) -> np.ndarray:
    """Batched Cholesky of 2 x 2 blocks (n, 2, 2), closed form."""
    L = np.zeros_like(A)
    l00 = np.sqrt(A[:, 0, 0])
    l10 = A[:, 1, 0] / l00
    d = A[:, 1, 1] - l10 * l10
    if not np.all(d > 0):
        raise np.linalg.LinAlgError("2 x 2 block not positive definite")
    L[:, 0, 0], L[:, 1, 0], L[:, 1, 1] = l00, l10, np.sqrt(d)
    return L


def _cholesky(A: np.ndarray) -> np.ndarray:
    """Batched Cholesky of p x p blocks (n, p, p)."""
    return _chol2(A) if A.shape[1] == 2 else np.linalg.cholesky(A)


def _lower_solve(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """L^-1 B for batches of lower-triangular L (n, p, p) and B (n, p, k)."""
    if L.shape[1] == 1:
        return B / L
    if L.shape[1] == 2:
        z0 = B[:, 0] / L[:, 0, 0, None]
        z1 = (B[:, 1] - L[:, 1, 0, None] * z0) / L[:, 1, 1, None]
        return np.stack([z0, z1], axis=1)
    return np.linalg.solve(L, B)


def _upper_solve(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """L'^-1 B for batches of lower-triangular L."""
    if L.shape[1] == 1:
        return B / L
    if L.shape[1] == 2:
        x1 = B[:, 1] / L[:, 1, 1, None]
        x0 = (B[:, 0] - L[:, 1, 0, None] * x1) / L[:, 0, 0, None]
        return np.stack([x0, x1], axis=1)
    return np.linalg.solve(np.swapaxes(L, 1, 2), B)


class BlockCholesky:
    """The Cholesky of A at one theta (Ts: each term's T) for terms with correlated effects."""

    def __init__(self, bt: BlockPlan, Ts: list[np.ndarray]):
        self.bt = bt
        T1 = Ts[0]
        self.T1 = T1
        A1 = T1.T @ bt.G1 @ T1
        A1[:, np.arange(bt.p1), np.arange(bt.p1)] += 1.0
        L1 = _cholesky(A1)
        self.L1 = L1
        self.logdet = 2.0 * float(np.sum(np.log(np.diagonal(L1, axis1=1, axis2=2))))
        if bt.kind == "none":
            return
        V = _lower_solve(L1, np.broadcast_to(T1.T, L1.shape))     # L_l^-1 T1'
        M = np.swapaxes(V, 1, 2) @ V                               # T1 A_l^-1 T1'
        g = bt.smap.g(M.ravel())
        if bt.kind == "blocks":
            self._nested_blocks(Ts[1], g)
        else:
            self._complement(Ts[1:], g)

    def _nested_blocks(self, T2: np.ndarray, g: np.ndarray) -> None:
        """S block diagonal (the other term nested in the first): one more batch."""
        n2, p2 = self.bt.rest[0]
        lv, a, b = self.bt.bidx
        G2 = np.zeros((n2, p2, p2))
        G2[lv, a, b] = g
        G2[lv, b, a] = g
        A2 = T2.T @ G2 @ T2
        A2[:, np.arange(p2), np.arange(p2)] += 1.0
        self._L2 = _cholesky(A2)
        self._T2 = T2
        self.logdet += 2.0 * float(np.sum(np.log(np.diagonal(self._L2, axis1=1, axis2=2))))

    def _complement(self, Ts: list[np.ndarray], g: np.ndarray) -> None:
        """S on the other terms: scaled pattern values when Lambda2 is diagonal, else formed."""
        bt = self.bt
        lam2 = _lam2(Ts, bt.rest)
        self._lam2 = lam2
        m = bt.smap
        if all(p == 1 for _, p in bt.rest):       # Lambda2 diagonal: scale S's pattern values
            d = lam2.diagonal()
            self._s = factorize_complement(m, bt.kind, g * d[m.rows] * d[m.cols] + m.is_diag)
        else:
            S = (lam2.T @ m.sparse(g) @ lam2 + sp.identity(m.q2, format="csr")).tocsc()
            self._s = (DenseCholesky(np.asfortranarray(S.toarray())) if bt.kind in ("dense", "diag")
                       else SparseLU(S))
        self.logdet += self._s.logdet

    # -- Lambda' b, level by level --------------------------------------------------------------
    def _t1t(self, b1: np.ndarray) -> np.ndarray:          # (q1, k) -> T1' per level
        n1, p1 = self.bt.n1, self.bt.p1
        return (self.T1.T @ b1.reshape(n1, p1, -1)).reshape(n1 * p1, -1)

    def _t1(self, b1: np.ndarray) -> np.ndarray:
        n1, p1 = self.bt.n1, self.bt.p1
        return (self.T1 @ b1.reshape(n1, p1, -1)).reshape(n1 * p1, -1)

    def _lam2t(self, b2: np.ndarray) -> np.ndarray:
        if self.bt.kind == "blocks":
            n2, p2 = self.bt.rest[0]
            return (self._T2.T @ b2.reshape(n2, p2, -1)).reshape(n2 * p2, -1)
        return self._lam2.T @ b2

    def _lam2x(self, b2: np.ndarray) -> np.ndarray:
        if self.bt.kind == "blocks":
            n2, p2 = self.bt.rest[0]
            return (self._T2 @ b2.reshape(n2, p2, -1)).reshape(n2 * p2, -1)
        return self._lam2 @ b2

    def lam_t(self, b: np.ndarray) -> np.ndarray:
        """Return Lambda' b."""
        vec = b.ndim == 1
        b = b[:, None] if vec else b
        q1 = self.bt.q1
        out = self._t1t(b[:q1])
        if self.bt.kind != "none":
            out = np.concatenate([out, self._lam2t(b[q1:])])
        return out[:, 0] if vec else out

    # -- solves ----------------------------------------------------------------------------------
    def _l1_solve(self, b1: np.ndarray, upper: bool = False) -> np.ndarray:
        n1, p1 = self.bt.n1, self.bt.p1
        B = b1.reshape(n1, p1, -1)
        return (_upper_solve if upper else _lower_solve)(self.L1, B).reshape(n1 * p1, -1)

    def _a21(self, x1: np.ndarray) -> np.ndarray:             # A21 x1 = Lambda2' C' Lambda1 x1
        return self._lam2t(self.bt.Ct @ self._t1(x1))

    def _a12(self, x2: np.ndarray) -> np.ndarray:
        return self._t1t(self.bt.C @ self._lam2x(x2))

    def _s_gram(self, t: np.ndarray) -> np.ndarray:
        if self.bt.kind == "blocks":
            n2, p2 = self.bt.rest[0]
            z = _lower_solve(self._L2, t.reshape(n2, p2, -1)).reshape(n2 * p2, -1)
            return z.T @ z
        return self._s.gram(t)

    def _s_solve(self, t: np.ndarray) -> np.ndarray:
        if self.bt.kind == "blocks":
            n2, p2 = self.bt.rest[0]
            B = t.reshape(n2, p2, -1)
            return _upper_solve(self._L2, _lower_solve(self._L2, B)).reshape(n2 * p2, -1)
        return self._s.solve(t)

    def gram_rhs(self) -> np.ndarray:
        """Return B' Lambda A^-1 Lambda' B for the plan's B."""
        return self.gram(self.lam_t(self.bt.B))

    def gram(self, R: np.ndarray) -> np.ndarray:
        """Return R' A^-1 R for a q x k array R."""
        q1 = self.bt.q1
        z1 = self._l1_solve(R[:q1])
        G = z1.T @ z1
        if self.bt.kind == "none":
            return G
        t = R[q1:] - self._a21(self._l1_solve(z1, upper=True))
        return G + self._s_gram(t)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Return A^-1 rhs."""
        vec = rhs.ndim == 1
        b = rhs[:, None] if vec else rhs
        q1 = self.bt.q1
        x1 = self._l1_solve(self._l1_solve(b[:q1]), upper=True)
        if self.bt.kind != "none":
            x2 = self._s_solve(b[q1:] - self._a21(x1))
            y1 = self._a12(x2)
            x1 = x1 - self._l1_solve(self._l1_solve(y1), upper=True)
            x1 = np.concatenate([x1, x2])
        return x1[:, 0] if vec else x1
