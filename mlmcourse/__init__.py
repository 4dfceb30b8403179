"""mlmcourse: the helper package of the multilevel-models course.

Write the handout's lme4 formula in Python and get lme4/lmerTest's numbers::

    from mlmcourse import load_classroom, lmer, anova, ranova
    dat = load_classroom()
    m = lmer("mathkind ~ ses + (1|schoolid/classid)", data=dat)
    m.summary()
"""
from .compare import anova, ranova
from .data import load_classroom
from .design import complete_cases
from .errors import CourseError
from .inference import icc
from .model import LmerModel, lmer
from .ols import lm

__all__ = ["load_classroom", "lmer", "lm", "anova", "ranova", "icc", "complete_cases",
           "LmerModel", "CourseError"]
