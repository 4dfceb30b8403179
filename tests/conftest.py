"""Shared fixtures: the classroom data, a private answers folder for every test, JupyterLab, Chromium.

``dat`` is the course's classroom data (classroom.csv), read once per session and shared by
every test that asks for it; a test that changes its frame asks for ``dat_copy`` instead. The
shared frame is checked at the end of the session: a test that changed it fails there.

``lab_server`` starts the course's own JupyterLab (from .venv) on a free localhost port with a
token, serving a temporary copy of ``notebooks/`` (so no test ever edits the committed notebooks)
and saving quiz answers in a temporary folder; ``course_lab_server`` is the same JupyterLab without
the tests' own settings, as a student first meets it. ``browser_page`` is a Playwright page in Debian's
``/usr/bin/chromium`` (never a downloaded browser: no ``playwright install``); without Chromium
the browser tests are skipped, and the skip is reported at the end of the run.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def dat():
    """Read the classroom data once; fail at the end of the session if any test changed it."""
    from mlmcourse import load_classroom

    frame = load_classroom()
    pristine = frame.copy(deep=True)
    yield frame
    import pandas as pd

    pd.testing.assert_frame_equal(frame, pristine, obj="the shared classroom data (a test changed it: use dat_copy)")


@pytest.fixture
def dat_copy(dat):
    """Return a copy of the classroom data for a test that changes its frame."""
    return dat.copy(deep=True)


@pytest.fixture(autouse=True)
def _private_answers_dir(tmp_path, monkeypatch):
    """No test reads or writes the real user's saved quiz answers."""
    monkeypatch.setenv("MLMCOURSE_ANSWERS_DIR", str(tmp_path / "mlmcourse-answers"))


# -- JupyterLab ----------------------------------------------------------------------------
def free_port() -> int:
    """Return a free TCP port on localhost."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    """A running JupyterLab of the tests: its address, token, folders, process and log."""

    url: str                 # http://127.0.0.1:PORT/
    token: str
    root: Path               # the folder JupyterLab serves (a copy of notebooks/)
    answers_dir: Path        # MLMCOURSE_ANSWERS_DIR of the server and its kernels
    proc: subprocess.Popen
    log: Path
    extra: dict = field(default_factory=dict)

    def notebook_url(self, name: str) -> str:
        """Open one notebook in a fresh workspace (``reset``: no tabs left over from other tests)."""
        return f"{self.url}lab/tree/{name}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET"):
        """Call JupyterLab's REST API at ``api/path``; return the JSON answer (None when empty)."""
        req = urllib.request.Request(f"{self.url}api/{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def open_and_run_all(self, page, name: str, timeout: int = 90_000) -> None:
        """Open ``name`` in the browser, wait until its kernel is idle, then run every cell."""
        page.goto(self.notebook_url(name))
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout)
        page.wait_for_function(
            """(name) => {
                const app = window.jupyterapp;
                const w = app && app.shell.currentWidget;
                const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
                return !!k && k.status === 'idle' && w.context.path.endsWith(name);
            }""", arg=name, timeout=timeout)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

    @staticmethod
    def open_rise(page, timeout: int = 90_000):
        """Start the open notebook's RISE slideshow as the README tells the instructor (Alt+R in
        command mode); return the locator of the slide on show."""
        page.locator(".jp-Notebook .jp-Cell .jp-InputPrompt").first.click()
        page.keyboard.press("Escape")
        page.keyboard.press("Alt+r")
        frame = page.frame_locator(".jp-MainAreaWidget iframe[src*='/rise/']")
        frame.locator(".reveal .slides").first.wait_for(state="visible", timeout=timeout)
        return frame.locator(".reveal .slides section.present")

    @staticmethod
    def kernel_eval(page, expression: str, notebook: str | None = None) -> str:
        """Evaluate ``expression`` in a notebook's kernel; return its text/plain result.

        The kernel is the current tab's, or that of the open notebook whose path ends with
        ``notebook`` (a slideshow may be the current tab).
        """
        return page.evaluate(
            """async ([name, code]) => {
                const shell = window.jupyterapp.shell;
                const panel = name === null ? shell.currentWidget : Array.from(shell.widgets('main'))
                    .find(w => w.sessionContext && w.context && w.context.path.endsWith(name));
                const kernel = panel.sessionContext.session.kernel;
                let out = null;
                const future = kernel.requestExecute({code, silent: false, store_history: false});
                future.onIOPub = (msg) => {
                    if (msg.header.msg_type === 'execute_result') { out = msg.content.data['text/plain']; }
                };
                await future.done;
                return out;
            }""", [notebook, expression])

    def shutdown_kernels(self) -> None:
        """Stop every kernel (as if the student closed the notebook and came back later)."""
        for s in self.api("sessions"):
            self.api(f"sessions/{s['id']}", method="DELETE")


