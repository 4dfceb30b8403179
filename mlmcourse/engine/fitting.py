"""Fit a design: ``fit(design, REML, start) -> LmerModel`` (lme4's optimizeLmer + mkMerMod).

``refit`` fits a model again, ``model_at`` builds one at a given theta.

Two engines find theta: ``"lme4"`` (the default: BOBYQA on the profiled criterion, optimize.py)
and ``"statsmodels"`` (statsmodels MixedLM, smfit.py). Either way the result is an LmerModel.
``lmer(formula, data)`` (fit.py) builds the design and calls ``fit``.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import CourseError
from .callers import user_stacklevel
from .design import Design
from .fitted import LmerModel
from .optimize import SINGULAR_MESSAGE, SINGULAR_WHAT_TO_DO, WHAT_TO_DO, FitInfo, check_conv, optimize_theta
from .pls import ProfiledDeviance
from .threads import one_blas_thread

ENGINES = ("lme4", "statsmodels")


class ConvergenceWarning(UserWarning):
    """lme4-style warning: not converged, or a boundary (singular) fit."""


def check_flag(value, name: str) -> bool:
    """Check ``REML=``, ``refit=``: only True or False (R's TRUE/FALSE), never a string or a number."""
    if not isinstance(value, (bool, np.bool_)):
        raise CourseError(f"{name}= must be True or False, not {value!r}.")
    return bool(value)


def check_engine(engine) -> str:
    """Check ``engine=``: "lme4" (the default) or "statsmodels"."""
    if isinstance(engine, str) and engine.strip().lower() in ENGINES:
        return engine.strip().lower()
    raise CourseError(
        f"engine= must be \"lme4\" or \"statsmodels\", not {engine!r}. \"lme4\" (the default) is "
        "the course's own fit, which reproduces lme4/lmerTest's numbers; \"statsmodels\" fits the "
        "same model with statsmodels MixedLM, for comparison. R itself is never called: for "
        "lme4's results use the default, e.g. lmer(\"mathkind ~ ses + (1|schoolid)\", data=dat).")


def fit_warnings(info) -> list[str]:
    """Return what lme4 says at fit time: optimizer warnings, then checkConv's messages.

    Each comes with one sentence on what the student can do.
    """
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
    """Optimise the profiled REML criterion (or ML deviance) of ``design`` over theta.

    Returns the fitted model; warns as lme4 does when the fit did not converge or is singular.

    ``engine="statsmodels"`` lets statsmodels MixedLM find the estimates (see smfit.py);
    ``optimizer`` (lme4 engine) is one of optimize.OPTIMIZERS, "nloptwrap" as in lme4.
    """
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
    """Build the model at a given theta, with no optimiser run (as MixedModels.jl's ``setθ!``).

    lme4's checkConv is applied at that theta, so the printout is what lme4 prints for a fit that
    stopped there. Used to test printing apart from where an optimiser stops.
    """
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
    """Fit the same model again by the same engine, starting from its theta.

    E.g. by ML for a likelihood-ratio test, as lme4's refitML.
    """
    reml = model.REML if REML is None else check_flag(REML, "REML")
    return fit(model.design, REML=reml, start=model.theta, **model.fit_context())
