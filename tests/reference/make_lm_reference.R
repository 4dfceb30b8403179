# make_lm_reference.R -- R's lm() on rank-deficient designs: which columns R drops (aliased, NA in
# the summary), the estimates of the others and summary(lm)'s printout, for the course's lm(); and
# where summary(lm) warns "essentially perfect fit" (an exact outcome warns, a nearly exact one not).
#
# Run from the repository root (or `make reference`):
#     Rscript tests/reference/make_lm_reference.R [path/to/classroom.csv]
# Writes tests/reference/lm_reference.json. Needs only R.

.here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
source(file.path(.here, "reference_setup.R"))  # classroom_path, out_dir, data_dir, the JSON writer, sets_via_csv()
options(width = 80)

dat <- read.csv(classroom_path)
dat$k <- 3.0
lm_values <- function(fit) {
  s <- summary(fit)
  cf <- coef(fit)  # NA for the aliased columns
  ct <- coef(s)    # the defined coefficients only
  list(coef = as.list(cf), aliased = I(names(cf)[is.na(cf)]),
       se = as.list(ct[, "Std. Error"]), sigma = s$sigma, df_resid = fit$df.residual,
       r_squared = s$r.squared, rank = fit$rank,
       lines = I(capture.output(print(s))))
}
out <- list(meta = list(R = R.version.string))
out$housepov_school <- lm_values(lm(mathkind ~ housepov + factor(schoolid), dat))
out$constant_column <- lm_values(lm(mathkind ~ ses + k, dat))
out$twice_ses <- lm_values(lm(mathkind ~ ses + I(2 * ses), dat))

# outcomes computed from ses: exactly (residuals ~1e-14) and with a tiny deterministic wobble
dat$exact <- 400 + 30 * dat$ses
dat$nearly <- dat$exact + 1e-6 * sin(seq_len(nrow(dat)))
summary_warnings <- function(fit) {
  found <- character(0)
  withCallingHandlers(summary(fit), warning = function(w) {
    found <<- c(found, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  I(found)
}
out$perfect_fit <- list(exact = summary_warnings(lm(exact ~ ses, dat)),
                        nearly = summary_warnings(lm(nearly ~ ses, dat)))

writeLines(to_json(out), file.path(out_dir, "lm_reference.json"))
cat("wrote", file.path(out_dir, "lm_reference.json"), "\n")
