"""The explorations' figures: pure functions from the computed numbers to a matplotlib Figure.

Each figure is a small class that builds its axes and artists once and ``update``s them in place:
a slider move then costs one redraw, not a rebuild (matplotlib's tick and text set-up is most of
a figure's cost). ``icc_figure(panel)`` and friends build a fresh one, so the figure is a pure
function of the numbers; the tests check that an updated figure equals a fresh one.
Figures use ``matplotlib.figure.Figure`` (not pyplot): nothing is shown twice in a notebook.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .classroom import SchoolLines
from .render import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    PURPLE,
    RED,
    TEXT_SIZE,
    TITLE_SIZE,
    LiveFigure,
    course_style,
    figure_png,
    new_figure,
    suptitle,
)
from .sim import GRAND_MEAN, IccPanel, NoisePanel

__all__ = [
    "IccFigure",
    "NoiseFigure",
    "SeparateRegressionsFigure",
    "VariancePartitionFigure",
    "figure_png",
    "icc_alt_text",
    "icc_figure",
    "icc_headline",
    "noise_alt_text",
    "noise_figure",
    "separate_regressions_alt_text",
    "separate_regressions_figure",
    "variance_partition_alt_text",
    "variance_partition_figure",
]

# --- 1. ICC and dependence ----------------------------------------------------------------------

MAX_SCHOOLS_SHOWN = 20
SCORE_RANGE = (GRAND_MEAN - 180.0, GRAND_MEAN + 180.0)   # fixed, so that spreads can be compared


class IccFigure(LiveFigure):
    """Left: simulated students by school; right: pairs of students from the same school."""

    @course_style
    def __init__(self):
        self.figure, (self.left, self.right) = new_figure([1.35, 1], bottom=0.17, top=0.76)
        left, right = self.left, self.right
        self.points = left.scatter([], [], s=12, color=BLUE, alpha=0.55, linewidths=0)
        self.means = left.hlines([], [], [], color=ORANGE, linewidth=2.5, label="school mean")
        self.grand = left.axhline(0, color="0.35", linestyle="--", linewidth=1, label="mean of all schools")
        left.set_xticks([])
        left.set_ylabel("Score")
        left.legend(loc="upper left", frameon=False)
        self.pairs = right.scatter([], [], s=10, color=PURPLE, alpha=0.45, linewidths=0)
        (self.diagonal,) = right.plot([], [], color="0.6", linewidth=1)
        self.diagonal.set_data(SCORE_RANGE, SCORE_RANGE)
        left.set_xlim(-0.7, MAX_SCHOOLS_SHOWN - 0.3)
        left.set_ylim(*SCORE_RANGE)
        right.set_xlim(*SCORE_RANGE)
        right.set_ylim(*SCORE_RANGE)
        right.set_aspect("equal", adjustable="box")
        right.set_xlabel("Score of one student")
        right.set_ylabel("Score of another student,\nsame school")
        self.left_title = left.set_title("", loc="left", fontsize=TITLE_SIZE)
        self.right_title = right.set_title("", loc="left", fontsize=TITLE_SIZE)
        self.headline = suptitle(self.figure, "")       # says what the current panel shows
        self._jitter = np.random.default_rng(0).uniform(-0.18, 0.18, 100_000)
        self.dynamic = [self.points, self.means, self.grand, self.pairs, self.left_title, self.right_title,
                        self.headline]

    @course_style
    def update(self, panel: IccPanel) -> IccFigure:
        """Redraw the figure for ``panel``: the schools' scores and the pairs of students; return the figure."""
        data = panel.data[panel.data["school"] <= MAX_SCHOOLS_SHOWN]
        means = data.groupby("school")["y"].mean().sort_values()
        rank = dict(zip(means.index, range(len(means))))
        x = data["school"].map(rank).to_numpy(float) + self._jitter[: len(data)]
        self.points.set_offsets(np.column_stack([x, data["y"].to_numpy()]))
        k = np.arange(len(means))
        self.means.set_segments([[(i - 0.35, m), (i + 0.35, m)] for i, m in zip(k, means.to_numpy())])
        grand = float(panel.data["y"].mean())
        self.grand.set_ydata([grand, grand])
        self.static_key = (len(means), panel.n_schools)
        self.left.set_xlabel(f"{len(means)} of the {panel.n_schools} simulated schools,\nsorted by their mean")
        self.left_title.set_text(f"Students by school, {panel.n_per_school} per school\n"
                                 f"σζ = {panel.sigma_zeta:g}, σε = {panel.sigma_eps:g}")

        pairs = panel.pairs
        self.pairs.set_offsets(np.column_stack([pairs["first"].to_numpy(), pairs["second"].to_numpy()]))
        self.right_title.set_text(f"Pairs within a school\nr = {panel.pair_correlation:.2f}, "
                                  f"model ICC = {panel.model_icc:.2f}")
        self.headline.set_text(icc_headline(panel))
        return self


