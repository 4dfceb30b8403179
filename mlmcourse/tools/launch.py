"""``mlmcourse lab`` and ``mlmcourse test``: the course's two commands without make.

    mlmcourse lab [JUPYTER-LAB OPTIONS...]    the course in JupyterLab
    mlmcourse test [--fast] [PYTEST OPTIONS...]  the course's tests (from a checkout)

They do what ``make lab`` and ``make test`` do after ``make setup``, on any operating system:
the course's JupyterLab files (settings and the RISE widgets fix, ``jupyter/``) are put where
JupyterLab reads them, the data is found or downloaded and checked against its SHA-256, then
JupyterLab (or pytest) runs with this Python. Paths go through pathlib and programs are started
without a shell, so the same commands work in PowerShell, cmd and any POSIX shell.

Where the notebooks come from: a checkout's ``notebooks/`` folder when the package runs from one
(``pip install -e .``, ``uv run``); otherwise (an installed wheel) the copies the wheel put in
``<prefix>/share/mlmcourse/notebooks`` are copied into a per-user workspace on first use
(``mlmcourse.userfiles.workspace_dir``). A notebook the student has changed is never
overwritten: only missing notebooks, and copies still identical to what the course last put
there, are (re)written; a manifest in the workspace remembers what that was.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CourseError
from ..userfiles import atomic_write_bytes, atomic_write_text, workspace_dir

MANIFEST = ".mlmcourse-copied.json"


def checkout_root() -> Path | None:
    """Return the course checkout this package runs from, or None for an installed copy."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() and (root / "mlmcourse").is_dir():
        return root
    return None


def shipped_notebooks() -> Path:
    """Where an install (wheel) put the chapter notebooks."""
    return Path(sys.prefix) / "share" / "mlmcourse" / "notebooks"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class SyncReport:
    """What a sync of the workspace did: the notebooks copied, updated, and kept (the student's edits)."""

    copied: list[str] = field(default_factory=list)    # new in the workspace
    updated: list[str] = field(default_factory=list)   # untouched copies replaced by the course's new version
    kept: list[str] = field(default_factory=list)      # the student's edited copies, left alone


def sync_workspace(source: Path, target: Path) -> SyncReport:
    """Copy the course's notebooks from ``source`` into ``target``, never overwriting a student's.

    A notebook the student has changed is never overwritten.
    """
    target.mkdir(parents=True, exist_ok=True)
    manifest_path = target / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    report = SyncReport()
    for src in sorted(source.glob("*.ipynb")):
        dst, new = target / src.name, _digest(src)
        if dst.exists():
            have = _digest(dst)
            if have == new:
                manifest[src.name] = new
                continue
            if manifest.get(src.name) != have:      # changed by the student (or not ours): keep it
                report.kept.append(src.name)
                continue
            report.updated.append(src.name)
        else:
            report.copied.append(src.name)
        atomic_write_bytes(dst, src.read_bytes())
        manifest[src.name] = new
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1, sort_keys=True))
    return report


def notebook_dir() -> Path:
    """Return the folder JupyterLab opens: the checkout's notebooks, or the per-user workspace."""
    root = checkout_root()
    if root is not None:
        return root / "notebooks"
    source = shipped_notebooks()
    if not source.is_dir():
        raise CourseError(f"This install of mlmcourse has no notebooks (looked in {source}). Install the course "
                          "with `pip install mlmcourse` from its wheel, or run `mlmcourse lab` from the course "
                          "folder you downloaded.")
    target = workspace_dir()
    try:
        report = sync_workspace(source, target)
    except OSError as exc:
        raise CourseError(f"The course could not copy its notebooks into {target} ({exc.strerror or exc}). "
                          "Set MLMCOURSE_WORKSPACE to a folder you can write to and run `mlmcourse lab` again."
                          ) from None
    if report.copied:
        print(f"mlmcourse: copied {len(report.copied)} notebook(s) into {target}", flush=True)
    if report.updated:
        print(f"mlmcourse: updated {', '.join(report.updated)} (you had not changed them)", flush=True)
    if report.kept:
        print(f"mlmcourse: kept your own {', '.join(report.kept)}; the course's newer version is in {source}",
              flush=True)
    return target


