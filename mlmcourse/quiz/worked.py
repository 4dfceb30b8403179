"""The lab quiz's and homework's live answers: models the chapter does not fit, and the
student's own data (:mod:`mlmcourse.quiz.variants`). Registered in :data:`mlmcourse.quiz.live.COMPUTATIONS`."""
from __future__ import annotations

from .. import chapter
from ..residuals import group_mean_residuals, nested_mean_residuals
from .registry import _icc, _lrt, _sd_ratio, _var_ratio, _varcorr_row, computation
from .variants import simulation_parameters

# -- lab quiz: models the chapter does not fit (classroom data) --------------------------------
F_KIND_MINORITY = "mathkind ~ minority + (1|schoolid)"
F_KIND_NULL = "mathkind ~ 1 + (1|schoolid)"
F_GAIN_KIND_NESTED = "mathgain ~ mathkind + (1|schoolid/classid)"
F_SLOPE_SMALL = "mathgain ~ mathkind + ses + minority + (1|schoolid)"
F_SLOPE_BIG = "mathgain ~ mathkind + ses + minority + (ses|schoolid)"


@computation("icc_school_mathkind_minority", "ICC of schools in mathkind ~ minority + (1|schoolid)")
def _icc_kind_minority(ctx):
    return _icc(ctx.fit(F_KIND_MINORITY), "schoolid")


@computation("icc_school_mathkind_minority_ml", "a wrong ICC: mathkind ~ minority + (1|schoolid) fitted by ML")
def _icc_kind_minority_ml(ctx):
    return _icc(ctx.fit(F_KIND_MINORITY, REML=False), "schoolid")


@computation("sd_ratio_mathkind_minority", "a wrong ICC: SDs instead of variances, mathkind ~ minority + (1|schoolid)")
def _sd_ratio_kind_minority(ctx):
    return _sd_ratio(ctx.fit(F_KIND_MINORITY), "schoolid")


@computation("var_ratio_mathkind_minority",
             "a wrong ICC: between / within variance, mathkind ~ minority + (1|schoolid)")
def _var_ratio_kind_minority(ctx):
    return _var_ratio(ctx.fit(F_KIND_MINORITY), "schoolid")


@computation("icc_school_mathkind_null", "ICC of schools in mathkind ~ 1 + (1|schoolid) (no predictor)")
def _icc_kind_null(ctx):
    return _icc(ctx.fit(F_KIND_NULL), "schoolid")


@computation("var_class_mathgain_mathkind", "classroom variance in mathgain ~ mathkind + (1|schoolid/classid)")
def _var_class_gain_kind(ctx):
    return _varcorr_row(ctx.fit(F_GAIN_KIND_NESTED), "classid:schoolid")


@computation("var_class_mathgain_mathkind_ml",
             "a wrong variance: classroom variance of mathgain ~ mathkind + (1|schoolid/classid) fitted by ML")
def _var_class_gain_kind_ml(ctx):
    return _varcorr_row(ctx.fit(F_GAIN_KIND_NESTED, REML=False), "classid:schoolid")


@computation("sd_class_mathgain_mathkind", "classroom Std.Dev. in mathgain ~ mathkind + (1|schoolid/classid)")
def _sd_class_gain_kind(ctx):
    return _varcorr_row(ctx.fit(F_GAIN_KIND_NESTED), "classid:schoolid", "Std.Dev.")


@computation("var_school_mathgain_mathkind", "school variance in mathgain ~ mathkind + (1|schoolid/classid)")
def _var_school_gain_kind(ctx):
    return _varcorr_row(ctx.fit(F_GAIN_KIND_NESTED), "schoolid")


@computation("var_class_mathgain_nested", "classroom variance in mathgain ~ (1|schoolid/classid) (no predictor)")
def _var_class_gain_nested(ctx):
    return _varcorr_row(ctx.fit(chapter.GAIN_NESTED), "classid:schoolid")


@computation("lrt_slope_ses",
             "LRT for a random slope of ses by school (mathgain ~ mathkind + ses + minority): REML, no refit")
def _lrt_slope(ctx):
    return _lrt(ctx.fit(F_SLOPE_SMALL), ctx.fit(F_SLOPE_BIG), refit=False)


