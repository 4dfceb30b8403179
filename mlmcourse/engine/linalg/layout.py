"""Theta's layout: which entries of theta fill which cells of which term's matrix T.

Each random term has a p x p lower-triangular matrix T (p effects per level), its random
effects' covariance being sigma^2 T T' (lme4's relative covariance template). Theta holds the
lower triangles one term after another, each column by column (lme4's order). Diagonal entries
are bounded below by 0, the others are free. Lambda is block diagonal: one copy of a term's T for
each of its levels, in Z's column order (term by term, level by level, effect by effect). This
module is the one place that knows it; pls.py, the strategies of this package and the fitted
model read it from here.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .protocol import Frozen


class ThetaLayout(Frozen):
    """Theta's layout for the model's random terms (anything with ``p``, ``nlevels``, ``offset``).

    Attributes: ``ntheta``; ``lower`` (lower bounds); ``diag_index`` (positions of the diagonal
    entries); ``tmats`` (per term: p, rows, cols and theta's slice, cells column by column);
    ``sizes`` ([(nlevels, p)] per term); ``q`` (columns of Z); ``column_theta`` (the theta index
    of each column of Z when every term has one effect, else None); ``lam_pattern`` (Lambda's
    sparse pattern, CSC with sorted indices) and ``lam_index`` (theta's index of each of its
    stored entries).
    """

    def __init__(self, terms):
        lower, diag_pos, tmats, k = [], [], [], 0
        for td in terms:
            p = td.p
            tri = [(r, c) for c in range(p) for r in range(c, p)]   # column-major lower triangle
            for j, (r, c) in enumerate(tri):
                lower.append(0.0 if r == c else -np.inf)
                if r == c:
                    diag_pos.append(k + j)
            tmats.append((p, np.array([r for r, _ in tri]), np.array([c for _, c in tri]),
                          slice(k, k + len(tri))))
            k += len(tri)
        self.ntheta = k
        self.lower = np.array(lower)
        self.diag_index = np.array(diag_pos, dtype=int)
        self.tmats = tmats
        self.sizes = [(td.nlevels, td.p) for td in terms]
        self.q = sum(n * p for n, p in self.sizes)
        self.column_theta = (np.concatenate([np.full(n, i) for i, (n, _) in enumerate(self.sizes)])
                             if all(p == 1 for _, p in self.sizes) else None)
        self.lam_pattern, self.lam_index = _lambda_pattern(terms, tmats, self.q)
        self._freeze()

    def matrices(self, theta: np.ndarray) -> list[np.ndarray]:
        """Return each term's lower-triangular T at theta."""
        Ts = []
        for p, rr, cc, sl in self.tmats:
            T = np.zeros((p, p))
            T[rr, cc] = theta[sl]
            Ts.append(T)
        return Ts

    def lambda_of(self, theta: np.ndarray) -> sp.csc_matrix:
        """Lambda at theta (sparse, q x q)."""
        lam = self.lam_pattern.copy()
        lam.data = np.asarray(theta, dtype=float)[self.lam_index]
        return lam


def _lambda_pattern(terms, tmats, q: int) -> tuple[sp.csc_matrix, np.ndarray]:
    """Lambda's sparse pattern and the theta index of each stored entry (CSC order)."""
    rows, cols, idx = [], [], []
    for td, (p, rr, cc, sl) in zip(terms, tmats):
        base = td.offset + np.arange(td.nlevels) * p
        for j, (r, c) in enumerate(zip(rr, cc)):
            rows.append(base + r)
            cols.append(base + c)
            idx.append(np.full(td.nlevels, sl.start + j))
    if not rows:
        return sp.csc_matrix((q, q)), np.zeros(0, dtype=int)
    rows, cols, idx = (np.concatenate(a) for a in (rows, cols, idx))
    lam = sp.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(q, q))
    order = sp.csc_matrix((idx + 1.0, (rows, cols)), shape=(q, q))
    order.sort_indices()
    lam.sort_indices()
    return lam, order.data.astype(int) - 1
