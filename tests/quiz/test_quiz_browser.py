"""End to end: the quiz notebook in the course's JupyterLab, driven in headless Chromium.

Opens notebooks/05_quiz.ipynb, runs every cell, types an answer, presses Check, sees the model
answer; then stops the kernel, reloads the page, runs the cells again and finds the answer
restored from the saved file. Screenshots go to tests/artifacts/ (not committed).
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = pytest.mark.browser
expect = pytest.importorskip(
    "playwright.sync_api", reason="browser test skipped: the playwright package is not installed").expect

NOTEBOOK = "05_quiz.ipynb"
ANSWER = "i counts students, j classrooms and k schools; beta_0k carries only k (browser test)"
LONG = 90_000  # ms: generous waits on conditions, never fixed sleeps


def _textarea_value(page, value):
    page.wait_for_function(
        """(v) => Array.from(document.querySelectorAll('.mlm-q-1-A textarea')).some(t => t.value === v)""",
        arg=value, timeout=LONG)


def _saved_answer(lab, checked=True):
    """Poll the student's answers database until 1-A is saved (and checked, if asked)."""
    from mlmcourse.quiz.answerdb import latest

    path = lab.answers_dir / "answers.sqlite3"
    deadline = time.time() + 30
    entry = {}
    while time.time() < deadline:
        if path.exists():
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)  # read as another program would
            try:
                entry = latest(conn, 2).get("1-A", {})
            except sqlite3.Error:  # not created yet
                entry = {}
            finally:
                conn.close()
            if entry.get("answer") == ANSWER and (entry.get("checked") or not checked):
                return entry
        time.sleep(0.2)
    return entry


def _screenshot(page, locator, name, field="textarea"):
    locator.scroll_into_view_if_needed()
    expect(locator.locator(field)).to_be_in_viewport(timeout=LONG)
    page.screenshot(path=str(ARTIFACTS / name))


def test_quiz_answer_check_and_restore_in_jupyterlab(lab_server, browser_page):
    page, lab = browser_page, lab_server
    t0 = time.time()
    lab.open_and_run_all(page, NOTEBOOK)

    textarea = page.locator(".mlm-q-1-A textarea").last
    textarea.wait_for(state="visible", timeout=LONG)
    _textarea_value(page, "")  # the fresh quiz: nothing saved yet
    textarea.click()
    page.keyboard.type(ANSWER)
    typed = _saved_answer(lab, checked=False)  # saved while typing, before any Check
    assert typed.get("answer") == ANSWER and not typed.get("checked")
    page.locator(".mlm-q-1-A button.mlm-check").last.click()
    feedback = page.locator(".mlm-q-1-A .mlm-feedback").last
    feedback.get_by_text("Model answer").wait_for(timeout=LONG)
    assert "Key points" in feedback.inner_text()
    _screenshot(page, page.locator(".mlm-q-1-A").last, "quiz_checked.png")

    entry = _saved_answer(lab)
    assert entry.get("answer") == ANSWER, "the answer was not saved to the student's answers file"

    # a live numeric question: the kernel fits the model and explains the typical slip
    numeric = page.locator(".mlm-q-L-1").last
    numeric.locator("input").fill("0.24")
    numeric.locator("button.mlm-check").click()
    numeric.locator(".mlm-feedback").get_by_text("standard deviations").wait_for(timeout=LONG)
    assert "Not quite" in numeric.locator(".mlm-feedback").inner_text()
    numeric.locator("input").fill("0.091")
    numeric.locator("button.mlm-check").click()
    numeric.locator(".mlm-feedback").get_by_text("Correct.").wait_for(timeout=LONG)
    _screenshot(page, numeric, "quiz_numeric.png", "input")

    # come back later: kernel gone, page reloaded, cells run again
    lab.shutdown_kernels()
    page.reload()
    lab.open_and_run_all(page, NOTEBOOK)
    _textarea_value(page, ANSWER)
    restored = page.locator(".mlm-q-1-A").last
    restored.locator(".mlm-feedback").get_by_text("Model answer").wait_for(timeout=LONG)
    _screenshot(page, restored, "quiz_restored.png")
    lab.shutdown_kernels()  # leave the shared server as we found it
    assert time.time() - t0 < 150


