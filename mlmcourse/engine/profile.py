"""The profile likelihood of each parameter of a fitted model, as lme4's ``profile()`` defines it.

What is profiled (lme4's profile.merMod and devfun2, read, not copied):

- The likelihood is always the ML one: a REML fit is first refitted by ML (lme4's refitML), and
  the base deviance is that ML optimum's.
- The random-effect parameters are taken on the standard-deviation / correlation scale, with
  sigma a parameter of its own: per term, an SD for each diagonal position of theta and a
  correlation for each position below it (lme4's ``sd_...`` and ``cor_...``), then ``sigma``.
  The deviance at (SDs, correlations, sigma) has the fixed effects profiled out and sigma not:
  ``log|A| + r^2(theta)/sigma^2 + n log(2 pi sigma^2)`` with theta = (the Cholesky factor of the
  term's covariance) / sigma. Holding one of them at a value, the others are optimised (BOBYQA,
  within SD >= 0, -1 <= correlation <= 1, sigma >= 0; with three or more effects in a term,
  correlations that cannot go together are penalised, never silently replaced).
- A fixed effect b_j held at a value moves to an offset: y - x_j b_j is fitted with the other
  columns of X, and the ML deviance (sigma profiled) is optimised over theta.
- zeta(value) = sign(value - estimate) * sqrt(deviance(value) - base deviance).

The interval ends are where zeta = -z and +z (z = the normal quantile of the level). lme4 reads
them off a spline through points spaced along the profile; here they are found by root-finding
on zeta itself (secant steps out from the estimate, the first one sized by the Hessian, until
zeta passes the target; then regula falsi with the Illinois modification), which needs fewer
evaluations and carries no interpolation error. At a bound, lme4's rule is kept: when zeta at SD = 0 (or at a
correlation of -1 or +1) has not reached -z (or +z), lme4's spline has no point there, returns
NA, and confint() puts the bound instead: that end of the interval IS the bound (0 for an SD).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import CourseError
from .arguments import refuse_unsupported
from .numderiv import gradient_hessian
from .optimize import optimize_theta
from .pls import ProfiledDeviance
from .profile_solvers import best_of, find_root
from .sdcor import parameter_names, sdcor_from_theta, theta_from_sdcor
from .threads import one_blas_thread

DEV_TOL = 1e-4          # a deviance below the base by less than this is the optimisers' rounding
                        # (read as zeta 0); by more, the fit missed its optimum (lme4: an error)
INFEASIBLE_PENALTY = 1e4  # deviance added per unit of a correlation matrix's negative pivot


@dataclass
class Param:
    """One profiled parameter: lme4's label, its kind and where it sits."""

    name: str           # lme4's label with oldNames=FALSE: 'sd_(Intercept)|schoolid', 'sigma', 'ses'
    kind: str           # "sd", "cor", "sigma" or "beta"
    index: int          # position in the variance vector (sd, cor, sigma) or in beta
    estimate: float     # the ML estimate (the profile's zeta = 0)
    lower: float        # the bound lme4 profiles within (-inf for a fixed effect)
    upper: float


@dataclass
class _Curve:
    """The zeta evaluations of one parameter: value -> (zeta, the others' optimum)."""

    points: dict = field(default_factory=dict)

    def start_for(self, x, estimate, at_estimate):
        """Return where the optimiser starts for value x.

        The others' optimum at the evaluated value nearest to x on the estimate's side of it
        (lme4 walks out from the estimate, each point starting from the one before). A point
        beyond x can sit in a corner (an SD of 0 where a correlation no longer matters) from
        which the optimiser would not come back.
        """
        lo, hi = min(x, estimate), max(x, estimate)
        best, best_d = at_estimate, abs(x - estimate)
        for v, (_, opt) in self.points.items():
            if lo <= v <= hi and abs(x - v) < best_d:
                best, best_d = opt, abs(x - v)
        return best


