"""The handout's models, printed: every line of R's output, reproduced by mlmcourse.

The expected text is the handout's own R output (tests/fixtures/handout_output.json, rebuilt
by extract_handout_output.py). Lines are compared exactly and in the handout's order, except for
trailing blanks, blank lines and the course's own "mlmcourse: ..." notes after lme4's printout;
the optimiser's fits are printed (tests/rprint/test_printed_at_theta.py prints at lme4's theta).
The anova with refit drops lme4's "refitting model(s) with ML" message line: the course gives it
as a RefitMessage warning, checked here.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from mlmcourse import CourseError, anova, complete_cases, lm, lmer, load_classroom, ranova
from mlmcourse.engine.compare import RefitMessage

HANDOUT = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "handout_output.json").read_text())


@cache
def fits():
    """Fit the handout's models once."""
    dat = load_classroom()
    in_sample = complete_cases(dat, "mathgain ~ ses + mathknow")
    out = {
        "lmer_fit1": lmer("mathkind~ses+(1|schoolid)", data=dat),
        "fit3": lmer("mathkind~ses+(1|schoolid/classid)", data=dat),
        "lmer_fit2": lmer("mathgain~(1|schoolid)", data=dat),
        "lmer_fit3": lmer("mathgain~(1|schoolid/classid)", data=dat),
        "lmer_fit4": lmer("mathgain~ses+mathknow+(1|schoolid/classid)", data=dat),
        "fit7": lmer("mathgain~1+(1|schoolid/classid)", data=dat, subset=in_sample),
        "fit8": lmer("mathgain~ses+mathknow+(1|schoolid/classid)", data=dat, subset=in_sample),
    }
    return out


def lines(text: str) -> list[str]:
    """Split a printout into lines, trailing blanks and tabs made even."""
    return [ln.rstrip().replace("\t", "    ") for ln in text.strip("\n").splitlines()]


def expected(name: str) -> list[str]:
    """Return the handout's printed lines for ``name``."""
    return [ln.rstrip() for ln in HANDOUT[name]]


def assert_same_lines(got: list[str], want: list[str]):
    """Assert the handout's lines come out one for one, in the handout's order.

    Blank lines are not compared, nor the course's own notes after lme4's printout ("mlmcourse:
    109 observations deleted due to missingness in mathknow"), as in tests/rprint.
    """
    want = [w for w in want if w.strip()]
    got = [g for g in got if g.strip() and not g.startswith("mlmcourse: ")]
    bad = [f"line {i + 1}:\n  handout: {w!r}\n  course:  {g!r}" for i, (w, g) in enumerate(zip(want, got)) if w != g]
    assert len(got) == len(want) and not bad, (
        f"{len(want)} lines in the handout, {len(got)} from the course\n" + "\n".join(bad[:5])
        + "\n--- got:\n" + "\n".join(got))


@pytest.mark.parametrize("name, key", [("lmer_fit1", "lmer_fit1"), ("fit3", "fit3"),
                                       ("lmer_fit4", "lmer_fit4"), ("fit7", "fit7"), ("fit8", "fit8")])
def test_lmer_summaries_match_the_handout_line_by_line(name, key):
    """Print each lmer summary exactly as the handout shows it, line by line."""
    text = str(fits()[name].summary())
    want = expected(key)
    if name in ("fit7", "fit8"):
        # the handout's models were fitted with data=dat, subset=in_sample
        assert " Subset: in_sample" in text
    assert_same_lines(lines(text), want)


def test_ranova_tables_match_the_handout():
    """Print ranova's tables as the handout does."""
    f = fits()
    assert_same_lines(lines(ranova(f["lmer_fit2"]).to_text()), expected("ranova_fit2"))
    assert_same_lines(lines(ranova(f["lmer_fit3"]).to_text()), expected("ranova_fit3"))


def test_anova_without_refit_matches_the_handout():
    """Print anova(refit=False) as the handout does."""
    f = fits()
    table = anova(f["lmer_fit2"], f["lmer_fit3"], refit=False, names=["lmer.fit2", "lmer.fit3"])
    assert_same_lines(lines(table.to_text()), expected("anova_fit2_fit3"))


def test_anova_with_refit_matches_the_handout():
    """Print anova(refit=True) as the handout does, saying that it refits by ML."""
    f = fits()
    with pytest.warns(RefitMessage, match=r"refitting model\(s\) with ML \(instead of REML\)"):
        table = anova(f["fit7"], f["fit8"], refit=True, names=["fit7", "fit8"])
    want = [w for w in expected("anova_fit7_fit8") if not w.startswith("refitting")]
    assert_same_lines(lines(table.to_text()), want)


def test_anova_on_different_rows_fails_with_lme4s_words():
    """Refuse models fitted to different rows, in lme4's words and with what to do."""
    f = fits()
    with pytest.raises(CourseError) as err:
        anova(f["lmer_fit3"], f["lmer_fit4"], refit=False)
    msg = str(err.value)
    assert "models were not all fitted to the same size of dataset" in msg
    assert "1190" in msg and "1081" in msg and "complete_cases" in msg


def test_lm_summary_matches_the_handout():
    """Print summary(lm) as the handout does, its Call line included."""
    dat = load_classroom()
    fit1 = lm("mathkind~ses", data=dat)   # as the handout typed it; R prints "mathkind ~ ses"
    assert_same_lines(lines(fit1.summary_text()), expected("lm_fit1"))


def test_a_moved_line_fails_the_check():
    """Refuse the handout's lines in another order (moving the groups line passed the old check)."""
    want = expected("lmer_fit1")
    got = list(want)
    i = next(k for k, line in enumerate(got) if line.startswith("Number of obs"))
    got.insert(i - 4, got.pop(i))
    with pytest.raises(AssertionError, match="line"):
        assert_same_lines(got, want)
    assert_same_lines(list(want), want)
