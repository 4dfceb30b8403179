"""Bench section: fresh-kernel execution of the chapter notebooks (goal: all together < 20 s).

Each notebook is copied to a temporary folder and executed there by ``mlmcourse.tools.execute`` (the
same runner as ``make execute``): a fresh ``python3`` kernel per notebook, cells run in order.
The committed notebooks are not touched.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from benchlib import ROOT, Row, section

GOAL_S = 20.0
CHAPTER = sorted((ROOT / "notebooks").glob("0[0-4]_*.ipynb"))  # the chapter; 05 is the quiz


@section("Notebook execution (fresh kernels)", order=40,
         description="Each chapter notebook executed from a copy in a fresh kernel, as `make execute` does "
                     f"(goal: all chapter notebooks together under {GOAL_S:.0f} s).")
def notebooks(ctx):
    import os

    from mlmcourse.tools.execute import STABLE_ENV, execute_notebook

    os.environ.update(STABLE_ENV)
    rows, total = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for nb in CHAPTER + sorted((ROOT / "notebooks").glob("05_*.ipynb")):
            copy = Path(tmp) / nb.name
            shutil.copy(nb, copy)
            for extra in (ROOT / "notebooks").glob("*.cfg"):
                shutil.copy(extra, Path(tmp) / extra.name)
            seconds = execute_notebook(copy)
            if nb in CHAPTER:
                total += seconds
            rows.append(Row(task=nb.name, tool="nbclient, fresh kernel", seconds=seconds))
    rows.append(Row(task="chapter notebooks 00-04 together", tool="nbclient, fresh kernels",
                    seconds=total, note=f"goal < {GOAL_S:.0f} s"))
    return rows
