"""lm(): R's summary(lm) layout and numbers, checked against the handout and R's formatting."""
import pytest

from mlmcourse import CourseError
from mlmcourse.engine.ols import lm
from mlmcourse.rprint.rformat import format_pval as r_format_pval
from mlmcourse.rprint.rformat import format_real as r_format
from mlmcourse.rprint.rformat import stars as r_signif_stars

# The handout's print(summary(fit1)), line by line (R prints curly quotes; we print ASCII).
HANDOUT_LM = """
Call:
lm(formula = mathkind ~ ses, data = dat)

Residuals:
     Min       1Q   Median       3Q      Max 
-174.835  -26.399    1.065   26.529  161.150 

Coefficients:
            Estimate Std. Error t value Pr(>|t|)    
(Intercept)  466.845      1.162  401.70   <2e-16 ***
ses           14.359      1.568    9.16   <2e-16 ***
---
Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1

Residual standard error: 40.08 on 1188 degrees of freedom
Multiple R-squared:  0.06596,\tAdjusted R-squared:  0.06518 
F-statistic:  83.9 on 1 and 1188 DF,  p-value: < 2.2e-16
"""


@pytest.fixture(scope="module")
def fit1(dat):
    return lm("mathkind ~ ses", data=dat)


def test_summary_is_the_handouts_text(fit1):
    assert fit1.summary_text() == HANDOUT_LM


def test_summary_prints(fit1, capsys):
    fit1.summary()
    assert "Residual standard error: 40.08 on 1188 degrees of freedom" in capsys.readouterr().out


def test_attributes(fit1, dat):
    assert list(fit1.coef_table.columns) == ["Estimate", "Std. Error", "t value", "Pr(>|t|)"]
    assert list(fit1.coef_table.index) == ["(Intercept)", "ses"]
    assert fit1.coef_table.loc["ses", "Estimate"] == pytest.approx(14.35929025, abs=1e-7)
    assert fit1.coef_table.loc["(Intercept)", "Std. Error"] == pytest.approx(1.162175441, abs=1e-8)
    assert fit1.sigma == pytest.approx(40.08, abs=0.005)
    assert fit1.rsquared == pytest.approx(0.06596, abs=5e-6)
    assert len(fit1.resid) == len(fit1.fitted) == 1190
    assert (fit1.resid + fit1.fitted - dat["mathkind"]).abs().max() < 1e-9
    assert fit1.statsmodels.nobs == 1190


def test_missing_rows_are_reported(dat):
    fit = lm("mathgain ~ ses + mathknow", data=dat)
    text = fit.summary_text()
    assert "  (109 observations deleted due to missingness)" in text
    # values from R 4.2: summary(lm(mathgain ~ ses + mathknow, data = dat))
    assert "mathknow      0.6983     1.0393   0.672    0.502    " in text
    assert "Multiple R-squared:  0.0004414,\tAdjusted R-squared:  -0.001413 " in text
    assert "F-statistic: 0.238 on 2 and 1078 DF,  p-value: 0.7882" in text
    assert fit.nobs == 1081 and len(fit.resid) == 1081


def test_mixed_pvalues_and_long_call(dat):
    fit = lm("mathkind ~ ses + minority + sex + housepov + yearstea", data=dat)
    text = fit.summary_text()
    # R 4.2 output for the same call
    assert "lm(formula = mathkind ~ ses + minority + sex + housepov + yearstea, \n    data = dat)" in text
    assert "(Intercept) 481.59681    3.13233 153.750  < 2e-16 ***" in text
    assert "minority    -19.83638    2.60140  -7.625 4.98e-14 ***" in text
    assert "Residual standard error: 39 on 1184 degrees of freedom" in text


def test_intercept_only_has_no_f_statistic(dat):
    text = lm("mathkind ~ 1", data=dat).summary_text()
    assert "(Intercept)  466.659      1.202   388.3   <2e-16 ***" in text
    assert "F-statistic" not in text


# (values, digits) -> R 4.2's format(values, digits = digits), pasted with "|"
R_FORMAT = [
    (([0.08216181435011584, 3304.3707618338713], 7), "8.216181e-02|3.304371e+03"),
    (([2.136372569962547e-07, -9.004750699990517e-08, -3905.453443553229, 1.6273002546230673], 3),
     " 2.14e-07|-9.00e-08|-3.91e+03| 1.63e+00"),
    (([0.0035786889003106338], 2), "0.0036"),
    (([-13.0, -0.0, -119152.0], 2), "    -13|      0|-119152"),
    (([-1.2368271525133938e-05], 6), "-1.23683e-05"),
    (([-575.296, 0.0, -0.0], 2), "-575|   0|   0"),
    (([-98.59, 0.02, -0.0, 0.0], 1), "-98.59|  0.02|  0.00|  0.00"),
    (([401.699, 9.16], 4), "401.70|  9.16"),
]
# (p-values, digits) -> R 4.2's format.pval(p, digits = digits)
R_PVAL = [
    (([1.2777140259894753e-10, 9.795537986614762e-07], 1), "1e-10|1e-06"),
    (([2.092994890217625e-12, 0.007126183459174426, 7.156956955051285e-16, 6.394210320539474e-09], 2),
     "2.1e-12|0.0071|7.2e-16|6.4e-09"),
    (([1.4482565034196008e-16], 2), "<2e-16"),
    (([1.1216432878048092e-19, 2.2462631960376935e-19, 1.1060281640879555e-14], 2), "< 2e-16|< 2e-16|1.1e-14"),
]


@pytest.mark.parametrize("args,expected", R_FORMAT)
def test_r_format_matches_r(args, expected):
    assert "|".join(r_format(*args)) == expected


@pytest.mark.parametrize("args,expected", R_PVAL)
def test_r_format_pval_matches_r(args, expected):
    assert "|".join(r_format_pval(*args)) == expected


def test_stars():
    assert [r_signif_stars(p) for p in (0.0001, 0.005, 0.03, 0.07, 0.5)] == ["***", "**", "*", ".", " "]


def test_random_effect_term_is_a_course_error(dat):
    with pytest.raises(CourseError, match="lmer"):
        lm("mathkind ~ ses + (1|schoolid)", data=dat)


def test_unknown_column_is_a_course_error(dat):
    with pytest.raises(CourseError, match="mathkidn"):
        lm("mathkidn ~ ses", data=dat)


def test_bad_inputs(dat):
    with pytest.raises(CourseError):
        lm("mathkind", data=dat)
    with pytest.raises(CourseError):
        lm("mathkind ~ ses", data=dat.to_dict())
