"""engine/optimize.py: BOBYQA's tie rule (which of the final near-equal evaluations is returned).

lme4 stops where NLopt's BOBYQA stops; the last evaluations of a converged run differ by less
than lme4's ftol_abs, i.e. by rounding noise. The rule: among the final run of evaluations that
all lie within TIE_TOL of the best, return the first one that sits on the same bounds as the
best; with one parameter, return the best point."""
import numpy as np

from mlmcourse.engine.optimize import TIE_TOL, _bobyqa


def recorded(g):
    history = []

    def f(x):
        v = float(g(np.asarray(x, float)))
        history.append((v, np.array(x, float)))
        return v
    return f, history


def expected_by_the_rule(history, lower):
    best, best_x = min(history, key=lambda e: e[0])
    on_bound = best_x <= lower
    start = len(history) - 1
    while start > 0 and history[start - 1][0] <= best + TIE_TOL:
        start -= 1
    run = history[start:]
    return run, next(x for v, x in run if v <= best + TIE_TOL and np.array_equal(x <= lower, on_bound))


def noisy_bowl(x):
    # a smooth minimum plus rounding noise far below TIE_TOL: BOBYQA's last steps are ties
    v = (x[0] - 1.3) ** 2 + 2 * (x[1] - 0.4) ** 2 + 0.5 * (x[0] - 1.3) * (x[1] - 0.4)
    return np.floor(v * 1e9) / 1e9


def test_returns_the_first_of_the_final_ties():
    f, history = recorded(noisy_bowl)
    lower = np.array([0.0, -np.inf])
    value, x = _bobyqa(f, np.array([1.0, 1.0]), lower)
    run, want = expected_by_the_rule(history, lower)
    assert len(run) > 1                          # there were ties to choose from
    np.testing.assert_array_equal(x, want)
    assert value <= min(v for v, _ in history) + TIE_TOL


def test_a_tie_must_sit_on_the_same_bounds_as_the_best():
    # the optimum is on the bound x0 = 0 (a singular fit): the point returned stays on it
    f, history = recorded(lambda x: np.floor(((x[0] + 0.5) ** 2 + (x[1] - 1) ** 2) * 1e9) / 1e9)
    lower = np.array([0.0, -np.inf])
    _, x = _bobyqa(f, np.array([0.8, 0.3]), lower)
    assert x[0] == 0.0
    np.testing.assert_array_equal(x, expected_by_the_rule(history, lower)[1])


def test_one_parameter_returns_the_best_point():
    f, history = recorded(lambda x: np.floor((x[0] - 0.7) ** 2 * 1e9) / 1e9)
    value, x = _bobyqa(f, np.array([0.2]), np.array([0.0]))
    best = min(history, key=lambda e: e[0])
    assert value == best[0]
    np.testing.assert_array_equal(x, best[1])
