"""Print numbers the way R prints them, so the screen matches the handout digit for digit.

Implements R's rules (as documented in ?format, ?print.default, ?printCoefmat, ?format.pval):
a vector is formatted with a common number of decimals, chosen so every element shows at
least ``digits`` significant digits; fixed notation unless scientific is narrower.
"""
from __future__ import annotations

import math

import numpy as np

STAR_CUTS = [(0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, "."), (1.0, " ")]
SIGNIF_LEGEND = "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"
DOUBLE_EPS = float(np.finfo(float).eps)


def _sci_parts(x: float, digits: int) -> tuple[bool, int, int]:
    """Sign, decimal exponent and significant digits of |x| shown with ``digits`` digits."""
    mant, exp = f"{abs(x):.{digits - 1}e}".split("e")
    return x < 0, int(exp), len(mant.replace(".", "").rstrip("0")) or 1


def format_real(values, digits: int = 7, nsmall: int = 0) -> list[str]:
    """Format a numeric vector as R's format(x, digits=) does (formatReal).

    One common number of decimals, enough for every value to show ``digits`` significant digits,
    or scientific notation when that is narrower; padded to a common width. Non-finite values
    print as NA/Inf.
    """
    xs = [float(v) + 0.0 for v in np.ravel(np.asarray(values, dtype=float))]  # no negative zero
    finite = [x for x in xs if math.isfinite(x)]
    if not finite:
        return [_nonfinite(x) for x in xs]
    rgt = mxsl = mxns = mxe = -10 ** 9
    mne = 10 ** 9
    neg = 0
    for x in finite:
        sign, kp, nsig = (False, 0, 1) if x == 0 else _sci_parts(x, digits)
        left = kp + 1
        if kp > 0 and abs(x) < 10.0 ** kp:  # rounding to ``digits`` widened the number
            left -= 1
        rgt = max(rgt, nsig - left)
        mxsl = max(mxsl, int(sign) + (1 if left <= 0 else left))  # each element's own sign
        mxns = max(mxns, nsig)
        mxe, mne = max(mxe, kp), min(mne, kp)
        neg = neg or int(sign)
    rgt = max(rgt, 0, nsmall)
    width_fixed = mxsl + rgt + (rgt != 0)
    e_digits = 2 if (mxe >= 100 or mne <= -99) else 1
    d_sci = mxns - 1
    width_sci = neg + (d_sci > 0) + d_sci + 4 + e_digits
    out = []
    for x in xs:
        if not math.isfinite(x):
            out.append(_nonfinite(x))
        elif width_fixed <= width_sci:
            text = f"{x:.{rgt}f}"
            out.append(text[1:] if text.startswith("-") and float(text) == 0 else text)  # no "-0.0"
        else:
            out.append(_sci(x, d_sci))
    width = max(len(o) for o in out)
    return [o.rjust(width) for o in out]


def _nonfinite(x: float) -> str:
    return "NA" if math.isnan(x) else ("Inf" if x > 0 else "-Inf")


def _sci(x: float, decimals: int) -> str:
    mant, exp = f"{x:.{decimals}e}".split("e")
    sign = exp[0]
    return f"{mant}e{sign}{int(exp[1:]):02d}"


def r_round(x, digits: float) -> np.ndarray:
    """R's round(x, digits): a non-integer number of digits is rounded first."""
    return np.round(np.asarray(x, dtype=float), math.floor(digits + 0.5))


def zapsmall(values, digits: int) -> np.ndarray:
    """R's zapsmall (R 4.2, which printed the handout): round(x, digits - log10(max |x|))."""
    x = np.asarray(values, dtype=float)
    fin = x[np.isfinite(x)]
    mx = float(np.max(np.abs(fin))) if fin.size else 0.0
    return r_round(x, max(0.0, digits - math.log10(mx)) if mx > 0 else digits)


def format_pval(pvals, digits: int, eps: float = DOUBLE_EPS) -> list[str]:
    """R's format.pval: p-values below ``eps`` print as '<2e-16' (or '< 2e-16' beside wide ones)."""
    pv = [float(p) for p in np.ravel(np.asarray(pvals, dtype=float))]
    out: list[str | None] = [None] * len(pv)
    ok = [i for i, p in enumerate(pv) if not math.isnan(p)]
    small = [i for i in ok if pv[i] < eps]
    rest = [i for i in ok if pv[i] >= eps]

    def expo(p):
        return math.floor(math.log10(p if p > 0 else 1e-50))

    fix = [i for i in rest if expo(pv[i]) >= -3 or (expo(pv[i]) == -4 and digits > 1)]
    sci = [i for i in rest if i not in fix]
    for group in (fix, sci):
        if group:
            for i, text in zip(group, format_real([pv[i] for i in group], digits)):
                out[i] = text.strip()
    if small:
        d = max(1, digits - 2)
        if rest:
            nc = max(len(out[i]) for i in rest)
            if d > 1 and d + 6 > nc:
                d = max(1, nc - 7)
            sep = "" if (d == 1 and nc <= 6) else " "
        else:
            sep = "" if d == 1 else " "
        tiny = "<" + sep + format_real([eps], d)[0].strip()
        for i in small:
            out[i] = tiny
    return [o if o is not None else "NA" for o in out]


def stars(p: float) -> str:
    """Return R's significance stars for a p-value (printCoefmat's codes); empty for NA."""
    if p is None or not math.isfinite(p):
        return ""
    for cut, sym in STAR_CUTS:
        if p <= cut:
            return sym
    return " "


