"""Ordinary least squares with R's ``summary(lm(...))`` layout.

``lm("mathkind ~ ses", data=dat)`` fits the regression with statsmodels and prints the summary
the way R prints it (same rows, same number formatting), so the course's first regression looks
exactly like the handout's.
"""
from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd

from .errors import CourseError

__all__ = ["lm", "LmFit", "r_format", "r_format_pval", "r_signif_stars"]

_DIGITS = 4  # R: max(3, getOption("digits") - 3)
_EPS = np.finfo(float).eps
SIGNIF_LEGEND = "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"


# --- R's number formatting (base::format / formatC / format.pval) --------------------------

def _sci_parts(x: float, digits: int):
    """Sign, decimal exponent and significant digits of |x| shown with ``digits`` digits."""
    mant, exp = f"{abs(x):.{digits - 1}e}".split("e")
    nsig = len(mant.replace(".", "").rstrip("0")) or 1
    return x < 0, int(exp), nsig


def r_format(values, digits: int = 7) -> list[str]:
    """Format numbers together like R's ``format(x, digits=)``: one common number of decimals
    (enough for every value to show ``digits`` significant digits), or scientific notation when
    that is narrower. Non-finite values print as NA/NaN/Inf."""
    xs = [float(v) + 0.0 for v in np.ravel(np.asarray(values, dtype=float))]  # no negative zero
    finite = [x for x in xs if math.isfinite(x)]
    if not finite:
        return [_nonfinite(x) for x in xs]
    rgt = mxsl = mxns = mxe = -10**9
    mne = 10**9
    neg = 0
    for x in finite:
        if x == 0:
            sign, kp, nsig = False, 0, 1
        else:
            sign, kp, nsig = _sci_parts(x, digits)
        left = kp + 1
        if kp > 0 and abs(x) < 10.0 ** kp:  # rounding widened the number: not in fixed notation
            left -= 1
        sleft = int(sign) + (1 if left <= 0 else left)
        rgt = max(rgt, nsig - left)
        mxsl = max(mxsl, sleft)
        mxns = max(mxns, nsig)
        mxe, mne = max(mxe, kp), min(mne, kp)
        neg = neg or int(sign)
    rgt = max(rgt, 0)
    width_fixed = mxsl + rgt + (rgt != 0)
    e_digits = 2 if (mxe >= 100 or mne <= -99) else 1
    d_sci = mxns - 1
    width_sci = neg + (d_sci > 0) + d_sci + 4 + e_digits
    out = []
    for x in xs:
        if not math.isfinite(x):
            out.append(_nonfinite(x))
        elif width_fixed <= width_sci:
            txt = f"{x:.{rgt}f}"
            out.append(txt[1:] if txt.startswith("-") and float(txt) == 0 else txt)
        else:
            out.append(f"{x:.{d_sci}e}")
    width = max(len(s) for s in out)
    return [s.rjust(width) for s in out]


def _nonfinite(x: float) -> str:
    return "NA" if math.isnan(x) else ("Inf" if x > 0 else "-Inf")


def r_formatC(x: float, digits: int = _DIGITS) -> str:
    """R's ``formatC(x, digits=)``: C's ``%.<digits>g``, padded to ``digits + 1`` characters."""
    return f"{x:.{digits}g}".rjust(digits + 1)


def r_format_pval(pvalues, digits: int, eps: float = _EPS) -> list[str]:
    """R's ``format.pval``: p-values below ``eps`` print as ``<2e-16`` (or ``< 2.2e-16``)."""
    pv = [float(p) for p in np.ravel(np.asarray(pvalues, dtype=float))]
    out: list[str | None] = [None] * len(pv)
    ok = [i for i, p in enumerate(pv) if not math.isnan(p)]
    small = [i for i in ok if pv[i] < eps]
    rest = [i for i in ok if pv[i] >= eps]
    if rest:
        fix = [i for i in rest if _exponent(pv[i]) >= -3 or (_exponent(pv[i]) == -4 and digits > 1)]
        sci = [i for i in rest if i not in fix]
        for group in (fix, sci):
            if group:
                for i, s in zip(group, r_format([pv[i] for i in group], digits)):
                    out[i] = s.strip()
    if small:
        d = max(1, digits - 2)
        if rest:
            nc = max(len(out[i]) for i in rest)
            if d > 1 and d + 6 > nc:
                d = max(1, nc - 7)
            sep = "" if (d == 1 and nc <= 6) else " "
        else:
            sep = "" if d == 1 else " "
        eps_txt = r_format([eps], d)[0].strip()
        for i in small:
            out[i] = f"<{sep}{eps_txt}"
    return [o if o is not None else "NA" for o in out]


def _exponent(p: float) -> int:
    return math.floor(math.log10(p if p > 0 else 1e-50))


