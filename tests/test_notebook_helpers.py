"""explain_errors / show_error: a CourseError becomes a short note; other errors still raise."""
import pytest

from mlmcourse import CourseError
from mlmcourse.notebook import ErrorNote, explain_errors, show_error


def _fail(msg="Models were fitted to different rows. Fit both on the same rows."):
    raise CourseError(msg)


def test_show_error_returns_a_note():
    note = show_error(_fail)
    assert isinstance(note, ErrorNote)
    assert repr(note) == "CourseError: Models were fitted to different rows. Fit both on the same rows."
    html = note._repr_html_()
    assert 'role="alert"' in html and "different rows" in html and "Traceback" not in html


def test_show_error_passes_results_through():
    assert show_error(lambda a, b=1: a + b, 2, b=3) == 5


def test_html_is_escaped():
    assert "&lt;b&gt;" in show_error(_fail, "<b>bold</b>")._repr_html_()


def test_explain_errors_displays_and_continues(monkeypatch):
    shown = []
    import IPython.display
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    with explain_errors():
        _fail()
    assert len(shown) == 1 and isinstance(shown[0], ErrorNote)
    with explain_errors():
        pass
    assert len(shown) == 1


def test_other_errors_keep_their_traceback():
    with pytest.raises(ZeroDivisionError), explain_errors():
        1 / 0  # noqa: B018
    with pytest.raises(KeyError):
        show_error(lambda: {}["x"])
