"""Bench sections: mlmcourse.lmer, plain statsmodels MixedLM and lme4 + lmerTest, in one run.

Fitting the handout's models, one model of each other family (a correlated random slope,
crossed factors, a quadratic growth curve with a 3 x 3 covariance), a 100,000-row nested and a
1,000,000-row crossed simulated data set, with mlmcourse.lmer, plain statsmodels MixedLM (its
defaults) and lme4 + lmerTest (if R is here); then the ratios mlmcourse / lme4 and their totals.
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import time
import warnings

import numpy as np
import pandas as pd
from benchlib import ROOT, Row, section

SUBSET_COLUMNS = ["mathgain", "ses", "mathknow"]
REFDATA = ROOT / "tests" / "reference" / "data"

# id, lme4 formula, data set, complete-case subset? The plain statsmodels call for each is built
# by mlmcourse.engine.smbridge (groups, re_formula="1" for the outer factor, vc_formula for the
# inner one): with vc_formula and no re_formula statsmodels drops the school intercept.
HANDOUT_MODELS = [
    ("lmer.fit1", "mathkind ~ ses + (1|schoolid)", "classroom", False),
    ("fit3", "mathkind ~ ses + (1|schoolid/classid)", "classroom", False),
    ("lmer.fit2", "mathgain ~ (1|schoolid)", "classroom", False),
    ("lmer.fit3", "mathgain ~ (1|schoolid/classid)", "classroom", False),
    ("fit7", "mathgain ~ 1 + (1|schoolid/classid)", "classroom", True),
    ("fit8", "mathgain ~ ses + mathknow + (1|schoolid/classid)", "classroom", True),
]
FAMILY_MODELS = [
    ("sleepstudy", "Reaction ~ Days + (Days|Subject)", "sleepstudy", False),
    ("classroom.slope", "mathgain ~ mathkind + ses + (1 + ses|schoolid)", "classroom", False),
    ("penicillin", "diameter ~ 1 + (1|plate) + (1|sample)", "Penicillin", False),
    ("sleepstudy.quad", "Reaction ~ Days + I(Days^2/10) + (1 + Days + I(Days^2/10)|Subject)",
     "sleepstudy", False),
]
# confint(m) (profile intervals) is timed on these, from the fitted model, against lme4's
# confint(m, method = "profile") in the same run
PROFILE_IDS = ("lmer.fit1", "fit3", "sleepstudy")
SIM_FORMULA = "y ~ x + (1|school/class)"
SIM_SEED = 20261125
SIM_SHAPE = (1000, 5, 20)   # schools x classrooms per school x students per classroom
CROSSED_FORMULA = "y ~ x + (1|g) + (1|h)"
CROSSED_SEED = 20261201
CROSSED_SHAPE = (1_000_000, 50_000, 1_000)   # rows, levels of g, levels of h
BIG_MODELS = [("sim100k", SIM_FORMULA, "sim100k", False),
              ("crossed1m", CROSSED_FORMULA, "crossed1m", False)]
STATSMODELS_MAX_CELLS = 20_000_000   # statsmodels' crossed design is dense: n x (levels) cells


def _short_error(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}"


def _task(mid: str, formula: str, complete: bool) -> str:
    return f"{mid}: {formula}" + (" (complete cases)" if complete else "")


# -- data ------------------------------------------------------------------------------------
def simulate(out_dir) -> tuple[pd.DataFrame, str]:
    """Simulate the three-level data set: fixed seed, written to build/bench/ for R."""
    n_school, n_class, n_student = SIM_SHAPE
    rng = np.random.default_rng(SIM_SEED)
    school = np.repeat(np.arange(1, n_school + 1), n_class * n_student)
    cls = np.repeat(np.arange(1, n_school * n_class + 1), n_student)
    x = rng.normal(size=school.size)
    y = (50 + 2.0 * x
         + rng.normal(scale=4.0, size=n_school)[school - 1]
         + rng.normal(scale=2.0, size=n_school * n_class)[cls - 1]
         + rng.normal(scale=8.0, size=school.size))
    df = pd.DataFrame({"y": np.round(y, 6), "x": np.round(x, 6), "school": school, "class": cls})
    return _write(df, out_dir / "sim_100k.csv")


def simulate_crossed(out_dir) -> tuple[pd.DataFrame, str]:
    """Simulate two crossed factors, unbalanced.

    Each row draws its level of g (50,000) and of h (1,000) at random (fixed seed), so the levels
    of g hold 20 rows on average, between about 5 and 40.
    """
    n, n_g, n_h = CROSSED_SHAPE
    rng = np.random.default_rng(CROSSED_SEED)
    g = rng.integers(0, n_g, n) + 1
    h = rng.integers(0, n_h, n) + 1
    x = rng.normal(size=n)
    y = (10 + 0.5 * x + rng.normal(scale=1.5, size=n_g)[g - 1] + rng.normal(scale=2.0, size=n_h)[h - 1]
         + rng.normal(scale=3.0, size=n))
    df = pd.DataFrame({"y": np.round(y, 6), "x": np.round(x, 6), "g": g, "h": h})
    return _write(df, out_dir / "sim_crossed_1m.csv")


def _write(df: pd.DataFrame, path) -> tuple[pd.DataFrame, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return pd.read_csv(path), str(path)     # read back: Python and R fit the same numbers


def _datasets(ctx) -> dict[str, tuple[pd.DataFrame, str]]:
    import mlmcourse
    from mlmcourse.data import find_classroom

    out = {"classroom": (mlmcourse.load_classroom(), str(find_classroom(download=False)))}
    for name in ("sleepstudy", "Penicillin"):
        out[name] = (pd.read_csv(REFDATA / f"{name}.csv"), str(REFDATA / f"{name}.csv"))
    if not ctx.quick:
        out["sim100k"] = simulate(ctx.out_dir)
        out["crossed1m"] = simulate_crossed(ctx.out_dir)
    return out


# -- the three tools -------------------------------------------------------------------------
def _mlmcourse_fit(formula, data, subset, repeats):
    """Time lmer() + coef_table over repeats (the Satterthwaite table is part of the job).

    Returns (total, fit, table) seconds of the median run and the model.
    """
    import mlmcourse
    runs, m = [], None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        m = mlmcourse.lmer(formula, data=data, subset=subset)
        t1 = time.perf_counter()
        _ = m.coef_table
        t2 = time.perf_counter()
        runs.append((t2 - t0, t1 - t0, t2 - t1))
    runs.sort()
    return runs[(len(runs) - 1) // 2], m


def _statsmodels_fit(formula, data):
    """Fit the same model with plain statsmodels MixedLM, as a student builds it.

    smf.mixedlm from the formula statsmodels_call prints, built inside the timing, and fitted with
    its defaults.
    """
    from mlmcourse.engine.design import build_design
    from mlmcourse.engine.smbridge import formula_mixedlm
    design = build_design(formula, data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = formula_mixedlm(design)
        result = model.fit(reml=True)
    return result, len(caught)


def _run_r(ctx, tasks: list[tuple[str, str, str, bool, int]]) -> dict:
    """Run bench_lme4.R once on every task.

    Returns {id: (seconds, crit, repeats, plain seconds)} and the total (plain: lme4 alone,
    without lmerTest; not for the 1,000,000-row model).
    """
    rscript = shutil.which("Rscript")
    if rscript is None or not ctx.lme4:
        return {}
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    tsv = ctx.out_dir / "lme4_tasks.tsv"
    lines = ["id\tcsv\tformula\tcomplete\trepeats\tplain\tprofile"]
    lines += [f"{mid}\t{csv}\t{formula}\t{int(complete)}\t{reps}\t{int(mid != 'crossed1m')}"
              f"\t{int(mid in PROFILE_IDS)}"
              for mid, csv, formula, complete, reps in tasks]
    tsv.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    proc = subprocess.run([rscript, str(ROOT / "tests" / "benchmarks" / "bench_lme4.R"), str(tsv)],
                          capture_output=True, text=True, cwd=ROOT)
    out = {"_total": time.perf_counter() - start, "_error": None}
    if proc.returncode != 0:
        out["_error"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "Rscript failed"
    out["_profile"] = {}
    for line in proc.stdout.splitlines():
        parts = line.split("\t")
        if parts[0] == "PROFILE":
            out["_profile"][parts[1]] = (float(parts[2]), int(parts[3]))
        if parts[0] == "BENCH":
            plain = float(parts[5]) if len(parts) > 5 and parts[5] != "NA" else None
            out[parts[1]] = (float(parts[2]), float(parts[3]), int(parts[4]), plain)
    return out


def _repeats(ctx, mid: str) -> int:
    if mid == "crossed1m":
        return ctx.huge_repeats
    return ctx.big_repeats if mid == "sim100k" else ctx.repeats


def _prepare(ctx) -> None:
    """Prepare the data sets and the one Rscript run for every section (once per bench run)."""
    if "data" in ctx.shared:
        return
    data = _datasets(ctx)
    ctx.shared["data"] = data
    models = HANDOUT_MODELS + FAMILY_MODELS + ([] if ctx.quick else BIG_MODELS)
    tasks = [(mid, data[key][1], formula, complete, _repeats(ctx, mid)) for mid, formula, key, complete in models]
    ctx.shared["r"] = _run_r(ctx, tasks)
    ctx.shared["times"] = {}    # id -> (mlmcourse seconds, lme4 seconds or None, lme4 alone or None)


def _rows_for(ctx, mid, formula, key, complete) -> list[Row]:
    df, _ = ctx.shared["data"][key]
    subset = df[SUBSET_COLUMNS].notna().all(axis=1) if complete else None
    task, reps = _task(mid, formula, complete), _repeats(ctx, mid)
    r = ctx.shared["r"]
    lme4_s = r[mid][0] if mid in r else None
    plain_s = r[mid][3] if mid in r else None
    rows = []
    try:
        (total, fit_s, table_s), m = _mlmcourse_fit(formula, df, subset, reps)
        ratio = total / lme4_s if lme4_s else None
        rows.append(Row(task, "mlmcourse.lmer", total, reps, f"REML crit {m.reml_criterion:.2f}",
                        f"fit {fit_s * 1000:.1f} ms + Satterthwaite table {table_s * 1000:.1f} ms",
                        extra={"reml_criterion": m.reml_criterion, "fit_seconds": fit_s,
                               "table_seconds": table_s, "evaluations": m.optinfo.evaluations},
                        ratio=ratio))
        ctx.shared["times"][mid] = (total, lme4_s, plain_s)
    except Exception as exc:   # reported, not hidden: the row says what went wrong
        rows.append(Row(task, "mlmcourse.lmer", None, 0, "", _short_error(exc)))
    sm_data = df[subset] if complete else df
    nlevels = sum(sm_data[c].nunique() for c in ("g", "h")) if key == "crossed1m" else 0
    if len(sm_data) * nlevels > STATSMODELS_MAX_CELLS:
        rows.append(Row(task, "statsmodels MixedLM defaults", None, 0, "",
                        f"not run: crossed factors need one all-ones group and a dense design of "
                        f"{len(sm_data):,} x {nlevels:,} cells ({len(sm_data) * nlevels * 8 / 1e9:.0f} GB)"))
    else:
        try:
            sreps = reps if key in ("sim100k", "crossed1m") else ctx.repeats
            times = []
            for _ in range(max(1, sreps)):
                t0 = time.perf_counter()
                res, nwarn = _statsmodels_fit(formula, sm_data)
                times.append(time.perf_counter() - t0)
            crit = -2 * res.llf
            rows.append(Row(task, "statsmodels MixedLM defaults", statistics.median(times), sreps,
                            f"REML crit {crit:.2f}", f"{nwarn} warnings" if nwarn else "",
                            extra={"reml_criterion": crit, "warnings": nwarn}))
        except Exception as exc:
            rows.append(Row(task, "statsmodels MixedLM defaults", None, 0, "", _short_error(exc)))
    if mid in r:
        seconds, crit, rreps, plain = r[mid]
        note = (f"lme4 alone (lme4::lmer + coef(summary()), no df): {plain * 1000:.1f} ms"
                + (f"; mlmcourse / that: x{ctx.shared['times'][mid][0] / plain:.2f}"
                   if mid in ctx.shared["times"] else "") if plain else "")
        rows.append(Row(task, "lme4 + lmerTest (R)", seconds, rreps, f"REML crit {crit:.2f}", note,
                        extra={"reml_criterion": crit, "lme4_alone_seconds": plain}))
    return rows


# -- sections --------------------------------------------------------------------------------
@section("Fitting the handout's models (classroom data, 1190 students)", order=10,
         description="Median wall time of each fit. mlmcourse includes the lmerTest-style "
                     "coefficient table (Satterthwaite df); lme4 is timed inside R around lmer() "
                     "plus coef(summary()) (no start-up, no data reading). statsmodels is MixedLM "
                     "with its defaults: its REML criterion shows where its optimiser stops. "
                     "'vs lme4' is mlmcourse's time over lme4's.")
def handout_fits(ctx):
    """Time the handout's six models."""
    _prepare(ctx)
    rows = [row for mid, formula, key, complete in HANDOUT_MODELS
            for row in _rows_for(ctx, mid, formula, key, complete)]
    r = ctx.shared["r"]
    if r:
        note = "R start-up, loading lme4/lmerTest, reading the CSVs and every lme4 fit of this report"
        if r.get("_error"):
            note += f"; Rscript error: {r['_error']}"
        rows.append(Row("all lme4 fits, one Rscript run", "Rscript (whole process)", r["_total"], 1, "", note))
    else:
        why = "--no-lme4" if not ctx.lme4 else "Rscript not found"
        rows.append(Row("lme4 + lmerTest", "Rscript", None, 0, "", f"{why}: lme4 not timed"))
    return rows


