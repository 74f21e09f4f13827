"""How long are the views? (docs/architecture.md, "Views: thin, with the few long ones named")

A view is a function in ``app/`` decorated with a blueprint route (``@bp.route``, ``@bp.get``,
``@bp.post``, … — Flask and flask-smorest blueprints alike), or a method of a class decorated so
(a flask-smorest ``MethodView``). Its length is the number of lines of its body from the first
statement after the docstring to the end of the last statement, blank lines and comment-only
lines not counted. Decorators and the signature do not count.

    python scripts/view_lengths.py           # table, longest first, and the summary line
    python scripts/view_lengths.py --long    # only the views over the limit

``tests/test_architecture.py::test_views_are_thin`` uses :func:`views` and :data:`ALLOWED_LONG`.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
LIMIT = 15
ROUTE_METHODS = {"route", "get", "post", "put", "patch", "delete"}

#: Views allowed over :data:`LIMIT` lines, each with the reason it stays long. Keep it short: a
#: new entry needs a reason a reviewer accepts (not "no time"). An entry whose view is no longer
#: long (or gone) fails the test too, so the list only shrinks.
ALLOWED_LONG: dict[str, str] = {}


@dataclass(frozen=True)
class View:
    name: str  # dotted: module path below app/ and the function (class.method for a MethodView)
    path: str
    line: int
    length: int


def _is_route(decorator: ast.expr) -> bool:
    call = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (
        isinstance(call, ast.Attribute)
        and call.attr in ROUTE_METHODS
        and isinstance(call.value, ast.Name)
        and call.value.id.endswith("bp")
    )


def body_length(function: ast.FunctionDef | ast.AsyncFunctionDef, source_lines: list[str]) -> int:
    """Lines of ``function``'s body without its docstring, blank and comment-only lines."""
    body = function.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    if not body:
        return 0
    first, last = body[0].lineno, body[-1].end_lineno or body[-1].lineno
    return sum(
        1
        for text in source_lines[first - 1 : last]
        if text.strip() and not text.strip().startswith("#")
    )


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(APP).with_suffix("").parts)


def views(app_dir: Path = APP) -> list[View]:
    """Every view in ``app_dir``, longest first."""
    found: list[View] = []
    for path in sorted(app_dir.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        module = _module_name(path) if app_dir == APP else path.stem
        for node in ast.walk(ast.parse(source)):
            functions: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if any(_is_route(d) for d in node.decorator_list):
                    functions.append((node.name, node))
            elif isinstance(node, ast.ClassDef) and any(_is_route(d) for d in node.decorator_list):
                functions.extend(
                    (f"{node.name}.{item.name}", item)
                    for item in node.body
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                )
            for name, function in functions:
                found.append(
                    View(
                        name=f"{module}.{name}",
                        path=str(path.relative_to(ROOT)) if app_dir == APP else str(path),
                        line=function.lineno,
                        length=body_length(function, lines),
                    )
                )
    return sorted(found, key=lambda v: (-v.length, v.name))


def main(argv: list[str]) -> int:
    all_views = views()
    long_views = [v for v in all_views if v.length > LIMIT]
    shown = long_views if "--long" in argv else all_views
    for view in shown:
        mark = " (allowed)" if view.name in ALLOWED_LONG else ""
        print(f"{view.length:4d}  {view.name}  {view.path}:{view.line}{mark}")  # noqa: T201
    print(  # noqa: T201
        f"{len(long_views)} of {len(all_views)} views are longer than {LIMIT} lines"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
