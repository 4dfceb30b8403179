"""The name a caller gave to an object: R prints ``Data: dat``; Python has to look it up."""
from __future__ import annotations


def caller_name(obj, frame) -> str | None:
    """The variable in ``frame`` (its locals, then globals) that holds ``obj``, if any."""
    if frame is None:
        return None
    for scope in (frame.f_locals, frame.f_globals):
        for name, value in list(scope.items()):
            if value is obj and not name.startswith("_"):
                return name
    return None
