"""Check what the data must be for a model to have an answer.

Checked while the design is built (what two fitted models must share, for anova(), is checked in
compare.py).

Each check turns a cause of silently wrong numbers (or of a raw numpy traceback) into one
CourseError paragraph, or, for a rank-deficient fixed part, does what lme4 does:

    check_columns          columns used as numbers: dates, complex numbers, numbers stored as
                           objects, inf/-inf, text with one value per row (one dummy column each)
    check_finite           a formula term that computes inf or NaN (np.log(x) of x <= 0)
    check_scale            values so large or small that their sums of squares overflow/underflow
    drop_redundant_columns lme4's chkRank.X.drop.cols: pivoted QR, drop the dependent columns, warn
    aliased_columns        R's lm: the columns dqrdc2 (tolerance 1e-7) finds spanned by those before
    check_enough_rows      more fixed effects than observations
    check_outcome          an outcome with no variation, or one the fixed part (and a grouping
                           factor) explains exactly: no residual variance is left to estimate
"""
from __future__ import annotations

import contextlib
import re
import warnings

import numpy as np
import pandas as pd
import scipy.linalg
from threadpoolctl import threadpool_limits

from ..errors import CourseError
from ..rprint.messages import rank_drop_message
from .callers import user_stacklevel
from .formula import FormulaSpec, shown
from .rows import columns_in

RANK_TOL = 1e-7  # lme4's lmerControl(check.rankX) tolerance, as in qr(X, tol = 1e-7)


class RankDeficiencyWarning(UserWarning):
    """lme4's "fixed-effect model matrix is rank deficient so dropping ..." (columns were dropped)."""


def _one_thread_if_large(p: int):
    """Use one BLAS thread for a wide X.

    A multi-threaded QR of 1190 x 313 took 10 times longer on a busy 2-core machine; for a
    narrow X, entering threadpool_limits costs more than the QR.
    """
    return threadpool_limits(limits=1, user_api="blas") if p >= 30 else contextlib.nullcontext()


def _numeric_columns(spec: FormulaSpec, data: pd.DataFrame) -> list:
    """Columns used as values (outcome, fixed part, random effects), not only as grouping factors."""
    found: list = []
    for piece in [spec.response, spec.fixed] + [t.lhs for t in spec.random]:
        found += [c for c in columns_in(piece, data) if c not in found]
    return found


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def check_columns(spec: FormulaSpec, data: pd.DataFrame, frame: pd.DataFrame) -> None:
    """Check the columns the formula uses as numbers, in the rows used (``frame``)."""
    n = len(frame)
    for col in _numeric_columns(spec, data):
        values = frame[col]
        kind = values.dtype
        if (pd.api.types.is_datetime64_any_dtype(kind) or pd.api.types.is_timedelta64_dtype(kind)
                or isinstance(kind, pd.PeriodDtype)):
            raise CourseError(
                f"The column '{col}' holds dates or times ({kind}), which a model cannot use as a "
                "number. Make a numeric column from it first, e.g. days since the first date: "
                f"dat['{col}_days'] = (dat['{col}'] - dat['{col}'].min()).dt.days, and use that."
            )
        if pd.api.types.is_bool_dtype(kind):
            continue
        if pd.api.types.is_complex_dtype(kind):
            raise CourseError(f"The column '{col}' holds complex numbers ({kind}): a model needs real "
                              f"numbers. Use the real part, e.g. dat['{col}'] = dat['{col}'].to_numpy().real, "
                              "if that is what it measures.")
        if pd.api.types.is_object_dtype(kind) and n and values.map(_is_number).all():
            treated = ("which the model cannot use as an outcome" if col == spec.response else
                       f"which a formula would treat as text: {values.nunique()} categories, one dummy "
                       "column each")
            raise CourseError(
                f"The column '{col}' holds numbers stored as Python objects (dtype object), {treated}. "
                f"Convert it to numbers first: dat['{col}'] = pd.to_numeric(dat['{col}'])."
            )
        if pd.api.types.is_numeric_dtype(kind):
            x = values.to_numpy(dtype=float)
            pos, neg = int(np.isposinf(x).sum()), int(np.isneginf(x).sum())
            if pos or neg:
                signs = ", ".join(f"{k} {s}" for k, s in ((pos, "inf"), (neg, "-inf")) if k)
                raise CourseError(
                    f"The column '{col}' has {pos + neg} infinite values ({signs}) in the {n} rows "
                    "used, e.g. from np.log of a value <= 0 or a division by 0. A model needs finite "
                    f"numbers: fix the column, or leave those rows out with subset=np.isfinite(dat['{col}'])."
                )
        elif col != spec.response and n > 1:
            levels = values.nunique()
            if levels >= n:
                raise CourseError(
                    f"The column '{col}' is text ({kind}) with {levels} different values in the {n} "
                    f"rows used, so as a predictor it would become {levels} dummy columns (one per "
                    "value): more coefficients than observations. If it holds numbers stored as "
                    f"text, convert it: dat['{col}'] = pd.to_numeric(dat['{col}']); if it names units "
                    f"(children, classes), use it as a grouping factor, e.g. (1 | {col})."
                )


