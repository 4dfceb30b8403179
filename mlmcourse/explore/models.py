"""The chapter's models, fitted once (lazily) and cached, and the numbers the data explorations show.

The explorations on the classroom data call these with the widget values; the expensive part (the
lmer fits) happens once per data set, every later slider or dropdown move reads the cache.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import CourseError
from .fastfit import group_mean_residuals, ols_residuals
from .sim import NoisePanel, noise_from_effects

# The chapter's models, in the order the handout fits them. "subset" names a row filter.
CHAPTER_MODELS = {
    "mathkind ~ ses (OLS, no school effects)": ("mathkind ~ ses", None, "ols"),
    "mathkind ~ ses + (1|schoolid)": ("mathkind ~ ses + (1|schoolid)", None, "lmer"),
    "mathkind ~ ses + (1|schoolid/classid)": ("mathkind ~ ses + (1|schoolid/classid)", None, "lmer"),
    "mathgain ~ (1|schoolid)": ("mathgain ~ (1|schoolid)", None, "lmer"),
    "mathgain ~ (1|schoolid/classid)": ("mathgain ~ (1|schoolid/classid)", None, "lmer"),
    "mathgain ~ 1 + (1|schoolid/classid), complete cases":
        ("mathgain ~ 1 + (1|schoolid/classid)", "in_sample", "lmer"),
    "mathgain ~ ses + mathknow + (1|schoolid/classid), complete cases":
        ("mathgain ~ ses + mathknow + (1|schoolid/classid)", "in_sample", "lmer"),
}
RI_MODEL = "mathkind ~ ses + (1|schoolid)"   # the random-intercept model of sections 2.1.1-2.1.2
LEVELS = ("school", "classroom", "residual")

_FITS: dict = {}


CLASSROOM_COLUMNS = ("mathkind", "mathgain", "ses", "mathknow", "schoolid", "classid")
MAX_CACHED_FITS = 40      # about five data sets' worth of chapter models


def require_classroom(data) -> pd.DataFrame:
    """The explorations on data take the classroom data frame; say so plainly otherwise."""
    if not isinstance(data, pd.DataFrame):
        raise CourseError(
            f"The exploration needs the classroom data as a DataFrame, not a {type(data).__name__}: "
            "run `dat = load_classroom()` and pass `dat`."
        )
    _require(data, CLASSROOM_COLUMNS)
    return data


def data_key(data: pd.DataFrame) -> int:
    """A fingerprint of the data's contents, so that the cache follows the data, not the object."""
    if not isinstance(data, pd.DataFrame):
        raise CourseError("Pass the classroom data (the DataFrame from load_classroom()) to the exploration.")
    return int(pd.util.hash_pandas_object(data, index=True).sum())


def _require(data: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise CourseError(
            f"The data has no column(s) {', '.join(missing)}. The explorations need the classroom "
            "data as load_classroom() returns it: run `dat = load_classroom()` and pass `dat`."
        )


def _in_sample(data: pd.DataFrame) -> pd.Series:
    """Rows with mathgain, ses and mathknow all observed (the handout's in_sample)."""
    return data[["mathgain", "ses", "mathknow"]].notna().all(axis=1)


def chapter_fit(data: pd.DataFrame, label: str):
    """The fitted chapter model called ``label`` (an lmer model, or an OLS summary dict)."""
    if label not in CHAPTER_MODELS:
        raise CourseError(f"'{label}' is not one of the chapter's models: choose one of {list(CHAPTER_MODELS)}.")
    key = (data_key(data), label)
    if key not in _FITS:
        formula, subset, kind = CHAPTER_MODELS[label]
        require_classroom(data)
        mask = _in_sample(data) if subset == "in_sample" else None
        if kind == "ols":
            _FITS[key] = _ols_fit(data, formula)
        else:
            lmer = _lmer()
            fit = lmer(formula, data=data, subset=mask) if mask is not None else lmer(formula, data=data)
            if len(_FITS) >= MAX_CACHED_FITS:
                _FITS.pop(next(iter(_FITS)))
            _FITS[key] = fit
    return _FITS[key]


def _lmer():
    """The modeling core's lmer (imported late: only the data explorations need it)."""
    try:
        from .. import lmer
    except ImportError:
        from ..engine.model import lmer
    return lmer


def _intercept_and_slope(fixef: pd.Series, predictor: str) -> tuple[float, float]:
    """(intercept, slope) from a fixef Series, whatever the intercept's label."""
    return float(fixef.iloc[0]), float(fixef[predictor])


def _school_effects(m) -> pd.Series:
    """The fitted model's school effects (first column of ranef), indexed by the level's text."""
    effects = m.ranef["schoolid"].iloc[:, 0]
    return pd.Series(effects.to_numpy(float), index=[str(i) for i in effects.index])


def _ols_fit(data: pd.DataFrame, formula: str) -> dict:
    outcome, predictor = (s.strip() for s in formula.split("~"))
    rows = data[[outcome, predictor]].dropna()
    X = np.column_stack([np.ones(len(rows)), rows[predictor].to_numpy(float)])
    y = rows[outcome].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    return {"fixef": pd.Series(beta, index=["(Intercept)", predictor]),
            "sigma2": float(resid @ resid / (len(y) - 2)), "nobs": len(y)}


def clear_cache() -> None:
    _FITS.clear()


# --- variance partition ------------------------------------------------------------------------

def variance_partition(fit) -> pd.DataFrame:
    """School / classroom / residual variance of a fitted model, with shares that sum to 1."""
    if isinstance(fit, dict):           # OLS: everything is residual
        var = {"school": 0.0, "classroom": 0.0, "residual": fit["sigma2"]}
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
    for label in CHAPTER_MODELS:
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


_SLOPES: dict = {}


def school_lines(data: pd.DataFrame, school: int) -> SchoolLines:
    _require(data, ["mathkind", "ses", "schoolid"])
    m = chapter_fit(data, RI_MODEL)
    pooled = chapter_fit(data, "mathkind ~ ses (OLS, no school effects)")["fixef"]
    key = data_key(data)
    if key not in _SLOPES:
        _SLOPES[key] = own_ols_lines(data)
    slopes = _SLOPES[key]
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
        pooled_ols=_intercept_and_slope(pooled, "ses"), all_slopes=slopes,
    )


# --- following the noise, on the classroom data -------------------------------------------------

def noise_panel_data(data: pd.DataFrame) -> NoisePanel:
    """Schools of the classroom data: mean OLS residual per school beside the lmer BLUPs."""
    _require(data, ["mathkind", "ses", "schoolid"])
    m = chapter_fit(data, RI_MODEL)
    X = np.column_stack([np.ones(len(data)), data["ses"].to_numpy(float)])
    constructed = group_mean_residuals(ols_residuals(data["mathkind"], X), data["schoolid"])
    sizes = data.groupby("schoolid", sort=True).size()
    blups = _school_effects(m).reindex([str(s) for s in sizes.index])
    if blups.isna().any():
        raise CourseError("The mixed model has no effect for some schools of the data; refit it on the same data.")
    vc = m.varcorr
    sigma_zeta = float(vc.loc[vc["Groups"] == "schoolid", "Std.Dev."].iloc[0])
    return noise_from_effects(sizes.to_numpy(), constructed, blups.to_numpy(), sigma_zeta,
                              source="data", label="schools of the classroom data")