def test_lecture_mode_hides_solutions_until_the_instructor_reveals(lab_server, browser_page):
    import nbformat

    page, lab = browser_page, lab_server
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("from mlmcourse.lecture import lecture_mode\nlecture_mode()"),
                nbformat.v4.new_code_cell("from mlmcourse.quiz import Quiz\nquiz = Quiz(chapter=2)\nquiz.header()"),
                nbformat.v4.new_code_cell('quiz.section("self-assessment")')]
    nbformat.write(nb, lab.root / "lecture_check.ipynb")
    page.goto(lab.notebook_url("lecture_check.ipynb"))
    page.wait_for_function(
        """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                   const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
                   return !!k && k.status === 'idle' && w.context.path.endsWith('lecture_check.ipynb'); }""",
        timeout=LONG)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    q = page.locator(".mlm-q-1-B").last
    q.locator("textarea").wait_for(state="visible", timeout=LONG)
    q.locator("textarea").fill("zeta_k is shared by the students of a school")
    q.locator("button.mlm-check").click()
    q.locator(".mlm-feedback").get_by_text("instructor reveals").wait_for(timeout=LONG)
    assert "Model answer" not in q.locator(".mlm-feedback").inner_text()
    reveal = page.locator("button.mlm-reveal").last
    reveal.scroll_into_view_if_needed()
    reveal.click()
    q.locator(".mlm-feedback").get_by_text("Model answer").wait_for(timeout=LONG)
    _screenshot(page, q, "quiz_lecture_revealed.png")
    lab.shutdown_kernels()


def _whole_quiz_notebook(root: Path, name: str) -> None:
    """A notebook whose one code cell ends with a bare ``quiz``: the whole quiz as one widget."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# The whole quiz", metadata={"slideshow": {"slide_type": "slide"}}),
                nbformat.v4.new_code_cell("from mlmcourse.quiz import Quiz\nquiz = Quiz(chapter=2)\nquiz",
                                          metadata={"slideshow": {"slide_type": "-"}})]
    nbformat.write(nb, root / name)


def _shows_the_whole_quiz(where) -> None:
    """Header, a question of the first and of the last section, and the export button, as widgets."""
    where.locator(".mlm-student input").first.wait_for(state="attached", timeout=LONG)
    for selector in (".mlm-q-1-A textarea", ".mlm-q-H-1 input", "button.mlm-export"):
        assert where.locator(selector).count() >= 1, selector
    assert where.locator(".jp-OutputArea-output pre", has_text="Quiz(").count() == 0  # not the text fallback
    assert where.locator(".mlm-static-quiz").count() == 0                               # nor the HTML one


def test_a_bare_quiz_shows_the_whole_quiz_in_jupyterlab_and_on_a_rise_slide(course_lab_server, browser_page):
    page, lab = browser_page, course_lab_server
    _whole_quiz_notebook(lab.root, "whole_quiz.ipynb")
    lab.open_and_run_all(page, "whole_quiz.ipynb")
    notebook = page.locator(".jp-Notebook")
    _shows_the_whole_quiz(notebook)
    page.screenshot(path=str(ARTIFACTS / "quiz_whole.png"))
    # the same on a live RISE slide (Alt+R in command mode, as the README tells the instructor)
    slide = lab.open_rise(page, timeout=LONG)
    slide.locator(".mlm-q-1-A textarea").first.wait_for(state="visible", timeout=LONG)
    _shows_the_whole_quiz(slide)
    page.screenshot(path=str(ARTIFACTS / "quiz_whole_rise.png"))
    lab.shutdown_kernels()
