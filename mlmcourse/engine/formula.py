"""Parse an lme4 formula into a specification.

Pure: no data, no statsmodels; patsy only to split the terms of an ``||`` term.

    "mathgain ~ ses + (1 | schoolid/classid)"
    -> response "mathgain", fixed "ses",
       random terms (1 | classid:schoolid) and (1 | schoolid)

lme4's rules, as in its helpers findbars / expandDoubleVerts:
- ``(x | a/b)`` is ``(x | b:a) + (x | a)`` (nested: the inner factor is named ``b:a``);
- ``(x || g)`` is ``(1 | g) + (0 + x | g)``: one uncorrelated term per column;
- ``(x | g)`` has an intercept unless ``0 +`` or ``- 1`` removes it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import patsy

from ..errors import CourseError


@dataclass(frozen=True)
class RandomTerm:
    """One random-effects term ``(lhs | group)`` after expansion."""

    lhs: str           # model formula of the effects, e.g. "1", "1 + ses", "0 + Days"
    group: str         # grouping factor: a column, or "b:a" for an interaction
    source: str        # the term as the student wrote it, e.g. "(1|schoolid/classid)"
    uncorrelated_of: str | None = None  # the group when this term came from "||"

    @property
    def factors(self) -> tuple[str, ...]:
        """The columns that make up the grouping factor."""
        return tuple(self.group.split(":"))

    @property
    def label(self) -> str:
        """How lme4 prints the term, e.g. ``(1 | classid:schoolid)``."""
        return f"({_tidy(self.lhs)} | {self.group})"


@dataclass(frozen=True)
class FormulaSpec:
    """A parsed lme4 formula: the outcome, the fixed part and the random terms, expanded as lme4 expands them."""

    text: str                      # the formula as written
    response: str
    fixed: str                     # right-hand side without random terms, "1" if empty
    random: tuple[RandomTerm, ...] = field(default_factory=tuple)

    @property
    def printed(self) -> str:
        """The formula as lme4 prints it (``deparse``): spaces around ``|`` and ``+``."""
        parts = [] if self.fixed.strip() in ("", "1") and self._fixed_implicit else [_tidy(self.fixed)]
        parts += [f"({_tidy(t)})" for t in self._random_sources]
        return f"{self.response} ~ " + " + ".join(parts)

    # the random terms as written (before nested expansion), for printing
    _random_sources: tuple[str, ...] = ()
    _fixed_implicit: bool = False

    def with_random(self, terms) -> FormulaSpec:
        """Return the same outcome and fixed part with other random terms.

        ranova() drops or reduces one term at a time; lme4's update(. ~ . - (1 | g)).
        """
        terms = tuple(terms)
        return FormulaSpec(text=self.text, response=self.response, fixed=self.fixed, random=terms,
                           _random_sources=tuple(t.label[1:-1] for t in terms),
                           _fixed_implicit=self._fixed_implicit)

    @property
    def expanded(self) -> str:
        """Return the formula as lmerTest's ranova prints it.

        Nested and ``||`` terms expanded, and the terms in R's order (``terms()``): the
        fixed terms of one variable, the random terms, then the fixed interactions by
        degree; ``- 1`` at the end when there is no intercept. ``age * Sex + (age |
        Subject)`` -> ``age + Sex + (age | Subject) + age:Sex``.
        """
        fixed, intercept = fixed_term_labels(self.fixed)
        first = [label for label, degree in fixed if degree == 1]
        later = [label for label, degree in fixed if degree > 1]
        parts = first + [t.label for t in self.random] + later
        return f"{self.response} ~ " + " + ".join(parts) + ("" if intercept else " - 1")


# an R name (letters of any alphabet, digits, '_' and '.'; not starting with a digit): the
# grouping factors "schülerid" or "école" are columns like any other
_IDENT = re.compile(r"^(?:[^\W\d]|\.)[\w.]*$")
_QUOTED = re.compile(r"""^Q\(\s*(?:"([^"]*)"|'([^']*)')\s*\)$""")
_SHOWN = 120  # longer formulas are shortened in messages


def shown(expr: str) -> str:
    """Return a formula (or part) as quoted in a message: long ones shortened in the middle."""
    expr = str(expr)
    return expr if len(expr) <= _SHOWN else f"{expr[:80]} ... {expr[-30:]}"


