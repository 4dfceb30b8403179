"""Bench section: how long one control move of each exploration takes (goal: under 150 ms).

A move is timed from setting the widget's value to the new PNG being ready (the callback runs
synchronously: computation + figure update + PNG encoding). Sending the image to the browser is
not included; the browser test (tests/test_browser_explore.py) sees the whole round trip.

    python tests/benchmarks/bench_explore.py        # prints the table alone
"""
from __future__ import annotations

import statistics
import time

from benchlib import Row, section

GOAL_MS = 150.0


def _moves(widget, values, repeats: int) -> list[float]:
    """Set ``widget.value`` to each of ``values`` in turn, ``repeats`` times; times in ms."""
    times = []
    for i in range(repeats):
        value = values[i % len(values)]
        if widget.value == value:           # no change, no callback: take the next value
            value = values[(i + 1) % len(values)]
        start = time.perf_counter()
        widget.value = value
        times.append((time.perf_counter() - start) * 1000)
    return times


def explore_update_times(repeats: int = 12) -> list[tuple[str, float]]:
    """Rows (what was moved, median milliseconds per move) for the four explorations."""
    from mlmcourse import load_classroom
    from mlmcourse.explore.explorers import (
        DATA_SOURCE,
        SIM_SOURCE,
        icc_explorer,
        noise_explorer,
        separate_regressions_explorer,
        variance_partition_explorer,
    )

    dat = load_classroom()
    rows: list[tuple[str, float]] = []

    def add(name, times):
        rows.append((name, statistics.median(times)))

    def created(name, make):
        start = time.perf_counter()
        exploration = make()
        rows.append((f"{name}: create (fits the models once, draws the first figure)",
                     (time.perf_counter() - start) * 1000))
        return exploration

    icc = created("icc_explorer", icc_explorer)
    add("icc_explorer: σζ slider", _moves(icc.controls["sigma_zeta"], [5.0, 17.5, 30.0, 40.0], repeats))
    add("icc_explorer: students-per-school slider", _moves(icc.controls["n_per_school"], [3, 10, 25, 40], repeats))
    add("icc_explorer: new sample button", _moves(icc.controls["seed"], list(range(2, 2 + repeats)), repeats))

    noise = created("noise_explorer", lambda: noise_explorer(dat))
    add("noise_explorer: data <-> simulation", _moves(noise.controls["source"], [SIM_SOURCE, DATA_SOURCE], repeats))
    noise.controls["source"].value = SIM_SOURCE
    add("noise_explorer: one-student share slider",
        _moves(noise.controls["share_single"], [0.0, 0.2, 0.5, 0.8], repeats))
    add("noise_explorer: σζ slider", _moves(noise.controls["sigma_zeta"], [2.0, 10.0, 20.0, 30.0], repeats))

    sep = created("separate_regressions_explorer", lambda: separate_regressions_explorer(dat))
    schools = [int(s) for s in sorted(dat["schoolid"].unique())]
    add("separate_regressions_explorer: school dropdown", _moves(sep.controls["school"], schools[:40], repeats))
    add("separate_regressions_explorer: pooled-line checkbox",
        _moves(sep.controls["show_pooled"], [False, True], repeats))

    var = created("variance_partition_explorer", lambda: variance_partition_explorer(dat))
    models = list(var.controls["model"].options)
    add("variance_partition_explorer: model dropdown", _moves(var.controls["model"], models, repeats))
    add("variance_partition_explorer: share/variance toggle",
        _moves(var.controls["scale"], ["variance", "share"], repeats))
    return rows


@section("Interactive explorations: one control move", order=40)
def explorations(ctx):
    """Median time from a control change to the new figure's PNG (goal under 150 ms per move);
    "create" rows are one-off times when the exploration is first shown."""
    repeats = max(12, ctx.repeats * 4)
    out = []
    for name, ms in explore_update_times(repeats):
        one_off = ": create" in name
        out.append(Row(task=name, tool="mlmcourse.explore", seconds=ms / 1000,
                       repeats=1 if one_off else repeats,
                       note="" if one_off else ("within goal" if ms < GOAL_MS else f"over the {GOAL_MS:.0f} ms goal")))
    return out


if __name__ == "__main__":
    for name, ms in explore_update_times():
        print(f"{ms:9.1f} ms  {name}")
