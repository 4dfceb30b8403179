"""End to end: the course's JupyterLab as a student meets it, in headless Chromium.

- No "Would you like to get notified about official Jupyter news?" toast when the course opens:
  the environment's settings (jupyter/lab/settings/overrides.json, installed by ``make setup``)
  say ``fetchNews: "false"`` and ``checkForUpdates: false``. A control run without them shows the
  toast, so the check does see one when it is there.
- Live RISE slides show ipywidgets: Alt+R in a notebook opens jupyterlab-rise's slideshow beside
  it, and a slider on a slide is drawn and moves the kernel's value (the stand-in
  jupyter/labextensions/mlmcourse-rise-widgets makes the widget manager load in RISE's app).

These use ``course_lab_server`` (no test settings, a fresh user-settings folder). Screenshots go to
tests/artifacts/ (not committed).
"""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = pytest.mark.browser

LONG = 90_000   # ms: generous waits on conditions
SETTLE = 6_000  # ms: how long a toast gets to appear (the news one comes soon after JupyterLab is restored)
TOAST = ".Toastify__toast, .jp-Notification-Toast, .jp-toast-message"
NEWS = "official Jupyter news"
NOTEBOOK = "rise_widget_check.ipynb"
STAND_IN = "mlmcourse-rise-widgets"


def _open_course(page, lab) -> None:
    """Open the course's first notebook in a fresh workspace; wait until JupyterLab is restored."""
    page.goto(lab.notebook_url("00_start_here.ipynb"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=LONG)
    page.wait_for_function("() => !!window.jupyterapp", timeout=LONG)
    page.evaluate("() => window.jupyterapp.restored")


def _news_toasts(page) -> list[str]:
    """The text of every toast that mentions news, after giving one time to appear."""
    try:
        page.wait_for_function(
            """([sel, word]) => Array.from(document.querySelectorAll(sel)).some(t => t.textContent.includes(word))""",
            arg=[TOAST, "news"], timeout=SETTLE)
    except Exception:  # playwright's TimeoutError: no toast about news within SETTLE
        pass
    return [t for t in page.locator(TOAST).all_inner_texts() if "news" in t.lower()]


def test_no_news_toast_when_the_course_opens(course_lab_server, browser_page):
    page, lab = browser_page, course_lab_server
    _open_course(page, lab)
    toasts = _news_toasts(page)
    page.screenshot(path=str(ARTIFACTS / "lab_first_open_no_news.png"))
    assert toasts == [], f"a news toast appeared: {toasts}"
    # the defaults JupyterLab serves are the course's, not its own ("none" = ask); the student
    # has set nothing
    served = _lab_settings(lab, "@jupyterlab/apputils-extension:notification")
    defaults = {name: prop.get("default") for name, prop in served["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults
    assert served["settings"] == {}, served["settings"]
    # the RISE stand-in is loaded here too but leaves JupyterLab's own @jupyterlab/console alone
    assert page.evaluate(f"() => window._JUPYTERLAB['{STAND_IN}'].addedStandIn") is False


def _lab_settings(lab, plugin: str) -> dict:
    """What the server hands the page for ``plugin``: its schema (defaults with the environment's
    overrides applied) and the user's own settings."""
    req = urllib.request.Request(f"{lab.url}lab/api/settings/{plugin}",
                                 headers={"Authorization": f"token {lab.token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_without_the_course_settings_the_toast_does_appear(tmp_path, start_lab, browser_page):
    """Control: JupyterLab's own defaults ask about news, and the check above sees that toast."""
    empty = tmp_path / "no-app-settings"
    empty.mkdir()
    with start_lab(tmp_path / "lab", test_settings=False,
                 extra_args=(f"--LabApp.app_settings_dir={empty}",)) as lab:
        page = browser_page
        _open_course(page, lab)
        toasts = _news_toasts(page)
        page.screenshot(path=str(ARTIFACTS / "lab_first_open_news_control.png"))
    assert any(NEWS in t for t in toasts), f"no news toast without the course's settings: {toasts}"


def _write_notebook(root: Path) -> None:
    def cell(kind, source, slide="slide"):
        c = {"cell_type": kind, "metadata": {"slideshow": {"slide_type": slide}}, "source": source}
        if kind == "code":
            c.update(execution_count=None, outputs=[])
        return c

    nb = {"cells": [cell("markdown", ["# A slide with a widget"]),
                    cell("code", ["import ipywidgets as w\n", "s = w.IntSlider(value=3, description='x')\n", "s"],
                         slide="-")],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (root / NOTEBOOK).write_text(json.dumps(nb))


def test_a_widget_on_a_live_rise_slide(course_lab_server, browser_page):
    page, lab = browser_page, course_lab_server
    logs = []
    page.on("console", lambda m: logs.append(m.text))
    _write_notebook(lab.root)
    lab.open_and_run_all(page, NOTEBOOK)
    page.locator(".jp-Notebook .widget-slider").first.wait_for(state="visible", timeout=LONG)

    # what the README tells the instructor to press: Alt+R on the notebook (command mode)
    slide = lab.open_rise(page, timeout=LONG)
    slider = slide.locator(".jupyter-widgets.widget-slider").first
    try:
        slider.wait_for(state="visible", timeout=LONG)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "rise_widget_missing.png"))
        shown = slide.locator(".jp-OutputArea-output").all_inner_texts()
        log = [line for line in logs if "Maximum call stack" not in line]  # RISE floods the log with these
        pytest.fail(f"no widget on the RISE slide; the output shows {shown!r}. Browser log:\n" + "\n".join(log[-30:]))
    readout = slider.locator(".widget-readout")
    assert readout.inner_text().strip() == "3"
    assert slide.locator(".jp-OutputArea-output pre", has_text="IntSlider(").count() == 0
    page.screenshot(path=str(ARTIFACTS / "rise_slide_widget.png"))

    # the slide's widget is live: dragging its handle changes the kernel's value (the arrow keys
    # go to the slideshow, not to the slider)
    handle = slider.locator(".noUi-handle").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    shown = None
    for _ in range(100):  # the change reaches the page's readout and the kernel: poll briefly
        shown = readout.inner_text().strip()
        if shown != "3" and lab.kernel_eval(page, "s.value", NOTEBOOK) == shown:
            break
        page.wait_for_timeout(200)
    assert shown != "3", "dragging the slider on the slide did not move it"
    assert lab.kernel_eval(page, "s.value", NOTEBOOK) == shown, "the kernel did not get the slide's slider value"
    page.screenshot(path=str(ARTIFACTS / "rise_slide_widget_moved.png"))
    # it was the stand-in that let the widget manager load in RISE's app
    rise = next(f for f in page.frames if "/rise/" in f.url)
    assert rise.evaluate(f"() => window._JUPYTERLAB['{STAND_IN}'].addedStandIn") is True
