"""Minimise the profiled deviance where lme4 does, and check the end point as lme4 does.

This is lme4 1.1-31's ``optimizeLmer`` + ``checkConv`` for ``lmer``'s defaults (read from lme4's
and nloptr's sources, see the README's "How the numbers are made"):

1. ``nloptwrap``: NLopt's BOBYQA through nloptr, with lme4's ``defaultControl``
   (``xtol_abs = 1e-8``, ``ftol_abs = 1e-8``, ``maxeval = 1e5``) on top of nloptr's own defaults
   (``xtol_rel = 1e-4``, ``ftol_rel = 0``, ``stopval = -Inf``, no time limit) and NLopt's default
   initial step (nloptr sets none). In NLopt's BOBYQA ``xtol_rel`` sets the final trust-region
   radius, ``rhoend = max(xtol_rel * rhobeg, xtol_abs)``: that is where lme4 stops. The point
   returned is NLopt's own (its best point); nothing else is tried in its place.
2. ``restart_edge``: if a parameter ends exactly on its bound and the criterion falls when it
   moves 1e-5 inside, BOBYQA runs once more from the end point.
3. ``check.boundary`` (``boundary.tol = 1e-5``): a parameter within 1e-5 of its bound is set on
   the bound when that lowers the criterion.
4. ``checkConv``: a singular fit (a diagonal element of theta below 1e-4, ``isSingular``) gets
   lme4's message and no further check. Otherwise the gradient and Hessian by central differences
   (``deriv12``, step 1e-4) at the end point: max(min(|solve(chol(H), g)|, |g|)) must be below
   2e-3, and the Hessian must pass ``checkHess`` (tolerance 1e-6). Failures are reported in
   lme4's words; the remedy lme4 offers is to try other optimisers (``allFit``), which the course
   offers as ``all_fit(m)`` (engine/allfit.py) -- an explicit table, never a silent replacement.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import nlopt
import numpy as np
from scipy import optimize

from .numderiv import gradient_hessian
from .pls import ProfiledDeviance

SINGULAR_TOL = 1e-4      # lme4's check.conv.singular tolerance and isSingular(tol = 1e-4)
GRAD_TOL = 2e-3          # lme4's check.conv.grad tolerance
HESS_TOL = 1e-6          # lme4's check.conv.hess tolerance
BOUNDARY_TOL = 1e-5      # lmerControl(boundary.tol = 1e-5)
EDGE_STEP = 1e-5         # optimizeLmer's btol for restart_edge
NLOPTWRAP = {"xtol_abs": 1e-8, "ftol_abs": 1e-8, "maxeval": 100000}   # lme4's defaultControl
NLOPTR = {"xtol_rel": 1e-4, "ftol_rel": 0.0, "stopval": -np.inf}     # nloptr's defaults
IMPROVE_TOL = 1e-6       # used by smfit.py (statsmodels engine): a run must gain this to win
_NOTE_ONLY = "Model is nearly unidentifiable"   # checkHess' positive codes: a warning, converged
SINGULAR_MESSAGE = "boundary (singular) fit: see help('isSingular')"
WHAT_TO_DO = ("What you can do: all_fit(m) refits the model with several optimisers and shows "
              "each one's criterion and estimates; if they agree, the estimates can be trusted.")
SINGULAR_WHAT_TO_DO = ("What it means: a variance is estimated as (nearly) zero or a correlation "
                       "as +/-1; a simpler random part (e.g. without that slope or correlation) "
                       "describes the data as well.")

# nloptr's status messages (src/nloptr.c), as lme4 prints them after "convergence code"
NLOPT_MESSAGES = {
    1: "NLOPT_SUCCESS: Generic success return value.",
    2: "NLOPT_STOPVAL_REACHED: Optimization stopped because stopval (above) was reached.",
    3: "NLOPT_FTOL_REACHED: Optimization stopped because ftol_rel or ftol_abs (above) was reached.",
    4: "NLOPT_XTOL_REACHED: Optimization stopped because xtol_rel or xtol_abs (above) was reached.",
    5: "NLOPT_MAXEVAL_REACHED: Optimization stopped because maxeval (above) was reached.",
    6: "NLOPT_MAXTIME_REACHED: Optimization stopped because maxtime (above) was reached.",
    -1: "NLOPT_FAILURE: Generic failure code.",
    -4: ("NLOPT_ROUNDOFF_LIMITED: Roundoff errors led to a breakdown of the optimization "
         "algorithm. In this case, the returned minimum may still be useful. (e.g. this error "
         "occurs in NEWUOA if one tries to achieve a tolerance too close to machine precision.)"),
}


@dataclass
class FitInfo:
    """What an optimiser run found: theta, the criterion there, and lme4's convergence report."""

    theta: np.ndarray
    criterion: float
    converged: bool
    singular: bool
    gradient: np.ndarray
    evaluations: int
    messages: list[str] = field(default_factory=list)   # lme4's checkConv messages
    optimizer: str = ""
    code: int = 0                  # lme4's optinfo$conv$opt (nloptwrap: status if < 0 or 5)
    optimizer_message: str = ""    # NLopt's status message
    warnings: list[str] = field(default_factory=list)   # optimizer warnings (optwrap's)
    feval: int = 0                 # the optimizer's own evaluations (lme4's optinfo$feval)


