"""Formula spec + DataFrame -> the model's matrices (y, X, Z) and grouping factors.

Rows are chosen as lme4 does: ``subset`` first, then every row with a missing value in a
variable the formula uses is dropped (and counted). Problems a student can cause (an unknown
column, a text outcome, a grouping factor with one level, and the data checks of ``checks.py``)
raise CourseError; a rank-deficient fixed part loses its redundant columns, as in lme4.
"""
from __future__ import annotations

import itertools
import keyword
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
import scipy.sparse as sp

from ..errors import CourseError
from . import checks
from .formula import FormulaSpec, RandomTerm, parse_formula, r_power, r_to_python, shown, too_long
from .rows import (
    SAFE_NAME,
    check_flat_columns,
    columns_in,
    select_rows,
    unambiguous_index,
    unknown_column,
    unquoted_column,
)
from .rsyntax import HIDDEN, Scaled, as_r_factor, is_mixed, r_collation, r_scale, r_text, refuse_r_only


@dataclass
class TermDesign:
    """One random-effects term, laid out for the model matrices."""

    term: RandomTerm
    name: str                 # lme4's group name in VarCorr (make.unique'd: 'Subject.1')
    cnames: list[str]         # effect names: '(Intercept)', 'Days', ...
    levels: pd.Index          # levels of the grouping factor, in lme4's order
    codes: np.ndarray         # level code of each row
    X: np.ndarray             # n x p values of the effects
    offset: int = 0           # first column of this term in Z

    @property
    def p(self) -> int:
        """Return the number of effects of the term (columns of its X)."""
        return self.X.shape[1]

    @property
    def nlevels(self) -> int:
        """Return the number of levels of the term's grouping factor."""
        return len(self.levels)

    @property
    def q(self) -> int:
        """Return the number of the term's random effects (its columns of Z)."""
        return self.p * self.nlevels


@dataclass
class Design:
    """What lme4's lFormula builds: the outcome y, X and Z, the grouping terms and the rows used."""

    spec: FormulaSpec
    y: np.ndarray
    X: np.ndarray
    xnames: list[str]
    terms: list[TermDesign]
    Z: sp.csc_matrix
    data: pd.DataFrame             # the rows used, original index
    n_dropped_na: int = 0
    n_subset_out: int = 0
    variables: list[str] = field(default_factory=list)
    variables_with_na: list[str] = field(default_factory=list)  # the ones that dropped rows
    dropped_columns: list[str] = field(default_factory=list)    # rank deficiency (lme4 drops them)

    @property
    def n(self) -> int:
        """Return the number of observations used."""
        return len(self.y)

    @property
    def p(self) -> int:
        """Return the number of fixed effects (columns of X)."""
        return self.X.shape[1]


# a quoted string (left alone), or a name that is not a function call
_WORD = re.compile(r"""("[^"]*"|'[^']*')|(?<![\w.])((?:[^\W\d]|\.)[\w.]*)(?![\w.(])""")


def _protect(expr: str, data: pd.DataFrame) -> str:
    """Quote the column names patsy cannot read as Python.

    Keywords such as 'class', names with dots or letters beyond ASCII such as 'école'.
    """
    odd = {str(c) for c in data.columns if keyword.iskeyword(str(c)) or not SAFE_NAME.match(str(c))}
    if not odd:
        return expr

    def swap(m: re.Match) -> str:
        word = m.group(2)
        return f'Q("{word}")' if word is not None and word in odd else m.group(0)

    return _WORD.sub(swap, expr)


_R_FACTOR = re.compile(r"(?<![\w.])(?:as\.)?factor\(")


def to_patsy(expr: str) -> str:
    """R spellings patsy reads otherwise: factor(x) / as.factor(x) -> C(x), ^ -> ** (see formula.r_to_python)."""
    return r_to_python(expr)


def _clean_name(name: str, r_factor: bool = False) -> str:
    """Turn patsy's column name into lme4's.

    'Intercept' -> '(Intercept)', 'Q("class")' -> 'class', 'C(sex)[T.1]' -> 'C(sex)1' (or
    'factor(sex)1' when the formula said factor()).
    """
    if name == "Intercept":
        return "(Intercept)"
    name = re.sub(r"Q\(\"([^\"]+)\"\)", r"\1", name)
    name = r_power(name)  # R's power: I(age^2)
    name = re.sub(r"\[T\.True\]", "TRUE", name)
    name = re.sub(r"\[(?:T\.)?([^\]]*)\]", r"\1", name)
    if r_factor:
        name = re.sub(r"(?<![\w.])C\(", "factor(", name)
    return name


