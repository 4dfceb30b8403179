# make_quiz_reference.R -- lme4 / lmerTest values of the quiz's live computations.
#
# Run from the repository root:
#     Rscript tests/reference/make_quiz_reference.R [path/to/classroom.csv]
# Needs only Debian's r-base-core, r-cran-lme4 and r-cran-lmertest (the JSON writer below is the
# one of make_reference.R). It writes tests/reference/quiz_reference.json:
#
#   real   the quiz's computations on the classroom data, by name (mlmcourse/quiz/questions/computations.yml);
#   printed  numbers a question's text prints (not live computations), e.g. lme4's profile intervals;
#   seeds  for a few seeds, the student's own data rebuilt HERE, in R, from the seed with the
#          course's generator (MINSTD, below, as in live.py's MinStd), a fingerprint of that data
#          and the computations on it, by name.
#
# So the seeded questions are checked twice over: Python's data for a seed must be R's data
# (same draws, same numbers), and Python's fits on it must be lme4's.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
})

.here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
source(file.path(.here, "reference_setup.R"))  # classroom_path, out_dir, data_dir, the JSON writer, sets_via_csv()
SEEDS <- c(12345, 48213, 90001)


# ---------------------------------------------------------------------------------------
# The course's generator (mlmcourse/quiz/variants.py, MinStd): x <- 48271 x mod (2^31 - 1), exact in
# doubles; start (seed + 1000003 stream) mod (2^31 - 1), then 16 steps discarded.
# ---------------------------------------------------------------------------------------
MODULUS <- 2147483647
minstd <- function(seed, stream) {
  g <- new.env()
  g$x <- (seed + 1000003 * stream) %% MODULUS
  if (g$x == 0) g$x <- 1
  for (i in 1:16) uniform(g)
  g
}
uniform <- function(g) {
  g$x <- (g$x * 48271) %% MODULUS
  g$x / MODULUS
}
below <- function(g, n) floor(n * uniform(g))
normal <- function(g) {
  u1 <- uniform(g)
  u2 <- uniform(g)
  sqrt(-2 * log(u1)) * cos(2 * pi * u2)
}

# the bootstrap sample of schools (stream 1): draw k is school k, classid 1000 k + classid
bootstrap_schools <- function(dat, seed) {
  g <- minstd(seed, 1)
  schools <- sort(unique(dat$schoolid))
  n <- length(schools)
  parts <- vector("list", n)
  drawn <- numeric(n)
  for (k in 1:n) {
    s <- schools[below(g, n) + 1]
    part <- dat[dat$schoolid == s, ]
    part$schoolid <- k
    part$classid <- 1000 * k + part$classid
    part$orig_schoolid <- s
    parts[[k]] <- part
    drawn[k] <- s
  }
  out <- do.call(rbind, parts)
  rownames(out) <- NULL
  out$childid <- seq_len(nrow(out))
  list(data = out, drawn = drawn)
}

# the simulated schools (stream 2): y = 50 + 4 x + zeta_k + eps
simulated_schools <- function(seed) {
  g <- minstd(seed, 2)
  sigma_zeta <- 6 + below(g, 10)
  sigma_eps <- 20 + 2 * below(g, 8)
  school <- numeric(0); x <- numeric(0); y <- numeric(0)
  for (k in 1:40) {
    size <- 3 + below(g, 23)
    zeta <- sigma_zeta * normal(g)
    for (i in seq_len(size)) {
      xi <- normal(g)
      eps <- sigma_eps * normal(g)
      school <- c(school, k); x <- c(x, xi); y <- c(y, 50 + 4 * xi + zeta + eps)
    }
  }
  list(data = data.frame(school = school, student = seq_along(y), x = x, y = y),
       sigma_zeta = sigma_zeta, sigma_eps = sigma_eps)
}

# ---------------------------------------------------------------------------------------
# Helpers: the quiz's quantities from lme4's tables
# ---------------------------------------------------------------------------------------
vc <- function(m, group, column = "vcov") {
  v <- as.data.frame(VarCorr(m))
  v <- v[v$grp == group & (is.na(v$var1) | v$var1 == "(Intercept)") & is.na(v$var2), ]
  v[[column]][1]
}
icc <- function(m, group) vc(m, group) / (vc(m, group) + vc(m, "Residual"))
sd_ratio <- function(m, group) vc(m, group, "sdcor") / (vc(m, group, "sdcor") + vc(m, "Residual", "sdcor"))
var_ratio <- function(m, group) vc(m, group) / vc(m, "Residual")
lrt <- function(small, big, refit, column = "Chisq") {
  a <- suppressMessages(anova(small, big, refit = refit))
  a[[column]][2]
}
fit <- function(formula, data, REML = TRUE) suppressMessages(suppressWarnings(lmer(formula, data = data, REML = REML)))