@section("Other model families: a correlated random slope, crossed factors, a 3 x 3 covariance",
         order=15,
         description="sleepstudy (lme4's example data: one factor, intercept and slope correlated), "
                     "the classroom data with a random ses slope by school, Penicillin "
                     "(two crossed factors), and sleepstudy's quadratic growth curve "
                     "(intercept, Days and Days^2/10 correlated: 6 covariance parameters), "
                     "timed as above.")
def family_fits(ctx):
    """Time one model of each other family."""
    _prepare(ctx)
    return [row for mid, formula, key, complete in FAMILY_MODELS
            for row in _rows_for(ctx, mid, formula, key, complete)]


@section("Profile confidence intervals: confint(m)", order=17,
         description="confint(m) by profile likelihood (lme4's default method) on a fitted model: "
                     "mlmcourse.confint(m) against lme4's confint(m, method = \"profile\") timed "
                     "inside R (no start-up); medians of the repeats. 'vs lme4' is mlmcourse's time "
                     "over lme4's. Both profile every parameter (the REML fits after an ML refit).")
def profile_intervals(ctx):
    """Time profile confidence intervals."""
    import mlmcourse
    _prepare(ctx)
    r = ctx.shared["r"].get("_profile", {})
    rows = []
    for mid, formula, key, complete in HANDOUT_MODELS + FAMILY_MODELS:
        if mid not in PROFILE_IDS:
            continue
        df, _ = ctx.shared["data"][key]
        subset = df[SUBSET_COLUMNS].notna().all(axis=1) if complete else None
        task = _task(mid, formula, complete)
        lme4_s = r[mid][0] if mid in r else None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = mlmcourse.lmer(formula, data=df, subset=subset)
            times, ci = [], None
            for _ in range(max(1, ctx.repeats)):
                t0 = time.perf_counter()
                ci = mlmcourse.confint(m)
                times.append(time.perf_counter() - t0)
            sec = statistics.median(times)
            first = ci.index[0]
            rows.append(Row(task, "mlmcourse.confint", sec, ctx.repeats,
                            f"{first}: {ci.iloc[0, 0]:.4g} to {ci.iloc[0, 1]:.4g}", "",
                            ratio=sec / lme4_s if lme4_s else None))
        except Exception as exc:
            rows.append(Row(task, "mlmcourse.confint", None, 0, "", _short_error(exc)))
        if lme4_s is not None:
            rows.append(Row(task, "lme4 confint(m, method = \"profile\") (R)", lme4_s, r[mid][1], "", ""))
        elif ctx.shared["r"]:
            rows.append(Row(task, "lme4 (R)", None, 0, "", "not timed"))
    return rows


