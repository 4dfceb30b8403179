"""The numbers the data explorations show, from the chapter's models (``mlmcourse.chapter``).

The explorations on the classroom data call these with the widget values; the expensive part (the
lmer fits) happens once per data set in the chapter's one fit cache, every later slider or
dropdown move reads it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import chapter
from ..data import MODEL_COLUMNS
from ..engine.ols import LmFit, least_squares
from ..errors import CourseError
from ..residuals import group_mean_residuals
from .sim import NoisePanel, noise_from_effects

LEVELS = ("school", "classroom", "residual")
MODEL_LABELS = tuple(chapter.BY_LABEL)   # the menu labels of the chapter's models, in the handout's order
RI_MODEL = chapter.RI_MODEL


def require_classroom(data) -> pd.DataFrame:
    """Return the data an exploration draws from: a copy of the classroom data frame.

    A copy, so that the exploration's later states (built on first use) show the data as they were
    when it was created, whatever the notebook does to its frame afterwards.
    """
    _check_classroom(data)
    return data.copy()


def _check_classroom(data) -> None:
    """Check that the data is the classroom data frame the explorations take; say so plainly otherwise."""
    if not isinstance(data, pd.DataFrame):
        raise CourseError(
            f"The exploration needs the classroom data as a DataFrame, not a {type(data).__name__}: "
            "run `dat = load_classroom()` and pass `dat`."
        )
    _require(data, MODEL_COLUMNS)


def _require(data: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise CourseError(
            f"The data has no column(s) {', '.join(missing)}. The explorations need the classroom "
            "data as load_classroom() returns it: run `dat = load_classroom()` and pass `dat`."
        )


def chapter_fit(data: pd.DataFrame, label: str):
    """Return the fitted chapter model called ``label``, from the chapter's one fit cache.

    An lmer model, or an lm fit for the OLS one.
    """
    if label not in chapter.BY_LABEL:
        raise CourseError(f"'{label}' is not one of the chapter's models: choose one of {list(MODEL_LABELS)}.")
    _check_classroom(data)
    return chapter.chapter_fit(data, label)


def _intercept_and_slope(fixef: pd.Series, predictor: str) -> tuple[float, float]:
    """(intercept, slope) from a fixef Series, whatever the intercept's label."""
    return float(fixef.iloc[0]), float(fixef[predictor])


def _school_effects(m) -> pd.Series:
    """Return the fitted model's school effects (first column of ranef), indexed by the level's text."""
    effects = m.ranef["schoolid"].iloc[:, 0]
    return pd.Series(effects.to_numpy(float), index=[str(i) for i in effects.index])


# --- variance partition ------------------------------------------------------------------------

def variance_partition(fit) -> pd.DataFrame:
    """School / classroom / residual variance of a fitted model, with shares that sum to 1."""
    if isinstance(fit, LmFit):          # OLS: everything is residual
        var = {"school": 0.0, "classroom": 0.0, "residual": fit.sigma ** 2}
    else:
        vc = fit.varcorr
        var = dict.fromkeys(LEVELS, 0.0)
        for group, variance in zip(vc["Groups"], vc["Variance"]):
            if group == "Residual":
                var["residual"] += float(variance)
            elif group.startswith("classid"):
                var["classroom"] += float(variance)
            elif group.startswith("schoolid"):
                var["school"] += float(variance)
            else:
                raise CourseError(f"The variance partition knows schools and classrooms, not '{group}'.")
    out = pd.DataFrame({"variance": pd.Series(var)}).loc[list(LEVELS)]
    out["share"] = out["variance"] / out["variance"].sum()
    return out


