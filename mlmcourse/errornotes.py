"""Error notes: a student's mistake shown in a notebook as one short paragraph, not a traceback.

    with explain_errors():
        anova(fit3, fit4, refit=False)

    show_error(anova, fit3, fit4, refit=False)   # the same, as an expression

Only :class:`~mlmcourse.errors.CourseError` is caught: anything else is a bug and keeps its
traceback.

The course's R-style messages (:class:`~mlmcourse.errors.CourseMessage`, e.g. anova's
"refitting model(s) with ML (instead of REML)") are warnings, so that callers can filter them; a
shown one prints as R prints the message, its text alone on stderr, not Python's
``file:line: Category: text`` and the source line (:func:`install_message_display`, installed on
import).

Without either, in IPython or Jupyter a CourseError that ends a cell is shown the same way (the
note, no traceback): importing mlmcourse installs :func:`install_ipython_handler`. The cell still
fails (Run All stops there) and the exception stays in ``sys.last_value`` (``%debug`` works).
"""
from __future__ import annotations

import html
import sys
import warnings
from contextlib import contextmanager

from .errors import CourseError, CourseMessage

__all__ = ["ErrorNote", "explain_errors", "install_ipython_handler", "install_message_display", "show_error"]

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
    """Call ``func(*args, **kwargs)`` and return its result, or the CourseError it raised as a note.

    The :class:`ErrorNote` returned in place of a result displays as a short paragraph.
    """
    try:
        return func(*args, **kwargs)
    except CourseError as exc:
        return ErrorNote(exc)


def _show_course_error(shell, etype, value, tb, tb_offset=None):
    """IPython's custom exception handler for CourseError: the note instead of a traceback."""
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb  # as showtraceback does
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    if hasattr(shell, "_last_traceback"):  # ipykernel's execute_reply: the error in one line
        shell._last_traceback = [f"{etype.__name__}: {value}"]
    _display(ErrorNote(value))
    return []


def install_ipython_handler() -> bool:
    """Show a CourseError that ends a cell as an :class:`ErrorNote`, in IPython or Jupyter.

    The note is one short paragraph instead of a traceback; other exceptions keep theirs. Does
    nothing outside IPython, nor when another custom exception handler is installed; never raises.
    Returns whether the handler is installed.
    """
    try:
        ipython = sys.modules.get("IPython")  # never import IPython just to look
        shell = ipython.get_ipython() if ipython is not None else None
        if shell is None or not hasattr(shell, "set_custom_exc"):
            return False
        current = tuple(getattr(shell, "custom_exceptions", ()) or ())
        if current and any(getattr(c, "__name__", "") != "CourseError" for c in current):
            return False  # someone else's handler: leave it
        shell.set_custom_exc((CourseError,), _show_course_error)
        return True
    except Exception:  # pragma: no cover - a display nicety must never break the import
        return False


def install_message_display() -> None:
    """Show a :class:`CourseMessage` as its text alone, as R prints a message.

    Every other warning shows as before. Wraps whatever ``warnings.showwarning`` is in place, once.
    """
    current = warnings.showwarning
    if getattr(current, "_mlmcourse", False):
        return

    def showwarning(message, category, filename, lineno, file=None, line=None):
        if isinstance(category, type) and issubclass(category, CourseMessage):
            stream = file if file is not None else sys.stderr
            try:
                stream.write(f"{message}\n")
            except (OSError, AttributeError):  # no usable stream: as warnings itself does
                pass
            return
        current(message, category, filename, lineno, file=file, line=line)

    showwarning._mlmcourse = True
    warnings.showwarning = showwarning
