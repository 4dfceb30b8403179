"""The Schur complement of A on the columns after the first random term, as a precomputed map.

Order the columns of A = Lambda' Z'Z Lambda + I so that the first term (the one with the most
levels, as lme4 orders them) comes first. Each observation has one level of that factor, so
its block of Z'Z is block diagonal (one p1 x p1 block per level) and can be factorised level by
level; what is left is the Schur complement on the other q2 columns,

    S = I + Lambda2' (Z22 - C' blockdiag(M_l) C) Lambda2,   M_l = T1 A_l^-1 T1',

with C = Z1'Z2 (q1 x q2) and Z22 = Z2'Z2 fixed by the design. Each entry of U = C' blockdiag(M_l) C
is linear in the entries of the M_l: U = P vec(M). ``SchurMap`` finds S's pattern and builds the
sparse matrix P once per model (the symbolic analysis); every evaluation of the criterion is then
one sparse matrix-vector product, whatever the design (nested: S is diagonal or block diagonal;
crossed: S is dense but small, e.g. 1,000 x 1,000 for a factor of 1,000 levels crossed with one
of 50,000).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .protocol import Frozen

MAX_PAIRS = 40_000_000   # P's entries (12 bytes each) beyond which the map is not built
DENSE_MAX = 4000         # Schur complements up to this size may be factorised densely ...
DENSE_ALWAYS = 600       # ... always up to this size, above it only when at least 5% filled
CHUNK_PAIRS = 4_000_000  # pairs generated at a time while building P (bounds the memory peak)
DENSE_PRODUCT = 200_000  # sparse matrices up to this many cells, and at least 1/8 filled (or
DENSE_TINY = 5_000       # up to this many cells), are kept dense: a BLAS product then costs
                         # less than scipy.sparse's call overhead (~5 us)


class SchurTooLarge(ValueError):
    """The precomputed Schur map would be too large (see MAX_PAIRS): use sparse.py."""


def small_dense(M: sp.spmatrix):
    """M as a dense array when small and not too empty, else CSR."""
    M = M.tocsr()
    cells = M.shape[0] * M.shape[1]
    if cells <= DENSE_TINY or (cells <= DENSE_PRODUCT and 8 * M.nnz >= cells):
        return np.ascontiguousarray(M.toarray())
    return M


def schur_pairs(C: sp.csr_matrix, p1: int) -> int:
    """How many entries P would have (an upper bound): sum over levels of (entries per level)^2."""
    counts = np.diff(C.indptr[::p1]).astype(np.int64)
    return int(np.sum(counts * counts))


def _level_pairs(C: sp.csr_matrix, p1: int):
    """List every pair of entries of one level's rows of C, level by level.

    For each pair (e_a, e_b) with column j_a <= j_b: its key in S (Fortran order,
    j_b * q2 + j_a), its column in P (level, r_a, r_b) and C_a * C_b; with the number of pairs of
    each level. Vectorised over levels with equally many entries, in chunks of CHUNK_PAIRS pairs.
    """
    q1, q2 = C.shape
    n1 = q1 // p1
    ent_col, ent_val = C.indices.astype(np.int64), C.data
    ent_r = np.repeat(np.arange(q1), np.diff(C.indptr)) % p1
    level_ptr = C.indptr[::p1].astype(np.int64)
    counts = np.diff(level_ptr)
    per_level = np.zeros(n1, dtype=np.int64)
    start_of = np.zeros(n1, dtype=np.int64)       # where each level's pairs start in the chunks
    chunks, done = [], 0
    for m in np.unique(counts[counts > 0]):
        levels = np.flatnonzero(counts == m)
        if p1 == 1:    # one row per level, columns sorted: the pairs a <= b are S's upper part
            ia, ib = np.triu_indices(m)
        else:          # p1 rows per level: columns not sorted across rows, pick j_a <= j_b
            ia, ib = (g.ravel() for g in np.meshgrid(np.arange(m), np.arange(m), indexing="ij"))
        step = max(1, CHUNK_PAIRS // len(ia))
        for first in range(0, len(levels), step):
            lv = levels[first:first + step]
            E = level_ptr[lv][:, None] + np.arange(m)[None, :]        # (n, m) entry numbers
            J, V, R = ent_col[E], ent_val[E], ent_r[E]
            Ja, Jb = J[:, ia], J[:, ib]
            if p1 == 1:    # P's column is the level itself: implicit in the level order
                per_level[lv] = len(ia)
                parts = [(Jb * q2 + Ja).ravel(), np.zeros(0, np.int64), (V[:, ia] * V[:, ib]).ravel()]
            else:
                keep = Ja <= Jb
                per_level[lv] = keep.sum(axis=1)
                parts = [x[keep] for x in (Jb * q2 + Ja, (lv[:, None] * p1 + R[:, ia]) * p1 + R[:, ib],
                                           V[:, ia] * V[:, ib])]
            start_of[lv] = done + np.concatenate([[0], np.cumsum(per_level[lv])[:-1]])
            done += len(parts[0])
            chunks.append(parts)
    if not chunks:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), per_level
    key, pcol, val = (np.concatenate([c[i] for c in chunks]) for i in range(3))
    del chunks
    # reorder to level order: one gather, no sort
    level_start = np.cumsum(per_level) - per_level
    idx = np.repeat(start_of - level_start, per_level) + np.arange(done)
    return key[idx], (pcol[idx] if p1 > 1 else pcol), val[idx], per_level


def _pattern(q2: int, key_sets: list[np.ndarray]):
    """Return the sorted distinct keys, and a function mapping keys to their rank among them."""
    if q2 * q2 <= 1 << 24:      # bounded range: mark and count, no sort
        mark = np.zeros(q2 * q2, dtype=bool)
        for k in key_sets:
            mark[k] = True
        pattern = np.flatnonzero(mark)
        rank_of = np.cumsum(mark, dtype=np.int32) - 1
        del mark
        return pattern, lambda k: rank_of[k]
    pattern = np.unique(np.sort(np.concatenate(key_sets)))
    return pattern, lambda k: np.searchsorted(pattern, k)


class SchurMap:
    """S's pattern (upper triangle, diagonal always included) and the map vec(M) -> U on it.

    Attributes: ``rows``, ``cols`` (pattern entries, row <= col, sorted by column then row),
    ``z22`` (Z22 on the pattern), ``is_diag``, ``diagonal`` (the pattern is the diagonal only),
    ``P`` (npattern x n1*p1*p1: CSR, or a dense array when small).
    """

    def __init__(self, C: sp.spmatrix, p1: int, Z22: sp.spmatrix):
        C = C.tocsr()
        if not C.has_canonical_format:
            C = C.copy()
            C.sum_duplicates()
        q1, q2 = C.shape
        n1 = q1 // p1
        self.q2, self.p1, self.n1 = q2, p1, n1
        key, pcol, val, per_level = _level_pairs(C, p1)
        Z22 = Z22.tocoo()
        up = Z22.row <= Z22.col
        z_rows, z_cols, z_data = Z22.row[up], Z22.col[up], Z22.data[up]
        z_keys = z_cols.astype(np.int64) * q2 + z_rows
        d_keys = np.arange(q2, dtype=np.int64) * (q2 + 1)
        pattern, rank = _pattern(q2, [key, z_keys, d_keys])
        npat = len(pattern)
        self.keys = pattern                                   # Fortran-order flat index into S
        self.rows, self.cols = pattern % q2, pattern // q2
        self.is_diag = self.rows == self.cols
        self.diagonal = bool(self.is_diag.all())
        self.z22 = np.zeros(npat)
        np.add.at(self.z22, rank(z_keys), z_data)
        if p1 == 1:    # the pairs come level by level: P' in CSR, i.e. P in CSC, to CSR
            indptr = np.concatenate([[0], np.cumsum(per_level)])
            P = sp.csc_matrix((val, rank(key), indptr), shape=(npat, n1))
        else:
            P = sp.csr_matrix((val, (rank(key), pcol)), shape=(npat, n1 * p1 * p1))
        self.P = small_dense(P)

    def g(self, m: np.ndarray) -> np.ndarray:
        """Return Z22 - C' blockdiag(M_l) C on the pattern (m: the M_l, level-major, row-major)."""
        return self.z22 - self.P @ m

    def dense(self, values: np.ndarray) -> np.ndarray:
        """Return S from its upper-triangle pattern values as a dense Fortran array.

        Only the upper triangle is filled: what LAPACK's dpotrf with lower=0 reads.
        """
        S = np.zeros(self.q2 * self.q2)
        S[self.keys] = values
        return S.reshape((self.q2, self.q2), order="F")

    def sparse(self, values: np.ndarray) -> sp.csc_matrix:
        """Return S from its pattern values, both triangles, as CSC."""
        off = ~self.is_diag
        r = np.concatenate([self.rows, self.cols[off]])
        c = np.concatenate([self.cols, self.rows[off]])
        v = np.concatenate([values, values[off]])
        return sp.csc_matrix((v, (r, c)), shape=(self.q2, self.q2))


