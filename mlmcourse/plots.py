"""The handout's figures, drawn with seaborn/matplotlib.

Every function returns a matplotlib Figure (nothing is drawn on a global figure), with labelled
axes and a title that says what to look for. ``show(fig, alt=...)`` displays a figure in a
notebook with alt text and closes it. ``set_style()`` applies the course's style (call it once,
before the first figure); ``set_style(lecture=True)`` makes everything bigger for a projector.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from .errors import CourseError
from .lecture import is_lecture, subscribe

__all__ = ["set_style", "show", "palette", "r_density", "school_scatter", "residual_boxplot",
           "group_means_by_index", "group_means_density", "weighted_vs_unweighted_density",
           "classroom_density", "noise_by_group_size", "path_diagram", "latent_trait_strips",
           "random_intercept_lines", "separate_vs_random", "level2_intercepts"]

_LECTURE = {"on": False, "applied": False}


def palette() -> list:
    """The course's colours: seaborn's colorblind palette."""
    return sns.color_palette("colorblind")


def set_style(lecture: bool | None = None) -> None:
    """Apply the course's figure style (seaborn's whitegrid, colorblind palette): the one call a
    notebook makes before drawing. ``lecture=True``: larger fonts and thicker lines for a
    projector; by default, whatever lecture mode says (``mlmcourse.lecture``). Nothing is
    styled on import."""
    if lecture is None:
        lecture = is_lecture()
    _LECTURE["on"] = bool(lecture)
    _LECTURE["applied"] = True
    sns.set_theme(context="talk" if lecture else "notebook", style="whitegrid",
                  palette="colorblind", font_scale=1.15 if lecture else 1.0,
                  rc={"lines.linewidth": 3.0 if lecture else 1.8,
                      "axes.titleweight": "bold", "axes.titlesize": "medium",
                      "figure.titlesize": "large",
                      "figure.dpi": 100, "savefig.dpi": 100, "savefig.bbox": "tight"})


def _follow_lecture_mode() -> None:
    """Lecture mode switched: restyle, if the notebook asked for the course's style."""
    if _LECTURE.get("applied") and _LECTURE["on"] != is_lecture():
        set_style(lecture=is_lecture())


subscribe(_follow_lecture_mode)


def _scale() -> float:
    return 1.3 if _LECTURE["on"] else 1.0


def show(fig, alt: str) -> None:
    """Display ``fig`` in the notebook with ``alt`` as its alternative text, then close it."""
    if not alt or not alt.strip():
        raise CourseError("Every figure needs alt text: describe in a sentence what it shows.")
    from IPython.display import display
    display(fig, metadata={"image/png": {"alt": alt}})
    plt.close(fig)


def _need(data: pd.DataFrame, cols) -> None:
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise CourseError(f"The data has no column {', '.join(missing)}; "
                          f"it has {', '.join(map(str, data.columns))}.")


# --- 2.1.2: constructing effects from residuals ------------------------------------------

def school_scatter(data: pd.DataFrame, fitted, x: str = "ses", y: str = "mathkind",
                   group: str = "schoolid", n_groups: int = 24, col_wrap: int = 6):
    """Scatter of y on x for the first ``n_groups`` schools, one panel each, with the pooled
    (single OLS) regression line in every panel."""
    _need(data, [x, y, group])
    df = data.assign(_fit=np.asarray(fitted, dtype=float))
    keep = sorted(df[group].unique())[:n_groups]
    df = df[df[group].isin(keep)].sort_values([group, x])
    s = _scale()
    nrow = int(np.ceil(len(keep) / col_wrap))
    fig, axes = plt.subplots(nrow, col_wrap, figsize=(2.3 * col_wrap * s, 2.0 * nrow * s),
                             sharex=True, sharey=True, squeeze=False)
    colors = palette()
    for ax, (g, d) in zip(axes.flat, df.groupby(group, sort=True)):
        ax.scatter(d[x], d[y], color=colors[0], s=16 * s, alpha=0.8, edgecolor="none")
        ax.plot(d[x], d["_fit"], color=colors[3], linewidth=2.0 * s)
        ax.set_title(f"school {g}", fontsize=10 * s, pad=3)
    for ax in axes.flat[len(keep):]:
        ax.set_visible(False)
    for ax in axes[-1, :]:
        ax.set_xlabel(x)
    for ax in axes[:, 0]:
        ax.set_ylabel(y)
    fig.suptitle(f"{y} against {x} in {len(keep)} schools, with the one pooled OLS line: "
                 "in some schools most students\nsit above the line, in others most sit "
                 "below it")
    # fixed margins instead of tight_layout: one draw less for 24 panels
    fig.subplots_adjust(left=0.055, right=0.99, bottom=0.08, top=0.87, wspace=0.1, hspace=0.32)
    return fig