@computation("lrt_slope_ses_ml", "a wrong slope LRT: the same two models refitted by ML (anova's default)")
def _lrt_slope_ml(ctx):
    return _lrt(ctx.fit(F_SLOPE_SMALL), ctx.fit(F_SLOPE_BIG), refit=True)


@computation("p_slope_ses", "p-value of the REML LRT for the random slope of ses")
def _p_slope(ctx):
    return _lrt(ctx.fit(F_SLOPE_SMALL), ctx.fit(F_SLOPE_BIG), refit=False, column="Pr(>Chisq)")


# -- homework: constructed classroom effects of mathgain (classroom data) -----------------------
F_GAIN_SES_OLS = "mathgain ~ ses"


def _gain_resid(ctx):
    fit = ctx.fit(F_GAIN_SES_OLS)   # lm(): OLS
    rows = ctx.data.loc[fit.resid.index]
    return fit.resid, rows["schoolid"], rows["classid"]


@computation("sd_class_constructed_mathgain",
             "SD of the constructed classroom effects of mathgain ~ ses (OLS residuals cleared of the "
             "school mean, averaged by classroom; one value per classroom)")
def _sd_class_constructed(ctx):
    resid, school, klass = _gain_resid(ctx)
    return float(nested_mean_residuals(resid, school, klass).std(ddof=1))


@computation("var_class_constructed_mathgain", "a wrong SD: the variance of the constructed classroom effects")
def _var_class_constructed(ctx):
    return ctx.value("sd_class_constructed_mathgain") ** 2


@computation("sd_school_constructed_mathgain", "a wrong SD: the SD of the school mean residuals of mathgain ~ ses")
def _sd_school_constructed(ctx):
    resid, school, _ = _gain_resid(ctx)
    return float(group_mean_residuals(resid, school).std(ddof=1))


@computation("sd_class_raw_mathgain",
             "a wrong SD: classroom mean residuals of mathgain ~ ses not cleared of the school means")
def _sd_class_raw(ctx):
    resid, _, klass = _gain_resid(ctx)
    return float(group_mean_residuals(resid, klass).std(ddof=1))


@computation("sd_class_rows_mathgain",
             "a wrong SD: the constructed classroom effects spread to the students (one value per student)")
def _sd_class_rows(ctx):
    from ..residuals import spread_to_rows
    resid, school, klass = _gain_resid(ctx)
    return float(spread_to_rows(nested_mean_residuals(resid, school, klass), klass).std(ddof=1))


@computation("sd_class_model_mathgain_ses", "classroom Std.Dev. in mathgain ~ ses + (1|schoolid/classid)")
def _sd_class_model(ctx):
    return _varcorr_row(ctx.fit("mathgain ~ ses + (1|schoolid/classid)"), "classid:schoolid", "Std.Dev.")


# -- the student's bootstrap sample of schools (seeded) -----------------------------------------
F_BOOT_ICC = "mathkind ~ ses + (1|schoolid)"
BOOT_COMPLETE = "mathgain ~ mathkind + mathknow"
F_BOOT_SMALL = "mathgain ~ mathkind + (1|schoolid/classid)"
F_BOOT_BIG = "mathgain ~ mathkind + mathknow + (1|schoolid/classid)"


def _boot(ctx):
    return ctx.variant("bootstrap")


def _boot_complete_rows(ctx):
    from .. import complete_cases
    data = _boot(ctx)
    return data.loc[complete_cases(data, BOOT_COMPLETE)]


@computation("boot_n_rows", "students in the student's bootstrap sample", variant="bootstrap")
def _boot_n_rows(ctx):
    return int(len(_boot(ctx)))


@computation("boot_n_distinct_schools", "different schools of the classroom data in the bootstrap sample",
             variant="bootstrap")
def _boot_distinct(ctx):
    return int(_boot(ctx)["orig_schoolid"].nunique())


@computation("boot_icc_mathkind_ses", "ICC of schools in mathkind ~ ses + (1|schoolid), bootstrap sample",
             variant="bootstrap")
def _boot_icc(ctx):
    return _icc(ctx.fit(F_BOOT_ICC, data=_boot(ctx)), "schoolid")


