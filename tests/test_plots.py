"""The course's figure style (set_style / style_rc) and the path diagram.

The notebooks draw their figures with seaborn and matplotlib themselves; what the package owes
them is one style call that makes those figures read on a projector, and the path diagram.
"""
import warnings

import matplotlib

matplotlib.use("Agg")
import io  # noqa: E402

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402
from PIL import Image  # noqa: E402

from mlmcourse import load_classroom  # noqa: E402
from mlmcourse import plots as P  # noqa: E402


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
    assert len(fig.axes[0].patches) >= 7  # 1 latent + 2 errors + 2 outcomes + arrows
    assert fig.axes[0].get_title()
    assert plt.fignum_exists(fig.number)  # a pyplot figure: the notebook shows it at the end of the cell
