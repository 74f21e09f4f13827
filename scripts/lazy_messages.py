"""Wrap the literal messages of domain errors and rule problems in ``_l(...)`` (lazy_gettext).

Usage (from the repository root):

    .venv/bin/python scripts/lazy_messages.py app/grants/services/review.py [more files …]
    .venv/bin/ruff format app && .venv/bin/ruff check --fix app

Rewrites, in place, the message argument of ``DomainError`` and its subclasses, ``RuleProblem``
and ``CamtError`` when it is a string literal or an f-string: ``f"Frist {date_de(d)} …"`` becomes
``_l("Frist %(d)s …", d=date_de(d))`` (placeholders named after the expression, ``%`` doubled
where placeholders are present), and adds ``from flask_babel import lazy_gettext as _l``. Messages
built elsewhere (variables, ``%`` formatting) are left alone. Then add the English of each new
msgid to ``app/translations/en/LC_MESSAGES/messages.po`` (``tests/test_i18n.py`` lists them).
"""

from __future__ import annotations

import ast
import re
import sys

CLASSES = {
    "BudgetCapExceeded",
    "CamtError",
    "DecisionInvalid",
    "DomainError",
    "InvalidTransition",
    "LedgerError",
    "LoginFailed",
    "NotFound",
    "NotPermitted",
    "PasswordRejected",
    "RuleProblem",
    "StatementRejected",
    "UploadRejected",
    "BudgetYearBlocked",
}
NOT_NAMES = ("format_eur", "date_de", "str", "int", "len")


def _name_for(source: str, used: set[str]) -> str:
    identifiers = re.findall(r"[A-Za-z_]\w*", source)
    base = identifiers[-1].lower() if identifiers else "value"
    base = "value" if base in NOT_NAMES else base
    name, n = base, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    used.add(name)
    return name


def _convert(node: ast.expr, source: str) -> tuple[str, list[tuple[str, str]]] | None:
    """(msgid, [(placeholder, expression)]) of a literal message, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value, []) if re.search(r"[A-Za-zÄÖÜäöü]", node.value) else None
    if not isinstance(node, ast.JoinedStr):
        return None
    parts: list[str] = []
    values: list[tuple[str, str]] = []
    used: set[str] = set()
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value).replace("%", "%%"))
            continue
        if not isinstance(value, ast.FormattedValue):
            return None
        expression = ast.get_source_segment(source, value.value) or "value"
        if value.conversion == ord("r"):
            expression = f"repr({expression})"
        elif value.conversion == ord("s"):
            expression = f"str({expression})"
        if isinstance(value.format_spec, ast.JoinedStr):
            spec = "".join(
                str(c.value) for c in value.format_spec.values if isinstance(c, ast.Constant)
            )
            expression = f"format({expression}, {spec!r})"
        name = _name_for(ast.get_source_segment(source, value.value) or "", used)
        parts.append(f"%({name})s")
        values.append((name, expression))
    return "".join(parts), values


def _literal(text: str) -> str:
    """Python source of ``text``, split into implicitly joined chunks of ≤ 72 characters."""
    chunks, current = [], ""
    for word in re.split(r"(?<= )", text):
        if current and len(current) + len(word) > 72:
            chunks.append(current)
            current = ""
        current += word
    chunks.append(current)
    quote = [
        '"' + c.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"' for c in chunks
    ]
    return " ".join(quote)


def rewrite(path: str) -> int:
    source = open(path, encoding="utf-8").read()
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def position(lineno: int, col: int) -> int:  # ast columns count UTF-8 bytes
        return offsets[lineno - 1] + len(lines[lineno - 1].encode()[:col].decode())

    edits = []
    for call in ast.walk(ast.parse(source)):
        if not isinstance(call, ast.Call):
            continue
        func = call.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in CLASSES:
            continue
        target = None
        if name == "RuleProblem":
            target = call.args[1] if len(call.args) >= 2 else None
        elif call.args:
            target = call.args[0]
        for keyword in call.keywords:
            if keyword.arg == "message":
                target = keyword.value
        converted = _convert(target, source) if target is not None else None
        if converted is None or target is None:
            continue
        msgid, values = converted
        args = [_literal(msgid), *(f"{k}={v}" for k, v in values)]
        start = position(target.lineno, target.col_offset)
        end = position(target.end_lineno or target.lineno, target.end_col_offset or 0)
        edits.append((start, end, "_l(" + ", ".join(args) + ")"))
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    if edits and "lazy_gettext as _l" not in source:
        imports = [
            node
            for node in ast.parse(source).body
            if isinstance(node, ast.Import | ast.ImportFrom)
            and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
        ]
        at = sum(len(line) for line in source.splitlines(keepends=True)[: imports[0].lineno - 1])
        source = source[:at] + "from flask_babel import lazy_gettext as _l\n" + source[at:]
    open(path, "w", encoding="utf-8").write(source)
    return len(edits)


if __name__ == "__main__":
    for file_path in sys.argv[1:]:
        sys.stdout.write(f"{file_path}: {rewrite(file_path)} message(s) wrapped\n")
