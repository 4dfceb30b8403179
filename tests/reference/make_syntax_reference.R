# make_syntax_reference.R -- lme4 / lmerTest / R reference values for the course's handling of
# R syntax in formulas (powers, crossing, scale(), logical predictors with NA, abbreviations of
# coefficient names, ranova's formula line, a model lme4 fits although most groups have one row).
#
# Run from the repository root (or `make reference`):
#     Rscript tests/reference/make_syntax_reference.R [path/to/classroom.csv]
# Writes tests/reference/data/{Orthodont,Oats}.csv (nlme's data sets, read back before fitting)
# and tests/reference/syntax_reference.json. Needs R with lme4, lmerTest and nlme (Debian's
# r-cran-lme4, r-cran-lmertest; nlme comes with R).

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(nlme)
})
.here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
source(file.path(.here, "reference_setup.R"))  # classroom_path, out_dir, data_dir, the JSON writer, sets_via_csv()

# nlme's data sets as plain CSV (factors as strings), read back so R and Python fit the same bytes
write_back <- function(d, name) {
  d <- as.data.frame(d)
  for (v in names(d)) if (is.factor(d[[v]])) d[[v]] <- as.character(d[[v]])
  f <- file.path(data_dir, paste0(name, ".csv"))
  write.csv(d, f, row.names = FALSE)
  read.csv(f, stringsAsFactors = FALSE)
}
Orthodont_csv <- write_back(Orthodont[, c("distance", "age", "Subject", "Sex")], "Orthodont")
Oats_csv <- write_back(Oats[, c("yield", "nitro", "Variety", "Block")], "Oats")
dat <- read.csv(classroom_path)

fixef_of <- function(m) as.list(fixef(m))
fit_values <- function(m) {
  out <- list(fixef = fixef_of(m), nobs = nobs(m),
              ngroups = as.list(sapply(ranef(m), nrow)),
              sigma = sigma(m))
  if (isREML(m)) out$reml_criterion <- unname(REMLcrit(m)) else out$deviance <- unname(deviance(m))
  out
}
out <- list(meta = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                        lmerTest = as.character(packageVersion("lmerTest")),
                        collate = Sys.getlocale("LC_COLLATE")))

# --- powers and crossing -----------------------------------------------------------------------
# age is an integer column in the CSV: I(age^2) is a power in R whatever the type
out$orthodont_power <- fit_values(lmer(distance ~ age + I(age^2) + (1 | Subject), Orthodont_csv))
# ^ outside I(): crossing up to second order, (age + Sex)^2 = age + Sex + age:Sex
out$orthodont_cross <- fit_values(lmer(distance ~ (age + Sex)^2 + (1 | Subject), Orthodont_csv))
out$orthodont_power_lm <- as.list(coef(lm(distance ~ age + I(age^2), Orthodont_csv)))

# --- scale(): centre, divide by the n - 1 SD, over the data's rows before subset and NA dropping
out$orthodont_scale <- fit_values(lmer(distance ~ scale(age) + (1 | Subject), Orthodont_csv))
out$classroom_scale_na <- fit_values(lmer(mathgain ~ scale(ses) + mathknow + (1 | schoolid), dat))
out$classroom_scale_subset <- fit_values(lmer(mathkind ~ scale(ses) + (1 | schoolid), dat,
                                              subset = sex == 1))
out$classroom_scale_nocenter <- fit_values(lmer(mathkind ~ scale(ses, center = FALSE) + (1 | schoolid), dat))
out$classroom_scale_lm <- as.list(coef(lm(mathgain ~ scale(ses) + mathknow, dat)))

# --- a logical predictor with missing values: the rows are dropped -----------------------------
dat$knows <- dat$mathknow > 0
out$classroom_logical_na <- fit_values(lmer(mathkind ~ knows + (1 | schoolid), dat))

# --- factor levels of text are sorted as R sorts them (the first is the baseline) -------------
lev <- data.frame(y = Orthodont_csv$distance, Subject = Orthodont_csv$Subject,
                  g = rep(c("b", "B", "a", "A"), length.out = nrow(Orthodont_csv)))
out$text_levels <- list(levels = levels(factor(lev$g)),
                        fit = fit_values(lmer(y ~ g + (1 | Subject), lev)))

# --- factor() of a column with missing values (a float column in pandas): levels "0", "1" ------
with_na <- dat
with_na$sex[1:5] <- NA
out$factor_with_na <- fit_values(lmer(mathkind ~ factor(sex) + ses + (1 | schoolid), with_na))

