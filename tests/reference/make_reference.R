# make_reference.R -- lme4 / lmerTest reference values for the course's parity tests.
#
# Run from the repository root:
#     Rscript tests/reference/make_reference.R [path/to/classroom.csv]
# (or `make reference`). Needs only Debian's r-base-core, r-cran-lme4 and r-cran-lmertest:
# the JSON is written by the small writer below, not by jsonlite.
#
# It writes
#   tests/reference/data/<name>.csv   small lme4 example data sets (committed), and
#   tests/reference/lme4_reference.json  every number the Python parity test compares.
#
# The example data sets are written first and then READ BACK from the CSV before fitting, so
# that R and Python fit exactly the same numbers (factor levels as plain strings, sorted).
# The classroom data is never copied: it is read from ../shared/data/classroom.csv.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
})
options(width = 200, useFancyQuotes = FALSE)   # the printouts below, as make_parity_cases.R prints them

.here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
source(file.path(.here, "reference_setup.R"))  # classroom_path, out_dir, data_dir, the JSON writer, sets_via_csv()
source(file.path(.here, "lmer_extract.R"))  # mat_json, table_json, describe

# ---------------------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------------------
# The course data, read as the handout reads it.
dat <- read.csv(classroom_path)

# The handout's complete-case indicator for mathgain, ses and mathknow (section 2.1.3):
# rows with none of the three missing. fit7 and fit8 are fitted to these 1081 rows.
save.options <- options()
options(na.action = "na.pass")
mm <- model.matrix(~ mathgain + ses + mathknow, data = dat)
in_sample <- apply(is.na(mm), 1, sum) == 0
options(save.options)

# lme4's example data sets, written as plain CSV (factor levels as strings, numbers as
# numbers) and read back, so that the fits below use the bytes Python will read.
example_sets <- list(
  sleepstudy = sleepstudy[, c("Reaction", "Days", "Subject")],      # repeated measures, slopes
  Penicillin = Penicillin[, c("diameter", "plate", "sample")],      # fully crossed factors
  Pastes     = Pastes[, c("strength", "batch", "cask", "sample")],  # cask nested in batch
  Dyestuff   = Dyestuff[, c("Batch", "Yield")],                     # one-way random effect
  Dyestuff2  = Dyestuff2[, c("Batch", "Yield")],                    # singular fit (sigma_b = 0)
  # cake: the ordered factor 'temperature' is left out (it would bring polynomial contrasts);
  # its numeric twin 'temp' is kept.
  cake       = cake[, c("angle", "recipe", "replicate", "temp")]
)
ex <- sets_via_csv(example_sets)
sleepstudy_csv <- ex$sleepstudy; Penicillin_csv <- ex$Penicillin; Pastes_csv <- ex$Pastes
Dyestuff_csv <- ex$Dyestuff; Dyestuff2_csv <- ex$Dyestuff2; cake_csv <- ex$cake

# ---------------------------------------------------------------------------------------
# The models. Each one: an id (also the R object's name, so anova() rows carry it), the data
# set, the formula exactly as written, REML or ML, and the subset (NULL or the named mask).
# ---------------------------------------------------------------------------------------
spec <- function(id, data, formula, REML = TRUE, subset = NULL, purpose)
  list(id = id, data = data, formula = formula, REML = REML, subset = subset, purpose = purpose)

