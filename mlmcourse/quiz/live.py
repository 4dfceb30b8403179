"""Live answers of the quiz: named computations on the classroom data, the student's own data
and the fitted models.

A question bank names one of these in ``answer_expr`` (or in a ``[[name]]`` placeholder of its
texts); the quiz computes it when the student checks, with the course's public API
(``lmer``, ``anova``, ``ranova``, ``icc``, ``complete_cases``, the variance table ``m.varcorr``), so
the expected answer is always the one the notebooks produce. Fits come from the chapter's one
cache (``mlmcourse.chapter``): each model is fitted once per process and data set, on first use.

Some questions are asked on data of the student's own, made from a seed: see
:mod:`mlmcourse.quiz.variants`. The lab quiz's and homework's computations are in
:mod:`mlmcourse.quiz.worked`.

Add a computation with the decorator::

    @computation("icc_school_mathgain", "ICC of schools, mathgain ~ (1|schoolid)")
    def _(ctx):
        return _icc(ctx.fit("mathgain ~ (1|schoolid)"), "schoolid")

    @computation("my_icc", "ICC in the student's sample", variant="bootstrap")
    def _(ctx):
        return _icc(ctx.fit("mathkind ~ ses + (1|schoolid)", data=ctx.variant("bootstrap")), "schoolid")
"""
from __future__ import annotations

import contextlib
import threading
import warnings
from collections import OrderedDict

import numpy as np
import pandas as pd

from .. import chapter
from ..chapter import SUBSETS, chapter_fit
from ..errors import CourseError
from ..residuals import group_mean_residuals
from .registry import COMPUTATIONS, Computation, _icc, _lrt, _sd_ratio, _var_ratio, _varcorr_row, computation  # noqa: F401
from .variants import VARIANTS, MinStd, check_seed, student_data  # noqa: F401 (MinStd: tests)


# -- the context: data, fits and values, each made once -----------------------------------------
class Context:
    """The classroom data, the student's data (from ``seed``), the fitted models and the computed
    values, each made once. Values that do not depend on the seed are shared by every context
    made with :meth:`for_seed` from this one."""

    def __init__(self, data=None, seed: int | None = None):
        self._box = {"data": data}            # shared with for_seed() copies (loaded lazily)
        self._values: dict = {}               # values that do not depend on the seed (shared)
        self._seeded: dict = {}               # this seed's values and data
        self._lock = threading.RLock()
        self._seed = None if seed is None else check_seed(seed)

    @property
    def seed(self) -> int | None:
        return self._seed

    def for_seed(self, seed: int | None) -> Context:
        """The same data and seed-free values, for another seed (``self`` if it is the same)."""
        seed = None if seed is None else check_seed(seed)
        if seed == self._seed:
            return self
        other = Context(seed=seed)
        other._box, other._values, other._lock = self._box, self._values, self._lock
        return other

    @property
    def data(self):
        with self._lock:
            if self._box["data"] is None:
                from ..data import load_classroom
                self._box["data"] = load_classroom()
            return self._box["data"]

    def variant(self, kind: str) -> pd.DataFrame:
        """The student's own data of one kind (see VARIANTS); needs a seed."""
        if self._seed is None:
            raise CourseError("This question is asked on data of your own, made from your seed, and "
                              "this quiz has no seed. Open the quiz with Quiz(chapter=2): it creates one.")
        with self._lock:
            key = ("data", kind)
            if key not in self._seeded:
                self._seeded[key] = student_data(kind, self._seed, self.data)
            return self._seeded[key]

    def fit(self, formula: str, REML: bool = True, subset: str | None = None, data=None):
        """The model ``formula`` on the classroom data (or on ``data``), from the chapter's one fit
        cache (``mlmcourse.chapter``); ``subset`` names a row subset such as "in_sample"."""
        with self._lock, _quiet():
            return chapter_fit(self.data if data is None else data, formula, REML=REML, subset=subset)

    def mask(self, name: str):
        if name not in SUBSETS:
            raise CourseError(f"Unknown row subset '{name}' in a quiz computation.")
        return SUBSETS[name](self.data)

    def value(self, name: str):
        with self._lock:
            if name not in COMPUTATIONS:
                raise CourseError(f"The quiz asks for the computation '{name}', which does not exist "
                                  f"(known: {', '.join(sorted(COMPUTATIONS))}).")
            comp = COMPUTATIONS[name]
            store = self._seeded if comp.seeded else self._values
            if name not in store:
                with _quiet():
                    store[name] = comp.fn(self)
            return store[name]


