"""Session lifecycle (ASVS 7.x): logout, password change, idle/absolute limits, fixation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from app.auth import services
from app.auth.models import User
from app.common.db import utcnow
from app.extensions import db
from tests import factories
from tests.conftest import login

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
NEW_PASSWORD = "Neue-Passphrase-Elbsandstein-Wanderung"  # noqa: S105 - test value
PROBE = "/auth/passwort"  # any page that needs a login and nothing else


def _cookie(client: FlaskClient, app: Flask) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def _client_with_cookie(app: Flask, value: str) -> FlaskClient:
    """A fresh browser that only has the given session cookie (an attacker's copy)."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return other


def _assert_sent_to_login(client: FlaskClient) -> None:
    response = client.get(PROBE)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def _second_login(app: Flask, email: str) -> FlaskClient:
    other = app.test_client()
    assert login(other, email, factories.PASSWORD).status_code == 302
    return other


def _user(email: str) -> User:
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


# --- logout ---------------------------------------------------------------------------------


def test_logout_replayed_cookie_no_longer_works(app, applicant_client):
    captured = _cookie(applicant_client, app)
    assert _client_with_cookie(app, captured).get(PROBE).status_code == 200  # the copy works…
    response = applicant_client.post("/auth/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    _assert_sent_to_login(_client_with_cookie(app, captured))  # …but not after logout
    _assert_sent_to_login(applicant_client)


def test_logout_is_post_only(applicant_client):
    assert applicant_client.get("/auth/logout").status_code == 405
    assert applicant_client.get(PROBE).status_code == 200


def test_logout_ends_the_users_other_sessions(app, applicant_client):
    other_device = _second_login(app, applicant_client.user_email)
    applicant_client.post("/auth/logout")
    _assert_sent_to_login(other_device)


# --- password change and disable ----------------------------------------------------------------


def test_change_password_ends_other_sessions_but_keeps_current(app, applicant_client):
    other_device = _second_login(app, applicant_client.user_email)
    captured = _cookie(applicant_client, app)
    response = applicant_client.post(
        "/auth/passwort",
        data={
            "current_password": factories.PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert applicant_client.get(PROBE).status_code == 200  # this browser stays logged in
    _assert_sent_to_login(other_device)
    _assert_sent_to_login(_client_with_cookie(app, captured))  # pre-change cookie is dead
    assert login(app.test_client(), applicant_client.user_email, NEW_PASSWORD).status_code == 302
    assert (
        login(app.test_client(), applicant_client.user_email, factories.PASSWORD).status_code == 200
    )


def test_change_password_with_wrong_current_password_changes_nothing(app, applicant_client):
    other_device = _second_login(app, applicant_client.user_email)
    response = applicant_client.post(
        "/auth/passwort",
        data={
            "current_password": "falsch-falsch",
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 422
    assert "Das aktuelle Passwort ist falsch." in response.get_data(as_text=True)
    assert other_device.get(PROBE).status_code == 200
    assert (
        login(app.test_client(), applicant_client.user_email, factories.PASSWORD).status_code == 302
    )


def _wrong_current_password(client: FlaskClient):
    return client.post(
        "/auth/passwort",
        data={
            "current_password": "falsch-geraten",
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )


def test_change_password_wrong_current_password_counts_as_failed_login(app, applicant_client):
    assert _wrong_current_password(applicant_client).status_code == 422
    with app.app_context():
        lock = services.lock_of(_user(applicant_client.user_email), "127.0.0.1")
        assert lock is not None and lock.failures == 1  # committed despite 422


def test_change_password_guessing_locks_account_and_ends_sessions(app, applicant_client):
    other_device = _second_login(app, applicant_client.user_email)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _wrong_current_password(applicant_client).status_code == 422
    with app.app_context():
        assert services.is_locked(_user(applicant_client.user_email), "127.0.0.1", utcnow())
    _assert_sent_to_login(applicant_client)
    _assert_sent_to_login(other_device)
    assert (
        login(app.test_client(), applicant_client.user_email, factories.PASSWORD).status_code == 200
    )


def test_change_password_refused_while_account_is_locked(app, applicant_client):
    with app.app_context():
        user = _user(applicant_client.user_email)
        services.count_failure(user, utcnow(), source="127.0.0.1", reason="test")
        services.lock_of(user, "127.0.0.1").locked_until = utcnow() + timedelta(minutes=5)
        db.session.commit()
    response = applicant_client.post(
        "/auth/passwort",
        data={
            "current_password": factories.PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 422
    assert "vorübergehend gesperrt" in response.get_data(as_text=True)
    assert login(app.test_client(), applicant_client.user_email, NEW_PASSWORD).status_code == 200


def test_change_password_form_errors_answer_422(applicant_client):
    response = applicant_client.post(
        "/auth/passwort",
        data={
            "current_password": factories.PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": "anders",
        },
    )
    assert response.status_code == 422
    assert "Die Passwörter stimmen nicht überein." in response.get_data(as_text=True)


def test_disabled_account_loses_its_sessions(app, applicant_client):
    with app.app_context():
        _user(applicant_client.user_email).active = False
        db.session.commit()
    _assert_sent_to_login(applicant_client)


# --- time limits -----------------------------------------------------------------------------


def test_session_idle_timeout_after_30_minutes(app, client):
    with app.app_context():
        factories.create_user(email="idle@zittau.test-kp.de")
        db.session.commit()
    idle = app.config["SESSION_IDLE_TIMEOUT"]
    assert idle == timedelta(minutes=30)
    with freeze_time(T0) as frozen:
        assert login(client, "idle@zittau.test-kp.de", factories.PASSWORD).status_code == 302
        frozen.tick(idle - timedelta(minutes=1))
        assert client.get(PROBE).status_code == 200  # activity resets the idle clock
        frozen.tick(idle - timedelta(minutes=1))
        assert client.get(PROBE).status_code == 200
        frozen.tick(idle + timedelta(seconds=1))
        _assert_sent_to_login(client)
        page = client.get("/auth/login").get_data(as_text=True)
        assert "Ihre Sitzung ist abgelaufen" in page
        frozen.move_to(T0)  # turning the clock back does not revive the session
        _assert_sent_to_login(client)


def test_session_absolute_timeout_after_10_hours(app, client):
    with app.app_context():
        factories.create_user(email="absolut@zittau.test-kp.de")
        db.session.commit()
    absolute = app.config["PERMANENT_SESSION_LIFETIME"]
    assert absolute == timedelta(hours=10)
    step = timedelta(minutes=25)
    with freeze_time(T0) as frozen:
        assert login(client, "absolut@zittau.test-kp.de", factories.PASSWORD).status_code == 302
        elapsed = timedelta(0)
        while elapsed + step <= absolute:  # busy all day: never idle
            frozen.tick(step)
            elapsed += step
            assert client.get(PROBE).status_code == 200, elapsed
        frozen.tick(absolute - elapsed + timedelta(seconds=1))
        _assert_sent_to_login(client)


# --- fixation --------------------------------------------------------------------------------


def test_login_starts_a_new_session(app, client):
    with app.app_context():
        factories.create_user(email="fix@zittau.test-kp.de")
        db.session.commit()
    client.get("/auth/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by-an-attacker"
    before = _cookie(client, app)
    assert login(client, "fix@zittau.test-kp.de", factories.PASSWORD).status_code == 302
    after = _cookie(client, app)
    assert after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess  # session.clear() before login_user()
        assert sess["_user_id"].endswith(":0")  # "<id>:<epoch>"
    _assert_sent_to_login(_client_with_cookie(app, before))  # the planted cookie stays anonymous


def test_session_without_login_time_is_ended(app, applicant_client):
    with applicant_client.session_transaction() as sess:
        del sess["login_at"]
    _assert_sent_to_login(applicant_client)
