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
    "ortho.sex.ml": "theta equal to 6e-5 (181 vs 220 evaluations): df 27.0004 vs 26.9999; a flat "
                    "optimum (FLAT)",
    "ortho.female": "theta equal to 1.6e-4 (119 vs 118 evaluations): df 10.00026 vs 9.99982",
    "chick.diet": "theta equal to 1.2e-7 (88 evaluations each): Time df 46.98846 vs 46.98845",
    "two.schools.d": "singular; theta equal to 1.1e-4: ses estimate 27.4378 vs 27.4381",
    "class.minority": "theta equal to 1e-8 (52 evaluations each): df 1154.34753 vs 1154.34754 "
                      "(9e-9 rel, the numerical Hessian of the Satterthwaite df)",
    "chick.early": "singular; every digit lme4's on SkylakeX, Haswell and Sandybridge; under "
                   "Prescott (criterion 2.4e-9 above) (Intercept) df 244.0903 vs 244.0907, Time df "
                   "53.7675 vs 53.7660",
    **LONG_RUNS,
}
# Flat optima: where the course's end point (and lme4's) depends on the CPU's rounding. Measured
# with OPENBLAS_CORETYPE = this machine's SkylakeX, Prescott, Haswell and Sandybridge (the course's
# criterion minus lme4's; W: the course warns "Model failed to converge"):
#   pixel         +6.2e-7 | +2.1e-6 W | -6.2e-8   | +5.7e-7    (lme4 silent)
#   bw.slope      -2.1e-4 | +2.73 W   | -2.0e-4 W | -2.0e-4 W  (lme4 warns, max|grad| 0.0169)
#   bw.slope.ml   -1.7e-6 | +5.3e-4 W | +9.2e-2 W | +5.3e-4 W  (lme4 silent)
#   ortho.sex.ml  +1.6e-9 | -1.2e-10  | +1.4e-6 W | -1.2e-10   (lme4 silent)
#   mach.slope    -1.0e-6 | -7.8e-7   | -4.2e-7   | -4.9e-7    (lme4 silent, never warned)
#   mach.slope0   +5.6e-7 | +1.0e-6   | -1.7e-7   | +4.1e-7    (lme4 silent, never warned)
# Under Prescott bw.slope's BOBYQA stops after 97 evaluations (xtol_rel reached, as lme4's would)
# at theta1 = 6.08 instead of 8.31: the course warns with max|grad| = 1.88, and all_fit(m) from
# that point reaches 1151.71975 with every optimiser (test_allfit.py). On these cases what holds
# on every CPU is "lme4's criterion, or a convergence warning"; which of the two, the printed
# digits and the checkConv messages are not asserted.
FLAT = set(LONG_RUNS) | {"ortho.sex.ml"}
# On a flat optimum points of the same criterion differ in their estimates: mach.slope under
# Haswell (criterion 4.2e-7 below lme4's) prints MachineB's p-value 0.021660 vs lme4's 0.021708
# (2.2e-3 rel). The printed numbers of FLAT cases are compared 5 times more loosely.
FLAT_NUMBERS = 5.0
# Elsewhere the course's criterion is never more than 5e-9 relative above lme4's (mach.slope0 under
# Prescott, 1.0e-6 on 208.3) unless it warns; this bound is 1e-8 relative.
CRIT_REL = 1e-8
FAILED = "Model failed to converge"


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
    if model_id in FLAT and _warned_failed(fitted(model_id)):
        pytest.skip("the course warns that this fit stopped elsewhere on a flat optimum "
                    "(this CPU's rounding; test_long_runs_reach_lme4s_criterion holds it)")
    problems = model_problems(fitted(model_id), ref)
    assert not problems, f"{model_id}: {ref['formula']} differs from lme4:\n  " + "\n  ".join(problems)


def _lme4_criterion(model_id: str) -> float:
    ref = MODELS[model_id]
    return ref["reml_criterion"] if ref["REML"] else ref["deviance"]


def _reached(model_id: str) -> bool:
    """The course's criterion is lme4's or lower, within CRIT_REL."""
    want = _lme4_criterion(model_id)
    return fitted(model_id).criterion <= want + CRIT_REL * abs(want)


def _warned_failed(m) -> bool:
    """The course told the student that the fit did not converge, with what to do."""
    msgs = [w for w in m.optinfo.messages if w.startswith(FAILED)]
    return bool(msgs) and all(any(w.startswith(msg) and "all_fit" in w for w in m._test_warnings)
                              for msg in msgs)


