"""lm() with aliased columns: R's lm drops them (pivoted QR in the formula's order, tolerance
1e-7) and prints them as NA; a constant outcome is refused. Reference: tests/reference/
make_lm_reference.R (R's lm and summary.lm)."""
import json
import warnings
from pathlib import Path

import pytest

from mlmcourse import CourseError
from mlmcourse.engine.ols import lm

REF = json.loads((Path(__file__).parents[1] / "reference" / "lm_reference.json").read_text())
CASES = {
    "housepov_school": ("mathkind ~ housepov + factor(schoolid)", {}),
    "constant_column": ("mathkind ~ ses + k", {"k": 3.0}),
    "twice_ses": ("mathkind ~ ses + I(2*ses)", {}),
}


def _fit(dat, case):
    formula, extra = CASES[case]
    data = dat.assign(**extra) if extra else dat
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # R's lm says nothing beyond the summary's NA rows
        return lm(formula, data=data)


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_are_rs(dat, case):
    ref = REF[case]
    fit = _fit(dat, case)
    table = fit.coef_table
    assert list(table.index) == list(ref["coef"])
    for name, value in ref["coef"].items():
        if value is None:
            assert name in ref["aliased"]
            assert table.loc[name].isna().all()
        else:
            assert table.loc[name, "Estimate"] == pytest.approx(value, rel=1e-7, abs=1e-7)
            assert table.loc[name, "Std. Error"] == pytest.approx(ref["se"][name], rel=1e-7)
    assert fit.df_resid == ref["df_resid"]
    assert fit.sigma == pytest.approx(ref["sigma"], rel=1e-9)
    assert fit.rsquared == pytest.approx(ref["r_squared"], rel=1e-9)


@pytest.mark.parametrize("case", list(CASES))
def test_summary_prints_rs_lines(dat, case):
    text = _fit(dat, case).summary_text().split("\n")  # its last line is empty, as print(summary) ends
    ref = [line.replace("\u2018", "'").replace("\u2019", "'") for line in REF[case]["lines"]]
    start = next(i for i, line in enumerate(ref) if line.startswith("Coefficients:"))
    assert text[start - 1:] == ref[start - 1:]


def test_housepov_is_not_the_pseudo_inverse_split(dat):
    fit = _fit(dat, "housepov_school")
    assert fit.coef_table.loc["housepov", "Estimate"] == pytest.approx(61.4354, abs=5e-5)
    assert fit.coef_table.loc["(Intercept)", "Estimate"] == pytest.approx(453.3259, abs=5e-5)


def test_constant_outcome_is_refused(dat):
    with pytest.raises(CourseError, match="same value"):
        lm("k ~ ses", dat.assign(k=1.0))


def test_more_columns_than_rows_but_few_defined():
    """R's lm fits 5 rows with 7 columns of which 2 are defined: the others are NA."""
    import pandas as pd
    d = pd.DataFrame({"y": [1.0, 3.0, 2.0, 5.0, 4.0], "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    for k in range(2, 7):
        d[f"x{k}"] = k * d["x"]
    fit = lm("y ~ x + x2 + x3 + x4 + x5 + x6", d)
    simple = lm("y ~ x", d)
    assert fit.aliased == ["x2", "x3", "x4", "x5", "x6"]
    assert fit.coef[["(Intercept)", "x"]].to_numpy() == pytest.approx(simple.coef.to_numpy(), rel=1e-12)
