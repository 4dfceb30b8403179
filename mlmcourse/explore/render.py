"""Fast PNG rendering of a figure whose axes stay put while some artists change (blitting).

matplotlib spends most of a redraw on ticks, labels and titles. An exploration's figure keeps
its axes fixed, so those are drawn once into a background; each update restores the background,
draws only the changing ("dynamic") artists and encodes the pixels as PNG: tens of milliseconds
instead of a full redraw. Backgrounds are kept per "static key" (e.g. a checkbox's state), so
going back to an earlier state is fast too.
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image


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
