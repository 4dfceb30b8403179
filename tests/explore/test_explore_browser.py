"""End to end: an exploration in the course's JupyterLab, driven in headless Chromium.

Writes a small notebook that shows ``icc_explorer()`` into the server's temporary copy of the
notebooks (the committed notebooks are never touched), runs it, moves the sigma_zeta slider with
the keyboard and waits until the figure's image is replaced by a different one. Screenshots
before and after go to tests/artifacts/ (not committed).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = pytest.mark.browser

NOTEBOOK = "explore_browser_check.ipynb"
LONG = 90_000  # ms: generous waits on conditions, never fixed sleeps
BOX = ".mlm-explore-icc-and-dependence"
IMAGE = f".jp-Cell:has({BOX}) .jp-OutputArea-output img"


def _write_notebook(root) -> None:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": ["from mlmcourse.explore import icc_explorer\n", "explorer = icc_explorer()\n", "explorer"]}
    nb = {"cells": [cell], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (root / NOTEBOOK).write_text(json.dumps(nb))


def test_moving_a_slider_replaces_the_figure(lab_server, browser_page):
    page, lab = browser_page, lab_server
    _write_notebook(lab.root)
    lab.open_and_run_all(page, NOTEBOOK)

    image = page.locator(IMAGE).last
    image.wait_for(state="visible", timeout=LONG)
    before = image.get_attribute("src")
    assert before.startswith("data:image/png;base64,") and len(before) > 10_000
    slider = page.locator(f"{BOX} .widget-slider").first
    readout = slider.locator(".widget-readout")
    assert readout.inner_text().strip() == "17.6"
    page.locator(BOX).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "explore_icc_before.png"))

    handle = slider.locator(".noUi-handle").first
    handle.focus()
    start = time.perf_counter()
    page.keyboard.press("ArrowRight")         # one step: the figure is redrawn and sent
    _wait_for_new_image(page, before)
    round_trip = time.perf_counter() - start
    for _ in range(9):                        # more steps; the last state must win
        page.keyboard.press("ArrowRight")
    final = readout.inner_text().strip()
    assert float(final) > 17.6
    # the description under the controls and the image follow the last value
    page.wait_for_function(
        """([box, text]) => {
            const d = document.querySelector(box + ' details');
            return !!d && d.textContent.includes(text);
        }""", arg=[BOX, f"sigma_zeta {float(final):g},"], timeout=LONG)
    after = page.locator(IMAGE).last.get_attribute("src")
    assert after != before and after.startswith("data:image/png;base64,")
    # the kernel's exploration agrees with the page; a burst of changes costs at most one redraw each
    assert float(lab.kernel_eval(page, "explorer.values['sigma_zeta']")) == float(final)
    redraws = int(lab.kernel_eval(page, "explorer.updates"))
    assert 1 <= redraws <= 10
    page.locator(BOX).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "explore_icc_after.png"))
    print(f"one slider step -> new image in the page: {round_trip * 1000:.0f} ms; "
          f"10 key presses -> {redraws} redraws; last redraw in the kernel "
          f"{lab.kernel_eval(page, 'round(explorer.last_ms)')} ms")


def _wait_for_new_image(page, old: str) -> None:
    page.wait_for_function(
        """([sel, old]) => {
            const imgs = document.querySelectorAll(sel);
            const img = imgs[imgs.length - 1];
            return !!img && img.src !== old;
        }""", arg=[IMAGE, old], timeout=LONG)
