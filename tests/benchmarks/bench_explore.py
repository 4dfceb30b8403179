"""Bench section: how long creating each exploration and one control move take (goal: under 150 ms).

A move is timed from setting the widget's value to the new PNG being ready (the callback runs
synchronously: computation + figure update + PNG encoding). Sending the image to the browser is
not included; the browser test (tests/test_browser_explore.py) sees the whole round trip.

Creating an exploration draws only its first figure; a state not seen yet (another figure, axis
range or set of fits) is drawn on its first use and kept. So three times are reported: creation,
the FIRST change to each such state (the worst a student sees, once) and the median of repeated
moves. Creation and the worst first change are also timed in a fresh process, as in a notebook's
first explorer cell (imports, the chapter's fits and matplotlib's first draw included).

    python tests/benchmarks/bench_explore.py                # prints the in-process table alone
    python tests/benchmarks/bench_explore.py --fresh NAME   # one fresh-process run, as JSON
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchlib import Row, section

GOAL_MS = 150.0
GAIN_MODEL = "mathgain ~ (1|schoolid/classid)"          # what notebook 03 shows first
KIND_MODEL = "mathkind ~ ses + (1|schoolid/classid)"


def _set(widget, value) -> float:
    """Set a control's value (its callback redraws at once); milliseconds."""
    start = time.perf_counter()
    widget.value = value
    return (time.perf_counter() - start) * 1000


def _moves(widget, values, repeats: int) -> list[float]:
    """Set ``widget.value`` to each of ``values`` in turn, ``repeats`` times; times in ms."""
    times = []
    for i in range(repeats):
        value = values[i % len(values)]
        if widget.value == value:           # no change, no callback: take the next value
            value = values[(i + 1) % len(values)]
        times.append(_set(widget, value))
    return times


def scenarios(dat) -> dict:
    """Per exploration: how its notebook creates it, and the changes that first show a state not
    drawn yet, in order: (control, value, what is new)."""
    from mlmcourse.explore.explorers import (
        SIM_SOURCE,
        icc_explorer,
        noise_explorer,
        separate_regressions_explorer,
        variance_partition_explorer,
    )

    return {
        "icc_explorer": (icc_explorer, [("sigma_zeta", 30.0, "σζ (every state shares one background)")]),
        "noise_explorer": (lambda: noise_explorer(dat), [
            ("source", SIM_SOURCE, "data -> simulation (a second figure)"),
            ("mean_size", 10, "larger groups (a new axis range)")]),
        "separate_regressions_explorer": (lambda: separate_regressions_explorer(dat), [
            ("show_pooled", False, "hide the pooled line (a new legend and background)")]),
        "variance_partition_explorer": (lambda: variance_partition_explorer(dat, model=GAIN_MODEL), [
            ("scale", "variance", "share -> variance (a second figure)"),
            ("model", KIND_MODEL, "a mathkind model (fits 3 models, a third figure)"),
            ("scale", "share", "variance -> share of mathkind (a fourth figure)")]),
    }


def first_use(make, changes) -> tuple[object, float, list[tuple[str, float]]]:
    """Create an exploration and make its first changes: (exploration, create ms, [(what, ms)])."""
    start = time.perf_counter()
    e = make()
    create = (time.perf_counter() - start) * 1000
    return e, create, [(what, _set(e.controls[name], value)) for name, value, what in changes]


