"""Parity with real lme4 + lmerTest.

The reference numbers come from ``tests/reference/make_reference.R`` (R, lme4, lmerTest), stored
in ``tests/reference/lme4_reference.json``. R is not needed to run these tests.

Every model in the JSON is refitted with ``mlmcourse.lmer`` from its formula exactly as written
in R, on the same data (the classroom data through ``load_classroom()``, the lme4 example data
sets from ``tests/reference/data/*.csv``), and compared with the explicit tolerances below.
A test collects every mismatch of its model before failing, so one run shows them all.
"""
from __future__ import annotations

import json
import math
import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlmcourse

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"
REFERENCE = json.loads((REFERENCE_DIR / "lme4_reference.json").read_text())
MODELS = {m["id"]: m for m in REFERENCE["models"]}

# --------------------------------------------------------------------------------------------
# Tolerances (explicit). Both lme4 (BOBYQA, ftol_abs 1e-8) and mlmcourse stop their optimisers
# within ~1e-8 of the criterion's minimum, so two correct fits agree far inside these.
# --------------------------------------------------------------------------------------------
CRIT_ABS = 1e-3        # REML criterion, deviance, logLik, AIC, BIC, LRT / Chisq (absolute, on -2 log L scale)
FIXEF_REL = 1e-5       # fixed-effect estimates (relative; absolute 1e-5 * their SE for estimates near 0)
SE_REL = 1e-4          # standard errors, t values, vcov of the fixed effects (relative)
CORR_ABS = 1e-3        # correlation of fixed effects, random-effect correlations (absolute)
VC_REL = 1e-3          # variance components, their standard deviations, sigma (relative)
VC_ZERO_ABS = 1e-4     # a variance lme4 estimates as exactly 0 (singular fit): absolute, data units^2
DF_REL = 1e-3          # Satterthwaite denominator degrees of freedom (relative)
P_REL = 1e-3           # p-values (relative) ...
P_ABS = 1e-12          # ... or absolute, whichever is looser, for tiny p-values
THETA_ABS = 1e-3       # lme4's theta (relative Cholesky factor), absolute
RESID_ABS = 1e-3       # quantiles of the scaled residuals (absolute, in residual SDs)
RANEF_REL = 1e-3       # conditional modes: relative to the SD of that term's modes ...
RANEF_ABS = 1e-4       # ... plus this absolute floor (for all-zero modes of singular fits)

DATA_DIR = REFERENCE_DIR / "data"
SUBSET_FORMULAS = {"complete_mathgain_ses_mathknow": "mathgain ~ ses + mathknow"}


# --------------------------------------------------------------------------------------------
# Data and fits (each model fitted once per session)
# --------------------------------------------------------------------------------------------
@cache
def dataset(name: str) -> pd.DataFrame:
    if name == "classroom":
        return mlmcourse.load_classroom()
    return pd.read_csv(DATA_DIR / f"{name}.csv")


@cache
def fitted(model_id: str):
    ref = MODELS[model_id]
    dat = dataset(ref["data"])
    kwargs = {"REML": ref["REML"]}
    if ref["subset"] is not None:
        mask = mlmcourse.complete_cases(dat, SUBSET_FORMULAS[ref["subset"]])
        assert int(mask.sum()) == REFERENCE["meta"]["subset_nobs"][ref["subset"]]
        kwargs["subset"] = mask
    return mlmcourse.lmer(ref["formula"], data=dat, **kwargs)


# --------------------------------------------------------------------------------------------
# Comparison helpers: each appends a readable line to `problems` when a value is off.
# --------------------------------------------------------------------------------------------
def _num(x) -> float:
    return float("nan") if x is None else float(x)


def _close(problems, what, got, want, *, rel=None, abs_=None):
    """Pass when |got - want| <= max(rel * |want|, abs_) (each bound only if given)."""
    got, want = _num(got), _num(want)
    if math.isnan(want):
        if not math.isnan(got):
            problems.append(f"{what}: expected missing (NA), got {got!r}")
        return
    if math.isnan(got):
        problems.append(f"{what}: got NaN/None, lme4 has {want!r}")
        return
    tol = max(rel * abs(want) if rel is not None else 0.0, abs_ if abs_ is not None else 0.0)
    diff = abs(got - want)
    if not diff <= tol:
        rel_dev = diff / abs(want) if want != 0 else float("inf")
        problems.append(f"{what}: got {got!r}, lme4 {want!r} "
                        f"(abs dev {diff:.3g}, rel dev {rel_dev:.3g}, tol {tol:.3g})")


