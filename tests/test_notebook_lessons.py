"""The chapter notebooks are lessons: "your turn" exercises with hidden, checked solutions, and
links into the glossary that land on its anchors.

The exercise convention (shared by every notebook): a markdown cell "**Your turn N.** ...", a
code cell for the reader (empty but for comments: nbclient skips a truly empty cell, which would
leave it unexecuted), then the worked solution: a code cell tagged ``solution`` and ``hide-cell``,
collapsed (``jupyter.source_hidden`` / ``outputs_hidden``), and tagged ``nbval-check-output`` so
that nbval compares the numbers it prints. The notebooks are read as committed.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CHAPTER = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
YOUR_TURN = re.compile(r"^\*\*Your turn (\d+)\.\*\*")
GLOSSARY_LINK = re.compile(r"\]\(07_glossary\.ipynb#([^)\s]+)\)")
GLOSSARY_IDS = {"blup", "shrinkage", "reml", "ml", "deviance", "lrt", "boundary", "satterthwaite",
                "singular-fit", "icc", "nested-crossed", "variance-component", "random-intercept",
                "random-slope", "fixed-effect", "confidence-interval", "profile-likelihood",
                "conditional-mode"}
# notebooks whose lessons are complete: objectives at the top, 3-5 exercises, a recap with the next link
LESSONS = {"03_model_selection.ipynb": "04_appendix_and_coding.ipynb",
           "04_appendix_and_coding.ipynb": "05_quiz.ipynb"}


def read(name):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def exercises(nb) -> list[tuple[int, int]]:
    """(number, cell index) of every "Your turn" markdown cell."""
    return [(int(m.group(1)), i) for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown" and (m := YOUR_TURN.match(c.source))]


def only_comments(source: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in source.splitlines())


@pytest.mark.parametrize("name", CHAPTER)
def test_your_turn_cells_follow_the_convention(name):
    nb = read(name)
    found = exercises(nb)
    assert [n for n, _ in found] == list(range(1, len(found) + 1)), f"{name}: exercises not numbered 1, 2, ..."
    for n, i in found:
        assert i + 2 < len(nb.cells), f"{name}: Your turn {n} has no solution cell"
        blank, solution = nb.cells[i + 1], nb.cells[i + 2]
        assert blank.cell_type == "code" and only_comments(blank.source), \
            f"{name}: Your turn {n} is not followed by an empty code cell for the reader"
        assert solution.cell_type == "code" and solution.source.strip(), f"{name}: Your turn {n}: no solution"
        tags = set(solution.metadata.get("tags", []))
        assert {"solution", "hide-cell", "nbval-check-output"} <= tags, \
            f"{name}: Your turn {n}: the solution is not tagged solution, hide-cell and nbval-check-output"
        assert solution.metadata.get("jupyter", {}) == {"source_hidden": True, "outputs_hidden": True}, \
            f"{name}: Your turn {n}: the solution is not collapsed"
        printed = [o for o in solution.get("outputs", []) if o.output_type in ("stream", "execute_result")]
        assert printed, f"{name}: Your turn {n}: the solution prints nothing for nbval to check"


@pytest.mark.parametrize("name", CHAPTER)
def test_glossary_links_use_the_glossary_anchors(name):
    nb = read(name)
    glossary = NOTEBOOKS / "07_glossary.ipynb"
    anchors = GLOSSARY_IDS
    if glossary.exists():   # the anchors the glossary's markdown really has (<a id="..."></a>)
        text = "\n".join(c.source for c in read(glossary.name).cells if c.cell_type == "markdown")
        anchors = set(re.findall(r"""<a\s+(?:id|name)=["']([^"']+)["']""", text))
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for anchor in GLOSSARY_LINK.findall(cell.source):
            assert anchor in GLOSSARY_IDS, f"{name} cell {i}: unknown glossary anchor #{anchor}"
            assert anchor in anchors, f"{name} cell {i}: 07_glossary.ipynb has no anchor #{anchor}"


@pytest.mark.parametrize("name", sorted(LESSONS))
def test_lesson_has_objectives_exercises_and_a_recap(name):
    nb = read(name)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert "By the end of this notebook you can" in markdown[0], f"{name}: no learning objectives at the top"
    assert 3 <= len(exercises(nb)) <= 5, f"{name}: {len(exercises(nb))} exercises, not 3-5"
    assert markdown[-1].startswith("## Recap"), f"{name}: the last cell is not the recap"
    assert f"]({LESSONS[name]})" in markdown[-1], f"{name}: the recap does not link to {LESSONS[name]}"
    assert GLOSSARY_LINK.search("\n".join(markdown)), f"{name}: no term links to the glossary"


def test_anchor_pattern_reads_html_anchors():
    text = '<a id="blup"></a> **BLUP** and <a name=\'reml\'></a>'
    assert set(re.findall(r"""<a\s+(?:id|name)=["']([^"']+)["']""", text)) == {"blup", "reml"}


def test_only_comments():
    assert only_comments("# Your turn 1: your code here\n")
    assert only_comments("")
    assert not only_comments("# a comment\nx = 1")
