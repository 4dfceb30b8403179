"""Execute the chapter notebooks in place (``make execute``), so the committed outputs are fresh.

    python -m mlmcourse execute notebooks            # every notebook in the folder, in order
    python -m mlmcourse execute notebooks/02_*.ipynb # some of them

Each notebook runs in a fresh ``python3`` kernel with the notebook folder as working directory,
the inline matplotlib backend, a fixed hash seed and a throw-away answers folder, so that
re-running gives the same outputs. Prints the time each notebook took.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from ..errors import CourseError

STABLE_ENV = {
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYTHONHASHSEED": "0",
    "MLMCOURSE_LECTURE": "0",
}


def notebooks_in(paths: list[str]) -> list[Path]:
    """The notebooks named, or every ``*.ipynb`` in the folders named, in name order."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(q for q in p.glob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        elif p.suffix == ".ipynb" and p.is_file():
            found.append(p)
        else:
            raise CourseError(f"{p} is not a notebook or a folder of notebooks.")
    return found


def execute_notebook(path: Path, timeout: int = 600) -> float:
    """Run one notebook in a fresh kernel and write it back with its outputs; return seconds."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    return elapsed


def _run(args) -> int:
    os.environ.update(STABLE_ENV)
    total = 0.0
    with tempfile.TemporaryDirectory(prefix="mlmcourse-answers-") as answers:
        os.environ["MLMCOURSE_ANSWERS_DIR"] = answers
        for path in notebooks_in(args.paths):
            try:
                seconds = execute_notebook(path, args.timeout)
            except Exception as exc:  # a failing cell: say which notebook, keep the file as it was
                print(f"FAILED {path}: {type(exc).__name__}: {str(exc)[-2000:]}", file=sys.stderr)
                return 1
            total += seconds
            print(f"{seconds:6.1f} s  {path}")
    print(f"{total:6.1f} s  total")
    return 0


def add_parser(sub) -> None:
    """Register ``execute`` with the course's command line (``python -m mlmcourse execute``)."""
    p = sub.add_parser("execute", help="re-execute notebooks in place (outputs are committed)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", help="notebook files or folders")
    p.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    p.set_defaults(func=_run)
