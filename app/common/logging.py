"""JSON-lines logging with UTC timestamps.

Every record is exactly one line: ``json.dumps`` escapes CR/LF and other control characters, and
the Unicode line separators it leaves alone (U+0085, U+2028, U+2029; ``str.splitlines`` and some
log viewers break lines there) are escaped here, so a value such as a user name cannot forge a
second log entry.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from flask import Flask, has_request_context, request

#: Characters that end a line for ``str.splitlines`` but that ``json.dumps`` does not escape.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})

_STANDARD = set(vars(logging.LogRecord("x", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, event, client IP (inside a request)
    and the ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        if has_request_context():
            payload["ip"] = request.remote_addr
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload.setdefault(
                    key, value if isinstance(value, int | float | bool | None) else str(value)
                )
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False).translate(_LINE_BREAKS)


def configure_logging(app: Flask) -> None:
    """Install the JSON formatter on the root logger (plain text in development)."""
    handler = logging.StreamHandler()
    if app.config.get("LOG_JSON", True):
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    if not any(getattr(h, "_kommpraev", False) for h in root.handlers):
        handler._kommpraev = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("alembic", "fontTools", "weasyprint"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