def _r_column_order(mat: pd.DataFrame, patsy_expr: str) -> pd.DataFrame:
    """Reorder patsy's columns as R orders the terms: by degree, then as written (patsy puts categorical ones first)."""
    info = mat.design_info
    written = {t: i for i, t in enumerate(patsy.ModelDesc.from_formula(patsy_expr).rhs_termlist)}
    terms = list(info.terms)
    order = sorted(range(len(terms)), key=lambda i: (len(terms[i].factors), written.get(terms[i], i)))
    cols = [c for i in order for c in mat.columns[info.term_slices[terms[i]]]]
    return mat[cols]


# R's spelling -> what to write in Python
_FUNCTION_HINTS = {"log": "np.log(...) instead, e.g. np.log(mathkind)", "exp": "np.exp(...) instead",
                   "sqrt": "np.sqrt(...) instead", "abs": "np.abs(...) instead",
                   "log10": "np.log10(...) instead", "log2": "np.log2(...) instead",
                   "log1p": "np.log1p(...) instead"}


_KNOWN_FUNCTIONS = ("numpy's functions as np.name(...) (np.log, np.exp, np.sqrt, np.abs), and I(), "
                    "C() (R's factor()), scale() (R's), center() and standardize() (patsy's: over the "
                    "rows used; standardize divides by the n SD)")


def _not_a_function(name: str, expr: str, where: str) -> CourseError:
    return CourseError(
        f"{_subject(where, expr)} uses a function {name}() that is not defined: formulas know "
        f"{_KNOWN_FUNCTIONS}. Compute the column first, e.g. dat['new'] = ..., and use its name "
        "in the formula."
    )


def _subject(where: str, expr: str) -> str:
    """How a message names a part of the formula: "The fixed part 'x'", or "In the random-effects term (x | g), 'x'"."""
    return (f"In the {where}, '{shown(expr)}'" if where.startswith("random-effects term")
            else f"The {where} '{shown(expr)}'")


def _formula_problem(exc: Exception, expr: str, where: str, data: pd.DataFrame) -> CourseError:
    unquoted = unquoted_column(expr, data, where)
    if unquoted is not None:
        return unquoted
    msg = str(exc)
    m = re.search(r"name '([^']+)' is not defined|no data named '([^']+)' found", msg)
    if m:
        name = m.group(1) or m.group(2)
        if m.group(1) and name in _FUNCTION_HINTS:
            return CourseError(f"{_subject(where, expr)} uses {name}(), which is R's spelling: in Python "
                               f"write {_FUNCTION_HINTS[name]}.")
        if m.group(1) and re.search(rf"(?<![\w.]){re.escape(name)}\s*\(", expr):
            return _not_a_function(name, expr, where)
        return unknown_column(name, data, where)
    m = re.search(r"module '([\w.]+)' has no attribute '(\w+)'", msg)
    if m:
        module = "np" if m.group(1) == "numpy" else m.group(1)
        return _not_a_function(f"{module}.{m.group(2)}", expr, where)
    if "too many nested parentheses" in msg:
        return too_long(where, expr)
    first = msg.strip().splitlines()[0]
    return CourseError(f"{_subject(where, expr)} could not be read: {first}. "
                       "Check it for typos; write it as in lme4, e.g. 'ses + mathknow'.")


# what a formula may call besides patsy's own I(), C(), Q(), center(), standardize(); R's TRUE
# and FALSE (I(sex == TRUE)); patsy's scale() is R's scale() only through rsyntax.r_scale
_FORMULA_NAMES = patsy.EvalEnvironment([{"np": np, "numpy": np, "TRUE": True, "FALSE": False}])


_C_OF_COLUMN = re.compile(r"""(?<![\w.])C\(\s*(Q\(\s*(?:"[^"]*"|'[^']*')\s*\)|(?:[^\W\d]|\.)[\w.]*)\s*(?=[,)])""")