def too_long(where: str, expr: str) -> CourseError:
    """Return the error for a formula too long or too deeply nested for patsy.

    Patsy's parser recurses once per term or nesting level: a RecursionError means the formula
    is too long or too deeply nested for it.
    """
    size = [f"{expr.count('+') + 1} terms"]
    if _max_depth(expr) > 20:
        size.append(f"parentheses nested {_max_depth(expr)} deep")
    return CourseError(
        f"The {where} '{shown(expr)}' is too long or too deeply nested for the formula parser "
        f"(patsy), which gave up ({', '.join(size)}). Use fewer terms and fewer nested "
        "parentheses: build such predictors as columns of the data first, and name fewer of them."
    )


def _max_depth(expr: str) -> int:
    depth = best = 0
    for ch in expr:
        depth += (ch == "(") - (ch == ")")
        best = max(best, depth)
    return best


def outside_quotes(expr: str, change) -> str:
    """``change(text)`` applied to the parts of ``expr`` outside quotes (``Q("a^b")`` is kept)."""
    parts = re.split(r"""("[^"]*"|'[^']*')""", expr)
    return "".join(p if i % 2 else change(p) for i, p in enumerate(parts))


def r_to_python(expr: str) -> str:
    """Translate R's spellings that Python formulas write otherwise, where the meaning is the same.

    ``^`` is a power inside a function (``I(age^2)``) and crossing outside one (``(a + b)^2``);
    patsy writes both ``**`` (Python's ``^`` is the bitwise XOR, silently wrong on integer
    columns). ``factor(x)`` / ``as.factor(x)`` -> ``C(x)``.
    """
    return outside_quotes(expr, lambda t: _R_FACTOR.sub("C(", t.replace("^", "**")))


_R_FACTOR = re.compile(r"(?<![\w.])(?:as\.)?factor\(")


def r_power(code: str) -> str:
    """Write patsy's ``**`` as R's ``^`` (``I(age ** 2)`` -> ``I(age^2)``), quotes left alone."""
    return outside_quotes(code, lambda t: re.sub(r"\s*\*\*\s*", "^", t))


def python_to_r(label: str, r_factor: bool = False) -> str:
    """Return a patsy term or column name as R deparses it.

    ``I(age ** 2)`` -> ``I(age^2)``, ``Q("class")`` -> ``class``, ``C(sex)`` -> ``factor(sex)``
    when the formula said factor().
    """
    label = re.sub(r"""Q\(\s*(?:"([^"]+)"|'([^']+)')\s*\)""", lambda m: _r_name(m.group(1) or m.group(2)), label)
    label = r_power(label)
    if r_factor:
        label = re.sub(r"(?<![\w.])C\(", "factor(", label)
    return label


def _r_name(name: str) -> str:
    """Return a column name as R deparses it: in backticks unless it is a syntactic name."""
    return name if re.fullmatch(r"(?:[A-Za-z]|\.(?![0-9]))[\w.]*", name) else f"`{name}`"


def fixed_term_labels(fixed: str) -> tuple[list[tuple[str, int]], bool]:
    """Return the fixed part's terms as R labels them, in R's order, and whether it has an intercept.

    R's order is by degree, then as written; each term comes with its degree.
    """
    expr = r_to_python(fixed)
    try:
        terms = patsy.ModelDesc.from_formula(expr).rhs_termlist
    except RecursionError:
        raise too_long("fixed part", fixed) from None
    except patsy.PatsyError:
        return [(_tidy(fixed), 1)], True  # reported when the design is built
    r_factor = bool(_R_FACTOR.search(fixed))
    labels = [(python_to_r(":".join(f.name() for f in t.factors), r_factor), len(t.factors))
              for t in terms if t != patsy.INTERCEPT]
    order = sorted(range(len(labels)), key=lambda i: labels[i][1])
    return [labels[i] for i in order], patsy.INTERCEPT in terms


def _tidy(expr: str) -> str:
    """Normalise spacing the way R deparses: ``1+x|g`` -> ``1 + x | g``."""
    s = re.sub(r"\s+", " ", expr.strip())
    s = re.sub(r"\s*(\|\||\||\+|~)\s*", lambda m: f" {m.group(1)} ", s)
    s = re.sub(r"(?<![\w.)])\s*-\s*", " - ", s)  # binary minus spacing
    s = re.sub(r"\s+", " ", s).strip()
    return s.replace("( ", "(").replace(" )", ")")


