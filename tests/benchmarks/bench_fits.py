"""Bench sections: fitting the handout's models and a 100,000-student simulated data set,
with mlmcourse.lmer, plain statsmodels MixedLM (its defaults) and lme4 + lmerTest (if R is here).
"""
from __future__ import annotations

import shutil
import subprocess
import time
import warnings

import numpy as np
import pandas as pd
from benchlib import ROOT, Row, section, timed

SUBSET_COLUMNS = ["mathgain", "ses", "mathknow"]

# id, lme4 formula, complete-case subset? The plain statsmodels call for each is built by
# mlmcourse.engine.smbridge (groups, re_formula="1" for the outer factor, vc_formula for the inner one):
# with vc_formula and no re_formula statsmodels drops the school intercept, a different model.
HANDOUT_MODELS = [
    ("lmer.fit1", "mathkind ~ ses + (1|schoolid)", False),
    ("fit3", "mathkind ~ ses + (1|schoolid/classid)", False),
    ("lmer.fit2", "mathgain ~ (1|schoolid)", False),
    ("lmer.fit3", "mathgain ~ (1|schoolid/classid)", False),
    ("fit7", "mathgain ~ 1 + (1|schoolid/classid)", True),
    ("fit8", "mathgain ~ ses + mathknow + (1|schoolid/classid)", True),
]

SIM_FORMULA = "y ~ x + (1|school/class)"
SIM_SEED = 20261125
SIM_SHAPE = (1000, 5, 20)   # schools x classrooms per school x students per classroom


def _short_error(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}"


def _mlmcourse_fit(formula, data, subset=None):
    import mlmcourse
    kwargs = {} if subset is None else {"subset": subset}
    m = mlmcourse.lmer(formula, data=data, **kwargs)
    _ = m.coef_table      # the Satterthwaite table is part of the job
    return m


def _statsmodels_fit(formula, data):
    """The same model as plain statsmodels MixedLM, fitted with its defaults."""
    from mlmcourse.engine.design import build_design
    from mlmcourse.engine.smbridge import to_mixedlm
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = to_mixedlm(build_design(formula, data))
        result = model.fit(reml=True)
    return result, len(caught)


def simulate(out_dir) -> tuple[pd.DataFrame, str]:
    """The three-level data set: fixed seed, written to build/bench/ for R."""
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
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "sim_100k.csv"
    df.to_csv(path, index=False)
    return pd.read_csv(path), str(path)     # read back: Python and R fit the same numbers