models <- list(
  # --- the handout's fits (classroom data) ---
  spec("lmer.fit1", "classroom", "mathkind ~ ses + (1|schoolid)",
       purpose = "handout: random school intercept with a student-level predictor"),
  spec("fit3", "classroom", "mathkind ~ ses + (1|schoolid/classid)",
       purpose = "handout: classrooms nested in schools (two nested random intercepts)"),
  spec("lmer.fit2", "classroom", "mathgain ~ (1|schoolid)",
       purpose = "handout: unconditional means model for mathgain, schools only"),
  spec("lmer.fit3", "classroom", "mathgain ~ (1|schoolid/classid)",
       purpose = "handout: unconditional means model, classrooms nested in schools"),
  spec("lmer.fit4", "classroom", "mathgain ~ ses + mathknow + (1|schoolid/classid)",
       purpose = "handout: the naive fit that silently drops 109 rows with missing mathknow"),
  spec("fit7", "classroom", "mathgain ~ 1 + (1|schoolid/classid)",
       subset = "complete_mathgain_ses_mathknow",
       purpose = "handout: null model on the complete-case rows (for a valid LRT)"),
  spec("fit8", "classroom", "mathgain ~ ses + mathknow + (1|schoolid/classid)",
       subset = "complete_mathgain_ses_mathknow",
       purpose = "handout: block of two predictors on the complete-case rows"),
  # --- ML (REML=FALSE) variants ---
  spec("lmer.fit1.ml", "classroom", "mathkind ~ ses + (1|schoolid)", REML = FALSE,
       purpose = "maximum likelihood version of lmer.fit1 (AIC/BIC/deviance under ML)"),
  spec("fit7.ml", "classroom", "mathgain ~ 1 + (1|schoolid/classid)", REML = FALSE,
       subset = "complete_mathgain_ses_mathknow",
       purpose = "ML fit of fit7: what anova(fit7, fit8, refit=TRUE) compares"),
  spec("fit8.ml", "classroom", "mathgain ~ ses + mathknow + (1|schoolid/classid)", REML = FALSE,
       subset = "complete_mathgain_ses_mathknow",
       purpose = "ML fit of fit8: what anova(fit7, fit8, refit=TRUE) compares"),
  # --- more structure on the classroom data ---
  spec("slope.ses", "classroom", "mathgain ~ ses + (ses|schoolid)",
       purpose = "correlated random intercept and ses slope by school; a singular fit (the slope variance is 0); ranova reduces it to (1|schoolid)"),
  spec("factor.sex", "classroom", "mathgain ~ factor(sex) + minority * ses + (1|schoolid)",
       purpose = "categorical fixed effect written with factor(), and an interaction"),
  spec("explicit.colon", "classroom", "mathgain ~ 1 + (1|schoolid) + (1|schoolid:classid)",
       purpose = "the nested model written with an explicit a:b term (group named schoolid:classid)"),
  # --- sleepstudy: random slopes ---
  spec("ss.int", "sleepstudy", "Reaction ~ Days + (1|Subject)",
       purpose = "random intercept only (the smaller model of the sleepstudy anova)"),
  spec("ss.corr", "sleepstudy", "Reaction ~ Days + (Days|Subject)",
       purpose = "correlated random intercept and slope"),
  spec("ss.corr.ml", "sleepstudy", "Reaction ~ Days + (Days|Subject)", REML = FALSE,
       purpose = "correlated random intercept and slope, maximum likelihood"),
  spec("ss.uncorr", "sleepstudy", "Reaction ~ Days + (Days||Subject)",
       purpose = "uncorrelated intercept and slope with ||; lme4 names the groups Subject and Subject.1"),
  spec("ss.sep", "sleepstudy", "Reaction ~ Days + (0+Days|Subject) + (1|Subject)",
       purpose = "the same uncorrelated model written as two terms"),
  # --- other lme4 data sets ---
  spec("pen.crossed", "Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)",
       purpose = "fully crossed random effects"),
  spec("pastes.nested", "Pastes", "strength ~ 1 + (1|batch/cask)",
       purpose = "casks nested in batches (lme4 names the inner group cask:batch)"),
  spec("pastes.colon", "Pastes", "strength ~ 1 + (1|batch) + (1|batch:cask)",
       purpose = "the nested Pastes model with an explicit a:b term"),
  spec("dyestuff", "Dyestuff", "Yield ~ 1 + (1|Batch)",
       purpose = "one-way random effects, a clearly positive variance"),
  spec("dyestuff.ml", "Dyestuff", "Yield ~ 1 + (1|Batch)", REML = FALSE,
       purpose = "one-way random effects under ML"),
  spec("dyestuff2.singular", "Dyestuff2", "Yield ~ 1 + (1|Batch)",
       purpose = "singular fit: the batch variance is estimated as exactly zero"),
  spec("cake.interaction", "cake", "angle ~ recipe * temp + (1|recipe:replicate)",
       purpose = "categorical fixed effect (string column) interacting with a number, explicit a:b group")
)

