"""lme4's own sentences, printed in its summaries and used by the engine's warnings.

The engine imports them from here; rprint imports nothing from the engine.
"""
from __future__ import annotations


def rank_drop_message(k: int) -> str:
    """Return lme4's sentence for ``k`` columns dropped from a rank-deficient fixed part.

    Its warning at fit time and its summary's "fit warnings:" line.
    """
    plural = "s" if k > 1 else ""
    return f"fixed-effect model matrix is rank deficient so dropping {k} column{plural} / coefficient{plural}"
