"""R-style printing: numbers as R formats them, and lme4/lmerTest's layouts (text and HTML).

    rformat.py   formatReal, format.pval, zapsmall, printCoefmat, print.anova
    summary.py   summary(lmer): text as the handout prints it, HTML tables for notebooks
    lmsummary.py summary(lm)
    tables.py    AnovaTable: anova() / ranova() results that print as R prints them
    abbreviate.py  R's abbreviate(), for the correlation block's headers
    messages.py  lme4's sentences the engine's warnings share with the summaries

rprint imports nothing from the engine (tests/rprint/test_import_direction.py).
"""
