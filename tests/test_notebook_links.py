"""Links between the notebooks lead somewhere: every link into the glossary names one of its
anchors, the glossary has every anchor the course agreed on, and every link to a notebook names
a notebook of the course."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CHAPTER = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
GLOSSARY = NOTEBOOKS / "07_glossary.ipynb"
# fixed for every notebook of the course (other notebooks link to them)
ANCHORS = {"blup", "shrinkage", "reml", "ml", "deviance", "lrt", "boundary", "satterthwaite", "singular-fit",
           "icc", "nested-crossed", "variance-component", "random-intercept", "random-slope", "fixed-effect",
           "confidence-interval", "profile-likelihood", "conditional-mode"}
LINK = re.compile(r"\]\((\d\d_[A-Za-z0-9_]+\.ipynb)(?:#([^)\s]+))?\)")
ANCHOR = re.compile(r'<a id="([^"]+)"></a>')
# written on another branch of the course; linked from the chapter map before it lands
ELSEWHERE = {"09_for_instructors.ipynb"}


def links(path: Path) -> list[tuple[str, str | None]]:
    nb = nbformat.read(path, as_version=4)
    return [m.groups() for c in nb.cells if c.cell_type == "markdown" for m in LINK.finditer(c.source)]


def glossary_anchors() -> set[str]:
    nb = nbformat.read(GLOSSARY, as_version=4)
    return {a for c in nb.cells if c.cell_type == "markdown" for a in ANCHOR.findall(c.source)}


def test_the_glossary_has_every_agreed_anchor():
    missing = ANCHORS - glossary_anchors()
    assert not missing, f"the glossary lacks the anchors {sorted(missing)}"


def test_glossary_anchors_are_unique():
    nb = nbformat.read(GLOSSARY, as_version=4)
    found = [a for c in nb.cells if c.cell_type == "markdown" for a in ANCHOR.findall(c.source)]
    assert len(found) == len(set(found))


@pytest.mark.parametrize("path", CHAPTER, ids=lambda p: p.name)
def test_links_lead_to_notebooks_and_glossary_anchors(path):
    anchors = glossary_anchors()
    for target, anchor in links(path):
        if target in ELSEWHERE and not (NOTEBOOKS / target).exists():
            continue
        assert (NOTEBOOKS / target).exists(), f"{path.name} links to {target}, which does not exist"
        if target == GLOSSARY.name and anchor:
            assert anchor in anchors, f"{path.name} links to the glossary's #{anchor}, which it does not define"


def anchors_of(path: Path) -> set[str]:
    nb = nbformat.read(path, as_version=4)
    return {a for c in nb.cells if c.cell_type == "markdown" for a in ANCHOR.findall(c.source)}


@pytest.mark.parametrize("path", CHAPTER, ids=lambda p: p.name)
def test_anchored_links_name_an_explicit_anchor_of_their_notebook(path):
    """A link to a place in a notebook names an ``<a id="...">`` of that notebook, exactly: the web
    book's ids are case-sensitive (``#Notation`` is not ``#notation``), and JupyterLab finds such an
    anchor (as ``data-jupyter-id``) whatever it makes of the headings."""
    for target, anchor in links(path):
        if anchor and (NOTEBOOKS / target).exists():
            assert anchor in anchors_of(NOTEBOOKS / target), \
                f"{path.name} links to {target}#{anchor}, which has no <a id=\"{anchor}\"></a>"


def test_the_link_pattern_reads_a_glossary_link():
    text = "a [random intercept](07_glossary.ipynb#random-intercept) and [02](02_constructing_effects.ipynb)."
    assert [m.groups() for m in LINK.finditer(text)] == [("07_glossary.ipynb", "random-intercept"),
                                                          ("02_constructing_effects.ipynb", None)]
