"""Fitting is a function: ``fit(design, REML, start) -> LmerModel`` (lme4's optimizeLmer + mkMerMod),
and ``lmer(formula, data)`` is lFormula (``build_design``) followed by ``fit``.

Two engines find theta: ``"lme4"`` (the default: BOBYQA on the profiled criterion, optimize.py)
and ``"statsmodels"`` (statsmodels MixedLM, smfit.py). Either way the result is an LmerModel."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd

from ..errors import CourseError
from .arguments import refuse_unsupported
from .callers import caller_name, user_stacklevel
from .design import Design, build_design
from .model import LmerModel
from .optimize import SINGULAR_MESSAGE, SINGULAR_WHAT_TO_DO, WHAT_TO_DO, FitInfo, check_conv, optimize_theta
from .pls import ProfiledDeviance
from .threads import one_blas_thread

ENGINES = ("lme4", "statsmodels")


class ConvergenceWarning(UserWarning):
    """lme4-style warning: not converged, or a boundary (singular) fit."""


def check_flag(value, name: str) -> bool:
    """``REML=``, ``refit=``: only True or False (R's TRUE/FALSE), never a string or a number."""
    if not isinstance(value, (bool, np.bool_)):
        raise CourseError(f"{name}= must be True or False, not {value!r}.")
    return bool(value)


def check_engine(engine) -> str:
    """``engine=``: "lme4" (the default) or "statsmodels"."""
    if isinstance(engine, str) and engine.strip().lower() in ENGINES:
        return engine.strip().lower()
    raise CourseError(
        f"engine= must be \"lme4\" or \"statsmodels\", not {engine!r}. \"lme4\" (the default) is "
        "the course's own fit, which reproduces lme4/lmerTest's numbers; \"statsmodels\" fits the "
        "same model with statsmodels MixedLM, for comparison. R itself is never called: for "
        "lme4's results use the default, e.g. lmer(\"mathkind ~ ses + (1|schoolid)\", data=dat).")


def fit_warnings(info) -> list[str]:
    """What lme4 says at fit time (optimizer warnings, then checkConv's messages), each with one
    sentence on what the student can do."""
    out = []
    for msg in list(getattr(info, "warnings", [])) + list(info.messages):
        if msg == SINGULAR_MESSAGE:
            out.append(f"{msg}\n{SINGULAR_WHAT_TO_DO}")
        elif msg.startswith(SINGULAR_MESSAGE):
            out.append(msg)
        else:
            out.append(f"{msg}\n{WHAT_TO_DO}")
    return out


@one_blas_thread
def fit(design: Design, REML: bool = True, start: np.ndarray | None = None, *,
        data_name: str | None = None, subset_name: str | None = None,
        source_data: pd.DataFrame | None = None, subset=None, engine: str = "lme4",
        optimizer: str = "nloptwrap") -> LmerModel:
    """Optimise the profiled REML criterion (or ML deviance) of ``design`` over theta and return
    the fitted model; warns as lme4 does when the fit did not converge or is singular.

    ``engine="statsmodels"`` lets statsmodels MixedLM find the estimates (see smfit.py);
    ``optimizer`` (lme4 engine) is one of optimize.OPTIMIZERS, "nloptwrap" as in lme4."""
    reml = check_flag(REML, "REML")
    engine = check_engine(engine)
    dev = ProfiledDeviance(design)
    result = None
    if engine == "statsmodels":
        from .smfit import fit_statsmodels
        info, result = fit_statsmodels(dev, reml, start=start)
    else:
        info = optimize_theta(dev, reml, start=start, optimizer=optimizer)
    state = dev.solve(info.theta)
    for msg in fit_warnings(info):
        warnings.warn(msg, ConvergenceWarning, stacklevel=user_stacklevel())
    return LmerModel(design, reml, dev, info, state, data_name=data_name, subset_name=subset_name,
                     source_data=source_data, subset=subset, engine=engine,
                     statsmodels_result=result)


@one_blas_thread
def model_at(design: Design, theta, REML: bool = True) -> LmerModel:
    """The model at a given theta, with no optimiser run (as MixedModels.jl's ``setθ!``): lme4's
    checkConv is applied at that theta, so the printout is what lme4 prints for a fit that
    stopped there. Used to test printing apart from where an optimiser stops."""
    reml = check_flag(REML, "REML")
    dev = ProfiledDeviance(design)
    theta = np.asarray(theta, float)
    if theta.shape != dev.lower.shape:
        raise CourseError(f"theta must have {len(dev.lower)} values for this model, not {theta.size}.")
    f = lambda t: dev.profiled(np.asarray(t, float), reml)
    fval = f(theta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        singular, messages, grad = check_conv(f, theta, dev.lower, fval)
    info = FitInfo(theta=theta, criterion=float(fval), converged=not messages or singular,
                   singular=singular, gradient=grad, evaluations=0, messages=messages,
                   optimizer="nloptwrap")
    return LmerModel(design, reml, dev, info, dev.solve(theta))


def refit(model: LmerModel, REML: bool | None = None) -> LmerModel:
    """The same model fitted again by the same engine (e.g. by ML for a likelihood-ratio test,
    as lme4's refitML), starting from its theta."""
    reml = model.REML if REML is None else check_flag(REML, "REML")
    return fit(model.design, REML=reml, start=model.theta, **model.fit_context())


def update(model: LmerModel, formula: str, REML: bool | None = None) -> LmerModel:
    """A new model on the same data and subset, by the same engine (R's update())."""
    context = model.fit_context()
    if context["source_data"] is None:
        raise CourseError("This model does not know its data; call lmer() again instead.")
    design = build_design(formula, context["source_data"], subset=context["subset"])
    reml = model.REML if REML is None else check_flag(REML, "REML")
    return fit(design, REML=reml, **context)


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
    parameters; they are in ``m.statsmodels_result.bse_fe`` for a side-by-side comparison."""
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
