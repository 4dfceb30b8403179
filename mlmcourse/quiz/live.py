"""Live answers of the quiz: named computations on the classroom data, the student's own data
and the fitted models.

A question bank names one of these in ``answer_expr`` (or in a ``[[name]]`` placeholder of its
texts); the quiz computes it when the student checks, with the course's public API
(``lmer``, ``anova``, ``ranova``, ``icc``, ``complete_cases``, the variance table ``m.varcorr``), so
the expected answer is always the one the notebooks produce. Fits come from the chapter's one
cache (``mlmcourse.chapter``): each model is fitted once per process and data set, on first use.

Some questions are asked on data of the student's own, made from a *seed* (a number from 10000
to 99999 that the answer store creates once per student and chapter, see
:mod:`mlmcourse.quiz.store`). Two kinds exist (:data:`VARIANTS`):

``bootstrap``
    a bootstrap sample of the classroom data's schools: 107 schools drawn with replacement, each
    draw a school of its own (``schoolid`` 1..107 in draw order, ``classid`` = 1000 x draw + the
    original classid, ``orig_schoolid`` the school it copies);
``simulated``
    40 schools simulated from ``y = 50 + 4 x + zeta_k + eps_ijk`` with a known ``sigma_zeta``
    (6..15) and ``sigma_eps`` (20..34), 3 to 25 students per school (columns school, student, x, y).

Both are drawn with :class:`MinStd`, a generator simple enough to be reproduced exactly in R
(``tests/reference/make_quiz_reference.R`` does, and fits them with lme4), so an instructor can
rebuild any student's data from the seed in the hand-in file:
``python -m mlmcourse quiz answers --seed N`` prints the expected answers.

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
import io
import math
import threading
import warnings
from collections import OrderedDict

import numpy as np
import pandas as pd

from .. import chapter
from ..chapter import SUBSETS, chapter_fit
from ..errors import CourseError
from ..residuals import group_mean_residuals, nested_mean_residuals

COMPUTATIONS: dict[str, Computation] = {}
SEED_RANGE = (10000, 99999)   # the seeds the answer store creates (any int >= 1 works)


class Computation:
    def __init__(self, name: str, description: str, fn, variant: str | None = None):
        self.name, self.description, self.fn, self.variant = name, description, fn, variant

    @property
    def seeded(self) -> bool:
        """Whether the value depends on the student's seed (it is computed on their own data)."""
        return self.variant is not None

    def __repr__(self) -> str:
        on = f" [on the student's {self.variant} data]" if self.variant else ""
        return f"<computation {self.name}: {self.description}{on}>"


def computation(name: str, description: str, variant: str | None = None):
    """Register a computation; ``variant`` names the student's data it uses (see VARIANTS)."""
    if variant is not None and variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r} (known: {', '.join(VARIANTS)})")

    def register(fn):
        COMPUTATIONS[name] = Computation(name, description, fn, variant)
        return fn
    return register


# -- the student's own data ------------------------------------------------------------------
class MinStd:
    """Park and Miller's "minimal standard" generator with multiplier 48271 (MINSTD).

    ``x <- 48271 * x mod (2^31 - 1)``; a uniform is ``x / (2^31 - 1)``, in (0, 1). Every step is
    exact in a double (48271 * 2^31 < 2^53), so R reproduces the stream digit for digit. The
    start is ``(seed + 1000003 * stream) mod (2^31 - 1)`` (1 if that is 0), followed by 16
    discarded steps. ``below(n)`` is ``floor(n * u)``; ``normal()`` is Box-Muller's
    ``sqrt(-2 log u1) cos(2 pi u2)`` from two uniforms."""

    MODULUS, MULTIPLIER, STREAM_STEP, WARMUP = 2**31 - 1, 48271, 1000003, 16

    def __init__(self, seed: int, stream: int):
        self.x = (int(seed) + self.STREAM_STEP * int(stream)) % self.MODULUS or 1
        for _ in range(self.WARMUP):
            self.uniform()

    def uniform(self) -> float:
        self.x = self.x * self.MULTIPLIER % self.MODULUS
        return self.x / self.MODULUS

    def below(self, n: int) -> int:
        return int(math.floor(n * self.uniform()))

    def normal(self) -> float:
        u1, u2 = self.uniform(), self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def check_seed(seed) -> int:
    """A seed as an int: a whole number >= 1 (an int, or its digits as text)."""
    text = str(seed).strip()
    if isinstance(seed, bool) or not text.isdigit() or int(text) < 1:
        raise CourseError(f"The seed must be a whole number of at least 1, such as 48213, not '{seed}'.")
    return int(text)


