"""The handout's "constructed" effects: random effects estimated by hand from OLS residuals.

The notebooks compute these with pandas itself (``dat.groupby("schoolid")["res1"].mean()``,
``.map``, ``.transform("mean")``); the quiz and the explorations use these functions, which add
the checks a student's data needs (aligned rows, no missing group, classroom labels unique across
schools). All are pure: they take residuals and group labels (pandas Series on the same rows) and
return new Series, indexed by group level in sorted order (as R's ``tapply`` does).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import CourseError

__all__ = [
    "group_mean_residuals",
    "nested_mean_residuals",
    "spread_to_rows",
    "within_group_pair_correlation",
    "within_group_residuals",
]


def _aligned(resid, groups, what: str = "groups") -> tuple[pd.Series, pd.Series]:
    resid = pd.Series(resid)
    groups = pd.Series(groups)
    if len(resid) != len(groups):
        raise CourseError(
            f"The residuals ({len(resid)} values) and the {what} ({len(groups)} labels) have "
            "different lengths. Use the residuals of a fit on the same rows as the group labels, "
            "e.g. fit.resid with dat.loc[fit.resid.index, 'schoolid'].")
    if not resid.index.equals(groups.index):
        groups = pd.Series(groups.to_numpy(), index=resid.index, name=groups.name)
    if groups.isna().any():
        raise CourseError(f"Some {what} labels are missing; every row needs a group.")
    return resid, groups


def group_mean_residuals(resid, groups) -> pd.Series:
    """Return the mean residual of each group (R: ``tapply(res, group, mean)``).

    A crude estimate of each group's effect, e.g. zeta_k for schools.
    """
    resid, groups = _aligned(resid, groups)
    out = resid.groupby(groups, sort=True).mean()
    out.index.name = groups.name
    return out.rename("mean_resid")


def spread_to_rows(group_values: pd.Series, groups) -> pd.Series:
    """Give every row the value of its group (the mean residual of its school, say)."""
    groups = pd.Series(groups)
    missing = set(groups.unique()) - set(group_values.index)
    if missing:
        raise CourseError(f"No value for the groups {sorted(missing)[:5]}: compute the group "
                          "values from the same data as the labels.")
    return pd.Series(group_values.reindex(groups.to_numpy()).to_numpy(), index=groups.index,
                     name=group_values.name)


def within_group_residuals(resid, groups) -> pd.Series:
    """Residual minus its group's mean residual: epsilon'_ijk - zeta_k hat = eta_jk + epsilon_ijk."""
    resid, groups = _aligned(resid, groups)
    return (resid - spread_to_rows(group_mean_residuals(resid, groups), groups)).rename("within_resid")


def nested_mean_residuals(resid, outer, inner) -> pd.Series:
    """Return the means by inner group (classroom) of residuals cleared of the outer group's mean.

    Crude estimates of eta_jk, from residuals already cleared of the school's mean. ``inner``
    labels must be unique across outer groups (as classid is in the classroom data).
    """
    resid, outer = _aligned(resid, outer, "outer groups")
    _, inner = _aligned(resid, inner, "inner groups")
    per_inner = pd.DataFrame({"o": outer.to_numpy(), "i": inner.to_numpy()}).groupby("i")["o"].nunique()
    if (per_inner > 1).any():
        raise CourseError("Some inner-group labels occur in more than one outer group; give each "
                          "inner group (classroom) a label that is unique across outer groups (schools).")
    diffed = within_group_residuals(resid, outer)
    out = diffed.groupby(inner, sort=True).mean()
    out.index.name = inner.name
    return out.rename("mean_within_resid")


def within_group_pair_correlation(values, groups) -> float:
    """Pearson correlation over every ordered pair of two different rows in the same group.

    For the composite errors of a random-intercept model this estimates the ICC: the correlation
    of two students of the same school. Computed from group sums, without listing the pairs.
    """
    v, g = _aligned(values, groups)
    by = v.groupby(g)
    n = by.size().to_numpy(dtype=float)
    s1 = by.sum().to_numpy()
    s2 = (v ** 2).groupby(g).sum().to_numpy()
    pairs = np.sum(n * (n - 1))
    if pairs == 0:
        raise CourseError("No group has two rows, so there are no pairs within a group to correlate.")
    mean = np.sum((n - 1) * s1) / pairs
    var = np.sum((n - 1) * s2) / pairs - mean ** 2
    cov = np.sum(s1 ** 2 - s2) / pairs - mean ** 2
    return float(cov / var)