# --- 311 classes with one child and one class with two: lme4 fits it --------------------------
ord <- dat[order(dat$classid, dat$childid), ]
first <- ord[!duplicated(ord$classid), ]
pair_class <- min(ord$classid[duplicated(ord$classid)])
second <- ord[duplicated(ord$classid) & ord$classid == pair_class, ][1, ]
few <- rbind(first, second)
out$single_child_classes <- list(
  childids = few$childid,
  intercept = fit_values(lmer(mathgain ~ 1 + (1 | classid), few)),
  ses = fit_values(lmer(mathgain ~ ses + (1 | classid), few)))

# --- abbreviate(): R's rules, collisions lengthened across the vector -------------------------
abbrev_sets <- list(
  c("(Intercept)", "factor(nitro)0.2", "factor(nitro)0.4", "factor(nitro)0.6",
    "VarietyMarvellous", "VarietyVictory", "factor(nitro)0.2:VarietyMarvellous",
    "factor(nitro)0.2:VarietyVictory", "factor(nitro)0.4:VarietyMarvellous"),
  c("(Intercept)", "ses", "mathknow", "minority", "minority:ses", "housepov", "yearstea"),
  c("Days", "Days:SexMale", "SexMale", "I(Days^2)", "scale(age)", "log(x + 1)",
    "a b c d", "abcde fghij", "AAAAAAAA", "AAAAAAAB", "x_1_long", "x_2_long", "aeiouaeiou"),
  c("nitro0.2:VarietyMarvellous", "nitro0.2:VarietyVictory", "nitro0.4:VarietyMarvellous",
    "nitro0.4:VarietyVictory", "nitro", "Variety"))
out$abbreviate <- lapply(abbrev_sets, function(x)
  list(names = I(x), minlength6 = I(unname(abbreviate(x, minlength = 6))),
       minlength11 = I(unname(abbreviate(x, minlength = 11)))))

# --- the correlation block of a summary whose names collide when abbreviated ------------------
Oats_csv$N <- paste0("N", Oats_csv$nitro)
oats <- lmer(yield ~ N * Variety + (1 | Block), Oats_csv)
txt <- capture.output(print(summary(oats), correlation = TRUE))
start <- grep("^Correlation of Fixed Effects:", txt)
out$oats_correlation <- list(formula = "yield ~ N * Variety + (1 | Block)",
                             lines = I(txt[start:length(txt)]))

# --- ranova's "Model:" line: lmerTest prints the formula with its terms in R's order ----------
ranova_model_line <- function(m) {
  txt <- capture.output(print(ranova(m)))
  i <- grep("^Model:", txt)
  j <- grep("npar", txt)[1]  # the table's header follows the (possibly wrapped) formula
  I(txt[(i + 1):(j - 1)])
}
ranova_cases <- list(
  list(data = "Orthodont", formula = "distance ~ age * Sex + (age | Subject)"),
  list(data = "Orthodont", formula = "distance ~ age + (1 | Subject) + Sex"),
  list(data = "Orthodont", formula = "distance ~ 0 + age + Sex + (1 | Subject)"),
  list(data = "Orthodont", formula = "distance ~ age:Sex + I(age^2) + (1 | Subject)"),
  list(data = "Orthodont", formula = "distance ~ age + (age || Subject)"),
  list(data = "Orthodont", formula = "distance ~ (1 | Subject)"),
  list(data = "Orthodont", formula = "distance ~ age - 1 + (1 | Subject)"),
  list(data = "Oats", formula = "yield ~ nitro * Variety + (1 | Block/Variety)"))
out$ranova_model_line <- lapply(ranova_cases, function(cs) {
  # the data by name, so that ranova's refits find it
  m <- do.call("lmer", list(as.formula(cs$formula), data = as.name(paste0(cs$data, "_csv"))))
  list(data = cs$data, formula = cs$formula, model = ranova_model_line(m))
})

# --- a ranova table wider than the console: R wraps the columns (here the stars) at width 80 --
wide <- lmer(distance ~ age + (I(age^2) || Subject), Orthodont_csv)
out$ranova_wrapped <- list(formula = "distance ~ age + (I(age^2) || Subject)",
                           lines = I(capture.output(print(ranova(wide)))))

writeLines(to_json(out), file.path(out_dir, "syntax_reference.json"))
cat("wrote", file.path(out_dir, "syntax_reference.json"), "\n")
