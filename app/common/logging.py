"""JSON-lines logging with UTC timestamps; CR/LF in values are escaped by ``json.dumps``."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from flask import Flask

_STANDARD = set(vars(logging.LogRecord("x", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, event and the ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


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
