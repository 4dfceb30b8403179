"""Interactive explorations of chapter 2: see the variance components move.

Each function returns an :class:`~mlmcourse.explore.controls.Exploration`; put it last in a cell
to show its controls and its figure::

    from mlmcourse.explore import icc_explorer, noise_explorer
    icc_explorer()
    noise_explorer(dat)

The numbers come from pure functions (``sim``, ``classroom``), the pictures from ``figures``; the
chapter's models are fitted once per data set, in the chapter's one cache (``mlmcourse.chapter``).

Creating an exploration draws only the figure it shows first: the figures of other states (the
other source, scale or outcome) and the models only they need are built on first use and kept
(``functools.cache``): only the first change to such a state pays for it, going back is immediate.
"""
from __future__ import annotations

import functools

import ipywidgets as widgets

from ..errors import CourseError
from .classroom import (
    MODEL_LABELS,
    RI_MODEL,
    chapter_fit,
    noise_panel_data,
    partition_table,
    require_classroom,
    school_lines,
    school_slopes,
)
from .controls import STYLE, Exploration, float_slider, int_slider, sample_controls, wide
from .figures import (
    IccFigure,
    NoiseFigure,
    SeparateRegressionsFigure,
    VariancePartitionFigure,
    icc_alt_text,
    noise_alt_text,
    separate_regressions_alt_text,
    variance_partition_alt_text,
)
from .sim import icc_panel_data, noise_panel_simulated

__all__ = ["icc_explorer", "noise_explorer", "separate_regressions_explorer", "variance_partition_explorer"]

# --- 1. ICC and dependence ----------------------------------------------------------------------

def icc_explorer(sigma_zeta: float = 17.6, sigma_eps: float = 36.2, n_per_school: int = 10,
                 n_schools: int = 60, seed: int = 1) -> Exploration:
    """Simulate schools; compare the model's ICC with the correlation of pairs within a school.

    Defaults are the handout's estimates for ``mathkind ~ ses + (1|schoolid)`` (17.58 and 36.16).
    """
    figure = IccFigure()
    seed_box, button = sample_controls(seed)
    controls = {
        "sigma_zeta": float_slider("σζ: SD between schools", sigma_zeta, 0, 40),
        "sigma_eps": float_slider("σε: SD within a school", sigma_eps, 1, 60),
        "n_per_school": int_slider("students per school", n_per_school, 2, 40),
        "seed": seed_box,
    }

    def render(v):
        panel = icc_panel_data(v["sigma_zeta"], v["sigma_eps"], v["n_per_school"], n_schools, v["seed"])
        return figure.update(panel).png(), icc_alt_text(panel)

    return Exploration("ICC and dependence", controls, render, buttons={"new_sample": button},
                       note=f"{n_schools} simulated schools; the correlation in one sample varies around "
                            "the ICC: draw a few new samples")


# --- 2. Following the noise ---------------------------------------------------------------------

DATA_SOURCE = "the classroom data (schools)"
SIM_SOURCE = "a simulation (groups such as classrooms)"


def _one_student_share(data) -> float:
    """Share of classrooms with one student in the data (the handout's 'following the noise')."""
    sizes = data.groupby("classid").size()
    return float((sizes == 1).mean())


def noise_explorer(data, source: str = DATA_SOURCE, sigma_zeta: float = 10.0, share_single=None,
                   mean_size: int = 4, seed: int = 1) -> Exploration:
    """Show constructed mean-residual effects beside the mixed model's BLUPs (shrinkage).

    For the classroom data's schools, or for simulated groups with a chosen share of one-student
    groups.
    """
    data = require_classroom(data)
    data_panel = functools.cache(lambda: noise_panel_data(data))   # fits the chapter's models on first use
    figures = functools.cache(lambda _source: NoiseFigure())       # one per source: both stay drawn
    if share_single is None:
        share_single = round(_one_student_share(data), 2)
    seed_box, button = sample_controls(seed)
    controls = {
        "source": widgets.Dropdown(options=[DATA_SOURCE, SIM_SOURCE], value=source, description="groups from",
                                   style=STYLE, layout=wide()),
        "sigma_zeta": float_slider("σζ: true SD of group effects", sigma_zeta, 0, 30),
        "share_single": widgets.FloatSlider(value=share_single, min=0, max=0.9, step=0.01,
                                            description="share of one-student groups", style=STYLE,
                                            layout=wide(), continuous_update=False, readout_format=".0%"),
        "mean_size": int_slider("students in the other groups (mean)", mean_size, 2, 12),
        "seed": seed_box,
    }
    sim_controls = [controls[k] for k in ("sigma_zeta", "share_single", "mean_size", "seed")] + [button]

    def render(v):
        simulated = v["source"] == SIM_SOURCE
        for widget in sim_controls:
            widget.disabled = not simulated
        if simulated:
            panel = noise_panel_simulated(v["sigma_zeta"], v["share_single"], v["mean_size"], seed=v["seed"])
        else:
            panel = data_panel()
        return figures(v["source"]).update(panel).png(), noise_alt_text(panel)

    return Exploration("Following the noise", controls, render, buttons={"new_sample": button},
                       note="the sliders act on the simulation; σε is 36, as in the data")


