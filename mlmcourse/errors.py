"""The course's own exception: one short paragraph a student can act on."""


class CourseError(ValueError):
    """An error a student can cause and fix; its message says what happened and what to do.

    Notebooks show it without a long traceback (see ``mlmcourse.notebook``)."""
