"""End to end: glossary links in the course's JupyterLab as a student meets it
(``course_lab_server``: the environment's settings only), in headless Chromium.

What notebook 00 tells the reader, checked:

- a glossary link in a chapter notebook opens the glossary (JupyterLab 4.6 opens a notebook that
  was not open yet at its top: it looks for the anchor before the cells have rendered);
- the glossary's index at its top takes the reader to a term;
- once the glossary is open, a glossary link goes straight to its term.

JupyterLab's sanitizer turns the glossary's ``<a id="...">`` into ``data-jupyter-id``, which its
fragment navigation looks for. Screenshots go to tests/artifacts/ (not committed).
"""
from __future__ import annotations

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
LONG = 90_000
SCROLL = 4_000   # ms for a scroll to settle

pytestmark = pytest.mark.browser


def _heading_top(page, title: str) -> float:
    """Where the glossary heading ``title`` is now, in pixels from the top of the window."""
    return page.evaluate(
        """(t) => { const h = Array.from(document.querySelectorAll('.jp-RenderedMarkdown h3'))
                    .find(h => h.textContent.startsWith(t));
                    return h ? h.getBoundingClientRect().y : null; }""", title)


def _current(page) -> str:
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.context.path")


def _in_view(page, title: str) -> bool:
    y = _heading_top(page, title)
    return y is not None and 0 <= y < page.viewport_size["height"] / 2


def test_glossary_links_reach_their_terms(course_lab_server, browser_page):
    page, lab = browser_page, course_lab_server
    page.goto(lab.notebook_url("01_conceptualizations.ipynb"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=LONG)
    page.wait_for_function("() => !!window.jupyterapp", timeout=LONG)
    page.locator(".jp-RenderedMarkdown a[href*='07_glossary.ipynb']:visible",
                 has_text="intraclass correlation").first.click()
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.context.path.endsWith('07_glossary.ipynb')",
                           timeout=LONG)
    page.wait_for_function("() => Array.from(document.querySelectorAll('.jp-RenderedMarkdown h3'))"
                           ".some(h => h.textContent.startsWith('Fixed effect'))", timeout=LONG)
    page.wait_for_timeout(SCROLL)
    assert not _in_view(page, "Variance component")
    # the index at the top of the glossary
    page.locator(".jp-RenderedMarkdown a[href='#variance-component']:visible").first.click()
    page.wait_for_timeout(SCROLL)
    assert _in_view(page, "Variance component")
    # back in 01, with the glossary open: the next link goes straight to its term
    page.locator(".lm-TabBar-tab", has_text="01_conceptualizations").first.click()
    page.wait_for_timeout(1_000)
    page.locator(".jp-RenderedMarkdown a[href*='07_glossary.ipynb']:visible", has_text="random intercept").first.click()
    page.wait_for_timeout(SCROLL)
    assert _current(page) == "07_glossary.ipynb"
    page.screenshot(path=str(ARTIFACTS / "glossary_link_random_intercept.png"))
    assert _in_view(page, "Random intercept")
    assert not _in_view(page, "Variance component")