def _r_factors(frame: pd.DataFrame, expr: str) -> pd.DataFrame:
    """Return the columns ``expr`` names that R would read as factors, as R's factors.

    The text columns, as R's factors of them (levels sorted as R sorts them, so that the first
    level, the baseline, is R's; values such as 10 and "10" one level); and the numeric columns
    it uses only as C(x) (R's factor(x)), with levels named by R's as.character (a float
    column's 1.0 is level "1", as R names it: factor(sex)1).
    """
    changed = {}
    for col in columns_in(expr, frame):
        values = frame[col]
        if isinstance(values, pd.Series):
            factor = as_r_factor(values)
            if factor is not values:
                changed[col] = factor
    outside = columns_in(_C_OF_COLUMN.sub(" ", expr), frame)
    for m in _C_OF_COLUMN.finditer(expr):
        found = columns_in(m.group(1), frame)
        col = found[0] if found else None
        if col is None or col in changed or col in outside or not isinstance(frame[col], pd.Series):
            continue
        values = frame[col]
        if pd.api.types.is_float_dtype(values.dtype):
            levels = np.sort(values.unique())
            names = [r_text(v) for v in levels]
            if len(set(names)) == len(names):
                codes = np.searchsorted(levels, values.to_numpy())
                changed[col] = pd.Series(pd.Categorical.from_codes(codes, categories=names),
                                         index=values.index, name=values.name)
    return frame.assign(**{str(k): v for k, v in changed.items()}) if changed else frame


def _evaluate(expr: str, data: pd.DataFrame) -> np.ndarray:
    """Return the values of one numeric expression (scale()'s argument) on every row of ``data``."""
    try:
        with np.errstate(all="ignore"):
            mat = patsy.dmatrix(f"0 + I({_protect(expr, data)})", data, NA_action=patsy.NAAction(NA_types=[]),
                                return_type="dataframe", eval_env=_FORMULA_NAMES)
    except (patsy.PatsyError, TypeError, ValueError, SyntaxError) as exc:
        raise _formula_problem(exc, expr, "argument of scale()", data) from None
    if mat.shape[1] != 1:
        raise CourseError(f"scale({shown(expr)}) needs a numeric variable; '{shown(expr)}' is text or "
                          "a factor. Scale a numeric column, or leave scale() out.")
    return mat.to_numpy(dtype=float)[:, 0]


def _patsy_matrix(expr: str, frame: pd.DataFrame, where: str, data: pd.DataFrame, written: str | None = None,
                  scaled: Scaled | None = None):
    """Return patsy's model matrix of one part of the formula, in R's column order.

    ``written`` is the part as the student wrote it, for messages; ``attrs["term_sizes"]`` gives
    the columns of each term. ``scaled`` holds the columns of the formula's scale() calls (see
    rsyntax.r_scale).
    """
    written = expr if written is None else written
    refuse_r_only(written, where)
    patsy_expr = to_patsy(expr)
    if scaled is not None:
        patsy_expr = scaled.substitute(patsy_expr)
    elif "scale(" in patsy_expr:
        raise CourseError(f"The {where} '{shown(written)}' uses scale() where the course cannot compute "
                          "R's scale(). Compute the column first, e.g. dat['x_z'] = (dat['x'] - "
                          "dat['x'].mean()) / dat['x'].std(), and use its name.")
    frame = _r_factors(frame, patsy_expr)
    patsy_expr = _protect(patsy_expr, frame)
    try:
        with np.errstate(all="ignore"):  # inf/NaN from np.log(x <= 0) are reported below
            mat = patsy.dmatrix(patsy_expr, frame, NA_action=patsy.NAAction(NA_types=[]),
                                return_type="dataframe", eval_env=_FORMULA_NAMES)
        terms = {t.name(): sl for t, sl in mat.design_info.term_slices.items()}
        if scaled is not None and scaled.display:
            terms = {scaled.label(k): v for k, v in terms.items()}
            mat.columns = [scaled.label(c) for c in mat.columns]
        checks.check_finite(mat.to_numpy(dtype=float), terms, where)
        out = _r_column_order(mat, patsy_expr)
    except RecursionError:
        raise too_long(where, written) from None
    except (patsy.PatsyError, TypeError, ValueError, SyntaxError) as exc:
        if isinstance(exc, CourseError):
            raise
        raise _formula_problem(exc, written, where, data) from None
    out.attrs["term_sizes"] = {name: sl.stop - sl.start for name, sl in terms.items()}
    return out


def _response(spec: FormulaSpec, frame: pd.DataFrame, data: pd.DataFrame, scaled: Scaled) -> np.ndarray:
    name = spec.response
    if name in data.columns:
        col = frame[name]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            raise CourseError(
                f"The outcome '{name}' is not numeric (it holds values such as {col.iloc[0]!r}). "
                "A linear mixed model needs a numeric outcome: pick a numeric column, or convert "
                "this one with pd.to_numeric first."
            )
        return col.to_numpy(dtype=float)
    mat = _patsy_matrix(f"0 + {name}", frame, "outcome", data, written=name, scaled=scaled)
    if mat.shape[1] != 1:
        raise CourseError(f"The outcome '{name}' is not numeric: it would become {mat.shape[1]} columns.")
    return mat.to_numpy(dtype=float)[:, 0]


