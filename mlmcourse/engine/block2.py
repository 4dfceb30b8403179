"""One grouping factor with two correlated effects, ``(1 + x | g)`` (sleepstudy's
``(Days | Subject)``): A is block diagonal with 2 x 2 blocks, inverted in closed form over all
levels at once, and the criterion's B' Lambda A^-1 Lambda' B is one matrix product (see
``BlockTermsFactor.attach`` in blockfactor.py, which holds the precomputed products)."""
from __future__ import annotations

import numpy as np


class OneFactor2:
    """One grouping factor with two correlated effects, ``(1 + x | g)``: A is block diagonal with
    2 x 2 blocks A_l = T' G_l T + I, inverted in closed form, vectorised over the levels."""

    def __init__(self, bt, t0: float, t1: float, t2: float):
        # rows a00, a10, a11 of the blocks, from G's rows g00, g10, g11 and ones
        A = np.array([[t0 * t0, 2.0 * t0 * t1, t1 * t1, 1.0], [0.0, t2 * t0, t2 * t1, 0.0],
                      [0.0, 0.0, t2 * t2, 1.0]]) @ bt._G4
        det = A[0] * A[2] - A[1] * A[1]
        self.logdet = float(np.log(det).sum())
        if not np.isfinite(self.logdet):
            raise np.linalg.LinAlgError("2 x 2 block not positive definite")
        self._A, self._det = A, det
        self._t = (t0, t1, t2)
        self._bt = bt
        self._n = bt.n1

    def gram_rhs(self) -> np.ndarray:
        """sum_l b_l' T A_l^-1 T' b_l for the attached B: M_l = T A_l^-1 T' has entries
        M00 = t0^2 i00, M10 = t0 (t1 i00 + t2 i10), M11 = t1^2 i00 + 2 t1 t2 i10 + t2^2 i11,
        with A_l^-1 = [[a11, -a10], [-a10, a00]] / det."""
        t0, t1, t2 = self._t
        M = np.array([[t0 * t0, 0.0, 0.0], [t0 * t1, -t0 * t2, 0.0],
                      [t1 * t1, -2.0 * t1 * t2, t2 * t2]]) @ self._A[::-1]
        M /= self._det
        k = self._bt._k
        return (M.ravel() @ self._bt._K2).reshape(k, k)

    def _chol(self):
        (a00, a10, _), det = self._A, self._det
        l00 = np.sqrt(a00)
        return l00[:, None], (a10 / l00)[:, None], np.sqrt(det / a00)[:, None]

    def lam_t(self, b: np.ndarray) -> np.ndarray:
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
        z0, z1 = self._lower(R, self._chol())
        return z0.T @ z0 + z1.T @ z1

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        L = self._chol()
        z0, z1 = self._lower(rhs, L)
        x1 = z1 / L[2]
        x0 = (z0 - L[1] * x1) / L[0]
        return np.stack([x0, x1], axis=1).reshape(rhs.shape)
