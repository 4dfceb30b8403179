"""statsmodels MixedLM as a second engine of ``lmer``: statsmodels fits, the course reports.

    design --smbridge--> MixedLM (groups / re_formula / vc_formula) --fit--> MixedLMResults
           --> theta (lme4's relative covariance factor) --> FitInfo, checked by pls.py's criterion

A single statsmodels run is never trusted. Its default optimiser (bfgs) stops at REML 12087.54
instead of lme4's 12038.41 on ``mathkind ~ ses + (1|schoolid/classid)``, and lbfgs from
statsmodels' own start (identity) returns an infinite log-likelihood on ``(1|schoolid)``. So:
lbfgs from lme4's start values, checked at the converted theta as optimize.py checks BOBYQA:
statsmodels' ``converged``, and the scaled gradient of the course's profiled criterion below
lme4's tolerance. statsmodels' lbfgs tolerance is loose, so bfgs with a tighter one polishes from
lbfgs' solution, unless lbfgs passed its check away from the boundary and the Newton decrement
there (0.5 g'H^-1 g of the course's criterion: how much lower the optimum can be) is below
IMPROVE_TOL, so that no polish could win. When the best run so far fails its check, Nelder-Mead from lme4's start and
lbfgs from its end are tried too. The best by statsmodels' own llf wins (ties within IMPROVE_TOL:
the first that passes its check); ``FitInfo.optimizer`` names it. statsmodels' warnings are
caught; those that matter become ``FitInfo.messages``.

Every optimiser run costs tens of statsmodels likelihood and score evaluations, each a Python
loop over the groups (about 50 ms on the 107 schools), so none is run that cannot change the
answer. On the handout's models lbfgs alone passes, its decrement at most 2.4e-7 (the bfgs polish
improved the criterion by exactly that, and lost the tie to lbfgs, at nearly twice the time); on
``(1 + minority | schoolid)`` it is 1.4e-6, and the polish runs and wins.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from ..errors import CourseError
from .design import Design
from .numderiv import gradient_hessian
from .optimize import GRAD_TOL, IMPROVE_TOL, SINGULAR_TOL, FitInfo, scaled_gradient
from .pls import ProfiledDeviance
from .smbridge import mixedlm_spec, to_mixedlm

MAX_DENSE = 20_000_000  # cells of statsmodels' dense crossed design (160 MB)
POLISH_GTOL = 1e-7  # bfgs' gradient tolerance on -llf/n (statsmodels' default 1e-5 stops short)


@dataclass
class _Run:
    name: str
    result: object                      # MixedLMResults
    theta: np.ndarray
    criterion: float                    # -2 llf (statsmodels' own)
    evaluations: int
    caught: list[str]                   # statsmodels' warnings
    our_criterion: float                # pls.py's criterion at theta (equals -2 llf)
    gradient: np.ndarray
    maxgrad: float                      # lme4's scaled gradient
    decrement: float                    # 0.5 g'H^-1 g: how far above the optimum (inf: unknown)

    @property
    def ok(self) -> bool:
        return bool(self.result.converged and self.maxgrad < GRAD_TOL)


class _Bridge:
    """Where each of the design's random terms sits in statsmodels' cov_re and vcomp."""

    def __init__(self, dev: ProfiledDeviance, sm, design: Design):
        self.dev, self.sm = dev, sm
        self.spec = mixedlm_spec(design)
        terms = dev.design.terms
        vc_names = list(sm.exog_vc.names) if sm.k_vc else []
        self.vc_index = {self.spec.vc_terms[n]: j for j, n in enumerate(vc_names)}
        self.re_order = None
        if self.spec.re_term is not None and sm.k_re:
            self.re_order = self._match_columns(np.asarray(sm.exog_re), terms[self.spec.re_term])
        covered = set(self.vc_index) | ({self.spec.re_term} if self.re_order is not None else set())
        if covered != set(range(len(terms))):
            raise CourseError("statsmodels' MixedLM does not hold every random term of this "
                              "model; fit it with the default engine='lme4'.")

    @staticmethod
    def _match_columns(exog_re: np.ndarray, td) -> np.ndarray:
        """order[i] = the column of statsmodels' exog_re that holds the term's effect i."""
        order = []
        for i in range(td.p):
            hits = [j for j in range(exog_re.shape[1]) if np.allclose(exog_re[:, j], td.X[:, i])]
            if not hits or exog_re.shape[1] != td.p:
                raise CourseError(f"statsmodels codes the random effects of {td.term.label} "
                                  "differently from lme4; fit it with the default engine='lme4'.")
            order.append(hits[0])
        return np.array(order)

    def _term_covs(self, theta: np.ndarray) -> list[np.ndarray]:
        """Return each term's covariance relative to sigma^2, T T' (T from theta's layout)."""
        return [T @ T.T for T in self.dev.layout.matrices(np.asarray(theta, float))]

    def packed(self, theta: np.ndarray) -> np.ndarray:
        """Convert theta to statsmodels' packed start (Cholesky factor of cov_re, sqrt of vcomp)."""
        covs = self._term_covs(theta)
        parts = []
        if self.re_order is not None:
            k = len(self.re_order)
            cov = np.zeros((k, k))
            cov[np.ix_(self.re_order, self.re_order)] = covs[self.spec.re_term]
            parts.append(_chol_psd(cov)[np.tril_indices(k)])
        vc = np.zeros(len(self.vc_index))
        for term, j in self.vc_index.items():
            vc[j] = covs[term][0, 0]
        parts.append(np.sqrt(vc))
        return np.concatenate(parts)

    def theta(self, result) -> np.ndarray:
        """Convert statsmodels' estimates to theta: per term, chol(its covariance / sigma^2), lme4's layout."""
        po = result.params_object  # cov_re and vcomp relative to the residual variance
        theta = np.empty(self.dev.ntheta)
        for i, (_, rows, cols, where) in enumerate(self.dev.layout.tmats):
            if i == self.spec.re_term and self.re_order is not None:
                cov = np.asarray(po.cov_re)[np.ix_(self.re_order, self.re_order)]
            else:
                cov = np.array([[po.vcomp[self.vc_index[i]]]])
            theta[where] = _chol_psd(cov)[rows, cols]
        return np.maximum(theta, self.dev.lower)


def _one_group_per_term(design: Design) -> Design:
    """Return the design as smbridge should see it.

    A term on an interaction with no outer factor (ranova's ``(1 | classid:schoolid)`` alone) would
    become statsmodels' all-ones group with patsy's full C(classid):C(schoolid) product (33,384
    dense columns here); instead it gets a column of its own (its level codes) that statsmodels can
    use as ``groups``.
    """
    if mixedlm_spec(design).groups == "_one" and any(len(td.term.factors) > 1 for td in design.terms):
        data, terms = design.data.copy(), []
        for td in design.terms:
            if len(td.term.factors) > 1:
                col = "_".join(td.term.factors)
                while col in data.columns:
                    col += "_"
                data[col] = td.codes
                td = replace(td, term=replace(td.term, group=col))
            terms.append(td)
        design = replace(design, data=data, terms=terms)
    if mixedlm_spec(design).groups == "_one":  # crossed: statsmodels holds n x levels, dense
        columns = sum(td.q for td in design.terms)
        if design.n * columns > MAX_DENSE:
            raise CourseError(f"statsmodels MixedLM would need a dense {design.n} x {columns} "
                              "matrix for these crossed random effects, too large to fit here.")
    return design


def _chol_psd(C: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor with a non-negative diagonal, also of a singular covariance."""
    C = 0.5 * (np.asarray(C, float) + np.asarray(C, float).T)
    p = len(C)
    L = np.zeros((p, p))
    tol = 1e-14 * max(1.0, float(np.max(np.abs(np.diag(C)))) if p else 1.0)
    for j in range(p):
        d = C[j, j] - L[j, :j] @ L[j, :j]
        if d > tol:
            L[j, j] = np.sqrt(d)
            L[j + 1:, j] = (C[j + 1:, j] - L[j + 1:, :j] @ L[j, :j]) / L[j, j]
    return L


def _check(dev: ProfiledDeviance, reml: bool, theta: np.ndarray):
    """Check the end of a fit at theta as optimize.py does.

    Criterion, gradient, max scaled gradient, and the Newton decrement 0.5 g'H^-1 g (what a
    Newton step would gain on the criterion; inf, i.e. unknown, when a parameter is on the
    boundary or the Hessian is not positive definite).
    """
    crit = dev.profiled(theta, reml)
    grad, hess = gradient_hessian(lambda t: dev.profiled(t, reml), theta, f0=crit)
    free = theta > dev.lower + 1e-6  # parameters on the boundary are not held to a zero gradient
    if not free.any():
        return crit, grad, 0.0, np.inf
    g, H = grad[free], hess[np.ix_(free, free)]
    scaled = scaled_gradient(g, H)
    decrement = np.inf
    if free.all():
        try:
            decrement = 0.5 * float(np.sum(np.linalg.solve(np.linalg.cholesky(H), g) ** 2))
        except np.linalg.LinAlgError:
            pass
    return crit, grad, float(np.max(np.abs(scaled))), decrement


def _run(bridge: _Bridge, reml: bool, method: str, start: np.ndarray, name: str,
         **options) -> _Run | None:
    """One statsmodels fit from a theta; None when it fails or gives no finite likelihood."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = bridge.sm.fit(reml=reml, method=method, start_params=bridge.packed(start),
                                full_output=True, **options)
            llf = float(res.llf)
            theta = bridge.theta(res)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError, ZeroDivisionError):
            return None
    if not np.isfinite(llf) or not np.all(np.isfinite(theta)):
        return None
    crit, grad, maxgrad, decrement = _check(bridge.dev, reml, theta)
    calls = sum(int(h.get("fcalls", h.get("iterations", 0)) or 0) for h in (res.hist or []))
    return _Run(name, res, theta, -2.0 * llf, calls, [str(w.message) for w in caught],
                crit, grad, maxgrad, decrement)


