"""Finance test fixtures shared by the ledger, state-machine, beancount and idempotency tests."""

from __future__ import annotations

import os

import pytest

from app.demo import MINIMAL_PDF

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "sqlite").startswith("postgresql")


def _tiny_pdf(html: str) -> bytes:
    return MINIMAL_PDF


@pytest.fixture
def fast_pdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip WeasyPrint: the submission snapshot and the Bescheid (``review.issue_bescheid``
    imports ``snapshot.render_pdf`` at call time) get a tiny constant PDF instead."""
    monkeypatch.setattr("app.grants.services.snapshot.render_pdf", _tiny_pdf)
