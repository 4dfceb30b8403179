"""mlmcourse: the helper package of the multilevel-models course.

Write the handout's lme4 formula in Python and get lme4/lmerTest's numbers::

    from mlmcourse import load_classroom, lmer, anova, ranova
    dat = load_classroom()
    m = lmer("mathkind ~ ses + (1|schoolid/classid)", data=dat)
    m.summary()
    confint(m)          # lme4's profile confidence intervals (profile(m): the profile itself)

The parts of the package, one subpackage each:

- ``engine``: lme4's stages (formula -> design -> penalized least squares -> optimiser ->
  fitted model -> inference -> comparison), OLS and the statsmodels bridge;
- ``rprint``: R's number formatting and the summary / anova layouts, as text and HTML;
- ``quiz``: the self-assessment widgets, question banks, live answers, answer storage, hand-in;
- ``explore``: the interactive explorations;
- ``tools``: slides and notebook execution.

At the top sit what the notebooks import directly: the data, the course's figure style and path
diagram (``plots``), the constructed effects the quiz computes (``residuals``), the chapter's
models and their one fit cache (``chapter``), lecture mode and the notebook helpers.
"""
from .data import load_classroom
from .engine.allfit import all_fit
from .engine.compare import AnovaNote, RefitMessage, anova, ranova
from .engine.confint import confint
from .engine.fit import lmer
from .engine.fitted import LmerModel
from .engine.inference import icc
from .engine.ols import lm
from .engine.profile import profile
from .engine.rows import complete_cases
from .errors import CourseError, CourseMessage
from .notebook import install_ipython_handler as _install_ipython_handler
from .notebook import install_message_display as _install_message_display

_install_ipython_handler()  # in IPython/Jupyter a CourseError shows as one short paragraph
_install_message_display()  # anova's "refitting model(s) with ML ..." prints as R prints it

__all__ = ["load_classroom", "lmer", "lm", "anova", "ranova", "icc", "complete_cases",
           "all_fit", "LmerModel", "CourseError", "CourseMessage", "RefitMessage", "AnovaNote",
           "confint", "profile"]
