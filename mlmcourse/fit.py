"""Find the optimum of the profiled deviance reliably, and say how sure we are.

One optimiser run is never trusted (statsmodels' default stops at REML 12087.5 instead of
lme4's 12038.4 on ``mathkind ~ ses + (1|schoolid/classid)``): we run a bounded quasi-Newton
search and a bounded Nelder-Mead from lme4's start, keep the best, polish it, and check the
gradient at the end, as lme4 does (``check.conv.grad``, tolerance 2e-3).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from .pls import ProfiledDeviance

SINGULAR_TOL = 1e-4      # lme4's isSingular() tolerance on the diagonal of theta
GRAD_TOL = 2e-3          # lme4's check.conv.grad tolerance


@dataclass
class FitInfo:
    theta: np.ndarray
    criterion: float
    converged: bool
    singular: bool
    gradient: np.ndarray
    evaluations: int
    messages: list[str] = field(default_factory=list)
    optimizer: str = ""


def _gradient(f, x: np.ndarray, lower: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central differences; one-sided at a bound (the optimum may sit on it)."""
    g = np.zeros_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        if x[i] - h < lower[i]:
            g[i] = (f(x + e) - f(x)) / h
        else:
            g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def optimize_theta(dev: ProfiledDeviance, reml: bool, start: np.ndarray | None = None) -> FitInfo:
    """Minimise the profiled REML criterion or ML deviance over theta."""
    count = [0]

    def f(theta):
        count[0] += 1
        return dev.profiled(theta, reml)

    lower = dev.lower
    bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]
    x0 = dev.theta_start() if start is None else np.maximum(np.asarray(start, float), lower)
    candidates: list[tuple[float, np.ndarray, str]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r = optimize.minimize(f, x0, method="L-BFGS-B", bounds=bounds,
                              options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-7})
        candidates.append((r.fun, r.x, "L-BFGS-B"))
        r = optimize.minimize(f, x0, method="Nelder-Mead", bounds=bounds,
                              options={"maxiter": 400 * len(x0), "xatol": 1e-7, "fatol": 1e-10,
                                       "adaptive": len(x0) > 3})
        candidates.append((r.fun, r.x, "Nelder-Mead"))
        best_fun, best_x, name = min(candidates, key=lambda c: c[0])
        # polish from the best point: a fresh quasi-Newton run removes Nelder-Mead's last slack
        r = optimize.minimize(f, best_x, method="L-BFGS-B", bounds=bounds,
                              options={"maxiter": 200, "ftol": 1e-14, "gtol": 1e-9})
        if r.fun <= best_fun:
            best_fun, best_x = r.fun, r.x
    theta = np.where(np.abs(best_x) < 1e-10, 0.0, best_x)
    theta = np.maximum(theta, lower)
    crit = dev.profiled(theta, reml)
    grad = _gradient(lambda t: dev.profiled(t, reml), theta, lower)
    interior = theta > lower + 1e-6
    free_grad = np.abs(grad[interior]) if interior.any() else np.array([0.0])
    converged = bool(np.isfinite(crit) and free_grad.max() < GRAD_TOL)
    singular = bool(np.any(theta[dev.diag_index] < SINGULAR_TOL))
    messages = []
    if not converged:
        messages.append(f"Model failed to converge with max|grad| = {free_grad.max():.3g} "
                        f"(tol = {GRAD_TOL}): the estimates may not be the optimum.")
    if singular:
        messages.append("boundary (singular) fit: see help('isSingular') -- a variance component "
                        "is estimated as (nearly) zero or a correlation as +/-1.")
    return FitInfo(theta=theta, criterion=float(crit), converged=converged, singular=singular,
                   gradient=grad, evaluations=count[0], messages=messages, optimizer=name)
