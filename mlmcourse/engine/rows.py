"""The rows a model uses, and ``complete_cases``.

``subset`` first, then rows with a missing value in any variable the formula uses are dropped (and
counted), as lme4's model.frame does; and ``complete_cases``, the rows a comparison of models must
share (the handout's ``in_sample``).
"""
from __future__ import annotations

import difflib
import keyword
import re

import numpy as np
import pandas as pd

from ..errors import CourseError
from .formula import FormulaSpec, parse_formula, shown

# a quoted column Q("any name"), or an R name (letters of any alphabet, digits, '_', '.')
_NAME = re.compile(r"""Q\(\s*(?:"([^"]*)"|'([^']*)')\s*\)|(?:[^\W\d]|\.)[\w.]*""")
_STRING = re.compile(r""""[^"]*"|'[^']*'""")
# a name patsy reads as Python as it stands (others are quoted with Q() before patsy sees them)
SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def unambiguous_index(data: pd.DataFrame) -> pd.DataFrame:
    """Return ``data`` with its index levels unnamed when a level has a column's name.

    As after ``dat.set_index(["schoolid", "classid"], drop=False)``: pandas then cannot tell
    which one a name means. The index's values, and so the rows' labels, are kept.
    """
    if any(n is not None and n in data.columns for n in data.index.names):
        return data.rename_axis(index=[None] * data.index.nlevels)
    return data


HIDDEN = "_rscale"  # columns the course adds for scale() (rsyntax.HIDDEN), never named to a student


def check_flat_columns(data: pd.DataFrame) -> None:
    """Refuse columns with several levels: a formula cannot write their names.

    A MultiIndex, e.g. after .agg(["mean", "sd"]) or a pivot.
    """
    if isinstance(data.columns, pd.MultiIndex):
        example = ", ".join(repr(c) for c in list(data.columns)[:2])
        raise CourseError(
            f"The data's column names have {data.columns.nlevels} levels (a MultiIndex, such as "
            f"{example}), which a formula cannot name. Flatten them into plain names first, e.g. "
            "dat.columns = ['_'.join(map(str, c)).strip('_') for c in dat.columns], then use those names.")


_QUOTED = re.compile(r""""[^"]*"|'[^']*'""")


def unquoted_column(expr: str, data: pd.DataFrame, where: str) -> CourseError | None:
    """Return a column whose name is not a plain name, written in the formula without Q("...").

    A space, a sign: 'SES score'; the formula reads it as two names. None when there is none.
    """
    text = _QUOTED.sub(" ", expr)
    for col in sorted((str(c) for c in data.columns), key=len, reverse=True):
        if re.fullmatch(r"[\w.]+", col) or not col.strip():
            continue
        pattern = rf"(?<![\w.\"']){re.escape(col)}(?![\w.\"'])"
        if re.search(pattern, text):
            replacement = f'Q("{col}")'
            quoted = re.sub(pattern, lambda _, r=replacement: r, expr)
            return CourseError(
                f"The {where} '{expr}' writes the column name '{col}' as it is, but a name with "
                f"spaces or signs must be quoted in a formula, or it reads as several names: write "
                f"Q(\"{col}\"), i.e. '{quoted}' (R writes it `{col}`).")
    return None


