"""The course without make: ``mlmcourse lab`` / ``mlmcourse test`` and the notebooks' workspace.

A student on Windows has Python and no make. The slow tests install the course the two ways the
README gives, in fresh virtual environments, with ``make`` absent from PATH, start JupyterLab
through ``mlmcourse lab`` and ask its server for the course's notebooks:

- a fresh copy of the course installed with pip (editable, as ``pip install -e .`` does);
- an installed wheel and no checkout at all, where ``mlmcourse lab`` copies the notebooks into a
  per-user workspace and never overwrites the student's edited copy.

Installs run offline: the new environments see this environment's packages through a ``.pth``
file and install only the course itself (``--no-deps --no-index``); the data comes from a cache
folder made by the test, so nothing is downloaded. ``uv run mlmcourse lab``, which resolves the
dependencies from PyPI, is checked by ``make test-uv`` (run by .ci/run)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
from pathlib import Path

import pytest

from mlmcourse.data import find_classroom
from mlmcourse.tools.launch import MANIFEST, sync_workspace

PROJECT = Path(__file__).resolve().parents[2]
TOKEN = "mlmcourse-test"


# --- the workspace: copy, update, never overwrite ---------------------------------------------------

def _nb(path: Path, text: str) -> None:
    path.write_text(json.dumps({"cells": [{"source": text}]}), encoding="utf-8")


def test_the_workspace_gets_missing_notebooks_and_keeps_the_students_edits(tmp_path):
    shipped, ws = tmp_path / "shipped", tmp_path / "ws"
    shipped.mkdir()
    _nb(shipped / "01_a.ipynb", "course v1")
    _nb(shipped / "02_b.ipynb", "course v1")
    first = sync_workspace(shipped, ws)
    assert first.copied == ["01_a.ipynb", "02_b.ipynb"] and not first.kept
    _nb(ws / "01_a.ipynb", "my own answers")               # the student works in 01
    _nb(shipped / "01_a.ipynb", "course v2")               # a new version of the course
    _nb(shipped / "02_b.ipynb", "course v2")
    second = sync_workspace(shipped, ws)
    assert json.loads((ws / "01_a.ipynb").read_text())["cells"][0]["source"] == "my own answers"
    assert second.kept == ["01_a.ipynb"]
    assert second.updated == ["02_b.ipynb"]                  # untouched copies follow the course
    assert json.loads((ws / "02_b.ipynb").read_text())["cells"][0]["source"] == "course v2"
    (ws / "02_b.ipynb").unlink()                             # deleted by the student: brought back
    assert sync_workspace(shipped, ws).copied == ["02_b.ipynb"]


def test_a_workspace_without_manifest_never_loses_a_file(tmp_path):
    """A notebook already there that the course did not put there (no manifest) is the student's."""
    shipped, ws = tmp_path / "shipped", tmp_path / "ws"
    shipped.mkdir()
    ws.mkdir()
    _nb(shipped / "01_a.ipynb", "course")
    _nb(ws / "01_a.ipynb", "someone's notes")
    assert sync_workspace(shipped, ws).kept == ["01_a.ipynb"]
    assert "someone's notes" in (ws / "01_a.ipynb").read_text()
    assert (ws / MANIFEST).exists()


def test_the_command_line_knows_lab_and_test():
    from mlmcourse.__main__ import parser
    from mlmcourse.tools.launch import split_passthrough
    assert split_passthrough(["lab", "--no-browser", "--port", "9"]) == (["lab"], ["--no-browser", "--port", "9"])
    assert split_passthrough(["test", "--fast", "-x"]) == (["test", "--fast"], ["-x"])
    assert parser().parse_args(["test", "--fast"]).fast


def test_mlmcourse_test_outside_a_checkout_says_where_the_tests_are(monkeypatch):
    from mlmcourse.errors import CourseError
    from mlmcourse.tools import launch
    monkeypatch.setattr(launch, "checkout_root", lambda: None)
    with pytest.raises(CourseError, match="course's folder"):
        launch.test([])