def _best(runs: list[_Run]) -> _Run:
    """Return the best run: the lowest -2 llf, preferring a run that passes both checks.

    Among runs within IMPROVE_TOL of the lowest (ties), the first that passes both checks
    (statsmodels' converged, the scaled gradient), else the lowest.
    """
    low = min(r.criterion for r in runs)
    ties = [r for r in runs if r.criterion <= low + IMPROVE_TOL]
    return next((r for r in ties if r.ok), min(ties, key=lambda r: r.criterion))


def fit_statsmodels(dev: ProfiledDeviance, reml: bool, start: np.ndarray | None = None):
    """Fit ``dev.design`` with statsmodels MixedLM; returns (FitInfo, MixedLMResults).

    ``start`` is a theta (e.g. the REML estimate when refitting by ML); default lme4's start.
    Raises CourseError when statsmodels cannot express the model (see smbridge).
    """
    try:
        design = _one_group_per_term(dev.design)
        bridge = _Bridge(dev, to_mixedlm(design), design)
    except CourseError as e:
        raise CourseError(f"{e} Leave out engine=\"statsmodels\" to fit it.") from None
    x0 = dev.theta_start() if start is None else np.maximum(np.asarray(start, float), dev.lower)
    runs = _runs(bridge, reml, x0)
    if not runs:
        raise CourseError(
            "statsmodels MixedLM could not fit this model (every optimiser tried -- lbfgs, "
            "bfgs, Nelder-Mead -- failed or gave an infinite likelihood). Fit it with the "
            "default engine='lme4', which is the course's reference.")
    best = _best(runs)
    crit, grad, maxgrad = best.our_criterion, best.gradient, best.maxgrad
    total = sum(r.evaluations for r in runs)
    theta = best.theta
    converged = bool(best.result.converged and np.isfinite(crit) and maxgrad < GRAD_TOL)
    singular = bool(np.any(theta[dev.diag_index] < SINGULAR_TOL))
    info = FitInfo(theta=theta, criterion=float(crit), converged=converged, singular=singular,
                   gradient=grad, evaluations=total, messages=_messages(best, singular),
                   optimizer=best.name)
    return info, best.result


