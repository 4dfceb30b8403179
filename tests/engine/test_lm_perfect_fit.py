"""summary(lm) warns "essentially perfect fit" exactly where R's summary.lm does.

Reference: tests/reference/make_lm_reference.R (case ``perfect_fit``): an outcome computed exactly
from ses warns, the same outcome with a wobble of 1e-6 does not.
"""
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from mlmcourse.engine.ols import PerfectFitWarning, lm

REF = json.loads((Path(__file__).parents[1] / "reference" / "lm_reference.json").read_text())["perfect_fit"]


def _outcomes(dat):
    """Add the reference script's two outcomes, computed the same way."""
    exact = 400 + 30 * dat["ses"]
    return dat.assign(exact=exact, nearly=exact + 1e-6 * np.sin(np.arange(1, len(dat) + 1)))


def _summary_warnings(data, outcome: str) -> list[str]:
    """Return the warnings that printing ``outcome ~ ses``'s summary gives."""
    fit = lm(f"{outcome} ~ ses", data=data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit.summary_text()
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("outcome", ["exact", "nearly"])
def test_warns_where_r_warns(dat, outcome):
    """Warn with R's words on the exact fit, say nothing on the nearly exact one, as R does."""
    found = _summary_warnings(_outcomes(dat), outcome)
    expected = REF[outcome]
    assert len(found) == len(expected)
    for ours, rs in zip(found, expected):
        assert ours.startswith(rs + ". ")       # R's words, then what to do
        assert "check that no predictor is the outcome" in ours


def test_the_warning_points_at_the_students_line_and_has_its_class(dat):
    """Point the warning at the cell that printed the summary, as a PerfectFitWarning."""
    fit = lm("exact ~ ses", data=_outcomes(dat))
    with pytest.warns(PerfectFitWarning, match="essentially perfect fit") as caught:
        fit.summary()
    assert caught[0].filename == __file__


def test_an_ordinary_fit_does_not_warn(dat):
    """Say nothing on the handout's first regression."""
    assert _summary_warnings(dat, "mathkind") == []
