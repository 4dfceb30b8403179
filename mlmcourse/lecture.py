"""Lecture mode: what an instructor switches on before projecting the notebooks.

    from mlmcourse.lecture import lecture_mode
    lecture_mode()          # figures in the lecture style; quiz solutions hidden
    lecture_mode(False)     # back to the student view

(or start Jupyter with the environment variable ``MLMCOURSE_LECTURE=1``; the figures then take the
lecture style when the notebook calls ``plots.set_style()``). In lecture mode the
quiz still saves answers and says whether an automatic answer is right, but model answers, key
points and explanations stay hidden until the instructor presses the quiz's "Reveal solutions"
button (or calls ``reveal_solutions()``).
"""
from __future__ import annotations

import os
import weakref

_state = {"on": False, "revealed": False}
_listeners: list = []  # callables returning the callback, or None once it is gone


def _env_on() -> bool:
    return os.environ.get("MLMCOURSE_LECTURE", "").strip().lower() in ("1", "true", "yes", "on")


def lecture_mode(on: bool = True) -> None:
    """Switch lecture mode on (or off with ``on=False``)."""
    _state["on"] = bool(on)
    _state["revealed"] = False
    _notify()   # the quiz re-renders; the figures (mlmcourse.plots) take the new style


def is_lecture() -> bool:
    return _state["on"]


def solutions_hidden() -> bool:
    """True in lecture mode until the instructor reveals the solutions."""
    return _state["on"] and not _state["revealed"]


def reveal_solutions(show: bool = True) -> None:
    """Show (or hide again) the quiz solutions while in lecture mode."""
    _state["revealed"] = bool(show)
    _notify()


def subscribe(callback) -> None:
    """Call ``callback()`` whenever lecture mode or the reveal state changes (weakly held for
    bound methods, so a discarded quiz is not kept alive)."""
    ref = weakref.WeakMethod(callback) if hasattr(callback, "__self__") else (lambda cb=callback: cb)
    _listeners.append(ref)


def _notify() -> None:
    alive = []
    for ref in list(_listeners):
        cb = ref()
        if cb is None:
            continue
        alive.append(ref)
        cb()
    _listeners[:] = alive


def reveal_control():
    """The instructor's toggle button: visible in lecture mode only."""
    import ipywidgets as widgets

    button = widgets.ToggleButton(value=_state["revealed"], description="Reveal solutions",
                                  icon="eye", tooltip="Instructor: show the model answers to the class")
    button.add_class("mlm-reveal")

    def sync():
        button.layout.display = "" if _state["on"] else "none"
        if button.value != _state["revealed"]:
            button.value = _state["revealed"]

    def on_toggle(change):
        if change["new"] != _state["revealed"]:
            reveal_solutions(change["new"])

    button.observe(on_toggle, names="value")
    button._mlm_sync = sync  # keep a strong reference as long as the button lives
    subscribe(sync)
    sync()
    return button


_state["on"] = _env_on()   # MLMCOURSE_LECTURE=1: lecture mode from the start (figures follow at set_style())
