"""R's abbreviate() and the correlation block of a summary, against R's own output
(tests/reference/make_syntax_reference.R -> syntax_reference.json)."""
import json
from pathlib import Path

import pandas as pd
import pytest

from mlmcourse import lmer
from mlmcourse.rprint.abbreviate import abbreviate
from mlmcourse.rprint.summary import correlation_text

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"
REF = json.loads((REFERENCE_DIR / "syntax_reference.json").read_text())


@pytest.mark.parametrize("case", REF["abbreviate"], ids=lambda c: c["names"][0])
@pytest.mark.parametrize("minlength", [6, 11])
def test_abbreviate_is_rs(case, minlength):
    assert abbreviate(case["names"], minlength) == case[f"minlength{minlength}"]


def test_colliding_abbreviations_are_lengthened():
    assert abbreviate(["N0.2:VarietyMarvellous", "N0.2:VarietyVictory"], 6) == ["N0.2:VM", "N0.2:VV"]


def test_correlation_block_of_a_summary_is_lme4s():
    oats = pd.read_csv(REFERENCE_DIR / "data" / "Oats.csv")
    oats["N"] = "N" + oats["nitro"].astype(str)
    want = REF["oats_correlation"]
    m = lmer(want["formula"], data=oats)
    got = correlation_text(m)
    assert got is not None
    assert [ln.rstrip() for ln in got.splitlines()] == [ln.rstrip() for ln in want["lines"]]
