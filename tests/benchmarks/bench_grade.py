"""Bench section: an instructor grades a class of 200 hand-ins (goal: well under a minute).

The class is made once by the simulated-students machinery (``mlmcourse.quiz.simulated_class``:
200 students with distinct seeds and typical slips, through the course's own answer store and
export) and kept in ``build/bench/grade-class-200/``. The time is the whole command in a fresh
process, as an instructor runs it: ``python -m mlmcourse quiz grade DIR --out OUT`` (imports, the
chapter's fits, every student's own data and fits, gradebook.csv and report.html).

    python tests/benchmarks/bench_grade.py     # this section alone
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import ROOT, BenchContext, Row, section

CLASS_SIZE = 200


def make_class(folder: Path, n: int = CLASS_SIZE) -> list[Path]:
    """The class's hand-ins (made once; reused while all ``n`` are there)."""
    have = sorted(folder.glob("*.md"))
    if len(have) == n:
        return have
    from mlmcourse.quiz.simulated_class import demo_class
    for old in have:
        old.unlink()
    return demo_class(folder, n=n, seed=200)


@section("Grading a class: quiz grade on 200 hand-ins", order=60)
def grading(ctx: BenchContext) -> list[Row]:
    folder = ctx.out_dir / f"grade-class-{CLASS_SIZE}"
    folder.mkdir(parents=True, exist_ok=True)
    reused = len(list(folder.glob("*.md"))) == CLASS_SIZE
    start = time.perf_counter()
    make_class(folder)
    made = "class reused from an earlier run" if reused else f"class made once in {time.perf_counter() - start:.0f} s"
    rows = []
    for workers in ("", "2"):
        env = dict(os.environ)
        if workers:
            env["MLMCOURSE_GRADE_WORKERS"] = workers
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "mlmcourse", "quiz", "grade", str(folder), "--out", out],
                                  capture_output=True, text=True, env=env, cwd=ROOT)
            seconds = time.perf_counter() - start
            with open(Path(out) / "gradebook.csv", newline="") as f:
                book = list(csv.DictReader(f))
        mean = sum(int(r["score"]) for r in book) / len(book)
        how = f"MLMCOURSE_GRADE_WORKERS={workers}" if workers else "one process (the default)"
        rows.append(Row(task=f"{CLASS_SIZE} hand-ins, fresh process, {how}", tool="mlmcourse quiz grade",
                        seconds=seconds, repeats=1,
                        result=f"{len(book)} graded, mean score {mean:.2f}/{book[0]['out_of']}, exit {proc.returncode}",
                        note=f"{made} (not timed)" if not workers else "",
                        extra={"cpus": os.cpu_count(), "per_handin_s": seconds / len(book)}))
    return rows


if __name__ == "__main__":
    for row in grading(BenchContext(out_dir=ROOT / "build" / "bench")):
        print(f"{row.task}: {row.seconds:.1f} s ({row.result}) {row.note}")
