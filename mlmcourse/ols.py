"""Ordinary least squares with R's ``summary(lm(...))`` layout.

``lm("mathkind ~ ses", data=dat)`` fits the regression with statsmodels and prints the summary
the way R prints it (same rows, same number formatting), so the course's first regression looks
exactly like the handout's.
"""
from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

from .callers import caller_name
from .errors import CourseError
from .rformat import coef_matrix, format_pval, format_real, named_vector, zapsmall

__all__ = ["lm", "LmFit"]

_DIGITS = 4  # R: max(3, getOption("digits") - 3)


def coefmat_text(table: pd.DataFrame, digits: int = _DIGITS) -> str:
    """R's printCoefmat for Estimate, Std. Error, t value, Pr(>|t|), with stars and legend."""
    return coef_matrix(table, digits, cs_cols=2, tst_col=2)


def r_formatC(x: float, digits: int = _DIGITS) -> str:
    """R's ``formatC(x, digits=)``: C's ``%.<digits>g``, padded to ``digits + 1`` characters."""
    return f"{x:.{digits}g}".rjust(digits + 1)


# --- the fit ---------------------------------------------------------------------------------

class LmFit:
    """A fitted ordinary regression. ``summary()`` prints R's summary(lm) layout."""

    def __init__(self, formula: str, results, data: pd.DataFrame, n_dropped: int, data_name: str):
        self.formula = formula
        self.statsmodels = results
        self.data = data
        self.n_dropped = n_dropped
        self.data_name = data_name
        names = ["(Intercept)" if n == "Intercept" else n for n in results.params.index]
        self.coef_table = pd.DataFrame(
            {"Estimate": results.params.to_numpy(), "Std. Error": results.bse.to_numpy(),
             "t value": results.tvalues.to_numpy(), "Pr(>|t|)": results.pvalues.to_numpy()},
            index=pd.Index(names, name=None))
        self.resid = pd.Series(results.resid, index=data.index, name="resid")
        self.fitted = pd.Series(results.fittedvalues, index=data.index, name="fitted")
        self.df_resid = int(round(results.df_resid))
        self.sigma = float(np.sqrt(results.scale))
        self.rsquared = float(results.rsquared)
        self.rsquared_adj = float(results.rsquared_adj)
        self.nobs = int(results.nobs)
        self._has_slopes = int(round(results.df_model)) > 0

    @property
    def coef(self) -> pd.Series:
        return self.coef_table["Estimate"]

    def call_text(self) -> str:
        call = f"lm(formula = {self.formula}, data = {self.data_name})"
        if len(call) > 70:  # R's deparse breaks long calls before the data argument
            call = f"lm(formula = {self.formula}, \n    data = {self.data_name})"
        return call

    def summary_text(self) -> str:
        r = self.statsmodels
        lines = ["", "Call:", self.call_text(), "", "Residuals:"]
        if self.df_resid > 5:
            q = np.quantile(self.resid.to_numpy(), [0, 0.25, 0.5, 0.75, 1])
            q = zapsmall(q, _DIGITS + 1)
            txt = format_real(q, _DIGITS)
            lines.append(named_vector(["Min", "1Q", "Median", "3Q", "Max"], txt))
        else:
            vals = format_real(self.resid.to_numpy(), _DIGITS)
            lines.append(named_vector([str(i) for i in self.resid.index], vals))
        lines += ["", "Coefficients:", coefmat_text(self.coef_table), ""]
        lines.append(f"Residual standard error: {format_real([float(f'{self.sigma:.{_DIGITS}g}')])[0]}"
                     f" on {self.df_resid} degrees of freedom")
        if self.n_dropped:
            word = "observation" if self.n_dropped == 1 else "observations"
            lines.append(f"  ({self.n_dropped} {word} deleted due to missingness)")
        if self._has_slopes:
            fval, df1 = float(r.fvalue), int(round(r.df_model))
            p = format_pval([float(r.f_pvalue)], _DIGITS)[0]
            lines.append(f"Multiple R-squared:  {r_formatC(self.rsquared)},\tAdjusted R-squared:  "
                         f"{r_formatC(self.rsquared_adj)} ")
            lines.append(f"F-statistic: {r_formatC(fval)}"
                         f" on {df1} and {self.df_resid} DF,  p-value: {p}")
        lines.append("")
        return "\n".join(lines)

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


def lm(formula: str, data: pd.DataFrame) -> LmFit:
    """Fit ``formula`` by ordinary least squares, dropping rows with missing values (as R does).

    >>> fit = lm("mathkind ~ ses", data=dat)   # doctest: +SKIP
    >>> fit.summary()                          # doctest: +SKIP
    """
    _check_inputs(formula, data)
    import patsy
    import statsmodels.formula.api as smf

    data_name = caller_name(data, inspect.currentframe().f_back) or "data"
    try:
        model = smf.ols(formula, data=data, missing="drop")
    except patsy.PatsyError as exc:
        known = ", ".join(map(str, data.columns))
        raise CourseError(
            f"The formula {formula!r} could not be read against the data ({str(exc).splitlines()[0]}). "
            f"Check the spelling of each variable; the data has the columns: {known}.") from None
    used_index = data.index[model.data.row_labels] if model.data.row_labels is not None and not isinstance(
        model.data.row_labels, pd.Index) else pd.Index(model.data.row_labels)
    if model.nobs <= model.exog.shape[1]:
        raise CourseError(f"Only {int(model.nobs)} complete rows are left for {formula!r}: too few "
                          "to estimate its coefficients. Check the data for missing values.")
    results = model.fit()
    used = data.loc[used_index]
    return LmFit(formula, results, used, len(data) - len(used), data_name)
