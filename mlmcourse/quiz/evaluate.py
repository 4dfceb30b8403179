"""The evaluator of the quiz's computations: the rows, the fits, then the reading.

A computation (:class:`mlmcourse.quiz.registry.Computation`, declared in
``questions/computations.yml``) is evaluated in three steps: take its rows (the classroom data or
the student's own, then its subset), fit its model or models on them through the context (the
chapter's one fit cache), and apply its reading, one small function below per kind of
:data:`mlmcourse.quiz.registry.READINGS`. Every reading uses the course's public API (``icc``,
``anova``, ``ranova``, ``complete_cases``, the variance table ``m.varcorr``, the constructed effects
of :mod:`mlmcourse.residuals`), so an expected answer is the number the notebooks produce.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import chi2

from .. import AnovaNote, anova, complete_cases, icc, ranova
from ..errors import CourseError
from ..residuals import group_mean_residuals, nested_mean_residuals, spread_to_rows
from .registry import READINGS, Computation
from .variants import simulation_parameters


def evaluate(comp: Computation, ctx):
    """Compute ``comp`` in the context ``ctx`` (its data, seed and fits)."""
    operand = READINGS[comp.reading].operand
    if operand == "values":
        return READERS[comp.reading](ctx, **comp.arguments)
    if operand == "seed":
        return READERS[comp.reading](ctx.seed, **comp.arguments)
    rows = _rows(comp, ctx)
    if operand == "rows":
        if comp.subset is not None:
            rows = rows.loc[ctx.mask(comp.subset, rows)]
        return READERS[comp.reading](rows, **comp.arguments)
    fits = [ctx.fit(f, REML=comp.REML, subset=comp.subset, data=rows) for f in (comp.formula, comp.bigger) if f]
    inputs = {"model": fits[0], "models": fits, "residuals": (fits[0], rows)}[operand]
    return READERS[comp.reading](inputs, **comp.arguments)


def _rows(comp: Computation, ctx):
    """Take the classroom data or the student's own, kept to the rows complete for a formula."""
    rows = ctx.data if comp.source == "course" else ctx.variant(comp.source)
    if comp.complete_for is not None:
        rows = rows.loc[complete_cases(rows, comp.complete_for)]
    return rows


# -- readings of a fitted mixed model ---------------------------------------------------------
def varcorr_value(model, group: str, column: str = "Variance") -> float:
    """Read a group's row of the variance table ``m.varcorr``: its Variance (or Std.Dev.)."""
    vc = model.varcorr
    rows = vc[vc["Groups"] == group]
    if rows.empty:
        raise CourseError(f"The model has no variance component for '{group}'.")
    return float(rows[column].iloc[0])


def variance(model, group: str) -> float:
    """Read a group's Variance in the variance table."""
    return varcorr_value(model, group)


def sd(model, group: str) -> float:
    """Read a group's Std.Dev. in the variance table."""
    return varcorr_value(model, group, "Std.Dev.")


def icc_share(model, group: str) -> float:
    """Read a group's share of the total variance, from the course's ``icc()``."""
    shares = icc(model)
    if group not in shares.index:
        raise CourseError(f"icc() gives no share for '{group}' (it has: {', '.join(map(str, shares.index))}).")
    return float(shares[group])


def sd_ratio(model, group: str) -> float:
    """Compute a wrong ICC: the standard deviations in place of the variances."""
    s, e = sd(model, group), sd(model, "Residual")
    return s / (s + e)


def var_ratio(model, group: str) -> float:
    """Compute a wrong ICC: between over within variance (a ratio, not a share)."""
    return varcorr_value(model, group) / varcorr_value(model, "Residual")


def ranova_value(model, row: str, column: str) -> float:
    """Read a cell of ``ranova(model)``: the test of one random-effects term."""
    table = ranova(model)
    if row not in table.index:
        raise CourseError(f"ranova() has no row '{row}' (rows: {', '.join(map(str, table.index))}).")
    return float(table.loc[row, column])


