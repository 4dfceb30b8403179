# bench_lme4.R -- time lme4 + lmerTest on the benchmark's models (called by run_bench.py).
#
#   Rscript tests/benchmarks/bench_lme4.R CLASSROOM_CSV SIM_CSV|none REPEATS BIG_REPEATS
#
# Each fit is timed inside R with proc.time() around lmer() plus the lmerTest coefficient
# table (Satterthwaite df), so R's start-up and reading the CSV files are NOT included; the
# caller times the whole Rscript run separately. One line per model on stdout:
#   BENCH <tab> id <tab> median elapsed seconds <tab> REML criterion <tab> repeats

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
})

args <- commandArgs(trailingOnly = TRUE)
classroom_path <- args[[1]]
sim_path <- args[[2]]
repeats <- as.integer(args[[3]])
big_repeats <- as.integer(args[[4]])

dat <- read.csv(classroom_path)
# the handout's complete cases of mathgain, ses and mathknow
in_sample <- !is.na(dat$mathgain) & !is.na(dat$ses) & !is.na(dat$mathknow)

time_fit <- function(id, expr_text, n) {
  expr <- parse(text = expr_text)[[1]]
  times <- numeric(n)
  for (i in seq_len(n)) {
    t0 <- proc.time()[["elapsed"]]
    m <- eval(expr, envir = globalenv())
    ct <- coef(summary(m))          # the Satterthwaite table, as m.coef_table in Python
    times[i] <- proc.time()[["elapsed"]] - t0
  }
  cat(sprintf("BENCH\t%s\t%.6f\t%.6f\t%d\n", id, median(times), REMLcrit(m), n))
}

time_fit("lmer.fit1", "lmer(mathkind ~ ses + (1|schoolid), data = dat)", repeats)
time_fit("fit3", "lmer(mathkind ~ ses + (1|schoolid/classid), data = dat)", repeats)
time_fit("lmer.fit2", "lmer(mathgain ~ (1|schoolid), data = dat)", repeats)
time_fit("lmer.fit3", "lmer(mathgain ~ (1|schoolid/classid), data = dat)", repeats)
time_fit("fit7", "lmer(mathgain ~ 1 + (1|schoolid/classid), data = dat, subset = in_sample)", repeats)
time_fit("fit8", "lmer(mathgain ~ ses + mathknow + (1|schoolid/classid), data = dat, subset = in_sample)", repeats)

if (sim_path != "none") {
  sim <- read.csv(sim_path)
  time_fit("sim100k", "lmer(y ~ x + (1|school/class), data = sim)", big_repeats)
}
