"""The registry of the quiz's live answers: what a computation is, and the table of them.

The computations are data, in ``questions/computations.yml``, one entry each::

    - name: icc_school_mathkind_minority_ml
      description: "a wrong ICC: mathkind ~ minority + (1|schoolid) fitted by ML"
      formula: mathkind ~ minority + (1|schoolid)
      REML: false
      reading: {icc: schoolid}

An entry names the data (``source``: the classroom data, or the student's own ``bootstrap`` or
``simulated`` data, with an optional row ``subset`` or the rows ``complete_for`` a formula), the
model or models fitted to it (``formula``; ``bigger``, the larger of two compared models; ``REML``)
and the ``reading``: what is read, as ``{kind: first argument, other: argument}`` (:data:`READINGS`
lists the kinds). :mod:`mlmcourse.quiz.evaluate` computes them. This module imports nothing that
fits a model, so a question bank is read and checked (:mod:`mlmcourse.quiz.bank`) without the engine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import CourseError
from .variants import VARIANTS

TABLE = Path(__file__).resolve().parent / "questions" / "computations.yml"
SOURCES = ("course", *VARIANTS)   # the classroom data, or the student's own data of one kind
REQUIRED = object()               # an argument a reading cannot do without


@dataclass(frozen=True)
class Reading:
    """A kind of reading: what it is read from, and its arguments (with their defaults)."""

    operand: str     # model | models (small, big) | residuals (an lm fit and its rows) | rows | seed | values
    arguments: dict  # name -> default (REQUIRED: none); the first is the value of the kind's key
    meaning: str


READINGS = {
    "variance": Reading("model", {"group": REQUIRED}, "a group's Variance in the variance table (m.varcorr)"),
    "sd": Reading("model", {"group": REQUIRED}, "a group's Std.Dev. in the variance table"),
    "icc": Reading("model", {"group": REQUIRED}, "a group's share of the total variance, icc(m)"),
    "sd_ratio": Reading("model", {"group": REQUIRED}, "a wrong ICC: SDs, sd_group / (sd_group + sd_residual)"),
    "var_ratio": Reading("model", {"group": REQUIRED}, "a wrong ICC: var_group / var_residual, not a share"),
    "ranova": Reading("model", {"row": REQUIRED, "column": REQUIRED}, "a cell of ranova(m)"),
    "boundary_p": Reading("model", {"row": REQUIRED}, "half ranova's chi-square(1) p: a variance tested at 0"),
    "lrt": Reading("models", {"column": REQUIRED, "refit": REQUIRED}, "a cell of anova(small, big)'s last row"),
    "reml_difference": Reading("models", {}, "a wrong LRT: small's REML criterion minus big's"),
    "mean_residual_sd": Reading("residuals", {"group": REQUIRED, "within": None, "per_row": False},
                                "SD of the group means of OLS residuals (within: cleared of the outer "
                                "group's means; per_row: spread to the rows)"),
    "rows": Reading("rows", {}, "how many rows"),
    "distinct": Reading("rows", {"column": REQUIRED}, "how many different values a column has"),
    "smallest_group": Reading("rows", {"by": REQUIRED}, "the fewest rows of one group"),
    "groups_of_size": Reading("rows", {"size": REQUIRED, "by": REQUIRED}, "how many groups have that many rows"),
    "function": Reading("rows", {"name": REQUIRED}, "an odd one: a function of the rows (evaluate.ODD)"),
    "simulation": Reading("seed", {"parameter": REQUIRED}, "a parameter the student's schools were simulated with"),
    "squared": Reading("values", {"of": REQUIRED}, "the square of another computation"),
}
KEYS = ("name", "description", "reading", "formula", "bigger", "REML", "subset", "complete_for", "source")


@dataclass(frozen=True)
class Computation:
    """One live answer: the data, the model(s) fitted to it and what is read (see the module's doc)."""

    name: str
    description: str
    reading: str                     # a key of READINGS
    arguments: dict = field(default_factory=dict)
    formula: str | None = None       # the model (the smaller of two compared); no ``|``: fitted by lm
    bigger: str | None = None        # the larger model of a comparison
    REML: bool = True
    subset: str | None = None        # a row subset of the chapter's (mlmcourse.chapter.SUBSETS)
    complete_for: str | None = None  # only the rows complete for this formula (complete_cases)
    source: str = "course"           # "course" or a kind of the student's data (VARIANTS)

    @property
    def variant(self) -> str | None:
        """The kind of the student's own data the value is computed on (None: the classroom data)."""
        return None if self.source == "course" else self.source

    @property
    def seeded(self) -> bool:
        """Whether the value depends on the student's seed (it is computed on their own data)."""
        return self.variant is not None

    def __repr__(self) -> str:
        on = f" [on the student's {self.variant} data]" if self.variant else ""
        return f"<computation {self.name}: {self.description}{on}>"


# -- reading the table ------------------------------------------------------------------------
def load(path: Path = TABLE) -> dict[str, Computation]:
    """Read the computations of a table file, by name, each checked (a CourseError names the entry)."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        near = f" near line {mark.line + 1}" if mark is not None else ""
        raise CourseError(f"{Path(path).name} is not valid YAML{near}: {getattr(exc, 'problem', None) or exc}. "
                          "Check the indentation and quotes there (a text with ': ' needs quotes).") from None
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        raise CourseError(f"{Path(path).name} must map each section's name to a list of computations.")
    table: dict[str, Computation] = {}
    for section, entries in raw.items():
        for index, entry in enumerate(entries, 1):
            comp = _computation(entry, f"{Path(path).name}, section '{section}', entry {index}")
            if comp.name in table:
                raise CourseError(f"{Path(path).name}: the computation '{comp.name}' is declared twice; "
                                  "give each its own name.")
            table[comp.name] = comp
    for comp in table.values():
        _check_squared(comp, table, Path(path).name)
    return table


def _check_squared(comp: Computation, table: dict, name: str) -> None:
    """Check that a square names a computation of the table, on the same data (seeded or not alike)."""
    of = comp.arguments.get("of") if comp.reading == "squared" else None
    if of is not None and of not in table:
        raise CourseError(f"{name}: '{comp.name}' squares '{of}', which is not a computation of the table.")
    if of is not None and table[of].source != comp.source:
        raise CourseError(f"{name}: '{comp.name}' squares '{of}', computed on other data: give it "
                          f"'source: {table[of].source}'.")


def _computation(entry, where: str) -> Computation:
    if not isinstance(entry, dict):
        raise CourseError(f"{where}: write the computation as a mapping (name:, description:, reading:, ...).")
    unknown = sorted(set(entry) - set(KEYS))
    missing = [k for k in ("name", "description", "reading") if k not in entry]
    if unknown or missing:
        what = f"unknown key '{unknown[0]}'" if unknown else f"the key '{missing[0]}' is missing"
        raise CourseError(f"{where}: {what} (the keys are {', '.join(KEYS)}).")
    name = str(entry["name"])
    if not re.fullmatch(r"[A-Za-z_]\w*", name):
        raise CourseError(f"{where}: the name '{name}' must be letters, digits and _ (it is written [[{name}]]).")
    kind, arguments = _reading(entry["reading"], f"{where} ('{name}')")
    comp = Computation(name, str(entry["description"]), kind, arguments,
                       **{k: entry[k] for k in KEYS[3:] if k in entry})
    _check_operands(comp, f"{where} ('{name}')")
    return comp


def _reading(value, where: str) -> tuple[str, dict]:
    """Parse a reading written ``kind`` or ``{kind: first argument, other: argument}``."""
    given = {value: None} if isinstance(value, str) else dict(value) if isinstance(value, dict) else {}
    kind = next(iter(given), None)
    if kind not in READINGS:
        raise CourseError(f"{where}: the reading '{kind}' is not one the quiz knows (known: {', '.join(READINGS)}).")
    spec = READINGS[kind].arguments
    first = given.pop(kind)
    if spec:
        given[next(iter(spec))] = first
    unknown = sorted(set(given) - set(spec)) + (["a value after the kind"] if first is not None and not spec else [])
    missing = [n for n, default in spec.items() if default is REQUIRED and given.get(n) is None]
    if unknown or missing:
        raise CourseError(f"{where}: the reading '{kind}' takes {', '.join(spec) or 'no arguments'}"
                          f" ({'unknown' if unknown else 'missing'}: {(unknown or missing)[0]}).")
    return kind, {n: given.get(n, default) for n, default in spec.items()}


def _check_operands(comp: Computation, where: str) -> None:
    """Check that an entry has the keys its reading needs, and none it would ignore."""
    operand = READINGS[comp.reading].operand
    fitted = operand in ("model", "models", "residuals")
    problems = [
        (comp.source not in SOURCES, f"the source '{comp.source}' is none of {', '.join(SOURCES)}"),
        (fitted != (comp.formula is not None), "a reading of a fitted model needs a formula, and only it"),
        ((operand == "models") != (comp.bigger is not None), "a comparison (lrt, reml_difference) needs "
                                                             "'bigger', the larger model, and only it"),
        (not isinstance(comp.REML, bool), "REML is true or false"),
        (operand in ("seed", "values") and (comp.subset or comp.complete_for), "its reading reads no rows"),
    ]
    for bad, message in problems:
        if bad:
            raise CourseError(f"{where}: {message}.")


COMPUTATIONS: dict[str, Computation] = load()
