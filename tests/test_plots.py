"""The handout's figures: each returns a Figure with a title and labelled axes; alt text required."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mlmcourse import CourseError, load_classroom  # noqa: E402
from mlmcourse import plots as P  # noqa: E402
from mlmcourse import residuals as R  # noqa: E402
from mlmcourse.engine.ols import lm  # noqa: E402


@pytest.fixture(scope="module")
def setup():
    dat = load_classroom()
    fit = lm("mathkind ~ ses", data=dat)
    means = R.group_mean_residuals(fit.resid, dat["schoolid"])
    return dat, fit, means


def _check(fig):
    assert isinstance(fig, matplotlib.figure.Figure)
    titled = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert any(titled) or (fig._suptitle is not None and fig._suptitle.get_text())
    drawn = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    if drawn:  # (the path diagram has no axes to label)
        assert any(ax.get_xlabel() for ax in drawn) and any(ax.get_ylabel() for ax in drawn)
    plt.close(fig)


def test_every_figure_builds(setup):
    dat, fit, means = setup
    sizes = R.group_sizes(dat["schoolid"])
    cls = R.nested_mean_residuals(fit.resid, dat["schoolid"], dat["classid"])
    intercepts = 465.0 + means * 0.6
    sep = pd.DataFrame({"intercept": 466.8 + means, "slope": np.linspace(-5, 5, len(means))},
                       index=means.index)
    figs = [P.school_scatter(dat, fit.fitted), P.residual_boxplot(fit.resid, dat["schoolid"]),
            P.group_means_by_index(means), P.group_means_density(means),
            P.weighted_vs_unweighted_density(means, R.group_size_weights(dat["schoolid"])),
            P.classroom_density(cls), P.noise_by_group_size(cls, R.group_sizes(dat["classid"]), cls * 0.3),
            P.path_diagram(), P.latent_trait_strips(fit.resid, dat["schoolid"]),
            P.random_intercept_lines(dat, intercepts, 10.7, overall_intercept=465.7),
            P.separate_vs_random(sep, intercepts, sizes), P.level2_intercepts(intercepts, 465.7, 17.58)]
    for fig in figs:
        _check(fig)


def test_scatter_has_24_panels_in_6_columns(setup):
    dat, fit, _ = setup
    fig = P.school_scatter(dat, fit.fitted)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 24
    assert fig.axes[0].get_gridspec().ncols == 6
    assert visible[0].get_title() == "school 1"
    plt.close(fig)


def test_boxplot_is_ordered_by_median(setup):
    dat, fit, _ = setup
    fig = P.residual_boxplot(fit.resid, dat["schoolid"])
    labels = [int(t.get_text()) for t in fig.axes[0].get_xticklabels()]
    med = fit.resid.groupby(dat["schoolid"]).median()
    assert labels == list(med.sort_values().index)
    plt.close(fig)


def test_r_density_integrates_to_one_and_weights_matter(setup):
    dat, _, means = setup
    g, d = P.r_density(means)
    assert np.trapezoid(d, g) == pytest.approx(1.0, abs=0.01)
    # R: max(density(res1mean)$y) = 0.02012, with weights = prop.table(table(schoolid)): 0.02144
    assert d.max() == pytest.approx(0.02012, abs=2e-5)
    g2, d2 = P.r_density(means, R.group_size_weights(dat["schoolid"]))
    assert d2.max() == pytest.approx(0.02144, abs=2e-5)
    assert g2[d2.argmax()] == pytest.approx(-10.08, abs=0.2)


def test_path_diagram_draws_the_latent_trait():
    fig = P.path_diagram()
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert r"$\zeta_k$" in texts and r"$Y_{ijk}$" in texts
    assert len(fig.axes[0].patches) >= 7  # 1 latent + 2 errors + 2 outcomes + arrows
    plt.close(fig)


def test_show_needs_alt_text_and_passes_it(monkeypatch):
    seen = {}

    def fake_display(obj, metadata=None):
        seen["obj"], seen["metadata"] = obj, metadata

    import IPython.display
    monkeypatch.setattr(IPython.display, "display", fake_display)
    fig = P.path_diagram()
    with pytest.raises(CourseError):
        P.show(fig, alt=" ")
    P.show(fig, alt="a path diagram")
    assert seen["metadata"] == {"image/png": {"alt": "a path diagram"}}
    assert not plt.fignum_exists(fig.number)


def test_lecture_style_is_bigger():
    P.set_style(lecture=False)
    normal = (plt.rcParams["font.size"], plt.rcParams["lines.linewidth"])
    P.set_style(lecture=True)
    try:
        big = (plt.rcParams["font.size"], plt.rcParams["lines.linewidth"])
        assert big[0] > normal[0] and big[1] > normal[1]
        fig = P.group_means_by_index([1.0, -1.0, 2.0])
        assert fig.get_size_inches()[0] > 8
        plt.close(fig)
    finally:
        P.set_style(lecture=False)


def test_missing_column_is_a_course_error(setup):
    dat, fit, _ = setup
    with pytest.raises(CourseError, match="sesx"):
        P.school_scatter(dat, fit.fitted, x="sesx")


def test_fast_boxes_match_matplotlib_boxplot_stats():
    from matplotlib import cbook
    rng = np.random.default_rng(5)
    for n in (2, 5, 13, 40):
        v = np.r_[rng.normal(0, 10, n), [60.0, -70.0]]
        ref = cbook.boxplot_stats(v)[0]
        q1, med, q3, lo, hi, out = P._tukey_box(v)
        assert (q1, med, q3, lo, hi) == pytest.approx((ref["q1"], ref["med"], ref["q3"], ref["whislo"], ref["whishi"]))
        assert sorted(out) == pytest.approx(sorted(ref["fliers"]))
