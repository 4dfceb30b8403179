"""Tables wider than R's console (80 characters) continue in a block below, as R prints them:
a ranova table whose stars column does not fit, against lmerTest's own printout
(tests/reference/make_syntax_reference.R)."""
import json
import warnings
from pathlib import Path

import pandas as pd

from mlmcourse import lmer, ranova
from mlmcourse.rprint.rformat import print_matrix

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"
REF = json.loads((REFERENCE_DIR / "syntax_reference.json").read_text())


def test_wide_ranova_table_wraps_as_r_does():
    want = REF["ranova_wrapped"]
    d = pd.read_csv(REFERENCE_DIR / "data" / "Orthodont.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = ranova(lmer(want["formula"], data=d))
    r_lines = [ln.replace("\u2018", "'").replace("\u2019", "'").rstrip() for ln in want["lines"]]
    assert [ln.rstrip() for ln in table.to_text().splitlines()] == r_lines


def test_a_block_takes_columns_while_the_line_stays_under_80():
    cols = [f"c{i:02d}" for i in range(30)]
    text = print_matrix(["r"], cols, [["x" * 3] * 30])
    lines = text.splitlines()
    assert max(len(ln) for ln in lines) < 80
    assert len(lines) == 4  # two blocks of (header, row): 19 columns of 4 characters, then 11
    assert lines[0].split() == cols[:19]