def boundary_p(model, row: str) -> float:
    """Compute the p-value of a variance tested at zero, its boundary.

    Under the null hypothesis the LRT follows a 50:50 mixture of chi-square(0) (a point mass at 0)
    and chi-square(1), so the p-value is half the chi-square(1) one.
    """
    return 0.5 * float(chi2.sf(ranova_value(model, row, "LRT"), 1))


# -- readings of two fitted models (the smaller first) ----------------------------------------
def lrt(models, column: str, refit: bool) -> float:
    """Read a cell of the last row of ``anova(small, big, refit=...)``."""
    small, big = models
    with warnings.catch_warnings():
        # the quiz computes invalid comparisons on purpose (its wrong answers): no note for them
        warnings.simplefilter("ignore", AnovaNote)
        table = anova(small, big, refit=refit, names=["small", "big"])
    return float(table[column].iloc[-1])


def reml_difference(models) -> float:
    """Compute a wrong LRT: the difference of the two REML criteria."""
    small, big = models
    return float(small.reml_criterion - big.reml_criterion)


# -- readings of an OLS fit: the handout's constructed effects ---------------------------------
def mean_residual_sd(residuals, group: str, within: str | None, per_row: bool) -> float:
    """Compute the SD of the group means of the OLS residuals (one value per group).

    ``within``: the residuals cleared of that outer group's means first (the classroom effects
    within schools); ``per_row``: the group values spread to the rows (one value per student).
    """
    fit, rows = residuals
    labels = rows.loc[fit.resid.index]
    effects = (group_mean_residuals(fit.resid, labels[group]) if within is None
               else nested_mean_residuals(fit.resid, labels[within], labels[group]))
    if per_row:
        effects = spread_to_rows(effects, labels[group])
    return float(effects.std(ddof=1))


# -- readings of the rows ---------------------------------------------------------------------
def count_rows(rows) -> int:
    """Count the rows."""
    return len(rows)


def distinct(rows, column: str) -> int:
    """Count the different values of ``column``."""
    return int(rows[column].nunique())


def smallest_group(rows, by: str) -> int:
    """Count the rows of the smallest group."""
    return int(rows.groupby(by).size().min())


def groups_of_size(rows, size: int, by: str) -> int:
    """Count the groups that have exactly ``size`` rows."""
    return int((rows.groupby(by).size() == size).sum())


def n_schools_estimable(rows) -> int:
    """Count the schools whose own regression of mathkind on ses leaves residual df > 0.

    Odd: it fits one regression per school and counts the rank of each design, which no reading of
    a fitted model or of the rows says.
    """
    count = 0
    for _, d in rows.groupby("schoolid"):
        X = np.column_stack([np.ones(len(d)), d["ses"].to_numpy(float)])
        if len(d) - np.linalg.matrix_rank(X) > 0:
            count += 1
    return count


ODD = {"n_schools_estimable": n_schools_estimable}   # the functions a "function" reading names


def function(rows, name: str):
    """Apply an odd computation, a function of the rows named in :data:`ODD`."""
    if name not in ODD:
        raise CourseError(f"The quiz has no function '{name}' for a computation (it has: {', '.join(ODD)}).")
    return ODD[name](rows)


# -- readings of the seed and of other computations -------------------------------------------
def simulation(seed: int, parameter: str):
    """Give a parameter the student's schools were simulated with (sigma_zeta, sigma_eps)."""
    return simulation_parameters(seed)[parameter]


def squared(ctx, of: str) -> float:
    """Square another computation (a variance from an SD)."""
    return float(ctx.value(of) ** 2)


READERS = {
    "variance": variance, "sd": sd, "icc": icc_share, "sd_ratio": sd_ratio, "var_ratio": var_ratio,
    "ranova": ranova_value, "boundary_p": boundary_p, "lrt": lrt, "reml_difference": reml_difference,
    "mean_residual_sd": mean_residual_sd, "rows": count_rows, "distinct": distinct,
    "smallest_group": smallest_group, "groups_of_size": groups_of_size, "function": function,
    "simulation": simulation, "squared": squared,
}
