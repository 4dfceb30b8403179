"""Choose the strategy for a model's A = Lambda' Z'Z Lambda + I, once, from its terms.

- every term has one effect: ``ScalarPlan`` (scalar.py);
- one term with two correlated effects: ``PairPlan`` (pair.py, closed form);
- otherwise: ``BlockPlan`` (block.py);
- ``SparsePlan`` (sparse.py) when the Schur map would be too large, or when asked for.

The analysis runs one way: the first term's size classes (pooling.py, scalar terms), its
coupling to the other terms and the Schur map (schurmap.py), then the strategy's plan.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .block import BlockPlan
from .layout import ThetaLayout
from .pair import PairPlan
from .pooling import SizeClasses
from .protocol import Plan
from .scalar import ScalarPlan
from .schurmap import Coupling, SchurTooLarge
from .sparse import SparsePlan

STRATEGIES = ("auto", "scalar", "pair", "block", "sparse")


def choose_strategy(layout: ThetaLayout) -> str:
    """Name the strategy that suits the terms: "scalar", "pair" or "block"."""
    if layout.column_theta is not None:
        return "scalar"
    if len(layout.sizes) == 1 and layout.sizes[0][1] == 2:
        return "pair"
    return "block"


def build_plan(ZtZ: sp.spmatrix, layout: ThetaLayout, B: np.ndarray, strategy: str = "auto") -> Plan:
    """Build the plan for Z'Z, theta's layout and the right-hand side B = Z'[y X].

    ``strategy="auto"`` chooses by the terms (``choose_strategy``) and falls back on the sparse
    strategy when the Schur map would be too large; a name forces that strategy (tests).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, not {strategy!r}")
    name = choose_strategy(layout) if strategy == "auto" else strategy
    ZtZ = ZtZ if sp.isspmatrix_csr(ZtZ) else sp.csr_matrix(ZtZ)
    n1, p1 = layout.sizes[0]
    try:
        if name == "pair":
            return PairPlan(ZtZ, layout, B)
        if name in ("scalar", "block"):
            classes = SizeClasses(ZtZ, n1) if name == "scalar" else None
            coupling = Coupling(ZtZ, n1 * p1, p1, classes) if ZtZ.shape[0] > n1 * p1 else None
            if name == "scalar":
                return ScalarPlan(ZtZ, layout, B, classes, coupling)
            return BlockPlan(ZtZ, layout, B, coupling)
    except SchurTooLarge:
        if strategy != "auto":
            raise
    return SparsePlan(ZtZ, layout, B)
