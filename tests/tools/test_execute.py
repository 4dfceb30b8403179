"""mlmcourse.tools.execute: runs notebooks in place in a fresh kernel, in name order, from their folder,
and attaches each figure cell's alt text (from its metadata) to its images."""
import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from mlmcourse.__main__ import main as course_main
from mlmcourse.errors import CourseError
from mlmcourse.tools.execute import STABLE_ENV, attach_alt_text, cell_alt, notebooks_in


def main(argv):
    return course_main(["execute", *argv])


def _write(path, *sources):
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_notebooks_in_name_order(tmp_path):
    for name in ("02_b.ipynb", "00_a.ipynb", "notes.txt"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in notebooks_in([str(tmp_path)])] == ["00_a.ipynb", "02_b.ipynb"]
    with pytest.raises(CourseError, match="not a notebook"):
        notebooks_in([str(tmp_path / "missing.ipynb")])


@pytest.mark.slow
def test_executes_in_place_from_the_notebook_folder(tmp_path, capsys):
    (tmp_path / "data.txt").write_text("found")
    nb_path = tmp_path / "00_check.ipynb"
    _write(nb_path, "print(open('data.txt').read())",
           "import os, matplotlib; print(os.environ['PYTHONHASHSEED'], matplotlib.get_backend())")
    before = dict(os.environ)
    assert main([str(tmp_path)]) == 0
    assert dict(os.environ) == before   # the kernel got the settings, this process keeps its own
    nb = nbformat.read(nb_path, as_version=4)
    texts = [o.text for c in nb.cells for o in c.outputs if o.output_type == "stream"]
    assert texts[0] == "found\n"
    assert texts[1].split()[0] == STABLE_ENV["PYTHONHASHSEED"]
    assert "inline" in texts[1]
    assert "total" in capsys.readouterr().out


@pytest.mark.slow
def test_a_failing_cell_is_reported_and_the_file_kept(tmp_path, capsys):
    nb_path = tmp_path / "01_bad.ipynb"
    _write(nb_path, "1/0")
    before = nb_path.read_text()
    assert main([str(nb_path)]) == 1
    assert "FAILED" in capsys.readouterr().err
    assert nb_path.read_text() == before


def _image(alt=None):
    out = new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
    if alt:
        out.metadata = {"image/png": {"alt": alt}}
    return out


def test_attach_alt_text_from_cell_metadata():
    one = new_code_cell("plt.plot([1, 2]);", outputs=[_image()])
    one.metadata["mlmcourse"] = {"alt": "a rising line"}
    two = new_code_cell("...", outputs=[new_output("stream", name="stdout", text="hi\n"), _image(), _image()])
    two.metadata["mlmcourse"] = {"alt": ["first", "second"]}
    own = new_code_cell("explorer()", outputs=[_image("the explorer's own")])   # no metadata: kept
    bare = new_code_cell("plt.plot([3]);", outputs=[_image()])
    nb = new_notebook(cells=[new_markdown_cell("text"), one, two, own, bare])
    assert cell_alt(one) == ["a rising line"] and cell_alt(bare) == []
    assert attach_alt_text(nb) == ["cell 4"]
    alts = [[o.metadata.get("image/png", {}).get("alt") for o in c.outputs if o.output_type == "display_data"]
            for c in nb.cells[1:]]
    assert alts == [["a rising line"], ["first", "second"], ["the explorer's own"], [None]]
    one.metadata["mlmcourse"]["alt"] = "a new text"      # re-running replaces the old alt text
    attach_alt_text(nb)
    assert one.outputs[0].metadata["image/png"]["alt"] == "a new text"


def test_attach_alt_text_needs_one_text_or_one_per_image():
    cell = new_code_cell("...", outputs=[_image(), _image(), _image()])
    cell.metadata["mlmcourse"] = {"alt": ["first", "second"]}
    with pytest.raises(CourseError, match="3 images but 2 alt texts"):
        attach_alt_text(new_notebook(cells=[cell]))