def bootstrap_schools(data: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A bootstrap sample of schools (stream 1): as many draws, with replacement, as there are
    schools; draw k picks ``schools[floor(n_schools * u)]`` (schools in increasing id order) and
    becomes school k with all that school's rows, in their order in the data."""
    rng = MinStd(check_seed(seed), stream=1)
    schools = np.sort(data["schoolid"].unique())
    by_school = {s: rows for s, rows in data.groupby("schoolid", sort=False)}
    parts = []
    for k in range(1, len(schools) + 1):
        school = schools[rng.below(len(schools))]
        part = by_school[school].copy()
        part["schoolid"] = k
        part["classid"] = 1000 * k + part["classid"]
        part["orig_schoolid"] = int(school)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["childid"] = np.arange(1, len(out) + 1)
    return out


SIM_SCHOOLS, SIM_B0, SIM_B1 = 40, 50.0, 4.0


def simulation_parameters(seed: int) -> dict:
    """sigma_zeta and sigma_eps of the student's simulated data (the first two draws of stream 2)."""
    rng = MinStd(check_seed(seed), stream=2)
    return {"sigma_zeta": 6 + rng.below(10), "sigma_eps": 20 + 2 * rng.below(8)}


def simulated_schools(seed: int) -> pd.DataFrame:
    """Simulated schools (stream 2): sigma_zeta = 6 + below(10), sigma_eps = 20 + 2 below(8); then
    for each of 40 schools its size 3 + below(23) and zeta_k = sigma_zeta * normal(), then for each
    of its students x = normal(), eps = sigma_eps * normal() and y = 50 + 4 x + zeta_k + eps."""
    rng = MinStd(check_seed(seed), stream=2)
    sigma_zeta, sigma_eps = 6 + rng.below(10), 20 + 2 * rng.below(8)
    school, student, xs, ys = [], [], [], []
    for k in range(1, SIM_SCHOOLS + 1):
        size = 3 + rng.below(23)
        zeta = sigma_zeta * rng.normal()
        for _ in range(size):
            x = rng.normal()
            eps = sigma_eps * rng.normal()
            school.append(k)
            student.append(len(student) + 1)
            xs.append(x)
            ys.append(SIM_B0 + SIM_B1 * x + zeta + eps)
    return pd.DataFrame({"school": school, "student": student, "x": xs, "y": ys})


VARIANTS = {
    "bootstrap": "your own bootstrap sample of the classroom data's schools",
    "simulated": "your own simulated schools (known sigma_zeta and sigma_eps)",
}


def student_data(kind: str, seed: int, data: pd.DataFrame | None = None) -> pd.DataFrame:
    """The student's data of one kind ("bootstrap" or "simulated") for ``seed``."""
    if kind == "bootstrap":
        if data is None:
            from ..data import load_classroom
            data = load_classroom()
        return bootstrap_schools(data, seed)
    if kind == "simulated":
        return simulated_schools(seed)
    raise CourseError(f"There is no data of kind '{kind}': use one of {', '.join(VARIANTS)}.")


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
    """No console chatter from the checks: anova's "refitting model(s) with ML" line and the
    singular-fit warnings of ML refits belong in the student's own cells, not under a widget."""
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
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


def _varcorr_row(model, group: str, column: str = "Variance") -> float:
    vc = model.varcorr
    rows = vc[vc["Groups"] == group]
    if rows.empty:
        raise CourseError(f"The model has no variance component for '{group}'.")
    return float(rows[column].iloc[0])


def _icc(model, group: str) -> float:
    """A group's share of the total variance, from the course's ``icc()``."""
    from .. import icc
    shares = icc(model)
    if group not in shares.index:
        raise CourseError(f"icc() gives no share for '{group}' (it has: {', '.join(map(str, shares.index))}).")
    return float(shares[group])


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


def _anova(small, big, refit: bool):
    from .. import anova
    return anova(small, big, refit=refit, names=["small", "big"])


def _lrt(small, big, refit: bool, column: str = "Chisq") -> float:
    return float(_anova(small, big, refit)[column].iloc[-1])


def _sd_ratio(model, group: str) -> float:
    s, e = _varcorr_row(model, group, "Std.Dev."), _varcorr_row(model, "Residual", "Std.Dev.")
    return s / (s + e)


def _var_ratio(model, group: str) -> float:
    return _varcorr_row(model, group) / _varcorr_row(model, "Residual")


# -- lab quiz: models the chapter does not fit (classroom data) --------------------------------
F_KIND_MINORITY = "mathkind ~ minority + (1|schoolid)"
F_KIND_NULL = "mathkind ~ 1 + (1|schoolid)"
F_GAIN_KIND_NESTED = "mathgain ~ mathkind + (1|schoolid/classid)"
F_SLOPE_SMALL = "mathgain ~ mathkind + ses + minority + (1|schoolid)"
F_SLOPE_BIG = "mathgain ~ mathkind + ses + minority + (ses|schoolid)"


@computation("icc_school_mathkind_minority", "ICC of schools in mathkind ~ minority + (1|schoolid)")
def _icc_kind_minority(ctx):
    return _icc(ctx.fit(F_KIND_MINORITY), "schoolid")


@computation("icc_school_mathkind_minority_ml", "a wrong ICC: mathkind ~ minority + (1|schoolid) fitted by ML")
def _icc_kind_minority_ml(ctx):
    return _icc(ctx.fit(F_KIND_MINORITY, REML=False), "schoolid")


@computation("sd_ratio_mathkind_minority", "a wrong ICC: SDs instead of variances, mathkind ~ minority + (1|schoolid)")
def _sd_ratio_kind_minority(ctx):
    return _sd_ratio(ctx.fit(F_KIND_MINORITY), "schoolid")


@computation("var_ratio_mathkind_minority",
             "a wrong ICC: between / within variance, mathkind ~ minority + (1|schoolid)")
def _var_ratio_kind_minority(ctx):
    return _var_ratio(ctx.fit(F_KIND_MINORITY), "schoolid")


@computation("icc_school_mathkind_null", "ICC of schools in mathkind ~ 1 + (1|schoolid) (no predictor)")
def _icc_kind_null(ctx):
    return _icc(ctx.fit(F_KIND_NULL), "schoolid")


@computation("var_class_mathgain_mathkind", "classroom variance in mathgain ~ mathkind + (1|schoolid/classid)")
def _var_class_gain_kind(ctx):
    return _varcorr_row(ctx.fit(F_GAIN_KIND_NESTED), "classid:schoolid")


@computation("var_class_mathgain_mathkind_ml",
             "a wrong variance: classroom variance of mathgain ~ mathkind + (1|schoolid/classid) fitted by ML")
def _var_class_gain_kind_ml(ctx):
    return _varcorr_row(ctx.fit(F_GAIN_KIND_NESTED, REML=False), "classid:schoolid")


@computation("sd_class_mathgain_mathkind", "classroom Std.Dev. in mathgain ~ mathkind + (1|schoolid/classid)")
def _sd_class_gain_kind(ctx):
    return _varcorr_row(ctx.fit(F_GAIN_KIND_NESTED), "classid:schoolid", "Std.Dev.")


@computation("var_school_mathgain_mathkind", "school variance in mathgain ~ mathkind + (1|schoolid/classid)")
def _var_school_gain_kind(ctx):
    return _varcorr_row(ctx.fit(F_GAIN_KIND_NESTED), "schoolid")


@computation("var_class_mathgain_nested", "classroom variance in mathgain ~ (1|schoolid/classid) (no predictor)")
def _var_class_gain_nested(ctx):
    return _varcorr_row(ctx.fit(F_GAIN_NESTED), "classid:schoolid")


@computation("lrt_slope_ses",
             "LRT for a random slope of ses by school (mathgain ~ mathkind + ses + minority): REML, no refit")
def _lrt_slope(ctx):
    return _lrt(ctx.fit(F_SLOPE_SMALL), ctx.fit(F_SLOPE_BIG), refit=False)


@computation("lrt_slope_ses_ml", "a wrong slope LRT: the same two models refitted by ML (anova's default)")
def _lrt_slope_ml(ctx):
    return _lrt(ctx.fit(F_SLOPE_SMALL), ctx.fit(F_SLOPE_BIG), refit=True)


@computation("p_slope_ses", "p-value of the REML LRT for the random slope of ses")
def _p_slope(ctx):
    return _lrt(ctx.fit(F_SLOPE_SMALL), ctx.fit(F_SLOPE_BIG), refit=False, column="Pr(>Chisq)")


# -- homework: constructed classroom effects of mathgain (classroom data) -----------------------
F_GAIN_SES_OLS = "mathgain ~ ses"


def _gain_resid(ctx):
    fit = ctx.fit(F_GAIN_SES_OLS)   # lm(): OLS
    rows = ctx.data.loc[fit.resid.index]
    return fit.resid, rows["schoolid"], rows["classid"]


@computation("sd_class_constructed_mathgain",
             "SD of the constructed classroom effects of mathgain ~ ses (OLS residuals cleared of the "
             "school mean, averaged by classroom; one value per classroom)")
def _sd_class_constructed(ctx):
    resid, school, klass = _gain_resid(ctx)
    return float(nested_mean_residuals(resid, school, klass).std(ddof=1))


@computation("var_class_constructed_mathgain", "a wrong SD: the variance of the constructed classroom effects")
def _var_class_constructed(ctx):
    return ctx.value("sd_class_constructed_mathgain") ** 2


@computation("sd_school_constructed_mathgain", "a wrong SD: the SD of the school mean residuals of mathgain ~ ses")
def _sd_school_constructed(ctx):
    resid, school, _ = _gain_resid(ctx)
    return float(group_mean_residuals(resid, school).std(ddof=1))


@computation("sd_class_raw_mathgain",
             "a wrong SD: classroom mean residuals of mathgain ~ ses not cleared of the school means")
def _sd_class_raw(ctx):
    resid, _, klass = _gain_resid(ctx)
    return float(group_mean_residuals(resid, klass).std(ddof=1))


@computation("sd_class_rows_mathgain",
             "a wrong SD: the constructed classroom effects spread to the students (one value per student)")
def _sd_class_rows(ctx):
    from ..residuals import spread_to_rows
    resid, school, klass = _gain_resid(ctx)
    return float(spread_to_rows(nested_mean_residuals(resid, school, klass), klass).std(ddof=1))


@computation("sd_class_model_mathgain_ses", "classroom Std.Dev. in mathgain ~ ses + (1|schoolid/classid)")
def _sd_class_model(ctx):
    return _varcorr_row(ctx.fit("mathgain ~ ses + (1|schoolid/classid)"), "classid:schoolid", "Std.Dev.")


# -- the student's bootstrap sample of schools (seeded) -----------------------------------------
F_BOOT_ICC = "mathkind ~ ses + (1|schoolid)"
BOOT_COMPLETE = "mathgain ~ mathkind + mathknow"
F_BOOT_SMALL = "mathgain ~ mathkind + (1|schoolid/classid)"
F_BOOT_BIG = "mathgain ~ mathkind + mathknow + (1|schoolid/classid)"


def _boot(ctx):
    return ctx.variant("bootstrap")


def _boot_complete_rows(ctx):
    from .. import complete_cases
    data = _boot(ctx)
    return data.loc[complete_cases(data, BOOT_COMPLETE)]


@computation("boot_n_rows", "students in the student's bootstrap sample", variant="bootstrap")
def _boot_n_rows(ctx):
    return int(len(_boot(ctx)))


@computation("boot_n_distinct_schools", "different schools of the classroom data in the bootstrap sample",
             variant="bootstrap")
def _boot_distinct(ctx):
    return int(_boot(ctx)["orig_schoolid"].nunique())


@computation("boot_icc_mathkind_ses", "ICC of schools in mathkind ~ ses + (1|schoolid), bootstrap sample",
             variant="bootstrap")
def _boot_icc(ctx):
    return _icc(ctx.fit(F_BOOT_ICC, data=_boot(ctx)), "schoolid")


@computation("boot_icc_mathkind_ses_ml", "a wrong ICC: the bootstrap sample's model fitted by ML",
             variant="bootstrap")
def _boot_icc_ml(ctx):
    return _icc(ctx.fit(F_BOOT_ICC, REML=False, data=_boot(ctx)), "schoolid")


@computation("boot_sd_ratio_mathkind_ses", "a wrong ICC: SDs instead of variances, bootstrap sample",
             variant="bootstrap")
def _boot_sd_ratio(ctx):
    return _sd_ratio(ctx.fit(F_BOOT_ICC, data=_boot(ctx)), "schoolid")


@computation("boot_n_complete", "rows of the bootstrap sample complete for mathgain ~ mathkind + mathknow",
             variant="bootstrap")
def _boot_n_complete(ctx):
    return int(len(_boot_complete_rows(ctx)))


@computation("boot_lrt_mathknow",
             "LRT (ML refit) adding mathknow to mathgain ~ mathkind + (1|schoolid/classid), bootstrap "
             "sample, complete rows", variant="bootstrap")
def _boot_lrt(ctx):
    rows = _boot_complete_rows(ctx)
    return _lrt(ctx.fit(F_BOOT_SMALL, data=rows), ctx.fit(F_BOOT_BIG, data=rows), refit=True)


@computation("boot_lrt_mathknow_norefit", "a wrong LRT: the same models compared by their REML fits (no refit)",
             variant="bootstrap")
def _boot_lrt_norefit(ctx):
    rows = _boot_complete_rows(ctx)
    return _lrt(ctx.fit(F_BOOT_SMALL, data=rows), ctx.fit(F_BOOT_BIG, data=rows), refit=False)


@computation("boot_p_mathknow", "p-value of the bootstrap sample's LRT for mathknow", variant="bootstrap")
def _boot_p(ctx):
    rows = _boot_complete_rows(ctx)
    return _lrt(ctx.fit(F_BOOT_SMALL, data=rows), ctx.fit(F_BOOT_BIG, data=rows), refit=True,
                column="Pr(>Chisq)")


# -- the student's simulated schools (seeded) ----------------------------------------------------
F_SIM = "y ~ x + (1|school)"


def _sim(ctx):
    return ctx.variant("simulated")


@computation("sim_sigma_zeta", "the sigma_zeta the student's schools were simulated with", variant="simulated")
def _sim_sigma_zeta(ctx):
    return simulation_parameters(ctx.seed)["sigma_zeta"]


@computation("sim_sigma_eps", "the sigma_eps the student's schools were simulated with", variant="simulated")
def _sim_sigma_eps(ctx):
    return simulation_parameters(ctx.seed)["sigma_eps"]


@computation("sim_true_var_school", "the true school variance sigma_zeta^2 of the simulation",
             variant="simulated")
def _sim_true_var(ctx):
    return float(simulation_parameters(ctx.seed)["sigma_zeta"] ** 2)


@computation("sim_n_students", "students in the student's simulated data", variant="simulated")
def _sim_n(ctx):
    return int(len(_sim(ctx)))


@computation("sim_var_school", "school variance in y ~ x + (1|school), simulated data (REML)",
             variant="simulated")
def _sim_var(ctx):
    return _varcorr_row(ctx.fit(F_SIM, data=_sim(ctx)), "school")


@computation("sim_var_school_ml", "a wrong variance: y ~ x + (1|school) fitted by ML", variant="simulated")
def _sim_var_ml(ctx):
    return _varcorr_row(ctx.fit(F_SIM, REML=False, data=_sim(ctx)), "school")


@computation("sim_sd_school", "school Std.Dev. in y ~ x + (1|school), simulated data", variant="simulated")
def _sim_sd(ctx):
    return _varcorr_row(ctx.fit(F_SIM, data=_sim(ctx)), "school", "Std.Dev.")


@computation("sim_sd_school_mean_resid",
             "SD of the school means of the OLS residuals of y ~ x, simulated data (one value per school)",
             variant="simulated")
def _sim_sd_mean_resid(ctx):
    data = _sim(ctx)
    fit = ctx.fit("y ~ x", data=data)
    return float(group_mean_residuals(fit.resid, data.loc[fit.resid.index, "school"]).std(ddof=1))


@computation("sim_var_school_mean_resid", "a wrong SD: the variance of the simulated school mean residuals",
             variant="simulated")
def _sim_var_mean_resid(ctx):
    return ctx.value("sim_sd_school_mean_resid") ** 2


@computation("lrt_mathknow_mathkind",
             "LRT (ML refit) adding mathknow to mathgain ~ mathkind + (1|schoolid/classid), classroom "
             "data, complete rows (the bootstrap question's model on the course data)")
def _lrt_mathknow_real(ctx):
    from .. import complete_cases
    rows = ctx.data.loc[complete_cases(ctx.data, BOOT_COMPLETE)]
    return _lrt(ctx.fit(F_BOOT_SMALL, data=rows), ctx.fit(F_BOOT_BIG, data=rows), refit=True)
