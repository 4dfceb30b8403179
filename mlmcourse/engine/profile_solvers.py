"""The two numerical tools of the profile (engine/profile.py).

BOBYQA for the parameters that are re-optimised at each point of a profile, and the root finder for
an interval's end.
"""
from __future__ import annotations

import nlopt
import numpy as np

XTOL = 1e-9             # relative width of the bracket at which the search for an end stops
ZTOL = 1e-7             # ... or when zeta is this close to the target (|zeta| = 1.96 at 95%)


def minimize_bobyqa(f, x0, lower, upper):
    """BOBYQA (lme4's profile optimiser) over the free parameters, from x0."""
    n = len(x0)
    if n == 0:
        return f(x0), x0
    best = [np.inf, np.asarray(x0, float)]

    def fn(x, grad):
        v = f(x)
        if v < best[0]:
            best[0], best[1] = v, np.array(x, float)
        return v if np.isfinite(v) else 1e300

    opt = nlopt.opt(nlopt.LN_BOBYQA, n)
    opt.set_min_objective(fn)
    opt.set_lower_bounds(lower)
    opt.set_upper_bounds(upper)
    x0 = np.clip(np.asarray(x0, float), lower, upper)
    step = np.maximum(0.05 * np.abs(x0), 0.01)
    room = np.where(np.isfinite(upper), upper - lower, np.inf)
    opt.set_initial_step(np.minimum(step, np.maximum(room / 4, 1e-6)))
    opt.set_xtol_rel(1e-10)
    opt.set_ftol_abs(1e-11)
    opt.set_maxeval(20000)
    try:
        opt.optimize(x0)
    except (nlopt.RoundoffLimited, RuntimeError, ValueError):
        pass
    return best[0], best[1]


def best_of(f, starts, lower, upper):
    """Return the lower of BOBYQA's optima from the walk's start and from the fit's own optimum.

    With three or more correlated effects one start can stall where a correlation's bound meets
    the others' (sleepstudy with (1 + Days + Days^2|Subject): an end 0.11 instead of 0.26).
    """
    best = None
    for k, x0 in enumerate(starts):
        if k and np.array_equal(x0, starts[0]):
            continue
        got = minimize_bobyqa(f, x0, lower, upper)
        if best is None or got[0] < best[0]:
            best = got
    return best


def find_root(g, a: float, b: float) -> float:
    """Find g's root between a and b by regula falsi with the Illinois modification.

    g(a), g(b) have opposite signs and are both already evaluated, so cached. The search stops
    when zeta is within ZTOL of the target or the bracket is below XTOL (relative).
    """
    ga, gb = g(a), g(b)
    if ga == 0:
        return a
    tol = XTOL * max(abs(a), abs(b), 1e-8)
    for _ in range(100):
        if gb == 0 or abs(gb) < ZTOL:
            return b
        c = (a * gb - b * ga) / (gb - ga)
        gc = g(c)
        if gc * gb < 0:
            a, ga = b, gb
        else:
            ga *= 0.5
        b, gb = c, gc
        if abs(b - a) < tol:
            break
    return b
