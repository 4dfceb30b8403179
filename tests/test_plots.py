"""The course's figure style (set_style / style_rc) and the path diagram.

The notebooks draw their figures with seaborn and matplotlib themselves; what the package owes
them is one style call that makes those figures read on a projector, and the path diagram.
"""
import warnings

import matplotlib

matplotlib.use("Agg")
import io

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
import seaborn as sns
from PIL import Image

from mlmcourse import load_classroom
from mlmcourse import plots as P


@pytest.fixture(autouse=True)
def _restore_rcparams():
    with mpl.rc_context():
        yield
    plt.close("all")


def test_style_is_the_colorblind_palette_at_120_dpi():
    rc = P.style_rc()
    cycle = [mpl.colors.to_rgb(c) for c in rc["axes.prop_cycle"].by_key()["color"]]
    assert cycle == [tuple(c) for c in sns.color_palette("colorblind")]
    assert rc["figure.dpi"] == rc["savefig.dpi"] == P.DPI == 120
    assert tuple(rc["figure.figsize"]) == P.FIGSIZE
    assert rc["figure.autolayout"] is True


def test_set_style_makes_sharp_figures_of_the_output_area_width():
    P.set_style(lecture=False)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)        # as the inline backend does: dpi=fig.dpi
    width, height = Image.open(buf).size
    assert (width, height) == (1152, 576)             # JupyterLab's output width on a 1280 x 720 screen
    # an 11-point tick label is 18 pixels high at this resolution
    assert mpl.rcParams["xtick.labelsize"] * P.DPI / 72 >= 18


def test_lecture_style_is_bigger():
    P.set_style(lecture=False)
    normal = (plt.rcParams["font.size"], plt.rcParams["lines.linewidth"], plt.rcParams["xtick.labelsize"])
    P.set_style(lecture=True)
    big = (plt.rcParams["font.size"], plt.rcParams["lines.linewidth"], plt.rcParams["xtick.labelsize"])
    assert all(b > n for b, n in zip(big, normal))
    P.set_style(lecture=False)


def test_seaborn_boxplot_draws_without_a_warning_in_the_course_style():
    """seaborn 0.13.2 passes matplotlib 3.11's deprecated ``vert``: set_style keeps that warning (about
    seaborn's code, not the student's) out of the notebooks' outputs, and nothing else."""
    dat = load_classroom()
    P.set_style()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        P.set_style()                                   # its filter goes in front of "error"
        sns.boxplot(data=dat, x="schoolid", y="mathkind")
    with pytest.warns(mpl.MatplotlibDeprecationWarning, match="something else"):
        warnings.warn("something else", mpl.MatplotlibDeprecationWarning, stacklevel=1)


def test_path_diagram_draws_the_latent_trait():
    P.set_style()
    fig = P.path_diagram()
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert r"$\zeta_k$" in texts and r"$Y_{ijk}$" in texts
    # the middle ovals are 01's composite errors eps' = zeta_k + eps (zeta_k is the structured part)
    assert r"composite errors $\varepsilon'$" in texts
    assert not any("structured" in t for t in texts)
    assert len(fig.axes[0].patches) >= 7  # 1 latent + 2 errors + 2 outcomes + arrows
    assert fig.axes[0].get_title()
    assert plt.fignum_exists(fig.number)  # a pyplot figure: the notebook shows it at the end of the cell


def test_profile_plot_draws_lme4s_zeta_panels_with_the_boundary():
    """plot_profile: one panel per parameter; the dashed 95% lines stand at confint's ends; the
    classroom SD's curve of fit3 stops at SD = 0 (the boundary) above zeta = -1.96."""
    import warnings as w

    from mlmcourse import confint, lmer
    from mlmcourse.engine.profile import profile
    with w.catch_warnings():
        w.simplefilter("ignore")
        fit3 = lmer("mathkind ~ ses + (1|schoolid/classid)", data=load_classroom())
    prof = profile(fit3)
    fig = P.plot_profile(prof)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    ci = confint(prof)
    assert [ax.get_title().replace("\n", "") for ax in panels] == list(ci.index)
    for ax, (lo, hi) in zip(panels, ci.to_numpy()):
        dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        xs = sorted(ln.get_xdata()[0] for ln in dashed)
        assert np.allclose(xs, [lo, hi], rtol=1e-6, atol=1e-9)
    boundary = [t.get_text() for t in panels[0].texts]
    assert any("boundary" in t for t in boundary)
    assert not any(t.texts for t in panels[1:])
    text = P.describe_profile(prof)
    assert "sd_(Intercept)|classid:schoolid from 0 (the boundary) to 10.72" in text
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    width, height = Image.open(buf).size
    assert width <= 1152 and height <= 720         # fits a 1280 x 720 projector


def test_profile_plot_of_three_parameters_has_one_full_width_panel_per_row_in_large_type():
    """Readable at 1280 x 720: up to three panels are stacked, each the figure's full width, with
    tick labels of at least 12 pt; five panels go two per row; the figure stays within 1152 x 720."""
    import warnings as w

    from mlmcourse import lmer
    from mlmcourse.engine.profile import profile
    with w.catch_warnings():
        w.simplefilter("ignore")
        fit3 = lmer("mathkind ~ ses + (1|schoolid/classid)", data=load_classroom())
    prof = profile(fit3)
    for parm, columns in [("theta_", 1), (None, 2)]:
        fig = P.plot_profile(prof, parm=parm)
        panels = [ax for ax in fig.axes if ax.get_visible()]
        assert len({round(ax.get_position().x0, 3) for ax in panels}) == columns
        assert len(panels) == (3 if parm else 5)
        sizes = [t.get_fontsize() for ax in panels for t in ax.get_xticklabels() + ax.get_yticklabels()]
        assert min(sizes) >= 12
        width, height = (fig.get_size_inches() * fig.dpi).round()
        assert width <= 1152 and height <= 720
        plt.close(fig)


def test_profile_plot_bad_level_is_a_course_error():
    import warnings as w

    from mlmcourse import CourseError, lmer
    with w.catch_warnings():
        w.simplefilter("ignore")
        m = lmer("mathgain ~ (1|schoolid)", data=load_classroom())
    with pytest.raises(CourseError):
        P.plot_profile(m, levels=(0.5, 95))
