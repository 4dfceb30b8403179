"""The chapter notebooks' code cells are what a student would type.

- nbval's markers live in cell tags (``nbval-check-output``, ``nbval-ignore-output``), not in
  ``# NBVAL_...`` comments; alt text lives in cell metadata (``mlmcourse.alt``) and in the
  caption under the figure, not in ``alt=`` strings in the code;
- every image of the committed (executed) notebooks carries alt text, which
  ``python -m mlmcourse execute`` attaches from the cells' metadata;
- the pinned nbval honours the tags (checked on a tiny notebook whose outputs are broken on purpose).

The notebooks are read as committed: run ``make execute`` after changing them.
"""
from __future__ import annotations

import base64
import itertools
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from mlmcourse.__main__ import main as course_main
from mlmcourse.tools.execute import cell_alt

PROJECT = Path(__file__).resolve().parent.parent
NOTEBOOKS = PROJECT / "notebooks"
CHAPTER = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))   # every notebook of the course
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
NBVAL_TAGS = {"nbval-check-output", "nbval-ignore-output", "nbval-skip", "nbval-raises-exception",
              "raises-exception"}
MARKER = re.compile(r"#\s*(NBVAL_|PYTEST_VALIDATE_)")
ALT_IN_CODE = re.compile(r"\balt\s*=")


@pytest.fixture(scope="module", params=CHAPTER)
def notebook(request):
    return request.param, nbformat.read(NOTEBOOKS / request.param, as_version=4)


def code_cells(nb):
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def images(cell):
    return [out for out in cell.get("outputs", []) if out.get("output_type") in ("display_data", "execute_result")
            and any(t in out.get("data", {}) for t in IMAGE_TYPES)]


def test_no_nbval_marker_comments_and_no_alt_strings_in_code(notebook):
    name, nb = notebook
    for i, cell in code_cells(nb):
        assert not MARKER.search(cell.source), f"{name} cell {i}: an nbval marker comment; use a cell tag"
        assert not ALT_IN_CODE.search(cell.source), f"{name} cell {i}: alt text in code; use metadata.mlmcourse.alt"


def test_nbval_markers_are_known_tags(notebook):
    """A misspelt tag would silently leave a cell unchecked."""
    name, nb = notebook
    for i, cell in code_cells(nb):
        tags = cell.metadata.get("tags", [])
        assert isinstance(tags, list)
        nbval = [t for t in tags if t.startswith("nbval") or "exception" in t]
        assert set(nbval) <= NBVAL_TAGS, f"{name} cell {i}: unknown nbval tag {nbval}"
        assert not {"nbval-check-output", "nbval-ignore-output"} <= set(tags), f"{name} cell {i}: both tags"


def test_some_outputs_are_checked(notebook):
    """Each notebook with computed results has cells whose output nbval compares."""
    name, nb = notebook
    if name == "05_quiz.ipynb":
        pytest.skip("the quiz notebook shows only widgets; tests/quiz checks their numbers")
    if name == "08_references.ipynb":
        pytest.skip("the references notebook computes nothing (its one cell prints the reader's package versions)")
    checked = [i for i, c in code_cells(nb) if "nbval-check-output" in c.metadata.get("tags", [])]
    assert checked, f"{name}: no cell is tagged nbval-check-output"


def test_every_image_has_alt_text(notebook):
    name, nb = notebook
    for i, cell in code_cells(nb):
        for out in images(cell):
            kind = next(t for t in IMAGE_TYPES if t in out["data"])
            alt = out.get("metadata", {}).get(kind, {}).get("alt", "")
            assert len(alt.strip()) > 20, f"{name} cell {i}: an image without alt text"


def test_alt_text_of_a_figure_cell_is_its_caption(notebook):
    """JupyterLab shows the caption when a student re-runs the cell (the output then has no alt
    text); the caption and the committed alt text say the same."""
    name, nb = notebook
    for i, cell in code_cells(nb):
        alts = cell_alt(cell)
        if not alts:
            assert not images(cell) or all(
                out.get("metadata", {}).get("image/png", {}).get("alt") for out in images(cell)), \
                f"{name} cell {i}: a figure without alt metadata"
            continue
        assert images(cell), f"{name} cell {i}: alt metadata but no image output (not executed?)"
        following = next((c for c in nb.cells[i + 1:] if c.cell_type == "markdown"), None)
        assert following is not None and all(a in following.source for a in alts), \
            f"{name} cell {i}: the markdown cell after the figure does not say its alt text"
        for out in images(cell):
            assert out["metadata"]["image/png"]["alt"] in alts


