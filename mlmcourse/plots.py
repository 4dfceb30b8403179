"""The course's figure style, and the one figure that Python has no short way to draw.

The notebooks draw their figures themselves, with seaborn and matplotlib, as a student would.
What they get from here:

- ``set_style()``: the one call a notebook makes before its first figure. seaborn's whitegrid
  look and "colorblind" palette, fonts sized for a projector, inline PNGs at 120 dpi, layouts
  that make room for labels by themselves. ``set_style(lecture=True)`` (or lecture mode,
  ``mlmcourse.lecture``) makes fonts 1.3 times larger and lines thicker. Nothing is styled on import.
- ``style_rc()``: the same style as a dict of rcParams; the explorations draw in it
  (``mlmcourse.explore.render``), so notebook figures and explorations look alike.
- ``path_diagram()``: conceptualization #2 as a path diagram.

Why 120 dpi and not ``%config InlineBackend.figure_format = "retina"``: a 1280 x 720 projector
shows one CSS pixel per device pixel, so retina's doubled resolution is thrown away there while
it quadruples the PNGs' size and halves their displayed size (smaller text). At 120 dpi the
default 9.6-inch figure is 1152 pixels wide, as wide as JupyterLab's output area on such a
screen: the browser shows it at its own size or shrinks it a little, never blows it up, so lines
and text stay sharp; a 11-point tick label is 18 pixels high.
"""
from __future__ import annotations

import warnings

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from .lecture import is_lecture, subscribe

__all__ = [
    "DPI",
    "FIGSIZE",
    "describe_profile",
    "palette",
    "path_diagram",
    "plot_profile",
    "set_style",
    "style_rc",
]

DPI = 120
FIGSIZE = (9.6, 4.8)          # inches: 1152 x 576 pixels at DPI
LECTURE_FONT_SCALE = 1.3 / 1.5
_LECTURE = {"on": False, "applied": False}


def palette() -> list:
    """Return the course's colours: seaborn's colorblind palette."""
    return sns.color_palette("colorblind")


def style_rc(lecture: bool = False) -> dict:
    """Return the course's figure style as rcParams.

    Seaborn's whitegrid style and colorblind palette, its "notebook" context ("talk" for lecture
    mode: fonts 1.3 times larger, thicker lines), 120 dpi, a 9.6 x 4.8 inch default figure, bold
    titles, and automatic layout.
    """
    colors = palette()
    # lecture: seaborn's "talk" context, scaled to 1.3 times the notebook's font sizes (talk alone is
    # 1.5 times: too large for the figures' fixed sizes, e.g. the small panels of notebook 02)
    if lecture:
        context = sns.plotting_context("talk", font_scale=LECTURE_FONT_SCALE)
    else:
        context = sns.plotting_context("notebook")
    rc = {**sns.axes_style("whitegrid"), **context}
    rc.update({
        "axes.prop_cycle": mpl.cycler(color=colors),
        "patch.facecolor": colors[0],
        "image.cmap": "viridis",
        "lines.linewidth": 3.0 if lecture else 2.0,
        "axes.titleweight": "bold",
        "figure.titleweight": "bold",
        "figure.titlesize": rc["axes.titlesize"] * 1.1,
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "figure.figsize": FIGSIZE,
        # tight_layout at every draw: labels never overlap or get cut, with no call in the cell
        # (and seaborn's FacetGrid, which calls tight_layout itself, does not warn as it would
        # under constrained layout)
        "figure.autolayout": True,
        "legend.frameon": True,
        "legend.framealpha": 0.9,
    })
    return rc


def set_style(lecture: bool | None = None) -> None:
    """Apply the course's figure style (see ``style_rc``): the one call a notebook makes before drawing.

    ``lecture=True``: larger fonts and thicker lines for a projector; by default, whatever lecture
    mode says (``mlmcourse.lecture``).
    """
    if lecture is None:
        lecture = is_lecture()
    _LECTURE["on"] = bool(lecture)
    _LECTURE["applied"] = True
    mpl.rcParams.update(style_rc(bool(lecture)))
    # seaborn 0.13.2's boxplot still passes matplotlib's `vert`, deprecated in matplotlib 3.11:
    # the warning is about seaborn's code, not the student's, so it is kept out of their outputs
    warnings.filterwarnings("ignore", message=r"vert: bool was deprecated",
                            category=mpl.MatplotlibDeprecationWarning)


