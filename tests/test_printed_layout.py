"""Layouts beyond the handout, against lme4/lmerTest's own printout (tests/reference/printed/,
written by make_printed.R): an ML fit (AIC table), correlated and uncorrelated random slopes
(Corr column, 'Subject.1'), and ranova reducing a random slope."""
import warnings
from pathlib import Path

import pandas as pd
import pytest

from mlmcourse import lmer, load_classroom, ranova

PRINTED = Path(__file__).parent / "reference" / "printed"


def lines(text):
    return [ln.rstrip() for ln in text.splitlines() if ln.strip()]


def check(ours: str, name: str):
    want = lines((PRINTED / f"{name}.txt").read_text())
    got = lines(ours)
    missing = [w for w in want if w not in got and not w.startswith("(")]
    assert not missing, "\n".join(missing) + "\n--- got:\n" + "\n".join(got)


@pytest.fixture(scope="module")
def ss():
    return pd.read_csv(Path(__file__).parent / "reference" / "data" / "sleepstudy.csv")


def test_ml_summary_layout():
    dat = load_classroom()
    m = lmer("mathgain ~ ses + mathknow + (1 | schoolid/classid)", data=dat, REML=False)
    check(str(m.summary()), "classroom_ml_summary")


def test_correlated_slope_summary_and_ranova(ss):
    m = lmer("Reaction ~ Days + (Days | Subject)", data=ss)
    check(str(m.summary()), "sleepstudy_slope_summary")
    check(ranova(m).to_text(), "sleepstudy_slope_ranova")


def test_uncorrelated_slope_summary(ss):
    m = lmer("Reaction ~ Days + (Days || Subject)", data=ss)
    check(str(m.summary()), "sleepstudy_uncorr_summary")
