"""Parity with lme4 + lmerTest on data the course was not built on.

Reference: ``tests/reference/make_parity_cases.R`` -> ``tests/reference/parity_cases.json`` (33
models on R's, nlme's, MASS's and lme4's data sets and on subsets of the classroom data: random
slopes, factor slopes, nested, crossed, ML, subsets, singular fits, long optimiser runs). Each
model is compared with the tolerances of test_lme4_parity.py (fit, coefficient table with
Satterthwaite df, varcorr, logLik, ranef, ...), its whole printed summary with lme4's, and its
singular / convergence messages with lme4's checkConv; ranova and anova tables too.

Known differences (measured, not tuned away) are listed in KNOWN with the numbers; a test in
KNOWN is marked xfail(strict=True), so it fails the day the difference goes away.
"""
from __future__ import annotations

import json
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

# id -> why it differs from lme4 (with numbers); filled from measurements, see the README.
KNOWN: dict[str, str] = {}


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


def _mark(kind: str, model_id: str):
    reason = KNOWN.get(f"{kind}:{model_id}")
    return pytest.param(model_id, marks=pytest.mark.xfail(strict=True, reason=reason)) if reason else model_id


def _printed_lines(lines: list[str]) -> list[str]:
    """The printout without the ' Subset:' line: R prints the subset expression, the course the
    name of the variable holding the mask (a test cannot name a variable 'Days >= 2')."""
    return [line.rstrip() for line in lines if not line.startswith(" Subset: ")]


@pytest.mark.parametrize("model_id", [_mark("fit", k) for k in MODELS])
def test_fit_matches_lme4(model_id):
    ref = MODELS[model_id]
    problems = model_problems(fitted(model_id), ref)
    assert not problems, f"{model_id}: {ref['formula']} differs from lme4:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("model_id", [_mark("summary", k) for k in MODELS])
def test_printed_summary_matches_lme4(model_id):
    got = _printed_lines(fitted(model_id).summary().r_text.splitlines())
    want = _printed_lines(MODELS[model_id]["printed_summary"])
    while want and not want[-1]:
        want.pop()
    assert got == want


@pytest.mark.parametrize("model_id", [_mark("messages", k) for k in MODELS])
def test_singular_and_convergence_messages_match_checkconv(model_id):
    """lme4's checkConv messages in lme4's words (the gradient's size is not compared: it is
    a numerical derivative at a point both optimisers reach only to ~1e-8)."""
    ref, m = MODELS[model_id], fitted(model_id)
    want = [w.split(" with max|grad|")[0] for w in ref["checkConv_messages"]]
    got = [w.split(" with max|grad|")[0] for w in m.optinfo.messages]
    assert got == want
    assert m.singular == ref["isSingular"]
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