def dense_complement(q2: int, npattern: int) -> bool:
    """Tell whether S is factorised densely.

    A dense Cholesky of 1,000 x 1,000 takes ~20 ms; SuperLU on a matrix that full takes seconds.
    """
    return q2 <= DENSE_ALWAYS or (q2 <= DENSE_MAX and 2 * npattern >= 0.05 * q2 * q2)


def complement_kind(smap: SchurMap) -> str:
    """Return how S is factorised: "diag", "dense" or "sparse" (complement.py)."""
    if smap.diagonal:
        return "diag"
    return "dense" if dense_complement(smap.q2, len(smap.keys)) else "sparse"


class Coupling(Frozen):
    """How the first term (q1 columns, p1 per level) is tied to the others, analysed once.

    Attributes: C = Z1'Z2 and Ct = C' (dense when small), smap (S's map), kind (how S is
    factorised: "diag", "dense" or "sparse"), P (the map's matrix, summed over size classes when
    the first term's levels are pooled, see pooling.py). Raises SchurTooLarge when the map would
    not fit in memory.
    """

    def __init__(self, ZtZ: sp.csr_matrix, q1: int, p1: int, classes=None):
        C = ZtZ[:q1, q1:].tocsr()
        if schur_pairs(C, p1) > MAX_PAIRS:
            raise SchurTooLarge("the Schur map would not fit in memory")
        self.C, self.Ct = small_dense(C), small_dense(C.T)
        self.smap = SchurMap(C, p1, ZtZ[q1:, q1:])
        self.kind = complement_kind(self.smap)
        P = self.smap.P
        if classes is not None and classes.pooled:
            E = classes.E
            P = P @ E if isinstance(P, np.ndarray) else small_dense(P @ sp.csr_matrix(E))
        self.P = P
        self._freeze()
