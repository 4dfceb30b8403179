"""The wiring of an exploration: controls, one image that updates, and a line for messages.

An :class:`Exploration` shows its controls and then its figure as an ordinary PNG image output
(``display(..., display_id=True)``): a committed notebook keeps the image, JupyterLab replaces it
at every control change (``handle.update``). All the work is in ``render(values)``, a pure
function of the controls' values that returns the PNG and its alt text; this class only wires.
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


class ControlsBox(widgets.VBox):
    """The controls of an exploration; its plain-text form says what they are (static renders)."""

    summary = ""

    def __repr__(self) -> str:
        return self.summary or super().__repr__()


class Exploration:
    """Controls + a live figure. ``controls`` maps a value name to its widget."""

    def __init__(self, title: str, controls: dict, render: Render, buttons: dict | None = None,
                 note: str = ""):
        self.title = title
        self.controls = dict(controls)
        self.buttons = dict(buttons or {})
        self._render = render
        self.message = widgets.HTML(value="")
        self.description = widgets.HTML(value="")   # the alt text, readable in the page too
        self.updates = 0            # how many times the figure was redrawn after the first
        self.last_ms = None         # the last redraw's time (computation + figure + PNG)
        self._handle = None
        self._pending = False
        rows = [widgets.HTML(f"<b>{html.escape(title)}</b>" + (f" — {html.escape(note)}" if note else ""))]
        rows += [w for w in self.controls.values()] + list(self.buttons.values()) + [self.message, self.description]
        self.box = ControlsBox(rows, layout=widgets.Layout(width="100%"))
        self.box.summary = f"[{title}: controls that move when the notebook runs in JupyterLab]"
        self.box.add_class("mlm-explore")
        self.box.add_class("mlm-explore-" + "-".join(title.lower().split()))
        for widget in self.controls.values():
            widget.observe(self._on_change, names="value")
        self.png, self.alt = self._draw()
        self._describe()

    @property
    def values(self) -> dict:
        return {name: widget.value for name, widget in self.controls.items()}

    def _draw(self) -> tuple[bytes, str]:
        return self._render(self.values)

    def _on_change(self, _change=None) -> None:
        """Draw now, or, in a running kernel, a moment later: a burst of changes (keys held down,
        quick clicks) then costs one redraw with the last values instead of a queue of redraws."""
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
        """The figure as a display bundle: the PNG, and its alt text as the plain-text version."""
        return {"image/png": base64.b64encode(self.png).decode("ascii"), "text/plain": self.alt}

    def metadata(self) -> dict:
        return {"image/png": {"alt": self.alt}}

    def _ipython_display_(self) -> None:
        display(self.box)
        self._handle = display(self.bundle(), raw=True, metadata=self.metadata(), display_id=True)

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"<{self.title}: {values}>"
