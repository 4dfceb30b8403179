"""The Cholesky of A = Lambda' Z'Z Lambda + I behind one protocol (see protocol.py).

protocol.py    Plan (built once per model, immutable) and Factorization (one theta)
layout.py      theta's layout: which entries fill which cells of which term; Lambda
plan.py        build_plan: the strategy chosen once from the terms
scalar.py      every term has one effect (Lambda diagonal): Schur complement on the rest
pair.py        one term with two correlated effects: 2 x 2 blocks in closed form
block.py       correlated effects: the first term's blocks as one batch of small Choleskys
sparse.py      A formed whole, sparse LU (the fallback and the tests' reference)
pooling.py     scalar terms: the first term's levels pooled by size
schurmap.py    the Schur complement on the later terms: its pattern, precomputed map, kind
complement.py  the Schur complement's Cholesky: diagonal, dense or sparse
"""
from .layout import ThetaLayout
from .plan import build_plan
from .protocol import Factorization, Plan

__all__ = ["Factorization", "Plan", "ThetaLayout", "build_plan"]
