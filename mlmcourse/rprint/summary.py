"""lmerTest-style summaries: the handout's text layout, and HTML tables for notebooks."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from .abbreviate import abbreviate
from .messages import rank_drop_message
from .rformat import SIGNIF_LEGEND, coef_cells, coef_matrix, format_real, named_vector, print_matrix, zapsmall

DIGITS = 4  # lme4: max(3, getOption("digits") - 3)
CORR_MAX = 12  # lme4.summary.cor.max


def _quantiles(x: np.ndarray) -> np.ndarray:
    return np.quantile(np.asarray(x, float), [0, 0.25, 0.5, 0.75, 1.0])  # R's type 7


def varcorr_text(model, digits: int = DIGITS) -> str:
    """Return lme4's "Random effects:" block: groups, names, variances, SDs and correlations."""
    vc = model.varcorr
    sds = vc["Std.Dev."].to_numpy()
    var_s = format_real(sds ** 2, digits)
    sd_s = format_real(sds, digits)
    groups, names_, cells = [], [], []
    prev = None
    covs = model.covariance_matrices()
    maxlen = max(len(c) for c in covs.values()) if covs else 1
    corr_cells: list[list[str]] = []
    for cov in covs.values():
        c = cov.to_numpy()
        sd = np.sqrt(np.diag(c))
        with np.errstate(invalid="ignore", divide="ignore"):
            r = c / np.outer(sd, sd)
        dig = max(2, digits - 2)
        flat = format_real(np.round(r.ravel(), dig), 7, nsmall=dig) if r.size else []
        # R prints a correlation with a zero SD (0/0, a singular fit) as NaN, not NA
        flat = [("NaN".rjust(len(c)) if np.isnan(v) else c) for c, v in zip(flat, r.ravel())]
        for i in range(len(sd)):
            row = ["" for _ in range(maxlen - 1)]
            for j in range(min(i, maxlen - 1)):
                row[j] = flat[i * len(sd) + j]
            corr_cells.append(row)
    corr_cells.append(["" for _ in range(maxlen - 1)])
    for i, row in vc.iterrows():
        g = row["Groups"]
        groups.append(g if g != prev else "")
        prev = g
        names_.append(row["Name"])
        cells.append([groups[-1], names_[-1], var_s[i], sd_s[i]] + (corr_cells[i] if maxlen > 1 else []))
    colnames = ["Groups", "Name", "Variance", "Std.Dev."]
    if maxlen > 1:
        colnames += ["Corr"] + [""] * (maxlen - 2)
    return "Random effects:\n" + print_matrix(["" for _ in cells], colnames, cells, right=False)


def correlation_text(model) -> str | None:
    """Return lme4's "Correlation of Fixed Effects:" block (None for fewer than two fixed effects)."""
    corr = model.corr_fixef.to_numpy()
    names = list(model.corr_fixef.index)
    p = len(names)
    if p < 2:
        return None
    if p > CORR_MAX:
        return (f"Correlation matrix not shown by default, as p = {p} > {CORR_MAX}.\n"
                "Use m.corr_fixef or m.vcov if you need it.")
    vals = format_real(np.round(corr.ravel(order="F"), 3), 7, nsmall=3)
    grid = np.array(vals, dtype=object).reshape((p, p), order="F")
    rows = abbreviate(names, 11)  # lme4: abbreviate(rn, minlength = 11), over the whole vector
    cols = abbreviate(names, 6)
    cells = [[grid[i, j] if i > j else "" for j in range(p - 1)] for i in range(1, p)]
    return "Correlation of Fixed Effects:\n" + print_matrix(rows[1:], cols[:-1], cells, right=False)


def engine_line(model) -> str | None:
    """Which engine fitted the model, for statsmodels fits only (lme4's printout is unchanged)."""
    if getattr(model, "engine", "lme4") != "statsmodels":
        return None
    return (f"Fitted by statsmodels MixedLM ({model.optinfo.optimizer}); standard errors and "
            "Satterthwaite df by mlmcourse at its estimates")


def header_lines(model) -> list[str]:
    """Return the summary's first lines: the fit's title, the formula, and the data and subset names."""
    title = ("Linear mixed model fit by REML. t-tests use Satterthwaite's method ['lmerModLmerTest']"
             if model.REML else
             "Linear mixed model fit by maximum likelihood . t-tests use Satterthwaite's method ['lmerModLmerTest']")
    lines = [title, f"Formula: {model.formula}"]
    if model.data_name:
        lines.append(f"   Data: {model.data_name}")
    if model.subset_name:
        lines.append(f" Subset: {model.subset_name}")
    return lines