class LikelihoodProfile:
    """The profile of a fitted model's parameters, built by ``profile(model)``.

    ``zeta(name, value)`` evaluates it and ``interval(name, level)`` finds where it crosses -z
    and +z.
    """

    @one_blas_thread
    def __init__(self, model):
        self.model = model
        design = model.design
        dev = ProfiledDeviance(design)          # its own copy: fixed-effect profiles change y
        self._dev = dev
        self.n = design.n
        if model.REML or model.engine != "lme4":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                info = optimize_theta(dev, False, start=model.theta)
            theta = info.theta
        else:
            theta = np.asarray(model.theta, float)
        state = dev.solve(theta)
        self.theta_ml = theta
        self.base = float(dev.profiled_from(state, False))
        self.sigma_ml = float(dev.sigma_from(state, False))
        self.beta_ml = np.asarray(state.beta, float)
        self._tmats = dev.layout.tmats
        sdcor = sdcor_from_theta(theta, self.sigma_ml, self._tmats)
        self.varpar_ml = np.append(sdcor, self.sigma_ml)
        vnames, bnames = parameter_names(model)
        params = []
        for k, name in enumerate(vnames[:-1]):
            kind = "sd" if name.startswith("sd_") else "cor"
            params.append(Param(name, kind, k, float(self.varpar_ml[k]),
                                *((0.0, np.inf) if kind == "sd" else (-1.0, 1.0))))
        lo = [p.lower for p in params]
        hi = [p.upper for p in params]
        params.append(Param("sigma", "sigma", len(vnames) - 1, self.sigma_ml, 0.0, np.inf))
        self._vlower = np.array([*lo, 0.0])
        self._vupper = np.array([*hi, np.inf])
        for j, xname in enumerate(bnames):
            params.append(Param(xname, "beta", j, float(self.beta_ml[j]), -np.inf, np.inf))
        self.params = params
        self._by_name = {p.name: p for p in params}
        self._curves = {p.name: _Curve() for p in params}
        self._beta_dev: dict[int, ProfiledDeviance] = {}
        F = dev.varpar_terms(theta).F
        self._se_ml = self.sigma_ml * np.sqrt(np.diag(F @ F.T)) if design.p else np.zeros(0)
        self.evaluations = 0
        self._se_var = None

    # -- the deviance on the profile's scales --------------------------------------------------
    def _dev_varpar(self, varpar: np.ndarray) -> float:
        sigma = varpar[-1]
        if not sigma > 0:
            return np.inf
        self.evaluations += 1
        theta, deficit = theta_from_sdcor(varpar[:-1], sigma, self._tmats)
        try:
            terms = self._dev.varpar_terms(theta)
        except (np.linalg.LinAlgError, RuntimeError, ValueError):
            return np.inf
        penalty = INFEASIBLE_PENALTY * deficit if deficit > 1e-12 else 0.0
        return self._dev.deviance_at(terms, sigma, False) + penalty

    def _reduced(self, j: int) -> ProfiledDeviance:
        """Return the model without column j of X (its effect moves to an offset), built once."""
        if j not in self._beta_dev:
            d = self.model.design
            keep = [i for i in range(d.p) if i != j]
            reduced = replace(d, X=np.ascontiguousarray(d.X[:, keep]),
                              xnames=[d.xnames[i] for i in keep])
            self._beta_dev[j] = ProfiledDeviance(reduced)
        return self._beta_dev[j]

    # -- zeta ----------------------------------------------------------------------------------
    def _check_base(self, dev: float, name: str, value: float) -> float:
        diff = dev - self.base
        if diff < -DEV_TOL:
            raise CourseError(
                f"Profiling {name} found a lower deviance ({dev:.6f}) than the fit's "
                f"({self.base:.6f}) at {name} = {value:.6g}: the fit did not reach its optimum, so "
                "its profile intervals would be wrong. Refit the model (lmer(...) again, or "
                "engine=\"lme4\"), then call confint() on the new fit.")
        return max(diff, 0.0)

    @one_blas_thread
    def zeta(self, name: str, value: float) -> float:
        """Return lme4's zeta at ``value``.

        sign(value - estimate) * sqrt(deviance at value - base deviance), with the other
        parameters at their optimum given ``value``.
        """
        par = self._by_name[name]
        curve = self._curves[name]
        value = float(value)
        if value in curve.points:
            return curve.points[value][0]
        if par.kind == "beta":
            j = par.index
            rd = self._reduced(j)
            rd.set_response(self.model.design.y - self.model.design.X[:, j] * value)
            start = curve.start_for(value, par.estimate, self.theta_ml)

            def f(th):
                self.evaluations += 1
                return rd.profiled(th, False)
            lower = rd.lower
            dev, x = best_of(f, (start, self.theta_ml), np.where(np.isfinite(lower), lower, -np.inf),
                              np.full(len(start), np.inf))
        else:
            w = par.index
            free = np.arange(len(self.varpar_ml)) != w
            start = curve.start_for(value, par.estimate, self.varpar_ml[free])
            full = self.varpar_ml.copy()
            full[w] = value

            def f(x):
                full[free] = x
                return self._dev_varpar(full)
            dev, x = best_of(f, (start, self.varpar_ml[free]), self._vlower[free],
                              self._vupper[free])
        if not np.isfinite(dev):
            raise CourseError(f"The deviance could not be evaluated at {name} = {value:.6g}, so "
                              "its profile cannot be drawn there.")
        z = math.copysign(math.sqrt(self._check_base(dev, name, value)), value - par.estimate)
        if value == par.estimate:
            z = 0.0
        curve.points[value] = (z, x)
        return z

    # -- the interval ------------------------------------------------------------------------
    def _end(self, par: Param, target: float) -> float:
        """Find where zeta = target (negative: below the estimate), or lme4's bound.

        The bound when zeta does not reach target before it.
        """
        sign = 1.0 if target > 0 else -1.0
        bound = par.upper if sign > 0 else par.lower
        est = par.estimate

        def g(x):
            return self.zeta(par.name, x) - target

        bounded = math.isfinite(bound) and par.kind != "sigma"   # sigma's deviance is inf at 0
        if bounded and bound == est:           # the estimate sits on the bound (a singular fit)
            return bound
        if bounded and bound in self._curves[par.name].points:
            return self._at_bound(g, par, target, bound)
        inside, outside = self._sides(par, target)
        if outside:                            # already bracketed by earlier evaluations
            return find_root(g, inside[-1][0], outside[0][0])
        return self._step_out(g, par, target, inside, bounded)

    def _step_out(self, g, par: Param, target: float, inside: list, bounded: bool) -> float:
        """Step out until zeta passes the target, then find the end between the last two points.

        Secant steps from the two outermost points (on a log scale for an SD or sigma, whose
        profile is nearly linear in the log); a step that would pass a bound goes to the bound,
        and there lme4's rule decides.
        """
        sign = 1.0 if target > 0 else -1.0
        bound = par.upper if sign > 0 else par.lower
        est = par.estimate
        log_scale = par.kind in ("sd", "sigma") and est > 0
        to_u = (lambda x: math.log(x / est)) if log_scale else (lambda x: x - est)
        to_x = (lambda u: est * math.exp(u)) if log_scale else (lambda u: est + u)

        def clamp(u):
            if bounded and (sign * (to_x(u) - bound) >= 0 or (log_scale and u < -30)):
                return None                    # at or past the bound
            return u

        if len(inside) >= 2:
            (x0, z0), (x1, z1) = inside[-2], inside[-1]
            u0, g0, u1, g1 = to_u(x0), z0 - target, to_u(x1), z1 - target
        else:
            u0, g0, u1 = 0.0, -target, sign * self._first_step(par, target, log_scale)
            if clamp(u1) is None:
                return self._at_bound(g, par, target, bound)
            g1 = g(to_x(u1))
        for _ in range(60):
            if sign * g1 >= 0:
                return find_root(g, to_x(u0), to_x(u1))
            slope = (g1 - g0) / (u1 - u0)
            jump = -g1 / slope if slope != 0 else 0.0
            if not sign * jump > 0:            # the secant points back: double the last step
                jump = 2.0 * (u1 - u0)
            jump = sign * min(max(sign * jump * 1.1, 0.1 * abs(u1 - u0)), 8.0 * abs(u1 - u0))
            u0, g0 = u1, g1
            u1 = clamp(u1 + jump)
            if u1 is None:
                return self._at_bound(g, par, target, bound)
            g1 = g(to_x(u1))
        raise CourseError(f"The profile of {par.name} did not reach zeta = {target:.3g}: "
                          "its interval cannot be computed; use method=\"Wald\" for the fixed "
                          "effects.")

    def _first_step(self, par: Param, target: float, log_scale: bool) -> float:
        """Return the size of the first step out from the estimate: |target| standard errors."""
        if par.kind == "beta":
            se = self._se_ml[par.index]
            return abs(target) * (se if se > 0 else 1.0)
        se = self._var_se()[par.index]
        return abs(target) * se if np.isfinite(se) and se > 0 else (
            0.05 if log_scale else max(0.2 * self.sigma_ml, 1e-3))

    def _at_bound(self, g, par: Param, target: float, bound: float) -> float:
        """Apply lme4's rule at a bound.

        When zeta there has not reached the target, the bound is the interval's end (lme4's
        spline has no point beyond it: NA, replaced by the bound).
        """
        sign = 1.0 if target > 0 else -1.0
        if sign * g(bound) < 0:
            return bound
        inside, _ = self._sides(par, target)
        return find_root(g, inside[-1][0], bound)

    def _var_se(self) -> np.ndarray:
        """Return approximate standard errors of the variance parameters at the ML optimum.

        On the scale the search steps on (log for a positive SD and sigma): from the Hessian
        of the deviance (2 H^-1), only to size the first step of the search for an
        interval's end.
        """
        if self._se_var is None:
            v = self.varpar_ml
            logs = np.array([p.kind in ("sd", "sigma") and p.estimate > 0
                             for p in self.params[: len(v)]])

            def f(u):
                return self._dev_varpar(np.where(logs, np.exp(np.where(logs, u, 0.0)), u))
            u = np.where(logs, np.log(np.where(logs, v, 1.0)), v)
            se = np.full(len(v), np.nan)
            try:
                _, H = gradient_hessian(f, u, h=1e-4)
                cov = 2.0 * np.linalg.inv(H)
                d = np.diag(cov)
                if np.all(np.isfinite(d)):
                    se = np.sqrt(np.where(d > 0, d, np.nan))
            except (np.linalg.LinAlgError, ValueError):
                pass
            self._se_var = se
        return self._se_var

    def _sides(self, par: Param, target: float):
        """Return the evaluated points on target's side of the estimate.

        Those not yet at target (from the estimate outwards) and those past it (nearest
        first).
        """
        sign = 1.0 if target > 0 else -1.0
        pts = [(par.estimate, 0.0)] + [(x, z) for x, (z, _) in self._curves[par.name].points.items()
                                       if sign * (x - par.estimate) > 0]
        pts.sort(key=lambda p: sign * p[1])
        inside = [p for p in pts if sign * p[1] < abs(target)]
        outside = [p for p in pts if sign * p[1] >= abs(target)]
        return inside, outside

    def interval(self, name: str, level: float = 0.95) -> tuple[float, float]:
        """Return the profile interval of parameter ``name`` at ``level``: lme4's confint(profile)."""
        par = self._by_name[name]
        z = float(_norm_quantile(0.5 + level / 2.0))
        return self._end(par, -z), self._end(par, z)

    def zeta_curve(self, name: str, levels=(0.5, 0.8, 0.9, 0.95, 0.99)):
        """Return the profile of ``name`` for a plot, and its interval ends at ``levels``.

        Every (value, zeta) evaluated once the interval ends at each of ``levels`` are
        found, and those ends as {level: (lower, upper)}. An end at a bound (an SD's 0) has
        |zeta| below the level's: there the curve stops at the bound.
        """
        ends = {lv: self.interval(name, lv) for lv in sorted(levels, reverse=True)}  # widest first:
        ends = dict(sorted(ends.items()))      # the narrower ends are then already bracketed
        xs, zs = self.curve(name)
        return xs, zs, ends

    def names(self) -> list[str]:
        """Return the names of the profiled parameters, in lme4's order."""
        return [p.name for p in self.params]

    def param(self, name: str) -> Param:
        """Return the parameter called ``name``."""
        return self._by_name[name]

    def curve(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Every (value, zeta) evaluated so far for ``name``, sorted by value, with the estimate (zeta 0)."""
        par = self._by_name[name]
        pts = {par.estimate: 0.0}
        pts.update({x: zv for x, (zv, _) in self._curves[name].points.items()})
        xs = np.array(sorted(pts))
        return xs, np.array([pts[x] for x in xs])


def _norm_quantile(p: float) -> float:
    from scipy.stats import norm
    return float(norm.ppf(p))


def check_model(model) -> None:
    """Check that the model was fitted by lmer(); else one paragraph says what to do instead."""
    from .fitted import LmerModel
    from .ols import LmFit
    if isinstance(model, LmerModel):
        return
    if isinstance(model, LmFit):
        raise CourseError(
            "confint() and profile() give lme4's intervals for a mixed model fitted by lmer(). For an lm() fit, "
            "R's confint(lm) is statsmodels' conf_int(): m.statsmodels.conf_int() (t-based "
            "intervals of the coefficients).")
    raise CourseError(
        f"confint() and profile() need a model fitted by lmer() (or its profile), not {type(model).__name__}: "
        "for example fit3 = lmer(\"mathkind ~ ses + (1|schoolid/classid)\", data=dat), then "
        "confint(fit3).")


def profile(model, **unsupported) -> LikelihoodProfile:
    """Return the likelihood profile of a model fitted by ``lmer()`` (either engine), as lme4's ``profile(m)``.

    Its zeta values are computed when asked for and kept, so one profile serves both the intervals
    and the plot::

        prof = profile(fit3)
        confint(prof)                  # = confint(fit3), lme4's profile intervals
        plot_profile(prof)             # mlmcourse.plots: lme4's zeta plot, same evaluations

    ``prof.zeta(name, value)`` is zeta at one value of a parameter (lme4's labels, e.g.
    "sd_(Intercept)|schoolid"); ``prof.interval(name, level)`` one interval.
    """
    refuse_unsupported("profile", unsupported)
    check_model(model)
    return LikelihoodProfile(model)
