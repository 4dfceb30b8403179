"""R's meaning of what a student types in a formula, where patsy would read it otherwise.

Translated when the meaning can be kept, refused (one CourseError paragraph) when it cannot. Never
passed through silently.

    refuse_r_only   R functions and operators with no faithful Python spelling here: offset(),
                    poly(), splines, relevel(), ordered(), %in%, R's contrast names contr.*
    r_scale         R's scale(x): centred and divided by the n - 1 SD over the data's rows
                    before subset= and before rows with missing values elsewhere are dropped
                    (as R's model.frame evaluates it); patsy's own scale() divides by the n SD
                    of the rows used
    r_text          R's as.character of a value (factor levels, grouping factors): 10, 10.0 and
                    "10" are one level, as in R
    as_r_factor     text columns as factors whose levels are sorted as R sorts them (r_collation)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import CourseError
from .formula import python_to_r, shown

HIDDEN = "_rscale"  # prefix of the columns that carry scale()'s values (never shown)

_OFFSET = ("offset() adds a term whose coefficient is fixed at 1; the course's lmer() and lm() do "
           "not support offsets (nor lme4's offset= argument). Adding the column as a predictor "
           "instead would estimate its coefficient, a different model. Model the difference as the "
           "outcome: for an offset of mathkind, the outcome mathgain (the spring score minus "
           "mathkind), e.g. 'mathgain ~ ses + (1 | schoolid)'; in general dat['y_minus_x'] = "
           "dat['y'] - dat['x'], then 'y_minus_x ~ ...'")
_SPLINES = ("splines are not part of the course's formulas (patsy's bs() places its knots at the "
            "quantiles of the rows used, R's at those of all rows, so the numbers would differ). "
            "Build the basis columns first, e.g. with patsy.dmatrix('bs(ses, df=3) - 1', dat), add "
            "them to the data, and name them in the formula")
_R_ONLY = {
    "offset": _OFFSET,
    "poly": ("poly() is R's orthogonal polynomials, which Python formulas do not have. Write the "
             "powers as terms, e.g. ses + I(ses^2): the same fit as poly(ses, 2), with the raw "
             "powers' coefficients, as R's poly(ses, 2, raw = TRUE) gives"),
    "bs": _SPLINES, "ns": _SPLINES, "cr": _SPLINES, "cc": _SPLINES, "te": _SPLINES,
    "relevel": ("relevel() is R's way to choose a factor's first level. In Python formulas write "
                "C(x, Treatment(reference='b')) for relevel(factor(x), ref = 'b')"),
    "ordered": ("ordered() makes R use polynomial contrasts for a factor. In Python formulas write "
                "C(x, Poly) for the same contrasts, or C(x) for R's default (treatment) contrasts"),
}
_CONTRASTS = {"contr.treatment": "Treatment", "contr.sum": "Sum", "contr.helmert": "Helmert",
              "contr.poly": "Poly", "contr.SAS": "Treatment(reference=...)"}
_CALLED = re.compile(r"(?<![\w.])([A-Za-z_.][\w.]*)\s*\(")


def _code(expr: str) -> str:
    """``expr`` with quoted text blanked (a column Q("offset(x)") is a name, not a call)."""
    return re.sub(r""""[^"]*"|'[^']*'""", lambda m: '"' + " " * (len(m.group(0)) - 2) + '"', expr)


def _subject(where: str, expr: str) -> str:
    return (f"In the {where}, '{shown(expr)}'" if where.startswith("random-effects term")
            else f"The {where} '{shown(expr)}'")


def refuse_r_only(expr: str, where: str) -> None:
    """Raise CourseError for R syntax that has no faithful Python spelling in the course."""
    code = _code(expr)
    for m in _CALLED.finditer(code):
        if m.group(1) in _R_ONLY:
            raise CourseError(f"{_subject(where, expr)} uses {m.group(1)}(): {_R_ONLY[m.group(1)]}.")
    m = re.search(r"%[^%\s]*%", code)
    if m:
        what = ("R's nesting operator: write a:b for b within a (or a/b for a + a:b)"
                if m.group(0) == "%in%" else "an R operator that Python formulas do not have")
        raise CourseError(f"{_subject(where, expr)} uses {m.group(0)}, {what}. Compute other "
                          "columns first, e.g. dat['new'] = ..., and use their names.")
    m = re.search(r"(?<![\w.])contr\.(\w+)", code)
    if m:
        name = f"contr.{m.group(1)}"
        python = _CONTRASTS.get(name)
        todo = (f"write {python} instead, e.g. C(x, {python})" if python else
                "Python formulas name them Treatment, Sum, Helmert, Poly, e.g. C(x, Sum)")
        raise CourseError(f"{_subject(where, expr)} names R's contrasts {name}: {todo}. (The "
                          "coefficients are then labelled as patsy labels them.)")


# --- R's as.character, for factor levels ---------------------------------------------------------
def _r_double(v: float) -> str:
    """Format a number as R's as.character(<double>) does.

    Up to 15 significant digits, fixed or scientific notation, whichever is shorter (R's default
    scipen = 0): 10.0 -> '10', 1e5 -> '1e+05', 0.1 -> '0.1'.
    """
    if v == 0:
        return "0"
    digits = next(d for d in range(1, 16) if float(f"{v:.{d - 1}e}") == float(f"{v:.14e}"))
    mantissa, exponent = f"{v:.{digits - 1}e}".split("e")
    exp = int(exponent)
    sci = f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    fixed = f"{v:.{max(0, digits - 1 - exp)}f}"
    return fixed if len(fixed) <= len(sci) else sci


def r_text(v) -> str:
    """R's as.character of one value: what a factor's level is called."""
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return _r_double(float(v))
    return str(v)


