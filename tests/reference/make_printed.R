# Writes lme4/lmerTest's printed output for models beyond the handout (ML fit, correlated random
# slopes, ranova reducing a slope) into tests/reference/printed/, for tests/test_printed_layout.py.
# Run from the repository root: Rscript tests/reference/make_printed.R [path/to/classroom.csv]
suppressMessages({library(lme4); library(lmerTest)})
options(width = 200, useFancyQuotes = FALSE)
args <- commandArgs(trailingOnly = TRUE)
classroom <- if (length(args)) args[1] else "../shared/data/classroom.csv"
dat <- read.csv(classroom)
ss <- read.csv("tests/reference/data/sleepstudy.csv")
out <- function(name, expr) writeLines(capture.output(expr), file.path("tests/reference/printed", paste0(name, ".txt")))
ml <- lmer(mathgain ~ ses + mathknow + (1 | schoolid/classid), data = dat, REML = FALSE)
out("classroom_ml_summary", print(summary(ml)))
slope <- lmer(Reaction ~ Days + (Days | Subject), data = ss)
out("sleepstudy_slope_summary", print(summary(slope)))
out("sleepstudy_slope_ranova", print(ranova(slope)))
uncorr <- lmer(Reaction ~ Days + (Days || Subject), data = ss)
out("sleepstudy_uncorr_summary", print(summary(uncorr)))