SCALE = 1e100  # values beyond 1e100 (or below 1e-100) overflow (underflow) in sums of squares


def check_scale(values: np.ndarray, names: list[str], subject) -> None:
    """Check that each column of ``values`` has a size a fit can square and sum.

    Each column (a vector: one column) must have a size whose squares, summed over the rows, are
    ordinary floating-point numbers; else the fit is NaN or silently wrong. ``subject(name)``
    says which column, e.g. "The outcome 'y'".
    """
    values = values.reshape(len(values), -1)
    top = np.max(np.abs(values), axis=0) if values.size else np.zeros(values.shape[1])
    for name, size in zip(names, top):
        if size > SCALE or 0 < size < 1 / SCALE:
            has = f"has values as large as {size:.3g}" if size > SCALE else f"has no value larger than {size:.3g}"
            raise CourseError(
                f"{subject(shown(name))} {has}: the model's sums of squares would "
                f"{'overflow' if size > SCALE else 'underflow'} floating-point numbers and give no "
                f"answer or a wrong one. Rescale it first, e.g. divide it by "
                f"{10.0 ** np.floor(np.log10(size)):.0e}, and scale the estimates back."
            )


def check_finite(values: np.ndarray, terms: dict[str, slice], where: str) -> None:
    """Refuse inf or NaN computed by a term of the formula (the data's own NaN rows are dropped before)."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    for name, cols in terms.items():
        part = values[:, cols]
        nan = int(np.isnan(part).any(axis=1).sum())
        inf = int(np.isinf(part).any(axis=1).sum())
        if not (nan or inf):
            continue
        counts = " and ".join(t for t in (f"{inf} infinite (inf or -inf)" if inf else "",
                                          f"{nan} undefined (NaN)" if nan else "") if t)
        subject = {"outcome": f"The outcome '{shown(name)}'",
                   "fixed part": f"The fixed part term '{shown(name)}'"}.get(where, f"In the {where}, '{shown(name)}'")
        raise CourseError(
            f"{subject} gives {counts} values in the {len(values)} rows used, e.g. np.log or "
            "np.sqrt of a value <= 0 or a division by 0. A model needs finite numbers: change the "
            "transformation (e.g. np.log(x + 1)), or leave those rows out with subset= (True for "
            "the rows to keep)."
        )


def drop_redundant_columns(X: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str], list[str]]:
    """lme4's rank check of the fixed-effects matrix: keep a full-rank set of columns.

    The rank comes from a pivoted QR of X with each column scaled to unit length (so a predictor
    measured in small units is not mistaken for zero), with lme4's tolerance 1e-7 relative to the
    largest |R| diagonal. Which columns go is decided as R's qr (LINPACK dqrdc2) decides: in the
    formula's order, a column that the columns before it already span (to that tolerance) is
    dropped; the others keep their order. Returns (X, names, dropped names).
    """
    p = X.shape[1]
    if p == 0:
        return X, names, []
    norms = np.linalg.norm(X, axis=0)
    unit = X / np.where(norms > 0, norms, 1.0)
    with _one_thread_if_large(p):
        R, pivot = scipy.linalg.qr(unit, mode="r", pivoting=True)
    diag = np.abs(np.diag(R))
    tol = RANK_TOL * (diag.max() if diag.size else 0.0)
    rank = int((diag > tol).sum())
    if rank == p:
        return X, names, []
    keep = _spanned_in_order(unit, tol, rank)
    if len(keep) != rank:  # borderline tolerance: fall back on the pivoted QR's choice
        keep = sorted(int(j) for j in pivot[:rank])
    dropped = [names[j] for j in range(p) if j not in keep]
    k = len(dropped)
    warnings.warn(
        f"{rank_drop_message(k)} ({', '.join(dropped)}): {'it is' if k == 1 else 'they are'} a linear "
        "combination of the columns before, so the data cannot tell the effects apart.",
        RankDeficiencyWarning, stacklevel=user_stacklevel())
    return X[:, keep], [names[j] for j in keep], dropped


def _spanned_in_order(unit: np.ndarray, tol: float, limit: int) -> list[int]:
    """Return the indices of the columns kept, in the formula's order.

    A column whose part orthogonal to the columns kept before it has length <= ``tol`` is
    dropped (at most ``limit`` kept).
    """
    n, p = unit.shape
    basis = np.zeros((n, limit))
    keep: list[int] = []
    for j in range(p):
        v = unit[:, j].copy()
        for _ in range(2):  # Gram-Schmidt twice: orthogonal to working precision
            Q = basis[:, : len(keep)]
            v -= Q @ (Q.T @ v)
        size = np.linalg.norm(v)
        if size > tol and len(keep) < limit:
            basis[:, len(keep)] = v / size
            keep.append(j)
    return keep


def aliased_columns(X: np.ndarray) -> list[int]:
    """Return the indices of the columns R's lm finds aliased (lm() shows them as NA).

    R's lm (LINPACK dqrdc2 with tol = 1e-7): in the formula's order, a column is aliased when
    the part of it the columns before do not span is shorter than 1e-7 of its own length (a
    column of zeros always is).
    """
    n, p = X.shape
    if p == 0:
        return []
    norms = np.linalg.norm(X, axis=0)
    unit = X / np.where(norms > 0, norms, 1.0)
    with _one_thread_if_large(p):
        keep = set(_spanned_in_order(unit, RANK_TOL, min(n, p)))
    return [j for j in range(p) if j not in keep]


def _unit(a: np.ndarray) -> np.ndarray:
    """Scale ``a`` so that its largest |value| is 1, each column of a matrix on its own.

    Norms of 1e300 or 1e-300 then neither overflow nor vanish.
    """
    top = np.max(np.abs(a), axis=0) if a.size else np.ones(a.shape[1:])
    return a / np.where(top > 0, top, 1.0)


def _explained(y: np.ndarray, X: np.ndarray, scale: float | None = None) -> bool:
    """Return True when y - X b is 0 up to rounding for the least-squares b (X may have no column).

    The residual is computed from b, so a false 'exact' is not possible, only a missed one.
    ``scale``: the size of the variation the residual is compared with (default: y's own).
    """
    top = np.max(np.abs(y)) if y.size else 1.0
    y, X = _unit(y), _unit(X)
    r = y - X @ scipy.linalg.lstsq(X, y, lapack_driver="gelsy")[0] if X.shape[1] else y
    size = np.linalg.norm(r)
    scale = np.linalg.norm(y - y.mean()) if scale is None else scale / (top if top > 0 else 1.0)
    return bool(size <= 1e-7 * scale or size <= 1e3 * np.finfo(float).eps * np.linalg.norm(y))


def _within(values: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Deviations from the group means (of each column)."""
    counts = np.bincount(codes, minlength=k).astype(float)
    if values.ndim == 1:
        return values - (np.bincount(codes, weights=values, minlength=k) / counts)[codes]
    out = values.copy()
    for j in range(values.shape[1]):
        out[:, j] -= (np.bincount(codes, weights=values[:, j], minlength=k) / counts)[codes]
    return out


def check_outcome(y: np.ndarray, X: np.ndarray, terms, name: str, fixed: str) -> None:
    """Check that the outcome leaves residual variation.

    Not constant, not an exact function of the fixed part, nor constant within the groups of a
    random intercept (beyond the fixed part).
    """
    n = len(y)
    check_scale(y, [name], lambda v: f"The outcome '{v}'")
    if np.all(y == y[0]):
        raise CourseError(
            f"The outcome '{shown(name)}' has the same value ({y[0]:g}) in all {n} rows used: there "
            "is no variation to model, so no variance can be estimated. Check the outcome column "
            "(and the subset): a model needs an outcome that varies."
        )
    with _one_thread_if_large(X.shape[1]):
        _check_residual_variation(y, X, terms, name, fixed)


def _check_residual_variation(y, X, terms, name, fixed) -> None:
    n = len(y)
    if _explained(y, X):
        raise CourseError(
            f"The outcome '{shown(name)}' is an exact linear function of the fixed part "
            f"'{shown(fixed)}' in the {n} rows used (the residuals are all 0): nothing is left for "
            "the random effects or the residual variance to describe. Check that the outcome is "
            "not computed from the predictors."
        )
    for td in terms:
        if "(Intercept)" in td.cnames:
            # Within the groups, the fixed part explains the outcome exactly and leaves room to
            # spare: then the criterion falls without end as the group variance grows, and lme4
            # has no answer either. With no room to spare (312 one-child classes and one pair,
            # a slope fitting the pair) the criterion has its optimum elsewhere: lme4 fits it.
            k = td.nlevels
            within_X = _within(X, td.codes, k)
            room = n - k - (np.linalg.matrix_rank(_unit(within_X)) if within_X.size else 0)
            if room > 0 and _explained(_within(y, td.codes, k), within_X, scale=np.linalg.norm(y - y.mean())):
                raise CourseError(
                    f"The outcome '{shown(name)}' does not vary within the groups of '{td.name}' "
                    f"(beyond what the fixed part explains): every row has its group's value, so the "
                    "residual variance would be 0 and the model has no answer. Check the outcome (is "
                    f"it a {td.name} average?), or model the group values with one row per group."
                )


def check_enough_rows(p: int, n: int, fixed: str, term_sizes: dict[str, int]) -> None:
    """lme4: the fixed effects must be fewer than the observations."""
    if p < n:
        return
    hint = ""
    if term_sizes and max(term_sizes.values()) > 1:
        term, size = max(term_sizes.items(), key=lambda kv: kv[1])
        m = re.fullmatch(r"(?:C|factor)\((.+)\)", term)
        hint = (f" The term '{shown(term)}' alone gives {size} columns (one per value of the factor "
                f"but the first): to let its groups differ, use it as a grouping factor instead, "
                f"e.g. (1 | {m.group(1) if m else 'g'}).")
    raise CourseError(
        f"The fixed part '{shown(fixed)}' gives {p} coefficient{'s' * (p != 1)} for {n} "
        f"observation{'s' * (n != 1)}: a model needs "
        f"fewer fixed effects than observations, or nothing is left to estimate the variances.{hint}"
    )