@computation("boot_icc_mathkind_ses_ml", "a wrong ICC: the bootstrap sample's model fitted by ML",
             variant="bootstrap")
def _boot_icc_ml(ctx):
    return _icc(ctx.fit(F_BOOT_ICC, REML=False, data=_boot(ctx)), "schoolid")


@computation("boot_sd_ratio_mathkind_ses", "a wrong ICC: SDs instead of variances, bootstrap sample",
             variant="bootstrap")
def _boot_sd_ratio(ctx):
    return _sd_ratio(ctx.fit(F_BOOT_ICC, data=_boot(ctx)), "schoolid")


@computation("boot_n_complete", "rows of the bootstrap sample complete for mathgain ~ mathkind + mathknow",
             variant="bootstrap")
def _boot_n_complete(ctx):
    return int(len(_boot_complete_rows(ctx)))


@computation("boot_lrt_mathknow",
             "LRT (ML refit) adding mathknow to mathgain ~ mathkind + (1|schoolid/classid), bootstrap "
             "sample, complete rows", variant="bootstrap")
def _boot_lrt(ctx):
    rows = _boot_complete_rows(ctx)
    return _lrt(ctx.fit(F_BOOT_SMALL, data=rows), ctx.fit(F_BOOT_BIG, data=rows), refit=True)


@computation("boot_lrt_mathknow_norefit", "a wrong LRT: the same models compared by their REML fits (no refit)",
             variant="bootstrap")
def _boot_lrt_norefit(ctx):
    rows = _boot_complete_rows(ctx)
    return _lrt(ctx.fit(F_BOOT_SMALL, data=rows), ctx.fit(F_BOOT_BIG, data=rows), refit=False)


@computation("boot_p_mathknow", "p-value of the bootstrap sample's LRT for mathknow", variant="bootstrap")
def _boot_p(ctx):
    rows = _boot_complete_rows(ctx)
    return _lrt(ctx.fit(F_BOOT_SMALL, data=rows), ctx.fit(F_BOOT_BIG, data=rows), refit=True,
                column="Pr(>Chisq)")


# -- the student's simulated schools (seeded) ----------------------------------------------------
F_SIM = "y ~ x + (1|school)"


def _sim(ctx):
    return ctx.variant("simulated")


@computation("sim_sigma_zeta", "the sigma_zeta the student's schools were simulated with", variant="simulated")
def _sim_sigma_zeta(ctx):
    return simulation_parameters(ctx.seed)["sigma_zeta"]


@computation("sim_sigma_eps", "the sigma_eps the student's schools were simulated with", variant="simulated")
def _sim_sigma_eps(ctx):
    return simulation_parameters(ctx.seed)["sigma_eps"]


@computation("sim_true_var_school", "the true school variance sigma_zeta^2 of the simulation",
             variant="simulated")
def _sim_true_var(ctx):
    return float(simulation_parameters(ctx.seed)["sigma_zeta"] ** 2)


@computation("sim_n_students", "students in the student's simulated data", variant="simulated")
def _sim_n(ctx):
    return int(len(_sim(ctx)))


@computation("sim_var_school", "school variance in y ~ x + (1|school), simulated data (REML)",
             variant="simulated")
def _sim_var(ctx):
    return _varcorr_row(ctx.fit(F_SIM, data=_sim(ctx)), "school")


@computation("sim_var_school_ml", "a wrong variance: y ~ x + (1|school) fitted by ML", variant="simulated")
def _sim_var_ml(ctx):
    return _varcorr_row(ctx.fit(F_SIM, REML=False, data=_sim(ctx)), "school")


@computation("sim_sd_school", "school Std.Dev. in y ~ x + (1|school), simulated data", variant="simulated")
def _sim_sd(ctx):
    return _varcorr_row(ctx.fit(F_SIM, data=_sim(ctx)), "school", "Std.Dev.")


@computation("sim_sd_school_mean_resid",
             "SD of the school means of the OLS residuals of y ~ x, simulated data (one value per school)",
             variant="simulated")
def _sim_sd_mean_resid(ctx):
    data = _sim(ctx)
    fit = ctx.fit("y ~ x", data=data)
    return float(group_mean_residuals(fit.resid, data.loc[fit.resid.index, "school"]).std(ddof=1))


