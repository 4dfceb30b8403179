"""Who called the course: the caller's names for objects, and the student's frame.

The name a caller gave to an object (R prints ``Data: dat``; Python has to look it up), and the
student's frame, where warnings should point.
"""
from __future__ import annotations

import functools
import inspect
import os

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_FUNCTOOLS = os.path.abspath(functools.__file__)


def caller_name(obj, frame) -> str | None:
    """Return the variable in ``frame`` (its locals, then globals) that holds ``obj``, if any."""
    if frame is None:
        return None
    for scope in (frame.f_locals, frame.f_globals):
        for name, value in list(scope.items()):
            if value is obj and not name.startswith("_"):
                return name
    return None


def user_stacklevel() -> int:
    """Return the ``stacklevel`` that makes a warning point at the student's cell.

    For ``warnings.warn`` called by the function that calls this one: the first frame outside
    the package (the student's cell), however deep the course's own calls go (lmer, anova's
    refit, the chapter's cache).
    """
    level, frame = 1, inspect.currentframe().f_back
    while frame is not None and _ours(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    return level


def _ours(filename: str) -> bool:
    """Return True for a file of the course, or of functools (cached_property computing a model's table)."""
    path = os.path.abspath(filename)
    return path.startswith(_PACKAGE) or path == _FUNCTOOLS
