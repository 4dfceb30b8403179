"""mlmcourse: the helper package of the multilevel-models course.

Write the handout's lme4 formula in Python and get lme4/lmerTest's numbers::

    from mlmcourse import load_classroom, lmer, anova, ranova
    dat = load_classroom()
    m = lmer("mathkind ~ ses + (1|schoolid/classid)", data=dat)
    m.summary()
"""
from .data import load_classroom
from .errors import CourseError

__all__ = ["load_classroom", "CourseError"]
