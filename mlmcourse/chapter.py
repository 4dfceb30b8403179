"""The chapter's models, fitted once: the one cache the quiz's live answers and the explorations share.

The handout fits seven models (``HANDOUT_MODELS``: a menu label, a formula and rows for each, not
fitted models), in this order; two of them on the rows where mathgain, ses and mathknow are all
observed (``in_sample``, so that their likelihoods can be compared)::

    from mlmcourse.chapter import chapter_fit, in_sample
    m = chapter_fit(dat, "mathkind ~ ses + (1|schoolid)")      # fitted on first use, then cached

The cache is keyed by the data's contents (not the object), the formula, REML and the row
subset, and holds at most ``MAX_CACHED_FITS`` fits (least recently used dropped first).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import pandas as pd

from .errors import CourseError

IN_SAMPLE_FORMULA = "mathgain ~ ses + mathknow"   # the largest model of the fixed-effects LRT
MAX_CACHED_FITS = 40                              # about five data sets' worth of chapter models


@dataclass(frozen=True)
class ChapterModel:
    """One model the chapter fits: how a menu names it, its formula, its rows and its kind."""

    label: str                # what a student sees in a menu
    formula: str
    subset: str | None = None  # None: every row; "in_sample": the complete cases of IN_SAMPLE_FORMULA
    kind: str = "lmer"        # "lmer" (lme4 engine) or "ols" (lm, no random effects)


HANDOUT_MODELS = (
    ChapterModel("mathkind ~ ses (OLS, no school effects)", "mathkind ~ ses", kind="ols"),
    ChapterModel("mathkind ~ ses + (1|schoolid)", "mathkind ~ ses + (1|schoolid)"),
    ChapterModel("mathkind ~ ses + (1|schoolid/classid)", "mathkind ~ ses + (1|schoolid/classid)"),
    ChapterModel("mathgain ~ (1|schoolid)", "mathgain ~ (1|schoolid)"),
    ChapterModel("mathgain ~ (1|schoolid/classid)", "mathgain ~ (1|schoolid/classid)"),
    ChapterModel("mathgain ~ 1 + (1|schoolid/classid), complete cases",
                 "mathgain ~ 1 + (1|schoolid/classid)", subset="in_sample"),
    ChapterModel("mathgain ~ ses + mathknow + (1|schoolid/classid), complete cases",
                 "mathgain ~ ses + mathknow + (1|schoolid/classid)", subset="in_sample"),
)
BY_LABEL = {m.label: m for m in HANDOUT_MODELS}
# the labels by name, in the handout's order (RI_MODEL: the random-intercept model of 2.1.1-2.1.2)
OLS_MODEL, RI_MODEL, NESTED_MODEL, GAIN_SCHOOL, GAIN_NESTED, GAIN_NULL_IN, GAIN_BLOCK_IN = BY_LABEL

_FITS: OrderedDict = OrderedDict()
_LOCK = threading.RLock()   # a quiz check and an exploration may ask at once


def in_sample(data: pd.DataFrame) -> pd.Series:
    """Return the handout's ``in_sample``: rows with mathgain, ses and mathknow all observed."""
    from .engine.rows import complete_cases
    return complete_cases(data, IN_SAMPLE_FORMULA)


SUBSETS = {"in_sample": in_sample}


def data_key(data: pd.DataFrame) -> int:
    """Fingerprint the data's contents, so that the cache follows the data, not the object."""
    if not isinstance(data, pd.DataFrame):
        raise CourseError("Pass the classroom data (the DataFrame from load_classroom()), "
                          f"not a {type(data).__name__}.")
    return int(pd.util.hash_pandas_object(data, index=True).sum())


def chapter_fit(data: pd.DataFrame, model: str, REML: bool = True, subset: str | None = None):
    """Return the fitted model, from the cache or fitted now.

    ``model`` is a label of ``HANDOUT_MODELS`` or any formula (then ``subset`` names a row subset,
    e.g. "in_sample"). A formula without ``|`` is fitted by ``lm``.
    """
    spec = BY_LABEL.get(model)
    if spec is not None and subset is not None and subset != spec.subset:
        raise CourseError(f"The chapter's model '{model}' is fitted to its own rows; leave out subset=.")
    if spec is None:
        kind = "lmer" if "|" in model else "ols"
        spec = ChapterModel(model, model, subset, kind)
    if spec.subset is not None and spec.subset not in SUBSETS:
        raise CourseError(f"Unknown row subset '{spec.subset}': use one of {', '.join(SUBSETS)}.")
    key = (data_key(data), spec.formula, bool(REML), spec.subset, spec.kind)
    with _LOCK:
        return _cached(key, spec, data, REML)


def cached(data: pd.DataFrame, name: str, compute):
    """Return ``compute(data)``, kept in the same bounded cache as the fits.

    For example the per-school regressions the separate-regressions exploration draws.
    """
    key = (data_key(data), name)
    with _LOCK:
        if key not in _FITS:
            _store(key, compute(data))
        _FITS.move_to_end(key)
        return _FITS[key]


def _store(key, value) -> None:
    _FITS[key] = value
    while len(_FITS) > MAX_CACHED_FITS:
        _FITS.popitem(last=False)


def _cached(key, spec: ChapterModel, data: pd.DataFrame, REML: bool):
    if key in _FITS:
        _FITS.move_to_end(key)
        return _FITS[key]
    if spec.kind == "ols":
        from .engine.ols import lm
        rows = data if spec.subset is None else data.loc[SUBSETS[spec.subset](data)]
        fitted = lm(spec.formula, data=rows)
    else:
        from .engine.fit import lmer
        mask = None if spec.subset is None else SUBSETS[spec.subset](data)
        fitted = lmer(spec.formula, data=data, REML=REML, subset=mask)
    _store(key, fitted)
    return fitted
