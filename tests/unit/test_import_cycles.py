"""Imports point one way: no cycle among the package's modules, imports inside functions counted.

The graph is read from the source (``ast``), not from ``sys.modules``: an import inside a
function counts as much as one at the top, because it runs as soon as the function does. Only
imports under ``if TYPE_CHECKING:`` are left out (they never run). ``from X import name``
points at ``X.name`` when that is a module, else at ``X`` itself. A package's ``__init__``
is not counted as imported by its submodules (Python runs it first, but that is not a
dependency of theirs).

Also here: no module imports another's underscore names (agents and replay use the session
through public methods).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "upscope_widget"


def modules(root: Path) -> dict[str, Path]:
    """Map every module under ``root`` (a package directory) to its file."""
    found = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: anywhere but the body of ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    walk_one(other)
                continue
            walk_one(child)

    def walk_one(node: ast.AST) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        walk(node)

    walk(tree)
    return found


def _target(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def import_graph(root: Path) -> dict[str, set[str]]:
    """Return ``module -> modules it imports`` for the package at ``root`` (its own only)."""
    mods = modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in mods)
                continue
            target = _target(name, path.name == "__init__.py", node)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                deps.add(sub if sub in mods else target)
        deps.discard(name)
        graph[name] = {d for d in deps if d in mods}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def describe(graph: dict[str, set[str]], component: list[str]) -> str:
    return "\n".join(
        f"  {m} -> {', '.join(sorted(d for d in graph[m] if d in component))}" for m in component
    )


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE)
    assert graph.get("upscope_widget.session")
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n\n".join(describe(graph, c) for c in found)


def test_the_checker_sees_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "features").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "features" / "__init__.py").write_text("")
    (pkg / "core.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .features import replay\n"
        "def replay_it():\n    from .features.replay import play\n    return play\n"
    )
    (pkg / "features" / "replay.py").write_text("from .. import core\n")
    graph = import_graph(pkg)
    assert graph["pkg.core"] == {"pkg.features.replay"}
    assert cycles(graph) == [["pkg.core", "pkg.features.replay"]]


def test_the_checker_leaves_out_type_checking_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("import typing\nif typing.TYPE_CHECKING:\n    from . import b\n")
    (pkg / "b.py").write_text("from .a import name\n")
    assert cycles(import_graph(pkg)) == []


def _underscore_imports(root: Path) -> list[str]:
    """``from X import _name`` across modules (a module's own package's ``_modules`` are fine)."""
    mods = modules(root)
    bad = []
    for name, path in mods.items():
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            target = _target(name, path.name == "__init__.py", node)
            for alias in node.names:
                if not alias.name.startswith("_") or alias.name.startswith("__"):
                    continue
                if f"{target}.{alias.name}" in mods:
                    continue  # a private module of the package, not a private name
                bad.append(f"{name}: from {target} import {alias.name}")
    return bad


def test_no_module_imports_another_modules_underscore_names() -> None:
    assert _underscore_imports(PACKAGE) == []


@pytest.mark.parametrize("line", ["from .core import _hidden\n", "from pkg.core import _hidden\n"])
def test_the_underscore_check_can_fail(tmp_path: Path, line: str) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "core.py").write_text("_hidden = 1\n")
    (pkg / "grid.py").write_text(line)
    assert _underscore_imports(pkg) == ["pkg.grid: from pkg.core import _hidden"]
