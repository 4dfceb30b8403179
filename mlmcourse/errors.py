"""The course's own exception (one short paragraph a student can act on) and its R-style messages."""


class CourseError(ValueError):
    """An error a student can cause and fix; its message says what happened and what to do.

    Notebooks show it as that paragraph, without a traceback: importing mlmcourse in IPython or
    Jupyter installs a handler for it (see ``mlmcourse.errornotes``); the cell still fails.
    """


class CourseMessage(UserWarning):
    """A message R would print as a plain line (lme4's "refitting model(s) with ML (instead of REML)").

    Issued as a warning, so callers can filter it, and shown as R shows it, the text alone,
    without Python's file name and source line (``mlmcourse.errornotes``).
    """