@contextlib.contextmanager
def _quiet():
    """No console chatter from the checks: anova's "refitting model(s) with ML" (a RefitMessage
    warning) and the singular-fit warnings of ML refits belong in the student's own cells, not
    under a widget. Warnings only: the process's stderr is left alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


_contexts: OrderedDict = OrderedDict()   # seed -> context (None: no seed); a few kept
MAX_CONTEXTS = 8


def default_context(seed: int | None = None) -> Context:
    """The process's context for ``seed``: the classroom data loaded once, seed-free values shared."""
    if None not in _contexts:
        _contexts[None] = Context()
    seed = None if seed is None else check_seed(seed)
    if seed not in _contexts:
        _contexts[seed] = _contexts[None].for_seed(seed)
        while len(_contexts) > MAX_CONTEXTS + 1:
            oldest = next(k for k in _contexts if k is not None)
            del _contexts[oldest]
    _contexts.move_to_end(seed)
    return _contexts[seed]


def _school_sizes(ctx):
    return ctx.data.groupby("schoolid").size()


# -- counts --------------------------------------------------------------------------------
@computation("n_schools", "number of schools in the classroom data")
def _n_schools(ctx):
    return int(ctx.data["schoolid"].nunique())


@computation("n_classrooms", "number of classrooms in the classroom data")
def _n_classrooms(ctx):
    return int(ctx.data["classid"].nunique())


@computation("min_school_size", "fewest students sampled in one school")
def _min_school_size(ctx):
    return int(_school_sizes(ctx).min())


@computation("n_schools_one_student", "schools with a single student")
def _n_schools_one(ctx):
    return int((_school_sizes(ctx) == 1).sum())


@computation("n_schools_two_students", "schools with exactly two students")
def _n_schools_two(ctx):
    return int((_school_sizes(ctx) == 2).sum())


@computation("n_schools_estimable",
             "schools whose own regression of mathkind on ses leaves residual df > 0")
def _n_schools_estimable(ctx):
    count = 0
    for _, d in ctx.data.groupby("schoolid"):
        X = np.column_stack([np.ones(len(d)), d["ses"].to_numpy(float)])
        if len(d) - np.linalg.matrix_rank(X) > 0:
            count += 1
    return count


@computation("n_in_sample", "students with mathgain, ses and mathknow all observed")
def _n_in_sample(ctx):
    return int(ctx.mask("in_sample").sum())


# -- constructed (residual-based) effects --------------------------------------------------
@computation("sd_school_mean_resid",
             "SD of the school means of the OLS residuals of mathkind ~ ses (one value per school)")
def _sd_school_mean_resid(ctx):
    fit = ctx.fit(chapter.OLS_MODEL)   # lm(): OLS, as the handout's fit1
    return float(group_mean_residuals(fit.resid, ctx.data.loc[fit.resid.index, "schoolid"]).std(ddof=1))


# -- fitted models -------------------------------------------------------------------------
# the chapter's models (labels of mlmcourse.chapter.MODELS; the last two on the in_sample rows)
F_KIND_SES, F_KIND_SES_NESTED = chapter.RI_MODEL, chapter.NESTED_MODEL
F_GAIN_SCHOOL, F_GAIN_NESTED = chapter.GAIN_SCHOOL, chapter.GAIN_NESTED
F_GAIN_NULL_IN, F_GAIN_BLOCK_IN = chapter.GAIN_NULL_IN, chapter.GAIN_BLOCK_IN


@computation("sd_school_mathkind_ses", "sigma_zeta (Std.Dev.) in mathkind ~ ses + (1|schoolid)")
def _sd_school_kind(ctx):
    return _varcorr_row(ctx.fit(F_KIND_SES), "schoolid", "Std.Dev.")


@computation("var_school_mathkind_ses", "school variance in mathkind ~ ses + (1|schoolid)")
def _var_school_kind(ctx):
    return _varcorr_row(ctx.fit(F_KIND_SES), "schoolid")


@computation("var_resid_mathkind_ses", "residual variance in mathkind ~ ses + (1|schoolid)")
def _var_resid_kind(ctx):
    return _varcorr_row(ctx.fit(F_KIND_SES), "Residual")


