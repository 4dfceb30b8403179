"""Find the optimum of the profiled deviance reliably, and say how sure we are.

One optimiser run is never trusted (statsmodels' default stops at REML 12087.5 instead of
lme4's 12038.4 on ``mathkind ~ ses + (1|schoolid/classid)``): BOBYQA (lme4's default, from
NLopt, with lme4's start values and tolerances) is checked by a bounded quasi-Newton search,
and the gradient is checked at the end as lme4 does (``check.conv.grad``, tolerance 2e-3).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import nlopt
import numpy as np
from scipy import optimize

from .numderiv import gradient_hessian
from .pls import ProfiledDeviance

SINGULAR_TOL = 1e-4      # lme4's isSingular() tolerance on the diagonal of theta
GRAD_TOL = 2e-3          # lme4's check.conv.grad tolerance
TIE_TOL = 2e-8           # twice lme4's ftol_abs: closer criterion values are not told apart
IMPROVE_TOL = 1e-6       # a check optimiser must beat BOBYQA by this much to be preferred


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


def _scaled_gradient(g: np.ndarray, H: np.ndarray) -> np.ndarray:
    """lme4's convergence measure: the gradient scaled by the Cholesky factor of the Hessian."""
    try:
        return np.linalg.solve(np.linalg.cholesky(H).T, g)
    except np.linalg.LinAlgError:
        return g


def _bobyqa(f, x0: np.ndarray, lower: np.ndarray) -> tuple[float, np.ndarray]:
    """lme4's default optimiser: NLopt's BOBYQA with lme4's tolerances (nloptwrap).

    The last evaluations of a converged run improve the criterion by less than lme4's own
    tolerance (ftol_abs = 1e-8), and whether BOBYQA takes a few more such steps depends on
    rounding noise in the criterion (R's and ours differ around 1e-11). The final run of
    evaluations that all lie within TIE_TOL of the best are ties; the first of them is
    returned. On the handout's models that is the point lme4 stops at, so sensitive printed
    digits (the Satterthwaite df) agree with lme4's instead of with that noise. With a single
    parameter the best point is returned: on the reference fits lme4 runs to it (measured on
    tests/reference/lme4_reference.json: 8 one-parameter fits, 17 with more)."""
    history: list[tuple[float, np.ndarray]] = []

    def fn(x, grad):
        v = f(x)
        history.append((v, np.array(x, float)))
        return v if np.isfinite(v) else 1e300

    opt = nlopt.opt(nlopt.LN_BOBYQA, len(x0))
    opt.set_min_objective(fn)
    opt.set_lower_bounds(np.where(np.isfinite(lower), lower, -np.inf))
    opt.set_upper_bounds(np.full(len(x0), np.inf))
    opt.set_xtol_abs(1e-8)
    opt.set_ftol_abs(1e-8)
    opt.set_maxeval(100000)
    try:
        opt.optimize(np.maximum(x0, lower))
    except (nlopt.RoundoffLimited, RuntimeError, ValueError):
        pass
    finite = [(v, x) for v, x in history if np.isfinite(v)]
    if not finite:
        return np.inf, np.asarray(x0, float)
    best, best_x = min(finite, key=lambda e: e[0])
    if len(x0) == 1:  # one parameter: lme4's runs end at BOBYQA's best point (25 reference fits)
        return best, best_x
    on_bound = best_x <= lower  # a tie must sit on the same bounds (singular fits stay at 0)
    start = len(finite) - 1  # the final run of evaluations that all tie with the best
    while start > 0 and finite[start - 1][0] <= best + TIE_TOL:
        start -= 1
    return next(((v, x) for v, x in finite[start:]
                 if v <= best + TIE_TOL and np.array_equal(x <= lower, on_bound)), (best, best_x))


def optimize_theta(dev: ProfiledDeviance, reml: bool, start: np.ndarray | None = None) -> FitInfo:
    """Minimise the profiled REML criterion or ML deviance over theta.

    BOBYQA from lme4's start lands where lme4 lands (so printed digits match lme4's); a bounded
    quasi-Newton run from the same start checks it. If the check finds a criterion lower by
    more than IMPROVE_TOL, BOBYQA restarts from there and the better optimum wins."""
    count = [0]

    def f(theta):
        count[0] += 1
        return dev.profiled(theta, reml)

    lower = dev.lower
    bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]
    x0 = dev.theta_start() if start is None else np.maximum(np.asarray(start, float), lower)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        best_fun, best_x = _bobyqa(f, x0, lower)
        name = "bobyqa"
        check = optimize.minimize(f, x0, method="L-BFGS-B", bounds=bounds,
                                  options={"maxiter": 500, "ftol": 1e-11, "gtol": 1e-6})
        if check.fun < best_fun - IMPROVE_TOL:
            fun2, x2 = _bobyqa(f, check.x, lower)
            best_fun, best_x = (fun2, x2) if fun2 <= check.fun else (check.fun, check.x)
            name = "L-BFGS-B + bobyqa"
        if not np.isfinite(best_fun):
            r = optimize.minimize(f, x0, method="Nelder-Mead", bounds=bounds,
                                  options={"maxiter": 2000 * len(x0), "xatol": 1e-8, "fatol": 1e-10})
            best_fun, best_x, name = r.fun, r.x, "Nelder-Mead"
    theta = np.maximum(best_x, lower)
    crit = dev.profiled(theta, reml)
    grad, hess = gradient_hessian(lambda t: dev.profiled(t, reml), theta)
    free = theta > lower + 1e-6  # parameters on the boundary are not held to a zero gradient
    scaled = _scaled_gradient(grad[free], hess[np.ix_(free, free)]) if free.any() else np.zeros(1)
    free_grad = np.abs(scaled)
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