def _problem(formula: str, what: str, todo: str) -> CourseError:
    return CourseError(f"The formula '{shown(formula)}' {what}. {todo}")


def _split_top_level(rhs: str, formula: str) -> list[str]:
    """Split the right-hand side at top-level '+' signs, keeping parentheses whole."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(rhs):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise _problem(formula, "has a ')' without a matching '('",
                               "Check the parentheses around each random-effects term, e.g. (1 | schoolid).")
        elif ch == "+" and depth == 0:
            terms.append(rhs[start:i])
            start = i + 1
    if depth != 0:
        raise _problem(formula, "has unbalanced parentheses (a '(' is never closed)",
                       "Close each random-effects term, e.g. (1 | schoolid).")
    terms.append(rhs[start:])
    return [t.strip() for t in terms]


def _is_random(term: str) -> bool:
    if not (term.startswith("(") and term.endswith(")")):
        return False
    inner = term[1:-1]
    depth = 0
    for ch in inner:  # a '|' at the top level of the parentheses
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
    return False


def _has_intercept(lhs: str) -> bool:
    return patsy.INTERCEPT in lhs_terms(lhs)


def lhs_terms(lhs: str) -> list:
    """Return the terms of one side of a random term (``1 + x``) as patsy reads them."""
    try:
        return patsy.ModelDesc.from_formula(r_to_python(lhs)).rhs_termlist
    except RecursionError:
        raise too_long("random-effects part", lhs) from None
    except patsy.PatsyError as exc:
        first = str(exc).strip().splitlines()[0]
        raise CourseError(f"The random-effects part '{shown(lhs)}' could not be read ({first}). "
                          "Write it as in lme4, e.g. (1 + ses || schoolid).") from None


def _lhs_variables(lhs: str) -> list[str]:
    """Return the terms of an lhs like ``x * late`` (x, late, x:late), for ``||`` splitting."""
    return [r_power(t.name()) for t in lhs_terms(lhs) if t != patsy.INTERCEPT]


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    """Split at ``sep`` except inside quotes (``Q("a/b")`` stays whole)."""
    parts, start, quote = [], 0, None
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == sep:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _group_name(name: str) -> str | None:
    """Return a grouping column as written: a name, or ``Q("a name")`` for any other column name."""
    m = _QUOTED.match(name)
    if m:
        return m.group(1) if m.group(1) is not None else m.group(2)
    return name if _IDENT.match(name) else None


def _expand_group(group: str, formula: str, term: str) -> list[str]:
    """``a/b/c`` -> ``["c:b:a", "b:a", "a"]`` (lme4's names), ``a:b`` stays."""
    group = group.strip()
    if not group:
        raise _problem(formula, f"has a random term {term} with nothing after '|'",
                       "Name the grouping factor after the bar, e.g. (1 | schoolid).")
    pieces = _split_outside_quotes(group, "/")
    if any(not p for p in pieces):
        raise _problem(formula, f"has an incomplete nesting '{group}' in {term}",
                       "Write nested factors as outer/inner, e.g. (1 | schoolid/classid).")
    names = []
    for p in pieces:
        inner = []
        for name in _split_outside_quotes(p, ":"):
            column = _group_name(name)
            if not column or ":" in column:
                raise _problem(formula, f"has a grouping factor '{p}' in {term} that is not a column name",
                               'Group by a column of the data, e.g. (1 | schoolid), or Q("school id") '
                               "for a column whose name has spaces or signs.")
            inner.append(column)
        names.append(":".join(inner))
    pieces = names
    groups = []
    for depth in range(len(pieces), 0, -1):
        groups.append(":".join(reversed(pieces[:depth])))
    return groups


def _parse_random(term: str, formula: str) -> list[RandomTerm]:
    inner = term[1:-1]
    double = "||" in inner
    lhs, group = (inner.split("||", 1) if double else inner.split("|", 1))
    lhs = lhs.strip()
    if not lhs:
        raise _problem(formula, f"has a random term {term} with nothing before the bar",
                       "Say which effects vary, e.g. (1 | schoolid) for a random intercept.")
    if "|" in group:
        raise _problem(formula, f"has more than one bar in {term}",
                       "Write one random-effects term per pair of parentheses.")
    out: list[RandomTerm] = []
    for g in _expand_group(group, formula, term):
        if not double:
            out.append(RandomTerm(lhs=lhs, group=g, source=term))
            continue
        if _has_intercept(lhs):
            out.append(RandomTerm(lhs="1", group=g, source=term, uncorrelated_of=g))
        for var in _lhs_variables(lhs):
            out.append(RandomTerm(lhs=f"0 + {var}", group=g, source=term, uncorrelated_of=g))
    return out


def not_text(formula) -> CourseError:
    """Return the error for a formula given as a number, a list, None...: formulas are text."""
    if formula is None:
        got = "None"
    else:
        kind = type(formula).__name__
        got = f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}, {shown(repr(formula))}"
    hint = ""
    if isinstance(formula, (list, tuple)) and len(formula) == 1 and isinstance(formula[0], str):
        hint = " Give the text itself, without the brackets."
    return CourseError("The model formula must be text (a str) in quotes, such as "
                       f"'mathkind ~ ses + (1 | schoolid)'; got {got}.{hint}")


