"""Fixtures of the auth tests."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(autouse=True)
def _app_loggers_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo ``logging.config.fileConfig`` in migrations/env.py, which the session fixture's
    ``upgrade()`` runs with ``disable_existing_loggers=True``: it silences every ``app.*`` logger
    created before it, so caplog would see no security events at all."""
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if (name == "app" or name.startswith("app.")) and isinstance(logger, logging.Logger):
            monkeypatch.setattr(logger, "disabled", False)