def _run_r(ctx, classroom_path: str, sim_path: str | None) -> dict:
    """Run bench_lme4.R once; return {id: (seconds, crit, repeats)} and the total wall time."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return {}
    cmd = [rscript, str(ROOT / "tests" / "benchmarks" / "bench_lme4.R"), classroom_path,
           sim_path or "none", str(ctx.repeats), str(ctx.big_repeats)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    total = time.perf_counter() - start
    out = {"_total": total, "_error": None}
    if proc.returncode != 0:
        out["_error"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "Rscript failed"
    for line in proc.stdout.splitlines():
        parts = line.split("\t")
        if parts[0] == "BENCH":
            out[parts[1]] = (float(parts[2]), float(parts[3]), int(parts[4]))
    return out


@section("Fitting the handout's models (classroom data, 1190 students)", order=10,
         description="Median wall time of each fit. mlmcourse includes the lmerTest-style "
                     "coefficient table (Satterthwaite df); lme4 is timed inside R around lmer() "
                     "plus coef(summary()) (no start-up, no data reading). statsmodels is MixedLM "
                     "with its defaults: its REML criterion shows where its optimiser stops.")
def handout_fits(ctx):
    import mlmcourse
    from mlmcourse.data import find_classroom

    dat = mlmcourse.load_classroom()
    mask = dat[SUBSET_COLUMNS].notna().all(axis=1)     # the handout's in_sample
    sim_path = None
    if not ctx.quick:
        sim, sim_path = simulate(ctx.out_dir)
        ctx.shared["sim"] = sim
    r = _run_r(ctx, str(find_classroom(download=False)), sim_path)
    ctx.shared["r"] = r

    rows = []
    for mid, formula, use_subset in HANDOUT_MODELS:
        task = f"{mid}: {formula}" + (" (complete cases)" if use_subset else "")
        try:
            rows_used = mask if use_subset else None
            seconds, m = timed(lambda f=formula, r=rows_used: _mlmcourse_fit(f, dat, r), ctx.repeats)
            rows.append(Row(task, "mlmcourse.lmer", seconds, ctx.repeats,
                            f"REML crit {m.reml_criterion:.2f}", extra={"reml_criterion": m.reml_criterion}))
        except Exception as exc:   # reported, not hidden: the row says what went wrong
            rows.append(Row(task, "mlmcourse.lmer", None, 0, "", _short_error(exc)))
        sm_data = dat[mask] if use_subset else dat
        try:
            seconds, (res, nwarn) = timed(lambda f=formula, d=sm_data: _statsmodels_fit(f, d), ctx.repeats)
            crit = -2 * res.llf
            rows.append(Row(task, "statsmodels MixedLM defaults", seconds, ctx.repeats, f"REML crit {crit:.2f}",
                            f"{nwarn} warnings" if nwarn else "",
                            extra={"reml_criterion": crit, "warnings": nwarn}))
        except Exception as exc:
            rows.append(Row(task, "statsmodels MixedLM defaults", None, 0, "", _short_error(exc)))
        if mid in r:
            seconds, crit, reps = r[mid]
            rows.append(Row(task, "lme4 + lmerTest (R)", seconds, reps, f"REML crit {crit:.2f}",
                            extra={"reml_criterion": crit}))
    if r:
        note = "R start-up, loading lme4/lmerTest, reading the CSVs and every fit above" + \
               ("" if ctx.quick else " and the 100,000-row fit")
        if r.get("_error"):
            note += f"; Rscript error: {r['_error']}"
        rows.append(Row("all of the above, one Rscript run", "Rscript (whole process)", r["_total"], 1, "", note))
    else:
        rows.append(Row("lme4 + lmerTest", "Rscript", None, 0, "", "Rscript not found: lme4 not timed"))
    return rows


@section("A simulated three-level data set (100,000 students)", order=20,
         description=f"{SIM_SHAPE[0]} schools x {SIM_SHAPE[1]} classrooms x {SIM_SHAPE[2]} students, "
                     f"seed {SIM_SEED}, `{SIM_FORMULA}` (REML). Written to build/bench/sim_100k.csv.")
def simulated_fits(ctx):
    if ctx.quick:
        return [Row(SIM_FORMULA, "—", None, 0, "", "skipped (--quick)")]
    sim = ctx.shared.get("sim")
    if sim is None:
        sim, _ = simulate(ctx.out_dir)
    n = len(sim)
    task = f"{SIM_FORMULA}, n = {n:,}"
    rows = []
    try:
        seconds, m = timed(lambda: _mlmcourse_fit(SIM_FORMULA, sim), ctx.big_repeats)
        rows.append(Row(task, "mlmcourse.lmer", seconds, ctx.big_repeats, f"REML crit {m.reml_criterion:.2f}",
                        extra={"reml_criterion": m.reml_criterion}))
    except Exception as exc:
        rows.append(Row(task, "mlmcourse.lmer", None, 0, "", _short_error(exc)))
    try:
        seconds, (res, nwarn) = timed(lambda: _statsmodels_fit(SIM_FORMULA, sim), ctx.big_repeats)
        crit = -2 * res.llf
        rows.append(Row(task, "statsmodels MixedLM defaults", seconds, ctx.big_repeats, f"REML crit {crit:.2f}",
                        f"{nwarn} warnings" if nwarn else "", extra={"reml_criterion": crit}))
    except Exception as exc:
        rows.append(Row(task, "statsmodels MixedLM defaults", None, 0, "", _short_error(exc)))
    r = ctx.shared.get("r") or {}
    if "sim100k" in r:
        seconds, crit, reps = r["sim100k"]
        rows.append(Row(task, "lme4 + lmerTest (R)", seconds, reps, f"REML crit {crit:.2f}",
                        "timed inside R (CSV read excluded)", extra={"reml_criterion": crit}))
    return rows
