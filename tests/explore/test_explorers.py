"""The interactive explorations (issue 5): pure computations with known answers, figures, wiring.

Known answers come from the handout (lme4 output) and from the model itself (a simulated ICC
converges to sigma_zeta^2 / (sigma_zeta^2 + sigma_eps^2)). No timing is asserted here: the update
times are measured by ``make bench`` (tests/benchmarks/bench_explore.py).
"""
from __future__ import annotations

import base64
import io
import itertools

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mlmcourse import CourseError, chapter
from mlmcourse.engine.ols import least_squares
from mlmcourse.explore import classroom
from mlmcourse.explore.explorers import (
    DATA_SOURCE,
    SIM_SOURCE,
    icc_explorer,
    noise_explorer,
    separate_regressions_explorer,
    variance_partition_explorer,
)
from mlmcourse.explore.fastfit import fit_random_intercept
from mlmcourse.explore.figures import (
    IccFigure,
    NoiseFigure,
    SeparateRegressionsFigure,
    VariancePartitionFigure,
    figure_png,
    icc_alt_text,
    icc_figure,
    icc_headline,
    noise_figure,
    separate_regressions_figure,
    variance_partition_figure,
)
from mlmcourse.explore.sim import (
    group_sizes_with_singletons,
    icc_panel_data,
    model_icc,
    noise_panel_simulated,
    sample_pairs,
    simulate_groups,
    simulate_schools,
)
from mlmcourse.residuals import group_mean_residuals
from mlmcourse.residuals import within_group_pair_correlation as within_pair_correlation

pytestmark = pytest.mark.slow   # the explorations fit the chapter's models and draw figures

# Handout values (lme4 + lmerTest output printed in chapter02_mlm_conceptualization.txt)
FIT1 = {"b0": 465.746, "b1": 10.722, "var_school": 309.0, "sd_school": 17.58, "var_resid": 1308.0,
        "sd_resid": 36.16, "reml": 12038.7}
OLS1 = {"b0": 466.845, "b1": 14.359, "sigma": 40.08}
CONSTRUCTED_SD = 22.43


def png_pixels(png: bytes) -> np.ndarray:
    """Return a PNG's pixels as an RGB array of floats."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)


def share_of_different_pixels(a: bytes, b: bytes) -> float:
    """Return the share of pixels that differ clearly (by more than 40 in a channel) between two PNGs."""
    pa, pb = png_pixels(a), png_pixels(b)
    assert pa.shape == pb.shape
    return float((np.abs(pa - pb).max(axis=2) > 40).mean())


# --- the fast random-intercept fit, against the handout's lme4 numbers ---------------------------

def test_fast_fit_reproduces_handout_fit1(dat):
    """Reproduce the handout's lmer fit1 (estimates, variances, REML criterion) with the fast fit."""
    X = np.column_stack([np.ones(len(dat)), dat["ses"]])
    fit = fit_random_intercept(dat["mathkind"], X, dat["schoolid"])
    assert fit.fixef[0] == pytest.approx(FIT1["b0"], abs=5e-3)
    assert fit.fixef[1] == pytest.approx(FIT1["b1"], abs=5e-3)
    assert fit.sigma_zeta ** 2 == pytest.approx(FIT1["var_school"], abs=0.5)
    assert fit.sigma_zeta == pytest.approx(FIT1["sd_school"], abs=5e-3)
    assert fit.sigma == pytest.approx(FIT1["sd_resid"], abs=5e-3)
    assert fit.reml_criterion == pytest.approx(FIT1["reml"], abs=0.05)


def test_fast_fit_reproduces_handout_unconditional_means_model(dat):
    """Reproduce the REML log-likelihood of the handout's unconditional means model (fit2)."""
    # lmer.fit2 <- lmer(mathgain ~ (1|schoolid)): REML logLik -5888.3 (ranova's <none> row)
    fit = fit_random_intercept(dat["mathgain"], np.ones(len(dat)), dat["schoolid"])
    assert -fit.reml_criterion / 2 == pytest.approx(-5888.3, abs=0.05)


