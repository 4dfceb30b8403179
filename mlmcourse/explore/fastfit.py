"""A fast REML fit of the one-factor random-intercept model, for the explorations' simulations.

The explorations refit a model at every slider move, which must take milliseconds. For the model
``y = X b + zeta_k + eps`` with one grouping factor the REML criterion depends on the data only
through per-group sums, so it is profiled over ``theta = sigma_zeta / sigma`` in one dimension.
The chapter's own fits (any formula) go through :func:`mlmcourse.lmer`; this module is checked
against the handout's lme4 numbers in the tests.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from ..engine.inference import icc_from_sd
from ..errors import CourseError

THETA_MAX = 50.0  # sigma_zeta / sigma beyond this is not a random-intercept problem any more


@dataclass(frozen=True)
class RandomInterceptFit:
    """Result of :func:`fit_random_intercept` (names follow lme4)."""

    fixef: np.ndarray          # b, one per column of X
    sigma_zeta: float          # SD of the group effects
    sigma: float               # residual SD
    blups: np.ndarray          # predicted group effects (conditional modes), one per group
    group_sizes: np.ndarray    # students per group, aligned with blups
    reml_criterion: float      # -2 * restricted log-likelihood, as lme4 reports it

    @property
    def icc(self) -> float:
        """Return the intraclass correlation the fit implies: sigma_zeta^2 / (sigma_zeta^2 + sigma^2)."""
        return icc_from_sd(self.sigma_zeta, self.sigma)

    @property
    def shrinkage(self) -> np.ndarray:
        """Factor that multiplies a group's mean residual to give its BLUP (0 = all shrunk)."""
        t2 = (self.sigma_zeta / self.sigma) ** 2
        return self.group_sizes * t2 / (1.0 + self.group_sizes * t2)


def _group_codes(groups) -> tuple[np.ndarray, int]:
    codes, _ = _factorize(groups)
    return codes, int(codes.max()) + 1


def _factorize(groups) -> tuple[np.ndarray, np.ndarray]:
    levels, codes = np.unique(np.asarray(groups), return_inverse=True)
    return codes.ravel(), levels


def fit_random_intercept(y, X, groups) -> RandomInterceptFit:
    """REML fit of ``y ~ X + (1 | groups)``; groups are returned in sorted level order."""
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    n, p = X.shape
    if y.shape != (n,) or len(groups) != n:
        raise CourseError("The outcome, the predictors and the groups must have one value per row.")
    if not (np.isfinite(y).all() and np.isfinite(X).all()):
        raise CourseError("The simulated or selected data has missing values; drop them first.")
    codes, G = _group_codes(groups)
    if G < 2 or n - p < 2:
        raise CourseError("A random-intercept model needs at least two groups and more rows than predictors.")

    nk = np.bincount(codes, minlength=G).astype(float)
    S = np.zeros((G, p))
    np.add.at(S, codes, X)                     # per-group column sums of X
    t = np.bincount(codes, weights=y, minlength=G)
    XtX, Xty, yty = X.T @ X, X.T @ y, y @ y

    def pieces(theta: float):
        c = theta ** 2 / (1.0 + nk * theta ** 2)
        A = XtX - S.T @ (c[:, None] * S)
        b = Xty - S.T @ (c * t)
        beta = np.linalg.solve(A, b)
        R = t - S @ beta                       # per-group sums of marginal residuals
        rtr = yty - 2 * beta @ Xty + beta @ XtX @ beta
        quad = rtr - np.sum(c * R ** 2)
        return c, A, beta, R, quad

    def criterion(theta: float) -> float:
        _, A, _, _, quad = pieces(theta)
        sign, logdetA = np.linalg.slogdet(A)
        if sign <= 0 or quad <= 0:
            return np.inf
        df = n - p
        return (df * (np.log(2 * np.pi * quad / df) + 1.0)
                + np.sum(np.log1p(nk * theta ** 2)) + logdetA)

    res = minimize_scalar(criterion, bounds=(0.0, THETA_MAX), method="bounded",
                          options={"xatol": 1e-7})
    theta = float(res.x)
    if criterion(0.0) <= res.fun:              # the boundary: no between-group variance
        theta = 0.0
    c, _, beta, R, quad = pieces(theta)
    sigma = float(np.sqrt(quad / (n - p)))
    return RandomInterceptFit(
        fixef=beta, sigma_zeta=theta * sigma, sigma=sigma, blups=c * R,
        group_sizes=nk.astype(int), reml_criterion=float(criterion(theta)),
    )
