"""The "your turn" exercises follow the course's convention (COMMON.md), in every notebook:

a markdown cell "**Your turn N.** ..." (N = 1, 2, ... in order), then an empty code cell for the
reader, then the worked solution: a code cell tagged ``solution`` and ``hide-cell`` whose source
and output are collapsed (``jupyter.source_hidden``/``outputs_hidden``), executed without error.
A solution whose output nbval compares (``nbval-check-output``) has its numbers tested; the others
must be tested by a pytest, and are listed here.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CHAPTER = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
QUESTION = re.compile(r"^\*\*Your turn (\d+)\.\*\*")
# (notebook, exercise number) whose solution's numbers a pytest checks instead of nbval
CHECKED_BY_PYTEST: set[tuple[str, int]] = set()


def exercises(nb) -> list[tuple[int, int]]:
    """(number, index of its markdown cell) of every exercise."""
    found = []
    for i, cell in enumerate(nb.cells):
        m = QUESTION.match(cell.source) if cell.cell_type == "markdown" else None
        if m:
            found.append((int(m.group(1)), i))
    return found


@pytest.mark.parametrize("path", CHAPTER, ids=lambda p: p.name)
def test_exercises_follow_the_convention(path):
    nb = nbformat.read(path, as_version=4)
    found = exercises(nb)
    assert [n for n, _ in found] == list(range(1, len(found) + 1)), f"{path.name}: exercises not numbered 1, 2, ..."
    for n, i in found:
        reader, solution = nb.cells[i + 1], nb.cells[i + 2]
        where = f"{path.name}, your turn {n}"
        assert reader.cell_type == "code" and "solution" not in reader.metadata.get("tags", []), \
            f"{where}: no code cell for the reader right after the question"
        assert solution.cell_type == "code", f"{where}: no solution cell after the reader's cell"
        tags = solution.metadata.get("tags", [])
        assert {"solution", "hide-cell"} <= set(tags), f"{where}: the solution lacks the solution/hide-cell tags"
        hidden = solution.metadata.get("jupyter", {})
        assert hidden.get("source_hidden") and hidden.get("outputs_hidden"), f"{where}: the solution is not collapsed"
        assert solution.get("execution_count") and solution.outputs, f"{where}: the solution is not executed"
        assert all(o.output_type != "error" for o in solution.outputs), f"{where}: the solution fails"
        assert "nbval-check-output" in tags or (path.name, n) in CHECKED_BY_PYTEST, \
            f"{where}: nothing tests the solution's numbers"


def test_the_question_pattern():
    assert QUESTION.match("**Your turn 3.** Compute the ICC.").group(1) == "3"
    assert not QUESTION.match("Your turn 3. Compute the ICC.")
