# What every reference script starts with, sourced after it has found its own folder (.here):
# the paths (classroom_path: the first argument, or ../shared/data/classroom.csv; out_dir and
# data_dir under tests/reference), the checks that the script runs from the repository root and
# that the classroom data is there, the JSON writer, and sets_via_csv().

args <- commandArgs(trailingOnly = TRUE)
classroom_path <- if (length(args) >= 1) args[[1]] else file.path("..", "shared", "data", "classroom.csv")
out_dir <- file.path("tests", "reference")
data_dir <- file.path(out_dir, "data")
if (!dir.exists(out_dir)) stop("run this script from the repository root")
if (!file.exists(classroom_path)) stop("classroom data not found at ", classroom_path,
                                       " (pass its path as the first argument)")
dir.create(data_dir, showWarnings = FALSE, recursive = TRUE)
source(file.path(.here, "json_writer.R"))

# Write each data set to data_dir/<name>.csv (factors as text, as the course reads them) and read
# it back with stringsAsFactors = TRUE, so R fits exactly the file the Python tests read.
sets_via_csv <- function(sets) {
  out <- list()
  for (nm in names(sets)) {
    d <- sets[[nm]]
    for (v in names(d)) if (is.factor(d[[v]])) d[[v]] <- as.character(d[[v]])
    f <- file.path(data_dir, paste0(nm, ".csv"))
    write.csv(d, f, row.names = FALSE)
    out[[nm]] <- read.csv(f, stringsAsFactors = TRUE)
  }
  out
}