# --- real installs, make absent from PATH -----------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env_with_our_packages(env_dir: Path) -> Path:
    """A fresh venv that imports this environment's dependencies (never its editable mlmcourse)."""
    venv.create(env_dir, with_pip=False)     # pip (and setuptools) come from here: `pip --python`
    py = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "course-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return py


def _pip_install(py: Path, *args: str, cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
                           "--ignore-installed", "--no-index", *args], capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, done.stderr[-3000:]


def _fresh_copy(dest: Path) -> Path:
    """The files git tracks (or the tree, without .venv/build), as a new clone would have them."""
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=PROJECT, capture_output=True)
    names = [n for n in tracked.stdout.decode().split("\0") if n] if tracked.returncode == 0 else []
    if not names:
        shutil.copytree(PROJECT, dest, ignore=shutil.ignore_patterns(".venv", "build", ".git", "__pycache__"))
        return dest
    for name in names:
        src = PROJECT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def _isolated_env(tmp_path: Path, bindir: Path) -> dict[str, str]:
    data = tmp_path / "cache"
    (data / "data").mkdir(parents=True)
    shutil.copy(find_classroom(download=False), data / "data" / "classroom.csv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MLMCOURSE_", "JUPYTER", "VIRTUAL_ENV"))}
    env.update(PATH=str(bindir), HOME=str(tmp_path / "home"), MLMCOURSE_CACHE_DIR=str(data),
               MLMCOURSE_DATA_DIR=str(data / "data"), MLMCOURSE_WORKSPACE=str(tmp_path / "workspace"),
               XDG_DATA_HOME=str(tmp_path / "home" / "data"), XDG_CACHE_HOME=str(tmp_path / "home" / "cache"))
    (tmp_path / "home").mkdir(exist_ok=True)
    assert shutil.which("make", path=env["PATH"]) is None
    return env


class Lab:
    """What ``mlmcourse lab`` did: the notebooks its server listed, what it printed, and whether
    anything it started outlived it when it was sent SIGTERM (as a closing terminal does)."""

    def __init__(self, names: list[str], log: str, outlived: bool):
        self.names, self.log, self.outlived = names, log, outlived


def _lab_answers(cmd: list[str], env: dict, cwd: Path, timeout: float = 120) -> Lab:
    """Start ``mlmcourse lab``, ask its server for the notebooks, then stop it with SIGTERM."""
    port = _free_port()
    args = [*cmd, "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}"]
    log = cwd / "lab.log"
    names = None
    with open(log, "w") as out:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)   # its own process group, stopped whole below
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={TOKEN}",
                                                timeout=5) as r:
                        names = sorted(i["name"] for i in json.load(r)["content"])
                    break
                except OSError:
                    time.sleep(0.5)
            proc.terminate()                               # SIGTERM to the command we started only
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
            time.sleep(1)
            outlived = _group_alive(proc.pid)
        finally:
            _stop_group(proc)
    if names is None:
        pytest.fail(f"JupyterLab did not answer:\n{log.read_text()[-3000:]}")
    return Lab(names, log.read_text(), outlived)