def _factor_levels(frame: pd.DataFrame, columns: tuple[str, ...]) -> tuple[pd.Index, np.ndarray]:
    """Levels of a (possibly interacted) grouping factor, sorted as lme4 sorts them.

    A column mixing text and numbers (10 and "10") is R's character vector of them: one level "10".
    """
    keys = frame[list(columns)]
    mixed = [c for c in columns if is_mixed(keys[c])]
    if mixed:
        keys = keys.assign(**{c: as_r_factor(keys[c]).astype(object) for c in mixed})
    uniq = keys.drop_duplicates().sort_values(list(columns), kind="mergesort", key=r_collation)
    if len(columns) == 1:  # the factor's own values (ranef["schoolid"].loc[1] works)
        lookup = pd.Index(uniq.iloc[:, 0], name=columns[0])
        return lookup, lookup.get_indexer(pd.Index(keys.iloc[:, 0]))
    labels = [":".join(str(v) for v in row) for row in uniq.itertuples(index=False)]
    codes = pd.MultiIndex.from_frame(uniq).get_indexer(pd.MultiIndex.from_frame(keys))
    return pd.Index(labels, name=":".join(columns)), codes


def _unique_names(names: list[str]) -> list[str]:
    """R's make.unique: 'g', 'g' -> 'g', 'g.1'."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}.{seen[n]}")
        else:
            seen[n] = 0
            out.append(n)
    return out


def formula_pieces(spec: FormulaSpec) -> list[tuple[str, str]]:
    """Return the parts of a formula evaluated on the data (Python spelling), with their names for messages."""
    return ([(to_patsy(spec.response), "outcome"), (to_patsy(spec.fixed), "fixed part")]
            + [(to_patsy(t.lhs), f"random-effects term {shown(t.source)}") for t in spec.random])


def regression_design(formula: str, data: pd.DataFrame):
    """Read lm()'s rows, outcome and model matrix exactly as lmer() reads a fixed part.

    R's syntax, scale(), factor levels, checks. Returns (y, X with R's column names, rows used,
    n dropped for missing values).
    """
    check_flat_columns(data)
    data = unambiguous_index(data)
    spec = parse_formula(formula)
    data, scaled = r_scale(formula_pieces(spec), data, _evaluate)
    frame, n_na, _, _, _ = select_rows(spec, data, None)
    checks.check_columns(spec, data, frame)
    y = _response(spec, frame, data, scaled)
    Xdf = _patsy_matrix(spec.fixed, frame, "fixed part", data, scaled=scaled)
    r_factor = bool(_R_FACTOR.search(spec.fixed))
    X = pd.DataFrame(Xdf.to_numpy(dtype=float), columns=[_clean_name(c, r_factor) for c in Xdf.columns])
    checks.check_scale(X.to_numpy(), list(X.columns), lambda v: f"The column '{v}'")
    used = frame.loc[:, [not str(c).startswith(HIDDEN) for c in frame.columns]]
    return y, X, used, n_na


def build_design(formula: str | FormulaSpec, data: pd.DataFrame, subset=None) -> Design:
    """Parse (if needed), select rows, and build y, X, Z and the grouping factors."""
    if not isinstance(data, pd.DataFrame):
        raise CourseError("data= must be a pandas DataFrame, e.g. the result of load_classroom().")
    check_flat_columns(data)
    data = unambiguous_index(data)
    spec = formula if isinstance(formula, FormulaSpec) else parse_formula(formula)
    if not spec.random:
        raise CourseError(
            f"The formula '{spec.text}' has no random-effects term such as (1 | schoolid). "
            "lmer() fits mixed models; for a plain regression use lm()."
        )
    data, scaled = r_scale(formula_pieces(spec), data, _evaluate)
    frame, n_na, n_out, variables, with_na = select_rows(spec, data, subset)
    checks.check_columns(spec, data, frame)
    y = _response(spec, frame, data, scaled)
    X, xnames, dropped = _fixed_matrix(spec, frame, data, scaled, len(y))
    terms = [_term_design(t, frame, data, scaled) for t in spec.random]
    _check_term_sizes(terms, len(y))
    terms = _in_lme4_order(terms)
    checks.check_outcome(y, X, terms, spec.response, spec.fixed)
    Z = _random_matrix(terms, len(y))
    return Design(spec=spec, y=y, X=X, xnames=xnames, terms=terms, Z=Z, data=frame,
                  n_dropped_na=n_na, n_subset_out=n_out, variables=[str(v) for v in variables],
                  variables_with_na=with_na, dropped_columns=dropped)


def _fixed_matrix(spec: FormulaSpec, frame: pd.DataFrame, data: pd.DataFrame, scaled, n: int):
    """Return X, its column names and the columns dropped for rank deficiency (lme4 drops them).

    The columns are checked: of a usable size, and not more than the ``n`` observations.
    """
    Xdf = _patsy_matrix(spec.fixed, frame, "fixed part", data, scaled=scaled)
    r_factor = bool(_R_FACTOR.search(spec.fixed))
    xnames = [_clean_name(c, r_factor) for c in Xdf.columns]
    checks.check_scale(Xdf.to_numpy(dtype=float), xnames, lambda v: f"The fixed-effect column '{v}'")
    X, xnames, dropped = checks.drop_redundant_columns(Xdf.to_numpy(dtype=float), xnames)
    sizes = {_clean_name(k, r_factor): v for k, v in Xdf.attrs.get("term_sizes", {}).items()}
    checks.check_enough_rows(X.shape[1], n, spec.fixed, sizes)
    return X, xnames, dropped


def _term_design(t, frame: pd.DataFrame, data: pd.DataFrame, scaled) -> TermDesign:
    """Return one random term's effects and grouping factor, in the rows used, checked."""
    levels, codes = _factor_levels(frame, t.factors)
    lhs = (pd.DataFrame({"Intercept": np.ones(len(frame))}, index=frame.index) if t.lhs.strip() == "1"
           else _patsy_matrix(t.lhs, frame, f"random-effects term {shown(t.source)}", data, scaled=scaled))
    if lhs.shape[1] == 0:
        raise CourseError(f"The random-effects term {shown(t.source)} has no effects (e.g. '0 | g').")
    if len(levels) < 2:
        raise CourseError(
            f"The grouping factor '{t.group}' in {shown(t.source)} has only one level in the rows used "
            f"({levels[0]}). lme4: grouping factors must have > 1 sampled level. A random effect "
            "needs several groups: check the subset or choose another factor."
        )
    r_factor = bool(_R_FACTOR.search(t.lhs))
    checks.check_scale(lhs.to_numpy(dtype=float), [_clean_name(c, r_factor) for c in lhs.columns],
                       lambda v, t=t: f"The column '{v}' of the random-effects term {shown(t.source)}")
    return TermDesign(term=t, name=t.group, cnames=[_clean_name(c, r_factor) for c in lhs.columns],
                      levels=levels, codes=codes, X=lhs.to_numpy(dtype=float))