def criterion_lines(model) -> list[str]:
    """Return the REML criterion (REML fits), or AIC, BIC, logLik, deviance and df.resid (ML fits)."""
    if model.REML:
        return [f"REML criterion at convergence: {format_real([round(model.criterion, 1)], 7)[0]}"]
    names = ["AIC", "BIC", "logLik", "deviance", "df.resid"]
    vals = [model.aic, model.bic, model.loglik, model.deviance, model.nobs - model.npar]
    rounded = [round(v, 1) for v in vals]
    fmt = [*format_real(rounded, 7)[:4], str(int(vals[4]))]
    return named_vector(names, fmt).splitlines()


def groups_line(model) -> str:
    """Return lme4's line "Number of obs: ..., groups: ..."."""
    groups = "; ".join(f"{g}, {n}" for g, n in model.ngroups.items())
    return f"Number of obs: {model.nobs}, groups:  {groups}"


def missing_line(model) -> str | None:
    """Return lme4's line on the observations deleted for missing values (None when none were)."""
    n = model.design.n_dropped_na
    if not n:
        return None
    cols = ", ".join(model.design.variables_with_na)
    return f"({n} observation{'s' if n != 1 else ''} deleted due to missingness in {cols})"


def fit_warnings(model) -> list[str]:
    """lme4's "fit warnings:" (``.merMod.msgs``): the columns dropped from a rank-deficient fixed part."""
    k = len(model.design.dropped_columns)
    return ["fit warnings:", rank_drop_message(k)] if k else []


def summary_text(model) -> str:
    """Return lme4's summary(m) printout, with lmerTest's t-tests, as R prints it."""
    parts = [*header_lines(model), "", *criterion_lines(model), ""]
    q = zapsmall(_quantiles(model.scaled_resid.to_numpy()), DIGITS + 1)
    parts += ["Scaled residuals: ", named_vector(["Min", "1Q", "Median", "3Q", "Max"], format_real(q, DIGITS)), ""]
    parts += [varcorr_text(model), groups_line(model)]
    parts += ["", "Fixed effects:", coef_matrix(model.coef_table, DIGITS, cs_cols=3, tst_col=3)]
    corr = correlation_text(model)
    if corr:
        parts += ["", corr]
    parts += fit_warnings(model)
    parts += optimizer_lines(model)
    return "\n".join(parts)


def optimizer_lines(model) -> list[str]:
    """Return lme4's ``.prt.warn`` lines: the optimizer's convergence code and its messages.

    "optimizer (nloptwrap) convergence code: 0 (OK)", then checkConv's messages and the
    optimizer's warnings, printed when there is any of them (a singular fit, a failed
    convergence check, a non-zero code). statsmodels fits list their own messages.
    """
    info = model.optinfo
    if getattr(model, "engine", "lme4") != "lme4":
        return list(info.messages)
    code, msgs, warned = int(info.code), list(info.messages), list(info.warnings)
    if not (code > 0 or msgs or warned):
        return []
    status = "(OK)" if code == 0 else f"({info.optimizer_message})"
    return [f"optimizer ({info.optimizer}) convergence code: {code} {status}", *msgs, *warned]


NOTE_PREFIX = "mlmcourse: "


def course_notes(model) -> list[str]:
    """Return what the course says beyond lme4's printout (kept outside R's layout).

    Which engine found the estimates (statsmodels fits), which variables' missing values dropped
    rows, and lmerTest's warnings about the Hessian of the variance parameters (R shows them
    when lmer() returns).
    """
    notes = [engine_line(model), missing_line(model), *model.satterthwaite_notes.values()]
    return [NOTE_PREFIX + n.strip("()") for n in notes if n]


def summary_with_notes(model) -> str:
    """R's layout, then the course's notes (if any) after a blank line."""
    notes = course_notes(model)
    return summary_text(model) + ("\n\n" + "\n".join(notes) if notes else "")


