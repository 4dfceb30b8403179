"""Ordinary least squares with R's ``summary(lm(...))`` layout.

``lm("mathkind ~ ses", data=dat)`` fits the regression with statsmodels and prints the summary
the way R prints it (same rows, same number formatting), so the course's first regression looks
exactly like the handout's.
"""
from __future__ import annotations

import inspect
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import CourseError
from .arguments import refuse_unsupported
from .callers import caller_name, user_stacklevel
from .checks import aliased_columns
from .formula import parse_formula

__all__ = ["LeastSquares", "LmFit", "PerfectFitWarning", "least_squares", "lm"]


class LeastSquares(NamedTuple):
    """The result of :func:`least_squares`: coefficients, residuals and residual sum of squares."""

    beta: np.ndarray
    resid: np.ndarray
    rss: float


def least_squares(X, y) -> LeastSquares:
    """Solve ordinary least squares of y on the columns of X (X holds the intercept column, if any).

    The one hand-written solve of the package (the explorations' fast paths and ranova's
    no-random-effects likelihood); students fit regressions with :func:`lm` (statsmodels).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    y = np.asarray(y, dtype=float)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    return LeastSquares(beta, resid, float(resid @ resid))


class PerfectFitWarning(UserWarning):
    """R's summary(lm) warning "essentially perfect fit: summary may be unreliable"."""


PERFECT_FIT_ADVICE = ("The outcome is an exact function of the predictors (the residuals are all about 0), "
                      "so the standard errors, t values and p-values mean nothing: check that no predictor "
                      "is the outcome itself or computed from it.")


def is_essentially_perfect(X, y, resid) -> bool:
    """Say whether R's summary.lm rule finds the fit "essentially perfect".

    R's rule: the residual variance ``rss / df_resid`` is finite and below
    ``(mean(fitted)^2 + var(fitted)) * 1e-30`` (``var`` with n - 1 in the denominator). For an
    exact fit that bar lies at the rounding noise of the residuals, so the residuals are first
    refined by one least-squares step (R's QR residuals are that accurate, statsmodels' are not
    always): an exact fit is found on every machine, one with residuals of 1e-6 never.
    """
    X, y, resid = (np.asarray(v, dtype=float) for v in (X, y, resid))
    df_resid = len(y) - np.linalg.matrix_rank(X)
    if df_resid <= 0:
        return False
    refined = resid - X @ np.linalg.lstsq(X, resid, rcond=None)[0]
    fitted = y - refined
    resvar = float(refined @ refined) / df_resid
    return bool(np.isfinite(resvar) and resvar < (fitted.mean() ** 2 + fitted.var(ddof=1)) * 1e-30)


# --- the fit ---------------------------------------------------------------------------------

