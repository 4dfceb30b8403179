"""The model engine, in lme4's own stages (lme4: lFormula -> mkLmerDevfun -> optimizeLmer -> mkMerMod).

formula.py    lme4 formula -> FormulaSpec (random terms expanded as lme4 expands them)
rsyntax.py    R's meaning of formula syntax: scale(), factor levels (as.character, R's order),
              refusals of R-only syntax (offset(), poly(), %in%, contr.*) with what to write
rows.py       the rows a model uses (subset, missing values) and complete_cases
design.py     FormulaSpec + rows -> y, X, Z and the grouping factors
checks.py     what the data must be: finite, not degenerate, full rank (lme4 drops columns)
linalg/       the Cholesky of A = Lambda' Z'Z Lambda + I: one Plan per model (immutable),
              built by the strategy its terms need (scalar, pair, block, sparse), and
              theta's layout (layout.py); see linalg/__init__.py
pls.py        the profiled REML/ML criterion by penalized least squares
optimize.py   lme4's optimizeLmer (nloptwrap: NLopt's BOBYQA with its stops) and checkConv
allfit.py     all_fit(m): lme4's allFit, the model refitted by several optimisers, as a table
fit.py        lmer(formula, data, engine=): the design, then fitting.fit
fitting.py    fit(design, REML, start, engine) -> LmerModel; refit; model_at(design, theta)
fitted.py     LmerModel: the results of a fit (never runs the optimiser itself)
numderiv.py   numerical derivatives (central differences, Richardson extrapolation)
inference.py  lmerTest's Satterthwaite table, and the ICC
compare.py    anova (likelihood-ratio tests on the same rows, ML refit) and ranova
profile.py    lme4's profile(): zeta of each parameter (ML refit; SD/cor/sigma, fixed effects)
  sdcor.py      lme4's SD/correlation scale of theta, and its parameter labels
  profile_solvers.py  BOBYQA at each point of a profile, the root finder for an interval's end
confint.py    lme4's confint(): profile (default) and Wald intervals, lme4's rows and labels
arguments.py  lme4 arguments lmer() and lm() do not take (weights=, offset=, ...), explained
callers.py    the caller's names for objects (Data: dat), the student's frame for warnings
ols.py        ordinary least squares: lm() with statsmodels, and the bare solve
smbridge.py   the same model as a statsmodels MixedLM
smfit.py      engine="statsmodels": MixedLM fits it (lbfgs, checked), its estimates -> theta
threads.py    one_blas_thread: a fit's small dense linear algebra on one BLAS thread
"""