def _tukey_box(v: np.ndarray):
    """Quartiles, whisker ends (most extreme points within 1.5 IQR) and outliers, as boxplot() draws."""
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    lo_fence, hi_fence = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
    inside = v[(v >= lo_fence) & (v <= hi_fence)]
    return q1, med, q3, inside.min(), inside.max(), v[(v < lo_fence) | (v > hi_fence)]


def _fast_boxes(ax, groups, color, width: float = 0.7) -> None:
    """Box plots drawn as a handful of collections (one bar set, three line sets, one scatter):
    the same picture as ``ax.boxplot`` but far fewer artists, so 100+ boxes render quickly."""
    stats = [_tukey_box(np.asarray(g, dtype=float)) for g in groups]
    x = np.arange(len(stats))
    q1, med, q3, wlo, whi = (np.array([st[i] for st in stats]) for i in range(5))
    ax.bar(x, q3 - q1, bottom=q1, width=width, color=(*color, 0.55), edgecolor="0.25", linewidth=0.8)
    ax.vlines(np.r_[x, x], np.r_[wlo, q3], np.r_[q1, whi], color="0.2", linewidth=0.8)
    ax.hlines(np.r_[wlo, whi], np.r_[x, x] - width / 4, np.r_[x, x] + width / 4, color="0.2", linewidth=0.8)
    ax.hlines(med, x - width / 2, x + width / 2, color="black", linewidth=1.4)
    fx = np.concatenate([np.full(len(st[5]), i) for i, st in enumerate(stats)] or [np.array([])])
    fy = np.concatenate([st[5] for st in stats] or [np.array([])])
    ax.scatter(fx, fy, s=5, facecolor="none", edgecolor="0.3", linewidth=0.6)


def residual_boxplot(resid, groups, label: str = "school"):
    """Box plot of residuals by group, groups ordered by their median residual."""
    df = pd.DataFrame({"resid": np.asarray(resid, dtype=float), "g": np.asarray(groups)})
    order = df.groupby("g")["resid"].median().sort_values().index
    s = _scale()
    fig, ax = plt.subplots(figsize=(13 * s, 4.8 * s))
    _fast_boxes(ax, [df.loc[df["g"] == g, "resid"].to_numpy() for g in order], palette()[0])
    ax.axhline(0, color=palette()[3], linewidth=1.5 * s)
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(order, rotation=90, fontsize=6 * s)
    ax.set_xlim(-0.8, len(order) - 0.2)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel(f"{label} (ordered by median residual)")
    ax.set_ylabel("OLS residual")
    ax.set_title(f"Residuals by {label}: the medians climb steadily from well below zero to well "
                 "above it,\nso residuals share a level within a school (they are not independent)")
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.17, top=0.88)  # (no tight_layout: faster)
    return fig


def group_means_by_index(means, label: str = "school"):
    """Group-mean residuals plotted against their position (the x-axis only spreads them out)."""
    m = np.asarray(means, dtype=float)
    s = _scale()
    fig, ax = plt.subplots(figsize=(8 * s, 4.2 * s))
    ax.scatter(np.arange(1, len(m) + 1), m, color=palette()[0], s=28 * s)
    ax.axhline(0, color="0.5", linewidth=1.5 * s)
    ax.set_xlabel(f"{label} index (arbitrary order)")
    ax.set_ylabel(f"mean OLS residual in the {label}")
    ax.set_title(f"Each {label} has its own mean residual: far from zero for many of them")
    fig.tight_layout()
    return fig