def unknown_column(name: str, data: pd.DataFrame, where: str) -> CourseError:
    """Return the error for a name that is not a column of ``data``: an index level, or a likely typo."""
    if name in [str(n) for n in data.index.names if n is not None]:
        return CourseError(
            f"The {where} uses '{name}', which is a level of the data's index (its row labels), not a "
            f"column. Make the index's levels columns again with reset_index(), e.g. "
            f"data=dat.reset_index(), and use the name as before.")
    columns = [str(c) for c in data.columns if not str(c).startswith(HIDDEN)]
    close = difflib.get_close_matches(name, columns, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return CourseError(
        f"The {where} uses a column '{name}' that is not in the data.{hint} "
        f"The data's columns are: {', '.join(columns)}."
    )


def columns_in(expr: str, data: pd.DataFrame) -> list:
    """Return the data columns one part of a formula names (``ses``, ``Q("my var")``), in order."""
    cols = {str(c): c for c in data.columns}
    found: list = []
    for m in _NAME.finditer(expr):
        name = next((g for g in m.groups() if g is not None), m.group(0))
        if name in cols and cols[name] not in found:
            found.append(cols[name])
    return found


def referenced_columns(spec: FormulaSpec, data: pd.DataFrame) -> list[str]:
    """Return the data columns a formula uses (for missing-value handling), in order."""
    found: list = []
    for piece in [spec.response, spec.fixed] + [t.lhs for t in spec.random]:
        found += [c for c in columns_in(piece, data) if c not in found]
    cols = {str(c): c for c in data.columns}
    for t in spec.random:  # grouping factors are column names as they stand
        found += [cols[f] for f in t.factors if f in cols and cols[f] not in found]
    return found


def _check_unique_names(data: pd.DataFrame, used: list) -> None:
    names = pd.Index([str(c) for c in data.columns])
    twice = sorted({str(c) for c in used if (names == str(c)).sum() > 1})
    if twice:
        counts = ", ".join(f"'{c}' ({int((names == c).sum())} columns)" for c in twice)
        raise CourseError(
            f"The data has more than one column named {counts}, so the formula's '{twice[0]}' could "
            "mean either. Give each column its own name, e.g. dat = dat.loc[:, ~dat.columns.duplicated()] "
            "to keep the first, or rename one."
        )


def _true_false_or_missing(mask: pd.Series) -> bool:
    present = mask.dropna()
    if pd.api.types.is_bool_dtype(present.dtype):
        return True
    return present.dtype == object and bool(present.map(lambda v: isinstance(v, (bool, np.bool_))).all())


def subset_mask(subset, data: pd.DataFrame) -> pd.Series:
    """Return subset= as a True/False Series on data's index (aligned by label, never by position)."""
    if isinstance(subset, pd.DataFrame):
        if subset.shape[1] != 1:
            raise CourseError(f"subset= is a DataFrame with {subset.shape[1]} columns: give one True/False "
                              "per row, e.g. dat['ses'] > 0 or complete_cases(dat, formula).")
        subset = subset.iloc[:, 0]  # a one-column DataFrame, e.g. dat[['ses']] > 0
    mask = _aligned_series(subset, data) if isinstance(subset, pd.Series) else _series_of_values(subset, data)
    return _true_false(mask)


def _aligned_series(subset: pd.Series, data: pd.DataFrame) -> pd.Series:
    """Return a Series subset= on data's index, aligned by label; refuse one whose labels differ."""
    if not subset.index.equals(data.index):
        if len(subset.index) != len(data.index) or not subset.index.isin(data.index).all():
            raise CourseError("subset= is a Series whose index does not match the data's rows. "
                              "Build it from the same DataFrame, e.g. complete_cases(dat, formula).")
        subset = subset.reindex(data.index)
    return subset


def _series_of_values(subset, data: pd.DataFrame) -> pd.Series:
    """Return subset= given as values (a list, an array) as a Series: one value per row, in order."""
    values = np.asarray(subset)
    if values.ndim == 2 and 1 in values.shape:  # an (n, 1) column or (1, n) row
        values = values.reshape(-1)
    if values.ndim != 1:
        what = "a single value" if values.ndim == 0 else f"shape {values.shape}"
        raise CourseError(f"subset= is {what}: give one True/False per row (a Series or a 1-D "
                          "array), e.g. dat['ses'] > 0 or complete_cases(dat, formula).")
    if len(values) != len(data):
        raise CourseError(f"subset= has {values.size} values but the data has {len(data)} rows: "
                          "give one True/False per row, e.g. complete_cases(dat, formula).")
    return pd.Series(values, index=data.index)


def _true_false(mask: pd.Series) -> pd.Series:
    """Return the mask as plain True/False (a missing value leaves its row out); refuse other values."""
    if mask.dtype != bool and _true_false_or_missing(mask):
        # pandas' nullable boolean, or True/False objects: as in R, a missing value (NA) in
        # subset= leaves its row out (model.frame keeps only the TRUE rows)
        mask = mask.astype(object).where(mask.notna(), False).astype(bool)
    if mask.dtype != bool:
        hint = (" (numbers are not row positions here: to pick rows by position, pass dat.iloc[...] as data)"
                if pd.api.types.is_numeric_dtype(mask) else "")
        raise CourseError("subset= must be True/False for each row (e.g. the result of complete_cases)"
                          f"{hint}.")
    return mask


def _nothing_left(frame: pd.DataFrame, variables: list, present: pd.DataFrame, subset_used: bool) -> CourseError:
    """Which step removed every row: say it, with the counts per variable."""
    rows = f"{len(frame)} rows kept by subset=" if subset_used else f"{len(frame)} rows"
    missing = {str(c): int((~present[c]).sum()) for c in variables}
    everywhere = [c for c, k in missing.items() if k == len(frame)]
    if everywhere:
        return CourseError(
            f"No rows are left to fit: {', '.join(repr(c) for c in everywhere)} "
            f"{'is' if len(everywhere) == 1 else 'are'} missing (NaN) in all {rows}, and rows with a "
            "missing value in a variable of the formula are dropped. Check that column (e.g. "
            f"dat[{everywhere[0]!r}].isna().sum()) or leave it out of the formula."
        )
    detail = ", ".join(f"{c} ({k} missing)" for c, k in missing.items() if k)
    return CourseError(
        f"No rows are left to fit: each of the {rows} has a missing value in at least one variable "
        f"of the formula ({detail}), and such rows are dropped. Leave out a variable that is "
        "missing for many rows, or fill in its missing values."
    )


def select_rows(spec: FormulaSpec, data: pd.DataFrame, subset) -> tuple[pd.DataFrame, int, int, list, list[str]]:
    """Return the rows used.

    (rows, n dropped for missing values, n left out by subset, the formula's variables, those of
    them that dropped rows).
    """
    variables = referenced_columns(spec, data)
    _check_unique_names(data, [*variables, spec.response])
    _check_columns_exist(spec, data, variables)
    if len(data) == 0:
        raise CourseError("The data has no rows: there is nothing to fit.")
    frame = _subset_rows(data, subset) if subset is not None else data
    n_subset_out = len(data) - len(frame)
    present = frame[variables].notna() if variables else pd.DataFrame(index=frame.index)
    complete = present.all(axis=1) if variables else pd.Series(True, index=frame.index)
    if not complete.any():
        raise _nothing_left(frame, variables, present, subset is not None)
    with_na = [str(c) for c in variables if not present[c].all()]
    used = _drop_unused_levels(frame.loc[complete], variables)
    return plain_dtypes(used, variables), int((~complete).sum()), n_subset_out, variables, with_na


def _check_columns_exist(spec: FormulaSpec, data: pd.DataFrame, variables: list) -> None:
    """Refuse an outcome or a grouping factor that is not a column of the data."""
    if spec.response not in data.columns and spec.response not in variables and SAFE_NAME.match(spec.response):
        raise unknown_column(spec.response, data, "outcome")
    for t in spec.random:
        for f in t.factors:
            if f not in data.columns:
                raise unknown_column(f, data, f"random-effects term {shown(t.source)}")


def _subset_rows(data: pd.DataFrame, subset) -> pd.DataFrame:
    """Return the rows subset= keeps; refuse a subset that keeps none."""
    frame = data.loc[subset_mask(subset, data).to_numpy()]
    if len(frame) == 0:
        raise CourseError(f"No rows are left to fit: subset= keeps none of the data's {len(data)} rows "
                          "(it is False for every row). Check the condition it was built from.")
    return frame


def _drop_unused_levels(used: pd.DataFrame, variables: list) -> pd.DataFrame:
    """Drop the categories no row uses, as lme4's model.frame(drop.unused.levels = TRUE) does.

    So that a factor gives no all-zero dummy column.
    """
    unused = [c for c in variables if isinstance(used[c].dtype, pd.CategoricalDtype)
              and len(used[c].cat.categories) > used[c].nunique()]
    if unused:
        used = used.copy()
        for c in unused:
            used[c] = used[c].cat.remove_unused_categories()
    return used


def plain_dtypes(frame: pd.DataFrame, columns: list) -> pd.DataFrame:
    """Turn pandas' nullable columns into the plain numpy types the formula code reads.

    Boolean, Int64, Float64, string, once their missing rows are dropped (a nullable boolean
    with NA: lme4 drops the rows and fits, and so does the course).
    """
    changed = {}
    for c in columns:
        kind = frame[c].dtype
        if isinstance(kind, pd.BooleanDtype):
            changed[c] = frame[c].astype(bool)
        elif isinstance(kind, pd.core.dtypes.dtypes.BaseMaskedDtype):  # Int64, Float64, ...
            changed[c] = frame[c].astype(kind.numpy_dtype)
        elif isinstance(kind, pd.StringDtype):
            changed[c] = frame[c].astype(object)
    if not changed:
        return frame
    frame = frame.copy()
    for c, values in changed.items():
        frame[c] = values
    return frame


def complete_cases(data: pd.DataFrame, formula: str | None = None) -> pd.Series:
    """Return True for the rows with no missing value in any variable the formula uses.

    ``complete_cases(dat, "mathgain ~ ses + mathknow")`` is the handout's ``in_sample``: fit
    every model of a comparison on these rows so that their likelihoods can be compared.
    """
    if not isinstance(formula, str) or not formula.strip():
        raise CourseError("complete_cases() needs the formula of the largest model, e.g. "
                          "complete_cases(dat, 'mathgain ~ ses + mathknow'): R's complete.cases(dat) "
                          "checks every column, which would also drop rows missing a variable no "
                          "model uses.")
    if not isinstance(data, pd.DataFrame):
        raise CourseError("complete_cases() needs a pandas DataFrame first, e.g. complete_cases(dat, formula).")
    check_flat_columns(data)
    data = unambiguous_index(data)
    spec = parse_formula(formula if "~" in formula else "0 ~ " + formula)
    cols = referenced_columns(spec, data)
    functions = {"C", "I", "Q", "factor", "as.factor", "scale", "center", "standardize", "log", "exp", "sqrt"}
    known = {str(c) for c in cols} | functions | {"np", "TRUE", "FALSE", "True", "False"}
    text = _STRING.sub(" ", " ".join([spec.response, spec.fixed] + [t.lhs for t in spec.random]))
    called = set(re.findall(r"(?<![\w.])((?:[^\W\d]|\.)[\w.]*)\s*\(", text))
    strange = sorted(f for f in called if f not in functions and not f.startswith("np.")
                     and f not in {str(c) for c in data.columns})
    if strange:
        raise CourseError(
            f"The formula given to complete_cases uses a function {strange[0]}() that formulas do not "
            "know (they know np.log(...) and numpy's other functions, I(), C() or factor(), scale()). "
            "complete_cases() only needs the columns: give it the formula with plain column names, "
            "e.g. complete_cases(dat, 'mathgain ~ ses + mathknow').")
    words = set(re.findall(r"(?:[^\W\d]|\.)[\w.]*", text))
    unknown = sorted(w for w in words if w not in known and not w.startswith("np.")
                     and not keyword.iskeyword(w) and not w.isdigit())
    unknown += [f for t in spec.random for f in t.factors if f not in data.columns]
    if unknown:
        raise (unquoted_column(formula, data, "formula given to complete_cases")
               or unknown_column(unknown[0], data, "formula given to complete_cases"))
    _check_unique_names(data, cols)
    mask = data[cols].notna().all(axis=1) if cols else pd.Series(True, index=data.index)
    mask.name = "in_sample"
    return mask
