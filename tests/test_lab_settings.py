"""The course's JupyterLab settings and RISE widgets fix (jupyter/), and how they are installed.

jupyter/ mirrors an environment's share/jupyter/: ``make setup`` copies it into .venv and
``postBuild`` (Binder, conda) into the active environment. The browser side (no news toast, a
widget on a RISE slide) is in tests/tools/test_lab_browser.py.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import venv
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SOURCE = PROJECT / "jupyter"
VENV_SHARE = PROJECT / ".venv" / "share" / "jupyter"
OVERRIDES = Path("lab") / "settings" / "overrides.json"
NOTIFICATION = "@jupyterlab/apputils-extension:notification"
EXTENSION = Path("labextensions") / "mlmcourse-rise-widgets"


def _installable() -> list[Path]:
    """The files of jupyter/ that get installed (paths relative to jupyter/)."""
    return sorted(p.relative_to(SOURCE) for p in SOURCE.rglob("*") if p.is_file() and p.name != "README.md")


def test_the_course_settings_turn_off_the_news_and_update_checks():
    overrides = json.loads((SOURCE / OVERRIDES).read_text())
    assert overrides == {NOTIFICATION: {"fetchNews": "false", "checkForUpdates": False}}


def test_the_settings_fit_jupyterlabs_schema():
    """A misspelt key or value would be dropped by JupyterLab without a word."""
    jsonschema = pytest.importorskip("jsonschema")
    from jupyterlab.commands import get_app_dir

    schema_file = Path(get_app_dir()) / "schemas" / "@jupyterlab" / "apputils-extension" / "notification.json"
    schema = json.loads(schema_file.read_text())
    values = json.loads((SOURCE / OVERRIDES).read_text())[NOTIFICATION]
    jsonschema.validate(values, schema)                      # additionalProperties is false
    assert {c["const"]: c["title"] for c in schema["properties"]["fetchNews"]["oneOf"]}["false"] == "Never"


def test_make_setup_installed_jupyter_into_the_venv():
    if not (PROJECT / ".venv").is_dir():
        pytest.skip("no .venv here (a conda or Binder environment): postBuild installs these files")
    installed = [VENV_SHARE / rel for rel in _installable()]
    missing = [str(p) for p in installed if not p.is_file()]
    assert not missing, f"not installed, run `make setup`: {missing}"
    for rel in _installable():
        assert (VENV_SHARE / rel).read_bytes() == (SOURCE / rel).read_bytes(), f"{rel} is out of date: `make setup`"
    overrides = json.loads((VENV_SHARE / OVERRIDES).read_text())
    assert overrides[NOTIFICATION]["fetchNews"] == "false"
    assert overrides[NOTIFICATION]["checkForUpdates"] is False


def test_jupyterlab_reads_the_installed_settings():
    """JupyterLab (jupyterlab_server) finds the overrides where setup put them."""
    if not (PROJECT / ".venv").is_dir() or Path(sys.prefix).resolve() != (PROJECT / ".venv").resolve():
        pytest.skip("runs in the Makefile's .venv")
    from jupyterlab.commands import get_app_dir
    from jupyterlab_server.settings_utils import _get_overrides

    overrides, error = _get_overrides(str(Path(get_app_dir()) / "settings"))
    assert not error
    assert overrides[NOTIFICATION] == {"fetchNews": "false", "checkForUpdates": False}


def test_the_rise_widgets_extension_is_a_valid_prebuilt_extension():
    from jupyterlab_server.config import get_federated_extensions, get_page_config

    found = get_federated_extensions([str(SOURCE / "labextensions")])
    assert set(found) == {"mlmcourse-rise-widgets"}
    build = found["mlmcourse-rise-widgets"]["jupyterlab"]["_build"]
    assert (SOURCE / EXTENSION / build["load"]).is_file()
    assert not {"extension", "mimeExtension", "style"} & set(build), "it must add no plugins"
    # and JupyterLab hands it to the page like any other prebuilt extension
    listed = get_page_config([str(SOURCE / "labextensions")])["federated_extensions"]
    assert [e["name"] for e in listed] == ["mlmcourse-rise-widgets"]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_setup_reinstalls_an_edited_file_into_an_existing_venv():
    """The copy is a rule of its own: editing jupyter/ reaches a .venv whose stamp is current."""
    out = subprocess.run(["make", "-n", "-W", f"jupyter/{OVERRIDES.as_posix()}", "setup"],
                         cwd=PROJECT, capture_output=True, text=True, check=True).stdout
    assert f"cp jupyter/{OVERRIDES.as_posix()} .venv/share/jupyter/{OVERRIDES.as_posix()}" in out, out
    # the JSON lives in jupyter/ only: the Makefile copies, never writes, it
    assert "fetchNews" not in (PROJECT / "Makefile").read_text()


def test_postbuild_installs_the_same_files(tmp_path):
    """postBuild (repo2docker runs it on Binder) puts jupyter/ into the active environment."""
    postbuild = PROJECT / "postBuild"
    assert postbuild.stat().st_mode & stat.S_IXUSR, "repo2docker runs postBuild only if it is executable"
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    # a bare environment that sees this one's packages (jupyterlab), with a prefix of its own
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    env_python = env_dir / "bin" / "python"
    site = subprocess.run([str(env_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    import jupyterlab

    Path(site, "mlmcourse-test-parent.pth").write_text(str(Path(jupyterlab.__file__).parents[1]) + "\n")
    # an environment with jupyterlab installed has its app folder (else JupyterLab, and postBuild,
    # would use the one beside the jupyterlab package: this test's own environment)
    (env_dir / "share" / "jupyter" / "lab").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("JUPYTERLAB_DIR", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    subprocess.run(["bash", str(postbuild)], env=env, check=True, capture_output=True, text=True)
    share = env_dir / "share" / "jupyter"
    for rel in _installable():
        assert (share / rel).read_bytes() == (SOURCE / rel).read_bytes(), rel