def _follow_lecture_mode() -> None:
    """Lecture mode switched: restyle, if the notebook asked for the course's style."""
    if _LECTURE.get("applied") and _LECTURE["on"] != is_lecture():
        set_style(lecture=is_lecture())


subscribe(_follow_lecture_mode)


def _scale() -> float:
    return 1.3 if _LECTURE["on"] else 1.0


# --- 2.1.1 conceptualization #2 ------------------------------------------------------------

def path_diagram(n_students: int = 2):
    """Draw conceptualization #2 as a path diagram: a school's trait behind its students' errors.

    A latent school trait zeta_k drives the composite errors epsilon'_ijk = zeta_k + epsilon_ijk
    of the students in school k (the handout's "structured error terms"), and through them their
    outcomes Y_ijk. Returns the Figure (drawn with pyplot, so a notebook shows it at the end of
    the cell).
    """
    s = _scale()
    fig, ax = plt.subplots(figsize=(9.6, 5.4))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 7.0)
    ax.axis("off")
    colors = palette()
    fs = 15 * s
    latent = Circle((1.6, 3.0), 0.85, facecolor=(*colors[1], 0.25), edgecolor=colors[1], lw=2.5)
    ax.add_patch(latent)
    ax.text(1.6, 3.0, r"$\zeta_k$", ha="center", va="center", fontsize=fs + 4)
    ax.text(1.6, 1.75, "latent school trait\n(not observed)", ha="center", va="top", fontsize=fs - 3)
    subs = ["ijk", "i'j'k", "i''j''k"][:n_students]
    ys = np.linspace(5.0, 1.2, len(subs)) if len(subs) > 1 else [3.0]
    for sub, y in zip(subs, ys):
        err = Circle((5.0, y), 0.72, facecolor=(*colors[0], 0.18), edgecolor=colors[0], lw=2)
        ax.add_patch(err)
        ax.text(5.0, y, rf"$\varepsilon'_{{{sub}}}$", ha="center", va="center", fontsize=fs)
        box = FancyBboxPatch((7.6, y - 0.5), 1.7, 1.0, boxstyle="round,pad=0.05",
                             facecolor=(*colors[2], 0.18), edgecolor=colors[2], lw=2)
        ax.add_patch(box)
        ax.text(8.45, y, rf"$Y_{{{sub}}}$", ha="center", va="center", fontsize=fs)
        for (x0, y0, x1, y1) in ((2.45, 3.0, 4.28, y), (5.72, y, 7.55, y)):
            ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=22 * s,
                                         lw=2.2, color="0.25"))
        ax.add_patch(FancyArrowPatch((5.0, y + 1.25), (5.0, y + 0.74), arrowstyle="-|>",
                                     mutation_scale=16 * s, lw=1.5, color="0.45"))
        ax.text(5.0, y + 1.3, rf"$\varepsilon_{{{sub}}}$ (own noise)", ha="center", va="bottom",
                fontsize=fs - 3, color="0.3")
    ax.text(5.0, 0.1, r"composite errors $\varepsilon'$", ha="center", fontsize=fs - 3)
    ax.text(8.45, 0.1, "observed outcomes", ha="center", fontsize=fs - 3)
    ax.set_title("One latent trait per school, shared by every student's error\n"
                 "and so by every outcome in that school (school k)")
    return fig


# --- profile likelihood: lme4's xyplot(profile(m)) ----------------------------------------

PROFILE_LEVELS = (0.5, 0.8, 0.9, 0.95, 0.99)   # lme4's xyplot.thpr default levels


def _profile_of(model):
    from .engine.profile import LikelihoodProfile, profile
    return model if isinstance(model, LikelihoodProfile) else profile(model)