def _check_term_sizes(terms: list[TermDesign], n: int) -> None:
    """Refuse, as lme4 does, a grouping factor or a term too large for the ``n`` observations."""
    for td in terms:
        if td.nlevels >= n:
            raise CourseError(
                f"The grouping factor '{td.name}' has {td.nlevels} levels for {n} observations: every "
                "observation is its own group, so its random effect cannot be told apart from the "
                "residual (lme4: number of levels of each grouping factor must be < number of "
                "observations). Remove this term or group by a coarser factor."
            )
    for td in terms:
        if td.q >= n:
            raise CourseError(
                f"The term {shown(td.term.label)} has {td.q} random effects ({td.p} per level of "
                f"'{td.name}' x {td.nlevels} levels) for {n} observations: there are not more "
                "observations than random effects, so its variances cannot be told apart from the "
                "residual (lme4: number of observations <= number of random effects). Use a "
                "simpler term, e.g. a random intercept only, or more data."
            )


def _in_lme4_order(terms: list[TermDesign]) -> list[TermDesign]:
    """Return the terms in lme4's order, by decreasing number of levels, with unique names."""
    nl = [td.nlevels for td in terms]
    if any(b > a for a, b in itertools.pairwise(nl)):  # reordered only if not already so
        order = list(reversed(np.argsort(nl, kind="stable")))
        terms = [terms[i] for i in order]
    for td, name in zip(terms, _unique_names([td.name for td in terms])):
        td.name = name
    return terms


def _random_matrix(terms: list[TermDesign], n: int) -> sp.csc_matrix:
    """Return Z, the terms' columns side by side; sets each term's ``offset`` (its first column)."""
    blocks, offset = [], 0
    for td in terms:
        td.offset = offset
        rows = np.repeat(np.arange(n), td.p)
        cols = (td.offset + td.codes[:, None] * td.p + np.arange(td.p)[None, :]).ravel()
        blocks.append((td.X.ravel(), rows, cols))
        offset += td.q
    vals = np.concatenate([b[0] for b in blocks])
    rows = np.concatenate([b[1] for b in blocks])
    cols = np.concatenate([b[2] for b in blocks])
    return sp.csc_matrix((vals, (rows, cols)), shape=(n, offset))