@section("Large simulated data sets (100,000 nested, 1,000,000 crossed)", order=20,
         description=f"`{SIM_FORMULA}`: {SIM_SHAPE[0]} schools x {SIM_SHAPE[1]} classrooms x "
                     f"{SIM_SHAPE[2]} students, seed {SIM_SEED} (build/bench/sim_100k.csv). "
                     f"`{CROSSED_FORMULA}`: {CROSSED_SHAPE[0]:,} rows, g with {CROSSED_SHAPE[1]:,} "
                     f"levels crossed with h with {CROSSED_SHAPE[2]:,}, each row's levels drawn at "
                     f"random, seed {CROSSED_SEED} (build/bench/sim_crossed_1m.csv); lme4 takes "
                     "several minutes on it. Both written by Python and read by R.")
def simulated_fits(ctx):
    """Time the two large simulated data sets."""
    if ctx.quick:
        return [Row(f"{SIM_FORMULA}; {CROSSED_FORMULA}", "—", None, 0, "", "skipped (--quick)")]
    _prepare(ctx)
    return [row for mid, formula, key, complete in BIG_MODELS
            for row in _rows_for(ctx, mid, formula, key, complete)]


@section("mlmcourse against lme4: totals", order=25,
         description="Sums of the median times above (mlmcourse: lmer() + coef_table; lme4: lmer() + "
                     "coef(summary())), and mlmcourse's time over lme4's (goal: at most 0.7 for the "
                     "handout's six models and the other families together).")