def explore_update_times(repeats: int = 12) -> list[tuple[str, float]]:
    """Rows (what was timed, milliseconds: one-off, or the median of repeated moves), in one process."""
    from mlmcourse import load_classroom
    from mlmcourse.explore.explorers import DATA_SOURCE, SIM_SOURCE

    dat = load_classroom()
    rows: list[tuple[str, float]] = []
    made = {}
    for name, (make, changes) in scenarios(dat).items():
        made[name], create, firsts = first_use(make, changes)
        rows.append((f"{name}: create (its fits, the first figure)", create))
        rows += [(f"{name}: first change: {what}", ms) for what, ms in firsts]

    def add(name, times):
        rows.append((name, statistics.median(times)))

    icc, noise = made["icc_explorer"], made["noise_explorer"]
    sep, var = made["separate_regressions_explorer"], made["variance_partition_explorer"]
    add("icc_explorer: σζ slider", _moves(icc.controls["sigma_zeta"], [5.0, 17.5, 30.0, 40.0], repeats))
    add("icc_explorer: students-per-school slider", _moves(icc.controls["n_per_school"], [3, 10, 25, 40], repeats))
    add("icc_explorer: new sample button", _moves(icc.controls["seed"], list(range(2, 2 + repeats)), repeats))
    add("noise_explorer: data <-> simulation", _moves(noise.controls["source"], [SIM_SOURCE, DATA_SOURCE], repeats))
    noise.controls["source"].value = SIM_SOURCE
    noise.controls["mean_size"].value = 4
    add("noise_explorer: one-student share slider",
        _moves(noise.controls["share_single"], [0.0, 0.2, 0.5, 0.8], repeats))
    add("noise_explorer: σζ slider", _moves(noise.controls["sigma_zeta"], [2.0, 10.0, 20.0, 30.0], repeats))
    schools = [int(s) for s in sorted(dat["schoolid"].unique())]
    add("separate_regressions_explorer: school dropdown", _moves(sep.controls["school"], schools[:40], repeats))
    add("separate_regressions_explorer: pooled-line checkbox",
        _moves(sep.controls["show_pooled"], [False, True], repeats))
    models = list(var.controls["model"].options)
    add("variance_partition_explorer: model dropdown", _moves(var.controls["model"], models, repeats))
    add("variance_partition_explorer: share/variance toggle",
        _moves(var.controls["scale"], ["variance", "share"], repeats))
    return rows


def fresh_run(name: str) -> dict:
    """In this (fresh) process: seconds to import mlmcourse.explore, to create ``name`` and for
    each of its first changes."""
    from mlmcourse import load_classroom

    dat = load_classroom()
    start = time.perf_counter()
    import mlmcourse.explore  # noqa: F401
    imported = time.perf_counter() - start
    make, changes = scenarios(dat)[name]
    _, create, firsts = first_use(make, changes)
    return {"import": imported, "create": create / 1000, "first": [(what, ms / 1000) for what, ms in firsts]}


def fresh_times(name: str, repeats: int) -> dict:
    """:func:`fresh_run` in ``repeats`` new processes; the median of each time."""
    runs = [json.loads(subprocess.run([sys.executable, __file__, "--fresh", name], check=True, text=True,
                                      capture_output=True, cwd=Path(__file__).parent).stdout)
            for _ in range(repeats)]
    return {"import": statistics.median(r["import"] for r in runs),
            "create": statistics.median(r["create"] for r in runs),
            "first": [(what, statistics.median(r["first"][i][1] for r in runs))
                      for i, (what, _) in enumerate(runs[0]["first"])]}


@section("Interactive explorations: one control move", order=40)
def explorations(ctx):
    """Time from a control change to the new figure's PNG (goal under 150 ms per move): "first
    change" rows are the one-off first use of a state not drawn at creation, the others the median
    of repeated moves. "create" rows are one-off times when the exploration is shown; "fresh
    process" rows time its notebook cell in a new process (import of mlmcourse.explore apart)."""
    from mlmcourse import load_classroom

    repeats = max(12, ctx.repeats * 4)
    out = []
    for name, ms in explore_update_times(repeats):
        one_off = ": create" in name or ": first change" in name
        note = "within goal" if ms < GOAL_MS else f"over the {GOAL_MS:.0f} ms goal"
        out.append(Row(task=name, tool="mlmcourse.explore", seconds=ms / 1000, repeats=1 if one_off else repeats,
                       note="" if ": create" in name else ("once: " if one_off else "") + note))
    for name in scenarios(load_classroom()):
        t = fresh_times(name, max(1, ctx.repeats))
        what, worst = max(t["first"], key=lambda change: change[1])
        out.append(Row(task=f"{name}: create, fresh process", tool="mlmcourse.explore", seconds=t["create"],
                       repeats=max(1, ctx.repeats), result=f"after {t['import']:.2f} s to import mlmcourse.explore",
                       extra=t))
        out.append(Row(task=f"{name}: worst first change, fresh process", tool="mlmcourse.explore",
                       seconds=worst, repeats=max(1, ctx.repeats), result=what))
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fresh"]:
        print(json.dumps(fresh_run(sys.argv[2])))
    else:
        for name, ms in explore_update_times():
            print(f"{ms:9.1f} ms  {name}")
