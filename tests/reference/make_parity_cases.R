# make_parity_cases.R -- lme4 / lmerTest reference values on data the course was not built on.
#
# Run from the repository root (`make reference` runs it after make_reference.R):
#     Rscript tests/reference/make_parity_cases.R [path/to/classroom.csv]
# Needs Debian's r-base-core (datasets, MASS, nlme), r-cran-lme4 and r-cran-lmertest.
#
# It writes tests/reference/data/<name>.csv (public R data sets only, written and read back so
# that R and Python fit the same bytes) and tests/reference/parity_cases.json: per model what
# make_reference.R records plus lme4's printed summary, its checkConv messages and optimizer
# code; ranova and anova tables. tests/engine/test_parity_cases.py compares the course with it.
# The cases: random slopes, factor slopes ((Machine|Worker), (0+Machine|Worker)), nested,
# crossed, ML, subsets, singular fits and long optimiser runs (6 covariance parameters).

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
})
options(width = 200, useFancyQuotes = FALSE)
.here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
source(file.path(.here, "reference_setup.R"))  # classroom_path, out_dir, data_dir, the JSON writer, sets_via_csv()
source(file.path(.here, "lmer_extract.R"))  # mat_json, table_json, describe

# ---------------------------------------------------------------------------------------
# Data: public R data sets, written as plain CSV (factor levels as strings) and read back
# ---------------------------------------------------------------------------------------
sets <- list(
  Orthodont  = as.data.frame(nlme::Orthodont)[, c("distance", "age", "Subject", "Sex")],
  Machines   = as.data.frame(nlme::Machines)[, c("score", "Machine", "Worker")],
  Oats       = as.data.frame(nlme::Oats)[, c("yield", "nitro", "Variety", "Block")],
  MASSoats   = MASS::oats[, c("Y", "N", "V", "B")],
  ergoStool  = as.data.frame(nlme::ergoStool)[, c("effort", "Type", "Subject")],
  Rail       = as.data.frame(nlme::Rail)[, c("travel", "Rail")],
  Pixel      = as.data.frame(nlme::Pixel)[, c("pixel", "day", "Dog", "Side")],
  BodyWeight = as.data.frame(nlme::BodyWeight)[, c("weight", "Time", "Rat", "Diet")],
  ChickWeight = as.data.frame(datasets::ChickWeight)[, c("weight", "Time", "Chick", "Diet")],
  InstEval2000 = lme4::InstEval[1:2000, c("y", "service", "s", "d", "dept")]
)
D <- sets_via_csv(sets)
D$sleepstudy <- read.csv(file.path(data_dir, "sleepstudy.csv"), stringsAsFactors = TRUE)
D$Penicillin <- read.csv(file.path(data_dir, "Penicillin.csv"), stringsAsFactors = TRUE)
D$Dyestuff2 <- read.csv(file.path(data_dir, "Dyestuff2.csv"), stringsAsFactors = TRUE)
D$classroom <- read.csv(classroom_path)

# ---------------------------------------------------------------------------------------
# The cases: id, data, formula as written, REML, subset (an expression both R and pandas'
# DataFrame.eval read), and why it is here.
# ---------------------------------------------------------------------------------------
case <- function(id, data, formula, REML = TRUE, subset = NULL, purpose)
  list(id = id, data = data, formula = formula, REML = REML, subset = subset, purpose = purpose)
