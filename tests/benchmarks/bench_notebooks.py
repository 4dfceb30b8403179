"""Bench section: every notebook executed in a fresh kernel, against a bare kernel in the same run.

The yardstick is the least a notebook can cost: a fresh ``python3`` kernel that imports pandas,
matplotlib and seaborn and draws one figure (``BARE``). Each notebook is copied to a temporary
folder and executed there by ``mlmcourse.tools.execute`` (the runner of ``make execute``; the
committed notebooks are not touched), alternating with the bare kernel: bare, notebook, bare,
notebook, ... so that both see the same machine. The ratio is taken pair by pair and its median
reported, which holds when the machine's speed drifts (it is shared). Goal for the chapter
notebooks 00-04: a ratio of at most 1.5.
"""
from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path

from benchlib import ROOT, Row, section

GOAL_RATIO = 1.5
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[0-9]_*.ipynb"))
CHAPTER = [nb for nb in NOTEBOOKS if nb.name[:2] <= "04"]   # 05 is the quiz, 06 the statsmodels tour

BARE = """\
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

df = pd.DataFrame({"x": range(10), "y": range(10)})
sns.scatterplot(data=df, x="x", y="y")
plt.show()
"""


def bare_notebook(path: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(BARE, metadata={"mlmcourse": {"alt": "ten points on a line"}})]
    nbformat.write(nb, path)
    return path


def _execute_copy(source: Path, folder: Path) -> float:
    """Execute a fresh copy of ``source`` in ``folder`` (a fresh kernel); return seconds."""
    from mlmcourse.tools.execute import execute_notebook

    copy = folder / f"run_{source.name}"
    shutil.copy(source, copy)
    return execute_notebook(copy)


@section("Notebook execution (fresh kernels)", order=40,
         description="Each notebook executed from a copy in a fresh kernel, as `make execute` does, "
                     "alternating with a bare kernel (imports pandas, matplotlib and seaborn, draws one "
                     "figure); the ratio is the median of the pairs' ratios. Goal for the chapter "
                     f"notebooks 00-04: at most x{GOAL_RATIO}.")
def notebooks(ctx):
    import os

    from mlmcourse.tools.execute import STABLE_ENV

    os.environ.update(STABLE_ENV)
    repeats = max(1, ctx.repeats)
    rows, bare_times = [], []
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as answers:
        os.environ["MLMCOURSE_ANSWERS_DIR"] = answers     # the quiz saves into a throw-away folder
        folder = Path(tmp)
        for extra in (ROOT / "notebooks").glob("*.cfg"):
            shutil.copy(extra, folder / extra.name)
        bare = bare_notebook(folder / "bare_kernel.ipynb")
        _execute_copy(bare, folder)   # warm-up: the first kernel of a run pays for cold disk caches
        for nb in NOTEBOOKS:
            pairs = []
            for _ in range(repeats):
                b = _execute_copy(bare, folder)
                n = _execute_copy(nb, folder)
                pairs.append((b, n))
                bare_times.append(b)
            seconds = statistics.median(n for _, n in pairs)
            ratio = statistics.median(n / b for b, n in pairs)
            chapter = nb in CHAPTER
            note = (("within goal" if ratio <= GOAL_RATIO else f"over the x{GOAL_RATIO} goal")
                    if chapter else "not a chapter notebook (no goal)")
            rows.append(Row(task=nb.name, tool="nbclient, fresh kernel", seconds=seconds, repeats=repeats,
                            result=f"x{ratio:.2f} of a bare kernel", note=note,
                            extra={"pairs": pairs, "ratio_to_bare": ratio}))
    rows.insert(0, Row(task="bare kernel: import pandas, matplotlib, seaborn; one figure",
                       tool="nbclient, fresh kernel", seconds=statistics.median(bare_times),
                       repeats=len(bare_times), note="the yardstick, run before each notebook"))
    return rows

