"""The rows a model uses: ``subset`` first, then rows with a missing value in any variable the
formula uses are dropped (and counted), as lme4's model.frame does; and ``complete_cases``, the
rows a comparison of models must share (the handout's ``in_sample``)."""
from __future__ import annotations

import difflib
import keyword
import re

import numpy as np
import pandas as pd

from ..errors import CourseError
from .formula import FormulaSpec, parse_formula

_NAME = re.compile(r"Q\(\s*['\"]([^'\"]+)['\"]\s*\)|[A-Za-z_.][A-Za-z0-9_.]*")
SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def unknown_column(name: str, data: pd.DataFrame, where: str) -> CourseError:
    close = difflib.get_close_matches(name, [str(c) for c in data.columns], n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return CourseError(
        f"The {where} uses a column '{name}' that is not in the data.{hint} "
        f"The data's columns are: {', '.join(map(str, data.columns))}."
    )


def referenced_columns(spec: FormulaSpec, data: pd.DataFrame) -> list[str]:
    """The data columns a formula uses (for missing-value handling), in order."""
    cols = {str(c): c for c in data.columns}
    found: list[str] = []
    pieces = [spec.response, spec.fixed] + [t.lhs for t in spec.random] + [t.group for t in spec.random]
    for piece in pieces:
        for m in _NAME.finditer(piece):
            name = m.group(1) or m.group(0)
            if name in cols and cols[name] not in found:
                found.append(cols[name])
    return found


def subset_mask(subset, data: pd.DataFrame) -> pd.Series:
    """subset= as a True/False Series on data's index (aligned by label, never by position)."""
    if isinstance(subset, pd.Series):
        if not subset.index.equals(data.index):
            if len(subset.index) != len(data.index) or not subset.index.isin(data.index).all():
                raise CourseError("subset= is a Series whose index does not match the data's rows. "
                                  "Build it from the same DataFrame, e.g. complete_cases(dat, formula).")
            subset = subset.reindex(data.index)
        mask = subset
    else:
        values = np.asarray(subset)
        if values.ndim != 1 or len(values) != len(data):
            raise CourseError(f"subset= has {values.size} values but the data has {len(data)} rows: "
                              "give one True/False per row, e.g. complete_cases(dat, formula).")
        mask = pd.Series(values, index=data.index)
    if mask.dtype != bool:
        raise CourseError("subset= must be True/False for each row (e.g. the result of complete_cases).")
    return mask


def select_rows(spec: FormulaSpec, data: pd.DataFrame, subset) -> tuple[pd.DataFrame, int, int, list[str]]:
    if subset is not None:
        frame = data.loc[subset_mask(subset, data).to_numpy()]
    else:
        frame = data
    n_subset_out = len(data) - len(frame)
    variables = referenced_columns(spec, data)
    response_missing = spec.response not in data.columns and spec.response not in variables
    if response_missing and SAFE_NAME.match(spec.response):
        raise unknown_column(spec.response, data, "outcome")
    for t in spec.random:
        for f in t.factors:
            if f not in data.columns:
                raise unknown_column(f, data, f"random-effects term {t.source}")
    present = frame[variables].notna() if variables else pd.DataFrame(index=frame.index)
    complete = present.all(axis=1) if variables else pd.Series(True, index=frame.index)
    with_na = [str(c) for c in variables if not present[c].all()]
    return frame.loc[complete], int((~complete).sum()), n_subset_out, variables, with_na




def complete_cases(data: pd.DataFrame, formula: str) -> pd.Series:
    """True for the rows with no missing value in any variable the formula uses.

    ``complete_cases(dat, "mathgain ~ ses + mathknow")`` is the handout's ``in_sample``: fit
    every model of a comparison on these rows so that their likelihoods can be compared."""
    if not isinstance(formula, str) or not formula.strip():
        raise CourseError("complete_cases() needs the formula of the largest model, e.g. "
                          "complete_cases(dat, 'mathgain ~ ses + mathknow').")
    spec = parse_formula(formula if "~" in formula else "0 ~ " + formula)
    cols = referenced_columns(spec, data)
    known = set(cols) | {"C", "I", "Q", "np", "factor", "log", "exp", "sqrt", "center", "standardize"}
    words = set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", " ".join(
        [spec.response, spec.fixed] + [t.lhs for t in spec.random] + [t.group for t in spec.random])))
    unknown = sorted(w for w in words if w not in known and not w.startswith("np.")
                     and not keyword.iskeyword(w) and not w.isdigit())
    if unknown:
        raise unknown_column(unknown[0], data, "formula given to complete_cases")
    mask = data[cols].notna().all(axis=1) if cols else pd.Series(True, index=data.index)
    mask.name = "in_sample"
    return mask
