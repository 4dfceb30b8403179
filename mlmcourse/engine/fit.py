"""Fitting is a function: ``fit(design, REML, start) -> LmerModel`` (lme4's optimizeLmer + mkMerMod),
and ``lmer(formula, data)`` is lFormula (``build_design``) followed by ``fit``."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd

from ..errors import CourseError
from .callers import caller_name
from .design import Design, build_design
from .model import LmerModel
from .optimize import optimize_theta
from .pls import ProfiledDeviance
from .threads import one_blas_thread


class ConvergenceWarning(UserWarning):
    """lme4-style warning: not converged, or a boundary (singular) fit."""


def check_flag(value, name: str) -> bool:
    """``REML=``, ``refit=``: only True or False (R's TRUE/FALSE), never a string or a number."""
    if not isinstance(value, (bool, np.bool_)):
        raise CourseError(f"{name}= must be True or False, not {value!r}.")
    return bool(value)


@one_blas_thread
def fit(design: Design, REML: bool = True, start: np.ndarray | None = None, *,
        data_name: str | None = None, subset_name: str | None = None,
        source_data: pd.DataFrame | None = None, subset=None) -> LmerModel:
    """Optimise the profiled REML criterion (or ML deviance) of ``design`` over theta and return
    the fitted model; warns as lme4 does when the fit did not converge or is singular."""
    reml = check_flag(REML, "REML")
    dev = ProfiledDeviance(design)
    info = optimize_theta(dev, reml, start=start)
    state = dev.solve(info.theta)
    for msg in info.messages:
        warnings.warn(msg, ConvergenceWarning, stacklevel=4)  # the caller of lmer()
    return LmerModel(design, reml, dev, info, state, data_name=data_name, subset_name=subset_name,
                     source_data=source_data, subset=subset)


def lmer(formula: str, data: pd.DataFrame, REML: bool = True, subset=None) -> LmerModel:
    """Fit a linear mixed model from an lme4 formula, e.g. ``"mathkind ~ ses + (1|schoolid)"``.

    REML=True (the default, as in lme4) or False for maximum likelihood. ``subset`` is a
    True/False value per row (e.g. from ``complete_cases``). Rows with a missing value in any
    variable of the formula are dropped, as lme4 does, and the summary counts them."""
    check_flag(REML, "REML")
    frame = inspect.currentframe().f_back
    data_name = caller_name(data, frame) if isinstance(data, pd.DataFrame) else None
    subset_name = caller_name(subset, frame) if subset is not None else None
    if subset is not None and subset_name is None:
        subset_name = "subset"
    design = build_design(formula, data, subset=subset)
    return fit(design, REML=REML, data_name=data_name, subset_name=subset_name,
               source_data=data, subset=subset)