def r_density(values, weights=None, n: int = 512):
    """A Gaussian kernel density estimate as R's ``density()`` draws it: bandwidth ``bw.nrd0``
    from the (unweighted) values, optional weights summing to 1, grid reaching 3 bandwidths
    past the data. Returns (grid, density)."""
    v = np.asarray(values, dtype=float)
    w = np.full(len(v), 1.0 / len(v)) if weights is None else np.asarray(weights, dtype=float)
    if len(w) != len(v):
        raise CourseError("density weights: give one weight per value.")
    w = w / w.sum()
    iqr = np.subtract(*np.percentile(v, [75, 25]))
    lo = min(np.std(v, ddof=1), iqr / 1.34) or np.std(v, ddof=1) or 1.0
    bw = 0.9 * lo * len(v) ** -0.2
    grid = np.linspace(v.min() - 3 * bw, v.max() + 3 * bw, n)
    z = (grid[:, None] - v[None, :]) / bw
    dens = (np.exp(-0.5 * z ** 2) / np.sqrt(2 * np.pi) / bw) @ w
    return grid, dens


def _density_line(ax, values, weights=None, color=None, label=None):
    grid, dens = r_density(values, weights)
    ax.plot(grid, dens, color=color, label=label, linewidth=2.0 * _scale())
    ax.fill_between(grid, dens, color=color, alpha=0.15)
    ax.set_ylim(bottom=0)


def group_means_density(means, label: str = "school"):
    """Density of the group-mean residuals, one value per group, with their SD."""
    m = np.asarray(means, dtype=float)
    s = _scale()
    fig, ax = plt.subplots(figsize=(7.5 * s, 4.2 * s))
    _density_line(ax, m, color=palette()[0])
    sns.rugplot(x=m, ax=ax, color=palette()[0], height=0.04)
    ax.set_xlabel(f"mean OLS residual per {label}")
    ax.set_ylabel("density")
    ax.set_title(f"{label.capitalize()} mean residuals: roughly symmetric around 0, "
                 f"SD = {np.std(m, ddof=1):.2f}")
    fig.tight_layout()
    return fig


def weighted_vs_unweighted_density(means, weights, label: str = "school"):
    """Two panels: density with one value per group, and weighted by group size."""
    m = np.asarray(means, dtype=float)
    s = _scale()
    fig, axes = plt.subplots(1, 2, figsize=(13 * s, 4.4 * s), sharex=True)
    colors = palette()
    _density_line(axes[0], m, color=colors[0])
    axes[0].set_title(f"one value per {label}")
    _density_line(axes[1], m, weights=weights, color=colors[1])
    axes[1].set_title(f"weighted by {label} size (one value per student)")
    for ax in axes:
        ax.set_xlabel(f"mean OLS residual per {label}")
        ax.set_ylabel("density")
    fig.suptitle(f"Weighting by {label} size changes the shape:\na second bump appears near +25, "
                 f"where a few large {label}s sit", y=1.04)
    fig.tight_layout()
    return fig


def classroom_density(class_means):
    """Density of classroom means of school-differenced residuals."""
    m = np.asarray(class_means, dtype=float)
    s = _scale()
    fig, ax = plt.subplots(figsize=(7.5 * s, 4.2 * s))
    _density_line(ax, m, color=palette()[2])
    sns.rugplot(x=m, ax=ax, color=palette()[2], height=0.04)
    ax.set_xlabel("classroom mean of (residual - school mean residual)")
    ax.set_ylabel("density")
    ax.set_title(f"Constructed classroom effects: very spread out, SD = {np.std(m, ddof=1):.2f}")
    fig.tight_layout()
    return fig


def noise_by_group_size(constructed, sizes, predicted=None, label: str = "classroom"):
    """Constructed effects against group size, optionally beside the mixed model's predicted
    effects: one-student groups carry all their noise into the constructed 'effect'."""
    c = np.asarray(constructed, dtype=float)
    n = np.asarray(sizes, dtype=float)
    s = _scale()
    rng = np.random.default_rng(1)
    jitter = rng.uniform(-0.18, 0.18, len(n))
    colors = palette()
    fig, ax = plt.subplots(figsize=(9 * s, 4.8 * s))
    ax.scatter(n + jitter, c, s=22 * s, color=colors[0], alpha=0.7,
               label="constructed (mean residual)")
    if predicted is not None:
        ax.scatter(n + jitter, np.asarray(predicted, dtype=float), s=22 * s, color=colors[1],
                   marker="D", alpha=0.8, label="mixed model's predicted effect")
    ax.axhline(0, color="0.5", linewidth=1.2 * s)
    ax.set_xlabel(f"students in the {label}")
    ax.set_ylabel(f"{label} effect")
    ax.set_xticks(sorted(np.unique(n)))
    ax.legend(loc="upper right", frameon=True)
    ax.set_title(f"Small {label}s get the most extreme constructed effects: with one student, "
                 "all of\nthe noise is called 'effect'. The mixed model pulls small groups "
                 "towards 0")
    fig.tight_layout()
    return fig


