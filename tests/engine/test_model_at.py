"""``model_at``: the model at a given theta, no optimiser run (as MixedModels.jl's ``setθ!``).

At lme4's own theta the course's numbers are lme4's, so printing can be tested apart from
where an optimiser stops."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mlmcourse import CourseError, load_classroom
from mlmcourse.engine.design import build_design
from mlmcourse.engine.fit import model_at

REF = json.loads((Path(__file__).resolve().parents[1] / "reference" / "lme4_reference.json").read_text())
FIT1 = next(m for m in REF["models"] if m["id"] == "lmer.fit1")


def test_model_at_lme4_theta_gives_lme4_numbers():
    design = build_design(FIT1["formula"], load_classroom())
    m = model_at(design, FIT1["theta"]["values"], REML=True)
    assert m.theta.tolist() == FIT1["theta"]["values"]
    assert m.criterion == pytest.approx(FIT1["reml_criterion"], rel=1e-12)
    assert m.sigma == pytest.approx(FIT1["sigma"], rel=1e-9)
    assert m.optinfo.evaluations == 0
    assert m.converged and not m.singular


def test_model_at_zero_theta_is_singular():
    design = build_design(FIT1["formula"], load_classroom())
    m = model_at(design, [0.0], REML=True)
    assert m.singular
    assert np.isfinite(m.criterion)


def test_model_at_wrong_length_is_refused():
    design = build_design(FIT1["formula"], load_classroom())
    with pytest.raises(CourseError, match="theta must have 1 values"):
        model_at(design, [0.1, 0.2])
