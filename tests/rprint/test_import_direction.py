"""One import direction between the engine and the printing: the engine (engine/) uses rprint/
to print; rprint/ imports nothing from the engine, so that either can be read, tested and changed
on its own terms."""
import ast
from pathlib import Path

import mlmcourse

PACKAGE = Path(mlmcourse.__file__).resolve().parent


def imported_modules(path: Path) -> list[str]:
    """Every module a file imports (at the top or inside a function), as absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(["mlmcourse", *path.relative_to(PACKAGE).parent.parts])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found += [name] + [f"{name}.{a.name}" for a in node.names]
    return found


def test_rprint_imports_nothing_from_the_engine():
    offenders = {str(p.relative_to(PACKAGE)): [m for m in imported_modules(p) if m.startswith("mlmcourse.engine")]
                 for p in sorted((PACKAGE / "rprint").glob("*.py"))}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_sees_relative_imports():
    # the old summary.py line, read by the same parser, is found
    source = PACKAGE / "rprint" / "summary.py"
    assert "mlmcourse.rprint.rformat" in imported_modules(source)