def icc_headline(panel: IccPanel) -> str:
    """Return what the panel shows, in words: how much two students of one school resemble each other."""
    icc = panel.model_icc
    if icc < 0.05:
        how = "hardly resemble each other"
    elif icc < 0.2:
        how = "resemble each other a little"
    elif icc < 0.5:
        how = "clearly resemble each other"
    else:
        how = "resemble each other strongly"
    return f"ICC {icc:.2f}: two students of one school {how}"


def icc_figure(panel: IccPanel) -> Figure:
    """Return the ICC exploration's figure for ``panel``, drawn on a new figure."""
    return IccFigure().update(panel).figure


def icc_alt_text(panel: IccPanel) -> str:
    """Return the ICC figure in words (its alt text): what each side shows, with the panel's numbers."""
    shown = min(MAX_SCHOOLS_SHOWN, panel.n_schools)   # as the figure's x label says
    return (f"{icc_headline(panel)}. Left: simulated scores of {shown} of the {panel.n_schools} simulated "
            f"schools, sorted by their mean, with sigma_zeta {panel.sigma_zeta:g}, sigma_epsilon "
            f"{panel.sigma_eps:g} and {panel.n_per_school} students per school. Right: scatter of pairs of "
            f"students from the same school; in this sample their correlation is {panel.pair_correlation:.2f}, "
            f"the model's ICC is {panel.model_icc:.2f}.")


# --- 2. Following the noise ---------------------------------------------------------------------

SIM_EFFECT_LIMIT = 110.0   # simulated effects: fixed scale, so that the spread can be compared
SIM_SD_LIMIT = 60.0
SIM_SIZE_BANDS = (6, 12, 22)   # x-axis widths for simulated group sizes


