"""The benchmark's small framework: sections, rows, timing, and the Markdown/JSON report.

A *section* is a function that takes a :class:`BenchContext` and returns a list of :class:`Row`.
Register one with the ``@section`` decorator in any module named ``tests/benchmarks/bench_*.py``;
``run_bench.py`` imports every such module, runs the sections in ``order`` and writes
``build/bench/bench.md`` and ``build/bench/bench.json``. Example (a new file
``tests/benchmarks/bench_notebooks.py``)::

    from benchlib import Row, section, timed

    @section("Notebook execution", order=30)
    def notebooks(ctx):
        seconds, _ = timed(lambda: run_my_notebook(), ctx.repeats)
        return [Row(task="01_conceptualization.ipynb", tool="nbclient", seconds=seconds,
                    repeats=ctx.repeats)]

There are no timed assertions anywhere: the numbers are measured and reported, never checked.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Row:
    task: str                       # what was timed, e.g. "fit3: mathkind ~ ses + (1|schoolid/classid)"
    tool: str                       # who did it, e.g. "mlmcourse.lmer", "statsmodels MixedLM defaults"
    seconds: float | None           # median wall time of the repeats (None: not run / failed)
    repeats: int = 1
    result: str = ""                # a number that shows the answer, e.g. "REML crit 12038.41"
    note: str = ""                  # anything a reader needs (errors, what the time includes)
    extra: dict = field(default_factory=dict)   # machine-readable details for bench.json
    ratio: float | None = None      # this row's time over lme4's (mlmcourse rows), shown as "x0.42"


@dataclass
class BenchContext:
    repeats: int = 3                # repeats of quick tasks (the median is reported)
    big_repeats: int = 3            # repeats of the 100,000-row tasks
    huge_repeats: int = 1           # repeats of the 1,000,000-row task (lme4 takes minutes)
    quick: bool = False             # skip the big tasks
    lme4: bool = True               # time lme4 too when Rscript is present
    out_dir: Path = ROOT / "build" / "bench"
    shared: dict = field(default_factory=dict)  # sections may leave things for later sections


@dataclass
class Section:
    title: str
    func: Callable[[BenchContext], list[Row]]
    order: int = 50
    description: str = ""


SECTIONS: list[Section] = []


def section(title: str, order: int = 50, description: str = ""):
    """Decorator: register ``func(ctx) -> list[Row]`` as a section of the report."""
    def register(func):
        SECTIONS.append(Section(title=title, func=func, order=order,
                                description=description or (func.__doc__ or "").strip()))
        return func
    return register


def timed(func: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Run ``func`` ``repeats`` times; return (median wall seconds, the last result)."""
    times, result = [], None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _fmt_seconds(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 0.1:
        return f"{s * 1000:.1f} ms"
    return f"{s:.2f} s"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(results: list[tuple[Section, list[Row]]], header: str) -> str:
    lines = [header, ""]
    for sec, rows in results:
        lines += [f"### {sec.title}", ""]
        if sec.description:
            lines += [sec.description, ""]
        ratios = any(r.ratio is not None for r in rows)
        lines += ["| Task | Tool | Median time | Repeats |" + (" vs lme4 |" if ratios else "")
                  + " Result | Note |",
                  "|---|---|---:|---:|" + ("---:|" if ratios else "") + "---|---|"]
        for r in rows:
            ratio = (f" {f'x{r.ratio:.2f}' if r.ratio is not None else ''} |" if ratios else "")
            lines.append(f"| {_cell(r.task)} | {_cell(r.tool)} | {_fmt_seconds(r.seconds)} | {r.repeats} |"
                         f"{ratio} {_cell(r.result)} | {_cell(r.note)} |")
        lines.append("")
    return "\n".join(lines)


def as_json(results: list[tuple[Section, list[Row]]], meta: dict) -> dict:
    return {"meta": meta,
            "sections": [{"title": s.title, "description": s.description,
                          "rows": [asdict(r) for r in rows]} for s, rows in results]}
