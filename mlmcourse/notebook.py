"""Showing a student's mistake in a notebook as one short paragraph, not a traceback.

    with explain_errors():
        anova(fit3, fit4, refit=False)

    show_error(anova, fit3, fit4, refit=False)   # the same, as an expression

Only :class:`~mlmcourse.errors.CourseError` is caught: anything else is a bug and keeps its
traceback.
"""
from __future__ import annotations

import html
from contextlib import contextmanager

from .errors import CourseError

__all__ = ["ErrorNote", "explain_errors", "show_error"]

_STYLE = ("border-left: 5px solid #d55e00; background: #fff4ec; color: #222; padding: 0.6em 0.9em; "
          "margin: 0.4em 0; font-size: 1em; line-height: 1.45; max-width: 60em;")


class ErrorNote:
    """A CourseError, ready to display: HTML in JupyterLab, one paragraph as plain text."""

    def __init__(self, error: CourseError):
        self.error = error
        self.message = str(error)

    def __repr__(self) -> str:
        return f"CourseError: {self.message}"

    def _repr_html_(self) -> str:
        return (f'<div role="alert" style="{_STYLE}"><strong>The course stopped this step.</strong> '
                f"{html.escape(self.message)}</div>")


def _display(note: ErrorNote) -> None:
    try:
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with the course
        print(repr(note))
        return
    display(note)


@contextmanager
def explain_errors():
    """Run the block; if it raises a CourseError, show its message as a short note and go on."""
    try:
        yield
    except CourseError as exc:
        _display(ErrorNote(exc))


def show_error(func, *args, **kwargs):
    """Call ``func(*args, **kwargs)``; return its result, or an :class:`ErrorNote` (which the
    notebook displays as a short paragraph) if it raised a CourseError."""
    try:
        return func(*args, **kwargs)
    except CourseError as exc:
        return ErrorNote(exc)
