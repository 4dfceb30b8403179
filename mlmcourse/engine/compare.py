"""Model comparison: lme4's anova() (likelihood-ratio tests) and lmerTest's ranova()."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import patsy
from scipy import special

from ..errors import CourseError, CourseMessage
from ..rprint.summary import NOTE_PREFIX
from ..rprint.tables import AnovaTable
from .arguments import refuse_unsupported
from .callers import caller_name, user_stacklevel
from .design import build_design
from .fitted import LmerModel
from .fitting import check_flag, fit
from .fitting import refit as refit_model  # anova() has a parameter named refit
from .formula import RandomTerm, lhs_terms, r_power
from .ols import least_squares
from .threads import one_blas_thread


# -- what anova() needs: models of the same rows ----------------------------------------
def _rows(model) -> pd.DataFrame:
    """Return a model's observations as (row label, outcome value), in a fixed order.

    The order is fixed so that a shuffled copy of the same data compares equal.
    """
    rows = pd.DataFrame({"label": np.asarray(model.design.data.index, dtype=object),
                         "y": np.asarray(model.design.y, dtype=float)})
    try:
        return rows.sort_values(["label", "y"], kind="mergesort", ignore_index=True)
    except TypeError:  # labels of mixed types: order them by their text
        rows["key"] = rows["label"].map(repr)
        return rows.sort_values(["key", "y"], kind="mergesort", ignore_index=True).drop(columns="key")


def _fitted_to(models, names) -> str:
    frames = [m.data_name or "an unnamed DataFrame" for m in models]
    if len(set(frames)) == 1:
        return ""
    return " (" + ", ".join(f"{n} was fitted to {f}" for n, f in zip(names, frames)) + ")"


def check_same_data(models, names) -> None:
    """Check that anova()'s models share their outcome and rows.

    A likelihood-ratio test needs models of the same outcome on the same rows: the same row
    labels with the same outcome values, in any order.
    """
    todo = ("Fit every model on the same rows, e.g. in_sample = complete_cases(dat, "
            "'mathgain ~ ses + mathknow') and lmer(..., subset=in_sample).")
    frames = _fitted_to(models, names)
    nobs = [m.nobs for m in models]
    if len(set(nobs)) > 1:
        detail = ", ".join(f"{n}: {k} rows" for n, k in zip(names, nobs))
        raise CourseError(
            f"models were not all fitted to the same size of dataset ({detail}){frames}. A "
            "likelihood-ratio test is only valid when both models use the same observations: rows "
            "with missing values in the larger model's variables were dropped. " + todo
        )
    first, ref = names[0], _rows(models[0])
    for model, name in zip(models[1:], names[1:]):
        rows = _rows(model)
        if not np.array_equal(rows["label"].to_numpy(), ref["label"].to_numpy()):
            other = int((~model.design.data.index.isin(models[0].design.data.index)).sum())
            raise CourseError(
                f"models were not all fitted to the same data: {first} and {name} have the same "
                f"number of rows but not the same rows ({other} of {name}'s {model.nobs} row labels "
                f"are not among {first}'s){frames}. A likelihood-ratio test compares models of the "
                "same observations: fit every model to the same DataFrame with the same subset=."
            )
        a, b = ref["y"].to_numpy(), rows["y"].to_numpy()
        scale = max(float(np.max(np.abs(a))), 1.0)
        if not np.allclose(a, b, rtol=1e-9, atol=1e-12 * scale):
            ya, yb = models[0].design.spec.response, model.design.spec.response
            if ya != yb:
                raise CourseError(
                    f"models were not all fitted to the same data: {first} models the outcome {ya}, "
                    f"{name} models {yb}{frames}. A likelihood-ratio test compares models of one "
                    "outcome: use the same outcome in every formula."
                )
            differ = int((~np.isclose(a, b, rtol=1e-9, atol=1e-12 * scale)).sum())
            raise CourseError(
                f"models were not all fitted to the same data: the outcome {ya} has other values in "
                f"{differ} of the {len(a)} rows (same row labels, different values){frames}, as if "
                "the column was changed or shuffled, or the rows renumbered (reset_index), between "
                "the fits. A likelihood-ratio test "
                "compares models of the same observations: fit every model to the same DataFrame."
            )


class RefitMessage(CourseMessage):
    """Warn as lme4's message "refitting model(s) with ML (instead of REML)".

    Given by anova() with refit=True: a warning, so that callers can filter it
    (warnings.simplefilter("ignore", RefitMessage)).
    """


class AnovaNote(CourseMessage):
    """Note a comparison anova() prints as lme4 does, but whose test is not valid.

    REML fits with different fixed effects compared with refit=False; models that are not
    nested.
    """


REML_FIXED_NOTE = (
    NOTE_PREFIX + "these REML fits have different fixed effects. A REML likelihood depends on the fixed "
    "effects' columns themselves, so the REML likelihoods of models with different fixed effects "
    "are not comparable and this likelihood-ratio test (and AIC/BIC) is not valid; the table shows "
    "what lme4 prints with refit = FALSE. Compare fixed effects with ML fits: anova(..., refit=True), "
    "the default.")

NOT_NESTED_NOTE = (
    NOTE_PREFIX + "{small} is not nested in {large} (its {part} cannot be written as a special case of "
    "{large}'s). The Chisq test and its p-value assume nested models, so they mean nothing here; "
    "lme4 prints them all the same. Compare non-nested models by AIC or BIC (smaller is better).")


def _row_orders(models):
    """Return, for each model, the positions of the first model's rows in its arrays.

    None when the row labels are not unique, so the rows cannot be matched.
    """
    first = models[0].design.data.index
    if not first.is_unique:
        return None
    orders = []
    for m in models:
        index = m.design.data.index
        if not index.is_unique:
            return None
        order = index.get_indexer(first)
        if (order < 0).any():
            return None
        orders.append(order)
    return orders


def _spanned(A: np.ndarray, B: np.ndarray) -> bool:
    """Every column of A lies in the span of B's columns (to 1e-6 of the column's length)."""
    if A.shape[1] == 0:
        return True
    if B.shape[1] == 0:
        return False
    scale = np.linalg.norm(A, axis=0)
    r = A - B @ np.linalg.lstsq(B, A, rcond=None)[0]
    return bool(np.all(np.linalg.norm(r, axis=0) <= 1e-6 * np.where(scale > 0, scale, 1.0)))


def _same_groups(a: np.ndarray, b: np.ndarray) -> bool:
    """Return True when the two level codings make the same groups of rows."""
    pairs = len(set(zip(a.tolist(), b.tolist())))
    return pairs == len(set(a.tolist())) == len(set(b.tolist()))


def _not_nested_part(small, large, order_s, order_l) -> str | None:
    """Return which part of ``small`` is not a special case of ``large``.

    'fixed effects' or 'random effects', or None when small is nested in large (or the check
    cannot tell).
    """
    Xs, Xl = small.design.X[order_s], large.design.X[order_l]
    if not _spanned(Xs, Xl):
        return "fixed effects"
    for ts in small.design.terms:
        codes = ts.codes[order_s]
        same = [tl for tl in large.design.terms if _same_groups(codes, tl.codes[order_l])]
        cols = np.hstack([tl.X[order_l] for tl in same]) if same else np.zeros((len(codes), 0))
        if not _spanned(ts.X[order_s], cols):
            return "random effects"
    return None


def _differ_in_fixed_effects(models, orders) -> bool:
    first = models[0].design
    for m, order in zip(models[1:], orders[1:]):
        X0, X = first.X[orders[0]], m.design.X[order]
        if list(first.xnames) != list(m.design.xnames) or X.shape != X0.shape or not np.allclose(X, X0):
            return True
    return False


def _lr_pvalue(chisq: float, df: float) -> float:
    if not np.isfinite(chisq) or df <= 0:
        return np.nan
    return float(special.chdtrc(df, chisq))  # chi-square upper tail (scipy.stats imports slowly)


def anova(*models: LmerModel, refit: bool = True, names: list[str] | None = None,
          **unsupported) -> AnovaTable:
    """Likelihood-ratio tests of nested models, as lme4's ``anova(m1, m2, refit=)``.

    REML fits are refitted by ML first when ``refit=True`` (the default), as needed when the
    models differ in their fixed effects. Models must be fitted to the same rows.
    """
    refuse_unsupported("anova", unsupported)
    models = _models_to_compare(models)
    refit = check_flag(refit, "refit")
    if names is None:
        frame = inspect.currentframe().f_back
        names = [caller_name(m, frame) or f"model{i + 1}" for i, m in enumerate(models)]
    check_same_data(models, names)  # same size (lme4's check), same rows, same outcome values
    notes = []
    fits = list(models)
    if not refit and len({m.REML for m in fits}) > 1:
        notes.append("some models fit with REML = TRUE, some not: their likelihoods are not comparable")
        warnings.warn(notes[-1], UserWarning, stacklevel=2)
    if refit and any(m.REML for m in fits):
        fits = [refit_model(m, REML=False) if m.REML else m for m in fits]
        notes.append("refitting model(s) with ML (instead of REML)")
        warnings.warn(notes[-1], RefitMessage, stacklevel=user_stacklevel())
    orders = _row_orders(models)
    if (orders is not None and not refit and all(m.REML for m in models)
            and _differ_in_fixed_effects(models, orders)):
        notes.append(REML_FIXED_NOTE)
        warnings.warn(notes[-1], AnovaNote, stacklevel=user_stacklevel())
    order = np.argsort([m.npar for m in fits], kind="stable")
    fits = [fits[i] for i in order]
    names = [names[i] for i in order]
    if orders is not None:
        notes += _not_nested_notes(fits, names, [orders[i] for i in order])
    table = _lr_table(fits, names)
    table.heading = _heading(models[0], fits, names)
    table.attrs["notes"] = notes
    return table


def _models_to_compare(models: tuple) -> tuple:
    """Return anova()'s models (given one by one or as one list), checked: two or more lmer() fits."""
    if len(models) == 1 and isinstance(models[0], (list, tuple)):
        models = tuple(models[0])
    if len(models) < 2:
        raise CourseError("anova() compares two or more models: anova(m1, m2). "
                          "For the tests of one model's random effects use ranova(m).")
    for m in models:
        if not isinstance(m, LmerModel):
            raise CourseError(f"anova() takes models from lmer(); got {type(m).__name__}.")
    return models


