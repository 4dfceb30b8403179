"""A real, non-editable install carries the whole package: every subpackage and the question banks.

`pip install .` builds a wheel from pyproject.toml; a wrong `packages =` setting silently drops
subpackages, so the test builds the wheel (offline, with the environment's setuptools), checks
its file list against the source tree, installs it into a fresh virtual environment and imports
every module from there (the course's dependencies come from this environment's site-packages)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = PROJECT / "mlmcourse"

pytestmark = pytest.mark.slow   # builds a wheel and a virtual environment (about 15 s)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # build from a clean copy: setuptools reuses a build/ folder, whose stale files would hide a
    # subpackage the configuration drops
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT / name, src / name)
    shutil.copytree(PACKAGE, src / "mlmcourse", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("jupyter", "notebooks"):   # [tool.setuptools.data-files]
        shutil.copytree(PROJECT / folder, src / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-q", "-w", str(out), str(src)], check=True, capture_output=True, cwd=out)
    (found,) = out.glob("mlmcourse-*.whl")
    return found


def source_files() -> set[str]:
    files = {p.relative_to(PROJECT).as_posix() for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    return files | {p.relative_to(PROJECT).as_posix() for p in (PACKAGE / "quiz" / "questions").glob("*.yml")}


def test_the_wheel_holds_every_module_and_question_bank(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(source_files() - names)
    assert not missing, f"the wheel lacks {missing}: check [tool.setuptools] in pyproject.toml"


def test_the_wheel_brings_the_jupyterlab_files_and_the_notebooks(wheel):
    """`mlmcourse lab` from an installed wheel needs them: the settings and the RISE widgets fix
    where JupyterLab reads them (share/jupyter), the notebooks to copy into the workspace."""
    names = set(zipfile.ZipFile(wheel).namelist())
    data = "mlmcourse-0.1.0.data/data/share/"
    wanted = {data + "jupyter/" + p.relative_to(PROJECT / "jupyter").as_posix()
              for p in (PROJECT / "jupyter").rglob("*") if p.is_file() and p.name != "README.md"}
    wanted |= {data + "mlmcourse/notebooks/" + p.name for p in (PROJECT / "notebooks").glob("*.ipynb")}
    assert wanted and not sorted(wanted - names)


def test_installed_copy_imports_every_module_and_reads_the_bank(wheel, tmp_path):
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    py = env / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True)
    modules = sorted(".".join(p.relative_to(PROJECT).with_suffix("").parts).removesuffix(".__init__")
                     for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts and p.name != "__main__.py")
    here = sysconfig.get_paths()["purelib"]   # the dependencies, without this checkout's editable path
    script = (f"import sys; sys.path.append({here!r}); import importlib\n"
              f"for m in {modules!r}: importlib.import_module(m)\n"
              "import mlmcourse; assert 'site-packages' in mlmcourse.__file__ and 'venv' in mlmcourse.__file__\n"
              "from mlmcourse.quiz.bank import load_bank; print(len(load_bank(chapter=2).questions))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}   # only the installed copy
    done = subprocess.run([str(py), "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip()) > 10
