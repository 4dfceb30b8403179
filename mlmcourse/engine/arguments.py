"""Explain R arguments the course's functions do not take.

For lmer(), lm(), anova(), ranova(), icc(), profile(), all_fit(), confint() and m.summary(): one
paragraph saying what the argument does in R and what to do instead, rather than Python's bare
"unexpected keyword argument".
"""
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
# (function, argument): what it does in R, and what the course does instead
_BY_FUNCTION = {
    ("anova", "ddf"): (
        "lmerTest's anova(m, ddf=) chooses the denominator degrees of freedom of the F tests of one "
        "model's fixed effects (Satterthwaite's or Kenward-Roger's); the course's anova() only compares "
        "models by likelihood-ratio tests: for one model's fixed effects read the t tests with "
        "Satterthwaite's df in m.summary()"),
    ("anova", "type"): (
        "lmerTest's anova(m, type=) chooses the kind (I, II, III) of the F tests of one model's fixed "
        "effects; the course's anova() only compares models by likelihood-ratio tests: for one model's "
        "fixed effects read the t tests in m.summary()"),
    ("anova", "test"): (
        "R's test= chooses the test of an anova() table; lme4's anova of models always gives the "
        "likelihood-ratio (Chisq) test, and so does the course's: leave test= out"),
    ("ranova", "reduce_terms"): (
        "lmerTest's reduce.terms=FALSE removes each random term whole instead of first reducing a "
        "random slope to a random intercept; the course's ranova() always reduces (lmerTest's "
        "default): to test a whole term, fit the model without it and compare the two with "
        "anova(smaller, larger, refit=False)"),
    ("icc", "by_group"): (
        "the performance package's icc(by_group=TRUE) gives the share of the variance of each level "
        "of nesting; the course's icc() already gives one ICC per grouping factor (a pandas Series): "
        "call icc(m) and read its rows"),
    ("profile", "which"): (
        "lme4's profile(m, which=) profiles only some parameters ('beta_' the fixed effects, "
        "'theta_' the random-effect parameters); the course's profile() profiles them all. For the "
        "intervals of some parameters use confint(m, parm=\"beta_\") (or a list of names)"),
    ("all_fit", "verbose"): (
        "allFit's verbose= prints each optimizer's name as it runs; the course's all_fit() runs "
        "quietly and returns one table row per optimizer: leave verbose= out"),
    ("confint", "oldNames"): (
        "lme4's oldNames= chooses the labels of the variance parameters (.sig01, .sigma, or "
        "sd_(Intercept)|schoolid, sigma); the course always labels them as oldNames=FALSE does "
        "(sd_(Intercept)|schoolid, sigma), and parm= accepts either kind of name"),
    ("summary", "correlation"): (
        "lme4's print(summary(m), correlation=) shows or hides the Correlation of Fixed Effects; the "
        "course's summary shows it as lme4 does by default, and its parts are the model's attributes "
        "(m.coef_table, m.varcorr): print those for a shorter view"),
}
ARGUMENTS = {
    "lmer": "formula, data, REML, subset and engine", "lm": "formula and data",
    "anova": "the models, refit and names", "ranova": "the model alone", "icc": "the model alone",
    "profile": "the model alone", "all_fit": "the model, optimizers and start",
    "confint": "the model, parm, level and method",
}


def refuse_unsupported(function: str, given: dict) -> None:
    """Raise CourseError when ``given`` (the keyword arguments beyond the course's) is not empty."""
    if not given:
        return
    name = next(iter(given))
    r_name = name.replace("_", ".")
    what = _BY_FUNCTION.get((function, name)) or _SPECIFIC.get(
        name, f"R's {r_name}= is not supported by the course's {function}()")
    takes = (f"The arguments of {function}() are {ARGUMENTS[function]}." if function in ARGUMENTS
             else f"{function}() takes no argument.")
    raise CourseError(f"{function}() was given {name}=, which it does not take: {what}. {takes}")