def _not_nested_notes(fits: list, names: list[str], ordered: list) -> list[str]:
    """Warn, and return the notes, for each test between models that are not nested.

    ``fits`` are sorted by their number of parameters; ``ordered`` holds their row orders.
    """
    notes = []
    for k in range(1, len(fits)):
        if fits[k].npar <= fits[k - 1].npar:
            continue  # no test (Df 0): nothing to warn about
        part = _not_nested_part(fits[k - 1], fits[k], ordered[k - 1], ordered[k])
        if part:
            notes.append(NOT_NESTED_NOTE.format(small=names[k - 1], large=names[k], part=part))
            warnings.warn(notes[-1], AnovaNote, stacklevel=user_stacklevel())
    return notes


def _lr_table(fits: list, names: list[str]) -> AnovaTable:
    """Return lme4's anova table: each model's fit, and the test of each against the one before."""
    ll = np.array([m.loglik for m in fits])
    npar = np.array([m.npar for m in fits])
    chisq = np.r_[np.nan, 2 * np.maximum(0, np.diff(ll))]
    df = np.r_[np.nan, np.diff(npar)].astype(float)
    p = [np.nan] + [_lr_pvalue(c, d) for c, d in zip(chisq[1:], df[1:])]
    return AnovaTable({
        "npar": npar, "AIC": [m.aic for m in fits], "BIC": [m.bic for m in fits],
        "logLik": ll, "deviance": -2 * ll, "Chisq": chisq, "Df": df, "Pr(>Chisq)": p,
    }, index=names)


