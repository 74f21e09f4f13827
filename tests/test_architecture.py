"""The package direction (docs/architecture.md): import-linter checks the contracts in
``pyproject.toml`` in CI; these tests add what its contracts cannot say."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

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


def _view_lengths() -> ModuleType:
    """``scripts/view_lengths.py`` (not a package): one counting for the script and this test."""
    path = APP.parent / "scripts" / "view_lengths.py"
    spec = importlib.util.spec_from_file_location("view_lengths", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("view_lengths", module)
    spec.loader.exec_module(module)
    return module


def test_views_are_thin() -> None:
    """A view is at most 15 lines (docs/architecture.md, "Views"); the few longer ones are named
    in ``ALLOWED_LONG`` with a reason, and an entry whose view became short or went away must be
    removed, so the list only shrinks."""
    vl = _view_lengths()
    found = vl.views()
    assert len(found) > 50  # the counting found the blueprints' views at all
    long_views = {v.name: v for v in found if v.length > vl.LIMIT}
    unlisted = [f"{v.name} ({v.length} lines, {v.path}:{v.line})" for v in long_views.values()]
    unlisted = [text for text in unlisted if text.split(" ")[0] not in vl.ALLOWED_LONG]
    assert unlisted == [], "views over 15 lines: make them thin or name them in ALLOWED_LONG"
    stale = sorted(set(vl.ALLOWED_LONG) - set(long_views))
    assert stale == [], "no longer long (or gone): remove from ALLOWED_LONG"
    assert all(reason.strip() for reason in vl.ALLOWED_LONG.values())


def test_view_length_counts_the_body_without_docstring_blank_and_comment_lines(
    tmp_path: Path,
) -> None:
    (tmp_path / "routes.py").write_text(
        "from flask import Blueprint\n"
        "bp = Blueprint('x', __name__)\n"
        "@bp.route('/a')\n"
        "@login_required\n"
        "def a():\n"
        '    """Doc\n    string."""\n'
        "    x = 1\n"
        "\n"
        "    # a comment\n"
        "    return render(\n"
        "        x,\n"
        "    )\n"
        "@bp.post('/b')\n"
        "def b():\n"
        "    return 1\n"
        "def helper():\n"
        "    return 2\n"
        "@api_bp.route('/c')\n"
        "class C(MethodView):\n"
        "    def get(self):\n"
        "        a = 1\n"
        "        return a\n",
        encoding="utf-8",
    )
    found = {v.name: v.length for v in _view_lengths().views(tmp_path)}
    assert found == {"routes.a": 4, "routes.b": 1, "routes.C.get": 2}
