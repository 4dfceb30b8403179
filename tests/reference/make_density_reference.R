# make_density_reference.R -- R's density() of notebook 02's school mean residuals, unweighted and
# weighted by school size, for tests/test_density_vs_r.py (how close seaborn's kdeplot with
# bw_adjust=0.8 comes to R's curves).
#
# Run from the repository root:
#     Rscript tests/reference/make_density_reference.R [path/to/classroom.csv]
# Needs only base R. Writes tests/reference/density_reference.json.

.args <- commandArgs(trailingOnly = FALSE)
.file <- sub("^--file=", "", .args[grep("^--file=", .args)])
.here <- if (length(.file)) dirname(normalizePath(.file)) else "tests/reference"
source(file.path(.here, "json_writer.R"))

args <- commandArgs(trailingOnly = TRUE)
classroom <- if (length(args)) args[1] else "../shared/data/classroom.csv"
dat <- read.csv(classroom)

# as the handout does it (section 2.1.2)
fit1 <- lm(mathkind ~ ses, data = dat)
dat$res1 <- residuals(fit1)
res1mean <- tapply(dat$res1, dat$schoolid, mean, na.rm = TRUE)
wts <- as.numeric(prop.table(table(dat$schoolid)))

curve <- function(d) list(bw = d$bw, x = I(d$x), y = I(d$y))
out <- list(
  note = "R density() of the 107 school mean OLS residuals (mathkind ~ ses), default bw.nrd0, n = 128 points",
  R_version = R.version.string,
  unweighted = curve(density(res1mean, n = 128)),
  weighted = curve(suppressWarnings(density(res1mean, weights = wts, n = 128)))  # the bandwidth ignores the weights (R >= 4.3 warns)
)
writeLines(to_json(out), file.path(.here, "density_reference.json"))