def test_fast_fit_agrees_with_the_course_lmer(dat):
    """Agree with the course's lmer() on the BLUPs (in the schools' order) and sigma."""
    m = classroom.chapter_fit(dat, classroom.RI_MODEL)
    X = np.column_stack([np.ones(len(dat)), dat["ses"]])
    fit = fit_random_intercept(dat["mathkind"], X, dat["schoolid"])
    ranef = m.ranef["schoolid"].iloc[:, 0]
    assert [str(s) for s in ranef.index] == [str(s) for s in np.unique(dat["schoolid"])]
    np.testing.assert_allclose(fit.blups, ranef.to_numpy(float), atol=2e-3)
    assert fit.sigma == pytest.approx(float(m.sigma), rel=1e-4)


def test_fast_fit_boundary_when_groups_do_not_differ():
    """Estimate sigma_zeta 0 and BLUPs 0 when every group has the same mean."""
    # every group has the same mean: the REML estimate of sigma_zeta is 0 and BLUPs are 0
    y = np.tile([1.0, 2.0, 3.0], 20)
    groups = np.repeat(np.arange(20), 3)
    fit = fit_random_intercept(y, np.ones(len(y)), groups)
    assert fit.sigma_zeta == pytest.approx(0.0, abs=1e-3)
    np.testing.assert_allclose(fit.blups, 0.0, atol=1e-3)


def test_blups_are_shrunken_mean_residuals_and_shrink_more_in_small_groups():
    """Check that BLUPs are shrunken mean residuals, shrunken more in smaller groups."""
    sim = simulate_groups(15.0, 36.0, group_sizes_with_singletons(120, 0.3, 6), seed=3)
    fit = fit_random_intercept(sim["y"], np.ones(len(sim)), sim["group"])
    # BLUP = n theta^2 / (1 + n theta^2) * (mean residual from the GLS fit)
    gls_mean_resid = group_mean_residuals(sim["y"] - fit.fixef[0], sim["group"]).to_numpy()
    np.testing.assert_allclose(fit.blups, fit.shrinkage * gls_mean_resid, atol=1e-9)
    by_size = pd.Series(fit.shrinkage, index=fit.group_sizes).groupby(level=0).first().sort_index()
    assert by_size.is_monotonic_increasing and by_size.iloc[0] < by_size.iloc[-1]
    assert ((fit.shrinkage > 0) & (fit.shrinkage < 1)).all()


def test_fast_fit_errors_are_course_errors():
    """Refuse one group or a missing value with a CourseError."""
    with pytest.raises(CourseError):
        fit_random_intercept([1.0, 2.0, 3.0], np.ones(3), [1, 1, 1])       # one group
    with pytest.raises(CourseError):
        fit_random_intercept([1.0, np.nan, 3.0, 4.0], np.ones(4), [1, 1, 2, 2])


def test_constructed_effects_reproduce_handout_sd(dat):
    """Reproduce the handout's SD of the 107 constructed school effects (22.43)."""
    X = np.column_stack([np.ones(len(dat)), dat["ses"]])
    constructed = group_mean_residuals(pd.Series(least_squares(X, dat["mathkind"]).resid), dat["schoolid"])
    assert len(constructed) == 107
    assert np.std(constructed, ddof=1) == pytest.approx(CONSTRUCTED_SD, abs=5e-3)


# --- 1. ICC --------------------------------------------------------------------------------------

def test_model_icc_formula_and_errors():
    """Compute the ICC from the two SDs, 0 and 1 at the ends; refuse negative, zero or missing SDs."""
    assert model_icc(17.58, 36.16) == pytest.approx(309.0 / (309.0 + 1307.5), abs=1e-3)
    assert model_icc(0, 5) == 0 and model_icc(5, 0) == 1
    for bad in [(-1, 5), (0, 0), (np.nan, 3)]:
        with pytest.raises(CourseError):
            model_icc(*bad)


