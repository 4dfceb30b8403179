"""Execute the chapter notebooks in place (``make execute``), so the committed outputs are fresh.

    python -m mlmcourse execute notebooks            # every notebook in the folder, in order
    python -m mlmcourse execute notebooks/02_*.ipynb # some of them

Each notebook runs in a fresh ``python3`` kernel with the notebook folder as working directory,
the inline matplotlib backend, a fixed hash seed and a throw-away answers folder, so that
re-running gives the same outputs. Prints the time each notebook took.

Alt text: a figure cell keeps its alt text out of the code, in its metadata
(``"mlmcourse": {"alt": "..."}``, or a list with one text per image). After executing, each image
output of such a cell gets it as ``metadata["image/png"]["alt"]``, the course's convention for alt
text in committed outputs (as the explorations and IPython's ``display(..., metadata=...)`` do).
Not every renderer reads that key (nbconvert 7's HTML export does not), so the markdown caption
under each figure says the same. Images that carry their own alt text (the explorations') keep
it; an image left without alt text is reported.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from ..errors import CourseError
from ..userfiles import PAGE_BUILD_ENV

STABLE_ENV = {
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYTHONHASHSEED": "0",
    "MLMCOURSE_LECTURE": "0",
    PAGE_BUILD_ENV: "1",       # e.g. the quiz header says its seed is this run's, not the reader's
}


def notebooks_in(paths: list[str]) -> list[Path]:
    """Return the notebooks named, or every ``*.ipynb`` in the folders named, in name order."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(q for q in p.glob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        elif p.suffix == ".ipynb" and p.is_file():
            found.append(p)
        else:
            raise CourseError(f"{p} is not a notebook or a folder of notebooks.")
    return found


IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")


def cell_alt(cell) -> list[str]:
    """Return the alt texts a cell's metadata gives its images (``metadata.mlmcourse.alt``).

    A string for every image of the cell, or a list with one per image in order; [] if none.
    """
    alt = cell.get("metadata", {}).get("mlmcourse", {}).get("alt")
    if not alt:
        return []
    return [alt] if isinstance(alt, str) else list(alt)


def attach_alt_text(nb) -> list[str]:
    """Give every image output of each cell the alt text of the cell's metadata.

    Returns where an image is still without alt text (``"cell 7"``).
    """
    missing = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        alts = cell_alt(cell)
        images = [out for out in cell.get("outputs", [])
                  if out.get("output_type") in ("display_data", "execute_result")
                  and any(t in out.get("data", {}) for t in IMAGE_TYPES)]
        if alts and len(alts) not in (1, len(images)):
            raise CourseError(f"cell {index} has {len(images)} images but {len(alts)} alt texts in its "
                              "metadata: give one text for all of them, or one per image.")
        for k, out in enumerate(images):
            kind = next(t for t in IMAGE_TYPES if t in out["data"])
            meta = out.setdefault("metadata", {}).setdefault(kind, {})
            if alts:
                meta["alt"] = alts[0] if len(alts) == 1 else alts[k]
            elif not meta.get("alt"):
                missing.append(f"cell {index}")
    return missing


def execute_notebook(path: Path, timeout: int = 600) -> float:
    """Run one notebook in a fresh kernel and write it back with its outputs; return seconds.

    The cells' alt text is attached to their images before writing.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    missing = attach_alt_text(nb)
    if missing:
        print(f"warning: {path}: images without alt text in {', '.join(missing)} (give the cell "
              'metadata {"mlmcourse": {"alt": "..."}})', file=sys.stderr)
    nbformat.write(nb, path)
    return elapsed


def _run(args) -> int:
    saved = dict(os.environ)   # the kernels inherit the settings; the caller gets its own back
    try:
        os.environ.update(STABLE_ENV)
        return _execute_all(args)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _execute_all(args) -> int:
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
