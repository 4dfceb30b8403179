"""mlmcourse: the helper package of the multilevel-models course.

Write the handout's lme4 formula in Python and get lme4/lmerTest's numbers::

    from mlmcourse import load_classroom, lmer, anova, ranova
    dat = load_classroom()
    m = lmer("mathkind ~ ses + (1|schoolid/classid)", data=dat)
    m.summary()
    confint(m)          # lme4's profile confidence intervals (profile(m): the profile itself)

The parts of the package, one subpackage each:

- ``engine``: lme4's stages (formula -> design -> penalized least squares -> optimiser ->
  fitted model -> inference -> comparison), OLS and the statsmodels bridge;
- ``rprint``: R's number formatting and the summary / anova layouts, as text and HTML;
- ``quiz``: the self-assessment widgets, question banks, live answers, answer storage, hand-in;
- ``explore``: the interactive explorations;
- ``tools``: slides and notebook execution.

At the top sit what the notebooks import directly: the data, the course's figure style and path
diagram (``plots``), the constructed effects the quiz computes (``residuals``), the chapter's
models and their one fit cache (``chapter``), lecture mode and the error notes (``errornotes``).
"""
from .data import load_classroom
from .errornotes import install_ipython_handler as _install_ipython_handler
from .errornotes import install_message_display as _install_message_display
from .errors import CourseError, CourseMessage

_install_ipython_handler()  # in IPython/Jupyter a CourseError shows as one short paragraph
_install_message_display()  # anova's "refitting model(s) with ML ..." prints as R prints it

# The engine's names, imported on first use: a part that fits no model (a question bank read and
# checked, the answer store, the command line's quick commands) runs without the engine and nlopt.
_ENGINE = {"all_fit": "allfit", "AnovaNote": "compare", "RefitMessage": "compare", "anova": "compare",
           "ranova": "compare", "confint": "confint", "lmer": "fit", "icc": "inference",
           "LmerModel": "fitted", "lm": "ols", "profile": "profile", "complete_cases": "rows"}


# The package's parts, imported when first named (``import mlmcourse; mlmcourse.plots``), as
# they were when the engine's names were imported eagerly.
_PARTS = ("chapter", "data", "engine", "errornotes", "errors", "explore", "lecture", "notebook",
          "plots", "quiz", "residuals", "rprint", "tools", "userfiles")


def __getattr__(name: str):
    """Import one of the engine's names, or a part of the package, when it is first asked for."""
    from importlib import import_module
    if name in _PARTS:
        return import_module(f".{name}", __name__)
    if name not in _ENGINE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".engine.{_ENGINE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the package's names, the engine's included before they are imported."""
    return sorted(set(globals()) | set(_ENGINE))


__all__ = [
    "AnovaNote",
    "CourseError",
    "CourseMessage",
    "LmerModel",
    "RefitMessage",
    "all_fit",
    "anova",
    "complete_cases",
    "confint",
    "icc",
    "lm",
    "lmer",
    "load_classroom",
    "profile",
    "ranova",
]
