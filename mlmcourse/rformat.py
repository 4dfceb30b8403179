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


def _sig_and_power(x: float, digits: int) -> tuple[int, int]:
    """Significant digits needed (<= digits) and decimal exponent of |x| rounded to digits."""
    if x == 0 or not math.isfinite(x):
        return 1, 0
    mant, exp = f"{abs(x):.{digits - 1}e}".split("e")
    mant = mant.replace(".", "").rstrip("0")
    return max(1, len(mant)), int(exp)


def format_real(values, digits: int = 7, nsmall: int = 0) -> list[str]:
    """R's format(x, digits=) for a numeric vector: a common layout for all elements."""
    xs = [float(v) for v in values]
    fin = [x for x in xs if math.isfinite(x)]
    if not fin:
        return ["NA" if not math.isinf(x) else ("Inf" if x > 0 else "-Inf") for x in xs]
    neg = any(x < 0 for x in fin)
    info = [_sig_and_power(x, digits) for x in fin]
    # R's formatReal: each element's integer part counts its own sign
    left = max((x < 0) + max(kp + 1, 1) for x, (_, kp) in zip(fin, info))
    rgt = max(max(sig - kp - 1, 0) for sig, kp in info)
    rgt = max(rgt, nsmall)
    width_fixed = left + rgt + (rgt > 0)
    mxsig = max(sig for sig, _ in info)
    exp_digits = max(2, max(len(str(abs(kp))) for _, kp in info))
    width_sci = neg + (mxsig + 1 if mxsig > 1 else mxsig) + 2 + exp_digits
    out = []
    for x in xs:
        if not math.isfinite(x):
            out.append("NA" if math.isnan(x) else ("Inf" if x > 0 else "-Inf"))
        elif width_fixed <= width_sci:
            text = f"{x:.{rgt}f}"
            out.append(text[1:] if text.startswith("-") and float(text) == 0 else text)  # no "-0.000"
        else:
            out.append(_sci(x, mxsig - 1))
    # R pads a formatted vector to a common width (room for a sign and the widest integer part)
    width = max([len(o) for o in out] + [width_fixed if width_fixed <= width_sci else 0])
    return [o.rjust(width) for o in out]


def _sci(x: float, decimals: int) -> str:
    mant, exp = f"{x:.{decimals}e}".split("e")
    sign = exp[0]
    return f"{mant}e{sign}{int(exp[1:]):02d}"


def format_num(x: float, digits: int = 7) -> str:
    return format_real([x], digits)[0]


def signif(x: float, digits: int) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def zapsmall(values, digits: int) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    fin = x[np.isfinite(x)]
    mx = np.max(np.abs(fin)) if fin.size else 0.0
    nd = max(0, digits - int(math.ceil(math.log10(mx)))) if mx > 0 else digits
    return np.round(x, nd)


def format_pval(pvals, digits: int, eps: float = DOUBLE_EPS) -> list[str]:
    """R's format.pval: tiny p-values as '<2e-16' (or '< 2e-16' beside wide entries)."""
    pv = [float(p) for p in pvals]
    is0 = [p < eps for p in pv]
    rest = [p for p, z in zip(pv, is0) if not z]
    fixp_vals, sci_vals = [], []
    for p in rest:
        expo = math.floor(math.log10(p)) if p > 0 else -50
        (fixp_vals if (expo >= -3 or (expo == -4 and digits > 1)) else sci_vals).append(p)
    fx = dict(zip(range(len(fixp_vals)), format_real(fixp_vals, digits))) if fixp_vals else {}
    sx = dict(zip(range(len(sci_vals)), format_real(sci_vals, digits))) if sci_vals else {}
    formatted_rest, i_f, i_s = [], 0, 0
    for p in rest:
        expo = math.floor(math.log10(p)) if p > 0 else -50
        if expo >= -3 or (expo == -4 and digits > 1):
            formatted_rest.append(fx[i_f]); i_f += 1
        else:
            formatted_rest.append(sx[i_s]); i_s += 1
    out, j = [], 0
    d0 = max(1, digits - 2)
    if any(not z for z in is0):
        nc = max(len(s) for s in formatted_rest)
        if d0 > 1 and d0 + 6 > nc:
            d0 = max(1, nc - 7)
        sep = "" if (d0 == 1 and nc <= 6) else " "
    else:
        sep = "" if d0 == 1 else " "
    tiny = "<" + sep + format_real([eps], d0)[0]
    for z in is0:
        if z:
            out.append(tiny)
        else:
            out.append(formatted_rest[j]); j += 1
    return out


def stars(p: float) -> str:
    if p is None or not math.isfinite(p):
        return ""
    for cut, sym in STAR_CUTS:
        if p <= cut:
            return sym
    return " "


def print_matrix(rownames: list[str], colnames: list[str], cells: list[list[str]],
                 right: bool = True) -> str:
    """R's print.default of a character matrix: cells right-aligned (or left-aligned with
    ``right=False``, as print(quote=FALSE) shows lme4's variance components), row names left."""
    rw = max([len(r) for r in rownames] + [0])
    widths = [max([len(c)] + [len(row[j]) for row in cells]) for j, c in enumerate(colnames)]
    pad = (lambda v, w: v.rjust(w)) if right else (lambda v, w: v.ljust(w))
    lines = [" " * rw + "".join(" " + pad(c, w) for c, w in zip(colnames, widths))]
    for r, row in zip(rownames, cells):
        lines.append(r.ljust(rw) + "".join(" " + pad(v, w) for v, w in zip(row, widths)))
    return "\n".join(lines)


def coef_matrix(table, digits: int = 4, cs_cols: int | None = None, tst_col: int | None = None,
                signif_stars: bool = True) -> str:
    """R's printCoefmat for a table whose last column is a p-value.

    Columns before the test statistic (Estimate, Std. Error, and df for lmerTest) share one
    rounding; the statistic is rounded to ``digits - 1``; p-values use format.pval."""
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
    text = print_matrix(names, colnames, cells)
    if show_stars:
        text += "\n---\n" + SIGNIF_LEGEND
    return text


def anova_matrix(table, digits: int = 5, signif_stars: bool = True) -> str:
    """R's print.anova: statistic columns (Chisq, F) rounded, Df as is, others zapsmall'ed;
    missing cells blank."""
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
