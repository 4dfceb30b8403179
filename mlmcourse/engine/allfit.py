"""all_fit(m): lme4's allFit, the remedy lme4 offers when its convergence check fails.

The same model is fitted again by several optimisers (NLopt's BOBYQA as nloptwrap, NLopt's
Nelder-Mead and Sbplx with nloptwrap's stops, scipy's L-BFGS-B, Nelder-Mead and Powell), each
from the fit's own estimates as allFit does (``start_from_mle = TRUE``), or from lme4's start
(``start="lme4"``). The table shows every optimiser's criterion, how far it is above the lowest,
lme4's checkConv messages at its end point, and its estimates. It never replaces the model: if
the optimisers agree to the printed digits, the fit's estimates can be trusted; if one reaches a
clearly lower criterion, refit with it (``fit(m.design, optimizer=...)``) or simplify the model.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import CourseError
from .arguments import refuse_unsupported
from .fitting import fit
from .optimize import OPTIMIZERS


def all_fit(model, optimizers=None, start: str = "fit", **unsupported) -> pd.DataFrame:
    """Refit ``model`` with each optimiser; one row per optimiser (the model itself first).

    ``optimizers``: one name or a list (default: all of OPTIMIZERS); lme4's allFit names bobyqa,
    nloptwrap.NLOPT_LN_BOBYQA, Nelder_Mead and optimx.L-BFGS-B run the course's optimiser of the
    same algorithm, shown by the course's name.
    """
    refuse_unsupported("all_fit", unsupported)
    if not hasattr(model, "design") or not hasattr(model, "optinfo"):
        raise CourseError(f"all_fit() takes a model from lmer(); got {type(model).__name__}.")
    names = _optimizer_names(optimizers)
    if start not in ("fit", "lme4"):
        raise CourseError(f"all_fit(start=...) is \"fit\" (the model's estimates, as lme4's "
                          f"allFit) or \"lme4\" (lme4's start values), not {start!r}.")
    context = dict(model.fit_context(), engine="lme4")
    theta0 = np.asarray(model.theta, float) if start == "fit" else None
    rows = [_row(f"(this fit: {model.optinfo.optimizer})", model)]
    for name in names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = fit(model.design, REML=model.REML, start=theta0, optimizer=name, **context)
        rows.append(_row(name, m))
    table = pd.DataFrame(rows).set_index("optimizer")
    crit = "REML criterion" if model.REML else "deviance"
    table.insert(1, "above lowest", table[crit] - table[crit].min())
    return table


# lme4's allFit names whose algorithm the course runs (the row shows the course's optimiser)
LME4_NAMES = {
    "bobyqa": "nloptwrap",                      # minqa's BOBYQA; NLopt's BOBYQA is the same algorithm
    "nloptwrap.NLOPT_LN_BOBYQA": "nloptwrap",   # nloptwrap's default algorithm: the same
    "Nelder_Mead": "nloptwrap.NLOPT_LN_NELDERMEAD",
    "optimx.L-BFGS-B": "scipy.L-BFGS-B",
}
_NOT_HERE = {"nlminbwrap": "the PORT library's nlminb", "nmkbw": "dfoptim's bounded Nelder-Mead"}


def _optimizer_names(optimizers) -> list[str]:
    """Return the optimisers to run: all (None), one name, or a list; lme4's names mapped to the course's."""
    if optimizers is None:
        return list(OPTIMIZERS)
    given = [optimizers] if isinstance(optimizers, str) else list(optimizers)
    names: list[str] = []
    for name in given:
        if not isinstance(name, str):
            raise CourseError(f"all_fit(optimizers=...) takes optimizer names (text), such as "
                              f"\"nloptwrap\"; it got {name!r}.")
        if name in _NOT_HERE:
            raise CourseError(
                f"all_fit(): lme4's optimizer {name!r} ({_NOT_HERE[name]}) is not available in the "
                "course; choose from " + ", ".join(OPTIMIZERS) + " (lme4's names bobyqa, Nelder_Mead "
                "and optimx.L-BFGS-B also work).")
        course = LME4_NAMES.get(name, name)
        if course not in OPTIMIZERS:
            raise CourseError(f"all_fit(): unknown optimizer {name!r}; choose from "
                              + ", ".join(OPTIMIZERS) + " (lme4's names bobyqa, Nelder_Mead and "
                              "optimx.L-BFGS-B also work).")
        if course not in names:
            names.append(course)
    return names


def _row(name: str, m) -> dict:
    crit = "REML criterion" if m.REML else "deviance"
    messages = [msg for msg in m.optinfo.messages] + list(m.optinfo.warnings)
    row = {"optimizer": name, crit: m.criterion,
           "checkConv": "; ".join(messages) if messages else "OK"}
    row.update({f"theta{i + 1}": t for i, t in enumerate(m.theta)})
    row.update(m.fixef.to_dict())
    row["sigma"] = m.sigma
    return row
