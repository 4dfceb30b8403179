"""Notebook 02's "Your turn" exercises follow the course's convention: a markdown prompt
"**Your turn N.**", an empty code cell for the reader, then the worked solution, hidden
(tags solution + hide-cell, jupyter.source_hidden / outputs_hidden) and checked by nbval
(nbval-check-output), with the output it printed when the notebook was executed."""
from pathlib import Path

import nbformat

NB = Path(__file__).resolve().parent.parent / "notebooks" / "02_constructing_effects.ipynb"


def test_each_your_turn_has_an_empty_cell_and_a_hidden_checked_solution():
    cells = nbformat.read(NB, as_version=4).cells
    prompts = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("**Your turn")]
    assert 3 <= len(prompts) <= 5
    for n, i in enumerate(prompts, start=1):
        assert cells[i].source.startswith(f"**Your turn {n}.**")
        reader, solution = cells[i + 1], cells[i + 2]
        assert reader.cell_type == "code" and all(line.startswith("#") for line in reader.source.splitlines())
        assert solution.cell_type == "code"
        assert {"solution", "hide-cell", "nbval-check-output"} <= set(solution.metadata.get("tags", []))
        assert solution.metadata.get("jupyter") == {"source_hidden": True, "outputs_hidden": True}
        printed = "".join(o.get("text", "") for o in solution.outputs if o.output_type == "stream")
        assert any(ch.isdigit() for ch in printed), f"Your turn {n}: the solution prints no number"
