"""Layouts beyond the handout, against lme4/lmerTest's own printout (tests/reference/printed/,
written by make_printed.R): an ML fit (AIC table), correlated and uncorrelated random slopes
(Corr column, 'Subject.1'), and ranova reducing a random slope."""
import re
from pathlib import Path

import pandas as pd
import pytest

from mlmcourse import lmer, load_classroom, ranova

PRINTED = Path(__file__).resolve().parents[1] / "reference" / "printed"


def lines(text):
    return [ln.rstrip() for ln in text.splitlines() if ln.strip()]


NUMBER = re.compile(r"-?\d+\.?\d*(?:e[-+]\d+)?")
# numerical derivatives give Satterthwaite df to ~1e-8 relative: 1169.61988 vs 1169.61989; and
# where BOBYQA's last steps part on rounding noise (the criteria agree to 3e-15 relative, yet on
# the cake model the 12th evaluation differs: theta 1.3010250676 vs lme4's 1.3010250277) the df
# move by 1.0e-7 relative: 197.26341 vs 197.26343
DF_REL = 2e-7


def same_layout(want: str, got: str) -> bool:
    """Same characters apart from digits, and every number within DF_REL (relative)."""
    if NUMBER.sub("#", want) != NUMBER.sub("#", got) or len(want) != len(got):
        return False
    pairs = zip(NUMBER.findall(want), NUMBER.findall(got))
    return all(abs(float(a) - float(b)) <= DF_REL * max(abs(float(a)), 1.0) for a, b in pairs)


# the course's own notes follow lme4's printout (which engine, which variables dropped rows)
COURSE_NOTE = re.compile(r"^mlmcourse: ")


def check(ours: str, name: str):
    """Our printout equals lme4's block for block, line for line, in order (as lme4's own tests
    compare .Rout.save files); numbers may differ by DF_REL, the course's note lines are skipped."""
    want = lines((PRINTED / f"{name}.txt").read_text())
    got = [g for g in lines(ours) if not COURSE_NOTE.match(g)]
    bad = [f"line {i + 1}:\n  lme4: {w!r}\n  ours: {g!r}" for i, (w, g) in enumerate(zip(want, got))
           if w.rstrip() != g.rstrip() and not same_layout(w, g)]
    assert len(want) == len(got) and not bad, (
        f"{name}: {len(want)} lines from lme4, {len(got)} from the course\n" + "\n".join(bad[:5])
        + "\n--- ours:\n" + "\n".join(got))


@pytest.fixture(scope="module")
def ss():
    return pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "data" / "sleepstudy.csv")


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


def test_ranova_reduces_each_slope_in_turn():
    sim = pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "data" / "sim_slopes.csv")
    m = lmer("y ~ x + z + (1 + x + z | subj)", data=sim)
    check(ranova(m).to_text(), "sim_two_slopes_ranova")


def test_ranova_of_uncorrelated_terms(ss):
    m = lmer("Reaction ~ Days + (Days || Subject)", data=ss)
    check(ranova(m).to_text(), "sleepstudy_uncorr_ranova")


def test_wide_estimates_print_in_fixed_notation():
    dat = load_classroom()
    check(str(lmer("mathgain ~ mathkind + ses + (1 | schoolid)", data=dat).summary()),
          "classroom_wide_estimates_summary")


def test_fixed_effects_in_r_order_with_a_categorical_after_a_number():
    cake = pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "data" / "cake.csv")
    m = lmer("angle ~ temp + recipe + (1 | replicate)", data=cake)
    assert list(m.fixef.index) == ["(Intercept)", "temp", "recipeB", "recipeC"]
    check(str(m.summary()), "cake_term_order_summary")


def test_ml_aic_line_widths(ss):
    check(str(lmer("Reaction ~ Days + (1 | Subject)", data=ss, REML=False).summary()),
          "sleepstudy_ml_summary")


def test_ranova_uses_the_models_own_rows():
    """A dropped term whose variable has missing values must not bring rows back (LRT 1075)."""
    dat = load_classroom()
    m = lmer("mathgain ~ ses + (1|schoolid) + (0 + mathknow|classid)", data=dat)
    table = ranova(m)
    assert m.nobs == 1081
    assert table["LRT"].iloc[1:].abs().max() < 50


def test_rank_deficient_fit_prints_lme4s_fit_warning(ss):
    """lme4 drops a redundant column and says so under "fit warnings:" at the end of the summary."""
    ss = ss.assign(Days2=2 * ss["Days"])
    with pytest.warns(UserWarning, match="rank deficient"):
        m = lmer("Reaction ~ Days + Days2 + (1 | Subject)", data=ss)
    check(str(m.summary()), "sleepstudy_rank_deficient_summary")
    assert ("<p class='mlm-warn'>fixed-effect model matrix is rank deficient so dropping 1 column / coefficient"
            in m.summary()._repr_html_())   # the notebook view says it too, not only its R-layout drawer
