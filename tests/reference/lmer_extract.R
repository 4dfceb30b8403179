# lmer_extract.R -- what the reference scripts record of a fitted lmer model (sourced by
# make_reference.R and make_parity_cases.R).
mat_json <- function(M) list(rownames = I(rownames(M)), colnames = I(colnames(M)),
                             values = lapply(seq_len(nrow(M)), function(i) I(unname(M[i, ]))))

table_json <- function(tab) {
  tab <- as.data.frame(tab)
  list(rownames = I(rownames(tab)), colnames = I(colnames(tab)),
       columns = lapply(as.list(tab), function(col) I(unname(col))))
}

describe <- function(s, m, warn, call_text) {
  sm <- summary(m)                                   # lmerTest summary (Satterthwaite)
  vc <- as.data.frame(VarCorr(m))
  ct <- sm$coefficients
  V <- as.matrix(vcov(m))
  re <- ranef(m)
  ranef_out <- list()
  for (g in names(re)) {
    df <- re[[g]]
    terms <- list()
    for (tm in colnames(df))
      terms[[tm]] <- list(first5_levels = I(head(rownames(df), 5)),
                          first5 = I(unname(head(df[[tm]], 5))),
                          sd = sd(df[[tm]]), n = nrow(df))
    ranef_out[[g]] <- terms
  }
  ll <- logLik(m)
  list(
    id = s$id, purpose = s$purpose, data = s$data, formula = s$formula, REML = s$REML,
    subset = s$subset, r_call = call_text,
    nobs = nobs(m),
    ngroups = as.list(ngrps(m)),
    reml_criterion = if (s$REML) unname(REMLcrit(m)) else NULL,
    deviance = if (!s$REML) unname(deviance(m)) else NULL,
    logLik = as.numeric(ll), npar = attr(ll, "df"),
    AIC = AIC(m), BIC = BIC(m),
    sigma = sigma(m),
    theta = list(names = I(names(getME(m, "theta"))), values = I(unname(getME(m, "theta")))),
    isSingular = isSingular(m),
    warnings = I(warn),
    varcorr = lapply(seq_len(nrow(vc)), function(i)
      list(grp = vc$grp[i], var1 = vc$var1[i], var2 = vc$var2[i],
           vcov = vc$vcov[i], sdcor = vc$sdcor[i])),
    fixef = as.list(fixef(m)),
    coef_table = lapply(setNames(seq_len(nrow(ct)), rownames(ct)), function(i) as.list(ct[i, ])),
    vcov = mat_json(V),
    cor_fixef = mat_json(cov2cor(V)),
    # the five numbers summary() prints under "Scaled residuals" (before its zapsmall rounding)
    scaled_residuals = as.list(setNames(quantile(residuals(m, type = "pearson", scaled = TRUE),
                                                 na.rm = TRUE),
                                        c("Min", "1Q", "Median", "3Q", "Max"))),
    ranef = ranef_out
  )
}

