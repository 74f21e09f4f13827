"""The package direction (docs/architecture.md): import-linter checks the contracts in
``pyproject.toml`` in CI; these tests add what its contracts cannot say."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

APP = Path(__file__).resolve().parent.parent / "app"
#: Modules of the top layer (views, forms, commands) and the composition root: they may import
#: any package; everything else must form an acyclic package graph.
INTERFACE_SUFFIXES = ("routes", "forms", "cli", "blueprint")
COMPOSITION = {"app", "app.models", "app.demo", "app.commands"}


def _is_interface(module: str) -> bool:
    return module in COMPOSITION or module.rsplit(".", 1)[-1].endswith(INTERFACE_SUFFIXES)


def _package(module: str) -> str:
    if module == "app.extensions":  # the unbound extensions belong to the common foundation
        return "app.common"
    if module.endswith(".models"):  # the models of all packages form one shared lower layer
        return "models"
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def _package_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("app")
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        if _is_interface(module):
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if not imported.startswith("app") or _is_interface(imported):
                continue
            source, target = _package(module), _package(imported)
            if source != target:
                edges.setdefault(source, set()).add(target)
    return edges


def test_no_import_cycle_between_packages() -> None:
    edges = _package_graph()
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle.extend([*path, node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, [*path, node]):
                return True
        state[node] = 2
        return False

    for start in sorted(edges):
        if state.get(start) is None and visit(start, []):
            break
    assert not cycle, " → ".join(cycle)
    # The direction the architecture names, spot-checked on the package graph.
    assert "app.grants" not in edges.get("app.finance", set())
    assert "app.postaward" not in edges.get("app.grants", set())
    assert "app.finance" not in edges.get("app.budget", set())


def test_no_function_local_imports_of_the_app() -> None:
    """Imports of ``app`` modules sit at module level (no hidden cycles); only the application
    factory imports inside its functions, because it composes every package."""
    offenders = []
    for path in APP.rglob("*.py"):
        if path == APP / "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app"):
                    offenders.append(f"{path.relative_to(APP.parent)}:{node.lineno}")
                elif isinstance(node, ast.Import) and any(
                    alias.name.startswith("app") for alias in node.names
                ):
                    offenders.append(f"{path.relative_to(APP.parent)}:{node.lineno}")
    assert offenders == []
