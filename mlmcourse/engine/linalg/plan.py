"""Choose the strategy for a model's A = Lambda' Z'Z Lambda + I, once, from its terms.

- every term has one effect: ``ScalarPlan`` (scalar.py);
- one term with two correlated effects: ``PairPlan`` (pair.py, closed form);
- otherwise: ``BlockPlan`` (block.py);
- ``SparsePlan`` (sparse.py) when the Schur map would be too large, or when asked for.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .block import BlockPlan
from .complement import SchurTooLarge
from .layout import ThetaLayout
from .pair import PairPlan
from .protocol import Plan
from .scalar import ScalarPlan
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
    try:
        if name == "scalar":
            return ScalarPlan(ZtZ, layout, B)
        if name == "pair":
            return PairPlan(ZtZ, layout, B)
        if name == "block":
            return BlockPlan(ZtZ, layout, B)
    except SchurTooLarge:
        if strategy != "auto":
            raise
    return SparsePlan(ZtZ, layout, B)