def short_text(model) -> str:
    """Return the model in one line: REML or ML, formula, criterion, observations and groups."""
    kind = "REML" if model.REML else "ML"
    crit = (f"REML criterion {model.criterion:.1f}" if model.REML
            else f"logLik {model.loglik:.1f}, AIC {model.aic:.1f}")
    return (f"<LmerModel {kind}: {model.formula} | {crit} | nobs {model.nobs}, "
            + ", ".join(f"{g} {n}" for g, n in model.ngroups.items()) + "> (use .summary())")


def _table_html(df: pd.DataFrame, caption: str, floatfmt=None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in ["", *df.columns])
    body = []
    for idx, row in df.iterrows():
        cells = "".join(f"<td>{html.escape(v if isinstance(v, str) else (floatfmt(v) if floatfmt else str(v)))}</td>"
                        for v in row)
        body.append(f"<tr><th>{html.escape(str(idx))}</th>{cells}</tr>")
    return (f"<table class='mlm-table'><caption>{html.escape(caption)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


class ModelSummary:
    """What ``m.summary()`` returns: prints as lmerTest's text, renders as HTML in notebooks."""

    def __init__(self, model):
        self.model = model
        self.r_text = summary_text(model)          # exactly R's layout (the handout's)
        self.text = summary_with_notes(model)      # plus the course's notes

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        m = self.model
        names, cols, cells, _ = coef_cells(m.coef_table, DIGITS, cs_cols=3, tst_col=3)
        cols = cols if len(cols) > len(m.coef_table.columns) else [*cols, ""]
        fmt_coef = pd.DataFrame([c + [""] * (len(cols) - len(c)) for c in cells], index=names, columns=cols)
        vc = m.varcorr
        sds = vc["Std.Dev."].to_numpy()
        vc_fmt = pd.DataFrame({"Name": vc["Name"].to_numpy(), "Variance": format_real(sds ** 2, DIGITS),
                               "Std.Dev.": format_real(sds, DIGITS)}, index=vc["Groups"].to_numpy())
        crit = (f"REML criterion at convergence: {m.criterion:.1f}" if m.REML else
                f"AIC {m.aic:.1f} &middot; BIC {m.bic:.1f} &middot; logLik {m.loglik:.1f} &middot; "
                f"deviance {m.deviance:.1f}")
        warned = fit_warnings(m)[1:] + optimizer_lines(m) + list(m.satterthwaite_notes.values())
        notes = "".join(f"<p class='mlm-warn'>{html.escape(msg)}</p>" for msg in warned)
        q = format_real(zapsmall(_quantiles(m.scaled_resid.to_numpy()), DIGITS + 1), DIGITS)
        resid = pd.DataFrame([q], index=["scaled"], columns=["Min", "1Q", "Median", "3Q", "Max"])
        corr = correlation_text(m)
        corr_html = (f"<p><b>Correlation of fixed effects</b></p><pre style='font-family: monospace; "
                     f"white-space: pre'>{html.escape(corr.split(chr(10), 1)[1])}</pre>" if corr else "")
        miss = missing_line(m)
        style = ("<style>.mlm-summary table.mlm-table{border-collapse:collapse;margin:0.4em 0 0.8em}"
                 ".mlm-summary caption{text-align:left;font-weight:bold}"
                 ".mlm-summary td,.mlm-summary th{padding:2px 10px;text-align:right;font-family:monospace}"
                 ".mlm-warn{color:#a04000}</style>")
        return (f"{style}<div class='mlm-summary'>"
                f"<p><b>Linear mixed model fit by {'REML' if m.REML else 'maximum likelihood'}</b> "
                f"(t-tests use Satterthwaite's method)<br>"
                f"{html.escape(engine_line(m)) + '<br>' if engine_line(m) else ''}"
                f"<code>{html.escape(m.formula)}</code><br>"
                f"{crit}<br>{html.escape(groups_line(m))}"
                f"{'<br>' + html.escape(miss) if miss else ''}</p>"
                + _table_html(resid, "Scaled residuals")
                + _table_html(vc_fmt, "Random effects")
                + _table_html(fmt_coef, "Fixed effects")
                + f"<p style='font-size:smaller'>{html.escape(SIGNIF_LEGEND)}</p>{corr_html}{notes}"
                + "<details><summary>R layout (as in the handout)</summary>"
                + f"<pre style='font-family: monospace; white-space: pre'>{html.escape(self.r_text)}</pre></details>"
                + "</div>")
