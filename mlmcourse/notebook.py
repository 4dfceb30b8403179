"""The path notebooks import the error notes from (``from mlmcourse.notebook import explain_errors``).

The notes themselves live in :mod:`mlmcourse.errornotes`; this module only keeps that import working.
"""
from .errornotes import ErrorNote, explain_errors, install_ipython_handler, install_message_display, show_error

__all__ = ["ErrorNote", "explain_errors", "install_ipython_handler", "install_message_display", "show_error"]