# ---------------------------------------------------------------------------------------
# Extractors
# ---------------------------------------------------------------------------------------
data_vars <- c(classroom = "dat", sleepstudy = "sleepstudy_csv", Penicillin = "Penicillin_csv",
               Pastes = "Pastes_csv", Dyestuff = "Dyestuff_csv", Dyestuff2 = "Dyestuff2_csv",
               cake = "cake_csv")

# The call is built as text and evaluated in the global environment, so that the fitted
# object's call refers to global data (ranova() and anova(refit = TRUE) re-evaluate it).
fit_model <- function(s) {
  call_text <- sprintf("lmer(%s, data = %s, REML = %s%s)", s$formula, data_vars[[s$data]],
                       if (s$REML) "TRUE" else "FALSE",
                       if (is.null(s$subset)) "" else ", subset = in_sample")
  warn <- character(0)
  m <- withCallingHandlers(
    eval(parse(text = call_text), envir = globalenv()),
    warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(msg) { warn <<- c(warn, conditionMessage(msg)); invokeRestart("muffleMessage") })
  list(model = m, warnings = warn, call = call_text)
}

fits <- list()
out_models <- list()
for (s in models) {
  r <- fit_model(s)
  assign(s$id, r$model, envir = globalenv())                # so anova() labels rows with the model ids
  fits[[s$id]] <- r$model
  d <- describe(s, r$model, r$warnings, r$call)
  d$printed_summary <- I(capture.output(print(summary(r$model))))  # for test_printed_at_theta.py
  out_models[[length(out_models) + 1]] <- d
  cat(sprintf("%-20s %-10s %-55s %s\n", s$id, s$data, s$formula,
              if (s$REML) sprintf("REML crit %.4f", REMLcrit(r$model))
              else sprintf("deviance %.4f", deviance(r$model))))
}

# ---------------------------------------------------------------------------------------
# ranova (lmerTest): single-term deletions of random effects
# ---------------------------------------------------------------------------------------
ranova_ids <- c("lmer.fit1", "fit3", "lmer.fit2", "lmer.fit3", "fit7", "fit8",
                "slope.ses", "ss.corr", "pen.crossed", "lmer.fit1.ml")
out_ranova <- lapply(ranova_ids, function(id) {
  tab <- ranova(fits[[id]])
  c(list(model = id, call = sprintf("ranova(%s)", id), printed = I(capture.output(print(tab)))), table_json(tab))
})

# ---------------------------------------------------------------------------------------
# anova (lme4): likelihood-ratio tests between models
# ---------------------------------------------------------------------------------------
anova_calls <- list(
  list(id = "fit2_vs_fit3_norefit", call = "anova(lmer.fit2, lmer.fit3, refit = FALSE)",
       models = c("lmer.fit2", "lmer.fit3"), refit = FALSE),
  list(id = "fit7_vs_fit8_refit", call = "anova(fit7, fit8, refit = TRUE)",
       models = c("fit7", "fit8"), refit = TRUE),
  list(id = "sleepstudy_int_vs_corr", call = "anova(ss.int, ss.corr)",
       models = c("ss.int", "ss.corr"), refit = TRUE),
  list(id = "sleepstudy_uncorr_vs_corr_norefit", call = "anova(ss.uncorr, ss.corr, refit = FALSE)",
       models = c("ss.uncorr", "ss.corr"), refit = FALSE)
)
anova_deviance_col <- NULL
out_anova <- lapply(anova_calls, function(a) {
  tab <- suppressMessages(eval(parse(text = a$call)))
  anova_deviance_col <<- colnames(tab)[5]
  c(list(id = a$id, call = a$call, models = I(a$models), refit = a$refit,
         printed = I(capture.output(print(tab)))), table_json(tab))
})