# --- 2.1.1 conceptualization #2 and the appendix ------------------------------------------

def path_diagram(n_students: int = 2):
    """Conceptualization #2: a latent school trait zeta_k drives the structured errors
    epsilon'_ijk of the students in school k, and through them their outcomes Y_ijk."""
    s = _scale()
    fig, ax = plt.subplots(figsize=(9 * s, 5.2 * s))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 7.0)
    ax.axis("off")
    colors = palette()
    fs = 15 * s
    latent = Circle((1.6, 3.0), 0.85, facecolor=(*colors[1], 0.25), edgecolor=colors[1], lw=2.5)
    ax.add_patch(latent)
    ax.text(1.6, 3.0, r"$\zeta_k$", ha="center", va="center", fontsize=fs + 4)
    ax.text(1.6, 1.75, "latent school trait\n(not observed)", ha="center", va="top", fontsize=fs - 4)
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
                fontsize=fs - 5, color="0.3")
    ax.text(5.0, 0.1, "structured errors", ha="center", fontsize=fs - 4)
    ax.text(8.45, 0.1, "observed outcomes", ha="center", fontsize=fs - 4)
    ax.set_title("Conceptualization #2: one latent trait per school, shared by every student's\n"
                 "error and so by every outcome in that school (school k)")
    fig.tight_layout()
    return fig


def latent_trait_strips(resid, groups, n_groups: int = 12, label: str = "school"):
    """Residuals of a few groups as strips, with each group's mean (the crude latent trait)."""
    df = pd.DataFrame({"resid": np.asarray(resid, dtype=float), "g": np.asarray(groups)})
    means = df.groupby("g")["resid"].mean()
    big = df["g"].value_counts()
    keep = big[big >= 8].index[:n_groups] if (big >= 8).sum() >= 3 else big.index[:n_groups]
    keep = means.loc[list(keep)].sort_values().index
    sub = df[df["g"].isin(keep)]
    s = _scale()
    fig, ax = plt.subplots(figsize=(11 * s, 4.6 * s))
    colors = palette()
    sns.stripplot(data=sub, x="g", y="resid", order=list(keep), ax=ax, color=colors[0],
                  alpha=0.7, size=5 * s, jitter=0.18)
    for i, g in enumerate(keep):
        ax.plot([i - 0.35, i + 0.35], [means[g]] * 2, color=colors[1], linewidth=3.5 * s,
                label="mean residual (shared trait)" if i == 0 else None)
    ax.axhline(0, color="0.5", linewidth=1.2)
    ax.set_xlabel(f"{label} (the {len(keep)} largest, ordered by mean residual)")
    ax.set_ylabel("OLS residual")
    ax.legend(loc="upper left")
    ax.set_title(f"A shared {label} trait shifts all of its students' errors together:\n"
                 f"the orange bars move from below zero to above zero")
    fig.tight_layout()
    return fig


def random_intercept_lines(data: pd.DataFrame, intercepts: pd.Series, slope: float,
                           x: str = "ses", y: str = "mathkind", group: str = "schoolid",
                           overall_intercept: float | None = None, n_groups: int = 12):
    """Conceptualization #3: every school gets its own intercept beta_0k = b_0 + zeta_k and the
    same slope b_1 -- parallel lines."""
    _need(data, [x, y, group])
    s = _scale()
    fig, ax = plt.subplots(figsize=(9 * s, 5 * s))
    keep = list(intercepts.index[:n_groups])
    lo, hi = data[x].quantile([0.02, 0.98])
    xs = np.array([lo, hi])
    cmap = sns.color_palette("colorblind", len(keep))
    for g, c in zip(keep, cmap):
        d = data[data[group] == g]
        ax.scatter(d[x], d[y], color=c, s=14 * s, alpha=0.55)
        ax.plot(xs, intercepts[g] + slope * xs, color=c, linewidth=1.4 * s, alpha=0.9)
    if overall_intercept is not None:
        ax.plot(xs, overall_intercept + slope * xs, color="black", linewidth=3.5 * s,
                label=r"average line $b_0 + b_1 x$")
        ax.legend(loc="upper left")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(rf"Random intercepts: {len(keep)} schools, each with its own intercept "
                 r"$\beta_{0k}=b_0+\zeta_k$" "\nand the same slope: parallel lines")
    fig.tight_layout()
    return fig


