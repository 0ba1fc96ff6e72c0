"""The engines package stays legible: no import circle between its modules, no module over ~300 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest_textgrad.engines as engines

PACKAGE = Path(engines.__file__).parent


def local_imports(path: Path) -> set[str]:
    """Modules of this package that ``path`` imports, at any level (function bodies included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def test_no_import_circle_inside_engines() -> None:
    graph = {p.stem: local_imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", f"import circle: {' -> '.join([*path, module])}"
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            visit(target, [*path, module])
        state[module] = "done"

    for module in sorted(graph):
        visit(module, [])


def test_every_engines_module_is_at_most_about_300_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 300} == {}