@dataclass
class _Run:
    x: np.ndarray
    fval: float
    evaluations: int
    status: int


def _chol_scaled(g: np.ndarray, H: np.ndarray) -> np.ndarray:
    """Return lme4's scaled gradient, solve(chol(H), g).

    R's chol gives the upper-triangular U with H = U'U; raises LinAlgError when H is not positive definite.
    """
    return np.linalg.solve(np.linalg.cholesky(H).T, g)


def scaled_gradient(g: np.ndarray, H: np.ndarray) -> np.ndarray:
    """Return the scaled gradient, or the gradient itself when H is not positive definite.

    Used by smfit.py's check of statsmodels' end point.
    """
    try:
        return _chol_scaled(g, H)
    except np.linalg.LinAlgError:
        return g


def _nlopt(f, x0: np.ndarray, lower: np.ndarray, algorithm=nlopt.LN_BOBYQA) -> _Run:
    """Minimise f as lme4's nloptwrap does.

    nloptr(x0, fn, lb = lower, ub = Inf, opts = lme4's defaultControl + nloptr's defaults).
    Returns NLopt's own point; on an NLopt error (e.g. roundoff-limited), where the Python
    binding raises instead of returning, its best point so far, which is what NLopt returns
    (BOBYQA keeps the first point of lowest value).
    """
    n = len(x0)
    best = [np.inf, np.array(x0, float)]
    count = [0]

    def fn(x, grad):
        count[0] += 1
        v = f(x)
        if v < best[0]:
            best[0], best[1] = v, np.array(x, float)
        return v if np.isfinite(v) else np.inf

    opt = nlopt.opt(algorithm, n)
    opt.set_min_objective(fn)
    opt.set_lower_bounds(np.where(np.isfinite(lower), lower, -np.inf))
    opt.set_upper_bounds(np.full(n, np.inf))
    opt.set_xtol_rel(NLOPTR["xtol_rel"])
    opt.set_ftol_rel(NLOPTR["ftol_rel"])
    opt.set_stopval(NLOPTR["stopval"])
    opt.set_xtol_abs(NLOPTWRAP["xtol_abs"])
    opt.set_ftol_abs(NLOPTWRAP["ftol_abs"])
    opt.set_maxeval(NLOPTWRAP["maxeval"])
    try:
        x = np.asarray(opt.optimize(np.asarray(x0, float)), float)
        return _Run(x, float(opt.last_optimum_value()), count[0], int(opt.last_optimize_result()))
    except nlopt.RoundoffLimited:
        return _Run(best[1], float(best[0]), count[0], -4)
    except (RuntimeError, ValueError):
        return _Run(best[1], float(best[0]), count[0], -1)


def _scipy(method: str):
    def run(f, x0: np.ndarray, lower: np.ndarray) -> _Run:
        bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]
        count = [0]

        def fn(x):
            count[0] += 1
            v = f(x)
            return v if np.isfinite(v) else 1e300
        r = optimize.minimize(fn, x0, method=method, bounds=bounds)
        return _Run(np.maximum(np.asarray(r.x, float), lower), float(r.fun), count[0],
                    0 if r.success else -1)
    return run


OPTIMIZERS = {
    "nloptwrap": lambda f, x0, lower: _nlopt(f, x0, lower, nlopt.LN_BOBYQA),
    "nloptwrap.NLOPT_LN_NELDERMEAD": lambda f, x0, lower: _nlopt(f, x0, lower, nlopt.LN_NELDERMEAD),
    "nloptwrap.NLOPT_LN_SBPLX": lambda f, x0, lower: _nlopt(f, x0, lower, nlopt.LN_SBPLX),
    "scipy.L-BFGS-B": _scipy("L-BFGS-B"),
    "scipy.Nelder-Mead": _scipy("Nelder-Mead"),
    "scipy.Powell": _scipy("Powell"),
}


def _code(status: int) -> int:
    """Return nloptwrap's conv: the status when it is negative or 5 (maxeval reached), else 0."""
    return status if status < 0 or status == 5 else 0


