"""Simulations and the numbers the explorations show (pure functions of the widget values)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine.inference import icc_from_sd
from ..errors import CourseError
from ..residuals import group_mean_residuals, within_group_pair_correlation
from .fastfit import fit_random_intercept

GRAND_MEAN = 466.0  # a kindergarten math score, so that simulated numbers look like the data's


def _check_positive(**values) -> None:
    for name, value in values.items():
        if not np.isfinite(value) or value < 0:
            raise CourseError(f"{name} must be a number >= 0 (got {value!r}); move the slider back into range.")


def simulate_schools(sigma_zeta: float, sigma_eps: float, n_per_school: int, n_schools: int,
                     seed: int = 1) -> pd.DataFrame:
    """Students in schools: y = mean + zeta_k + eps_ik, zeta ~ N(0, sigma_zeta^2), eps ~ N(0, sigma_eps^2).

    One row per student, columns ``school`` (1..n_schools), ``y``, ``zeta`` (the school's true effect).
    """
    _check_positive(sigma_zeta=sigma_zeta, sigma_eps=sigma_eps)
    if int(n_per_school) < 1 or int(n_schools) < 2:
        raise CourseError("Simulate at least 2 schools with at least 1 student each.")
    if sigma_zeta == 0 and sigma_eps == 0:
        raise CourseError("With both standard deviations at 0 every score is the same; raise one of them.")
    rng = np.random.default_rng(seed)
    n_per_school, n_schools = int(n_per_school), int(n_schools)
    zeta = rng.normal(0.0, sigma_zeta, n_schools)
    school = np.repeat(np.arange(1, n_schools + 1), n_per_school)
    eps = rng.normal(0.0, sigma_eps, n_schools * n_per_school)
    return pd.DataFrame({"school": school, "y": GRAND_MEAN + zeta[school - 1] + eps,
                         "zeta": zeta[school - 1]})


def model_icc(sigma_zeta: float, sigma_eps: float) -> float:
    """Return the ICC the model implies: sigma_zeta^2 / (sigma_zeta^2 + sigma_eps^2)."""
    _check_positive(sigma_zeta=sigma_zeta, sigma_eps=sigma_eps)
    return icc_from_sd(sigma_zeta, sigma_eps)


def sample_pairs(data: pd.DataFrame, max_pairs: int = 600, seed: int = 1) -> pd.DataFrame:
    """Random pairs of two different students from the same school (columns first, second)."""
    rng = np.random.default_rng(seed)
    order = data.sort_values("school", kind="stable")
    y = order["y"].to_numpy()
    sizes = order.groupby("school", sort=True).size().to_numpy()
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ok = sizes >= 2
    if not ok.any():
        return pd.DataFrame({"first": [], "second": []})
    per = max(1, max_pairs // int(ok.sum()))
    starts, sizes = np.repeat(starts[ok], per), np.repeat(sizes[ok], per)
    i = rng.integers(0, sizes)
    j = (i + rng.integers(1, sizes)) % sizes   # a different student of the same school
    return pd.DataFrame({"first": y[starts + i], "second": y[starts + j]})


@dataclass(frozen=True)
class IccPanel:
    """What the ICC figure shows."""

    data: pd.DataFrame        # the simulated students
    pairs: pd.DataFrame       # a sample of within-school pairs, for the scatter
    model_icc: float          # sigma_zeta^2 / (sigma_zeta^2 + sigma_eps^2)
    pair_correlation: float   # empirical correlation over all within-school pairs
    sigma_zeta: float
    sigma_eps: float
    n_per_school: int
    n_schools: int


def icc_panel_data(sigma_zeta: float, sigma_eps: float, n_per_school: int, n_schools: int = 60,
                   seed: int = 1) -> IccPanel:
    """Return the ICC exploration's data: simulated schools, and pairs of students from the same school."""
    data = simulate_schools(sigma_zeta, sigma_eps, n_per_school, n_schools, seed)
    if int(n_per_school) < 2:
        raise CourseError("Pairs within a school need at least 2 students per school; move the slider to 2 or more.")
    return IccPanel(
        data=data, pairs=sample_pairs(data, seed=seed),
        model_icc=model_icc(sigma_zeta, sigma_eps),
        pair_correlation=within_group_pair_correlation(data["y"], data["school"]),
        sigma_zeta=float(sigma_zeta), sigma_eps=float(sigma_eps),
        n_per_school=int(n_per_school), n_schools=int(n_schools),
    )


# --- "following the noise": constructed effects against BLUPs -------------------------------

def group_sizes_with_singletons(n_groups: int, share_single: float, mean_size: int) -> np.ndarray:
    """Return group sizes like the classrooms of a study, some groups of one student.

    round(share_single * n_groups) groups of one student; the others have 2 to 2 * mean_size - 2
    students, evenly spread (mean ``mean_size``).
    """
    if not 0 <= share_single <= 1:
        raise CourseError("The share of one-student groups must be between 0 and 1.")
    if int(mean_size) < 2 or int(n_groups) < 2:
        raise CourseError("Simulate at least 2 groups, and groups of at least 2 students besides the "
                          "one-student groups.")
    n_single = int(np.rint(share_single * n_groups))
    others = np.resize(np.arange(2, 2 * int(mean_size) - 1), int(n_groups) - n_single)
    return np.concatenate([np.ones(n_single, dtype=int), np.sort(others)]).astype(int)


def simulate_groups(sigma_zeta: float, sigma_eps: float, sizes, seed: int = 1) -> pd.DataFrame:
    """Students in groups of the given sizes: y = mean + zeta_k + eps (columns group, y, zeta)."""
    _check_positive(sigma_zeta=sigma_zeta, sigma_eps=sigma_eps)
    sizes = np.asarray(sizes, dtype=int)
    if sizes.size < 2 or (sizes < 1).any():
        raise CourseError("Simulate at least two groups, each with at least one student.")
    rng = np.random.default_rng(seed)
    zeta = rng.normal(0.0, sigma_zeta, sizes.size)
    group = np.repeat(np.arange(sizes.size), sizes)
    eps = rng.normal(0.0, sigma_eps, group.size)
    return pd.DataFrame({"group": group, "y": GRAND_MEAN + zeta[group] + eps, "zeta": zeta[group]})


@dataclass(frozen=True)
class NoisePanel:
    """Per group: size, constructed effect (mean OLS residual), BLUP; and the SDs compared."""

    groups: pd.DataFrame      # columns size, constructed, blup (+ true when simulated)
    constructed_sd: float     # SD of the constructed effects (the handout's 22.43)
    sigma_zeta_hat: float     # the mixed model's estimate (the handout's 17.58)
    sigma_zeta_true: float | None
    source: str               # "data" or "simulation"
    label: str                # what the groups are, for titles


def noise_from_effects(sizes, constructed, blups, sigma_zeta_hat: float, *, true=None,
                       sigma_zeta_true: float | None = None, source: str, label: str) -> NoisePanel:
    """Return the noise exploration's panel from each group's size, constructed effect and BLUP."""
    frame = pd.DataFrame({"size": np.asarray(sizes, dtype=int),
                          "constructed": np.asarray(constructed, dtype=float),
                          "blup": np.asarray(blups, dtype=float)})
    if true is not None:
        frame["true"] = np.asarray(true, dtype=float)
    return NoisePanel(groups=frame, constructed_sd=float(frame["constructed"].std(ddof=1)),
                      sigma_zeta_hat=float(sigma_zeta_hat), sigma_zeta_true=sigma_zeta_true,
                      source=source, label=label)


def noise_panel_simulated(sigma_zeta: float, share_single: float, mean_size: int = 4,
                          n_groups: int = 150, sigma_eps: float = 36.0, seed: int = 1) -> NoisePanel:
    """Simulate groups, construct mean-residual effects and fit the mixed model's BLUPs."""
    sizes = group_sizes_with_singletons(n_groups, share_single, mean_size)
    sim = simulate_groups(sigma_zeta, sigma_eps, sizes, seed)
    resid = sim["y"].to_numpy() - sim["y"].mean()   # OLS with an intercept only
    constructed = group_mean_residuals(pd.Series(resid), sim["group"]).to_numpy()
    fit = fit_random_intercept(sim["y"], np.ones(len(sim)), sim["group"])
    true = sim.groupby("group", sort=True)["zeta"].first().to_numpy()
    return noise_from_effects(fit.group_sizes, constructed, fit.blups, fit.sigma_zeta, true=true,
                              sigma_zeta_true=float(sigma_zeta), source="simulation",
                              label="simulated groups")
