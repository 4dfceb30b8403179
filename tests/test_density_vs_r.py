"""Notebook 02 draws the density of the school mean residuals with seaborn's ``kdeplot(...,
bw_adjust=0.8)`` and says how close that comes to R's ``density()``: the same curve unweighted
(on this data), and with ``weights=`` a bandwidth about 5% narrower than R's (6.73 against 7.09)
and a peak about 1.5% higher. R's curves come from tests/reference/make_density_reference.R.
"""
import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import seaborn as sns
import statsmodels.formula.api as smf
from scipy import stats

from mlmcourse import load_classroom

matplotlib.use("Agg")
import matplotlib.pyplot as plt

REFERENCE = json.loads((Path(__file__).parent / "reference" / "density_reference.json").read_text())


@pytest.fixture(scope="module")
def school_means():
    dat = load_classroom()
    dat["res1"] = smf.ols("mathkind ~ ses", data=dat).fit().resid
    res1mean = dat.groupby("schoolid")["res1"].mean()
    wts = dat["schoolid"].value_counts(normalize=True)
    return res1mean, wts


def seaborn_curve(res1mean, weights=None):
    """The curve notebook 02 draws, read back from the figure."""
    fig, ax = plt.subplots()
    try:
        if weights is None:
            sns.kdeplot(res1mean, bw_adjust=0.8, ax=ax)
        else:
            sns.kdeplot(x=res1mean, weights=weights, bw_adjust=0.8, ax=ax)
        x, y = ax.lines[0].get_data()
    finally:
        plt.close(fig)
    return np.asarray(x), np.asarray(y)


def r_curve_at(kind, x):
    ref = REFERENCE[kind]
    return np.interp(x, ref["x"], ref["y"])


def test_unweighted_curve_is_rs(school_means):
    res1mean, _ = school_means
    x, y = seaborn_curve(res1mean)
    inside = (x >= min(REFERENCE["unweighted"]["x"])) & (x <= max(REFERENCE["unweighted"]["x"]))
    r = r_curve_at("unweighted", x[inside])
    assert np.max(np.abs(y[inside] - r)) / max(REFERENCE["unweighted"]["y"]) < 0.005


def test_weighted_curve_is_narrower_than_rs_as_notebook_02_says(school_means):
    res1mean, wts = school_means
    x, y = seaborn_curve(res1mean, wts)
    kde = stats.gaussian_kde(res1mean.to_numpy(), weights=wts.reindex(res1mean.index).to_numpy())
    kde.set_bandwidth(kde.factor * 0.8)                        # seaborn's bw_adjust
    assert np.allclose(kde(x), y, rtol=1e-6)                   # this is the curve seaborn draws
    bw, bw_r = np.sqrt(kde.covariance[0, 0]), REFERENCE["weighted"]["bw"]
    assert (round(bw, 2), round(bw_r, 2)) == (6.73, 7.09)
    assert 1 - bw / bw_r == pytest.approx(0.05, abs=0.005)                        # "about 5% narrower"
    r = r_curve_at("weighted", x)
    assert y.max() / max(REFERENCE["weighted"]["y"]) - 1 == pytest.approx(0.015, abs=0.005)   # "peak 1.5% higher"
    assert abs(x[np.argmax(y)] - x[np.argmax(r)]) < 1.0                           # the same main peak
    assert np.max(np.abs(y - r)) / r.max() < 0.02                                 # and the same shape