def plot_profile(model, parm=None, levels=PROFILE_LEVELS, ncols: int | None = None):
    """Plot lme4's profile (zeta) plot, ``xyplot(profile(m))``.

    One panel per parameter, zeta against the parameter's value, with a vertical line at each
    confidence level's two ends.

    zeta = sign(value - estimate) * sqrt(deviance rise): 0 at the estimate, +-1.96 at the 95%
    interval's ends (the dashed lines), so the interval is read off the x axis where the curve
    crosses them. A straight line means a Wald interval would do; a bent one, that only the profile
    is right. A curve that stops above -1.96 at an SD of 0 is the boundary: the interval starts at 0.

    ``model``: a fitted lmer model (or a ``profile(m)``, to reuse its evaluations); ``parm``: as in
    ``confint`` (a name, a list, "theta_" or "beta_"); ``levels``: confidence levels of the lines;
    ``ncols``: panels per row (by default one for up to three panels, two for more, so that the
    figure stays readable on a 1280 x 720 screen). Returns the Figure. Alt text for a notebook:
    ``describe_profile(m)``. In a notebook::

        from mlmcourse import profile, confint
        from mlmcourse.plots import plot_profile
        prof = profile(fit3)           # profiled once, shared by the table and the figure
        confint(prof)
        plot_profile(prof);
    """
    from scipy.interpolate import PchipInterpolator
    from scipy.stats import norm

    from .engine.confint import check_level, select_parameters
    from .engine.sdcor import parameter_names

    prof = _profile_of(model)
    levels = tuple(sorted(check_level(lv) for lv in levels))
    names = select_parameters(parm, *parameter_names(prof.model))
    n = len(names)
    if ncols is None:
        ncols = 1 if n <= 3 else 2
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    s = _scale()
    # the course's full width (1152 px at 120 dpi) and at most 720 px high: large panels, large type
    fig, axes = plt.subplots(nrows, ncols, figsize=(FIGSIZE[0], min(6.0, 1.75 * nrows + 1.0)),
                             squeeze=False, sharey=True)
    tick, label = 12 * s, 13 * s
    colors = palette()
    zmax = norm.ppf(0.5 + levels[-1] / 2)
    for ax, name in zip(axes.flat, names):
        xs, zs, ends = prof.zeta_curve(name, levels)
        keep = np.abs(zs) <= zmax * 1.0001
        xs, zs = xs[keep], zs[keep]
        grid = np.linspace(xs[0], xs[-1], 200)
        ax.axhline(0, color="0.3", lw=1)
        for lv in levels:
            main = abs(lv - 0.95) < 1e-12
            style = {"color": colors[1] if main else "0.6", "lw": (2.0 if main else 1.0) * s,
                     "ls": "--" if main else ":"}
            for x in ends[lv]:
                ax.plot([x, x], [0, prof.zeta(name, x)], **style)
        ax.plot(grid, PchipInterpolator(xs, zs)(grid), color=colors[0], lw=2.2 * s)
        par = prof.param(name)
        ax.plot(par.estimate, 0, "o", color=colors[0], ms=5 * s)
        if par.kind == "sd" and ends[levels[-1]][0] == 0.0:     # the curve stops at SD = 0
            z0 = prof.zeta(name, 0.0)
            ax.plot(0.0, z0, "s", color=colors[3], ms=6 * s)
            ax.annotate("SD = 0: the boundary", (0.0, z0), xytext=(8, -2),
                        textcoords="offset points", va="top", fontsize=tick, color=colors[3])
        # in narrow panels, long labels ('sd_(Intercept)|classid:schoolid') break before the group
        wrap = ncols > 2 and len(name) > 26
        ax.set_title(name.replace("|", "\n|", 1) if wrap else name, fontsize=label)
        ax.tick_params(labelsize=tick)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(r"$\zeta$", fontsize=label)
        ax.set_yticks([-2, -1, 0, 1, 2] if s == 1 else [-2, 0, 2])   # lecture type needs room
    others = ", ".join(f"{100 * lv:g}%" for lv in levels if abs(lv - 0.95) > 1e-12)
    title = "Profile zeta plot"
    if any(abs(lv - 0.95) < 1e-12 for lv in levels):
        title += ": the 95% interval's ends dashed (zeta = ±1.96)"
    fig.suptitle(title + (f";\ndotted: {others}" if others else ""), fontsize=label)
    return fig


def describe_profile(model, level: float = 0.95) -> str:
    """Return a sentence describing ``plot_profile(model)`` for its alt text and caption.

    The panels and each parameter's interval at ``level``, with the ends at a boundary named as
    such.
    """
    from scipy.stats import norm

    from .engine.confint import confint
    prof = _profile_of(model)
    ci = confint(prof, level=level)
    parts = []
    for name, (lo, hi) in ci.iterrows():
        par = prof.param(name)
        lo_text = "0 (the boundary)" if par.kind == "sd" and lo == 0 else f"{lo:.4g}"
        parts.append(f"{name} from {lo_text} to {hi:.4g}")
    z = norm.ppf(0.5 + level / 2)
    return (f"Profile zeta plot, one panel per parameter: zeta rises through 0 at each estimate; "
            f"the {100 * level:g}% intervals, read where the curves cross -{z:.2f} and {z:.2f}, "
            "run " + "; ".join(parts) + ".")