def test_within_pair_correlation_equals_brute_force_over_pairs():
    """Equal the correlation over every ordered pair of students of one school."""
    data = simulate_schools(10, 20, 4, 7, seed=5)
    y, school = data["y"].to_numpy(), data["school"].to_numpy()
    d = y - y.mean()
    products = [d[i] * d[j] for i, j in itertools.permutations(range(len(y)), 2) if school[i] == school[j]]
    expected = np.mean(products) / np.mean(d ** 2)
    assert within_pair_correlation(pd.Series(y), pd.Series(school)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("sigma_zeta, sigma_eps", [(17.6, 36.2), (30.0, 20.0), (0.0, 30.0)])
def test_simulated_pair_correlation_converges_to_the_model_icc(sigma_zeta, sigma_eps):
    """Bring the pair correlation near the model's ICC as the simulation grows."""
    truth = model_icc(sigma_zeta, sigma_eps)
    errors = []
    for n_schools in (50, 5000):
        panel = icc_panel_data(sigma_zeta, sigma_eps, 10, n_schools, seed=11)
        errors.append(abs(panel.pair_correlation - truth))
    assert errors[1] < 0.02
    # averaged over seeds, the small simulation is further from the truth than the large one
    small = np.mean([abs(icc_panel_data(sigma_zeta, sigma_eps, 10, 50, seed=s).pair_correlation - truth)
                     for s in range(1, 21)])
    assert small > errors[1]


def test_simulation_shape_and_reproducibility():
    """Simulate the asked shape, the same for one seed and different for another; refuse impossible sizes."""
    a = simulate_schools(10, 20, 5, 8, seed=2)
    b = simulate_schools(10, 20, 5, 8, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 40 and a.groupby("school").size().eq(5).all()
    assert a.groupby("school")["zeta"].nunique().eq(1).all()
    assert not a["y"].equals(simulate_schools(10, 20, 5, 8, seed=3)["y"])
    with pytest.raises(CourseError):
        icc_panel_data(10, 20, 1, 8)                       # no pair within a school
    with pytest.raises(CourseError):
        simulate_schools(10, 20, 5, 1)


def test_sampled_pairs_are_two_different_students_of_one_school():
    """Sample pairs of two different students of one school."""
    data = simulate_schools(10, 20, 6, 30, seed=4)
    data["y"] = data["school"] * 1000 + np.tile(np.arange(6), 30)   # encode school and student
    pairs = sample_pairs(data, max_pairs=300, seed=1)
    assert len(pairs) == 300
    assert (pairs["first"] // 1000 == pairs["second"] // 1000).all()
    assert (pairs["first"] != pairs["second"]).all()


# --- 2. following the noise ----------------------------------------------------------------------

def test_group_sizes_with_singletons():
    """Give the asked share of one-student groups and the asked mean size for the others."""
    sizes = group_sizes_with_singletons(100, 0.25, 5)
    assert len(sizes) == 100 and (sizes == 1).sum() == 25
    others = sizes[sizes > 1]
    assert others.min() == 2 and others.max() == 8 and others.mean() == pytest.approx(5, abs=0.2)
    with pytest.raises(CourseError):
        group_sizes_with_singletons(100, 1.5, 5)


def test_noise_panel_on_the_data_gives_the_handout_numbers(dat):
    """Reproduce the handout's numbers on the data; BLUPs shrink mean residuals more in small schools."""
    panel = classroom.noise_panel_data(dat)
    assert panel.constructed_sd == pytest.approx(CONSTRUCTED_SD, abs=5e-3)
    assert panel.sigma_zeta_hat == pytest.approx(FIT1["sd_school"], abs=5e-3)
    assert panel.sigma_zeta_true is None and len(panel.groups) == 107
    g = panel.groups
    # each BLUP is its school's mean residual from the mixed model's fixed part, times
    # n sigma_zeta^2 / (n sigma_zeta^2 + sigma^2): the fewer students, the stronger the shrinkage
    m = classroom.chapter_fit(dat, classroom.RI_MODEL)
    b0, b1 = float(m.fixef.iloc[0]), float(m.fixef["ses"])
    mean_resid = group_mean_residuals(dat["mathkind"] - b0 - b1 * dat["ses"], dat["schoolid"]).to_numpy()
    s2z, s2 = FIT1["sd_school"] ** 2, float(m.sigma) ** 2
    lam = g["size"] * s2z / (g["size"] * s2z + s2)
    np.testing.assert_allclose(g["blup"], lam * mean_resid, atol=0.02)
    small = g[g["size"] <= 5]
    large = g[g["size"] >= 15]
    ratio = lambda part: (part["blup"].abs().sum() / part["constructed"].abs().sum())
    assert ratio(small) < ratio(large)


def test_more_one_student_groups_inflate_the_constructed_sd_not_the_estimate():
    """Inflate the constructed SD with one-student groups, while the mixed model stays near the truth."""
    def averaged(share):
        panels = [noise_panel_simulated(10.0, share, 4, n_groups=150, seed=s) for s in range(1, 13)]
        return (np.mean([p.constructed_sd for p in panels]), np.mean([p.sigma_zeta_hat for p in panels]))

    few, many = averaged(0.0), averaged(0.7)
    assert many[0] > few[0] + 5                    # constructed SD follows the noise
    assert few[0] > 10 and many[0] > 10            # and overstates sigma_zeta = 10 in both
    assert abs(few[1] - 10) < 3 and abs(many[1] - 10) < 4   # the mixed model stays near the truth


# --- 3. random intercepts vs separate regressions -----------------------------------------------

def test_school_lines(dat):
    """Give school 5's random-intercept line (parallel), own OLS line and the pooled OLS line."""
    lines = classroom.school_lines(dat, 5)
    m = classroom.chapter_fit(dat, classroom.RI_MODEL)
    assert lines.fixed == pytest.approx((FIT1["b0"], FIT1["b1"]), abs=5e-3)
    assert lines.random_intercept[1] == lines.fixed[1]                         # parallel
    zeta = float(m.ranef["schoolid"].iloc[:, 0].loc[next(i for i in m.ranef["schoolid"].index if str(i) == "5")])
    assert lines.random_intercept[0] == pytest.approx(lines.fixed[0] + zeta)
    school = dat[dat["schoolid"] == 5]
    slope, intercept = np.polyfit(school["ses"], school["mathkind"], 1)
    assert lines.own_ols == pytest.approx((intercept, slope))
    assert abs(lines.own_ols[1] - lines.fixed[1]) > 5                           # not parallel
    assert lines.pooled_ols == pytest.approx((OLS1["b0"], OLS1["b1"]), abs=5e-3)
    assert len(lines.points) == len(school) and len(lines.others) == len(dat) - len(school)
    with pytest.raises(CourseError):
        classroom.school_lines(dat, 999)


def test_own_regressions_not_estimable_in_tiny_schools(dat):
    """Give no own regression for schools of fewer than 3 students."""
    slopes = classroom.own_ols_lines(dat)
    assert len(slopes) == 107
    tiny = slopes[slopes["n"] < 3]
    assert len(tiny) > 0 and tiny["slope"].isna().all()
    lines = classroom.school_lines(dat, int(tiny.index[0]))
    assert lines.own_ols is None and lines.random_intercept[1] == lines.fixed[1]


# --- 4. variance partition ------------------------------------------------------------------------

def test_variance_partition_reproduces_handout_fit3(dat):
    """Reproduce the handout's fit3 variances by level."""
    part = classroom.variance_partition(classroom.chapter_fit(dat, "mathkind ~ ses + (1|schoolid/classid)"))
    assert list(part.index) == ["school", "classroom", "residual"]
    assert part["variance"].tolist() == pytest.approx([301.52, 20.44, 1294.08], abs=0.02)
    assert part["share"].sum() == pytest.approx(1.0)


def test_variance_partition_every_chapter_model(dat):
    """Partition every chapter model's variance into shares that sum to 1, with the handout's numbers."""
    for outcome in ("mathkind", "mathgain"):
        table = classroom.partition_table(dat, outcome)
        shares = table.groupby("model")["share"].sum()
        np.testing.assert_allclose(shares.to_numpy(), 1.0)
    ols = classroom.variance_partition(classroom.chapter_fit(dat, "mathkind ~ ses (OLS, no school effects)"))
    assert ols.loc["residual", "share"] == 1.0
    assert np.sqrt(ols.loc["residual", "variance"]) == pytest.approx(OLS1["sigma"], abs=5e-3)
    fit8 = classroom.variance_partition(classroom.chapter_fit(
        dat, "mathgain ~ ses + mathknow + (1|schoolid/classid), complete cases"))
    assert fit8["variance"].tolist() == pytest.approx([92.11, 104.64, 1018.67], abs=0.02)
    with pytest.raises(CourseError):
        classroom.chapter_fit(dat, "mathkind ~ nonsense")


def test_data_explorations_reject_other_data():
    """Refuse data other than the classroom data with a CourseError."""
    with pytest.raises(CourseError):
        classroom.noise_panel_data(pd.DataFrame({"y": [1.0, 2.0]}))
    with pytest.raises(CourseError):
        chapter.data_key([1, 2, 3])


# --- figures ----------------------------------------------------------------------------------------

def test_icc_figure_updated_in_place_equals_fresh_figure():
    """Draw the same figure updated in place as drawn fresh; its titles say r and the ICC."""
    a, b = icc_panel_data(17.6, 36.2, 10, 60, seed=1), icc_panel_data(35, 10, 3, 60, seed=2)
    live = IccFigure()
    first = live.update(a).png()
    second = live.update(b).png()
    assert share_of_different_pixels(first, second) > 0.005               # the figure changed
    assert share_of_different_pixels(second, figure_png(icc_figure(b))) < 0.002   # same as fresh
    assert share_of_different_pixels(live.update(a).png(), first) == 0.0
    texts = [t.get_text() for t in icc_figure(b).axes[1].texts] + [icc_figure(b).axes[1].get_title(loc="left")]
    assert any(f"r = {b.pair_correlation:.2f}" in t and f"ICC = {b.model_icc:.2f}" in t for t in texts)


def test_icc_headline_says_what_the_current_panel_shows():
    """The figure's title follows the sliders: it names the current ICC and what it means."""
    weak, strong = icc_panel_data(3, 36.2, 10, 60, seed=1), icc_panel_data(35, 10, 3, 60, seed=2)
    live = IccFigure()
    for panel, words in ((weak, "hardly"), (strong, "strongly"), (weak, "hardly")):
        live.update(panel).png()
        headline = live.figure.get_suptitle()
        assert headline == icc_headline(panel) and words in headline
        assert f"ICC {panel.model_icc:.2f}" in headline
    default = icc_panel_data(17.6, 36.2, 10, 60)
    assert icc_headline(default) == "ICC 0.19: two students of one school resemble each other a little"
    assert icc_alt_text(strong).startswith(icc_headline(strong))


def test_noise_figure_both_sources(dat):
    """Draw both sources updated in place as drawn fresh, with the handout's SDs on the bars."""
    data_panel = classroom.noise_panel_data(dat)
    sim = noise_panel_simulated(12, 0.4, 4, seed=2)
    live = NoiseFigure()
    one = live.update(data_panel).png()
    two = live.update(sim).png()
    assert share_of_different_pixels(two, figure_png(noise_figure(sim))) < 0.002
    assert share_of_different_pixels(one, figure_png(noise_figure(data_panel))) < 0.002
    fig = noise_figure(data_panel)
    labels = [t.get_text() for t in fig.axes[1].texts]
    assert "22.43" in labels and "17.58" in labels


def test_separate_regressions_and_partition_figures(dat):
    """Draw the separate-regressions and variance-partition figures updated in place as drawn fresh."""
    lines5, lines12 = classroom.school_lines(dat, 5), classroom.school_lines(dat, 12)
    live = SeparateRegressionsFigure(lines5)
    a = live.update(lines5).png()
    b = live.update(lines12, show_pooled=False).png()
    assert share_of_different_pixels(a, b) > 0.002
    assert share_of_different_pixels(b, figure_png(separate_regressions_figure(lines12, False))) < 0.002
    table = classroom.partition_table(dat, "mathgain")
    models = list(dict.fromkeys(table["model"]))
    live = VariancePartitionFigure(table, "share")
    first, last = live.update(models[0]).png(), live.update(models[-1]).png()
    assert share_of_different_pixels(first, last) > 0.001
    assert share_of_different_pixels(last, figure_png(variance_partition_figure(table, models[-1], "share"))) < 0.002


def test_separate_regressions_figure_has_one_uncrowded_legend(dat):
    """Draw one legend, in one row under both panels, of the lines only.

    The chosen school's students and ring are named in the panel titles; hiding the pooled OLS
    line drops its entry.
    """
    lines = classroom.school_lines(dat, 92)       # 1.3 above average: a line that nearly hides the average line
    live = SeparateRegressionsFigure(lines)
    for show_pooled, entries in ((True, 4), (False, 3), (True, 4)):
        live.update(lines, show_pooled).png()
        assert [ax.get_legend() for ax in live.figure.axes] == [None, None]
        (legend,) = live.figure.legends
        labels = [t.get_text() for t in legend.get_texts()]
        assert len(labels) == entries and legend._ncols == entries
        assert ("OLS ignoring schools" in labels) == show_pooled
    assert "School 92" in live.left_title.get_text() and "(blue)" in live.left_title.get_text()
    assert "1.3 above average" in live.left_title.get_text()
    assert "ring" in live.right.get_title(loc="left")


def test_explorations_draw_in_the_notebook_figures_style():
    """Same dpi, default size and palette as the notebook figures, with the lecture style's fonts.

    The explorations' text is sized for a projector in both modes (mlmcourse.explore.render).
    """
    import matplotlib as mpl
    import seaborn as sns

    from mlmcourse.plots import DPI, FIGSIZE, style_rc

    fig = IccFigure().update(icc_panel_data(17.6, 36.2, 10, 60)).figure
    assert fig.dpi == DPI and tuple(fig.get_size_inches()) == FIGSIZE
    width, height = Image.open(io.BytesIO(figure_png(fig))).size
    assert (width, height) == (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI))
    colorblind = [tuple(c) for c in sns.color_palette("colorblind")]
    assert tuple(mpl.colors.to_rgb(fig.axes[0].collections[0].get_facecolor()[0])) in colorblind
    assert fig.axes[0].yaxis.get_ticklabels()[0].get_fontsize() == style_rc(lecture=True)["ytick.labelsize"]


def test_alt_texts_say_the_numbers(dat):
    """Put the figures' numbers in their alt texts."""
    panel = icc_panel_data(20, 30, 8, 60)
    assert f"{panel.model_icc:.2f}" in icc_alt_text(panel)
    e = noise_explorer(dat)
    assert "22.43" in e.alt and "17.58" in e.alt


# --- widgets: the wiring ---------------------------------------------------------------------------

class FakeHandle:
    """A display handle that records its updates instead of showing them."""

    def __init__(self):
        self.updates = []

    def update(self, obj, **kwargs):
        """Record one update of the displayed output."""
        self.updates.append((obj, kwargs))


def test_icc_explorer_slider_changes_the_figure():
    """Redraw and resend the figure when a slider moves or a new sample is drawn."""
    e = icc_explorer()
    assert e.values == {"sigma_zeta": 17.6, "sigma_eps": 36.2, "n_per_school": 10, "seed": 1}
    e._handle = FakeHandle()
    before = e.png
    e.controls["sigma_zeta"].value = 35.0
    assert e.updates == 1 and e.png != before and e.last_ms is not None
    bundle, kwargs = e._handle.updates[-1]
    assert kwargs["raw"] and base64.b64decode(bundle["image/png"]) == e.png
    assert "35" in kwargs["metadata"]["image/png"]["alt"] and bundle["text/plain"] == e.alt
    assert "35" in e.description.value
    e.buttons["new_sample"].click()
    assert e.values["seed"] == 2 and e.updates == 2


def test_explorer_shows_course_error_and_keeps_the_figure(monkeypatch):
    """Show a CourseError in the message line and keep the last figure."""
    e = icc_explorer()
    before = e.png

    def broken(*args, **kwargs):
        raise CourseError("Something the student can fix.")

    monkeypatch.setattr("mlmcourse.explore.explorers.icc_panel_data", broken)
    e.controls["sigma_eps"].value = 10.0
    assert "Something the student can fix." in e.message.value
    assert e.png == before and e.updates == 0


def test_noise_explorer_switches_source(dat):
    """Switch between the data and a simulation, and back to the same figure."""
    e = noise_explorer(dat)
    assert e.controls["sigma_zeta"].disabled
    first = e.png
    e.controls["source"].value = SIM_SOURCE
    assert not e.controls["sigma_zeta"].disabled and e.png != first
    sim = e.png
    e.controls["share_single"].value = 0.6
    assert e.png != sim
    e.controls["source"].value = DATA_SOURCE
    assert share_of_different_pixels(e.png, first) == 0.0


def test_separate_regressions_explorer(dat):
    """Open on a school that shows what notebook 01 promises; another school changes the figure."""
    e = separate_regressions_explorer(dat)
    slopes = classroom.own_ols_lines(dat).dropna()
    chosen = e.values["school"]
    assert slopes.loc[chosen, "n"] >= 8
    # the school it opens on shows what notebook 01 promises: its random-intercept line is shifted
    # from the average line by more than one SD of the school effects (17.58), and its own OLS
    # line lies farther out still (pulled back towards the average by the mixed model)
    lines = classroom.school_lines(dat, chosen)
    shift = lines.random_intercept[0] - lines.fixed[0]
    assert abs(shift) > 17.58
    assert abs(lines.own_ols[0] - lines.fixed[0]) > abs(shift) + 10
    assert f"{abs(shift):.1f} {'above' if shift > 0 else 'below'} average" in e.alt
    first = e.png
    e.controls["school"].value = 12
    assert e.png != first and "school 12" in e.alt
    with pytest.raises(CourseError):
        separate_regressions_explorer(dat, school=12345)


def test_separate_regressions_figure_names_the_pooled_line_and_says_ses(dat):
    """Say SES on the x axis and name the pooled OLS line in the alt text while it is shown.

    The x axis says SES (00: ses is only centred *near* 0); the alt text names the dash-dotted
    OLS line that ignores schools, with the slope notebook 01 quotes (the handout's OLS 14.359),
    while it is shown, and not after the checkbox hides it.
    """
    e = separate_regressions_explorer(dat)
    pooled = f"the OLS line ignoring schools (dash-dotted, slope {OLS1['b1']:.1f})"
    assert pooled == "the OLS line ignoring schools (dash-dotted, slope 14.4)" and pooled in e.alt
    e.controls["show_pooled"].value = False
    assert "ignoring schools" not in e.alt
    fig = separate_regressions_figure(classroom.school_lines(dat, 103))
    assert fig.axes[0].get_xlabel() == "SES"


@pytest.mark.parametrize("n_schools", [60, 12])
def test_icc_alt_text_names_the_schools_the_figure_shows(n_schools):
    """The alt text counts the schools as the figure's x label does: "20 of the 60 simulated schools"."""
    panel = icc_panel_data(17.6, 36.2, 10, n_schools)
    shown = f"{min(20, n_schools)} of the {n_schools} simulated schools"
    assert shown in icc_alt_text(panel)
    assert icc_figure(panel).axes[0].get_xlabel().startswith(shown)


def test_icc_exploration_first_sample_and_its_sampling_noise():
    """Give the first sample and the sampling noise that notebook 01 quotes.

    Notebook 01 quotes the first sample (r 0.15 against the model's ICC 0.19) and says that most
    new samples of 60 schools give an r within 0.1 of the ICC.
    """
    e = icc_explorer()
    assert "their correlation is 0.15, the model's ICC is 0.19" in e.alt
    icc = model_icc(17.6, 36.2)
    r = np.array([icc_panel_data(17.6, 36.2, 10, 60, seed=seed).pair_correlation for seed in range(1, 101)])
    assert (np.abs(r - icc) < 0.1).mean() >= 0.9
    assert abs(r.mean() - icc) < 0.02     # they scatter around the ICC


def test_variance_partition_explorer(dat):
    """Redraw for another model or scale; refuse a model the chapter does not fit."""
    e = variance_partition_explorer(dat)
    first = e.png
    e.controls["model"].value = "mathgain ~ (1|schoolid/classid)"
    assert e.png != first and "mathgain ~ (1|schoolid/classid)" in e.alt
    e.controls["scale"].value = "variance"
    assert e.updates == 2
    with pytest.raises(CourseError):
        variance_partition_explorer(dat, model="y ~ x")


def test_figures_ignore_the_notebook_style():
    """A seaborn theme or lecture mode set by the notebook does not change the explorations' layout."""
    import matplotlib as mpl
    import seaborn as sns

    panel = icc_panel_data(17.6, 36.2, 10, 60)
    plain = IccFigure().update(panel).png()
    with mpl.rc_context():
        sns.set_theme(context="talk", style="whitegrid", font_scale=1.3)
        themed = IccFigure().update(panel).png()
        assert mpl.rcParams["font.size"] != 10.0        # the theme is really in force here
    assert share_of_different_pixels(plain, themed) == 0.0


@pytest.mark.parametrize("explorer", [noise_explorer, separate_regressions_explorer, variance_partition_explorer])
@pytest.mark.parametrize("bad", [[1, 2, 3], pd.DataFrame({"mathkind": [1.0]})])
def test_data_explorers_explain_wrong_data(explorer, bad):
    """Explain wrong data with a CourseError that names load_classroom()."""
    with pytest.raises(CourseError, match="load_classroom"):
        explorer(bad)


def test_a_burst_of_changes_in_a_running_loop_is_drawn_once_with_the_last_values():
    """Draw a burst of changes in a running loop once, with the last values."""
    import asyncio

    e = icc_explorer()
    e._handle = FakeHandle()

    async def burst():
        for value in (20.0, 25.0, 30.0, 35.0):
            e.controls["sigma_zeta"].value = value
        assert e.updates == 0                      # nothing drawn yet: the redraw is deferred
        await asyncio.sleep(0.3)

    asyncio.run(burst())
    assert e.updates == 1 and len(e._handle.updates) == 1
    assert "sigma_zeta 35," in e._handle.updates[0][1]["metadata"]["image/png"]["alt"]


def test_static_text_of_the_controls_is_readable():
    """Describe the controls in words where no widget can be shown; the figure's text is its alt text."""
    e = icc_explorer()
    text = e._repr_mimebundle_()["text/plain"]
    assert text == "[ICC and dependence: controls that move when the notebook runs in JupyterLab]"
    assert e.bundle()["text/plain"] == e.alt and e.metadata()["image/png"]["alt"] == e.alt


def test_an_exploration_is_its_box_of_controls_and_shows_its_figure_after_it(monkeypatch):
    """Be a VBox of controls that, displayed, shows itself and then its figure.

    The composite pattern: the exploration is a VBox built whole in its constructor; displayed,
    it shows itself (widget + summary) and then its figure as a PNG output that changes replace.
    """
    import ipywidgets as widgets

    from mlmcourse.explore import controls

    e = icc_explorer()
    assert isinstance(e, widgets.VBox)
    assert all(c in e.children for c in (*e.controls.values(), *e.buttons.values(), e.message, e.description))
    shown = []
    monkeypatch.setattr(controls, "display", lambda obj, **kw: shown.append((obj, kw)) or FakeHandle())
    e._ipython_display_()
    (first, first_kw), (second, second_kw) = shown
    assert first_kw == {"raw": True} and first["application/vnd.jupyter.widget-view+json"]["model_id"] == e.model_id
    assert first["text/plain"] == e.summary
    assert second_kw["display_id"] is True and base64.b64decode(second["image/png"]) == e.png
    e.controls["sigma_zeta"].value = 30.0
    assert e._handle.updates and e._handle.updates[-1][0]["text/plain"] == e.alt
