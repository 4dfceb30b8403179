"""Numerical derivatives: the two recipes lme4 and lmerTest use, in one place.

- ``gradient_hessian``: central differences with one step (lme4's ``deriv12``, delta = 1e-4),
  for the convergence check after optimisation;
- ``hessian`` and ``jacobian``: central differences refined by Richardson extrapolation
  (numDeriv's method, which lmerTest uses for the Satterthwaite df): steps h, h/2, h/4, ...
  combined so that the h^2, h^4, ... error terms cancel.

Checked against ``statsmodels.tools.numdiff`` and functions with known derivatives in
tests/engine/test_numderiv.py.
"""
from __future__ import annotations

import numpy as np


def _central(f, x: np.ndarray, h: np.ndarray, f0: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the gradient and Hessian of ``f`` at ``x`` by central differences.

    The step along coordinate i is ``h[i]``; the mixed second differences use the 4-point
    formula.
    """
    k = len(x)
    g, H = np.zeros(k), np.zeros((k, k))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        fp, fm = f(x + ei), f(x - ei)
        g[i] = (fp - fm) / (2.0 * h[i])
        H[i, i] = (fp - 2.0 * f0 + fm) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h[j]
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                 + f(x - ei - ej)) / (4.0 * h[i] * h[j])
    return g, H


def gradient_hessian(f, x: np.ndarray, h: float = 1e-4,
                     f0: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian by central differences with one step (lme4's deriv12, delta = 1e-4).

    ``f0``: f(x), if the caller has it already.
    """
    x = np.asarray(x, dtype=float)
    return _central(f, x, np.full(len(x), h), f(x) if f0 is None else f0)


_ZERO_TOL = np.sqrt(np.finfo(float).eps / 7e-7)   # numDeriv's zero.tol


def _steps(x: np.ndarray, d: float, eps: float) -> np.ndarray:
    """Return numDeriv's first step: d * |x|, or eps where x is (nearly) zero."""
    return np.abs(d * x) + eps * (np.abs(x) < _ZERO_TOL)


def _richardson(estimates: list, r: int) -> np.ndarray:
    """Combine estimates at steps h, h/2, h/4, ... (error in h^2, h^4, ...)."""
    a = [np.asarray(e, dtype=float) for e in estimates]
    for m in range(1, r):
        f = 4.0 ** m
        a = [(f * a[k + 1] - a[k]) / (f - 1.0) for k in range(len(a) - 1)]
    return a[0]


def hessian(f, x: np.ndarray, d: float = 0.1, eps: float = 1e-4, r: int = 4) -> np.ndarray:
    """Hessian of a scalar function: central differences at r halving steps, Richardson-combined."""
    x = np.asarray(x, dtype=float)
    f0 = f(x)
    h0 = _steps(x, d, eps)
    return _richardson([_central(f, x, h0 / 2.0 ** level, f0)[1] for level in range(r)], r)


def jacobian(f, x: np.ndarray, d: float = 1e-4, eps: float = 1e-4, r: int = 4) -> list[np.ndarray]:
    """Return the derivatives of an array-valued function, one array per coordinate of x (Richardson)."""
    x = np.asarray(x, dtype=float)
    h0 = _steps(x, d, eps)
    out = []
    for i in range(len(x)):
        ests = []
        for level in range(r):
            h = h0[i] / 2.0 ** level
            e = np.zeros(len(x))
            e[i] = h
            ests.append((f(x + e) - f(x - e)) / (2.0 * h))
        out.append(_richardson(ests, r))
    return out
