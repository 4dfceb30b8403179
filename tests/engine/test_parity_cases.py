"""Parity with lme4 + lmerTest on data the course was not built on.

Reference: ``tests/reference/make_parity_cases.R`` -> ``tests/reference/parity_cases.json`` (33
models on R's, nlme's, MASS's and lme4's data sets and on subsets of the classroom data: random
slopes, factor slopes, nested, crossed, ML, subsets, singular fits, long optimiser runs). Each
model is compared with the tolerances of test_lme4_parity.py (fit, coefficient table with
Satterthwaite df, varcorr, logLik, ranef, ...), its whole printed summary with lme4's, and its
singular / convergence messages with lme4's checkConv; ranova and anova tables too.

Differences that remain (long optimiser runs on flat optima, last printed digits) are listed in
LONG_RUNS and PRINTED_DIGITS with the numbers, measured, not tuned away.
"""
from __future__ import annotations

import json
import re
import warnings
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from test_lme4_parity import _compare_table, model_problems

import mlmcourse

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"
CASES = json.loads((REFERENCE_DIR / "parity_cases.json").read_text())
MODELS = {m["id"]: m for m in CASES["models"]}

# Where the course and lme4 stop at different points, measured (tests/reference/README.md has
# the traces). Both run NLopt's BOBYQA with the same settings from the same start; the first
# 18-40 evaluations are the same points (theta equal to 1e-10, criteria to 2e-12 relative); then
# rounding differences in the criterion (R's CHOLMOD and the course's dense/sparse algebra) send
# BOBYQA along another path on a flat optimum, and both stop by the same rule elsewhere.
# kind:id -> the numbers. xfail(strict=False): these depend on rounding, so on another CPU they
# may agree; test_long_runs_reach_lme4s_criterion below holds on every machine.
LONG_RUNS = {
    "mach.slope": "6 parameters, 393 vs lme4's 295 evaluations; criterion 1.0e-6 below lme4's; a "
                  "flat direction: the MachineB-MachineC correlation is -0.36 here, 0.30 in lme4",
    "mach.slope0": "the same model: criterion 5.6e-7 above lme4's; correlation 0.62 vs 0.77",
    "pixel": "criterion 6.2e-7 above lme4's; day's estimate -0.148622 vs -0.148674 (3.5e-4 rel)",
    "bw.slope": "lme4 stops 2.1e-4 above the course's criterion and warns max|grad| = 0.0169 "
                "(not converged); the course's end point passes checkConv. Intercept variance "
                "1364.3 vs lme4's 1357.1, its df 13.003 vs 13.106",
    "bw.slope.ml": "criterion 1.7e-6 below lme4's; (Intercept) SE 11.8020 vs 11.8002 (1.6e-4 rel)",
}
# Printed summaries whose numbers agree within the parity tolerances but not to every printed
# digit (lmerTest prints df to 5-9 significant digits; theta agrees with lme4 to 1e-7-1e-4):
PRINTED_DIGITS = {
    "ortho.slope": "theta equal to 6e-6 (same 88 evaluations): variance 5.41660 vs 5.41657, "
                   "age df 25.99793 vs 25.99804",
    "ortho.sex.ml": "theta equal to 6e-5 (181 vs 220 evaluations): df 27.0004 vs 26.9999",
    "ortho.female": "theta equal to 1.6e-4 (119 vs 118 evaluations): df 10.00026 vs 9.99982",
    "chick.diet": "theta equal to 1.2e-7 (88 evaluations each): Time df 46.98846 vs 46.98845",
    "two.schools.d": "singular; theta equal to 1.1e-4: ses estimate 27.4378 vs 27.4381",
    "class.minority": "theta equal to 1e-8 (52 evaluations each): df 1154.34753 vs 1154.34754 "
                      "(9e-9 rel, the numerical Hessian of the Satterthwaite df)",
    **LONG_RUNS,
}
LONG_RUN_CRIT = 2e-6   # the course's criterion is at most this much above lme4's on every case


@cache
def dataset(name: str) -> pd.DataFrame:
    if name == "classroom":
        return mlmcourse.load_classroom()
    return pd.read_csv(REFERENCE_DIR / "data" / f"{name}.csv")


