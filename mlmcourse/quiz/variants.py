"""The student's own data for the quiz, drawn from a seed.

Some questions are asked on data of the student's own, made from a *seed* (a number from 10000
to 99999 that the answer store creates once per student and chapter, see
:mod:`mlmcourse.quiz.store`). Two kinds exist (:data:`VARIANTS`):

``bootstrap``
    a bootstrap sample of the classroom data's schools: 107 schools drawn with replacement, each
    draw a school of its own (``schoolid`` 1..107 in draw order, ``classid`` = 1000 x draw + the
    original classid, ``orig_schoolid`` the school it copies);
``simulated``
    40 schools simulated from ``y = 50 + 4 x + zeta_k + eps_ijk`` with a known ``sigma_zeta``
    (6..15) and ``sigma_eps`` (20..34), 3 to 25 students per school (columns school, student, x, y).

Both are drawn with :class:`MinStd`, a generator simple enough to be reproduced exactly in R
(``tests/reference/make_quiz_reference.R`` does, and fits them with lme4), so an instructor can
rebuild any student's data from the seed in the hand-in file:
``python -m mlmcourse quiz answers --seed N`` prints the expected answers.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import CourseError


# -- the student's own data ------------------------------------------------------------------
class MinStd:
    """Park and Miller's "minimal standard" generator with multiplier 48271 (MINSTD).

    ``x <- 48271 * x mod (2^31 - 1)``; a uniform is ``x / (2^31 - 1)``, in (0, 1). Every step is
    exact in a double (48271 * 2^31 < 2^53), so R reproduces the stream digit for digit. The
    start is ``(seed + 1000003 * stream) mod (2^31 - 1)`` (1 if that is 0), followed by 16
    discarded steps. ``below(n)`` is ``floor(n * u)``; ``normal()`` is Box-Muller's
    ``sqrt(-2 log u1) cos(2 pi u2)`` from two uniforms.
    """

    MODULUS, MULTIPLIER, STREAM_STEP, WARMUP = 2**31 - 1, 48271, 1000003, 16

    def __init__(self, seed: int, stream: int):
        self.x = (int(seed) + self.STREAM_STEP * int(stream)) % self.MODULUS or 1
        for _ in range(self.WARMUP):
            self.uniform()

    def uniform(self) -> float:
        """Step the generator: the next uniform, in (0, 1)."""
        self.x = self.x * self.MULTIPLIER % self.MODULUS
        return self.x / self.MODULUS

    def below(self, n: int) -> int:
        """Draw a whole number from 0 to n - 1: ``floor(n * u)``."""
        return math.floor(n * self.uniform())

    def normal(self) -> float:
        """Draw a standard normal by Box-Muller, from two uniforms."""
        u1, u2 = self.uniform(), self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


SEED_RANGE = (10000, 99999)   # the store draws a student's seed from this range


def check_seed(seed, where: str = "") -> int:
    """Check a seed and give it as an int: a whole number from 10000 to 99999 (an int, or its digits as text).

    Every seed that enters the course goes through here: typed on the command line, read from a
    hand-in file, read from the answer store. ``where`` says where it came from (for the message).
    """
    text = str(seed).strip()
    low, high = SEED_RANGE
    if isinstance(seed, bool) or not text.isdigit() or not low <= int(text) <= high:
        shown = text if len(text) <= 24 else text[:24] + "..."
        raise CourseError(
            f"The seed {'in ' + where + ' ' if where else ''}is '{shown}', but a seed is a whole number from "
            f"{low} to {high} (the quiz makes one such as 48213 for every student; it is on the hand-in file, "
            "'Your data: seed N'). Check the number you typed, or ask the student for a new export of their "
            "answers (`python -m mlmcourse answers export`).")
    return int(text)


def bootstrap_schools(data: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Draw a bootstrap sample of schools (stream 1).

    As many draws, with replacement, as there are schools; draw k picks
    ``schools[floor(n_schools * u)]`` (schools in increasing id order) and becomes school k with
    all that school's rows, in their order in the data.
    """
    rng = MinStd(check_seed(seed), stream=1)
    schools = np.sort(data["schoolid"].unique())
    drawn = [schools[rng.below(len(schools))] for _ in range(len(schools))]
    # the rows of each school, in their order in the data; then all draws' rows at once (one
    # take, not a copy per draw: the grading of a class builds this for every student)
    rows_of = {s: np.flatnonzero(data["schoolid"].to_numpy() == s) for s in set(drawn)}
    idx = np.concatenate([rows_of[s] for s in drawn])
    draw = np.repeat(np.arange(1, len(drawn) + 1), [len(rows_of[s]) for s in drawn])
    out = data.iloc[idx].reset_index(drop=True)
    out["schoolid"] = draw.astype(data["schoolid"].dtype, copy=False)
    out["classid"] = 1000 * out["schoolid"] + out["classid"]
    out["orig_schoolid"] = np.asarray(drawn, dtype=np.int64).repeat([len(rows_of[s]) for s in drawn])
    out["childid"] = np.arange(1, len(out) + 1)
    return out


SIM_SCHOOLS, SIM_B0, SIM_B1 = 40, 50.0, 4.0


def simulation_parameters(seed: int) -> dict:
    """Give sigma_zeta and sigma_eps of the student's simulated data (the first two draws of stream 2)."""
    rng = MinStd(check_seed(seed), stream=2)
    return {"sigma_zeta": 6 + rng.below(10), "sigma_eps": 20 + 2 * rng.below(8)}


def simulated_schools(seed: int) -> pd.DataFrame:
    """Simulate the student's schools (stream 2).

    sigma_zeta = 6 + below(10), sigma_eps = 20 + 2 below(8); then for each of 40 schools its size
    3 + below(23) and zeta_k = sigma_zeta * normal(), then for each of its students x = normal(),
    eps = sigma_eps * normal() and y = 50 + 4 x + zeta_k + eps.
    """
    rng = MinStd(check_seed(seed), stream=2)
    sigma_zeta, sigma_eps = 6 + rng.below(10), 20 + 2 * rng.below(8)
    school, student, xs, ys = [], [], [], []
    for k in range(1, SIM_SCHOOLS + 1):
        size = 3 + rng.below(23)
        zeta = sigma_zeta * rng.normal()
        for _ in range(size):
            x = rng.normal()
            eps = sigma_eps * rng.normal()
            school.append(k)
            student.append(len(student) + 1)
            xs.append(x)
            ys.append(SIM_B0 + SIM_B1 * x + zeta + eps)
    return pd.DataFrame({"school": school, "student": student, "x": xs, "y": ys})


VARIANTS = {
    "bootstrap": "your own bootstrap sample of the classroom data's schools",
    "simulated": "your own simulated schools (known sigma_zeta and sigma_eps)",
}


def student_data(kind: str, seed: int, data: pd.DataFrame | None = None) -> pd.DataFrame:
    """Make the student's data of one kind ("bootstrap" or "simulated") for ``seed``."""
    if kind == "bootstrap":
        if data is None:
            from ..data import load_classroom
            data = load_classroom()
        return bootstrap_schools(data, seed)
    if kind == "simulated":
        return simulated_schools(seed)
    raise CourseError(f"There is no data of kind '{kind}': use one of {', '.join(VARIANTS)}.")


