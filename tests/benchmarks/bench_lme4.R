# bench_lme4.R -- time lme4 + lmerTest on the benchmark's models (called by run_bench.py).
#
#   Rscript tests/benchmarks/bench_lme4.R TASKS_TSV
#
# TASKS_TSV (written by bench_fits.py) has one model per line, tab-separated, with a header:
#   id, csv (path of the data), formula, complete (1: the handout's complete cases of mathgain,
#   ses and mathknow, as subset = in_sample), repeats, plain (1: also time lme4 alone), profile.
# Each fit is timed inside R with proc.time() around lmer() plus the lmerTest coefficient table
# (coef(summary(m)): Satterthwaite df), so R's start-up and reading the CSV files are NOT
# included; the caller times the whole Rscript run separately. Each data set is read once. With
# plain = 1 the same fit is also timed with lme4 alone (lme4::lmer() + coef(summary()): no
# Satterthwaite df, lmerTest's derivatives not computed), a stricter reference. One line per
# model on stdout:
#   BENCH <tab> id <tab> median seconds <tab> REML criterion <tab> repeats <tab> plain median or NA
# With profile = 1 (a column the caller may leave out) lme4's confint(m, method = "profile") on
# the lme4-alone fit is timed too (profile() + its confint: all parameters), one more line:
#   PROFILE <tab> id <tab> median seconds <tab> repeats

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
})

args <- commandArgs(trailingOnly = TRUE)
tasks <- read.delim(args[[1]], quote = "", stringsAsFactors = FALSE, colClasses = "character")
cache <- list()

for (k in seq_len(nrow(tasks))) {
  task <- tasks[k, ]
  if (is.null(cache[[task$csv]])) cache[[task$csv]] <- read.csv(task$csv)
  dat <- cache[[task$csv]]
  if (task$complete == "1") {
    dat <- dat[!is.na(dat$mathgain) & !is.na(dat$ses) & !is.na(dat$mathknow), ]
  }
  f <- as.formula(task$formula)
  n <- as.integer(task$repeats)
  times <- numeric(n)
  for (i in seq_len(n)) {
    t0 <- proc.time()[["elapsed"]]
    m <- suppressMessages(lmer(f, data = dat))
    ct <- coef(summary(m))          # the Satterthwaite table, as m.coef_table in Python
    times[i] <- proc.time()[["elapsed"]] - t0
  }
  plain <- NA
  if (task$plain == "1") {
    ptimes <- numeric(n)
    for (i in seq_len(n)) {
      t0 <- proc.time()[["elapsed"]]
      pm <- suppressMessages(lme4::lmer(f, data = dat))
      pct <- coef(summary(pm))      # lme4's own table: Estimate, Std. Error, t value
      ptimes[i] <- proc.time()[["elapsed"]] - t0
    }
    plain <- median(ptimes)
  }
  cat(sprintf("BENCH\t%s\t%.6f\t%.6f\t%d\t%s\n", task$id, median(times), REMLcrit(m), n,
              if (is.na(plain)) "NA" else sprintf("%.6f", plain)))
  if (!is.null(task$profile) && identical(task$profile, "1")) {
    pm <- suppressMessages(lme4::lmer(f, data = dat))
    ctimes <- numeric(n)
    for (i in seq_len(n)) {
      t0 <- proc.time()[["elapsed"]]
      ci <- suppressWarnings(confint(pm, method = "profile", quiet = TRUE))
      ctimes[i] <- proc.time()[["elapsed"]] - t0
    }
    cat(sprintf("PROFILE\t%s\t%.6f\t%d\n", task$id, median(ctimes), n))
  }
  flush(stdout())
}
