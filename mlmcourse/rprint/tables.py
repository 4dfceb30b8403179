"""anova() and ranova() results: DataFrames that print as R's anova tables."""
from __future__ import annotations

import html
from typing import ClassVar

import pandas as pd

from .rformat import anova_matrix


class AnovaTable(pd.DataFrame):
    """A DataFrame that prints like R's anova tables (heading, blank NAs, stars)."""

    _metadata: ClassVar[list[str]] = ["heading"]

    @property
    def _constructor(self):
        return AnovaTable

    def __repr__(self) -> str:  # pragma: no cover - exercised through str()
        return self.to_text()

    def to_text(self) -> str:
        """Return the table as R prints it: the heading, then the table."""
        head = getattr(self, "heading", None) or ""
        return (head + "\n" if head else "") + anova_matrix(pd.DataFrame(self))

    def _repr_html_(self) -> str:
        return f"<pre style=\"font-family: monospace; white-space: pre\">{html.escape(self.to_text())}</pre>"
