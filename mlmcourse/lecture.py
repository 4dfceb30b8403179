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
from dataclasses import dataclass

_state = {"on": False, "revealed": False}
_listeners: list = []  # callables returning the callback, or None once it is gone


@dataclass(frozen=True)
class Mode:
    """What the class sees: lecture mode on or off, and whether the solutions are revealed.

    The quiz's feedback is a function of it (``mlmcourse.quiz.feedback``); :func:`current_mode`
    gives the one in force.
    """

    lecture: bool = False
    revealed: bool = False

    @property
    def solutions_hidden(self) -> bool:
        """True in lecture mode until the instructor reveals the solutions."""
        return self.lecture and not self.revealed


STUDENT = Mode()   # the student's view: not a lecture, every solution shown


def _env_on() -> bool:
    return os.environ.get("MLMCOURSE_LECTURE", "").strip().lower() in ("1", "true", "yes", "on")


def lecture_mode(on: bool = True) -> None:
    """Switch lecture mode on (or off with ``on=False``)."""
    _state["on"] = bool(on)
    _state["revealed"] = False
    _notify()   # the quiz re-renders; the figures (mlmcourse.plots) take the new style


def current_mode() -> Mode:
    """Return the mode in force now."""
    return Mode(lecture=_state["on"], revealed=_state["revealed"])


def is_lecture() -> bool:
    """Say whether lecture mode is on."""
    return _state["on"]


def solutions_hidden() -> bool:
    """Say whether the solutions are hidden: in lecture mode, until the instructor reveals them."""
    return current_mode().solutions_hidden


def reveal_solutions(show: bool = True) -> None:
    """Show (or hide again) the quiz solutions while in lecture mode."""
    _state["revealed"] = bool(show)
    _notify()


def subscribe(callback) -> None:
    """Call ``callback()`` whenever lecture mode or the reveal state changes.

    Bound methods are held weakly, so a discarded quiz is not kept alive.
    """
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
    """Return the instructor's toggle button, visible in lecture mode only.

    It is the quiz header's :class:`~mlmcourse.quiz.views.RevealButton` (imported here, not at the
    top: lecture mode itself needs no widgets).
    """
    from .quiz.views import RevealButton
    return RevealButton()


_state["on"] = _env_on()   # MLMCOURSE_LECTURE=1: lecture mode from the start (figures follow at set_style())