def _heading(first: LmerModel, fits: list, names: list[str]) -> str:
    """Return the lines lme4 prints above the table: the data, the subset, the models."""
    head = []
    if first.data_name:
        head.append(f"Data: {first.data_name}")
    if first.subset_name:
        head.append(f"Subset: {first.subset_name}")
    head.append("Models:")
    head += [f"{n}: {m.formula}" for n, m in zip(names, fits)]
    return "\n".join(head)


def _lm_loglik(design, reml: bool) -> float:
    """Log-likelihood of the linear model without random effects (R's logLik.lm)."""
    X, y = design.X, design.y
    n, p = X.shape
    rss = float(least_squares(X, y).rss)
    if not reml:
        return -0.5 * n * (np.log(2 * np.pi) + 1 - np.log(n) + np.log(rss))
    N = n - p
    _, logdet = np.linalg.slogdet(X.T @ X)
    return -0.5 * N * (np.log(2 * np.pi) + 1 - np.log(N) + np.log(rss)) - 0.5 * logdet


def _reductions(term: RandomTerm) -> list[tuple[RandomTerm | None, str]]:
    """Return the reduced models of lmerTest's reduce.terms.

    Each variable of a term is dropped in turn ('x in (1 + x | g)', and a term left with no
    variable keeps a random intercept); a plain (1 | g) is removed.
    """
    terms = lhs_terms(term.lhs)
    variables = [t.name() for t in terms if t != patsy.INTERCEPT]
    if not variables:
        return [(None, term.label)]
    out = []
    intercept = patsy.INTERCEPT in terms
    for v in variables:
        rest = [w for w in variables if w != v]
        lhs = " + ".join((["1"] if intercept or not rest else ["0"]) + rest)
        out.append((RandomTerm(lhs=lhs, group=term.group, source=term.source),
                    f"{r_power(v)} in {term.label}"))
    return out


