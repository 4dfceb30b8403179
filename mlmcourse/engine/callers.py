"""Who called the course: the name a caller gave to an object (R prints ``Data: dat``; Python has
to look it up), and the student's frame, where warnings should point."""
from __future__ import annotations

import os
import sys

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def caller_name(obj, frame) -> str | None:
    """The variable in ``frame`` (its locals, then globals) that holds ``obj``, if any."""
    if frame is None:
        return None
    for scope in (frame.f_locals, frame.f_globals):
        for name, value in list(scope.items()):
            if value is obj and not name.startswith("_"):
                return name
    return None


def user_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` called by the function that calls this one, so that
    the warning points at the first frame outside the package (the student's cell), however deep
    the course's own calls go (lmer, anova's refit, the chapter's cache)."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level