def parse_formula(formula: str) -> FormulaSpec:
    """Parse an lme4 mixed-model formula; raise CourseError with advice on a typo."""
    text = _formula_text(formula)
    response, rhs = _sides(text)
    terms = _split_top_level(rhs, text)
    if any(t == "" for t in terms):
        raise _problem(text, "has an empty term (two '+' in a row, or a '+' at an end)",
                       "Remove the extra '+'.")
    fixed_terms, random_terms, sources = _sort_terms(terms, text)
    implicit = not fixed_terms
    fixed = " + ".join(fixed_terms) if fixed_terms else "1"
    return FormulaSpec(text=text, response=response, fixed=fixed, random=tuple(random_terms),
                       _random_sources=tuple(sources), _fixed_implicit=implicit)


def _formula_text(formula) -> str:
    """Return the formula's text, stripped; refuse one that is not text, empty, or uses R's backticks."""
    if not isinstance(formula, str):
        raise not_text(formula)
    if not formula.strip():
        raise CourseError("The model formula is empty. Write it as in lme4, e.g. "
                          "'mathkind ~ ses + (1 | schoolid)'.")
    text = formula.strip()
    if "`" in text:
        names = re.findall(r"`([^`]*)`", text)
        name = names[0] if names else "my var"
        todo = f'Python formulas quote a column name with Q() instead: Q("{name}") for `{name}`'
        if names and text.count("`") % 2 == 0:
            todo += ", i.e. '" + shown(re.sub(r"`([^`]*)`", lambda m: f'Q("{m.group(1)}")', text)) + "'"
        raise _problem(text, "uses R's backticks (`) around a column name", todo + ".")
    return text


def _sides(text: str) -> tuple[str, str]:
    """Return the outcome and the right-hand side of the formula, each checked not to be empty."""
    if text.count("~") != 1:
        what = "has no '~'" if "~" not in text else "has more than one '~'"
        raise _problem(text, what, "Write the outcome, then '~', then the predictors, e.g. "
                       "'mathkind ~ ses + (1 | schoolid)'.")
    response, rhs = (s.strip() for s in text.split("~"))
    if not response:
        raise _problem(text, "has no outcome before '~'", "Put the outcome column first, e.g. 'mathkind ~ ses'.")
    if not rhs:
        raise _problem(text, "has nothing after '~'", "Add predictors, or '1' for an intercept-only model.")
    if "|" in response:
        raise _problem(text, "has a '|' in the outcome", "Random-effects terms go after '~'.")
    return response, rhs


def _sort_terms(terms: list[str], text: str) -> tuple[list[str], list[RandomTerm], list[str]]:
    """Return the fixed terms, the random terms (expanded) and the random terms as written."""
    fixed_terms, random_terms, sources = [], [], []
    for term in terms:
        if _is_random(term):
            random_terms.extend(_parse_random(term, text))
            sources.append(term[1:-1])
        elif "|" in term:
            raise _problem(text, f"has a bar '|' outside parentheses in '{term}'",
                           "Put each random-effects term in parentheses, e.g. (1 | schoolid).")
        elif term.lstrip("-").strip() == ".":
            raise _problem(text, "uses '.', R's 'every other column', which Python formulas do not have",
                           "Name the predictors, e.g. 'mathkind ~ ses + sex + (1 | schoolid)'.")
        elif re.fullmatch(r"\(\s*\)", term):
            raise _problem(text, "has an empty random-effects term '()'",
                           "Write what varies and by which group, e.g. (1 | schoolid).")
        else:
            fixed_terms.append(term)
    return fixed_terms, random_terms, sources
