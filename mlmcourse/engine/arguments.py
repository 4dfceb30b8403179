"""lme4 arguments the course's lmer() and lm() do not take: one paragraph saying so, and what to
do instead, rather than Python's bare "unexpected keyword argument"."""
from __future__ import annotations

from ..errors import CourseError

_SPECIFIC = {
    "weights": ("lme4's prior weights (weights=) are not supported: the course fits unweighted models "
                "only, and a weighted fit would need other formulas throughout. Fit without weights, "
                "or use a tool that supports them (statsmodels' WLS for a regression, R's lme4 for a "
                "mixed model)"),
    "offset": ("offsets (offset=, or offset() in a formula) are not supported: an offset is a term "
               "whose coefficient is fixed at 1, and adding the column as a predictor instead would "
               "estimate its coefficient, a different model. Model the difference as the outcome: for "
               "an offset of mathkind, the outcome mathgain (the spring score minus mathkind); in "
               "general dat['y_minus_x'] = dat['y'] - dat['x']"),
}
ARGUMENTS = {"lmer": "formula, data, REML, subset and engine", "lm": "formula and data"}


def refuse_unsupported(function: str, given: dict) -> None:
    """Raise CourseError when ``given`` (the keyword arguments beyond the course's) is not empty."""
    if not given:
        return
    name = next(iter(given))
    r_name = name.replace("_", ".")
    what = _SPECIFIC.get(name, f"lme4's {r_name}= is not supported by the course")
    raise CourseError(f"{function}() was given {name}=, which it does not take: {what}. The "
                      f"arguments of {function}() are {ARGUMENTS[function]}.")
