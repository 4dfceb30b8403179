"""The first term's levels pooled by size, for scalar terms.

When every term has one effect, the first term's block of Z'Z is diagonal, d_l (observations per
level, for an intercept), and everything the criterion takes from that block depends on a level
only through d_l. When d_l takes few values (group sizes), levels are pooled by size once:
log|A11|, the Schur map and B's products then cost O(distinct sizes) per evaluation, not
O(levels) (the 1,000,000-row crossed model: 37 sizes for 50,000 levels).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .protocol import Frozen


class SizeClasses(Frozen):
    """The first term's diagonal d1 of Z'Z and, when pooled, its distinct values.

    Attributes: d1; pooled (few distinct values); when pooled, dv (the distinct values), cls
    (each level's class), mult (levels per class) and E (the level-by-class indicator matrix).
    """

    def __init__(self, ZtZ: sp.csr_matrix, q1: int):
        self.d1 = ZtZ.diagonal()[:q1]
        dv, cls = np.unique(self.d1, return_inverse=True)
        self.pooled = len(dv) <= max(16, q1 // 4)
        if self.pooled:     # E: levels -> their size class
            self.dv, self.cls, self.mult = dv, cls.ravel(), np.bincount(cls.ravel()).astype(float)
            self.E = (self.cls[:, None] == np.arange(len(dv))[None, :]).astype(float)
        self._freeze()