dat <- read.csv(classroom_path)

# ---------------------------------------------------------------------------------------
# The classroom data
# ---------------------------------------------------------------------------------------
real <- list()
m <- fit(mathgain ~ (1 | schoolid), dat)
real$icc_school_mathgain <- icc(m, "schoolid")
real$sd_ratio_mathgain <- sd_ratio(m, "schoolid")
real$var_ratio_mathgain <- var_ratio(m, "schoolid")

m <- fit(mathkind ~ minority + (1 | schoolid), dat)
real$icc_school_mathkind_minority <- icc(m, "schoolid")
real$sd_ratio_mathkind_minority <- sd_ratio(m, "schoolid")
real$var_ratio_mathkind_minority <- var_ratio(m, "schoolid")
real$icc_school_mathkind_minority_ml <- icc(fit(mathkind ~ minority + (1 | schoolid), dat, REML = FALSE), "schoolid")
real$icc_school_mathkind_null <- icc(fit(mathkind ~ 1 + (1 | schoolid), dat), "schoolid")
real$icc_school_mathkind_ses <- icc(fit(mathkind ~ ses + (1 | schoolid), dat), "schoolid")

m <- fit(mathgain ~ mathkind + (1 | schoolid/classid), dat)
real$var_class_mathgain_mathkind <- vc(m, "classid:schoolid")
real$sd_class_mathgain_mathkind <- vc(m, "classid:schoolid", "sdcor")
real$var_school_mathgain_mathkind <- vc(m, "schoolid")
real$var_class_mathgain_mathkind_ml <- vc(fit(mathgain ~ mathkind + (1 | schoolid/classid), dat, REML = FALSE),
                                          "classid:schoolid")
real$var_class_mathgain_nested <- vc(fit(mathgain ~ (1 | schoolid/classid), dat), "classid:schoolid")

small <- fit(mathgain ~ mathkind + ses + minority + (1 | schoolid), dat)
big <- fit(mathgain ~ mathkind + ses + minority + (ses | schoolid), dat)
real$lrt_slope_ses <- lrt(small, big, refit = FALSE)
real$lrt_slope_ses_ml <- lrt(small, big, refit = TRUE)
real$p_slope_ses <- lrt(small, big, refit = FALSE, "Pr(>Chisq)")

# constructed classroom effects of mathgain, as the handout constructs those of mathkind
res <- residuals(lm(mathgain ~ ses, data = dat))
school_mean <- tapply(res, dat$schoolid, mean)
sch_res <- res - school_mean[match(dat$schoolid, as.numeric(names(school_mean)))]
cls <- tapply(sch_res, dat$classid, mean)
real$sd_class_constructed_mathgain <- sd(cls)
real$var_class_constructed_mathgain <- var(cls)
real$sd_school_constructed_mathgain <- sd(school_mean)
real$sd_class_raw_mathgain <- sd(tapply(res, dat$classid, mean))
real$sd_class_rows_mathgain <- sd(cls[match(dat$classid, as.numeric(names(cls)))])
real$sd_class_model_mathgain_ses <- vc(fit(mathgain ~ ses + (1 | schoolid/classid), dat), "classid:schoolid", "sdcor")

# testing variance components: ranova's rows, and the boundary p-value (a 50:50 mixture of
# chi-square(0) and chi-square(1): half the chi-square(1) p-value)
ranova_row <- function(m, row, column) {
  r <- suppressMessages(ranova(m))
  r[[column]][rownames(r) == row]
}
boundary_p <- function(m, row) 0.5 * pchisq(ranova_row(m, row, "LRT"), df = 1, lower.tail = FALSE)
# (ranova refits from the model's call: the models are fitted here, not through fit(), whose
# `data` argument ranova would not find)
m <- suppressWarnings(lmer(mathgain ~ mathkind + (1 | schoolid/classid), data = dat))
real$lrt_class_mathgain_mathkind <- ranova_row(m, "(1 | classid:schoolid)", "LRT")
real$p_class_mathgain_mathkind <- ranova_row(m, "(1 | classid:schoolid)", "Pr(>Chisq)")
real$p_boundary_class_mathgain_mathkind <- boundary_p(m, "(1 | classid:schoolid)")
real$p_boundary_school_mathgain_mathkind <- boundary_p(m, "(1 | schoolid)")
m0 <- suppressWarnings(lmer(mathgain ~ (1 | schoolid/classid), data = dat))
real$p_boundary_class_mathgain <- boundary_p(m0, "(1 | classid:schoolid)")
m <- suppressWarnings(lmer(mathkind ~ ses + (1 | schoolid/classid), data = dat))
real$lrt_class_mathkind_ses <- ranova_row(m, "(1 | classid:schoolid)", "LRT")
real$p_class_mathkind_ses <- ranova_row(m, "(1 | classid:schoolid)", "Pr(>Chisq)")
real$p_boundary_class_mathkind_ses <- boundary_p(m, "(1 | classid:schoolid)")

