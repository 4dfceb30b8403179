"""The explorations' canvas: their fixed style, figure layout, PNG rendering, and fast updates.

``LiveFigure`` is a figure built once and updated in place; ``FastPng`` renders it by blitting.

matplotlib spends most of a redraw on ticks, labels and titles. An exploration's figure keeps
its axes fixed, so those are drawn once into a background; each update restores the background,
draws only the changing ("dynamic") artists and encodes the pixels as PNG: tens of milliseconds
instead of a full redraw. Backgrounds are kept per "static key" (e.g. a checkbox's state), so
going back to an earlier state is fast too.
"""
from __future__ import annotations

import functools
import io

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from ..plots import DPI, palette, style_rc

PALETTE = palette()
BLUE, ORANGE, GREEN, RED, PURPLE, BROWN, PINK, GREY = (PALETTE[i] for i in range(8))
FIGSIZE = (9.6, 4.8)   # the notebook figures' default size: 1152 x 576 pixels at the course's 120 dpi
FONT_KEYS = ("font.size", "axes.labelsize", "axes.titlesize", "xtick.labelsize", "ytick.labelsize",
             "legend.fontsize", "legend.title_fontsize", "figure.titlesize")
# The lecture style's font sizes (1.3 times the notebook's), in the notebooks too: JupyterLab on a
# 1280 x 720 screen, file browser open, shows the 1152-pixel figure about 820 pixels wide, so a
# 14.3-point tick label is 17 pixels high on screen (12.7 points), an 11-point one only 13.
PROJECTOR_FONTS = {key: style_rc(lecture=True)[key] for key in FONT_KEYS}
TITLE_SIZE = PROJECTOR_FONTS["axes.titlesize"]      # the panels' captions (15.6 points)
HEADLINE_SIZE = PROJECTOR_FONTS["figure.titlesize"]  # the figure's bold headline (17.2 points)
TEXT_SIZE = PROJECTOR_FONTS["legend.fontsize"]       # legends, notes and numbers in the panels (14.3)
PNG_OPTIONS = {"pil_kwargs": {"compress_level": 3}, "metadata": {"Software": None}}
# The explorations draw in the course's figure style (mlmcourse.plots.style_rc: the same palette,
# fonts, grid and dpi as the notebook figures) with the lecture style's font sizes, fixed whatever
# the notebook set (a seaborn theme, lecture mode): each layout is computed once for these sizes
# and must not change under it, and one layout legible on a projector serves both modes. Layout
# engines are off (the layouts are fixed, and blitting needs fixed axes); axes titles are the
# panels' captions, in normal weight under the figure's bold headline.
STYLE = ["default", style_rc(lecture=False), PROJECTOR_FONTS,
         {"figure.autolayout": False, "figure.constrained_layout.use": False, "axes.titleweight": "normal"}]


def course_style(func):
    """Run ``func`` (a figure builder, updater or renderer) in the explorations' style."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with mpl.style.context(STYLE):
            return func(*args, **kwargs)
    return wrapper


def new_figure(widths, bottom: float = 0.13, top: float = 0.8, left: float = 0.085,
               right: float = 0.985, wspace: float = 0.3) -> tuple[Figure, list]:
    """Return a new figure of the course's size with axes side by side, ``widths`` their relative widths.

    ``bottom``, ``top``, ``left`` and ``right`` place the axes (as fractions of the figure), ``wspace``
    is the gap between them (as a fraction of their mean width).
    """
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    grid = fig.add_gridspec(1, len(widths), width_ratios=widths, left=left, right=right,
                            bottom=bottom, top=top, wspace=wspace)
    axes = [fig.add_subplot(grid[0, i]) for i in range(len(widths))]
    return fig, axes


def suptitle(fig: Figure, text: str):
    """Set the figure's title, left-aligned above the panels, and return it (to update it in place)."""
    return fig.suptitle(text, x=0.01, y=0.975, ha="left", fontsize=HEADLINE_SIZE, fontweight="bold")


@course_style
def figure_png(fig: Figure) -> bytes:
    """Render a figure to PNG bytes (Agg, no pyplot, no version stamp)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, **PNG_OPTIONS)
    return buf.getvalue()


class LiveFigure:
    """A figure built once and updated in place; ``png()`` redraws only what changed.

    Subclasses set ``self.figure``, ``self.dynamic`` (artists that change at every update) and
    ``self.static_key`` (anything else that changed: limits, labels; a change redraws it all).
    """

    figure: Figure
    dynamic: list
    static_key: object = None

    @course_style
    def png(self) -> bytes:
        """Return the figure as PNG bytes, redrawing only the dynamic artists once a background exists."""
        if getattr(self, "_fast", None) is None:
            self._fast = FastPng(self.figure, self.dynamic)
        return self._fast.png(self.static_key)


class FastPng:
    """Render ``figure`` to PNG, redrawing only ``dynamic`` artists once a background exists.

    ``png(key)``: ``key`` names the state of everything that is not dynamic (limits, labels,
    legends); a new key draws (and keeps) a new background, a known key reuses its background.
    """

    MAX_BACKGROUNDS = 8

    def __init__(self, figure, dynamic):
        self.figure = figure
        self.dynamic = list(dynamic)
        self.canvas = FigureCanvasAgg(figure)
        self._backgrounds: dict = {}

    def png(self, key=None) -> bytes:
        """Return the figure as PNG bytes, with the background kept for ``key`` (drawn if it is new)."""
        background = self._backgrounds.get(key)
        if background is None:
            for artist in self.dynamic:
                artist.set_animated(True)
            self.canvas.draw()
            if len(self._backgrounds) >= self.MAX_BACKGROUNDS:
                self._backgrounds.pop(next(iter(self._backgrounds)))
            self._backgrounds[key] = self.canvas.copy_from_bbox(self.figure.bbox)
        else:
            self.canvas.restore_region(background)
        renderer = self.canvas.get_renderer()
        for artist in sorted(self.dynamic, key=lambda a: a.get_zorder()):
            if artist.get_visible():
                artist.draw(renderer)
        rgba = np.asarray(self.canvas.buffer_rgba())
        buf = io.BytesIO()
        Image.fromarray(rgba[..., :3]).save(buf, format="png", compress_level=3)
        return buf.getvalue()
