"""engine/optimize.py: lme4's optimizeLmer (nloptwrap's stops, restart_edge, check.boundary) and
checkConv (singular, scaled gradient, checkHess), on small functions with known answers.

The parity with lme4's end points on real models is tested in test_lme4_parity.py and
test_parity_cases.py."""
import nlopt
import numpy as np
import pytest

from mlmcourse.engine import optimize
from mlmcourse.engine.optimize import (
    GRAD_TOL,
    NLOPTR,
    NLOPTWRAP,
    SINGULAR_MESSAGE,
    _nlopt,
    check_conv,
    check_hess,
    optimize_theta,
)


class FakeDeviance:
    """What optimize_theta needs of pls.ProfiledDeviance: lower, theta_start(), profiled()."""

    def __init__(self, f, lower, start):
        self.f, self.lower, self.start = f, np.asarray(lower, float), np.asarray(start, float)

    def theta_start(self):
        return self.start.copy()

    def profiled(self, theta, reml):
        return float(self.f(np.asarray(theta, float)))


def bowl(x):
    return (x[0] - 1.3) ** 2 + 2 * (x[1] - 0.4) ** 2 + 0.5 * (x[0] - 1.3) * (x[1] - 0.4)


def test_nloptwrap_stops_as_lme4_and_nloptr_set_them():
    # lme4's defaultControl on top of nloptr's defaults, read from their sources
    assert NLOPTWRAP == {"xtol_abs": 1e-8, "ftol_abs": 1e-8, "maxeval": 100000}
    assert NLOPTR["xtol_rel"] == 1e-4 and NLOPTR["ftol_rel"] == 0.0
    # the point returned is NLopt's own, run with exactly these settings
    x0, lower = np.array([1.0, 0.0]), np.array([0.0, -np.inf])
    run = _nlopt(bowl, x0, lower)
    opt = nlopt.opt(nlopt.LN_BOBYQA, 2)
    opt.set_min_objective(lambda x, g: bowl(x))
    opt.set_lower_bounds(lower)
    opt.set_xtol_rel(1e-4)
    opt.set_xtol_abs(1e-8)
    opt.set_ftol_abs(1e-8)
    opt.set_maxeval(100000)
    np.testing.assert_array_equal(run.x, opt.optimize(x0))
    assert run.evaluations == opt.get_numevals()


def test_xtol_rel_stops_bobyqa_earlier_than_xtol_abs_alone():
    # nloptr's xtol_rel = 1e-4 sets BOBYQA's final radius (rhoend = 1e-4 * rhobeg): without it
    # the course ran on to a radius of 1e-8 and, on flat optima, ended elsewhere than lme4.
    # (A steep bowl, so that ftol_abs = 1e-8 does not stop either run first.)
    steep = lambda x: 1e6 * bowl(x)
    x0, lower = np.array([1.0, 0.0]), np.array([0.0, -np.inf])
    lme4_like = _nlopt(steep, x0, lower)
    opt = nlopt.opt(nlopt.LN_BOBYQA, 2)
    opt.set_min_objective(lambda x, g: steep(x))
    opt.set_lower_bounds(lower)
    opt.set_xtol_abs(1e-8)
    opt.set_ftol_abs(1e-8)
    opt.optimize(x0)
    assert lme4_like.status == nlopt.XTOL_REACHED
    assert lme4_like.evaluations < opt.get_numevals()


def test_check_boundary_sets_a_parameter_within_1e_5_of_its_bound_on_it():
    # the minimum is at theta = -1 (outside the bound 0): BOBYQA ends on or near 0
    dev = FakeDeviance(lambda t: (t[0] + 1.0) ** 2, [0.0], [1.0])
    info = optimize_theta(dev, reml=True)
    assert info.theta[0] == 0.0 and info.singular
    assert info.messages == [SINGULAR_MESSAGE]


def test_restart_edge_runs_bobyqa_again_when_the_criterion_falls_inside_the_bound(monkeypatch):
    calls = []
    real = optimize.OPTIMIZERS["nloptwrap"]

    def stuck_first(f, x0, lower):
        calls.append(np.array(x0))
        if len(calls) == 1:       # a run that ends on the bound although the minimum is at 0.5
            return optimize._Run(np.array([0.0]), f(np.array([0.0])), 1, 4)
        return real(f, x0, lower)

    monkeypatch.setitem(optimize.OPTIMIZERS, "nloptwrap", stuck_first)
    info = optimize_theta(FakeDeviance(lambda t: (t[0] - 0.5) ** 2, [0.0], [1.0]), reml=True)
    assert len(calls) == 2 and np.array_equal(calls[1], [0.0])
    assert abs(info.theta[0] - 0.5) < 1e-4 and not info.singular and info.converged


def test_scaled_gradient_message_in_lme4s_words():
    # a point away from the minimum of a quadratic: min(|solve(chol(H), g)|, |g|) is known
    f = lambda t: 50.0 * (t[0] - 1.0) ** 2 + 0.5 * (t[1] - 2.0) ** 2
    singular, messages, grad = check_conv(f, np.array([1.0, 2.01]), np.array([0.0, -np.inf]),
                                          f(np.array([1.0, 2.01])))
    assert not singular
    # g = (0, 0.01), H = diag(100, 1): scaled gradient (0, 0.01), above GRAD_TOL
    assert messages == [f"Model failed to converge with max|grad| = 0.01 (tol = {GRAD_TOL:g}, component 2)"]
    np.testing.assert_allclose(grad, [0.0, 0.01], atol=1e-8)


def test_singular_fits_get_only_lme4s_boundary_message():
    # theta[0] below 1e-4 on a bound-0 parameter: singular, and no gradient check (as lme4)
    singular, messages, _ = check_conv(lambda t: 1e6 * t[1] ** 2, np.array([5e-5, 0.3]),
                                       np.array([0.0, -np.inf]), 0.0)
    assert singular and messages == [SINGULAR_MESSAGE]
    # an off-diagonal element near 0 is not a boundary
    singular, _, _ = check_conv(lambda t: (t[0] - 1) ** 2 + t[1] ** 2, np.array([1.0, 1e-6]),
                                np.array([0.0, -np.inf]), 1e-12)
    assert not singular


@pytest.mark.parametrize("H, want", [
    (np.diag([2.0, -1.0]), ["Model failed to converge: degenerate  Hessian with 1 negative eigenvalues"]),
    (np.diag([2.0, 1e-9]), [" Hessian is numerically singular: parameters are not uniquely determined"]),
    (np.diag([2e6, 1.0]), ["Model is nearly unidentifiable: very large eigenvalue\n - Rescale variables?",
                           "Model is nearly unidentifiable: large eigenvalue ratio\n - Rescale variables?"]),
    (np.diag([2.0, 1.0]), []),
])
def test_check_hess_in_lme4s_words(H, want):
    assert check_hess(H) == want