def test_code_cells_are_short():
    """Cells show one idea each: styling and alt text do not lengthen them."""
    for name in CHAPTER:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        for i, cell in code_cells(nb):
            lines = cell.source.splitlines()
            assert len(lines) <= 20, f"{name} cell {i}: {len(lines)} lines"
            assert max((len(x) for x in lines), default=0) <= 120, f"{name} cell {i}: a line over 120 characters"


# what may follow a lead-in that ends with a colon inside the same cell: math, a list, a table, a code block, HTML
INTRODUCED = re.compile(r"\s*(\$\$|[-*] |\d+\. |\||```|<|>)")


def test_a_lead_in_with_a_colon_is_followed_by_what_it_introduces(notebook):
    """A paragraph ending with ':' introduces what comes right after it. Inside a cell that is math,
    a list, a table or a block; a sentence that introduces a code cell ends its markdown cell, so
    that it stands directly above the code (not above the glossary's "In the course" paragraph)."""
    name, nb = notebook
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        paragraphs = [p for p in re.split(r"\n\s*\n", cell.source.strip()) if p.strip()]
        for lead, after in itertools.pairwise(paragraphs):
            assert not lead.rstrip().endswith(":") or INTRODUCED.match(after), \
                f"{name} cell {i}: {lead[-60:]!r} is followed by {after[:40]!r}; end the cell after the lead-in"


# --- a tiny notebook in a real kernel ---------------------------------------------------------

PNG_1PX = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _tiny_notebook(path: Path) -> None:
    figure = new_code_cell("import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0]);")
    figure.metadata["mlmcourse"] = {"alt": "A line falling from 1 to 0."}
    own_alt = new_code_cell("from IPython.display import Image, display\nimport base64\n"
                            f"display(Image(base64.b64decode('{PNG_1PX}')),\n"
                            "        metadata={'image/png': {'alt': 'own'}})")
    two = new_code_cell("import matplotlib.pyplot as plt\nplt.figure(); plt.plot([1, 2])\nplt.show()\n"
                        "plt.figure(); plt.plot([2, 1]);")
    two.metadata["mlmcourse"] = {"alt": ["first figure", "second figure"]}
    bare = new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 1]);")
    nb = new_notebook(cells=[figure, new_markdown_cell("**Figure.** A line falling from 1 to 0."), own_alt, two, bare])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.mark.slow
def test_execute_attaches_the_cells_alt_text_to_their_images(tmp_path, capsys):
    path = tmp_path / "00_tiny.ipynb"
    _tiny_notebook(path)
    assert course_main(["execute", str(path)]) == 0
    nb = nbformat.read(path, as_version=4)
    alts = [[out["metadata"].get("image/png", {}).get("alt") for out in images(c)] for c in nb.cells
            if c.cell_type == "code"]
    assert alts == [["A line falling from 1 to 0."], ["own"], ["first figure", "second figure"], [None]]
    err = capsys.readouterr().err
    assert "images without alt text in cell 4" in err


@pytest.mark.slow
def test_the_pinned_nbval_reads_the_tags(tmp_path):
    """Break the stored output of two cells: nbval (--nbval-lax, as configured) reports the one
    tagged nbval-check-output and passes the one tagged nbval-ignore-output."""
    checked = new_code_cell("print(6 * 7)")
    checked.metadata["tags"] = ["nbval-check-output"]
    checked.outputs = [new_output("stream", name="stdout", text="41\n")]     # broken on purpose
    ignored = new_code_cell("print(6 * 7)")
    ignored.metadata["tags"] = ["nbval-ignore-output"]
    ignored.outputs = [new_output("stream", name="stdout", text="41\n")]     # broken, but ignored
    untagged = new_code_cell("print(6 * 7)")
    untagged.outputs = [new_output("stream", name="stdout", text="41\n")]    # --nbval-lax: not compared
    good = new_code_cell("print(6 * 7)")
    good.metadata["tags"] = ["nbval-check-output"]
    good.outputs = [new_output("stream", name="stdout", text="42\n")]
    cells = [checked, ignored, untagged, good]
    for k, c in enumerate(cells, start=1):
        c.execution_count = k
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "tags.ipynb")
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "addopts=",
                          "--nbval-lax", "--nbval-current-env", str(tmp_path / "tags.ipynb")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    summary = run.stdout.strip().splitlines()[-1]
    assert "1 failed, 3 passed" in summary, run.stdout[-3000:]
    assert "Cell 0" in run.stdout or "cell 0" in run.stdout.lower(), run.stdout[-3000:]


def test_png_constant_is_a_png():
    assert base64.b64decode(PNG_1PX)[:8] == b"\x89PNG\r\n\x1a\n"