two <- function(a, b) sprintf("schoolid == %d | schoolid == %d", a, b)
cases <- list(
  case("ortho.slope", "Orthodont", "distance ~ age + (age|Subject)", purpose = "correlated random slope"),
  case("ortho.sex", "Orthodont", "distance ~ age * Sex + (age|Subject)", purpose = "slope, factor fixed effect and interaction"),
  case("ortho.sex.ml", "Orthodont", "distance ~ age * Sex + (age|Subject)", REML = FALSE, purpose = "ML with a random slope"),
  case("ortho.int.ml", "Orthodont", "distance ~ age * Sex + (1|Subject)", REML = FALSE, purpose = "ML, intercept only (anova against ortho.sex.ml)"),
  case("ortho.female", "Orthodont", "distance ~ age + (age|Subject)", subset = "Sex == \"Female\"", purpose = "subset; a singular fit (correlation -1)"),
  case("ortho.uncorr", "Orthodont", "distance ~ age + (age||Subject)", purpose = "uncorrelated slope"),
  case("mach.nested", "Machines", "score ~ Machine + (1|Worker/Machine)", purpose = "nested, integer group ids"),
  case("mach.slope", "Machines", "score ~ Machine + (Machine|Worker)", purpose = "factor slope: 6 covariance parameters, a long optimiser run"),
  case("mach.slope0", "Machines", "score ~ Machine + (0+Machine|Worker)", purpose = "factor slope without intercept (the same model, another parameterisation)"),
  case("mach.nested.ml", "Machines", "score ~ Machine + (1|Worker/Machine)", REML = FALSE, purpose = "nested, ML"),
  case("oats.nested", "Oats", "yield ~ nitro + (1|Block/Variety)", purpose = "split plot: varieties nested in blocks"),
  case("oats.colon", "Oats", "yield ~ nitro + Variety + (1|Block) + (1|Block:Variety)", purpose = "nested with an explicit a:b term, string factor fixed"),
  case("massoats", "MASSoats", "Y ~ N + V + (1|B/V)", purpose = "MASS's oats: two factor fixed effects, nested"),
  case("ergo", "ergoStool", "effort ~ Type + (1|Subject)", purpose = "randomised blocks"),
  case("rail", "Rail", "travel ~ 1 + (1|Rail)", purpose = "one-way random effects"),
  case("pixel", "Pixel", "pixel ~ day + (day|Dog) + (1|Dog:Side)", purpose = "slope plus a nested intercept"),
  case("bw.slope", "BodyWeight", "weight ~ Time * factor(Diet) + (Time|Rat)", purpose = "slope on an unscaled time (days 1-64): a long run"),
  case("bw.slope.ml", "BodyWeight", "weight ~ Time * factor(Diet) + (Time|Rat)", REML = FALSE, purpose = "the same by ML"),
  case("chick.slope", "ChickWeight", "weight ~ Time + (Time|Chick)", purpose = "growth curves, 50 chicks"),
  case("chick.diet", "ChickWeight", "weight ~ Time * factor(Diet) + (Time|Chick)", purpose = "factor(Diet) interacting with time"),
  case("chick.early", "ChickWeight", "weight ~ Time + (Time|Chick)", subset = "Time <= 10", purpose = "subset of the first days"),
  case("ss.two", "sleepstudy", "Reaction ~ Days + (Days|Subject)", subset = "Subject == 308 | Subject == 309", purpose = "two subjects with a random slope"),
  case("ss.late", "sleepstudy", "Reaction ~ Days + (Days|Subject)", subset = "Days >= 2", purpose = "subset"),
  case("pen.ml", "Penicillin", "diameter ~ 1 + (1|plate) + (1|sample)", REML = FALSE, purpose = "crossed, ML"),
  case("insteval", "InstEval2000", "y ~ service + (1|s) + (1|d)", purpose = "crossed students and lecturers (2000 ratings)"),
  case("insteval.dept", "InstEval2000", "y ~ service + (1|s) + (1|d) + (1|dept)", purpose = "three crossed factors"),
  case("two.schools.a", "classroom", "mathgain ~ ses + (ses|schoolid)", subset = two(2, 3), purpose = "two schools with a random slope: singular"),
  case("two.schools.b", "classroom", "mathgain ~ ses + (ses|schoolid)", subset = two(12, 13), purpose = "two schools: all of theta near 0"),
  case("two.schools.c", "classroom", "mathgain ~ ses + (ses|schoolid)", subset = two(27, 28), purpose = "two schools: theta near the singular tolerance"),
  case("two.schools.d", "classroom", "mathgain ~ ses + (ses|schoolid)", subset = two(40, 41), purpose = "two schools: intercept variance 0"),
  case("class.minority", "classroom", "mathgain ~ mathkind + (1 + minority|schoolid)", purpose = "classroom, slope of a 0/1 variable"),
  case("class.ses.ml", "classroom", "mathkind ~ ses + (ses|schoolid)", REML = FALSE, purpose = "classroom, slope by ML"),
  case("dyestuff2.ml", "Dyestuff2", "Yield ~ 1 + (1|Batch)", REML = FALSE, purpose = "singular by ML")
)