class NoiseFigure(LiveFigure):
    """Left: constructed effects and BLUPs by group size; right: the SDs compared."""

    @course_style
    def __init__(self):
        self.figure, (self.left, self.right) = new_figure([1.1, 1], bottom=0.29, top=0.72, left=0.14,
                                                           wspace=0.32)
        left, right = self.left, self.right
        self.links = left.vlines([], [], [], color="0.7", linewidth=0.8)
        self.constructed = left.scatter([], [], s=22, facecolors="none", edgecolors=ORANGE, linewidths=1.2,
                                        label="constructed: the group's mean residual")
        self.blups = left.scatter([], [], s=18, color=BLUE, label="mixed model: predicted effect (BLUP)")
        left.axhline(0, color="0.3", linewidth=1)
        left.set_ylabel("Estimated group effect\n(score points)")
        self.figure.legend(handles=[self.constructed, self.blups], loc="lower center", bbox_to_anchor=(0.5, 0.0),
                           ncol=2, frameon=False, columnspacing=1.6, handletextpad=0.3, markerscale=1.6)
        left.set_title("The fewer students, the more the mixed\nmodel shrinks a group's effect toward 0",
                       loc="left", fontsize=TITLE_SIZE)
        self.bars = list(right.bar([0, 1, 2], [0, 0, 0], color=[ORANGE, BLUE, GREEN], width=0.6))
        self.bar_labels = [right.text(i, 0, "", ha="center", va="bottom") for i in range(3)]
        right.set_xticks([0, 1, 2])
        right.set_xlim(-0.5, 2.5)
        right.set_ylabel("Standard deviation\n(score points)")
        self.right_title = right.set_title("", loc="left", fontsize=TITLE_SIZE)
        self.suptitle = suptitle(self.figure, "")
        self._jitter = np.random.default_rng(0).uniform(-0.25, 0.25, 100_000)
        self.dynamic = [self.links, self.constructed, self.blups, self.right_title, *self.bars, *self.bar_labels]

    def _set_static(self, panel: NoisePanel) -> None:
        g = panel.groups
        simulated = panel.sigma_zeta_true is not None
        if simulated:
            effects, sds = SIM_EFFECT_LIMIT, SIM_SD_LIMIT
        else:   # the data do not change: fit the scale to them
            effects = float(g[["constructed", "blup"]].abs().max().max()) * 1.08
            sds = max(panel.constructed_sd, panel.sigma_zeta_hat) * 1.2
        largest = int(g["size"].max())
        if simulated:       # a few fixed widths, so that most slider moves keep the axes (and stay fast)
            largest = next(width for width in (*SIM_SIZE_BANDS, largest) if largest <= width)
        key = (panel.source, panel.label, largest, round(effects, 6), round(sds, 6))
        if key == self.static_key:
            return
        self.static_key = key
        self.left.set_xlim(0.4, key[2] + 0.6)
        self.left.set_ylim(-effects, effects)
        self.left.set_xlabel(f"Students in the group\n({panel.label})")
        self.right.set_ylim(0, sds)
        names = ["SD of the\nmean\nresiduals", "σζ of the\nmixed\nmodel", "true σζ\nof the\nsimulation"]
        count = 3 if simulated else 2
        self.right.set_xticks(range(count), names[:count])
        self.right.set_xlim(-0.5, count - 0.5)
        source = "the classroom data" if panel.source == "data" else "a simulation"
        self.suptitle.set_text(f"Following the noise in {source}:\nmean residuals carry "
                               "the students' noise too")

    @course_style
    def update(self, panel: NoisePanel) -> NoiseFigure:
        """Redraw the figure for ``panel``: each group's constructed effect and its BLUP; return the figure."""
        self._set_static(panel)
        g = panel.groups
        x = g["size"].to_numpy(float) + self._jitter[: len(g)]
        c, b = g["constructed"].to_numpy(), g["blup"].to_numpy()
        self.links.set_segments(np.stack([np.column_stack([x, c]), np.column_stack([x, b])], axis=1))
        self.constructed.set_offsets(np.column_stack([x, c]))
        self.blups.set_offsets(np.column_stack([x, b]))
        simulated = panel.sigma_zeta_true is not None
        values = [panel.constructed_sd, panel.sigma_zeta_hat, panel.sigma_zeta_true if simulated else 0.0]
        top = self.right.get_ylim()[1]
        for bar, label, value in zip(self.bars, self.bar_labels, values):
            bar.set_height(value)
            label.set_position((bar.get_x() + bar.get_width() / 2, min(value, top * 0.93)))
            label.set_text(f"{value:.2f}")
        self.bars[2].set_visible(simulated)
        self.bar_labels[2].set_visible(simulated)
        over = panel.constructed_sd - panel.sigma_zeta_hat
        self.right_title.set_text(f"Mean residuals {'overstate' if over > 0 else 'understate'} σζ\n"
                                  f"by {abs(over):.1f} points")
        return self


def noise_figure(panel: NoisePanel) -> Figure:
    """Return the noise exploration's figure for ``panel``, drawn on a new figure."""
    return NoiseFigure().update(panel).figure


