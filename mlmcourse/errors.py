"""The course's own exception: one short paragraph a student can act on."""


class CourseError(ValueError):
    """An error a student can cause and fix; its message says what happened and what to do.

    Notebooks show it as that paragraph, without a traceback: importing mlmcourse in IPython or
    Jupyter installs a handler for it (see ``mlmcourse.notebook``); the cell still fails."""