def _close_p(problems, what, got, want):
    _close(problems, what, got, want, rel=P_REL, abs_=P_ABS)


def _equal(problems, what, got, want):
    if got != want:
        problems.append(f"{what}: got {got!r}, lme4 {want!r}")


def _attr(m, *names):
    for name in names:
        if hasattr(m, name):
            return getattr(m, name)
    raise AttributeError(f"the fitted model has none of the attributes {names}")


def _level_key(level) -> str:
    """A random-effect level as lme4 prints it: '308', '1:61', 'A:a'."""
    if isinstance(level, tuple):
        return ":".join(_level_key(v) for v in level)
    if isinstance(level, (float, np.floating)) and float(level).is_integer():
        return str(int(level))
    return str(level)


def _varcorr_rows(vc: pd.DataFrame):
    """(group, name, variance, sd) for each variance row of m.varcorr, groups forward-filled."""
    rows, group = [], None
    for _, row in vc.iterrows():
        g = row.get("Groups")
        if isinstance(g, str) and g.strip():
            group = g.strip()
        name = row.get("Name")
        name = name.strip() if isinstance(name, str) and name.strip() else None
        rows.append((group, name, row.get("Variance"), row.get("Std.Dev."), row.get("Corr")))
    return rows


def _first_number(x):
    if x is None:
        return float("nan")
    if isinstance(x, (int, float, np.floating, np.integer)):
        return float(x)
    found = re.findall(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", str(x))
    return float(found[0]) if found else float("nan")


# --------------------------------------------------------------------------------------------
# One test per model
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", list(MODELS))
def test_model_matches_lme4(model_id):
    ref = MODELS[model_id]
    problems = model_problems(fitted(model_id), ref)
    head = f"{model_id}: {ref['formula']} (REML={ref['REML']}) differs from lme4:\n  "
    assert not problems, head + "\n  ".join(problems)


def model_problems(m, ref: dict) -> list[str]:
    """Every difference between the fitted model ``m`` and lme4's record ``ref`` (also used by
    test_parity_cases.py)."""
    problems: list[str] = []

    # sizes and structure
    _equal(problems, "nobs", int(m.nobs), ref["nobs"])
    _equal(problems, "ngroups", {str(k): int(v) for k, v in dict(m.ngroups).items()}, ref["ngroups"])
    _equal(problems, "REML flag", bool(m.REML), ref["REML"])
    _equal(problems, "npar", int(m.npar), ref["npar"])
    singular = _attr(m, "is_singular", "isSingular", "singular")
    singular = singular() if callable(singular) else singular
    _equal(problems, "isSingular", bool(singular), ref["isSingular"])

    # criterion and likelihood-based numbers
    if ref["REML"]:
        _close(problems, "REML criterion", m.reml_criterion, ref["reml_criterion"], abs_=CRIT_ABS)
    else:
        _close(problems, "deviance", m.deviance, ref["deviance"], abs_=CRIT_ABS)
    _close(problems, "logLik", m.loglik, ref["logLik"], abs_=CRIT_ABS)
    _close(problems, "AIC", m.aic, ref["AIC"], abs_=CRIT_ABS)
    _close(problems, "BIC", m.bic, ref["BIC"], abs_=CRIT_ABS)
    _close(problems, "sigma", m.sigma, ref["sigma"], rel=VC_REL)

    # theta, in lme4's order
    theta = np.asarray(_attr(m, "theta"), dtype=float).ravel()
    want_theta = ref["theta"]["values"]
    if len(theta) != len(want_theta):
        problems.append(f"theta: got {len(theta)} values {theta.tolist()}, lme4 {want_theta}")
    else:
        for name, got, want in zip(ref["theta"]["names"], theta, want_theta):
            _close(problems, f"theta[{name}]", got, want, abs_=THETA_ABS)

    # variance components: lme4's group names, order and values
    got_rows = _varcorr_rows(m.varcorr)
    want_rows = [r for r in ref["varcorr"] if r["var2"] is None]
    got_labels = [(g, n) for g, n, *_ in got_rows]
    want_labels = [(r["grp"], r["var1"]) for r in want_rows]
    _equal(problems, "varcorr groups and names", got_labels, want_labels)
    if len(got_rows) == len(want_rows):
        for (_g, _n, var, sd, _), w in zip(got_rows, want_rows):
            label = f"varcorr {w['grp']}/{w['var1'] or ''}"
            if w["vcov"] == 0:
                _close(problems, f"{label} variance (lme4: exactly 0)", var, 0.0, abs_=VC_ZERO_ABS)
            else:
                _close(problems, f"{label} variance", var, w["vcov"], rel=VC_REL)
                _close(problems, f"{label} Std.Dev.", sd, w["sdcor"], rel=VC_REL)
        # correlations: lme4 prints each on the row of the second effect, under Corr
        for w in (r for r in ref["varcorr"] if r["var2"] is not None):
            rows = [row for row in got_rows if row[0] == w["grp"] and row[1] == w["var2"]]
            got_corr = _first_number(rows[0][4]) if rows else float("nan")
            _close(problems, f"varcorr corr {w['grp']}/{w['var1']},{w['var2']}", got_corr, w["sdcor"], abs_=CORR_ABS)

    # fixed effects and the lmerTest coefficient table, keyed by lme4's term names
    fixef = m.fixef
    _equal(problems, "fixed-effect terms", [str(t) for t in fixef.index], list(ref["fixef"]))
    ct = m.coef_table
    _equal(problems, "coef_table columns", list(ct.columns), ["Estimate", "Std. Error", "df", "t value", "Pr(>|t|)"])
    for term, row in ref["coef_table"].items():
        if term not in ct.index:
            problems.append(f"coef_table: no row {term!r} (rows: {list(ct.index)})")
            continue
        got = ct.loc[term]
        se = row["Std. Error"]
        _close(problems, f"{term} Estimate", got["Estimate"], row["Estimate"], rel=FIXEF_REL, abs_=FIXEF_REL * se)
        _close(problems, f"{term} Std. Error", got["Std. Error"], se, rel=SE_REL)
        _close(problems, f"{term} df", got["df"], row["df"], rel=DF_REL)
        _close(problems, f"{term} t value", got["t value"], row["t value"], rel=SE_REL, abs_=SE_REL)
        _close_p(problems, f"{term} Pr(>|t|)", got["Pr(>|t|)"], row["Pr(>|t|)"])

    # vcov of the fixed effects (relative to sqrt(V_ii V_jj)) and their correlation
    V = _attr(m, "vcov", "vcov_fixef", "cov_fixef")
    V = V() if callable(V) else V
    V = pd.DataFrame(V)
    names = ref["vcov"]["rownames"]
    want_V = np.asarray(ref["vcov"]["values"], dtype=float)
    want_C = np.asarray(ref["cor_fixef"]["values"], dtype=float)
    if not set(names) <= set(map(str, V.index)) or not set(names) <= set(map(str, V.columns)):
        problems.append(f"vcov: terms {list(V.index)} are not lme4's {names}")
    else:
        V.index, V.columns = list(map(str, V.index)), list(map(str, V.columns))
        got_V = V.loc[names, names].to_numpy(dtype=float)
        scale = np.sqrt(np.outer(np.diag(want_V), np.diag(want_V)))
        for i, a in enumerate(names):
            for j, b in enumerate(names[: i + 1]):
                _close(problems, f"vcov[{a},{b}]", got_V[i, j], want_V[i, j], abs_=SE_REL * scale[i, j])
                got_c = got_V[i, j] / math.sqrt(got_V[i, i] * got_V[j, j])
                _close(problems, f"cor_fixef[{a},{b}]", got_c, want_C[i, j], abs_=CORR_ABS)

    # quantiles of the scaled residuals (summary's five numbers; R's quantile type 7 = numpy linear)
    scaled = np.asarray(m.resid, dtype=float) / float(m.sigma)
    qs = np.quantile(scaled[~np.isnan(scaled)], [0, 0.25, 0.5, 0.75, 1])
    for (name, want), got in zip(ref["scaled_residuals"].items(), qs):
        _close(problems, f"scaled residuals {name}", got, want, abs_=RESID_ABS)

    # conditional modes: first five levels and the SD, per grouping factor and term
    ranef = m.ranef
    for group, terms in ref["ranef"].items():
        for term, w in terms.items():
            # lme4 merges terms of one factor ((x||g) -> columns of 'g'); accept the same columns
            # split over lme4's varcorr names g, g.1, ...
            frames = [ranef[k] for k in ranef if k == group or re.fullmatch(re.escape(group) + r"\.\d+", str(k))]
            frames = [f for f in frames if term in f.columns]
            if not frames:
                problems.append(f"ranef: no column {term!r} for group {group!r} (groups: {list(ranef)})")
                continue
            col = frames[0][term]
            _equal(problems, f"ranef {group}/{term} number of levels", len(col), w["n"])
            _close(problems, f"ranef {group}/{term} SD", float(np.std(col.to_numpy(dtype=float), ddof=1)), w["sd"],
                   rel=VC_REL, abs_=RANEF_ABS)
            by_level = {_level_key(k): v for k, v in col.items()}
            for level, want in zip(w["first5_levels"], w["first5"]):
                if level not in by_level:
                    problems.append(f"ranef {group}/{term}: no level {level!r} (have e.g. {list(by_level)[:5]})")
                    continue
                _close(problems, f"ranef {group}/{term}[{level}]", by_level[level], want,
                       abs_=RANEF_REL * w["sd"] + RANEF_ABS)

    return problems


# --------------------------------------------------------------------------------------------
# ranova (lmerTest) and anova (lme4) tables
# --------------------------------------------------------------------------------------------
def _compare_table(problems, got: pd.DataFrame, ref: dict, *, compare_rownames: bool):
    _equal(problems, "columns", [str(c) for c in got.columns], ref["colnames"])
    if compare_rownames:
        _equal(problems, "rows", [str(r) for r in got.index], ref["rownames"])
    if len(got) != len(ref["rownames"]):
        problems.append(f"{len(got)} rows, lme4 has {len(ref['rownames'])}")
        return
    for col, values in ref["columns"].items():
        if col not in got.columns:
            continue
        for i, (row, want) in enumerate(zip(ref["rownames"], values)):
            g = got[col].iloc[i]
            what = f"{row} / {col}"
            if col in ("npar", "Df"):
                if want is None:
                    if not pd.isna(g):
                        problems.append(f"{what}: expected missing, got {g!r}")
                elif pd.isna(g) or int(g) != want:
                    problems.append(f"{what}: got {g!r}, lme4 {want!r}")
            elif col == "Pr(>Chisq)":
                _close_p(problems, what, None if pd.isna(g) else g, want)
            else:
                _close(problems, what, None if pd.isna(g) else g, want, abs_=CRIT_ABS)


@pytest.mark.parametrize("ref", REFERENCE["ranova"], ids=[r["model"] for r in REFERENCE["ranova"]])
def test_ranova_matches_lmertest(ref):
    got = mlmcourse.ranova(fitted(ref["model"]))
    problems: list[str] = []
    _compare_table(problems, got, ref, compare_rownames=True)
    assert not problems, f"{ref['call']} differs from lmerTest:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("ref", REFERENCE["anova"], ids=[a["id"] for a in REFERENCE["anova"]])
def test_anova_matches_lme4(ref):
    models = [fitted(mid) for mid in ref["models"]]
    got = mlmcourse.anova(*models, refit=ref["refit"])
    problems: list[str] = []
    # lme4 names the rows after the R variables (lmer.fit2, ...), which Python cannot see;
    # the rows are compared in order (lme4 sorts them by npar, as it printed them).
    _compare_table(problems, got, ref, compare_rownames=False)
    assert not problems, f"{ref['call']} differs from lme4:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("ref", REFERENCE["errors"], ids=[e["id"] for e in REFERENCE["errors"]])
def test_anova_refuses_models_fitted_to_different_rows(ref):
    # lme4: "models were not all fitted to the same size of dataset". The course says it in its
    # own words, as a CourseError that names both sizes so the student sees what went wrong.
    models = [fitted(mid) for mid in ref["models"]]
    sizes = sorted({MODELS[mid]["nobs"] for mid in ref["models"]})
    assert len(sizes) == 2
    with pytest.raises(mlmcourse.CourseError) as info:
        mlmcourse.anova(*models, refit=False)
    message = str(info.value)
    for n in sizes:
        assert str(n) in message, f"the message should name the sample size {n}: {message!r}"
