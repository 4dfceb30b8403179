"""What every strategy for A = Lambda' Z'Z Lambda + I provides: a plan, then its Cholesky.

A ``Plan`` is built once per model from Z'Z, theta's layout and the right-hand side
B = Z'[y X] (the structure is analysed there: which blocks, which Schur complement, which
products can be precomputed). It is immutable: ``with_rhs(B)`` gives a new plan for another
response and shares the analysis. ``cholesky(theta)`` is the numeric step, once per theta; it
gives a ``Factorization`` whose log-determinant and solves are what the profiled criterion
needs.
"""
from __future__ import annotations

import copy
from typing import Protocol

import numpy as np


class Factorization(Protocol):
    """The Cholesky of A at one theta (whatever its storage)."""

    logdet: float    # log |A|

    def gram_rhs(self) -> np.ndarray:
        """Return B' Lambda A^-1 Lambda' B for the plan's right-hand side B."""

    def lam_t(self, b: np.ndarray) -> np.ndarray:
        """Return Lambda' b."""

    def gram(self, R: np.ndarray) -> np.ndarray:
        """Return R' A^-1 R for a q x k array R."""

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Return A^-1 rhs (a vector or a q x k array)."""


class Plan(Protocol):
    """The symbolic analysis of A for one model: built once, never changed."""

    def cholesky(self, theta: np.ndarray) -> Factorization:
        """Factorise A at theta (numeric step)."""

    def with_rhs(self, B: np.ndarray) -> Plan:
        """Return the same plan for another right-hand side B = Z'[y X]."""


class Frozen:
    """Objects whose attributes are fixed once their constructor has called ``_freeze()``."""

    def __setattr__(self, name: str, value) -> None:
        if self.__dict__.get("_frozen", False):
            raise AttributeError(f"{type(self).__name__} is immutable: build a new plan instead")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)

    def _replaced(self, **fields) -> Frozen:
        """Return a shallow copy with some attributes replaced (the analysis is shared)."""
        new = copy.copy(self)
        for name, value in fields.items():
            object.__setattr__(new, name, value)
        return new