def totals(ctx):
    """Sum the times and give mlmcourse's over lme4's."""
    times = ctx.shared.get("times", {})
    groups = [("the handout's six models", [m[0] for m in HANDOUT_MODELS]),
              (f"the other families ({len(FAMILY_MODELS)} models)", [m[0] for m in FAMILY_MODELS]),
              (f"handout + families ({len(HANDOUT_MODELS) + len(FAMILY_MODELS)} models)",
               [m[0] for m in HANDOUT_MODELS + FAMILY_MODELS])]
    if not ctx.quick:
        groups += [(f"{mid}: {formula}", [mid]) for mid, formula, _, _ in BIG_MODELS]
    rows = []
    for label, ids in groups:
        have = [times[i] for i in ids if i in times]
        complete = len(have) == len(ids)
        ours = sum(t[0] for t in have) if complete else None
        theirs = sum(t[1] for t in have) if complete and all(t[1] for t in have) else None
        plain = sum(t[2] for t in have) if complete and all(t[2] for t in have) else None
        rows.append(Row(label, "mlmcourse.lmer", ours, len(ids), "",
                        f"mlmcourse / lme4 alone: x{ours / plain:.2f}" if ours and plain else "",
                        ratio=ours / theirs if ours and theirs else None))
        rows.append(Row(label, "lme4 + lmerTest (R)", theirs, len(ids), "",
                        (f"lme4 alone (no df): {plain:.2f} s" if plain else "") if theirs else "lme4 not timed"))
    return rows