# The handout's failing comparison: the two models saw different numbers of rows.
err <- tryCatch({ anova(lmer.fit3, lmer.fit4, refit = FALSE); NA_character_ },
                error = function(e) conditionMessage(e))
if (is.na(err)) stop("anova(lmer.fit3, lmer.fit4) was expected to fail")
out_errors <- list(list(id = "different_nobs", call = "anova(lmer.fit3, lmer.fit4, refit = FALSE)",
                        models = I(c("lmer.fit3", "lmer.fit4")), message = err))

# ---------------------------------------------------------------------------------------
# Sanity check: the numbers the handout prints come out of this run.
# ---------------------------------------------------------------------------------------
coef_of <- function(m, term, col) summary(m)$coefficients[term, col]
handout_checks <- c(
  "lmer.fit1 REML criterion 12038.7" = round(REMLcrit(lmer.fit1), 1) == 12038.7,
  "fit3 REML criterion 12038.4"      = round(REMLcrit(fit3), 1) == 12038.4,
  "lmer.fit1 intercept df 98.752"    = round(coef_of(lmer.fit1, "(Intercept)", "df"), 3) == 98.752,
  "lmer.fit1 ses SE 1.589"           = round(coef_of(lmer.fit1, "ses", "Std. Error"), 3) == 1.589,
  "fit8 mathknow df 211.2083"        = round(coef_of(fit8, "mathknow", "df"), 4) == 211.2083,
  "ranova(lmer.fit2) LRT 32.881"     = round(ranova(lmer.fit2)$LRT[2], 3) == 32.881,
  "anova(fit2, fit3) Chisq 7.9048"   = round(out_anova[[1]]$columns$Chisq[2], 4) == 7.9048,
  "anova(fit7, fit8) Chisq 3.5921"   = round(out_anova[[2]]$columns$Chisq[2], 4) == 3.5921,
  "fit7/fit8 use 1081 rows"          = nobs(fit7) == 1081 && nobs(fit8) == 1081
)
if (!all(handout_checks)) stop("the handout's numbers did not come out: ",
                                paste(names(handout_checks)[!handout_checks], collapse = "; "))
cat("handout numbers reproduced:", paste(names(handout_checks), collapse = "; "), "\n")

# ---------------------------------------------------------------------------------------
# Write
# ---------------------------------------------------------------------------------------
meta <- list(
  generated_by = "tests/reference/make_reference.R",
  date = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
  R = R.version.string,
  lme4 = as.character(packageVersion("lme4")),
  lmerTest = as.character(packageVersion("lmerTest")),
  Matrix = as.character(packageVersion("Matrix")),
  optimizer = lmerControl()$optimizer,
  anova_deviance_column = anova_deviance_col,
  subsets = list(complete_mathgain_ses_mathknow =
                   "rows of classroom.csv with mathgain, ses and mathknow all observed"),
  subset_nobs = list(complete_mathgain_ses_mathknow = sum(in_sample)),
  data_files = lapply(setNames(names(example_sets), names(example_sets)),
                      function(nm) file.path("tests", "reference", "data", paste0(nm, ".csv")))
)
out <- list(meta = meta, models = out_models, ranova = out_ranova, anova = out_anova,
            errors = out_errors)
json_path <- file.path(out_dir, "lme4_reference.json")
writeLines(to_json(out), json_path)
cat("wrote", json_path, "with", length(out_models), "models,", length(out_ranova), "ranova and",
    length(out_anova), "anova tables\n")