def _stop_group(proc: subprocess.Popen) -> None:
    """Stop the command and everything it started (uv's child, a server left by a wrapper)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        if not _group_alive(proc.pid):
            return


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_a_fresh_copy_installed_with_pip_opens_in_jupyterlab_without_make(tmp_path):
    course = _fresh_copy(tmp_path / "course")
    py = _env_with_our_packages(tmp_path / "venv")
    _pip_install(py, "--no-build-isolation", "-e", str(course), cwd=tmp_path)
    env = _isolated_env(tmp_path, py.parent)
    lab = _lab_answers([str(py.parent / "mlmcourse")], env, tmp_path)
    names, log = lab.names, lab.log
    assert "00_start_here.ipynb" in names and "05_quiz.ipynb" in names, names
    assert "classroom data" in log and "SHA-256 verified" in log
    assert not lab.outlived, "JupyterLab outlived `mlmcourse lab` after SIGTERM"
    app_dir = subprocess.run([str(py), "-c", "from jupyterlab.commands import get_app_dir; print(get_app_dir())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert Path(app_dir, "settings", "overrides.json").read_bytes() == \
        (course / "jupyter" / "lab" / "settings" / "overrides.json").read_bytes()   # where JupyterLab reads it
    share = tmp_path / "venv" / "share" / "jupyter"
    assert (share / "labextensions" / "mlmcourse-rise-widgets" / "package.json").is_file()
    assert not (tmp_path / "workspace").exists()              # a checkout opens its own notebooks


@pytest.mark.slow
def test_an_installed_wheel_copies_the_notebooks_and_keeps_edited_ones(tmp_path):
    course = _fresh_copy(tmp_path / "course")
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    "-w", str(wheels), str(course)], check=True, capture_output=True, cwd=tmp_path)
    shutil.rmtree(course)                                      # no checkout anywhere
    py = _env_with_our_packages(tmp_path / "venv")
    (wheel,) = wheels.glob("mlmcourse-*.whl")
    _pip_install(py, str(wheel), cwd=tmp_path)
    # the wheel brought the course's JupyterLab files into the environment itself
    share = tmp_path / "venv" / "share" / "jupyter"
    assert (share / "lab" / "settings" / "overrides.json").is_file()
    assert (share / "labextensions" / "mlmcourse-rise-widgets" / "static" / "remoteEntry.js").is_file()
    env = _isolated_env(tmp_path, py.parent)
    lab = _lab_answers([str(py.parent / "mlmcourse")], env, tmp_path)
    names, log = lab.names, lab.log
    assert not lab.outlived
    workspace = tmp_path / "workspace"
    assert {p.name for p in workspace.glob("*.ipynb")} == {n for n in names if n.endswith(".ipynb")}
    assert "00_start_here.ipynb" in names and "copied" in log
    # the student edits 02; the next start keeps it
    mine = workspace / "02_constructing_effects.ipynb"
    mine.write_text(mine.read_text(encoding="utf-8").replace("Constructing", "My constructing", 1), encoding="utf-8")
    edited = mine.read_bytes()
    again = subprocess.run([str(py), "-c", "from mlmcourse.tools.launch import notebook_dir; print(notebook_dir())"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert mine.read_bytes() == edited
    assert "kept your own 02_constructing_effects.ipynb" in again.stdout


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("MLMCOURSE_TEST_UV") != "1",
                    reason="installs the dependencies from PyPI: run by `make test-uv` (.ci/run), not offline")
def test_uv_run_mlmcourse_lab_in_a_fresh_copy_without_make(tmp_path):
    """The README's way for a student without make: `uv run mlmcourse lab` in the course folder.
    uv resolves and installs the dependencies from PyPI into the copy's .venv (the one step here
    that needs the network), with this machine's Python; make is not on PATH."""
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    assert Path(uv).exists(), "uv is one of the test extras (pyproject.toml)"
    course = _fresh_copy(tmp_path / "course")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(uv, bindir / "uv")
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    os.symlink(base, bindir / "python3")
    env = _isolated_env(tmp_path, bindir)
    env["UV_PYTHON"] = str(base)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    started = time.monotonic()
    lab = _lab_answers([str(bindir / "uv"), "run", "--project", str(course), "mlmcourse"], env, tmp_path,
                       timeout=540)
    names, log = lab.names, lab.log
    print(f"uv run mlmcourse lab: JupyterLab answered after {time.monotonic() - started:.1f} s")
    assert "00_start_here.ipynb" in names, log[-2000:]
    assert (course / ".venv").is_dir() and not (tmp_path / "workspace").exists()