def _runs(bridge, reml: bool, x0: np.ndarray) -> list[_Run]:
    """Return statsmodels' runs from ``x0``: lbfgs, polished by bfgs, and Nelder-Mead if neither passes.

    Runs that fail or give an infinite likelihood are left out.
    """
    runs: list[_Run] = []

    def attempt(method, from_theta, name, **options):
        r = _run(bridge, reml, method, from_theta, name, **options)
        if r is not None:
            runs.append(r)
        return r

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        first = attempt("lbfgs", x0, "lbfgs")
        # statsmodels' lbfgs tolerance is loose: bfgs, tighter, from there, unless it cannot win
        if first is not None and not (first.ok and first.decrement < IMPROVE_TOL):
            attempt("bfgs", first.theta, "lbfgs + bfgs", gtol=POLISH_GTOL)
        if not runs or not _best(runs).ok:
            nm = attempt("nm", x0, "nm")
            if nm is not None:
                attempt("lbfgs", nm.theta, "nm + lbfgs")
    return runs


def _messages(best: _Run, singular: bool) -> list[str]:
    """Return what the fit says about the best run: not converged, a large gradient, singular, ..."""
    crit, maxgrad = best.our_criterion, best.maxgrad
    messages = []
    if not best.result.converged:
        messages.append(f"statsmodels' {best.name.split(' + ')[-1]} stopped before its own "
                        "convergence test was met: the estimates may not be the optimum.")
    if maxgrad >= GRAD_TOL:
        messages.append(f"Model failed to converge with max|grad| = {maxgrad:.3g} (tol = {GRAD_TOL}) "
                        "at statsmodels' estimates: they may not be the optimum; compare engine='lme4'.")
    if singular:
        messages.append("boundary (singular) fit: see help('isSingular') -- a variance component "
                        "is estimated as (nearly) zero or a correlation as +/-1.")
    elif any("Hessian matrix" in w and "not positive definite" in w for w in best.caught):
        messages.append("statsmodels' own standard errors (statsmodels_result.bse_fe) are "
                        "unreliable here: its Hessian is not positive definite. The summary's "
                        "come from mlmcourse.")
    if abs(crit - best.criterion) > 1e-6 * max(1.0, abs(crit)):
        messages.append(f"statsmodels' likelihood (-2 llf = {best.criterion:.6f}) differs from "
                        f"mlmcourse's at the same estimates ({crit:.6f}): please report this.")
    return messages