# numbers a question prints in its text (not live computations): the profile intervals of the
# chapter's nested model mathkind ~ ses + (1|schoolid/classid), as lme4's confint() gives them
ci <- suppressMessages(confint(m, method = "profile", oldNames = FALSE))
printed <- list(
  sd_class_mathkind_ses = vc(m, "classid:schoolid", "sdcor"),
  ci_sd_class_mathkind_ses_lower = ci["sd_(Intercept)|classid:schoolid", 1],
  ci_sd_class_mathkind_ses_upper = ci["sd_(Intercept)|classid:schoolid", 2],
  ci_sd_school_mathkind_ses_lower = ci["sd_(Intercept)|schoolid", 1],
  ci_sd_school_mathkind_ses_upper = ci["sd_(Intercept)|schoolid", 2]
)

complete <- dat[complete.cases(dat[, c("mathgain", "mathkind", "mathknow")]), ]
real$lrt_mathknow_mathkind <- lrt(fit(mathgain ~ mathkind + (1 | schoolid/classid), complete),
                                  fit(mathgain ~ mathkind + mathknow + (1 | schoolid/classid), complete), TRUE)

# ---------------------------------------------------------------------------------------
# The students' own data, for a few seeds
# ---------------------------------------------------------------------------------------
seeds <- list()
for (seed in SEEDS) {
  v <- list()
  b <- bootstrap_schools(dat, seed)
  boot <- b$data
  v$boot_drawn <- I(b$drawn)
  v$boot_mathgain_sum <- sum(boot$mathgain)
  v$boot_n_rows <- nrow(boot)
  v$boot_n_distinct_schools <- length(unique(boot$orig_schoolid))
  m <- fit(mathkind ~ ses + (1 | schoolid), boot)
  v$boot_icc_mathkind_ses <- icc(m, "schoolid")
  v$boot_sd_ratio_mathkind_ses <- sd_ratio(m, "schoolid")
  v$boot_icc_mathkind_ses_ml <- icc(fit(mathkind ~ ses + (1 | schoolid), boot, REML = FALSE), "schoolid")
  rows <- boot[complete.cases(boot[, c("mathgain", "mathkind", "mathknow")]), ]
  v$boot_n_complete <- nrow(rows)
  small <- fit(mathgain ~ mathkind + (1 | schoolid/classid), rows)
  big <- fit(mathgain ~ mathkind + mathknow + (1 | schoolid/classid), rows)
  v$boot_lrt_mathknow <- lrt(small, big, refit = TRUE)
  v$boot_lrt_mathknow_norefit <- lrt(small, big, refit = FALSE)
  v$boot_p_mathknow <- lrt(small, big, refit = TRUE, "Pr(>Chisq)")

  s <- simulated_schools(seed)
  sim <- s$data
  v$sim_y_first <- I(sim$y[1:5])
  v$sim_y_sum <- sum(sim$y)
  v$sim_school_sizes <- I(as.vector(table(sim$school)))
  v$sim_sigma_zeta <- s$sigma_zeta
  v$sim_sigma_eps <- s$sigma_eps
  v$sim_true_var_school <- s$sigma_zeta^2
  v$sim_n_students <- nrow(sim)
  m <- fit(y ~ x + (1 | school), sim)
  v$sim_var_school <- vc(m, "school")
  v$sim_sd_school <- vc(m, "school", "sdcor")
  v$sim_var_school_ml <- vc(fit(y ~ x + (1 | school), sim, REML = FALSE), "school")
  sim_res <- residuals(lm(y ~ x, data = sim))
  v$sim_sd_school_mean_resid <- sd(tapply(sim_res, sim$school, mean))
  v$sim_var_school_mean_resid <- var(tapply(sim_res, sim$school, mean))
  seeds[[as.character(seed)]] <- v
}

meta <- list(
  generated_by = "tests/reference/make_quiz_reference.R",
  date = format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
  R = R.version.string,
  lme4 = as.character(packageVersion("lme4")),
  lmerTest = as.character(packageVersion("lmerTest")),
  seeds = I(SEEDS)
)
json_path <- file.path(out_dir, "quiz_reference.json")
writeLines(to_json(list(meta = meta, real = real, seeds = seeds, printed = printed)), json_path)
cat("wrote", json_path, "\n")
