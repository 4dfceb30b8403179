"""R-style printing: numbers as R formats them, and lme4/lmerTest's layouts (text and HTML).

    rformat.py   formatReal, format.pval, zapsmall, printCoefmat, print.anova
    summary.py   summary(lmer): text as the handout prints it, HTML tables for notebooks
    lmsummary.py summary(lm)
    tables.py    AnovaTable: anova() / ranova() results that print as R prints them
"""
