"""Constructed effects: the handout's SDs 22.43 (schools) and 22.12 (classrooms)."""
import numpy as np
import pandas as pd
import pytest

from mlmcourse import CourseError, load_classroom
from mlmcourse.engine.ols import lm
from mlmcourse.residuals import (
    clt_sd_of_group_means,
    group_mean_residuals,
    group_size_weights,
    group_sizes,
    nested_mean_residuals,
    spread_to_rows,
    within_group_pair_correlation,
    within_group_residuals,
)


@pytest.fixture(scope="module")
def dat():
    return load_classroom()


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
    assert group_sizes(school).to_dict() == {1: 2, 2: 3}
    assert group_size_weights(school).tolist() == pytest.approx([0.4, 0.6])


def test_clt_sd_formula_and_simulation():
    sizes = np.array([1, 4, 9, 16])
    assert clt_sd_of_group_means(6.0, sizes) == pytest.approx(np.sqrt(np.mean(36 / sizes)))
    # with no group effect, simulated group means have this SD
    rng = np.random.default_rng(0)
    draws = np.concatenate([[rng.normal(0, 6.0, n).mean() for n in sizes] for _ in range(4000)])
    assert np.sqrt(np.mean(draws ** 2)) == pytest.approx(clt_sd_of_group_means(6.0, sizes), rel=0.03)
    with pytest.raises(CourseError):
        clt_sd_of_group_means(6.0, [0, 2])


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
