"""``import mlmcourse`` is light: the engine's names and the package's parts load when first used."""
from __future__ import annotations

import subprocess
import sys

import pytest

import mlmcourse


def _fresh(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_import_loads_no_engine_until_a_name_is_used():
    code = ("import sys, mlmcourse\n"
            "before = 'mlmcourse.engine' in sys.modules or 'nlopt' in sys.modules\n"
            "mlmcourse.lmer\n"
            "print(before, 'mlmcourse.engine.fit' in sys.modules)")
    assert _fresh(code) == "False True"


@pytest.mark.parametrize("part", mlmcourse._PARTS)
def test_each_part_is_reachable_as_an_attribute(part):
    """``import mlmcourse; mlmcourse.plots`` works as it did when the engine was imported eagerly."""
    assert _fresh(f"import mlmcourse\nprint(mlmcourse.{part}.__name__)") == f"mlmcourse.{part}"


def test_every_public_name_and_no_other():
    assert sorted(set(dir(mlmcourse)) & set(mlmcourse.__all__)) == sorted(mlmcourse.__all__)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        mlmcourse.not_a_name  # noqa: B018