@computation("icc_school_mathkind_ses", "ICC of schools in mathkind ~ ses + (1|schoolid)")
def _icc_kind(ctx):
    return _icc(ctx.fit(F_KIND_SES), "schoolid")


@computation("var_class_mathkind_ses",
             "classroom variance in mathkind ~ ses + (1|schoolid/classid)")
def _var_class_kind(ctx):
    return _varcorr_row(ctx.fit(F_KIND_SES_NESTED), "classid:schoolid")


@computation("sd_class_mathkind_ses",
             "classroom Std.Dev. in mathkind ~ ses + (1|schoolid/classid)")
def _sd_class_kind(ctx):
    return _varcorr_row(ctx.fit(F_KIND_SES_NESTED), "classid:schoolid", "Std.Dev.")


@computation("icc_school_mathgain", "ICC of schools in mathgain ~ (1|schoolid)")
def _icc_gain(ctx):
    return _icc(ctx.fit(F_GAIN_SCHOOL), "schoolid")


@computation("var_school_mathgain", "school variance in mathgain ~ (1|schoolid)")
def _var_school_gain(ctx):
    return _varcorr_row(ctx.fit(F_GAIN_SCHOOL), "schoolid")


@computation("var_resid_mathgain", "residual variance in mathgain ~ (1|schoolid)")
def _var_resid_gain(ctx):
    return _varcorr_row(ctx.fit(F_GAIN_SCHOOL), "Residual")


@computation("sd_ratio_mathgain", "a wrong ICC: sigma_zeta / (sigma_zeta + sigma_eps), SDs not variances")
def _sd_ratio_gain(ctx):
    m = ctx.fit(F_GAIN_SCHOOL)
    s, e = _varcorr_row(m, "schoolid", "Std.Dev."), _varcorr_row(m, "Residual", "Std.Dev.")
    return s / (s + e)


@computation("var_ratio_mathgain", "a wrong ICC: between / within variance (a ratio, not a share)")
def _var_ratio_gain(ctx):
    return ctx.value("var_school_mathgain") / ctx.value("var_resid_mathgain")


def _ranova_row(model, row: str, column: str) -> float:
    from .. import ranova
    table = ranova(model)
    if row not in table.index:
        raise CourseError(f"ranova() has no row '{row}' (rows: {', '.join(map(str, table.index))}).")
    return float(table.loc[row, column])


@computation("lrt_school_mathgain", "LRT for (1|schoolid) in mathgain ~ (1|schoolid), by ranova")
def _lrt_school_gain(ctx):
    return _ranova_row(ctx.fit(F_GAIN_SCHOOL), "(1 | schoolid)", "LRT")


@computation("lrt_class_mathgain",
             "LRT for classrooms: mathgain ~ (1|schoolid) vs (1|schoolid/classid), REML, no refit")
def _lrt_class_gain(ctx):
    from .. import anova
    table = anova(ctx.fit(F_GAIN_SCHOOL), ctx.fit(F_GAIN_NESTED), refit=False)
    return float(table["Chisq"].iloc[-1])


@computation("lrt_school_row_nested_mathgain",
             "ranova row '(1 | schoolid)' of mathgain ~ (1|schoolid/classid): the wrong row for classrooms")
def _lrt_school_row(ctx):
    return _ranova_row(ctx.fit(F_GAIN_NESTED), "(1 | schoolid)", "LRT")


@computation("p_class_mathgain", "p-value of the classroom LRT for mathgain")
def _p_class_gain(ctx):
    return _ranova_row(ctx.fit(F_GAIN_NESTED), "(1 | classid:schoolid)", "Pr(>Chisq)")


@computation("lrt_block_ses_mathknow",
             "LRT (ML refit) adding ses + mathknow to mathgain ~ 1 + (1|schoolid/classid), in_sample rows")
def _lrt_block(ctx):
    from .. import anova
    table = anova(ctx.fit(F_GAIN_NULL_IN),
                  ctx.fit(F_GAIN_BLOCK_IN), refit=True)
    return float(table["Chisq"].iloc[-1])


@computation("reml_diff_block",
             "a wrong LRT: difference of the REML criteria of the two block models")
def _reml_diff_block(ctx):
    small = ctx.fit(F_GAIN_NULL_IN)
    big = ctx.fit(F_GAIN_BLOCK_IN)
    return float(small.reml_criterion - big.reml_criterion)


# the lab quiz's and homework's computations register themselves on import
from . import worked  # noqa: E402,F401
