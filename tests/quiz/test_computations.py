"""The quiz's computations as data: the table, its checks, and a bank that loads without the engine."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

# what reading a bank must not pull in: the fitting engine, its optimiser, the chapter's fit
# cache and the live answers (which need all three)
HEAVY = ("mlmcourse.engine", "nlopt", "mlmcourse.chapter", "mlmcourse.quiz.live")

LOAD_A_BANK = """
import json, sys
import mlmcourse.quiz.bank as bank
bank.load_bank(chapter=2)
bank.schema()
print(json.dumps(sorted(sys.modules)))
"""


def test_loading_a_bank_imports_neither_the_engine_nor_the_chapter():
    """Load a bank in a fresh process: nothing that fits models is imported.

    ``quiz check``/``encode`` and the bank's tests learn the computations' names and kinds from
    the registry alone.
    """
    done = subprocess.run([sys.executable, "-c", LOAD_A_BANK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert "mlmcourse.quiz.bank" in loaded and "mlmcourse.quiz.registry" in loaded   # the check ran
    heavy = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []


def test_the_engines_names_are_still_imported_from_mlmcourse():
    """Import every public name of mlmcourse (the engine's on first use) as before."""
    import mlmcourse
    from mlmcourse.engine.fit import lmer

    assert mlmcourse.lmer is lmer
    assert all(callable(getattr(mlmcourse, name)) for name in mlmcourse.__all__)
    assert set(mlmcourse.__all__) <= set(dir(mlmcourse))
    with pytest.raises(AttributeError, match="no attribute 'lmerr'"):
        mlmcourse.lmerr  # noqa: B018


# -- the table and its evaluator agree ---------------------------------------------------------
def test_every_kind_of_reading_has_an_evaluator_taking_its_arguments():
    """Each kind of reading the registry declares is computed by a function taking its arguments."""
    import inspect

    from mlmcourse.quiz.evaluate import READERS
    from mlmcourse.quiz.registry import READINGS

    assert set(READERS) == set(READINGS)
    for kind, reading in READINGS.items():
        params = list(inspect.signature(READERS[kind]).parameters)
        assert params[1:] == list(reading.arguments), kind   # the first: the rows, model(s), seed or values


def test_the_chapters_computations_read_the_chapters_own_models():
    """Keep the chapter section's formulas those of mlmcourse.chapter.HANDOUT_MODELS.

    The table writes them out; they must give the same fits, from the one cache the explorations share.
    """
    import yaml

    from mlmcourse.chapter import HANDOUT_MODELS
    from mlmcourse.quiz.registry import COMPUTATIONS, TABLE

    chapter = {(m.formula, m.subset) for m in HANDOUT_MODELS}
    names = [e["name"] for e in yaml.safe_load(TABLE.read_text(encoding="utf-8"))["chapter"]]
    for name in names:
        comp = COMPUTATIONS[name]
        for formula in filter(None, (comp.formula, comp.bigger)):
            assert (formula, comp.subset) in chapter, (name, formula)


# -- a broken entry is named, with what to write -------------------------------------------------
GOOD = {"name": "x_icc", "description": "an ICC", "formula": "y ~ (1|g)", "reading": {"icc": "g"}}


@pytest.mark.parametrize("change,message", [
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"reading": {"iccc": "g"}}, "the reading 'iccc' is not one the quiz knows"),
    ({"reading": {"ranova": "(1 | g)"}}, r"takes row, column \(missing: column\)"),
    ({"reading": {"icc": "g", "refit": True}}, r"takes group \(unknown: refit\)"),
    ({"reading": {"lrt": "Chisq", "refit": True}}, "needs 'bigger'"),
    ({"reading": "rows"}, "needs a formula, and only it"),
    ({"source": "mine"}, "the source 'mine' is none of course, bootstrap, simulated"),
    ({"REML": "no"}, "REML is true or false"),
    ({"name": "2x"}, "must be letters, digits and _"),
])
def test_a_broken_computation_is_refused_with_its_entry_named(tmp_path, change, message):
    """Refuse an entry with a mistake, in one paragraph naming the file, section, entry and fix."""
    import yaml

    from mlmcourse.errors import CourseError
    from mlmcourse.quiz.registry import load

    path = tmp_path / "computations.yml"
    path.write_text(yaml.safe_dump({"mine": [{**GOOD, **change}]}))
    with pytest.raises(CourseError, match=message) as info:
        load(path)
    assert "computations.yml, section 'mine', entry 1" in str(info.value)


def test_a_name_given_twice_or_a_square_of_nothing_is_refused(tmp_path):
    """Refuse a table that declares a name twice or squares an unknown computation; read a good one."""
    import yaml

    from mlmcourse.errors import CourseError
    from mlmcourse.quiz.registry import load

    path = tmp_path / "computations.yml"
    path.write_text(yaml.safe_dump({"a": [GOOD], "b": [GOOD]}))
    with pytest.raises(CourseError, match="'x_icc' is declared twice"):
        load(path)
    path.write_text(yaml.safe_dump({"a": [{"name": "v", "description": "d", "reading": {"squared": "sd"}}]}))
    with pytest.raises(CourseError, match="squares 'sd', which is not a computation"):
        load(path)
    path.write_text(yaml.safe_dump({"a": [GOOD, {"name": "v", "description": "d", "reading": {"squared": "x_icc"},
                                                 "source": "simulated"}]}))
    with pytest.raises(CourseError, match="squares 'x_icc', computed on other data: give it 'source: course'"):
        load(path)
    path.write_text("a:\n  - name: v\n    description: a wrong ICC: SDs\n")
    with pytest.raises(CourseError, match=r"computations.yml is not valid YAML near line 3"):
        load(path)
    assert load(_table_of(tmp_path, [GOOD]))["x_icc"].arguments == {"group": "g"}


def _table_of(tmp_path, entries):
    import yaml
    path = tmp_path / "ok.yml"
    path.write_text(yaml.safe_dump({"s": entries}))
    return path


def test_no_module_of_the_quiz_imports_another_modules_private_names():
    """Keep each module of quiz/ to the other modules' public names (no ``from .x import _y``)."""
    import ast
    from pathlib import Path

    import mlmcourse.quiz

    found = []
    for path in sorted(Path(mlmcourse.quiz.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("mlmcourse")):
                found += [f"{path.name}: {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert found == []