def install_jupyter_files() -> list[Path]:
    """From a checkout, put ``jupyter/`` into this environment, as ``make setup`` does.

    ``jupyter/`` holds the course's JupyterLab settings and the RISE widgets fix; an installed
    wheel brought them itself. Returns the files written (only missing or changed ones).
    """
    root = checkout_root()
    if root is None:
        return []
    from jupyterlab.commands import get_app_dir

    source, written = root / "jupyter", []
    share = Path(sys.prefix) / "share" / "jupyter"
    for src in source.rglob("*"):
        if not src.is_file() or src.name == "README.md":
            continue
        rel = src.relative_to(source)
        # settings go where JupyterLab reads them (the app dir, share/jupyter/lab unless moved)
        dst = (Path(get_app_dir()) / rel.relative_to("lab")) if rel.parts[0] == "lab" else share / rel
        if dst.is_file() and dst.read_bytes() == src.read_bytes():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        written.append(dst)
    return written


def check_data() -> bool:
    """Find (or download) the classroom data and verify it; False, with a message, if it cannot."""
    from ..data import find_classroom
    try:
        path = find_classroom(download=True)
    except CourseError as exc:
        print(f"mlmcourse: the data is not ready: {exc}", file=sys.stderr, flush=True)
        return False
    print(f"mlmcourse: classroom data {path} (SHA-256 verified)", flush=True)
    return True


def _root_flag() -> list[str]:
    getuid = getattr(os, "getuid", None)
    return ["--allow-root"] if getuid is not None and getuid() == 0 else []


def lab(extra: list[str]) -> int:
    """``mlmcourse lab``: the course in JupyterLab (extra options go to ``jupyter lab``)."""
    install_jupyter_files()
    folder = notebook_dir()
    check_data()      # the notebooks say it again if it is missing; JupyterLab opens either way
    cmd = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={folder}", *_root_flag(), *extra]
    sys.stdout.flush()
    if os.name == "posix":
        # become JupyterLab: a signal meant for `mlmcourse lab` (Ctrl+C, a terminal closing, a
        # test stopping it) reaches the server itself, and no server is left running without us
        os.execv(sys.executable, cmd)
    try:
        return subprocess.call(cmd)    # Windows: Ctrl+C reaches the whole console group anyway
    except KeyboardInterrupt:
        return 0


def test(extra: list[str], fast: bool = False) -> int:
    """``mlmcourse test``: every test of the course (``--fast``: without browser and slow tests)."""
    root = checkout_root()
    if root is None:
        raise CourseError("The tests live in the course's folder, not in an installed package. Download the course "
                          "(git clone, or the zip), then run `mlmcourse test` from that folder's environment.")
    try:
        import nbval  # noqa: F401
        import pytest  # noqa: F401
    except ImportError:
        raise CourseError("The test tools are not installed in this environment. Install them with "
                          "`python -m pip install -e .[test]` in the course folder (or use `uv run --extra test "
                          "mlmcourse test`), then run this again.") from None
    install_jupyter_files()
    if not check_data():
        return 2
    cmd = [sys.executable, "-m", "pytest", *(["-m", "not browser and not slow"] if fast else []), *extra]
    return subprocess.call(cmd, cwd=root)


def add_parsers(sub) -> None:
    """Register ``lab`` and ``test`` with the course's command line."""
    p = sub.add_parser("lab", help="open the course in JupyterLab (what `make lab` does)",
                       description="Open the course in JupyterLab. Options after `lab` go to `jupyter lab`, "
                                   "e.g. `mlmcourse lab --no-browser --port 8899`.")
    p.set_defaults(func=lambda args: lab(args.extra))
    t = sub.add_parser("test", help="run the course's tests (what `make test` does)",
                       description="Run the course's tests from a checkout. Options after `test` go to pytest.")
    t.add_argument("--fast", action="store_true", help="without the browser and slow tests (as `make test-fast`)")
    t.set_defaults(func=lambda args: test(args.extra, fast=args.fast))
    for q in (p, t):
        q.set_defaults(extra=[])


def split_passthrough(argv: list[str]) -> tuple[list[str], list[str]]:
    """``lab``/``test`` pass unknown options on (to jupyter lab / pytest)."""
    if argv and argv[0] in ("lab", "test") and not {"-h", "--help"} & set(argv[1:2]):
        known = [argv[0]] + [a for a in argv[1:] if a == "--fast" and argv[0] == "test"]
        return known, [a for a in argv[1:] if not (a == "--fast" and argv[0] == "test")]
    return argv, []