# --- 3. Random intercepts vs separate regressions ------------------------------------------------

def default_school(data) -> int:
    """Return a school worth a first look.

    Of those with at least 8 students, the one whose own OLS intercept lies farthest from the
    average line's. Its random-intercept line is then visibly
    shifted from the average line, and visibly pulled back towards it from the school's own line
    (on the classroom data: school 103, shifted 28.5 down, its own line 29.8 lower still).
    """
    slopes = school_slopes(data).dropna()
    b0 = float(chapter_fit(data, RI_MODEL).fixef["(Intercept)"])
    candidates = slopes[slopes["n"] >= 8] if (slopes["n"] >= 8).any() else slopes
    return int((candidates["intercept"] - b0).abs().idxmax())


def separate_regressions_explorer(data, school=None, show_pooled: bool = True) -> Exploration:
    """Choose a school: its students, its random-intercept line and its own OLS line."""
    data = require_classroom(data)
    sizes = data.groupby("schoolid").size()
    school = default_school(data) if school is None else school
    if school not in sizes.index:
        raise CourseError(f"There is no school {school!r} in the data; choose one of {list(sizes.index)[:5]}...")
    figure = SeparateRegressionsFigure(school_lines(data, int(school)))
    options = [(f"school {s} ({n} students)", int(s)) for s, n in sizes.items()]
    controls = {
        "school": widgets.Dropdown(options=options, value=int(school), description="school", style=STYLE,
                                   layout=wide()),
        "show_pooled": widgets.Checkbox(value=show_pooled, description="show the OLS line that ignores schools",
                                        style=STYLE, layout=wide()),
    }

    def render(v):
        lines = school_lines(data, v["school"])
        return (figure.update(lines, v["show_pooled"]).png(),
                separate_regressions_alt_text(lines, v["show_pooled"]))

    return Exploration("Random intercepts vs separate regressions", controls, render,
                       note="mathkind ~ ses + (1|schoolid) against one regression per school")


# --- 4. Variance partition -----------------------------------------------------------------------

def _outcome(label: str) -> str:
    return label.split(" ", 1)[0]


def variance_partition_explorer(data, model: str = "mathkind ~ ses + (1|schoolid/classid)",
                                scale: str = "share") -> Exploration:
    """Show a stacked bar of school / classroom / residual variance for each of the chapter's models."""
    data = require_classroom(data)
    if model not in MODEL_LABELS:
        raise CourseError(f"'{model}' is not one of the chapter's models: choose one of {list(MODEL_LABELS)}.")
    table = functools.cache(lambda outcome: partition_table(data, outcome))   # fits its models on first use
    figure = functools.cache(lambda outcome, kind: VariancePartitionFigure(table(outcome), kind))
    controls = {
        "model": widgets.Dropdown(options=list(MODEL_LABELS), value=model, description="model",
                                  style={"description_width": "5em"}, layout=widgets.Layout(width="46em")),
        "scale": widgets.ToggleButtons(options=[("share of the total", "share"), ("variance", "variance")],
                                       value=scale, description="show", style={"description_width": "5em"}),
    }

    def render(v):
        outcome = _outcome(v["model"])
        png = figure(outcome, v["scale"]).update(v["model"]).png()
        return png, variance_partition_alt_text(table(outcome), v["model"])

    return Exploration("Variance partition", controls, render,
                       note="the chapter's models; choose one to see where its variance sits")
