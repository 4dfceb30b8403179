"""engine/numderiv.py: lme4's and numDeriv's finite differences, against known derivatives and
against statsmodels.tools.numdiff."""
import numpy as np
import pytest
from statsmodels.tools import numdiff

from mlmcourse.engine.numderiv import gradient_hessian, hessian, jacobian


def f(x):  # known derivatives: grad = (2 x0 x1 + cos x0, x0^2 + 3 x1^2 e^{x2}, x1^3 e^{x2})
    return x[0] ** 2 * x[1] + np.sin(x[0]) + x[1] ** 3 * np.exp(x[2])


def grad_f(x):
    return np.array([2 * x[0] * x[1] + np.cos(x[0]), x[0] ** 2 + 3 * x[1] ** 2 * np.exp(x[2]),
                     x[1] ** 3 * np.exp(x[2])])


def hess_f(x):
    e = np.exp(x[2])
    return np.array([[2 * x[1] - np.sin(x[0]), 2 * x[0], 0.0],
                     [2 * x[0], 6 * x[1] * e, 3 * x[1] ** 2 * e],
                     [0.0, 3 * x[1] ** 2 * e, x[1] ** 3 * e]])


POINTS = [np.array([0.7, -1.3, 0.2]), np.array([2.0, 0.5, -1.0]), np.array([0.0, 1.0, 0.0])]


@pytest.mark.parametrize("x", POINTS)
def test_richardson_hessian_is_accurate(x):
    # numDeriv steps 10% of |x| (1e-4 where x = 0): accurate to ~1e-9 there, ~1e-6 at zeros
    np.testing.assert_allclose(hessian(f, x), hess_f(x), rtol=1e-6, atol=2e-6)


@pytest.mark.parametrize("x", POINTS)
def test_one_step_central_differences_are_second_order(x):
    g, H = gradient_hessian(f, x)
    np.testing.assert_allclose(g, grad_f(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(H, hess_f(x), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("x", POINTS)
def test_jacobian_of_an_array_function(x):
    def F(v):  # a 2x2 array whose derivatives are known
        return np.array([[v[0] * v[1], np.exp(v[2])], [v[1] ** 2, v[0] + v[2]]])
    J = jacobian(F, x)
    want = [np.array([[x[1], 0], [0, 1]]), np.array([[x[0], 0], [2 * x[1], 0]]),
            np.array([[0, np.exp(x[2])], [0, 1]])]
    for got, exp in zip(J, want):
        np.testing.assert_allclose(got, exp, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("x", POINTS)
def test_agrees_with_statsmodels_numdiff(x):
    np.testing.assert_allclose(hessian(f, x), numdiff.approx_hess3(x, f), rtol=1e-5, atol=1e-5)
    g, _ = gradient_hessian(f, x)
    np.testing.assert_allclose(g, numdiff.approx_fprime_cs(x, f), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("formula, data", [
    ("mathkind ~ ses + (1|schoolid/classid)", "classroom"),
    ("Reaction ~ Days + (Days|Subject)", "sleepstudy"),
    ("diameter ~ 1 + (1|plate) + (1|sample)", "Penicillin"),
])
def test_analytic_vcov_derivatives_match_richardson(formula, data):
    """pls.vcov_theta_derivatives (what the Satterthwaite table uses) against numDeriv's
    Richardson-extrapolated Jacobian of sigma^2 (R_X'R_X)^-1 (what lmerTest uses): measured
    agreement ~2e-8 relative or better on these models."""
    from pathlib import Path

    import pandas as pd

    import mlmcourse
    df = (mlmcourse.load_classroom() if data == "classroom" else
          pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "data" / f"{data}.csv"))
    m = mlmcourse.lmer(formula, data=df)
    dev = m._dev
    num = jacobian(dev.vcov_varpar_beta, np.append(m.theta, m.sigma))
    ana = dev.vcov_theta_derivatives(m.theta, m.sigma)
    assert len(ana) == len(num) - 1
    for a, n in zip(ana, num):
        np.testing.assert_allclose(a, n, rtol=0, atol=1e-7 * np.max(np.abs(n)))


def test_gradient_hessian_reuses_a_known_value():
    calls = []

    def g(x):
        calls.append(1)
        return f(x)
    x = POINTS[0]
    want = gradient_hessian(f, x)
    calls.clear()
    got = gradient_hessian(g, x, f0=f(x))
    assert len(calls) == 2 * len(x) + 2 * len(x) * (len(x) - 1)     # no evaluation at x itself
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