@computation("sim_var_school_mean_resid", "a wrong SD: the variance of the simulated school mean residuals",
             variant="simulated")
def _sim_var_mean_resid(ctx):
    return ctx.value("sim_sd_school_mean_resid") ** 2


@computation("lrt_mathknow_mathkind",
             "LRT (ML refit) adding mathknow to mathgain ~ mathkind + (1|schoolid/classid), classroom "
             "data, complete rows (the bootstrap question's model on the course data)")
def _lrt_mathknow_real(ctx):
    from .. import complete_cases
    rows = ctx.data.loc[complete_cases(ctx.data, BOOT_COMPLETE)]
    return _lrt(ctx.fit(F_BOOT_SMALL, data=rows), ctx.fit(F_BOOT_BIG, data=rows), refit=True)


# -- testing variance components (classroom data): ranova's rows and the boundary p-value -------
def _ranova_value(model, row: str, column: str) -> float:
    from .live import _ranova_row
    return _ranova_row(model, row, column)


def _boundary_p(model, row: str) -> float:
    """The p-value of a variance tested at zero, its boundary: under the null hypothesis the LRT
    follows a 50:50 mixture of chi-square(0) (a point mass at 0) and chi-square(1), so the
    p-value is half the chi-square(1) one."""
    from scipy.stats import chi2
    return 0.5 * float(chi2.sf(_ranova_value(model, row, "LRT"), 1))


CLASS_ROW, SCHOOL_ROW = "(1 | classid:schoolid)", "(1 | schoolid)"


@computation("lrt_class_mathgain_mathkind",
             "ranova LRT of the classroom term in mathgain ~ mathkind + (1|schoolid/classid)")
def _lrt_class_gain_kind(ctx):
    return _ranova_value(ctx.fit(F_GAIN_KIND_NESTED), CLASS_ROW, "LRT")


@computation("p_class_mathgain_mathkind",
             "a wrong boundary p-value: ranova's chi-square(1) p of the classroom term, mathgain ~ mathkind")
def _p_class_gain_kind(ctx):
    return _ranova_value(ctx.fit(F_GAIN_KIND_NESTED), CLASS_ROW, "Pr(>Chisq)")


@computation("p_boundary_class_mathgain_mathkind",
             "boundary p-value (50:50 chi2(0):chi2(1)) of the classroom variance, "
             "mathgain ~ mathkind + (1|schoolid/classid)")
def _p_boundary_class_gain_kind(ctx):
    return _boundary_p(ctx.fit(F_GAIN_KIND_NESTED), CLASS_ROW)


@computation("p_boundary_school_mathgain_mathkind",
             "a wrong boundary p-value: the school row's, mathgain ~ mathkind + (1|schoolid/classid)")
def _p_boundary_school_gain_kind(ctx):
    return _boundary_p(ctx.fit(F_GAIN_KIND_NESTED), SCHOOL_ROW)


@computation("p_boundary_class_mathgain",
             "a wrong boundary p-value: the classroom term of mathgain ~ (1|schoolid/classid), without mathkind")
def _p_boundary_class_gain(ctx):
    return _boundary_p(ctx.fit(chapter.GAIN_NESTED), CLASS_ROW)


@computation("lrt_class_mathkind_ses", "ranova LRT of the classroom term in mathkind ~ ses + (1|schoolid/classid)")
def _lrt_class_kind_ses(ctx):
    return _ranova_value(ctx.fit(chapter.NESTED_MODEL), CLASS_ROW, "LRT")


@computation("p_class_mathkind_ses", "ranova p-value of the classroom term in mathkind ~ ses + (1|schoolid/classid)")
def _p_class_kind_ses(ctx):
    return _ranova_value(ctx.fit(chapter.NESTED_MODEL), CLASS_ROW, "Pr(>Chisq)")


@computation("p_boundary_class_mathkind_ses",
             "boundary p-value of the classroom variance in mathkind ~ ses + (1|schoolid/classid)")
def _p_boundary_class_kind_ses(ctx):
    return _boundary_p(ctx.fit(chapter.NESTED_MODEL), CLASS_ROW)
