"""No module of mlmcourse reads another's private names (issue 19).

Two kinds of read are found in the syntax tree of every file under mlmcourse/:

- ``from X import _name`` (or ``from . import _name``) where X is another mlmcourse module;
- an attribute read ``obj._name`` where ``obj`` is not ``self`` or ``cls`` and ``_name`` is not
  a dunder (``obj.__class__`` is fine) nor a name of IPython's display protocol
  (``obj._repr_html_``, public by IPython's convention): another object's or module's private field.

Writes (``obj._name = ...``) are not reads and are not listed.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mlmcourse"


def _private(name: str) -> bool:
    """Tell whether ``name`` is private: a leading underscore, not a dunder nor IPython's ``_repr_html_``."""
    return name.startswith("_") and not name.endswith("_")


def _module_of(path: Path) -> str:
    """Return the dotted module name of a file under mlmcourse/."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_module(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """Return the absolute name of the module a ``from ... import`` reads."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _reads_anothers_private(node: ast.AST) -> bool:
    """Tell whether ``node`` reads ``obj._name`` with ``obj`` not ``self`` or ``cls``."""
    if not (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and _private(node.attr)):
        return False
    return not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))


def private_reads(path: Path) -> list[str]:
    """List the private reads of one file as 'file:line: what'."""
    module, is_package = _module_of(path), path.name == "__init__.py"
    where = path.relative_to(PACKAGE.parent)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            source = _imported_module(node, module, is_package)
            if source.split(".")[0] == "mlmcourse" and source != module:
                found += [f"{where}:{node.lineno}: from {source} import {a.name}"
                          for a in node.names if _private(a.name)]
        elif _reads_anothers_private(node):
            found.append(f"{where}:{node.lineno}: {ast.unparse(node.value)}.{node.attr}")
    return found


def all_private_reads() -> list[str]:
    """List the private reads of every file of the package."""
    return [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in private_reads(path)]


def test_the_finder_sees_both_kinds(tmp_path, monkeypatch):
    """Find a private import from a sibling module and a private attribute read, nothing else."""
    pkg = tmp_path / "mlmcourse"
    (pkg / "engine").mkdir(parents=True)
    (pkg / "engine" / "a.py").write_text(
        "from .b import _hidden, public\n"
        "from . import _c\n"
        "from os import _exit\n"
        "class A:\n"
        "    def f(self, other):\n"
        "        other._x = self._y + cls._z if False else self.__class__\n"
        "        return other._field, type(other).__name__, other._repr_html_\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", pkg)
    assert [h.split(": ", 1)[1] for h in all_private_reads()] == [
        "from mlmcourse.engine.b import _hidden", "from mlmcourse.engine import _c", "other._field"]


def test_no_module_reads_another_modules_private_names():
    """Keep each module's private names its own."""
    found = all_private_reads()
    assert not found, f"{len(found)} private reads:\n" + "\n".join(found)
