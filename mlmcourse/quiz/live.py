"""Live answers of the quiz: the context that computes them (data, fits and values, each made once).

A question bank names a computation in ``answer_expr`` (or in a ``[[name]]`` placeholder of its
texts); the quiz computes it when the student checks. The computations are data
(``questions/computations.yml``, read by :mod:`mlmcourse.quiz.registry`), evaluated with the
course's public API by :mod:`mlmcourse.quiz.evaluate`, so the expected answer is always the one the
notebooks produce. Fits come from the chapter's one cache (``mlmcourse.chapter``): each model is
fitted once per process and data set, on first use.

Some questions are asked on data of the student's own, made from a seed: see
:mod:`mlmcourse.quiz.variants`.

    ctx = default_context(seed=48213)
    ctx.value("icc_school_mathgain"), ctx.value("boot_icc_mathkind_ses")
"""
from __future__ import annotations

import contextlib
import threading
import warnings
from collections import OrderedDict

import pandas as pd

from ..chapter import SUBSETS, chapter_fit
from ..errors import CourseError
from .evaluate import evaluate
from .registry import COMPUTATIONS, Computation
from .variants import VARIANTS, MinStd, check_seed, student_data

__all__ = ["COMPUTATIONS", "VARIANTS", "Computation", "Context", "MinStd", "default_context"]


# -- the context: data, fits and values, each made once -----------------------------------------
class Context:
    """The classroom data, the student's data (from ``seed``), the fitted models and the computed values.

    Each is made once. Values that do not depend on the seed are shared by every context made
    with :meth:`for_seed` from this one.
    """

    def __init__(self, data=None, seed: int | None = None):
        self._box = {"data": data}            # shared with for_seed() copies (loaded lazily)
        self._values: dict = {}               # values that do not depend on the seed (shared)
        self._seeded: dict = {}               # this seed's values and data
        self._lock = threading.RLock()
        self._seed = None if seed is None else check_seed(seed)

    @property
    def seed(self) -> int | None:
        """The student's seed (None: the classroom data only)."""
        return self._seed

    def for_seed(self, seed: int | None) -> Context:
        """Give a context with the same data and seed-free values, for another seed (``self`` if the same)."""
        seed = None if seed is None else check_seed(seed)
        if seed == self._seed:
            return self
        other = Context(seed=seed)
        other._box, other._values, other._lock = self._box, self._values, self._lock
        return other

    @property
    def data(self):
        """The classroom data (loaded on first use)."""
        with self._lock:
            if self._box["data"] is None:
                from ..data import load_classroom
                self._box["data"] = load_classroom()
            return self._box["data"]

    def variant(self, kind: str) -> pd.DataFrame:
        """Make (once) the student's own data of one kind (see VARIANTS); needs a seed."""
        if self._seed is None:
            raise CourseError("This question is asked on data of your own, made from your seed, and "
                              "this quiz has no seed. Open the quiz with Quiz(chapter=2): it creates one.")
        with self._lock:
            key = ("data", kind)
            if key not in self._seeded:
                self._seeded[key] = student_data(kind, self._seed, self.data)
            return self._seeded[key]

    def fit(self, formula: str, REML: bool = True, subset: str | None = None, data=None):
        """Fit ``formula`` to the classroom data (or to ``data``), through the chapter's one fit cache.

        The cache is :mod:`mlmcourse.chapter`'s; ``subset`` names a row subset such as "in_sample".
        """
        with self._lock, _quiet():
            return chapter_fit(self.data if data is None else data, formula, REML=REML, subset=subset)

    def mask(self, name: str, data=None):
        """Mark the rows of ``data`` (the classroom data) in the chapter's row subset ``name``."""
        if name not in SUBSETS:
            raise CourseError(f"Unknown row subset '{name}' in a quiz computation.")
        return SUBSETS[name](self.data if data is None else data)

    def value(self, name: str):
        """Compute the computation ``name`` (once: later calls give the stored value)."""
        with self._lock:
            if name not in COMPUTATIONS:
                raise CourseError(f"The quiz asks for the computation '{name}', which does not exist "
                                  f"(known: {', '.join(sorted(COMPUTATIONS))}).")
            comp = COMPUTATIONS[name]
            store = self._seeded if comp.seeded else self._values
            if name not in store:
                with _quiet():
                    store[name] = evaluate(comp, self)
            return store[name]


@contextlib.contextmanager
def _quiet():
    """Keep the checks from chattering on the console.

    anova()'s "refitting model(s) with ML" (a RefitMessage warning) and the singular-fit warnings of
    ML refits belong in the student's own cells, not under a widget. Warnings only: the process's
    stderr is left alone.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


_contexts: OrderedDict = OrderedDict()   # seed -> context (None: no seed); a few kept
MAX_CONTEXTS = 8


def default_context(seed: int | None = None) -> Context:
    """Give the process's context for ``seed``: the classroom data loaded once, seed-free values shared."""
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
