"""Factorise A = Lambda' Z'Z Lambda + I when a term has correlated effects (random slopes).

Columns of A are ordered term by term, level by level, effect by effect (lme4's layout). The
first term (most levels) has a block-diagonal part of Z'Z, one p1 x p1 block G_l per level, and
Lambda is block diagonal with the same T1 in every level, so

    A_l = T1' G_l T1 + I,   one batch of small Choleskys (2 x 2 closed form, else numpy's).

With one grouping factor (``Reaction ~ Days + (Days|Subject)``) that is all of A. Other terms
go into the Schur complement S on their q2 columns (schur.py's precomputed map): block diagonal
when the remaining term is nested in the first (one batch again), dense when small, sparse else.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .block2 import OneFactor2
from .factor import DenseSchur, SchurTooLarge, SparseLUFactor, factor_schur, schur_kind
from .schur import MAX_PAIRS, SchurMap, schur_pairs, small_dense


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


class BlockTermsFactor:
    """Structure of Z'Z for terms laid out as [(nlevels, p), ...], the first with the most levels."""

    def __init__(self, ZtZ: sp.spmatrix, layout: list[tuple[int, int]]):
        ZtZ = sp.csr_matrix(ZtZ)
        self.layout = layout
        n1, p1 = layout[0]
        self.n1, self.p1 = n1, p1
        self.q, self.q1 = ZtZ.shape[0], n1 * p1
        self.q2 = self.q - self.q1
        B = sp.coo_matrix(ZtZ[:self.q1, :self.q1])
        G = np.zeros((n1, p1, p1))
        np.add.at(G, (B.row // p1, B.row % p1, B.col % p1), B.data)
        self.G1 = G
        if p1 == 2:     # G's rows g00, g10, g11 and ones, for block2.OneFactor2
            self._G4 = np.stack([G[:, 0, 0], G[:, 1, 0], G[:, 1, 1], np.ones(n1)])
        self.kind = "none"
        if self.q2:
            C = ZtZ[:self.q1, self.q1:].tocsr()
            if schur_pairs(C, p1) > MAX_PAIRS:
                raise SchurTooLarge("the Schur map would not fit in memory")
            self.C, self.Ct = small_dense(C), small_dense(C.T)
            self.map = SchurMap(C, p1, ZtZ[self.q1:, self.q1:])
            self._rest = layout[1:]
            n2, p2 = self._rest[0]
            m = self.map
            if len(self._rest) == 1 and np.all(m.rows // p2 == m.cols // p2):
                self.kind = "blocks"        # the other term is nested in the first
                lv, a, b = m.rows // p2, m.rows % p2, m.cols % p2
                self._bidx = (lv, a, b)
            else:
                self.kind = "diag" if m.diagonal else schur_kind(m)

    def attach(self, B: np.ndarray) -> None:
        """Fix the right-hand side B (q x k, Z'[y X]) for ``gram_rhs``. With one factor and 2 x 2
        blocks, B' Lambda A^-1 Lambda' B = sum_l b_l' M_l b_l (M_l = T A_l^-1 T', b_l the level's
        two rows of B) is one product of M's three distinct entries with precomputed products."""
        self._B = B
        if self.kind == "none" and self.p1 == 2:
            b = B.reshape(self.n1, 2, -1)
            b0, b1 = b[:, 0], b[:, 1]
            outer = lambda u, v: u[:, :, None] * v[:, None, :]        # noqa: E731
            k = self._k = B.shape[1]
            self._K2 = np.concatenate([outer(b0, b0), outer(b0, b1) + outer(b1, b0),
                                       outer(b1, b1)]).reshape(3 * self.n1, k * k)

    def factor(self, Ts: list[np.ndarray]):
        """Ts: the lower-triangular relative covariance factor of each term (p x p)."""
        if self.kind == "none" and self.p1 == 2:
            T = Ts[0]
            return OneFactor2(self, float(T[0, 0]), float(T[1, 0]), float(T[1, 1]))
        return _BlockFactor(self, Ts)

    def factor_theta(self, theta: np.ndarray):
        """The same from theta (each term's lower triangle, column by column)."""
        if self.kind == "none" and self.p1 == 2:
            t0, t1, t2 = theta.tolist()
            return OneFactor2(self, t0, t1, t2)
        Ts, k = [], 0
        for _, p in self.layout:
            T = np.zeros((p, p))
            m = p * (p + 1) // 2
            T.T[np.triu_indices(p)] = theta[k:k + m]
            Ts.append(T)
            k += m
        return _BlockFactor(self, Ts)


def _lam2(Ts: list[np.ndarray], layout: list[tuple[int, int]]) -> sp.csr_matrix:
    """Lambda on the columns after the first term: block diagonal, one T per level."""
    return sp.block_diag([sp.kron(sp.identity(n, format="csr"), sp.csr_matrix(T)) for T, (n, _) in
                          zip(Ts, layout)], format="csr")


class _BlockFactor:
    def __init__(self, bt: BlockTermsFactor, Ts: list[np.ndarray]):
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
        g = bt.map.g(M.ravel())
        if bt.kind == "blocks":
            n2, p2 = bt._rest[0]
            T2 = Ts[1]
            lv, a, b = bt._bidx
            G2 = np.zeros((n2, p2, p2))
            G2[lv, a, b] = g
            G2[lv, b, a] = g
            A2 = T2.T @ G2 @ T2
            A2[:, np.arange(p2), np.arange(p2)] += 1.0
            self._L2 = _cholesky(A2)
            self._T2 = T2
            self.logdet += 2.0 * float(np.sum(np.log(np.diagonal(self._L2, axis1=1, axis2=2))))
            return
        lam2 = _lam2(Ts[1:], bt._rest)
        self._lam2 = lam2
        m = bt.map
        if all(p == 1 for _, p in bt._rest):       # Lambda2 diagonal: scale S's pattern values
            d = lam2.diagonal()
            self._s = factor_schur(m, bt.kind, g * d[m.rows] * d[m.cols] + m.is_diag)
        else:
            S = (lam2.T @ m.sparse(g) @ lam2 + sp.identity(m.q2, format="csr")).tocsc()
            self._s = (DenseSchur(np.asfortranarray(S.toarray())) if bt.kind in ("dense", "diag")
                       else SparseLUFactor(S))
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
            n2, p2 = self.bt._rest[0]
            return (self._T2.T @ b2.reshape(n2, p2, -1)).reshape(n2 * p2, -1)
        return self._lam2.T @ b2

    def _lam2x(self, b2: np.ndarray) -> np.ndarray:
        if self.bt.kind == "blocks":
            n2, p2 = self.bt._rest[0]
            return (self._T2 @ b2.reshape(n2, p2, -1)).reshape(n2 * p2, -1)
        return self._lam2 @ b2

    def lam_t(self, b: np.ndarray) -> np.ndarray:
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
            n2, p2 = self.bt._rest[0]
            z = _lower_solve(self._L2, t.reshape(n2, p2, -1)).reshape(n2 * p2, -1)
            return z.T @ z
        return self._s.gram(t)

    def _s_solve(self, t: np.ndarray) -> np.ndarray:
        if self.bt.kind == "blocks":
            n2, p2 = self.bt._rest[0]
            B = t.reshape(n2, p2, -1)
            return _upper_solve(self._L2, _lower_solve(self._L2, B)).reshape(n2 * p2, -1)
        return self._s.solve(t)

    def gram_rhs(self) -> np.ndarray:
        """B' Lambda A^-1 Lambda' B for the attached B."""
        return self.gram(self.lam_t(self.bt._B))

    def gram(self, R: np.ndarray) -> np.ndarray:
        """R' A^-1 R for a q x k array R."""
        q1 = self.bt.q1
        z1 = self._l1_solve(R[:q1])
        G = z1.T @ z1
        if self.bt.kind == "none":
            return G
        t = R[q1:] - self._a21(self._l1_solve(z1, upper=True))
        return G + self._s_gram(t)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
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