def named_vector(names, values) -> str:
    """print() of a named vector: every entry right-aligned to one common width."""
    w = max(len(t) for t in [*names, *values])
    return "\n".join("".join(t.rjust(w) + " " for t in row) for row in (names, values))


WIDTH = 80  # R's getOption("width")


def print_matrix(rownames: list[str], colnames: list[str], cells: list[list[str]],
                 right: bool = True, width: int = WIDTH) -> str:
    """Print a character matrix as R's print.default does.

    Cells right-aligned (or left-aligned with ``right=False``, as print(quote=FALSE) shows
    lme4's variance components), row names left. Columns that do not fit in ``width`` characters
    continue in a block below, as R's printMatrix wraps them: a block takes columns while the
    line stays shorter than ``width``.
    """
    rw = max([len(r) for r in rownames] + [0])
    widths = [max([len(c)] + [len(row[j]) for row in cells]) for j, c in enumerate(colnames)]
    pad = (lambda v, w: v.rjust(w)) if right else (lambda v, w: v.ljust(w))
    lines: list[str] = []
    start = 0
    while start < len(colnames) or not lines:
        end, used = start, rw
        while end < len(colnames):
            used += widths[end] + 1
            end += 1
            if end < len(colnames) and used + widths[end] + 1 >= width:
                break
        block = range(start, end)
        lines.append(" " * rw + "".join(" " + pad(colnames[j], widths[j]) for j in block))
        for r, row in zip(rownames, cells):
            lines.append(r.ljust(rw) + "".join(" " + pad(row[j], widths[j]) for j in block))
        start = end
        if not colnames:
            break
    return "\n".join(lines)


def coef_matrix(table, digits: int = 4, cs_cols: int | None = None, tst_col: int | None = None,
                signif_stars: bool = True) -> str:
    """R's printCoefmat for a table whose last column is a p-value."""
    names, colnames, cells, show_stars = coef_cells(table, digits, cs_cols, tst_col, signif_stars)
    text = print_matrix(names, colnames, cells)
    if show_stars:
        text += "\n---\n" + SIGNIF_LEGEND
    return text


def coef_cells(table, digits: int = 4, cs_cols: int | None = None, tst_col: int | None = None,
               signif_stars: bool = True) -> tuple[list[str], list[str], list[list[str]], bool]:
    """Return the cells printCoefmat shows: row names, column names, formatted cells, stars shown.

    Columns before the test statistic (Estimate, Std. Error, and df for lmerTest) share one
    rounding; the statistic is rounded to ``digits - 1``; p-values use format.pval.
    """
    names = [str(i) for i in table.index]
    cols = list(table.columns)
    xm = table.to_numpy(dtype=float)
    nc = len(cols)
    k = nc - 2 if cs_cols is None else cs_cols
    tst = k if tst_col is None else tst_col
    dig_tst = max(1, min(5, digits - 1))
    cells = [["" for _ in cols] for _ in names]
    cs = xm[:, :k]
    acs = np.abs(cs[np.isfinite(cs) & (cs != 0)])
    digmin = 1 + (np.floor(np.log10([acs.min(), acs.max()])) if acs.size else np.array([0, 0]))
    dec = max(1, int(np.max(digits - digmin)))
    flat = format_real(np.round(cs, dec).ravel(), digits)
    for i in range(len(names)):
        for j in range(k):
            cells[i][j] = flat[i * k + j]
    tcol = format_real(np.round(xm[:, tst], dig_tst), digits)
    for i in range(len(names)):
        cells[i][tst] = tcol[i]
    pv = xm[:, nc - 1]
    pcol = format_pval(pv, dig_tst)
    for i in range(len(names)):
        cells[i][nc - 1] = pcol[i]
    show_stars = signif_stars and bool(np.any(pv < 0.1))
    colnames = cols + ([""] if show_stars else [])
    if show_stars:
        for i in range(len(names)):
            cells[i].append(stars(pv[i]).ljust(3))
    return names, colnames, cells, show_stars


def anova_matrix(table, digits: int = 5, signif_stars: bool = True) -> str:
    """R's print.anova: statistic columns (Chisq, F) rounded, Df as is, others zapsmall'ed; missing cells blank."""
    names = [str(i) for i in table.index]
    cols = list(table.columns)
    nc = len(cols)
    has_p = cols[-1].startswith("Pr(") or cols[-1].startswith("P(")
    dig_tst = max(1, min(5, digits - 1))
    cells = [["" for _ in cols] for _ in names]
    for j, c in enumerate(cols):
        x = table[c].to_numpy(dtype=float)
        ok = np.isfinite(x)
        if has_p and j == nc - 1:
            vals = format_pval(x[ok], dig_tst) if ok.any() else []
        elif c in ("Chisq", "F", "Cp") or c.endswith(" value"):
            vals = format_real(np.round(x[ok], dig_tst), digits)
        elif c.endswith("Df"):
            vals = format_real(x[ok], digits)
        else:
            vals = format_real(zapsmall(x[ok], digits), digits)
        it = iter(vals)
        for i in range(len(names)):
            cells[i][j] = next(it) if ok[i] else ""
    pv = table[cols[-1]].to_numpy(dtype=float) if has_p else np.array([])
    show_stars = signif_stars and has_p and bool(np.any(pv[np.isfinite(pv)] < 0.1))
    colnames = cols + ([""] if show_stars else [])
    if show_stars:
        for i in range(len(names)):
            cells[i].append(stars(pv[i]).ljust(3) if np.isfinite(pv[i]) else "   ")
    text = print_matrix(names, colnames, cells)
    if show_stars:
        text += "\n---\n" + SIGNIF_LEGEND
    return text
