"""An exploration's controls and their wiring: the sliders, the box that holds them, the live figure.

An :class:`Exploration` is a box of controls (an ipywidgets ``VBox``, built whole in its
constructor) followed by its figure, shown as an ordinary PNG image output
(``display(..., display_id=True)``): a committed notebook keeps the image, JupyterLab replaces it
at every control change (``handle.update``). All the work is in ``render(values)``, a pure
function of the controls' values that returns the PNG and its alt text; the box only wires.

The slider, dropdown and sample-number helpers below give every exploration the same look.
"""
from __future__ import annotations

import asyncio
import base64
import html
import time
from collections.abc import Callable

import ipywidgets as widgets
from IPython.display import display

from ..errors import CourseError

Render = Callable[[dict], tuple[bytes, str]]
COALESCE_SECONDS = 0.02   # in a kernel, changes arriving within this time are drawn once
STYLE = {"description_width": "16em"}


def wide() -> widgets.Layout:
    """Return a fresh layout for one control, 40em wide and no wider than a RISE slide.

    One layout per control: ipywidgets layouts are widgets, and one shared by every slider would
    tie all explorers' controls together.
    """
    return widgets.Layout(width="40em", max_width="100%")


def float_slider(label: str, value: float, lo: float, hi: float, step: float = 0.5) -> widgets.FloatSlider:
    """Return a slider of one decimal that redraws when released."""
    return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, description=label, style=STYLE,
                               layout=wide(), continuous_update=False, readout_format=".1f")


def int_slider(label: str, value: int, lo: int, hi: int) -> widgets.IntSlider:
    """Return a whole-number slider that redraws when released."""
    return widgets.IntSlider(value=value, min=lo, max=hi, description=label, style=STYLE, layout=wide(),
                             continuous_update=False)


def sample_controls(seed: int) -> tuple[widgets.BoundedIntText, widgets.Button]:
    """Return the sample number and the button that moves it on (back to 1 after the last)."""
    seed_box = widgets.BoundedIntText(value=seed, min=1, max=10_000, description="sample number",
                                      style=STYLE, layout=widgets.Layout(width="24em"))
    button = widgets.Button(description="draw a new sample", icon="refresh",
                            layout=widgets.Layout(width="16em"))

    def next_sample(_button):
        seed_box.value = seed_box.value + 1 if seed_box.value < seed_box.max else 1

    button.on_click(next_sample)
    return seed_box, button


class Exploration(widgets.VBox):
    """Controls + a live figure. ``controls`` maps a value name to its widget.

    The box holds a title line, the controls, the buttons, a line for messages and the figure's
    description (its alt text, readable in the page too); the figure itself follows the box as an
    image output when the exploration is displayed.
    """

    def __init__(self, title: str, controls: dict, render: Render, buttons: dict | None = None,
                 note: str = ""):
        super().__init__(layout=widgets.Layout(width="100%"))
        self.title = title
        self.controls = dict(controls)
        self.buttons = dict(buttons or {})
        self._render = render
        self.message = widgets.HTML(value="")
        self.description = widgets.HTML(value="")
        self.updates = 0            # how many times the figure was redrawn after the first
        self.last_ms = None         # the last redraw's time (computation + figure + PNG)
        self._handle = None
        self._pending = False
        heading = widgets.HTML(f"<b>{html.escape(title)}</b>" + (f" — {html.escape(note)}" if note else ""))
        self.children = [heading, *self.controls.values(), *self.buttons.values(), self.message, self.description]
        self.add_class("mlm-explore")
        self.add_class("mlm-explore-" + "-".join(title.lower().split()))
        for widget in self.controls.values():
            widget.observe(self._on_change, names="value")
        self.png, self.alt = self._draw()
        self._describe()

    @property
    def values(self) -> dict:
        """The controls' current values, by name."""
        return {name: widget.value for name, widget in self.controls.items()}

    @property
    def summary(self) -> str:
        """What the controls are, in words: their text where no widget can be shown (static renders)."""
        return f"[{self.title}: controls that move when the notebook runs in JupyterLab]"

    def _draw(self) -> tuple[bytes, str]:
        return self._render(self.values)

    def _on_change(self, _change=None) -> None:
        """Draw now, or, in a running kernel, a moment later.

        A burst of changes (keys held down, quick clicks) then costs one redraw with the last
        values instead of a queue of redraws.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            self.refresh()
            return
        if not self._pending:
            self._pending = True
            loop.call_later(COALESCE_SECONDS, self._deferred_refresh)

    def _deferred_refresh(self) -> None:
        self._pending = False
        try:
            self.refresh()
        except Exception as exc:  # not a student's error: say so where the student looks
            self.message.value = ("<span style='color:#b00'>The figure could not be redrawn "
                                  f"({html.escape(type(exc).__name__)}: {html.escape(str(exc))}). "
                                  "Re-run the cell; if it happens again, tell the course team.</span>")

    def refresh(self) -> None:
        """Recompute the figure from the current values and replace the displayed image."""
        start = time.perf_counter()
        try:
            png, alt = self._draw()
        except CourseError as exc:
            self.message.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            return
        self.message.value = ""
        self.png, self.alt = png, alt
        self.updates += 1
        self.last_ms = (time.perf_counter() - start) * 1000
        if self._handle is not None:
            self._handle.update(self.bundle(), raw=True, metadata=self.metadata())
        self._describe()       # after the image: a description that matches means the image is sent

    def _describe(self) -> None:
        self.description.value = ("<details><summary>What the figure shows</summary>"
                                  f"{html.escape(self.alt)}</details>")

    def bundle(self) -> dict:
        """Return the figure as a display bundle: the PNG, and its alt text as the plain-text version."""
        return {"image/png": base64.b64encode(self.png).decode("ascii"), "text/plain": self.alt}

    def metadata(self) -> dict:
        """Return the figure's display metadata: its alt text."""
        return {"image/png": {"alt": self.alt}}

    def _repr_mimebundle_(self, **kwargs) -> dict:
        """Show the controls as a widget, with their summary as the plain-text version."""
        data = super()._repr_mimebundle_(**kwargs) or {}
        return {**data, "text/plain": self.summary}

    def _ipython_display_(self) -> None:
        """Display the controls, then the figure as an image that later changes replace."""
        display(self._repr_mimebundle_(), raw=True)
        self._handle = display(self.bundle(), raw=True, metadata=self.metadata(), display_id=True)

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"<{self.title}: {values}>"
