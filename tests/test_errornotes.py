"""explain_errors / show_error: a CourseError becomes a short note; other errors still raise.
In a real IPython shell, a CourseError that ends a cell shows as that note, without a traceback."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlmcourse import CourseError
from mlmcourse.errornotes import ErrorNote, explain_errors, show_error


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


# -- the IPython handler: a CourseError that ends a cell shows as the note, without a traceback --
_SHELL_SCRIPT = r'''
import contextlib, io, json, re, sys
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
shell.display_pub = CapturingDisplayPublisher()
ansi = re.compile(r"\x1b\[[0-9;]*m")


def run(code):
    shell.display_pub.clear_output()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        result = shell.run_cell(code)
    err = result.error_in_exec
    return {"printed": ansi.sub("", out.getvalue()), "success": result.success,
            "error": type(err).__name__ if err is not None else None,
            "shown": [o["data"] for o in shell.display_pub.outputs]}


report = {"import": run("import mlmcourse\nfrom mlmcourse import CourseError, lmer")}
report["installed"] = shell.custom_exceptions == (sys.modules["mlmcourse"].CourseError,)
report["course"] = run("raise CourseError('Models were fitted to different rows. Fit both on the same rows.')")
report["last_value"] = str(sys.last_value)
report["deep"] = run("lmer('mathkind ~ ses + (1|schoolid)', data=[1, 2, 3])")
report["other"] = run("1 / 0")
report["ok"] = run("x = 1 + 1")
shell.set_custom_exc((KeyError,), lambda *a, **k: None)  # someone else's handler is left alone
from mlmcourse.errornotes import install_ipython_handler
report["respects_other"] = (install_ipython_handler(), shell.custom_exceptions == (KeyError,))
print("REPORT" + json.dumps(report))
'''


@pytest.fixture(scope="module")
def shell_report():
    proc = subprocess.run([sys.executable, "-c", _SHELL_SCRIPT], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[1])
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("REPORT")), None)
    assert line, proc.stdout + proc.stderr
    return json.loads(line[len("REPORT"):])


def test_ipython_handler_is_installed_on_import(shell_report):
    assert shell_report["import"]["success"] and shell_report["installed"]


def test_course_error_in_a_cell_shows_the_note_not_a_traceback(shell_report):
    cell = shell_report["course"]
    assert not cell["success"] and cell["error"] == "CourseError"  # the cell still fails
    assert "Traceback" not in cell["printed"] and "raise CourseError" not in cell["printed"]
    (shown,) = cell["shown"]
    assert shown["text/plain"] == ("CourseError: Models were fitted to different rows. "
                                   "Fit both on the same rows.")
    assert 'role="alert"' in shown["text/html"] and "different rows" in shown["text/html"]
    assert shell_report["last_value"] == "Models were fitted to different rows. Fit both on the same rows."


def test_course_error_from_inside_the_package_has_no_package_frames(shell_report):
    cell = shell_report["deep"]
    assert cell["error"] == "CourseError" and "mlmcourse" not in cell["printed"]
    assert cell["shown"][0]["text/plain"].startswith("CourseError: data= must be a pandas DataFrame")


def test_other_exceptions_keep_their_ipython_traceback(shell_report):
    cell = shell_report["other"]
    assert cell["error"] == "ZeroDivisionError" and not cell["shown"]
    assert "ZeroDivisionError" in cell["printed"] and "Traceback" in cell["printed"]
    assert shell_report["ok"]["success"] and shell_report["ok"]["printed"] == ""


def test_another_custom_handler_is_left_alone(shell_report):
    assert shell_report["respects_other"] == [False, True]


def test_outside_ipython_nothing_is_installed():
    from mlmcourse.errornotes import install_ipython_handler
    ipython = sys.modules.get("IPython")
    if ipython is not None and ipython.get_ipython() is not None:
        pytest.skip("an IPython shell runs in this test process")
    assert install_ipython_handler() is False


def test_a_course_message_prints_as_r_prints_it(capsys):
    """anova's "refitting model(s) with ML (instead of REML)" is a warning (callers can filter it)
    shown as R shows its message: the text alone, no file name, category or source line."""
    import warnings

    from mlmcourse.engine.compare import RefitMessage
    from mlmcourse.errornotes import install_message_display

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        install_message_display()
        warnings.warn("refitting model(s) with ML (instead of REML)", RefitMessage, stacklevel=1)
    assert capsys.readouterr().err == "refitting model(s) with ML (instead of REML)\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RefitMessage)           # and a caller can still silence it
        warnings.warn("refitting model(s) with ML (instead of REML)", RefitMessage, stacklevel=1)
    assert capsys.readouterr().err == ""


def test_the_notebooks_import_path_still_works():
    """Notebook 03 imports ``from mlmcourse.notebook import explain_errors``: the same objects."""
    from mlmcourse import errornotes, notebook
    for name in errornotes.__all__:
        assert getattr(notebook, name) is getattr(errornotes, name)