def partition_table(data: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """One row per chapter model of ``outcome``: the variance of each level (long format)."""
    rows = []
    for label in MODEL_LABELS:
        if not label.startswith(outcome + " "):
            continue
        part = variance_partition(chapter_fit(data, label))
        for level, r in part.iterrows():
            rows.append({"model": label, "level": level, "variance": r["variance"], "share": r["share"]})
    if not rows:
        raise CourseError(f"No chapter model has the outcome '{outcome}'.")
    return pd.DataFrame(rows)


# --- random intercepts vs separate regressions ------------------------------------------------

@dataclass(frozen=True)
class SchoolLines:
    """Everything the separate-regressions figure draws for one school."""

    school: int
    points: pd.DataFrame            # the school's students: ses, mathkind
    others: pd.DataFrame            # every other student (background)
    fixed: tuple[float, float]      # mixed model's average line: intercept, slope
    random_intercept: tuple[float, float]   # the school's line in the mixed model
    own_ols: tuple[float, float] | None     # the school's separate regression (None: not estimable)
    pooled_ols: tuple[float, float]         # OLS ignoring schools
    all_slopes: pd.DataFrame        # every school: n, own OLS slope (for the second panel)


def own_ols_lines(data: pd.DataFrame, outcome: str = "mathkind", predictor: str = "ses") -> pd.DataFrame:
    """Each school's separate regression: n, intercept, slope (NaN when not estimable)."""
    rows = []
    for school, g in data.groupby("schoolid", sort=True):
        x, y = g[predictor].to_numpy(float), g[outcome].to_numpy(float)
        if len(g) >= 3 and np.ptp(x) > 0:
            slope, intercept = np.polyfit(x, y, 1)
        else:
            slope = intercept = np.nan
        rows.append({"schoolid": school, "n": len(g), "intercept": intercept, "slope": slope})
    return pd.DataFrame(rows).set_index("schoolid")


def school_slopes(data: pd.DataFrame) -> pd.DataFrame:
    """:func:`own_ols_lines` of the data, computed once per data set (the chapter's cache)."""
    return chapter.cached(data, "own_ols_lines", own_ols_lines)


def pooled_ols_line(data: pd.DataFrame, outcome: str = "mathkind", predictor: str = "ses") -> tuple[float, float]:
    """Return (intercept, slope) of the OLS regression that ignores schools.

    That is the chapter's OLS model, ``mathkind ~ ses``, solved directly: two numbers do not need
    statsmodels' import.
    """
    rows = data[[predictor, outcome]].dropna()
    X = np.column_stack([np.ones(len(rows)), rows[predictor].to_numpy(float)])
    intercept, slope = least_squares(X, rows[outcome]).beta
    return float(intercept), float(slope)


def school_lines(data: pd.DataFrame, school: int) -> SchoolLines:
    """Return what the separate-regressions figure draws for one school."""
    _require(data, ["mathkind", "ses", "schoolid"])
    m = chapter_fit(data, RI_MODEL)
    pooled = chapter.cached(data, "pooled_ols_line", pooled_ols_line)
    slopes = school_slopes(data)
    if school not in slopes.index:
        raise CourseError(f"There is no school {school!r} in the data; choose one from the list.")
    b0, b1 = _intercept_and_slope(m.fixef, "ses")
    zeta = float(_school_effects(m).loc[str(school)])
    own = slopes.loc[school]
    own_line = None if np.isnan(own["slope"]) else (float(own["intercept"]), float(own["slope"]))
    mine = data["schoolid"] == school
    return SchoolLines(
        school=int(school), points=data.loc[mine, ["ses", "mathkind"]],
        others=data.loc[~mine, ["ses", "mathkind"]], fixed=(b0, b1),
        random_intercept=(b0 + zeta, b1), own_ols=own_line,
        pooled_ols=pooled, all_slopes=slopes,
    )


# --- following the noise, on the classroom data -------------------------------------------------

def noise_panel_data(data: pd.DataFrame) -> NoisePanel:
    """Schools of the classroom data: mean OLS residual per school beside the lmer BLUPs."""
    _require(data, ["mathkind", "ses", "schoolid"])
    m = chapter_fit(data, RI_MODEL)
    ols = chapter_fit(data, chapter.OLS_MODEL)
    constructed = group_mean_residuals(ols.resid, data.loc[ols.resid.index, "schoolid"]).to_numpy()
    sizes = data.groupby("schoolid", sort=True).size()
    blups = _school_effects(m).reindex([str(s) for s in sizes.index])
    if blups.isna().any():
        raise CourseError("The mixed model has no effect for some schools of the data; refit it on the same data.")
    vc = m.varcorr
    sigma_zeta = float(vc.loc[vc["Groups"] == "schoolid", "Std.Dev."].iloc[0])
    return noise_from_effects(sizes.to_numpy(), constructed, blups.to_numpy(), sigma_zeta,
                              source="data", label="schools of the classroom data")