@one_blas_thread
def ranova(model: LmerModel, **unsupported) -> AnovaTable:
    """Likelihood-ratio tests for each random-effects term, as lmerTest's ``ranova(m)``.

    Each term is dropped (or a random slope reduced to a random intercept) in turn; the
    reduced model is fitted by the same method (REML or ML). When no random effect is left the
    comparison uses the linear model's likelihood (REML for a REML fit), as lmerTest does.
    """
    refuse_unsupported("ranova", unsupported)
    if not isinstance(model, LmerModel):
        raise CourseError(f"ranova() takes one model from lmer(); got {type(model).__name__}.")
    spec = model.design.spec
    terms = list(spec.random)  # formula order, as lmerTest lists them
    rows = {"<none>": (model.npar, model.loglik)}
    rows_used = model.design.data  # the reduced models use exactly the full model's rows
    for i, term in enumerate(terms):
        for reduced, label in _reductions(term):
            others = [t for j, t in enumerate(terms) if j != i]
            # as in R's formulas, a term identical to one already there is not added twice
            same = reduced is not None and any(
                (t.group, t.lhs.replace(" ", "")) == (reduced.group, reduced.lhs.replace(" ", "")) for t in others)
            new_terms = others + ([reduced] if reduced is not None and not same else [])
            if new_terms:
                sub = fit(build_design(spec.with_random(new_terms), rows_used), REML=model.REML,
                          engine=model.engine)
                rows[label] = (sub.npar, sub.loglik)
            else:
                rows[label] = (model.design.p + 1, _lm_loglik(model.design, model.REML))
    labels = list(rows)
    npar = np.array([rows[k][0] for k in labels], dtype=float)
    ll = np.array([rows[k][1] for k in labels])
    lrt = np.r_[np.nan, 2 * (ll[0] - ll[1:])]
    df = np.r_[np.nan, npar[0] - npar[1:]]
    p = [np.nan] + [_lr_pvalue(c, d) for c, d in zip(lrt[1:], df[1:])]
    table = AnovaTable({"npar": npar.astype(int), "logLik": ll, "AIC": -2 * ll + 2 * npar,
                        "LRT": lrt, "Df": df, "Pr(>Chisq)": p}, index=labels)
    table.heading = ("ANOVA-like table for random-effects: Single term deletions\n\nModel:\n"
                     + spec.expanded)
    return table
