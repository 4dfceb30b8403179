"""Fit from a formula: ``lmer(formula, data)`` is lFormula (``build_design``), then ``fit``.

``fit``, ``refit``, ``model_at`` and the checks of their arguments live in fitting.py and are
importable from here too.
"""
from __future__ import annotations

import inspect

import pandas as pd

from .arguments import refuse_unsupported
from .callers import caller_name
from .design import build_design
from .fitted import LmerModel
from .fitting import (
    ENGINES,
    ConvergenceWarning,
    check_engine,
    check_flag,
    fit,
    fit_warnings,
    model_at,
    refit,
)

__all__ = ["ENGINES", "ConvergenceWarning", "check_engine", "check_flag", "fit", "fit_warnings",
           "lmer", "model_at", "refit"]


def lmer(formula: str, data: pd.DataFrame, REML: bool = True, subset=None,
         engine: str = "lme4", **unsupported) -> LmerModel:
    """Fit a linear mixed model from an lme4 formula, e.g. ``"mathkind ~ ses + (1|schoolid)"``.

    REML=True (the default, as in lme4) or False for maximum likelihood. ``subset`` is a
    True/False value per row (e.g. from ``complete_cases``). Rows with a missing value in any
    variable of the formula are dropped, as lme4 does, and the summary counts them.

    ``engine="lme4"`` (the default) is the course's own lme4-exact fit. ``engine="statsmodels"``
    builds the same model as a statsmodels ``MixedLM`` (engine/smbridge.py) and lets statsmodels
    find the estimates (engine/smfit.py: lbfgs, checked, polished by bfgs or retried by Nelder-Mead when needed);
    formulas statsmodels cannot express raise CourseError. Either way you get the same kind of
    model: summary(), coef_table, varcorr, ranef, anova, ranova and icc work, and ``m.engine``
    says which engine fitted it. With statsmodels, the standard errors and Satterthwaite df
    are still the course's (lmerTest's formulas evaluated at statsmodels' estimates):
    statsmodels gives no df, and its own standard errors come from the joint Hessian of all
    parameters; they are in ``m.statsmodels_result.bse_fe`` for a side-by-side comparison.
    """
    refuse_unsupported("lmer", unsupported)  # weights=, offset=, control=, ...: said, not a TypeError
    check_flag(REML, "REML")
    engine = check_engine(engine)
    frame = inspect.currentframe().f_back
    data_name = caller_name(data, frame) if isinstance(data, pd.DataFrame) else None
    subset_name = caller_name(subset, frame) if subset is not None else None
    if subset is not None and subset_name is None:
        subset_name = "subset"
    design = build_design(formula, data, subset=subset)
    return fit(design, REML=REML, data_name=data_name, subset_name=subset_name,
               source_data=data, subset=subset, engine=engine)

