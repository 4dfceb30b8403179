"""mlmcourse.tools.execute: runs notebooks in place in a fresh kernel, in name order, from their folder."""
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from mlmcourse.__main__ import main as course_main
from mlmcourse.errors import CourseError
from mlmcourse.tools.execute import STABLE_ENV, notebooks_in


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
    assert main([str(tmp_path)]) == 0
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
