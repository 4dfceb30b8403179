"""Creating an exploration draws only the figure it shows first; other states are drawn on first use.

Counted, not timed: the figures built, their full draws (a new background; a blitted update does
not count) and the chapter models asked for. A state drawn on first use must give the same PNG and
alt text as an exploration created in that state, and going back to a state seen before draws
nothing new. The times are in ``make bench`` (tests/benchmarks/bench_explore.py).
"""
from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from mlmcourse import chapter, load_classroom
from mlmcourse.explore import figures as ef
from mlmcourse.explore.explorers import (
    DATA_SOURCE,
    SIM_SOURCE,
    icc_explorer,
    noise_explorer,
    separate_regressions_explorer,
    variance_partition_explorer,
)

pytestmark = pytest.mark.slow   # the explorations fit the chapter's models and draw figures

GAIN_MODEL = "mathgain ~ (1|schoolid/classid)"   # what notebook 03 shows first


def same_picture(a: bytes, b: bytes) -> bool:
    """The same pixels, give or take one level of antialiasing (the separate-regressions figure
    draws its grey background students in an order that depends on the school it was built for)."""
    pa, pb = (np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int) for png in (a, b))
    return pa.shape == pb.shape and int(np.abs(pa - pb).max()) <= 1


@pytest.fixture
def drawn(monkeypatch):
    """While the test runs: figures built, full draws, and the labels of the chapter models asked for."""
    counts = {"figures": 0, "full_draws": 0, "fits": []}
    build, draw, fit = ef.new_figure, FigureCanvasAgg.draw, chapter.chapter_fit

    def counting_build(*args, **kwargs):
        counts["figures"] += 1
        return build(*args, **kwargs)

    def counting_draw(canvas, *args, **kwargs):
        counts["full_draws"] += 1
        return draw(canvas, *args, **kwargs)

    def recording_fit(data, label, *args, **kwargs):
        counts["fits"].append(label)
        return fit(data, label, *args, **kwargs)

    monkeypatch.setattr(ef, "new_figure", counting_build)
    monkeypatch.setattr(FigureCanvasAgg, "draw", counting_draw)
    monkeypatch.setattr(chapter, "chapter_fit", recording_fit)
    return counts


CREATIONS = {
    "icc": lambda dat: icc_explorer(),
    "noise, data": lambda dat: noise_explorer(dat),
    "noise, simulation": lambda dat: noise_explorer(dat, source=SIM_SOURCE),
    "separate regressions": lambda dat: separate_regressions_explorer(dat),
    "separate regressions, no pooled line": lambda dat: separate_regressions_explorer(dat, show_pooled=False),
    "variance partition": lambda dat: variance_partition_explorer(dat),
    "variance partition, notebook 03": lambda dat: variance_partition_explorer(dat, model=GAIN_MODEL),
}


@pytest.mark.parametrize("make", CREATIONS.values(), ids=CREATIONS.keys())
def test_creating_an_exploration_builds_and_draws_one_figure(dat, drawn, make):
    e = make(dat)
    assert (drawn["figures"], drawn["full_draws"]) == (1, 1)
    assert e.png and e.alt


def test_creating_an_exploration_fits_only_the_models_its_first_figure_shows(dat, drawn):
    variance_partition_explorer(dat, model=GAIN_MODEL)
    assert drawn["fits"] and all(label.startswith("mathgain ") for label in drawn["fits"])
    drawn["fits"].clear()
    noise_explorer(dat, source=SIM_SOURCE)
    assert drawn["fits"] == []
    separate_regressions_explorer(dat)     # the pooled OLS line is solved directly: no lm fit
    assert set(drawn["fits"]) == {chapter.RI_MODEL}


# Per exploration: changes of one control each to states not seen yet (a new figure, background
# or set of fits for most of them), and how many figures they need in all
FIRST_USES = {
    "noise": (noise_explorer, [("source", SIM_SOURCE), ("mean_size", 10), ("source", DATA_SOURCE)], 2),
    "separate regressions": (separate_regressions_explorer,
                             [("show_pooled", False), ("school", 12), ("show_pooled", True)], 1),
    "variance partition": (variance_partition_explorer,
                           [("model", GAIN_MODEL), ("scale", "variance"), ("model", chapter.OLS_MODEL),
                            ("scale", "share")], 4),
}


@pytest.mark.parametrize("explorer, changes, _", FIRST_USES.values(), ids=FIRST_USES.keys())
def test_a_state_drawn_on_first_use_equals_one_drawn_at_creation(dat, explorer, changes, _):
    e = explorer(dat)
    for name, value in changes:
        e.controls[name].value = value
        eager = explorer(dat, **e.values)
        assert same_picture(e.png, eager.png) and e.alt == eager.alt, f"after {name} = {value!r}"


@pytest.mark.parametrize("explorer, changes, figures", FIRST_USES.values(), ids=FIRST_USES.keys())
def test_going_back_to_a_state_seen_before_draws_nothing_new(dat, drawn, explorer, changes, figures):
    e = explorer(dat)
    seen = [(e.values, e.png, e.alt)]
    for name, value in changes:
        e.controls[name].value = value
        seen.append((e.values, e.png, e.alt))
    built, full = drawn["figures"], drawn["full_draws"]
    assert built == figures              # each built on first use, once
    for values, png, alt in reversed(seen[:-1]):      # one control back at a time: only seen states
        for name, value in values.items():
            e.controls[name].value = value
        assert e.values == values and e.png == png and e.alt == alt
    assert (drawn["figures"], drawn["full_draws"]) == (built, full)


@pytest.mark.parametrize("explorer, changes, _", FIRST_USES.values(), ids=FIRST_USES.keys())
def test_later_states_show_the_data_as_they_were_at_creation(explorer, changes, _):
    """States are drawn on first use: changing the notebook's frame in place afterwards must not
    reach them (the exploration keeps its own copy)."""
    dat = load_classroom()
    e = explorer(dat)
    dat["mathkind"] = dat["mathkind"] + 100.0       # the notebook goes on and changes its frame
    dat.loc[dat.index[:50], "ses"] = np.nan
    for name, value in changes:
        e.controls[name].value = value
        fresh = explorer(load_classroom(), **e.values)
        assert same_picture(e.png, fresh.png) and e.alt == fresh.alt, f"after {name} = {value!r}"
