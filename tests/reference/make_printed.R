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

# Cases found in review (each printed by lme4/lmerTest as the reference layout)
set.seed(20261125)  # a small simulated data set with two random slopes per subject
sim <- expand.grid(subj = sprintf("S%02d", 1:30), rep = 1:15)
sim$x <- round(rnorm(nrow(sim)), 3); sim$z <- round(rnorm(nrow(sim)), 3)
u <- matrix(rnorm(30 * 3, sd = c(3, 1, 0.7)), ncol = 3, byrow = TRUE)
s <- as.integer(factor(sim$subj))
sim$y <- round(10 + 2 * sim$x + 0.5 * sim$z + u[s, 1] + u[s, 2] * sim$x + u[s, 3] * sim$z + rnorm(nrow(sim), sd = 2), 3)
write.csv(sim[, c("y", "x", "z", "subj")], "tests/reference/data/sim_slopes.csv", row.names = FALSE)
two <- lmer(y ~ x + z + (1 + x + z | subj), data = sim)
out("sim_two_slopes_ranova", print(ranova(two)))
wide <- lmer(mathgain ~ mathkind + ses + (1 | schoolid), data = dat)
out("classroom_wide_estimates_summary", print(summary(wide)))
cake <- read.csv("tests/reference/data/cake.csv")
cat_order <- lmer(angle ~ temp + recipe + (1 | replicate), data = cake)
out("cake_term_order_summary", print(summary(cat_order)))
ss_ml <- lmer(Reaction ~ Days + (1 | Subject), data = ss, REML = FALSE)
out("sleepstudy_ml_summary", print(summary(ss_ml)))
out("sleepstudy_uncorr_ranova", print(ranova(uncorr)))
ss$Days2 <- 2 * ss$Days   # a rank-deficient fixed part: lme4 drops Days2 and says so under "fit warnings:"
rank_def <- lmer(Reaction ~ Days + Days2 + (1 | Subject), data = ss)
out("sleepstudy_rank_deficient_summary", print(summary(rank_def)))