def check_hess(H: np.ndarray, tol: float = HESS_TOL) -> list[str]:
    """lme4's checkHess: its messages for a Hessian that is not clearly positive definite."""
    try:
        ev = np.linalg.eigvalsh(0.5 * (H + H.T))[::-1]
    except np.linalg.LinAlgError:
        return ["Problem with Hessian check (infinite or missing values?)"]
    if not np.all(np.isfinite(ev)):
        return ["Problem with Hessian check (infinite or missing values?)"]
    negative = int(np.sum(ev < -tol))
    if negative:
        return [f"Model failed to converge: degenerate  Hessian with {negative} negative eigenvalues"]
    try:
        np.linalg.cholesky(H)
        chol_ok = True
    except np.linalg.LinAlgError:
        chol_ok = False
    if np.any(np.abs(ev) < tol) or not chol_ok:
        return [" Hessian is numerically singular: parameters are not uniquely determined"]
    out = []
    if ev.max() * tol > 1:
        out.append("Model is nearly unidentifiable: very large eigenvalue\n - Rescale variables?")
    if ev.min() / ev.max() < tol:
        out.append("Model is nearly unidentifiable: large eigenvalue ratio\n - Rescale variables?")
    return out


def check_conv(f, theta: np.ndarray, lower: np.ndarray, fval: float) -> tuple[bool, list[str], np.ndarray]:
    """Apply lme4's checkConv for lmer: return (singular, messages, gradient).

    Singular fits get only the boundary message (lme4 checks no gradient there).
    """
    singular = bool(np.any(theta[lower == 0] < SINGULAR_TOL))
    if singular:
        return True, [SINGULAR_MESSAGE], np.full(len(theta), np.nan)
    grad, hess = gradient_hessian(f, theta, f0=fval)
    messages = []
    if np.any(np.isnan(grad)):
        return False, ["Gradient contains NAs"], grad
    try:
        scaled = _chol_scaled(grad, hess)
        bad = bool(np.any(np.isnan(scaled)))
    except np.linalg.LinAlgError:
        scaled, bad = None, True
    if bad:
        messages.append("unable to evaluate scaled gradient")
    else:
        mingrad = np.minimum(np.abs(scaled), np.abs(grad))
        if mingrad.max() > GRAD_TOL:
            # lme4 1.1-31 prints "component 1" whatever the component (which.max of a single
            # number); the course names the component that is off.
            messages.append(f"Model failed to converge with max|grad| = {_g(mingrad.max())} "
                            f"(tol = {_g(GRAD_TOL)}, component {int(np.argmax(mingrad)) + 1})")
    messages += check_hess(hess)
    return False, messages, grad


def _g(x: float) -> str:
    """R's %g."""
    return f"{x:g}"


def optimize_theta(dev: ProfiledDeviance, reml: bool, start: np.ndarray | None = None,
                   optimizer: str = "nloptwrap") -> FitInfo:
    """lme4's optimizeLmer and checkConv on the profiled REML criterion or ML deviance."""
    count = [0]

    def f(theta):
        count[0] += 1
        return dev.profiled(np.asarray(theta, float), reml)

    lower = dev.lower
    run = OPTIMIZERS[optimizer]
    x0 = dev.theta_start() if start is None else np.maximum(np.asarray(start, float), lower)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r = run(f, x0, lower)
        # restart_edge: a parameter on its bound whose criterion falls just inside it
        on_bound = np.flatnonzero(r.x == lower)
        if len(on_bound):
            d0 = f(r.x)
            for i in on_bound:
                t = r.x.copy()
                t[i] = lower[i] + EDGE_STEP
                if (f(t) - d0) / EDGE_STEP < 0:
                    r = run(f, r.x, lower)
                    break
        # check.boundary: within boundary.tol of the bound, the bound if it is lower
        x, fval = r.x.copy(), r.fval
        near = np.flatnonzero((x - lower > 0) & (x - lower < BOUNDARY_TOL))
        for i in near:
            t = x.copy()
            t[i] = lower[i]
            if f(t) < r.fval:
                x[i] = lower[i]
        if len(near):
            fval = f(x)
        singular, messages, grad = check_conv(f, x, lower, fval)
    code = _code(r.status)
    opt_warnings = []
    if code != 0:
        opt_warnings.append(f"convergence code {code} from {optimizer}: "
                            f"{NLOPT_MESSAGES.get(r.status, 'Return status not recognized.')}")
    converged = code == 0 and not any(m != SINGULAR_MESSAGE and not m.startswith(_NOTE_ONLY)
                                      for m in messages)
    return FitInfo(theta=x, criterion=float(fval), converged=converged, singular=singular,
                   gradient=grad, evaluations=count[0], messages=messages, optimizer=optimizer,
                   code=code, optimizer_message=NLOPT_MESSAGES.get(r.status, ""),
                   warnings=opt_warnings, feval=r.evaluations)