arr <- function(x) if (is.null(x)) I(character(0)) else I(x)

fit_case <- function(s) {
  assign("dat", D[[s$data]], envir = globalenv())
  call_text <- sprintf("lmer(%s, data = dat, REML = %s%s)", s$formula, if (s$REML) "TRUE" else "FALSE",
                       if (is.null(s$subset)) "" else sprintf(", subset = %s", s$subset))
  warn <- character(0)
  m <- withCallingHandlers(
    eval(parse(text = call_text), envir = globalenv()),
    warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(msg) { warn <<- c(warn, conditionMessage(msg)); invokeRestart("muffleMessage") })
  list(model = m, warnings = warn, call = call_text)
}

out_models <- list(); out_ranova <- list(); fits <- list()
ranova_ids <- c("ortho.slope", "ortho.sex", "mach.nested", "mach.slope", "oats.nested", "pixel",
                "chick.slope", "ergo", "insteval", "ortho.uncorr")
for (s in cases) {
  r <- fit_case(s)
  m <- r$model
  fits[[s$id]] <- m
  d <- describe(s, m, r$warnings, r$call)
  d$printed_summary <- I(capture.output(print(summary(m))))
  d$checkConv_messages <- arr(unlist(m@optinfo$conv$lme4$messages))
  d$optimizer_code <- m@optinfo$conv$opt
  d$optimizer_warnings <- arr(unlist(m@optinfo$warnings))
  d$feval <- m@optinfo$feval
  out_models[[length(out_models) + 1]] <- d
  if (s$id %in% ranova_ids) {
    tab <- suppressMessages(suppressWarnings(ranova(m)))
    out_ranova[[length(out_ranova) + 1]] <- c(list(model = s$id, call = sprintf("ranova(%s)", s$id),
                                                   printed = I(capture.output(print(tab)))), table_json(tab))
  }
  cat(sprintf("%-16s %-12s %-50s crit %.4f  feval %d  %s\n", s$id, s$data, s$formula,
              if (s$REML) REMLcrit(m) else deviance(m), m@optinfo$feval,
              paste(unlist(m@optinfo$conv$lme4$messages), collapse = " | ")))
}

# anova: each pair re-fitted on its own data (anova re-evaluates the calls for refit = TRUE)
anova_pairs <- list(
  list(id = "ortho_int_vs_slope_ml", models = c("ortho.int.ml", "ortho.sex.ml"), refit = TRUE),
  list(id = "mach_nested_vs_slope", models = c("mach.nested", "mach.slope"), refit = TRUE),
  list(id = "ortho_uncorr_vs_slope_norefit", models = c("ortho.uncorr", "ortho.slope"), refit = FALSE),
  list(id = "insteval_vs_dept", models = c("insteval", "insteval.dept"), refit = TRUE)
)
out_anova <- lapply(anova_pairs, function(a) {
  ms <- fits[a$models]
  assign("dat", D[[cases[[which(vapply(cases, `[[`, "", "id") == a$models[1])]]$data]], envir = globalenv())
  tab <- suppressMessages(anova(ms[[1]], ms[[2]], refit = a$refit))
  c(list(id = a$id, models = I(a$models), refit = a$refit), table_json(tab))
})

meta <- list(
  generated_by = "tests/reference/make_parity_cases.R",
  date = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
  R = R.version.string,
  lme4 = as.character(packageVersion("lme4")),
  lmerTest = as.character(packageVersion("lmerTest")),
  nloptr = as.character(packageVersion("nloptr")),
  optimizer = lmerControl()$optimizer
)
json_path <- file.path(out_dir, "parity_cases.json")
writeLines(to_json(list(meta = meta, models = out_models, ranova = out_ranova, anova = out_anova)), json_path)
cat("wrote", json_path, "with", length(out_models), "models,", length(out_ranova), "ranova and",
    length(out_anova), "anova tables\n")
