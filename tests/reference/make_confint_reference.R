# make_confint_reference.R -- lme4's confidence intervals for the course's confint() tests.
#
# Run from the repository root:
#     Rscript tests/reference/make_confint_reference.R [path/to/classroom.csv]
# (or `make reference`). Needs only Debian's r-base-core and r-cran-lme4; the JSON is written by
# the shared writer (json_writer.R). It reads the example data sets that make_reference.R wrote
# to tests/reference/data/ (committed), and writes tests/reference/confint_reference.json:
#
#   models  for each model: lme4's confint(m, oldNames = FALSE) by profile (95% and, for some,
#           90%) and by Wald, with the row and column labels R gives them;
#   profiles  for two models, lme4's profile points (parameter value, zeta), so that the zeta
#           function itself is checked, not only the interval ends read off its spline.

suppressPackageStartupMessages(library(lme4))

.here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
source(file.path(.here, "reference_setup.R"))  # classroom_path, out_dir, data_dir, the JSON writer, sets_via_csv()

dat <- read.csv(classroom_path)
# the handout's complete cases of mathgain, ses and mathknow (1081 rows; fit7 and fit8)
in_sample <- !is.na(dat$mathgain) & !is.na(dat$ses) & !is.na(dat$mathknow)
sleepstudy_csv <- read.csv(file.path(data_dir, "sleepstudy.csv"), stringsAsFactors = TRUE)
Penicillin_csv <- read.csv(file.path(data_dir, "Penicillin.csv"), stringsAsFactors = TRUE)
Dyestuff_csv <- read.csv(file.path(data_dir, "Dyestuff.csv"), stringsAsFactors = TRUE)
Dyestuff2_csv <- read.csv(file.path(data_dir, "Dyestuff2.csv"), stringsAsFactors = TRUE)

spec <- function(id, data, formula, REML = TRUE, subset = FALSE, levels = 0.95, purpose)
  list(id = id, data = data, formula = formula, REML = REML, subset = subset, levels = levels,
       purpose = purpose)

models <- list(
  spec("lmer.fit1", "dat", "mathkind ~ ses + (1|schoolid)", levels = c(0.95, 0.9),
       purpose = "handout: random school intercept"),
  spec("fit3", "dat", "mathkind ~ ses + (1|schoolid/classid)", levels = c(0.95, 0.9),
       purpose = "handout: classrooms nested in schools; the classroom SD's interval reaches 0"),
  spec("lmer.fit2", "dat", "mathgain ~ (1|schoolid)", purpose = "handout: unconditional means"),
  spec("lmer.fit3", "dat", "mathgain ~ (1|schoolid/classid)",
       purpose = "handout: unconditional means, nested"),
  spec("fit7", "dat", "mathgain ~ 1 + (1|schoolid/classid)", subset = TRUE,
       purpose = "handout: null model on the complete cases"),
  spec("fit8", "dat", "mathgain ~ ses + mathknow + (1|schoolid/classid)", subset = TRUE,
       purpose = "handout: two predictors on the complete cases"),
  spec("lmer.fit1.ml", "dat", "mathkind ~ ses + (1|schoolid)", REML = FALSE,
       purpose = "an ML fit (no refit before profiling)"),
  spec("ss.corr", "sleepstudy_csv", "Reaction ~ Days + (Days|Subject)", levels = c(0.95, 0.8),
       purpose = "correlated random intercept and slope: an sd, a cor, an sd"),
  spec("ss.uncorr", "sleepstudy_csv", "Reaction ~ Days + (Days||Subject)",
       purpose = "uncorrelated intercept and slope (||): two SDs labelled with the same group"),
  spec("slope.ses", "dat", "mathgain ~ ses + (ses|schoolid)",
       purpose = "singular fit (the ses slope SD is 0): the correlation's interval is [-1, 1]"),
  spec("pen.crossed", "Penicillin_csv", "diameter ~ 1 + (1|plate) + (1|sample)",
       purpose = "fully crossed random effects"),
  spec("dyestuff", "Dyestuff_csv", "Yield ~ 1 + (1|Batch)",
       purpose = "one-way random effects; the batch SD's lower end is above 0"),
  spec("dyestuff2.singular", "Dyestuff2_csv", "Yield ~ 1 + (1|Batch)",
       purpose = "singular fit: the batch SD is estimated as 0, its interval starts at 0")
)
profile_ids <- c("fit3", "ss.corr")

ci_json <- function(ci) list(rownames = I(rownames(ci)), colnames = I(colnames(ci)),
                             lower = I(unname(ci[, 1])), upper = I(unname(ci[, 2])))

quietly <- function(expr) {
  warn <- character(0)
  value <- withCallingHandlers(expr,
    warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(m) invokeRestart("muffleMessage"))
  list(value = value, warnings = unique(warn))
}

out_models <- list()
out_profiles <- list()
for (s in models) {
  call_text <- sprintf("lmer(%s, data = %s, REML = %s%s)", s$formula, s$data,
                       if (s$REML) "TRUE" else "FALSE", if (s$subset) ", subset = in_sample" else "")
  m <- quietly(eval(parse(text = call_text), envir = globalenv()))$value
  pr <- quietly(profile(m, signames = FALSE))
  profile_ci <- lapply(s$levels, function(lv) ci_json(confint(pr$value, level = lv)))
  names(profile_ci) <- sprintf("%g", s$levels)
  direct <- quietly(confint(m, method = "profile", oldNames = FALSE, quiet = TRUE))
  wald <- confint(m, method = "Wald", oldNames = FALSE)
  out_models[[length(out_models) + 1]] <- list(
    id = s$id, purpose = s$purpose,
    data = if (s$data == "dat") "classroom" else sub("_csv$", "", s$data),
    formula = s$formula, REML = s$REML,
    subset = if (s$subset) "complete_mathgain_ses_mathknow" else NULL, r_call = call_text,
    nobs = nobs(m), singular = isSingular(m),
    profile = profile_ci,
    profile_direct = ci_json(direct$value),
    profile_warnings = I(pr$warnings),
    wald = ci_json(wald))
  if (s$id %in% profile_ids) {
    p <- as.data.frame(pr$value)
    pars <- as.character(unique(p$.par))
    out_profiles[[s$id]] <- lapply(setNames(pars, pars), function(nm) {
      rows <- p[p$.par == nm, ]
      list(value = I(unname(rows[[nm]])), zeta = I(unname(rows$.zeta)))
    })
  }
  cat(sprintf("%-20s %s\n", s$id, paste(sprintf("%.4g", direct$value), collapse = " ")))
}

meta <- list(
  generated_by = "tests/reference/make_confint_reference.R",
  date = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
  R = R.version.string,
  lme4 = as.character(packageVersion("lme4")),
  calls = "profile(m, signames = FALSE) then confint(profile, level = L); confint(m, method = \"profile\", oldNames = FALSE); confint(m, method = \"Wald\", oldNames = FALSE)"
)
json_path <- file.path(out_dir, "confint_reference.json")
writeLines(to_json(list(meta = meta, models = out_models, profiles = out_profiles)), json_path)
cat("wrote", json_path, "with", length(out_models), "models\n")