def separate_vs_random(separate: pd.DataFrame, random_intercepts: pd.Series, sizes: pd.Series,
                       common_slope: float | None = None):
    """Intercepts from one regression per school against the mixed model's school intercepts.
    ``separate`` has columns 'intercept' and 'slope' indexed by school; ``common_slope`` is the
    mixed model's one slope, drawn across the per-school slopes."""
    common = separate.index.intersection(random_intercepts.index)
    sep = separate.loc[common]
    ri = random_intercepts.loc[common]
    n = sizes.loc[common]
    s = _scale()
    colors = palette()
    fig, axes = plt.subplots(1, 2, figsize=(13 * s, 4.8 * s))
    ax = axes[0]
    sc = ax.scatter(sep["intercept"], ri, c=n, cmap="viridis", s=(12 + 4 * n) * s, alpha=0.85,
                    edgecolor="0.3", linewidth=0.4)
    lims = [min(sep["intercept"].min(), ri.min()) - 5, max(sep["intercept"].max(), ri.max()) + 5]
    ax.plot(lims, lims, color="0.5", linestyle="--", linewidth=1.2, label="same value")
    ax.set_xlabel("intercept from a separate regression in the school")
    ax.set_ylabel(r"mixed-model intercept $\hat b_0+\hat\zeta_k$")
    ax.legend(loc="upper left")
    fig.colorbar(sc, ax=ax, label="students in the school")
    ax.set_title("Intercepts: the mixed model pulls\nsmall schools towards the average")
    ax = axes[1]
    ax.scatter(n, sep["slope"], color=colors[0], s=28 * s, alpha=0.8)
    ax.axhline(0, color="0.5", linewidth=1)
    if common_slope is not None:
        ax.axhline(common_slope, color=colors[1], linewidth=2.2,
                   label=f"mixed model: one slope for all schools ({common_slope:.2f})")
        ax.legend(loc="lower right")
    ax.set_xlabel("students in the school")
    ax.set_ylabel("ses slope from a separate regression")
    ax.set_title("Slopes: one noisy estimate per school from separate\n"
                 "regressions, one common slope in the mixed model")
    fig.tight_layout()
    return fig


def level2_intercepts(intercepts, b0: float, sigma_zeta: float):
    """Conceptualization #4: the level-2 'outcomes' beta_0k (not observed; here the model's
    predictions) and the level-2 distribution N(b_0, sigma_zeta^2) they are assumed to come from."""
    v = np.asarray(intercepts, dtype=float)
    s = _scale()
    colors = palette()
    fig, ax = plt.subplots(figsize=(8.5 * s, 4.4 * s))
    sns.histplot(x=v, ax=ax, stat="density", bins=18, color=colors[0], alpha=0.45,
                 label=r"predicted $\beta_{0k}$ (one per school)")
    grid = np.linspace(b0 - 4 * sigma_zeta, b0 + 4 * sigma_zeta, 300)
    dens = np.exp(-0.5 * ((grid - b0) / sigma_zeta) ** 2) / (sigma_zeta * np.sqrt(2 * np.pi))
    ax.plot(grid, dens, color=colors[1], linewidth=2.5 * s,
            label=rf"level 2: $N(b_0={b0:.1f},\ \sigma_{{\zeta_0}}={sigma_zeta:.2f})$")
    ax.axvline(b0, color=colors[1], linestyle="--", linewidth=1.2)
    ax.set_xlabel(r"school intercept $\beta_{0k}$")
    ax.set_ylabel("density")
    ax.legend(loc="upper left")
    ax.set_title("Level 2 is a regression whose outcome is the school intercept: the intercepts\n"
                 "scatter around $b_0$ (predictions are shrunk, so a bit less than the curve)")
    fig.tight_layout()
    return fig
