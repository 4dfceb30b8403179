"""The registry of the quiz's live answers: named computations, and the small readings of a
fitted model they share (a variance, an ICC share, an LRT statistic). ``live.py`` (the
chapter's numbers) and ``worked.py`` (the lab quiz and homework) register into it."""
from __future__ import annotations

from ..errors import CourseError
from .variants import VARIANTS

COMPUTATIONS: dict[str, Computation] = {}


class Computation:
    def __init__(self, name: str, description: str, fn, variant: str | None = None):
        self.name, self.description, self.fn, self.variant = name, description, fn, variant

    @property
    def seeded(self) -> bool:
        """Whether the value depends on the student's seed (it is computed on their own data)."""
        return self.variant is not None

    def __repr__(self) -> str:
        on = f" [on the student's {self.variant} data]" if self.variant else ""
        return f"<computation {self.name}: {self.description}{on}>"


def computation(name: str, description: str, variant: str | None = None):
    """Register a computation; ``variant`` names the student's data it uses (see VARIANTS)."""
    if variant is not None and variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r} (known: {', '.join(VARIANTS)})")

    def register(fn):
        COMPUTATIONS[name] = Computation(name, description, fn, variant)
        return fn
    return register


def _varcorr_row(model, group: str, column: str = "Variance") -> float:
    vc = model.varcorr
    rows = vc[vc["Groups"] == group]
    if rows.empty:
        raise CourseError(f"The model has no variance component for '{group}'.")
    return float(rows[column].iloc[0])


def _icc(model, group: str) -> float:
    """A group's share of the total variance, from the course's ``icc()``."""
    from .. import icc
    shares = icc(model)
    if group not in shares.index:
        raise CourseError(f"icc() gives no share for '{group}' (it has: {', '.join(map(str, shares.index))}).")
    return float(shares[group])


def _anova(small, big, refit: bool):
    import warnings

    from .. import AnovaNote, anova
    with warnings.catch_warnings():
        # the quiz computes invalid comparisons on purpose (its wrong answers): no note for them
        warnings.simplefilter("ignore", AnovaNote)
        return anova(small, big, refit=refit, names=["small", "big"])


def _lrt(small, big, refit: bool, column: str = "Chisq") -> float:
    return float(_anova(small, big, refit)[column].iloc[-1])


def _sd_ratio(model, group: str) -> float:
    s, e = _varcorr_row(model, group, "Std.Dev."), _varcorr_row(model, "Residual", "Std.Dev.")
    return s / (s + e)


def _var_ratio(model, group: str) -> float:
    return _varcorr_row(model, group) / _varcorr_row(model, "Residual")
