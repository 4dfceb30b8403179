"""Confidence intervals as lme4's ``confint()`` gives them.

By profile likelihood (the default) or by Wald, as a DataFrame in lme4's row order and with its
labels (``oldNames=FALSE``).

    confint(fit3)                      # profile, 95%
    confint(fit3, method="Wald")       # fixed effects only; the variance rows are NaN, as lme4's NA
    confint(fit3, parm="beta_", level=0.9)

Rows: the random-effect SDs (and correlations) in lme4's order, ``sigma``, the fixed effects.
Columns: the two tail probabilities as R names them (``2.5 %``, ``97.5 %``).
The profile intervals come from engine/profile.py.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..errors import CourseError
from .arguments import refuse_unsupported
from .profile import LikelihoodProfile, check_model, profile
from .sdcor import parameter_names

METHODS = {"profile": "profile", "wald": "Wald"}


def _check_method(method) -> str:
    if isinstance(method, str) and method.strip().lower() in METHODS:
        return method.strip().lower()
    extra = (" lme4's third method, \"boot\" (parametric bootstrap), is not part of the course."
             if isinstance(method, str) and method.strip().lower() == "boot" else "")
    raise CourseError(
        f"method= must be \"profile\" (the default: profile-likelihood intervals, as lme4) or "
        f"\"Wald\" (estimate +- z * standard error, fixed effects only), not {method!r}.{extra} "
        "For example: confint(fit3, method=\"Wald\").")


def check_level(level) -> float:
    """Return the confidence level as a float; refuse one not strictly between 0 and 1 (e.g. 95)."""
    ok = isinstance(level, (int, float, np.floating, np.integer)) and not isinstance(level, bool)
    if ok and 0.0 < float(level) < 1.0:
        return float(level)
    raise CourseError(
        f"level= is the confidence level, a number strictly between 0 and 1, not {level!r}: "
        "level=0.95 gives 95% intervals (for 90%, write level=0.9, not 90).")


def column_names(level: float) -> list[str]:
    """Return R's names for the two columns (stats:::format.perc).

    format(100 * tail, digits=3, scientific=FALSE) and " %": one number of decimals, enough to
    show each value to 3 significant digits.
    """
    a = (1.0 - level) / 2.0
    values = [100 * a, 100 * (1 - a)]
    decimals = 0
    for x in values:
        mant, exp = f"{x:.2e}".split("e")
        nsig = len(mant.replace(".", "").rstrip("0")) or 1
        decimals = max(decimals, nsig - 1 - int(exp))
    return [f"{x:.{decimals}f} %" for x in values]


def select_parameters(parm, vnames: list[str], bnames: list[str]) -> list[str]:
    """Read lme4's ``parm``: the parameters whose intervals are asked for.

    None (all), a name or list of names, "theta_" (the variance parameters) or "beta_" (the
    fixed effects); lme4's old names .sig01, .sig02, ..., .sigma also work.
    """
    allnames = vnames + bnames
    if parm is None:
        return allnames
    items = [parm] if isinstance(parm, str) else parm
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items) \
            or not items:
        raise CourseError(
            f"parm= names the parameters to give intervals for, as text, not {parm!r}: for "
            f"example parm=\"{bnames[-1] if bnames else vnames[0]}\", parm=[...] with several, "
            "parm=\"theta_\" (the random-effect SDs and sigma) or parm=\"beta_\" (the fixed "
            f"effects). This model's parameters: {', '.join(allnames)}.")
    old = {f".sig{k + 1:02d}": n for k, n in enumerate(vnames[:-1])}
    old[".sigma"] = "sigma"
    chosen: set[str] = set()
    for item in items:
        if item == "theta_":
            chosen.update(vnames)
        elif item == "beta_":
            chosen.update(bnames)
        elif item in allnames or item in old:
            chosen.add(old.get(item, item))
        else:
            raise CourseError(
                f"parm={item!r} is not a parameter of this model. Its parameters, as lme4 names "
                f"them: {', '.join(allnames)}; or parm=\"theta_\" (the random-effect SDs and "
                "sigma) or parm=\"beta_\" (the fixed effects).")
    return [n for n in allnames if n in chosen]


def confint(model, parm=None, level: float = 0.95, method: str = "profile", **unsupported) -> pd.DataFrame:
    """Confidence intervals for a model's parameters, as lme4's ``confint(m, oldNames=FALSE)``.

    ``method="profile"`` (the default): profile-likelihood intervals. Each parameter is held at
    a value while the others are re-optimised, and the interval is where the deviance has risen
    by the chi-square(1) quantile (where zeta = +-1.96 at 95%). As in lme4, a REML fit is profiled
    by its ML refit, and an SD whose profile stays low down to 0 has lower end 0 (the boundary).
    ``method="Wald"``: estimate +- z * standard error for the fixed effects (the fit's own
    estimates and standard errors); the variance rows are NaN, as lme4's NA.

    ``parm``: a name or list of names ("sd_(Intercept)|schoolid", "sigma", "ses"), "theta_"
    (the random-effect parameters and sigma) or "beta_" (the fixed effects). ``level``: the
    confidence level, between 0 and 1. Returns a DataFrame with one row per parameter, in
    lme4's order, and the columns "2.5 %" and "97.5 %" (named for the level as R does).

    ``model`` may also be a profile (``profile(fit3)``, lme4's ``confint(profile(m))``): its
    evaluations are reused, e.g. by a later ``plot_profile``.

    Example: ``confint(fit3)`` or ``fit3.confint(method="Wald")``.
    """
    refuse_unsupported("confint", unsupported)
    prof = None
    if isinstance(model, LikelihoodProfile):
        prof, model = model, model.model
    check_model(model)
    method = _check_method(method)
    level = check_level(level)
    vnames, bnames = parameter_names(model)
    rows = select_parameters(parm, vnames, bnames)
    cols = column_names(level)
    out = pd.DataFrame(np.nan, index=pd.Index(rows), columns=cols)
    if method == "wald":
        z = norm.ppf(0.5 + level / 2.0)
        est = model.fixef
        se = np.sqrt(np.diag(model.vcov.to_numpy()))
        for j, name in enumerate(bnames):
            if name in out.index:
                out.loc[name] = [est.iloc[j] - z * se[j], est.iloc[j] + z * se[j]]
        return out
    prof = prof if prof is not None else profile(model)
    for name in rows:
        out.loc[name] = prof.interval(name, level)
    return out