def _lab_command() -> list[str]:
    venv_lab = PROJECT / ".venv" / "bin" / "jupyter-lab"
    return [str(venv_lab)] if venv_lab.exists() else [sys.executable, "-m", "jupyterlab"]


@contextlib.contextmanager
def run_lab(base: Path, *, test_settings: bool = True, extra_args: tuple[str, ...] = ()):
    """Run the course's JupyterLab in ``base`` (a copy of notebooks/ in ``base/notebooks``).

    With ``test_settings`` (what the tests that drive notebooks want) the test's own user
    settings turn off the news and update checks and virtual scrolling; without it JupyterLab
    starts as ``make lab`` starts it, with only the environment's settings (jupyter/, installed by
    ``make setup``) and a fresh, empty user-settings folder: as a student first meets it.
    """
    root, answers = base / "notebooks", base / "answers"
    shutil.copytree(PROJECT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    answers.mkdir()
    (base / "settings").mkdir()
    test_flags = []
    if test_settings:
        # no "would you like news?" toast over the page
        notif = base / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        notif.parent.mkdir(parents=True)
        notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        # render every cell (no virtual scrolling): what a test scrolls to is really drawn
        tracker = base / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
        tracker.parent.mkdir(parents=True)
        tracker.write_text(json.dumps({"windowingMode": "none"}))
        test_flags = ["--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    port, token = free_port(), secrets.token_hex(16)
    cmd = [
        *_lab_command(), "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True", *test_flags,
        f"--LabApp.workspaces_dir={base / 'workspaces'}", f"--LabApp.user_settings_dir={base / 'settings'}",
        *extra_args,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    env = {**os.environ, "MLMCOURSE_ANSWERS_DIR": str(answers), "JUPYTER_CONFIG_DIR": str(base / "config"),
           "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "JUPYTER_DATA_DIR": str(base / "data"),
           "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    env.pop("MLMCOURSE_LECTURE", None)
    log = base / "jupyterlab.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=logf, stderr=subprocess.STDOUT)
    server = LabServer(f"http://127.0.0.1:{port}/", token, root, answers, proc, log)
    try:
        deadline = time.time() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                server.api("status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.time() > deadline:
                    pytest.fail(f"JupyterLab did not answer within 90 s:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    """Run the course's JupyterLab with the tests' settings, once per session."""
    with run_lab(tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture
def start_lab():
    """Return the JupyterLab starter for a test that needs a JupyterLab of its own (a context manager on a folder)."""
    return run_lab


@pytest.fixture(scope="session")
def course_lab_server(tmp_path_factory):
    """Run the course's JupyterLab with no test settings: what ``make lab`` shows a new student."""
    with run_lab(tmp_path_factory.mktemp("course-lab"), test_settings=False) as server:
        yield server


# -- Chromium ------------------------------------------------------------------------------
@pytest.fixture
def browser_page():
    """Open a fresh page in headless Chromium, 1280x1000; dialogs are accepted.

    Function-scoped on purpose: Playwright's sync API keeps an asyncio loop marked as running in
    this thread while it is started, which would mislead later tests that look for a running loop.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser test skipped: {CHROMIUM} is missing (install Debian's chromium; .ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser test skipped: the playwright package is not installed (pip install -e .[test])")
    ARTIFACTS.mkdir(exist_ok=True)
    pw = sync_playwright().start()
    try:
        try:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:  # a Chromium that cannot start is a failure, not a skip
            pytest.fail(f"{CHROMIUM} did not start under Playwright: {exc}")
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.on("dialog", lambda d: d.accept())
        yield page
        context.close()
        browser.close()
    finally:
        pw.stop()


# -- make skipped browser tests visible ------------------------------------------------------
def pytest_terminal_summary(terminalreporter):
    """List the browser and slides tests that were skipped, in a section of their own."""
    lines = []
    for rep in terminalreporter.stats.get("skipped", []):
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        if "browser test skipped" in reason or "slides test skipped" in reason:
            lines.append(f"{rep.nodeid}: {reason.removeprefix('Skipped: ')}")
    if lines:
        terminalreporter.section("browser / slides tests NOT run", sep="!")
        for line in lines:
            terminalreporter.write_line(line)
