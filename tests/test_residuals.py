"""Constructed effects: the handout's SDs 22.43 (schools) and 22.12 (classrooms), from the helpers
(used by the quiz and the explorations) and from the pandas idioms the notebooks teach."""
import numpy as np
import pandas as pd
import pytest

from mlmcourse import CourseError
from mlmcourse.engine.ols import lm
from mlmcourse.residuals import (
    group_mean_residuals,
    nested_mean_residuals,
    spread_to_rows,
    within_group_pair_correlation,
    within_group_residuals,
)


@pytest.fixture(scope="module")
def res1(dat):
    return lm("mathkind ~ ses", data=dat).resid


def test_school_mean_residuals_sd_is_handouts(dat, res1):
    m = group_mean_residuals(res1, dat["schoolid"])
    assert len(m) == 107
    assert list(m.index) == sorted(dat["schoolid"].unique())
    assert round(m.std(), 2) == 22.43          # R: sd(res1mean) = 22.43478786
    assert m.std() == pytest.approx(22.43478786, abs=1e-7)


def test_classroom_mean_of_school_differenced_sd_is_handouts(dat, res1):
    c = nested_mean_residuals(res1, dat["schoolid"], dat["classid"])
    assert len(c) == 312
    assert round(c.std(), 2) == 22.12          # R: sd(cls_res2) = 22.11920811
    assert c.std() == pytest.approx(22.11920811, abs=1e-7)


def test_small_example_by_hand():
    resid = pd.Series([1.0, 3.0, -2.0, -4.0, 6.0])
    school = pd.Series([1, 1, 2, 2, 2])
    klass = pd.Series([10, 11, 20, 20, 21])
    m = group_mean_residuals(resid, school)
    assert m.to_dict() == {1: 2.0, 2: 0.0}
    assert spread_to_rows(m, school).tolist() == [2.0, 2.0, 0.0, 0.0, 0.0]
    assert within_group_residuals(resid, school).tolist() == [-1.0, 1.0, -2.0, -4.0, 6.0]
    assert nested_mean_residuals(resid, school, klass).to_dict() == {10: -1.0, 11: 1.0, 20: -3.0, 21: 6.0}


def test_the_notebooks_pandas_idioms_give_the_helpers_numbers(dat, res1):
    """Notebook 02 teaches groupby / map / transform / value_counts; they agree with the helpers."""
    d = dat.assign(res1=res1)
    res1mean = d.groupby("schoolid")["res1"].mean()                      # R: tapply(res1, schoolid, mean)
    pd.testing.assert_series_equal(res1mean, group_mean_residuals(res1, dat["schoolid"]), check_names=False)
    sch_res1 = d["res1"] - d["schoolid"].map(res1mean)                   # R: res1mean[match(schoolid, ...)]
    by_transform = d["res1"] - d.groupby("schoolid")["res1"].transform("mean")
    np.testing.assert_allclose(sch_res1, by_transform, atol=1e-9)
    np.testing.assert_allclose(sch_res1, within_group_residuals(res1, dat["schoolid"]), atol=1e-9)
    cls_res2 = sch_res1.groupby(d["classid"]).mean()                     # R: tapply(sch_res1, classid, mean)
    np.testing.assert_allclose(cls_res2, nested_mean_residuals(res1, dat["schoolid"], dat["classid"]), atol=1e-9)
    assert round(res1mean.std(), 2) == 22.43 and round(cls_res2.std(), 2) == 22.12   # ddof=1, as R's sd()
    wts = d["schoolid"].value_counts(normalize=True)                     # R: prop.table(table(schoolid))
    assert wts.sum() == pytest.approx(1.0) and wts.sort_index().index.equals(res1mean.index)
    per_student = d.groupby("schoolid")["res1"].transform("mean")
    np.testing.assert_allclose(per_student, spread_to_rows(res1mean, dat["schoolid"]), atol=1e-12)


def test_misaligned_inputs_are_course_errors():
    with pytest.raises(CourseError, match="different lengths"):
        group_mean_residuals([1.0, 2.0], [1])
    with pytest.raises(CourseError, match="unique"):
        nested_mean_residuals(pd.Series([1.0, 2.0]), pd.Series([1, 2]), pd.Series([5, 5]))


def test_pair_correlation_equals_explicit_pairs():
    rng = np.random.default_rng(3)
    groups = pd.Series(np.repeat(np.arange(30), rng.integers(1, 7, 30)))
    shared = rng.normal(0, 2, 30)[groups]
    values = pd.Series(shared + rng.normal(0, 1, len(groups)))
    xs, ys = [], []
    for _, d in values.groupby(groups):
        a = d.to_numpy()
        for i in range(len(a)):
            for j in range(len(a)):
                if i != j:
                    xs.append(a[i])
                    ys.append(a[j])
    assert within_group_pair_correlation(values, groups) == pytest.approx(np.corrcoef(xs, ys)[0, 1], abs=1e-12)
    with pytest.raises(CourseError):
        within_group_pair_correlation(pd.Series([1.0, 2.0]), pd.Series([1, 2]))
