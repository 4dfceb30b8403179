"""The explorations' figures are legible on a 1280 x 720 projector: large text, none cut or overlapping.

Their layouts are fixed (mlmcourse.explore.render), so a longer caption or a larger font can push
a text out of the figure or onto another one; this test measures every text's box as drawn.
"""
import itertools

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from mlmcourse.explore import classroom
from mlmcourse.explore.figures import (
    icc_figure,
    noise_figure,
    separate_regressions_figure,
    variance_partition_figure,
)
from mlmcourse.explore.render import course_style
from mlmcourse.explore.sim import icc_panel_data, noise_panel_simulated
from mlmcourse.plots import style_rc

SMALLEST = style_rc(lecture=True)["xtick.labelsize"]   # 14.3 points: 17 screen pixels at 1280 x 720


def _in_view(ticks, labels, limits) -> list:
    """Return the tick labels drawn: those of ticks inside the axis' limits."""
    lo, hi = sorted(limits)
    return [label for x, label in zip(ticks, labels) if lo - 1e-9 <= x <= hi + 1e-9]


@course_style
def _drawn_texts(fig) -> list:
    """Draw ``fig``; return its visible texts (tick labels inside the limits only) with their boxes in pixels."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    hidden = set()                      # labels of ticks outside the axes' limits are not drawn
    for ax in fig.axes:
        for ticks, labels, limits in ((ax.get_xticks(), ax.get_xticklabels(), ax.get_xlim()),
                                      (ax.get_yticks(), ax.get_yticklabels(), ax.get_ylim())):
            hidden |= {id(t) for t in labels} - {id(t) for t in _in_view(ticks, labels, limits)}
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in hidden]
    return [(t, t.get_window_extent(renderer)) for t in texts]


def _figures(dat) -> dict:
    """Return each exploration's figure in the states that change its texts most."""
    figures = {"icc": icc_figure(icc_panel_data(17.6, 36.2, 10, 60)),
               "icc, 12 schools": icc_figure(icc_panel_data(35, 10, 3, 12, seed=2)),
               "noise, data": noise_figure(classroom.noise_panel_data(dat)),
               "noise, simulation": noise_figure(noise_panel_simulated(12, 0.4, 4, seed=2))}
    for school in (5, 103):
        for pooled in (True, False):
            figures[f"school {school}, pooled {pooled}"] = separate_regressions_figure(
                classroom.school_lines(dat, school), pooled)
    for outcome in ("mathkind", "mathgain"):
        table = classroom.partition_table(dat, outcome)
        last = list(dict.fromkeys(table["model"]))[-1]      # the longest name, in the headline
        for scale in ("share", "variance"):
            figures[f"{outcome}, {scale}"] = variance_partition_figure(table, last, scale)
    return figures


@pytest.fixture(scope="module")
def drawn(dat) -> dict:
    """Return the figures' drawn texts and sizes, by figure."""
    return {name: (_drawn_texts(fig), fig.bbox) for name, fig in _figures(dat).items()}


def test_every_text_is_large(drawn):
    """No text is smaller than the lecture style's tick labels (ticks, legends, notes, labels on bars)."""
    for name, (texts, _) in drawn.items():
        small = [t.get_text() for t, _ in texts if t.get_fontsize() < SMALLEST - 1e-9]
        assert small == [], name


def test_no_text_is_cut_or_covers_another(drawn):
    """Every text lies inside its figure, and no two texts overlap."""
    for name, (texts, bbox) in drawn.items():
        outside = [t.get_text() for t, box in texts
                   if box.x0 < bbox.x0 - 1 or box.y0 < bbox.y0 - 1 or box.x1 > bbox.x1 + 1 or box.y1 > bbox.y1 + 1]
        assert outside == [], name
        overlapping = [(a.get_text(), b.get_text()) for (a, box_a), (b, box_b) in itertools.combinations(texts, 2)
                       if box_a.overlaps(box_b)]
        assert overlapping == [], name
