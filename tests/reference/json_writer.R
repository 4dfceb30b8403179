# json_writer.R -- a minimal JSON writer for the reference scripts (sourced by make_reference.R
# and make_quiz_reference.R), so that R needs no package beyond lme4 and lmerTest.
# ---------------------------------------------------------------------------------------
# A minimal JSON writer (full double precision: 17 significant digits round-trip exactly).
#   NULL / NA -> null; named list -> object; unnamed list -> array;
#   named atomic -> object; unnamed atomic of length 1 -> scalar, otherwise array;
#   wrap with I() to force an array even for length 1.
# ---------------------------------------------------------------------------------------
json_string <- function(s) {
  s <- gsub("\\\\", "\\\\\\\\", s)
  s <- gsub("\"", "\\\\\"", s)
  s <- gsub("\n", "\\\\n", s)
  s <- gsub("\t", "\\\\t", s)
  s <- gsub("\r", "\\\\r", s)
  paste0("\"", s, "\"")
}
json_scalar <- function(v) {
  if (is.na(v)) return("null")
  if (is.logical(v)) return(if (v) "true" else "false")
  if (is.numeric(v)) {
    if (!is.finite(v)) return("null")
    if (is.integer(v)) return(as.character(v))
    return(sprintf("%.17g", v))
  }
  json_string(as.character(v))
}
to_json <- function(x, indent = 0) {
  pad <- strrep(" ", indent + 2)
  end <- strrep(" ", indent)
  if (is.null(x)) return("null")
  if (is.factor(x)) x <- as.character(x)
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    parts <- vapply(x, to_json, "", indent = indent + 2)
    if (!is.null(names(x))) {
      parts <- paste0(json_string(names(x)), ": ", parts)
      return(paste0("{\n", pad, paste(parts, collapse = paste0(",\n", pad)), "\n", end, "}"))
    }
    return(paste0("[\n", pad, paste(parts, collapse = paste0(",\n", pad)), "\n", end, "]"))
  }
  force_array <- inherits(x, "AsIs")
  x <- unclass(x)
  if (!is.null(names(x))) {
    parts <- paste0(json_string(names(x)), ": ", vapply(seq_along(x), function(i) json_scalar(x[[i]]), ""))
    return(paste0("{", paste(parts, collapse = ", "), "}"))
  }
  if (length(x) == 1 && !force_array) return(json_scalar(x))
  paste0("[", paste(vapply(seq_along(x), function(i) json_scalar(x[[i]]), ""), collapse = ", "), "]")
}