def is_mixed(col: pd.Series) -> bool:
    """Return True for an object column holding both text and other values (10 and "10").

    R would have made it one character vector.
    """
    if not pd.api.types.is_object_dtype(col.dtype):
        return False
    kinds = {isinstance(v, str) for v in col.dropna()}
    return len(kinds) > 1


def r_collation(col: pd.Series) -> pd.Series:
    """Sort key for text as R sorts it in a UTF-8 locale ('a' < 'A' < 'b' < 'B'); numbers as numbers."""
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return col
    text = col.astype(str)
    return text.str.lower() + "\x00" + text.str.swapcase()


def as_r_factor(col: pd.Series) -> pd.Series:
    """Return a text column (or one mixing text and numbers) as R's factor of it.

    Levels named by R's as.character and sorted as R sorts them. Other columns are returned as
    they are.
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col
    if not (pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype)):
        return col
    if pd.api.types.is_object_dtype(col.dtype) and not col.map(lambda v: isinstance(v, str)).any():
        return col  # numbers or booleans stored as objects: checked (and refused) elsewhere
    text = col.map(r_text).astype(object)
    levels = pd.Series(text.unique())
    levels = levels.iloc[np.argsort(r_collation(levels).to_numpy(), kind="stable")]
    return pd.Series(pd.Categorical(text, categories=list(levels)), index=col.index, name=col.name)


# --- R's scale() --------------------------------------------------------------------------------
@dataclass
class Scaled:
    """The scale() calls of a formula, each computed once over all the data's rows."""

    hidden: dict[str, str] = field(default_factory=dict)    # call text (no spaces) -> hidden column
    display: dict[str, str] = field(default_factory=dict)   # hidden column -> R's label

    def substitute(self, expr: str) -> str:
        """``expr`` with each scale(...) call replaced by its hidden column."""
        out, pos = [], 0
        for start, end, _ in scale_calls(expr):
            out += [expr[pos:start], self.hidden[re.sub(r"\s+", "", expr[start:end])]]
            pos = end
        return "".join(out) + expr[pos:]

    def label(self, name: str) -> str:
        """Return a column name with each hidden scale() column written as R labels it."""
        return re.sub(rf"{HIDDEN}\d+_", lambda m: self.display.get(m.group(0), m.group(0)), name)


def scale_calls(expr: str) -> list[tuple[int, int, list[str]]]:
    """(start, end, arguments) of each scale(...) call outside quotes."""
    code = _code(expr)
    calls = []
    for m in re.finditer(r"(?<![\w.])scale\s*\(", code):
        depth, args, start = 1, [], m.end()
        for i in range(m.end(), len(code)):
            ch = code[i]
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    args.append(expr[start:i].strip())
                    calls.append((m.start(), i + 1, args))
                    break
            elif ch == "," and depth == 1:
                args.append(expr[start:i].strip())
                start = i + 1
    return calls


_FLAGS = {"TRUE": True, "True": True, "T": True, "FALSE": False, "False": False, "F": False}


def _scale_options(args: list[str], call: str, where: str) -> tuple[str, dict]:
    todo = ("Use scale(x), scale(x, center=FALSE) or scale(x, scale=FALSE), or compute the column "
            "first, e.g. dat['ses_z'] = (dat['ses'] - dat['ses'].mean()) / dat['ses'].std() "
            "(pandas' std() divides by n - 1, as R's scale() does)")
    options = {"center": True, "scale": True}
    names = ["center", "scale"]
    for i, arg in enumerate(args[1:]):
        name, _, value = arg.partition("=") if "=" in arg else (names[i] if i < 2 else "", "", arg)
        name, value = name.strip(), value.strip()
        if name not in options or value not in _FLAGS:
            raise CourseError(f"{_subject(where, call)} gives scale() the argument '{arg}', which the "
                              f"course does not take. {todo}.")
        options[name] = _FLAGS[value]
    if not args or not args[0]:
        raise CourseError(f"{_subject(where, call)} calls scale() without a variable. {todo}.")
    return args[0], options


def r_scale_values(x: np.ndarray, center: bool, scale: bool) -> np.ndarray:
    """R's scale() of one column: missing values are left out of the mean and the SD."""
    x = np.asarray(x, dtype=float)
    seen = x[~np.isnan(x)]
    if center:
        x = x - seen.mean()
        seen = seen - seen.mean()
    if scale:
        x = x / np.sqrt(np.sum(seen ** 2) / max(1, seen.size - 1))
    return x


def r_scale(pieces: list[str], data: pd.DataFrame, evaluate) -> tuple[pd.DataFrame, Scaled]:
    """Return the data with one hidden column per scale() call of the formula's ``pieces``.

    Computed as R computes it: over all rows of ``data`` (before subset= and before the rows
    with missing values in other variables are dropped). ``evaluate(expr, data)`` gives a
    column's values.
    """
    scaled = Scaled()
    added = {}
    for piece, where in pieces:
        for start, end, args in scale_calls(piece):
            key = re.sub(r"\s+", "", piece[start:end])
            if key in scaled.hidden:
                continue
            inner, options = _scale_options(args, piece[start:end], where)
            name = f"{HIDDEN}{len(scaled.hidden)}_"
            if name not in data.columns:  # a model's own rows (ranova's refits) keep its values
                added[name] = r_scale_values(evaluate(inner, data), **options)
            scaled.hidden[key] = name
            shown_args = "".join(f", {k} = {'TRUE' if v else 'FALSE'}"
                                 for k, v in options.items() if not v)
            scaled.display[name] = f"scale({python_to_r(inner)}{shown_args})"
    if not added:
        return data, scaled
    extra = pd.DataFrame(added, index=data.index)
    return pd.concat([data, extra], axis=1), scaled