def noise_alt_text(panel: NoisePanel) -> str:
    """Return the noise figure in words (its alt text): how the small groups' BLUPs shrink, with the numbers."""
    g = panel.groups
    small = g.loc[g["size"] == g["size"].min()]
    ratio = float((small["blup"].abs().sum() + 1e-12) / (small["constructed"].abs().sum() + 1e-12))
    truth = "" if panel.sigma_zeta_true is None else f" The true sigma_zeta is {panel.sigma_zeta_true:.2f}."
    return (f"Left: for each of {len(g)} {panel.label}, the constructed effect (mean residual) and the "
            f"mixed model's BLUP against group size; in the smallest groups the BLUPs are {ratio:.0%} "
            f"of the constructed effects in size. Right: bars of the SD of the constructed effects, "
            f"{panel.constructed_sd:.2f}, and the mixed model's sigma_zeta, {panel.sigma_zeta_hat:.2f}.{truth}")


# --- 3. Random intercepts vs separate regressions ------------------------------------------------

SLOPE_LIMIT = 100.0


class SeparateRegressionsFigure(LiveFigure):
    """Left: one school's students and lines over all students; right: every school's own slope.

    One legend for both panels, in one row under them: green is the mixed model (the school's
    random-intercept line on the left, the one common slope on the right), orange the school's own
    regression (its line on the left, every school's own slope on the right); the chosen school's
    students and its ring are named in the panel titles instead of the legend.
    """

    @course_style
    def __init__(self, lines: SchoolLines):
        """Build the parts that do not depend on the chosen school (all students, all slopes)."""
        self.figure, (self.left, self.right) = new_figure([1.3, 1], bottom=0.22, top=0.655)
        left, right = self.left, self.right
        everyone = np.concatenate([lines.others.to_numpy(float), lines.points.to_numpy(float)])
        left.scatter(everyone[:, 0], everyone[:, 1], s=6, color="0.8", linewidths=0)
        xs = np.array([everyone[:, 0].min() - 0.2, everyone[:, 0].max() + 0.2])
        (self.fixed,) = left.plot(xs, lines.fixed[0] + lines.fixed[1] * xs, color="0.25", linestyle="--",
                                  linewidth=1.6, label="average line")
        (self.pooled,) = left.plot(xs, lines.pooled_ols[0] + lines.pooled_ols[1] * xs, color=PURPLE,
                                   linestyle="-.", linewidth=2, label="OLS ignoring schools")
        self.points = left.scatter([], [], s=42, color=BLUE, edgecolors="white", linewidths=0.6, zorder=4)
        (self.ri,) = left.plot([], [], color=GREEN, linewidth=2.8, zorder=5, label="mixed model")
        (self.own,) = left.plot([], [], color=ORANGE, linewidth=2.4, zorder=5, label="own OLS regression")
        left.set_xlim(*xs)
        lo, hi = float(everyone[:, 1].min()), float(everyone[:, 1].max())
        left.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        left.set_xlabel("SES")
        left.set_ylabel("Kindergarten math score")
        self.left_title = left.set_title("", loc="left", fontsize=TITLE_SIZE)

        slopes = lines.all_slopes.dropna()
        clipped = slopes["slope"].clip(-SLOPE_LIMIT, SLOPE_LIMIT)
        outside = slopes["slope"].abs() > SLOPE_LIMIT
        right.scatter(slopes.loc[~outside, "n"], clipped[~outside], s=16, color=ORANGE, alpha=0.6, linewidths=0)
        if outside.any():
            right.scatter(slopes.loc[outside, "n"], clipped[outside], s=30, marker="^", color=ORANGE)
            right.text(0.98, 0.03, f"▲ slope beyond ±{SLOPE_LIMIT:g}", transform=right.transAxes,
                       ha="right", va="bottom", fontsize=TEXT_SIZE, color="0.3",
                       bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
        right.axhline(lines.fixed[1], color=GREEN, linewidth=2.2)
        self.chosen = right.scatter([], [], s=130, facecolors="none", edgecolors=RED, linewidths=2, zorder=5)
        right.set_ylim(-SLOPE_LIMIT * 1.08, SLOPE_LIMIT * 1.08)
        right.set_xlim(0, float(slopes["n"].max()) + 1)
        right.set_xlabel("Students in the school")
        right.set_ylabel("Slope of SES")
        right.set_title("Each school's own OLS slope\n(ring: the chosen school)",
                        loc="left", fontsize=TITLE_SIZE)
        suptitle(self.figure, "A random intercept shifts the common line;\na separate regression fits its own slope")
        self._slopes = slopes
        self.dynamic = [self.points, self.ri, self.own, self.left_title, self.chosen]

    def _set_static(self, show_pooled: bool) -> None:
        """Show or hide the pooled line and its legend entry (a change of background)."""
        if self.static_key == show_pooled:
            return
        self.static_key = show_pooled
        self.pooled.set_visible(show_pooled)
        legends = self.__dict__.setdefault("_legends", {})
        if show_pooled not in legends:
            handles = [h for h in (self.fixed, self.pooled, self.ri, self.own) if h.get_visible()]
            legends[show_pooled] = self.figure.legend(handles=handles, loc="lower center", ncol=len(handles),
                                                      bbox_to_anchor=(0.5, 0.0), frameon=False,
                                                      columnspacing=1.0, handlelength=1.8, handletextpad=0.4)
        self.figure.legends[:] = [legends[show_pooled]]

    @course_style
    def update(self, lines: SchoolLines, show_pooled: bool = True) -> SeparateRegressionsFigure:
        """Redraw the figure for one school's lines (and the pooled line if ``show_pooled``); return the figure."""
        self._set_static(bool(show_pooled))
        pts = lines.points.to_numpy(float)
        self.points.set_offsets(pts)
        xs = np.array([pts[:, 0].min() - 0.3, pts[:, 0].max() + 0.3])
        for artist, line in ((self.ri, lines.random_intercept), (self.own, lines.own_ols)):
            if line is None:
                artist.set_data([], [])
            else:
                artist.set_data(xs, line[0] + line[1] * xs)
        own = (f"own OLS regression: slope {lines.own_ols[1]:.1f}" if lines.own_ols is not None
               else "too few students for its own regression")
        self.left_title.set_text(f"School {lines.school}: {len(pts)} students (blue)\n"
                                 f"mixed model: {_shift(lines)}, slope {lines.random_intercept[1]:.1f}\n{own}")
        if lines.school in self._slopes.index:
            row = self._slopes.loc[lines.school]
            self.chosen.set_offsets([[row["n"], np.clip(row["slope"], -SLOPE_LIMIT, SLOPE_LIMIT)]])
        else:
            self.chosen.set_offsets(np.empty((0, 2)))
        return self


def separate_regressions_figure(lines: SchoolLines, show_pooled: bool = True) -> Figure:
    """Return the separate-regressions figure for one school, drawn on a new figure."""
    return SeparateRegressionsFigure(lines).update(lines, show_pooled).figure


def _shift(lines: SchoolLines) -> str:
    """How far the school's random-intercept line lies from the average line (its effect zeta_k)."""
    zeta = lines.random_intercept[0] - lines.fixed[0]
    return f"{abs(zeta):.1f} {'above' if zeta >= 0 else 'below'} average"


def separate_regressions_alt_text(lines: SchoolLines, show_pooled: bool = True) -> str:
    """Return the separate-regressions figure in words (its alt text), with the school's lines."""
    own = ("has too few students for its own regression" if lines.own_ols is None else
           f"has its own OLS line with intercept {lines.own_ols[0]:.1f} and slope {lines.own_ols[1]:.1f}")
    pooled = (f", the OLS line ignoring schools (dash-dotted, slope {lines.pooled_ols[1]:.1f})" if show_pooled
              else "")
    return (f"Left: the {len(lines.points)} students of school {lines.school}, math score against SES, "
            f"with the average line (slope {lines.fixed[1]:.1f}){pooled} and the school's random-intercept line "
            f"(parallel, intercept {lines.random_intercept[0]:.1f}, {_shift(lines)}); the school {own}. Right: every "
            f"school's own OLS slope against its size, scattered around the common slope {lines.fixed[1]:.1f}.")


# --- 4. Variance partition -----------------------------------------------------------------------

LEVEL_COLORS = {"school": BLUE, "classroom": ORANGE, "residual": GREY}


def _wrap(label: str, width: int = 26) -> str:
    lines, line = [], ""
    for word in label.split(" "):
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


class VariancePartitionFigure(LiveFigure):
    """Stacked bars, one per model of one outcome; ``update`` frames the selected model."""

    @course_style
    def __init__(self, table, scale: str = "variance"):
        if scale not in ("variance", "share"):
            raise ValueError("scale must be 'variance' or 'share'")
        self.figure, (ax,) = new_figure([1], bottom=0.21, top=0.855, left=0.33, right=0.97)
        self.models = list(dict.fromkeys(table["model"]))[::-1]      # the first model on top
        wide = table.pivot(index="model", columns="level", values=scale).loc[self.models, list(LEVEL_COLORS)]
        totals = wide.sum(axis=1).to_numpy()
        start = np.zeros(len(self.models))
        for level, color in LEVEL_COLORS.items():
            values = wide[level].to_numpy()
            ax.barh(np.arange(len(self.models)), values, left=start, color=color, height=0.62,
                    label=level, edgecolor="white")
            for i, v in enumerate(values):
                if v > 0.06 * totals.max():
                    text = f"{v:.0%}" if scale == "share" else f"{v:.0f}"
                    ax.text(start[i] + v / 2, i, text, ha="center", va="center", fontsize=TEXT_SIZE,
                            color="black" if level == "residual" else "white")
            start += values
        ax.set_yticks(np.arange(len(self.models)))
        ax.set_yticklabels([_wrap(m) for m in self.models], fontsize=TEXT_SIZE)
        ax.set_ylim(-0.6, len(self.models) - 0.4)
        ax.set_xlabel("Share of the total variance" if scale == "share" else "Variance (score points²)")
        ax.set_xlim(0, 1.0 if scale == "share" else float(totals.max()) * 1.02)
        self.figure.legend(*ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=3,
                           frameon=False)
        self.frame = ax.add_patch(Rectangle((0, 0), 1, 0.82, fill=False, edgecolor=RED, linewidth=2.5,
                                            zorder=5, clip_on=False))
        self.ax, self.table, self.scale, self.totals = ax, table, scale, totals
        self.suptitle = suptitle(self.figure, "")
        self.dynamic = [self.frame, self.suptitle]
        self.static_key = scale

    @course_style
    def update(self, selected: str) -> VariancePartitionFigure:
        """Highlight the model ``selected`` and say its shares of the variance in the title; return the figure."""
        if selected not in self.models:
            raise ValueError(f"{selected!r} is not one of the models in this figure")
        row = self.models.index(selected)
        self.frame.set_bounds(-0.004 * self.ax.get_xlim()[1], row - 0.41, self.totals[row]
                              + 0.008 * self.ax.get_xlim()[1], 0.82)
        sel = self.table[self.table["model"] == selected].set_index("level")["share"]
        self.suptitle.set_text(f"{selected}\nschool {sel['school']:.0%}, classroom {sel['classroom']:.0%}, "
                               f"residual {sel['residual']:.0%} of the variance")
        return self


def variance_partition_figure(table, selected: str, scale: str = "variance") -> Figure:
    """Return the variance-partition figure with the model ``selected`` highlighted, drawn on a new figure."""
    return VariancePartitionFigure(table, scale).update(selected).figure


def variance_partition_alt_text(table, selected: str) -> str:
    """Return the variance-partition figure in words (its alt text), with the selected model's variances."""
    sel = table[table["model"] == selected].set_index("level")
    return (f"Stacked horizontal bars of school, classroom and residual variance for the chapter's "
            f"models of this outcome; highlighted: {selected}, with school variance "
            f"{sel.loc['school', 'variance']:.1f}, classroom {sel.loc['classroom', 'variance']:.1f} and "
            f"residual {sel.loc['residual', 'variance']:.1f} "
            f"({sel.loc['school', 'share']:.0%}, {sel.loc['classroom', 'share']:.0%}, "
            f"{sel.loc['residual', 'share']:.0%}).")