@pytest.mark.parametrize("model_id", list(MODELS))
def test_long_runs_reach_lme4s_criterion(model_id):
    """Never silently wrong, on every CPU: the course's REML criterion / deviance is lme4's or
    lower (within CRIT_REL), or the course warns that the fit did not converge (BOBYQA's end point
    on a flat optimum depends on the rounding, in lme4 too: see FLAT)."""
    m = fitted(model_id)
    assert _reached(model_id) or _warned_failed(m), (
        f"{model_id}: criterion {m.criterion!r} vs lme4's {_lme4_criterion(model_id)!r}, no warning")


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


def _without_convergence_lines(lines: list[str]) -> list[str]:
    """The printout without lme4's .prt.warn block ("optimizer (nloptwrap) convergence code: ..."
    and the checkConv messages after it), which ends the printout."""
    for i, line in enumerate(lines):
        if line.startswith("optimizer ("):
            return lines[:i]
    return lines


@pytest.mark.parametrize("model_id", list(MODELS))
def test_printed_summary_has_lme4s_lines_and_numbers(model_id):
    """Every line of lme4's printout, with every number within 2e-3 relative (2e-2 for numbers
    below 1e-3: p-values), or two units in its last printed digit, of lme4's; the digits
    themselves are compared below. On a flat optimum (FLAT) the convergence lines are left out
    (test_long_runs_reach_lme4s_criterion holds them), and the numbers are compared only where
    the course's criterion is lme4's (within CRIT_REL both ways) and the course does not warn."""
    m = fitted(model_id)
    got = _printed_lines(m.summary().r_text.splitlines())
    want = _printed_lines(MODELS[model_id]["printed_summary"])
    while want and not want[-1]:
        want.pop()
    if model_id in FLAT:
        got, want = _without_convergence_lines(got), _without_convergence_lines(want)
        lme4 = _lme4_criterion(model_id)
        if abs(m.criterion - lme4) > CRIT_REL * abs(lme4) or _warned_failed(m):
            # another point of a flat optimum: the same lines (a p-value may print as "<2e-16")
            assert [line[:1] for line in _masked(got)] == [line[:1] for line in _masked(want)]
            return
    assert _masked(got) == _masked(want)
    scale = FLAT_NUMBERS if model_id in FLAT else 1.0
    for g_line, w_line in zip(got, want):
        for g, w in zip(_NUMBER.findall(g_line), _NUMBER.findall(w_line)):
            a, b = float(g), float(w)
            rel = scale * (2e-3 if abs(b) >= 1e-3 else 2e-2)
            assert abs(a - b) <= rel * abs(b) + 2 * _unit(w), f"{g} vs lme4's {w} in {w_line!r}"


@pytest.mark.parametrize("model_id", [k for k in MODELS if k not in PRINTED_DIGITS])
def test_printed_summary_matches_lme4_digit_for_digit(model_id):
    got = _printed_lines(fitted(model_id).summary().r_text.splitlines())
    want = _printed_lines(MODELS[model_id]["printed_summary"])
    while want and not want[-1]:
        want.pop()
    assert got == want


@pytest.mark.parametrize("model_id", list(MODELS))
def test_singular_and_convergence_messages_match_checkconv(model_id):
    """lme4's checkConv messages in lme4's words (the gradient's size is not compared: it is
    a numerical derivative at a point both optimisers reach only to ~1e-8). On a flat optimum
    (FLAT) whether either of them warns depends on the CPU's rounding (the numbers are in the
    comment above FLAT): there only the singular flag and the student's warnings are checked."""
    ref, m = MODELS[model_id], fitted(model_id)
    want = [w.split(" with max|grad|")[0] for w in ref["checkConv_messages"]]
    got = [w.split(" with max|grad|")[0] for w in m.optinfo.messages]
    assert m.singular == ref["isSingular"]
    for msg in m.optinfo.messages:     # each message reached the student, with what to do
        assert any(w.startswith(msg) and "\n" in w for w in m._test_warnings)
    if model_id in FLAT:
        return
    assert got == want
    # lmerTest's warnings about the variance parameters' Hessian, in its words
    assert list(m.satterthwaite_notes.values()) == [w for w in ref["warnings"] if "eigenvalue" in w]


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