class LmFit:
    """A fitted ordinary regression. ``summary()`` prints R's summary(lm) layout."""

    def __init__(self, formula: str, results, data: pd.DataFrame, n_dropped: int, data_name: str,
                 columns: list[str] | None = None):
        self.formula = formula
        self.statsmodels = results
        self.data = data
        self.n_dropped = n_dropped
        self.data_name = data_name

        def r_names(index):
            return ["(Intercept)" if n == "Intercept" else n for n in index]
        names = r_names(results.params.index)
        table = pd.DataFrame(
            {"Estimate": results.params.to_numpy(), "Std. Error": results.bse.to_numpy(),
             "t value": results.tvalues.to_numpy(), "Pr(>|t|)": results.pvalues.to_numpy()},
            index=pd.Index(names, name=None))
        every = r_names(columns) if columns is not None else names
        #: R's coef(): the columns aliased with those before them (not estimable) are NA
        self.aliased = [n for n in every if n not in set(names)]
        self.coef_table = table.reindex(pd.Index(every, name=None))
        self.resid = pd.Series(np.asarray(results.resid), index=data.index, name="resid")
        self.fitted = pd.Series(np.asarray(results.fittedvalues), index=data.index, name="fitted")
        self.df_resid = int(np.rint(results.df_resid))
        self.sigma = float(np.sqrt(results.scale))
        self.rsquared = float(results.rsquared)
        self.rsquared_adj = float(results.rsquared_adj)
        self.nobs = int(results.nobs)
        self.has_slopes = int(np.rint(results.df_model)) > 0  # predictors beyond the intercept: R prints the F-test

    @property
    def coef(self) -> pd.Series:
        """Return the estimates of the fixed effects, by name."""
        return self.coef_table["Estimate"]

    def call_text(self) -> str:
        """Return the call as R's summary(lm) prints it, broken before ``data`` when long."""
        formula = parse_formula(self.formula).printed   # deparsed as R prints it: mathkind ~ ses
        call = f"lm(formula = {formula}, data = {self.data_name})"
        if len(call) > 70:  # R's deparse breaks long calls before the data argument
            call = f"lm(formula = {formula}, \n    data = {self.data_name})"
        return call

    def summary_text(self) -> str:
        """Return R's summary(lm) printout, warning as R does when the fit is essentially perfect."""
        from ..rprint.lmsummary import lm_summary_text
        model = self.statsmodels.model
        if is_essentially_perfect(model.exog, model.endog, self.resid):
            warnings.warn(f"essentially perfect fit: summary may be unreliable. {PERFECT_FIT_ADVICE}",
                          PerfectFitWarning, stacklevel=user_stacklevel())
        return lm_summary_text(self)

    def summary(self) -> None:
        """Print the summary in R's layout."""
        print(self.summary_text())

    def __repr__(self) -> str:
        return f"<lm fit: {self.formula}, {self.nobs} observations; call .summary() for the table>"


def _check_inputs(formula, data) -> None:
    if not isinstance(formula, str) or "~" not in formula:
        raise CourseError(
            f"lm() needs a formula as text with an outcome, a '~' and predictors, such as "
            f"\"mathkind ~ ses\"; it got {formula!r}.")
    if "|" in formula:
        raise CourseError(
            f"The formula {formula!r} has a random-effect term with '|'. lm() fits ordinary "
            "regression only: drop the (... | group) term, or fit the model with lmer().")
    if not isinstance(data, pd.DataFrame):
        raise CourseError(f"lm() needs the data as a pandas DataFrame (such as load_classroom()); "
                          f"it got a {type(data).__name__}.")


def lm(formula: str, data: pd.DataFrame, **unsupported) -> LmFit:
    """Fit ``formula`` by ordinary least squares, dropping rows with missing values (as R does).

    The formula is read as lmer() reads its fixed part (R's ``^``, ``scale()``, ``factor()`` levels;
    the same refusals), then statsmodels' OLS fits it.

    >>> fit = lm("mathkind ~ ses", data=dat)   # doctest: +SKIP
    >>> fit.summary()                          # doctest: +SKIP
    """
    refuse_unsupported("lm", unsupported)
    _check_inputs(formula, data)
    import statsmodels.api as sm

    from .design import regression_design

    data_name = caller_name(data, inspect.currentframe().f_back) or "data"
    y, X, used, n_dropped = regression_design(formula, data)
    aliased = aliased_columns(np.asarray(X, dtype=float))
    kept = X.drop(columns=X.columns[aliased]) if aliased else X
    if len(y) <= kept.shape[1]:
        raise CourseError(f"Only {len(y)} complete rows are left for {formula!r}: too few "
                          f"to estimate its {X.shape[1]} coefficients and a residual variance. Check the data for "
                          "missing values.")
    _check_outcome_varies(y, formula)
    results = sm.OLS(y, kept).fit()
    return LmFit(formula, results, used, n_dropped, data_name, columns=list(X.columns))


def _check_outcome_varies(y, formula: str) -> None:
    """Refuse a constant outcome: it leaves nothing to model.

    R's lm prints R-squared NaN; lmer refuses it.
    """
    values = np.asarray(y, dtype=float)
    if len(values) and np.all(values == values[0]):
        name = formula.split("~")[0].strip()
        raise CourseError(
            f"The outcome '{name}' has the same value ({values[0]:g}) in all {len(values)} rows "
            "used: there is no variation to model, so R-squared and the standard errors have no "
            "meaning. Check the outcome column: a regression needs an outcome that varies.")
