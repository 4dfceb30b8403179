"""R's ``summary(lm(...))`` printout, for :class:`mlmcourse.engine.ols.LmFit`."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .rformat import coef_matrix, format_pval, format_real, named_vector, zapsmall

_DIGITS = 4  # R: max(3, getOption("digits") - 3)


def coefmat_text(table: pd.DataFrame, digits: int = _DIGITS) -> str:
    """R's printCoefmat for Estimate, Std. Error, t value, Pr(>|t|), with stars and legend."""
    return coef_matrix(table, digits, cs_cols=2, tst_col=2)


def r_formatC(x: float, digits: int = _DIGITS) -> str:
    """R's ``formatC(x, digits=)``: C's ``%.<digits>g``, padded to ``digits + 1`` characters."""
    return f"{x:.{digits}g}".rjust(digits + 1)


def lm_summary_text(fit) -> str:
    """R's summary(lm) of a fitted LmFit, line for line."""
    r = fit.statsmodels
    lines = ["", "Call:", fit.call_text(), "", "Residuals:"]
    if fit.df_resid > 5:
        q = np.quantile(fit.resid.to_numpy(), [0, 0.25, 0.5, 0.75, 1])
        q = zapsmall(q, _DIGITS + 1)
        txt = format_real(q, _DIGITS)
        lines.append(named_vector(["Min", "1Q", "Median", "3Q", "Max"], txt))
    else:
        vals = format_real(fit.resid.to_numpy(), _DIGITS)
        lines.append(named_vector([str(i) for i in fit.resid.index], vals))
    k = len(getattr(fit, "aliased", []))
    head = f"Coefficients: ({k} not defined because of singularities)" if k else "Coefficients:"
    lines += ["", head, coefmat_text(fit.coef_table), ""]
    lines.append(f"Residual standard error: {format_real([float(f'{fit.sigma:.{_DIGITS}g}')])[0]}"
                 f" on {fit.df_resid} degrees of freedom")
    if fit.n_dropped:
        word = "observation" if fit.n_dropped == 1 else "observations"
        lines.append(f"  ({fit.n_dropped} {word} deleted due to missingness)")
    if fit.has_slopes:
        fval, df1 = float(r.fvalue), int(np.rint(r.df_model))
        p = format_pval([float(r.f_pvalue)], _DIGITS)[0]
        lines.append(f"Multiple R-squared:  {r_formatC(fit.rsquared)},\tAdjusted R-squared:  "
                     f"{r_formatC(fit.rsquared_adj)} ")
        lines.append(f"F-statistic: {r_formatC(fval)}"
                     f" on {df1} and {fit.df_resid} DF,  p-value: {p}")
    lines.append("")
    return "\n".join(lines)

