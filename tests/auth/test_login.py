"""Login, the per-account lock in the database (ASVS 6.3.1) and the security event log (16.x)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from freezegun import freeze_time

from app.auth import services
from app.auth.models import User
from app.common.db import as_utc
from app.common.logging import JsonFormatter
from app.extensions import db
from tests import factories
from tests.conftest import login
from tests.twin import bound_to_test_transaction, build_twin, dispose

EMAIL = "login@zittau.test-kp.de"
GUESSER = "203.0.113.66"
WRONG = "Falsches-Passwort-123"  # noqa: S105 - test value
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def second_worker_app(app: Flask) -> Iterator[Flask]:
    """Another application instance on the same database, like a second gunicorn worker."""
    twin = build_twin(app)
    yield twin
    dispose(twin)


@pytest.fixture
def second_worker(app: Flask, second_worker_app: Flask) -> Iterator[Flask]:
    with bound_to_test_transaction(second_worker_app, app) as twin:
        yield twin


@pytest.fixture
def user_email(app: Flask) -> str:
    with app.app_context():
        factories.create_user(email=EMAIL)
        db.session.commit()
    return EMAIL


def _user(email: str = EMAIL) -> User:
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


def _failures(source: str = "127.0.0.1") -> int:
    lock = services.lock_of(_user(), source)
    return lock.failures if lock else 0


def _locked_until(source: str = "127.0.0.1") -> datetime | None:
    lock = services.lock_of(_user(), source)
    return as_utc(lock.locked_until) if lock else None


def _is_logged_in(client) -> bool:
    return client.get("/auth/passwort").status_code == 200


# --- success and failure ------------------------------------------------------------------------


def test_login_succeeds_with_right_password(client, app, user_email):
    response = login(client, user_email, factories.PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert _is_logged_in(client)
    with app.app_context():
        user = _user()
        assert user.last_login_at is not None
        assert _failures() == 0


def test_login_email_is_case_and_space_insensitive(client, user_email):
    assert login(client, f"  {user_email.upper()} ", factories.PASSWORD).status_code == 302


def test_login_fails_with_wrong_password(client, app, user_email):
    response = login(client, user_email, WRONG)
    assert response.status_code == 200
    assert services.LOGIN_FAILED_MESSAGE in response.get_data(as_text=True)
    assert not _is_logged_in(client)
    with app.app_context():
        assert _failures() == 1  # committed although the page says "failed"


def test_login_unknown_email_gives_the_same_answer(client, user_email):
    unknown = login(client, "niemand@zittau.test-kp.de", WRONG)
    wrong = login(client, user_email, WRONG)
    assert unknown.status_code == wrong.status_code == 200
    assert services.LOGIN_FAILED_MESSAGE in unknown.get_data(as_text=True)
    assert services.LOGIN_FAILED_MESSAGE in wrong.get_data(as_text=True)


def test_login_disabled_account_is_refused(client, app, user_email):
    with app.app_context():
        _user().active = False
        db.session.commit()
    response = login(client, user_email, factories.PASSWORD)
    assert response.status_code == 200
    assert services.LOGIN_FAILED_MESSAGE in response.get_data(as_text=True)
    assert not _is_logged_in(client)


def test_login_ignores_next_parameter(client, user_email):
    response = client.post(
        "/auth/login?next=https://evil.example/",
        data={"email": user_email, "password": factories.PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- lock -----------------------------------------------------------------------------------


def test_login_locks_after_max_failures_even_for_right_password(client, app, user_email):
    max_failures = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(max_failures - 1):
        assert login(client, user_email, WRONG).status_code == 200
    with app.app_context():
        assert _locked_until() is None  # not yet locked
    assert login(client, user_email, WRONG).status_code == 200
    with app.app_context():
        assert _locked_until() is not None
    response = login(client, user_email, factories.PASSWORD)
    assert response.status_code == 200
    # Same message as a wrong password: the lock does not reveal that the account exists.
    assert services.LOGIN_FAILED_MESSAGE in response.get_data(as_text=True)
    assert not _is_logged_in(client)


def test_login_lock_counts_failures_from_two_workers(client, app, second_worker, user_email):
    max_failures = app.config["LOGIN_MAX_FAILURES"]
    worker_a, worker_b = client, second_worker.test_client()
    for attempt in range(max_failures):
        worker = worker_a if attempt % 2 == 0 else worker_b
        assert login(worker, user_email, WRONG).status_code == 200
        for instance in (app, second_worker):  # both workers read the same counter
            with instance.app_context():
                assert _failures() == attempt + 1
    for worker in (worker_a, worker_b):
        assert login(worker, user_email, factories.PASSWORD).status_code == 200
        assert not _is_logged_in(worker)


def test_authenticate_lock_time_doubles_and_expires(app_ctx, app):
    user = factories.create_user(email=EMAIL)
    base = app.config["LOGIN_LOCK_BASE_SECONDS"]
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        with pytest.raises(services.LoginFailed):
            services.authenticate(EMAIL, WRONG, source=GUESSER, now=T0)
    assert _locked_until(GUESSER) == T0 + timedelta(seconds=base)

    # Locked: the right password is refused and does not count as a further failure.
    with pytest.raises(services.LoginFailed):
        services.authenticate(
            EMAIL, factories.PASSWORD, source=GUESSER, now=T0 + timedelta(seconds=base - 1)
        )
    assert _failures(GUESSER) == app.config["LOGIN_MAX_FAILURES"]

    t1 = T0 + timedelta(seconds=base + 1)
    with pytest.raises(services.LoginFailed):
        services.authenticate(EMAIL, WRONG, source=GUESSER, now=t1)
    assert _locked_until(GUESSER) == t1 + timedelta(seconds=2 * base)

    t2 = t1 + timedelta(seconds=2 * base + 1)
    with pytest.raises(services.LoginFailed):
        services.authenticate(EMAIL, WRONG, source=GUESSER, now=t2)
    assert _locked_until(GUESSER) == t2 + timedelta(seconds=4 * base)

    t3 = t2 + timedelta(seconds=4 * base + 1)
    assert services.authenticate(EMAIL, factories.PASSWORD, source=GUESSER, now=t3) is user
    services.login_succeeded(user, source=GUESSER, now=t3)
    assert _failures(GUESSER) == 0
    assert _locked_until(GUESSER) is None


def test_authenticate_lock_time_is_capped(app_ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LOCK_MAX_SECONDS", 3600)
    user = factories.create_user(email=EMAIL)
    services.count_failure(user, T0, source=GUESSER, reason="test")
    services.lock_of(user, GUESSER).failures = 40  # 2**35 minutes without the cap
    with pytest.raises(services.LoginFailed):
        services.authenticate(EMAIL, WRONG, source=GUESSER, now=T0)
    assert _locked_until(GUESSER) == T0 + timedelta(seconds=3600)


def test_login_lock_expires_over_http(client, app, user_email):
    with freeze_time(T0) as frozen:
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            login(client, user_email, WRONG)
        frozen.tick(app.config["LOGIN_LOCK_BASE_SECONDS"] - 5)
        assert login(client, user_email, factories.PASSWORD).status_code == 200
        frozen.tick(10)
        assert login(client, user_email, factories.PASSWORD).status_code == 302
        assert _is_logged_in(client)


# --- security event log ---------------------------------------------------------------------


def _events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "app.auth.services"]


def test_login_logs_fail_lock_and_success(client, app, user_email, caplog):
    caplog.set_level(logging.INFO)
    login(client, user_email, WRONG)
    assert _events(caplog) == ["authn_login_fail"]
    failure = next(r for r in caplog.records if r.getMessage() == "authn_login_fail")
    with app.app_context():
        assert failure.user_id == _user().id
    assert failure.reason == "wrong_password"

    caplog.clear()
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        login(client, user_email, WRONG)
    assert _events(caplog)[-2:] == ["authn_login_fail", "authn_login_lock"]
    lock = next(r for r in caplog.records if r.getMessage() == "authn_login_lock")
    assert lock.levelno == logging.WARNING
    assert lock.seconds == app.config["LOGIN_LOCK_BASE_SECONDS"]

    caplog.clear()
    login(client, user_email, factories.PASSWORD)  # refused while locked
    refused = [r for r in caplog.records if r.getMessage() == "authn_login_fail"]
    assert [r.reason for r in refused] == ["locked"]

    caplog.clear()
    with app.app_context():
        services.lock_of(_user(), "127.0.0.1").locked_until = None
        db.session.commit()
    login(client, user_email, factories.PASSWORD)
    assert _events(caplog) == ["authn_login_success"]


def test_login_logs_unknown_user_without_the_submitted_name(client, caplog):
    caplog.set_level(logging.INFO)
    login(client, "niemand@zittau.test-kp.de", WRONG)
    (record,) = [r for r in caplog.records if r.getMessage() == "authn_login_fail"]
    assert record.reason == "unknown_user"
    assert "niemand" not in json.dumps(vars(record), default=str)


def test_login_never_logs_a_password(client, app, applicant_client, user_email, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = [WRONG, factories.PASSWORD, "Neue-Passphrase-Elbsandstein-Wanderung"]
    login(client, user_email, WRONG)
    login(client, WRONG, WRONG)  # a password typed into the e-mail field
    login(client, user_email, factories.PASSWORD)
    applicant_client.post(
        "/auth/passwort",
        data={
            "current_password": factories.PASSWORD,
            "new_password": secrets[2],
            "confirm": secrets[2],
        },
    )
    assert caplog.records, "the requests above must have logged something"
    assert {"authn_login_fail", "authn_login_success", "authn_password_change"} <= {
        r.getMessage() for r in caplog.records
    }
    formatter = JsonFormatter()
    for record in caplog.records:
        text = formatter.format(record) + repr(vars(record))
        for secret in secrets:
            assert secret not in text, record.getMessage()


# --- JSON log lines cannot be forged -------------------------------------------------------------


def _record(message: str = "authn_login_fail", **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("app.auth.services", logging.INFO, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


@pytest.mark.parametrize("separator", ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\x0b"])
def test_json_formatter_keeps_forged_username_on_one_line(separator):
    forged = f'mallory{separator}{{"event": "authn_login_success", "user_id": 1}}'
    line = JsonFormatter().format(_record(username=forged))
    assert len(line.splitlines()) == 1
    assert json.loads(line)["username"] == forged  # escaped, not dropped


def test_json_formatter_keeps_forged_message_on_one_line():
    line = JsonFormatter().format(_record('x\n{"event": "authn_login_success"}\u2028y'))
    assert len(line.splitlines()) == 1
    assert json.loads(line)["event"] == 'x\n{"event": "authn_login_success"}\u2028y'


def test_json_formatter_writes_utc_time_level_and_extras():
    payload = json.loads(JsonFormatter().format(_record(user_id=7, reason="locked", umlaut="ä")))
    assert payload["event"] == "authn_login_fail"
    assert payload["level"] == "INFO"
    assert payload["user_id"] == 7
    assert payload["reason"] == "locked"
    assert payload["umlaut"] == "ä"
    assert datetime.fromisoformat(payload["time"]).utcoffset() == timedelta(0)


def test_json_formatter_adds_client_ip_in_a_request(app):
    with app.test_request_context("/auth/login", environ_base={"REMOTE_ADDR": "192.0.2.7"}):
        payload = json.loads(JsonFormatter().format(_record()))
    assert payload["ip"] == "192.0.2.7"


def test_login_with_newline_in_email_logs_single_json_lines(client, user_email):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # another test or pytest's log capture may have raised it
    try:
        login(client, f'{user_email}\n{{"event": "authn_login_success"}}', WRONG)
        login(client, user_email, WRONG)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    lines = stream.getvalue().splitlines()
    events = [json.loads(line)["event"] for line in lines]  # every line is one JSON object
    assert events.count("authn_login_fail") == 2
    assert "authn_login_success" not in events


# --- re-authentication for sensitive changes ----------------------------------------------------


def test_reauthenticate_counts_failures_and_ends_sessions_on_lock(app_ctx, app):
    user = factories.create_user(email=EMAIL)
    epoch = user.session_epoch
    services.reauthenticate(user, factories.PASSWORD, now=T0)  # right password: no error
    for attempt in range(1, app.config["LOGIN_MAX_FAILURES"] + 1):
        with pytest.raises(services.PasswordRejected) as excinfo:
            services.reauthenticate(user, WRONG, now=T0, field="password", reason="iban_change")
        assert excinfo.value.field == "password"
        assert _failures(services.REAUTH_SOURCE) == attempt
    assert _locked_until(services.REAUTH_SOURCE) == T0 + timedelta(
        seconds=app.config["LOGIN_LOCK_BASE_SECONDS"]
    )
    assert user.session_epoch == epoch + 1  # every session ended with the lock
    with pytest.raises(services.PasswordRejected, match="vorübergehend gesperrt"):
        services.reauthenticate(user, factories.PASSWORD, now=T0 + timedelta(seconds=1))