def r_signif_stars(p: float) -> str:
    """R's significance stars: *** < 0.001 < ** < 0.01 < * < 0.05 < . < 0.1."""
    if p is None or math.isnan(p):
        return ""
    for cut, star in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p <= cut:
            return star
    return " "


def _r_round(x: np.ndarray, digits: float) -> np.ndarray:
    """R's ``round(x, digits)`` (non-integer digits round to the nearest integer first)."""
    return np.round(np.asarray(x, dtype=float), int(math.floor(digits + 0.5)))


def _zapsmall(x: np.ndarray, digits: int) -> np.ndarray:
    mx = np.nanmax(np.abs(x))
    return _r_round(x, max(0.0, digits - math.log10(mx)) if mx > 0 else digits)


def _print_matrix(rows: list[str], cols: list[str], cells: list[list[str]], left_last: bool = False) -> str:
    """R's print of a character matrix (quote=FALSE, right=TRUE): row names left-aligned,
    columns right-aligned to the wider of header and cells."""
    rw = max(len(r) for r in rows)
    widths = [max(len(c), *(len(row[j]) for row in cells)) for j, c in enumerate(cols)]
    head = " " * rw + "".join(" " + c.rjust(w) for c, w in zip(cols, widths))
    lines = [head]
    for r, row in zip(rows, cells):
        lines.append(r.ljust(rw) + "".join(" " + s.rjust(w) for s, w in zip(row, widths)))
    return "\n".join(lines)


def _print_named_vector(names: list[str], values: list[str]) -> str:
    """R's print of a named vector: every entry right-aligned to one common width."""
    w = max(len(t) for t in [*names, *values])
    return "\n".join("".join(t.rjust(w) + " " for t in row) for row in (names, values))


def coefmat_text(table: pd.DataFrame, digits: int = _DIGITS) -> str:
    """R's ``printCoefmat`` for a table with Estimate, Std. Error, a test statistic and a
    p-value column (last), with stars and the legend."""
    est_se = table.iloc[:, :2].to_numpy(dtype=float)
    stat = table.iloc[:, 2].to_numpy(dtype=float)
    pv = table.iloc[:, -1].to_numpy(dtype=float)
    acs = np.abs(est_se[np.isfinite(est_se) & (est_se != 0)])
    digmin = 1 + (math.floor(math.log10(acs.min())) if acs.size else 0)
    est_txt = r_format(_r_round(est_se, max(1, digits - digmin)).ravel(), digits)
    est_txt = np.array(est_txt).reshape(est_se.shape)
    dig_tst = max(1, min(5, digits - 1))
    stat_txt = r_format(_r_round(stat, dig_tst), digits)
    p_txt = r_format_pval(pv, dig_tst)
    cells = [[est_txt[i, 0], est_txt[i, 1], stat_txt[i], p_txt[i]] for i in range(len(table))]
    cols = [str(c) for c in table.columns]
    show_stars = bool(np.any(pv[~np.isnan(pv)] < 0.1))
    if show_stars:
        stars = [r_signif_stars(p) for p in pv]
        w = max(len(s) for s in stars)
        for row, s in zip(cells, stars):
            row.append(s.ljust(w))
        cols.append("")
    text = _print_matrix([str(i) for i in table.index], cols, cells)
    if show_stars:
        text += "\n---\n" + SIGNIF_LEGEND
    return text


# --- the fit ---------------------------------------------------------------------------------

def _caller_name(obj, default: str = "data") -> str:
    """The name the caller gave to ``obj`` (for the ``Call:`` line), if there is one."""
    frame = inspect.currentframe()
    try:
        f = frame.f_back
        while f is not None and f.f_globals.get("__name__") == __name__:
            f = f.f_back
        if f is None:
            return default
        for scope in (f.f_locals, f.f_globals):
            for name, val in scope.items():
                if val is obj and not name.startswith("_"):
                    return name
        return default
    finally:
        del frame


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
            q = _zapsmall(q, _DIGITS + 1)
            txt = r_format(q, _DIGITS)
            lines.append(_print_named_vector(["Min", "1Q", "Median", "3Q", "Max"], txt))
        else:
            vals = r_format(self.resid.to_numpy(), _DIGITS)
            lines.append(_print_named_vector([str(i) for i in self.resid.index], vals))
        lines += ["", "Coefficients:", coefmat_text(self.coef_table), ""]
        lines.append(f"Residual standard error: {r_format([float(f'{self.sigma:.{_DIGITS}g}')])[0]}"
                     f" on {self.df_resid} degrees of freedom")
        if self.n_dropped:
            word = "observation" if self.n_dropped == 1 else "observations"
            lines.append(f"  ({self.n_dropped} {word} deleted due to missingness)")
        if self._has_slopes:
            fval, df1 = float(r.fvalue), int(round(r.df_model))
            p = r_format_pval([float(r.f_pvalue)], _DIGITS)[0]
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

    data_name = _caller_name(data)
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
