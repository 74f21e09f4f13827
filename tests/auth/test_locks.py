"""Locks per account and source, the e-mailed unlock link and the audit trail of logins
(issue 14, finding 3)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from freezegun import freeze_time

from app.auth import services
from app.auth.models import User
from app.common.audit import AuditEvent
from app.common.mail import OutboxMessage
from app.extensions import db
from tests import factories

EMAIL = "lock@zittau.test-kp.de"
WRONG = "Falsches-Passwort-123"  # noqa: S105 - test value
GUESSER = "203.0.113.66"
OWNER = "198.51.100.20"
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
LINK_RE = re.compile(r"/auth/entsperren/(\S+)")


@pytest.fixture
def user_email(app: Flask) -> str:
    with app.app_context():
        factories.create_user(email=EMAIL)
        db.session.commit()
    return EMAIL


def _login(client, password: str, address: str):
    return client.post(
        "/auth/login",
        data={"email": EMAIL, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _user() -> User:
    return db.session.execute(db.select(User).filter_by(email=EMAIL)).scalar_one()


def _lock_out_guesser(app: Flask, client) -> None:
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _login(client, WRONG, GUESSER).status_code == 200


def _actions() -> list[str]:
    user = _user()
    rows = db.session.execute(
        db.select(AuditEvent.action)
        .where(AuditEvent.object_type == "user", AuditEvent.object_id == str(user.id))
        .order_by(AuditEvent.id)
    )
    return list(rows.scalars())


def test_guesser_cannot_lock_the_owner_out_from_another_address(app, client, user_email):
    _lock_out_guesser(app, client)
    # The guesser's address is locked, even with the right password …
    assert _login(app.test_client(), factories.PASSWORD, GUESSER).status_code == 200
    # … while the owner logs in from elsewhere.
    assert _login(app.test_client(), factories.PASSWORD, OWNER).status_code == 302
    with app.app_context():
        assert services.is_locked(_user(), GUESSER, datetime.now(UTC))  # success elsewhere
        assert not services.is_locked(_user(), OWNER, datetime.now(UTC))  # keeps that lock


def test_lock_doubles_only_with_failures_from_the_same_source(app_ctx, app):
    user = factories.create_user(email=EMAIL)
    base = app.config["LOGIN_LOCK_BASE_SECONDS"]
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        services.count_failure(user, T0, source=GUESSER, reason="wrong_password")
    assert services.lock_of(user, GUESSER).locked_until is not None
    # Failures from other addresses neither lengthen the guesser's lock nor lock the owner.
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        services.count_failure(user, T0, source=OWNER, reason="wrong_password")
    guesser = services.lock_of(user, GUESSER)
    assert guesser.locked_until.replace(tzinfo=UTC) == T0 + timedelta(seconds=base)
    assert not services.is_locked(user, OWNER, T0)
    services.count_failure(user, T0, source=GUESSER, reason="wrong_password")
    db.session.refresh(guesser)
    assert guesser.locked_until.replace(tzinfo=UTC) == T0 + timedelta(seconds=2 * base)


def test_lock_mails_an_unlock_link_that_works_once(app, client, user_email):
    _lock_out_guesser(app, client)
    with app.app_context():
        mails = (
            db.session.execute(db.select(OutboxMessage).filter_by(recipient=EMAIL)).scalars().all()
        )
        assert len(mails) == 1  # one mail for the lock, not one per failure
        assert GUESSER in mails[0].body
        token = LINK_RE.search(mails[0].body).group(1)
    page = client.get(f"/auth/entsperren/{token}")
    assert page.status_code == 200  # GET only shows the button (mail scanners follow links)
    assert _login(client, factories.PASSWORD, GUESSER).status_code == 200  # still locked
    response = client.post(f"/auth/entsperren/{token}")
    assert response.status_code == 302
    assert _login(app.test_client(), factories.PASSWORD, GUESSER).status_code == 302
    again = app.test_client().post(f"/auth/entsperren/{token}")
    assert again.status_code == 404
    assert "ungültig" in again.get_data(as_text=True)


def test_unlock_link_expires_and_cannot_be_forged(app, client, user_email):
    with freeze_time(T0):
        _lock_out_guesser(app, client)
        with app.app_context():
            token = services.unlock_token(services.lock_of(_user(), GUESSER))
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert app.test_client().post(f"/auth/entsperren/{forged}").status_code == 404
    hours = app.config["LOGIN_UNLOCK_VALID_HOURS"]
    with freeze_time(T0 + timedelta(hours=hours, minutes=1)):
        assert app.test_client().post(f"/auth/entsperren/{token}").status_code == 404
    with freeze_time(T0 + timedelta(hours=hours - 1)):
        assert app.test_client().post(f"/auth/entsperren/{token}").status_code == 302


def test_audit_trail_records_failures_locks_unlocks_and_logins(app, client, user_email):
    _lock_out_guesser(app, client)
    with app.app_context():
        token = services.unlock_token(services.lock_of(_user(), GUESSER))
    client.post(f"/auth/entsperren/{token}")
    _login(client, factories.PASSWORD, GUESSER)
    with app.app_context():
        actions = _actions()
    failures = app.config["LOGIN_MAX_FAILURES"]
    assert actions == [
        "user_created",
        *["login_failed"] * failures,
        "login_locked",
        "login_unlocked",
        "login_succeeded",
    ]


def test_unlock_link_still_works_after_the_guesser_doubled_the_lock(app, client, user_email):
    with freeze_time(T0) as frozen:
        _lock_out_guesser(app, client)
        with app.app_context():
            mail = db.session.execute(
                db.select(OutboxMessage).filter_by(recipient=EMAIL)
            ).scalar_one()
            token = LINK_RE.search(mail.body).group(1)
        frozen.tick(timedelta(seconds=app.config["LOGIN_LOCK_BASE_SECONDS"] + 1))
        assert _login(client, WRONG, GUESSER).status_code == 200  # lock doubles, no new mail
        with app.app_context():
            assert services.lock_of(_user(), GUESSER).failures == 6
        assert app.test_client().post(f"/auth/entsperren/{token}").status_code == 302
        with app.app_context():
            assert services.lock_of(_user(), GUESSER) is None