@cache
def fitted(model_id: str):
    ref = MODELS[model_id]
    dat = dataset(ref["data"])
    kwargs = {"REML": ref["REML"]}
    if ref["subset"] is not None:
        kwargs["subset"] = dat.eval(ref["subset"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = mlmcourse.lmer(ref["formula"], data=dat, **kwargs)
    m._test_warnings = [str(w.message) for w in caught]
    return m


def _mark(model_id: str, known: dict):
    reason = known.get(model_id)
    return pytest.param(model_id, marks=pytest.mark.xfail(strict=False, reason=reason)) if reason else model_id


def _printed_lines(lines: list[str]) -> list[str]:
    """The printout without the ' Subset:' line: R prints the subset expression, the course the
    name of the variable holding the mask (a test cannot name a variable 'Days >= 2'). In
    "max|grad| = ... (tol = 0.002, component N)" lme4 1.1-31 always prints component 1 (its
    checkConv takes which.max of a single number); the course names the component that is off,
    so N is not compared."""
    return [re.sub(r"component \d+\)", "component N)", line.rstrip())
            for line in lines if not line.startswith(" Subset: ")]


@pytest.mark.parametrize("model_id", [_mark(k, LONG_RUNS) for k in MODELS])
def test_fit_matches_lme4(model_id):
    ref = MODELS[model_id]
    problems = model_problems(fitted(model_id), ref)
    assert not problems, f"{model_id}: {ref['formula']} differs from lme4:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("model_id", list(MODELS))
def test_long_runs_reach_lme4s_criterion(model_id):
    """On every case, long runs included, the course's REML criterion / deviance is lme4's or
    lower (within LONG_RUN_CRIT): where the end points differ, they differ along a flat optimum."""
    ref, m = MODELS[model_id], fitted(model_id)
    want = ref["reml_criterion"] if ref["REML"] else ref["deviance"]
    assert m.criterion <= want + LONG_RUN_CRIT


_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")


def _masked(lines):
    """The words of each line, numbers masked (a number printed with another digit count moves
    the columns)."""
    return [_NUMBER.sub("#", line).split() for line in lines]


def _unit(token: str) -> float:
    """One unit in the last printed digit of a number as R printed it."""
    mant, _, exp = token.lower().partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    return 10.0 ** (-decimals + (int(exp) if exp else 0))


@pytest.mark.parametrize("model_id", [_mark(k, {k: LONG_RUNS[k] for k in ("bw.slope",)}) for k in MODELS])
def test_printed_summary_has_lme4s_lines_and_numbers(model_id):
    """Every line of lme4's printout, with every number within 2e-3 relative (2e-2 for numbers
    below 1e-3: p-values), or two units in its last printed digit, of lme4's; the digits
    themselves are compared below."""
    got = _printed_lines(fitted(model_id).summary().r_text.splitlines())
    want = _printed_lines(MODELS[model_id]["printed_summary"])
    while want and not want[-1]:
        want.pop()
    assert _masked(got) == _masked(want)
    for g_line, w_line in zip(got, want):
        for g, w in zip(_NUMBER.findall(g_line), _NUMBER.findall(w_line)):
            a, b = float(g), float(w)
            rel = 2e-3 if abs(b) >= 1e-3 else 2e-2
            assert abs(a - b) <= rel * abs(b) + 2 * _unit(w), f"{g} vs lme4's {w} in {w_line!r}"


@pytest.mark.parametrize("model_id", [k for k in MODELS if k not in PRINTED_DIGITS])
def test_printed_summary_matches_lme4_digit_for_digit(model_id):
    got = _printed_lines(fitted(model_id).summary().r_text.splitlines())
    want = _printed_lines(MODELS[model_id]["printed_summary"])
    while want and not want[-1]:
        want.pop()
    assert got == want


@pytest.mark.parametrize("model_id", [_mark(k, {k: LONG_RUNS[k] for k in ("bw.slope",)}) for k in MODELS])
def test_singular_and_convergence_messages_match_checkconv(model_id):
    """lme4's checkConv messages in lme4's words (the gradient's size is not compared: it is
    a numerical derivative at a point both optimisers reach only to ~1e-8)."""
    ref, m = MODELS[model_id], fitted(model_id)
    want = [w.split(" with max|grad|")[0] for w in ref["checkConv_messages"]]
    got = [w.split(" with max|grad|")[0] for w in m.optinfo.messages]
    assert got == want
    assert m.singular == ref["isSingular"]
    # lmerTest's warnings about the variance parameters' Hessian, in its words
    assert list(m.satterthwaite_notes.values()) == [w for w in ref["warnings"] if "eigenvalue" in w]
    # each message reached the student as a warning, with what to do
    for msg in m.optinfo.messages:
        assert any(w.startswith(msg) and "\n" in w for w in m._test_warnings)


@pytest.mark.parametrize("ref", [r for r in CASES["ranova"]], ids=[r["model"] for r in CASES["ranova"]])
def test_ranova_matches_lmertest(ref):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = mlmcourse.ranova(fitted(ref["model"]))
    problems: list[str] = []
    _compare_table(problems, got, ref, compare_rownames=True)
    assert not problems, f"{ref['call']} differs from lmerTest:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("ref", CASES["anova"], ids=[a["id"] for a in CASES["anova"]])
def test_anova_matches_lme4(ref):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = mlmcourse.anova(*[fitted(mid) for mid in ref["models"]], refit=ref["refit"])
    problems: list[str] = []
    _compare_table(problems, got, ref, compare_rownames=False)
    assert not problems, f"anova{tuple(ref['models'])} differs from lme4:\n  " + "\n  ".join(problems)
