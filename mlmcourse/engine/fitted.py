"""The fitted model students hold: the results of ``fit(design, REML)`` (see ``fitting.py``).

An LmerModel holds what a fit found (the design, the profiled deviance, the optimiser's report
and the penalized least-squares solution at the optimum) and derives lme4's and lmerTest's
numbers from them; it never runs the optimiser itself.
"""
from __future__ import annotations

import warnings
from functools import cached_property

import numpy as np
import pandas as pd

from .callers import user_stacklevel
from .design import Design
from .inference import SatterthwaiteWarning, satterthwaite_table
from .optimize import FitInfo
from .pls import PLSState, ProfiledDeviance
from .threads import one_blas_thread


class LmerModel:
    """A linear mixed model fitted by REML or ML, with lme4's and lmerTest's numbers."""

    def __init__(self, design: Design, REML: bool, deviance: ProfiledDeviance, optinfo: FitInfo,
                 state: PLSState, data_name: str | None = None, subset_name: str | None = None,
                 source_data: pd.DataFrame | None = None, subset=None, engine: str = "lme4",
                 statsmodels_result=None):
        self.design = design
        self.engine = engine                          # "lme4" or "statsmodels": who found theta
        self.statsmodels_result = statsmodels_result  # MixedLMResults (engine="statsmodels")
        self.REML = bool(REML)
        self.data_name = data_name
        self.subset_name = subset_name
        self._source_data = source_data
        self._subset = subset
        self._dev = deviance
        self.optinfo = optinfo
        self._state = state

    # -- basic quantities -----------------------------------------------------------------------
    @property
    def formula(self) -> str:
        """The model's formula as lme4 prints it."""
        return self.design.spec.printed

    @property
    def data(self) -> pd.DataFrame:
        """The rows the model used (after subset and dropping missing values)."""
        return self.design.data

    @property
    def theta(self) -> np.ndarray:
        """The relative covariance parameters at the optimum (theta's layout: linalg/layout.py)."""
        return self.optinfo.theta

    @property
    def singular(self) -> bool:
        """Whether the fit is on the boundary (lme4's isSingular)."""
        return self.optinfo.singular

    @property
    def converged(self) -> bool:
        """Whether lme4's checks found the fit converged."""
        return self.optinfo.converged

    @property
    def nobs(self) -> int:
        """The number of observations the model used."""
        return self.design.n

    @property
    def ngroups(self) -> dict[str, int]:
        """The number of levels of each grouping factor."""
        out: dict[str, int] = {}
        for td in self.design.terms:
            out.setdefault(td.term.group, td.nlevels)
        return out

    @property
    def npar(self) -> int:
        """Fixed effects + covariance parameters + residual SD (lme4's df in logLik)."""
        return self.design.p + self._dev.ntheta + 1

    @property
    def sigma(self) -> float:
        """The residual standard deviation."""
        return self._dev.sigma_from(self._state, self.REML)

    @property
    def fixef(self) -> pd.Series:
        """The fixed-effect estimates."""
        return pd.Series(self._state.beta, index=self.design.xnames, name="Estimate")

    # -- likelihood ------------------------------------------------------------------------------
    @property
    def criterion(self) -> float:
        """The optimised objective: REML criterion, or ML deviance."""
        return self._dev.profiled_from(self._state, self.REML)

    @property
    def reml_criterion(self) -> float | None:
        """'REML criterion at convergence' (None for an ML fit)."""
        return self.criterion if self.REML else None

    @property
    def loglik(self) -> float:
        """Log-likelihood (the REML log-likelihood for a REML fit, as lme4's logLik)."""
        return -0.5 * self.criterion

    @property
    def deviance(self) -> float:
        """-2 log-likelihood, as in the 'deviance' column of anova()."""
        return self.criterion

    @property
    def aic(self) -> float:
        """Akaike's information criterion (from the REML criterion for a REML fit, as lme4)."""
        return self.criterion + 2 * self.npar

    @property
    def bic(self) -> float:
        """The Bayesian information criterion (from the REML criterion for a REML fit, as lme4)."""
        return self.criterion + np.log(self.nobs) * self.npar

    # -- effects and residuals -------------------------------------------------------------------
    @cached_property
    def _b(self) -> np.ndarray:
        return self._dev.lambda_of(self.theta) @ self._state.u

    @property
    def ranef(self) -> dict[str, pd.DataFrame]:
        """Conditional modes (BLUPs) of the random effects, one DataFrame per term."""
        out = {}
        for td in self.design.terms:
            block = self._b[td.offset: td.offset + td.q].reshape(td.nlevels, td.p)
            out[td.name] = pd.DataFrame(block, index=td.levels, columns=td.cnames)
        return out

    @cached_property
    def fitted(self) -> pd.Series:
        """Fitted values: fixed effects plus conditional modes, as lme4 gives them."""
        f = self.design.X @ self._state.beta + self.design.Z @ self._b
        return pd.Series(f, index=self.design.data.index, name="fitted")

    @property
    def resid(self) -> pd.Series:
        """Residuals: the outcome minus the fitted values."""
        r = self.design.y - self.fitted.to_numpy()
        return pd.Series(r, index=self.design.data.index, name="resid")

    @property
    def scaled_resid(self) -> pd.Series:
        """Residuals over sigma (the summary's "Scaled residuals")."""
        return self.resid / self.sigma

    # -- covariance of the estimates -------------------------------------------------------------
    @property
    def vcov(self) -> pd.DataFrame:
        """The covariance of the fixed-effect estimates, sigma^2 (R_X'R_X)^-1.

        Computed from the same well-conditioned triangular matrix as the coefficient table (inverting
        R_X'R_X itself loses digits when a predictor sits far from zero).
        """
        F = self._dev.varpar_terms(self.theta).F
        v = self.sigma ** 2 * (F @ F.T)
        return pd.DataFrame(v, index=self.design.xnames, columns=self.design.xnames)

    @property
    def corr_fixef(self) -> pd.DataFrame:
        """The correlation of the fixed-effect estimates."""
        v = self.vcov.to_numpy()
        s = np.sqrt(np.diag(v))
        return pd.DataFrame(v / np.outer(s, s), index=self.design.xnames, columns=self.design.xnames)

    @cached_property
    def _satterthwaite(self):
        table, notes = self._satterthwaite_computed()
        for note in notes.values():   # lmerTest's warnings, once, pointing at the student's cell
            warnings.warn(note, SatterthwaiteWarning, stacklevel=user_stacklevel())
        return table, notes

    @one_blas_thread
    def _satterthwaite_computed(self):
        return satterthwaite_table(self._dev, self.theta, self.sigma, self._state.beta,
                                   self.design.xnames, self.REML)

    @property
    def satterthwaite_notes(self) -> dict[str, str]:
        """Warnings from the Satterthwaite computation (e.g. a Hessian not positive definite)."""
        return dict(self._satterthwaite[1])

    @property
    def coef_table(self) -> pd.DataFrame:
        """The coefficient table of lmerTest's summary: Estimate, Std. Error, df (Satterthwaite), t value, Pr(>|t|)."""
        return self._satterthwaite[0].copy()

    # -- variance components ---------------------------------------------------------------------
    def covariance_matrices(self) -> dict[str, pd.DataFrame]:
        """Covariance matrix of each term's random effects (sigma^2 T T')."""
        out = {}
        Ts = self._dev.layout.matrices(np.asarray(self.theta, float))
        for td, T in zip(self.design.terms, Ts):
            cov = self.sigma ** 2 * T @ T.T
            out[td.name] = pd.DataFrame(cov, index=td.cnames, columns=td.cnames)
        return out

    @property
    def varcorr(self) -> pd.DataFrame:
        """Variance components as lme4's VarCorr: Groups, Name, Variance, Std.Dev., Corr."""
        rows = []
        for name, cov in self.covariance_matrices().items():
            sd = np.sqrt(np.diag(cov.to_numpy()))
            for i, effect in enumerate(cov.index):
                # lme4: cov / (sd_i sd_0), NaN when an SD is 0 (a singular fit)
                corr = (cov.iloc[i, 0] / (sd[i] * sd[0]) if i > 0 and sd[i] * sd[0] > 0
                        else np.nan)
                rows.append({"Groups": name, "Name": effect, "Variance": sd[i] ** 2,
                             "Std.Dev.": sd[i], "Corr": corr})
        rows.append({"Groups": "Residual", "Name": "", "Variance": self.sigma ** 2,
                     "Std.Dev.": self.sigma, "Corr": np.nan})
        df = pd.DataFrame(rows)
        if all(len(cov) == 1 for cov in self.covariance_matrices().values()):
            df = df.drop(columns="Corr")
        return df

    # -- confidence intervals ---------------------------------------------------------------------
    def confint(self, parm=None, level: float = 0.95, method: str = "profile", **unsupported) -> pd.DataFrame:
        """Return lme4's ``confint(m, oldNames=FALSE)``: profile (default) or Wald intervals.

        One row per parameter (random-effect SDs, sigma, fixed effects). See
        ``mlmcourse.confint``.
        """
        from .confint import confint
        return confint(self, parm=parm, level=level, method=method, **unsupported)

    # -- refitting (fitting.refit) -----------------------------------------------------------------
    def fit_context(self) -> dict:
        """Return what a refit of this model carries over: names for printing, the data, the engine."""
        return {"data_name": self.data_name, "subset_name": self.subset_name,
                "source_data": self._source_data, "subset": self._subset, "engine": self.engine}

    def update(self, *args, **kwargs):
        """R's ``update(m, ...)`` has no method here: say how to fit the new model."""
        from ..errors import CourseError
        raise CourseError(
            "m.update(...) is R's update(m, ...), which the course does not have: fit the new model "
            "with lmer() again, e.g. lmer(\"mathkind ~ ses + sex + (1 | schoolid)\", data=dat) for "
            "update(m, . ~ . + sex), and lmer(..., REML=False) for update(m, REML = FALSE). "
            "anova(m1, m2) refits REML fits by ML itself.")

    def all_fit(self, optimizers=None, start: str = "fit", **unsupported) -> pd.DataFrame:
        """Return lme4's allFit: this model refitted by several optimisers, one row each.

        Each row holds an optimiser's criterion, checkConv messages and estimates
        (engine/allfit.py); the model is unchanged.
        """
        from .allfit import all_fit
        return all_fit(self, optimizers=optimizers, start=start, **unsupported)

    # -- statsmodels ----------------------------------------------------------------------------
    def to_statsmodels(self):
        """Return the same model as a plain statsmodels MixedLM (not fitted; ``.fit(reml=True)``).

        Built as ``smf.mixedlm`` from the formula a student would type; see engine/smbridge.py.
        """
        from .smbridge import formula_mixedlm
        return formula_mixedlm(self.design)

    # -- display ---------------------------------------------------------------------------------
    def summary(self, **unsupported):
        """Return lmerTest's summary of the model: it prints as text and renders as tables in a notebook."""
        from .arguments import refuse_unsupported
        refuse_unsupported("summary", unsupported)
        from ..rprint.summary import ModelSummary
        return ModelSummary(self)

    def __repr__(self) -> str:
        from ..rprint.summary import short_text
        return short_text(self)

    def _repr_html_(self) -> str:
        from ..rprint.summary import ModelSummary
        return ModelSummary(self)._repr_html_()
