"""Second factor (TOTP, RFC 6238) and recovery codes (issue 14): required for ministry and
finance roles, optional for applicants; re-authentication before money moves; admin reset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask import Flask
from freezegun import freeze_time

from app.auth import mfa, services
from app.auth.models import RecoveryCode, User
from app.common.audit import AuditEvent
from app.extensions import db
from config import Config, DevelopmentConfig, ProductionConfig
from tests import factories
from tests.conftest import _client_for, _next_code

EMAIL = "pruefer@lpr.test-kp.de"
PENDING = "/auth/zweiter-faktor"
SETUP = "/auth/zweiter-faktor/einrichten"


def _user(email: str = EMAIL) -> User:
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


def _password(client, email: str = EMAIL):
    return client.post("/auth/login", data={"email": email, "password": factories.PASSWORD})


def _logged_in(client) -> bool:
    return client.get("/auth/konto").status_code == 200


@pytest.fixture
def reviewer(app: Flask) -> str:
    with app.app_context():
        factories.create_user("reviewer", email=EMAIL)
        db.session.commit()
    return EMAIL


@pytest.fixture
def reviewer_without_mfa(app: Flask) -> str:
    with app.app_context():
        factories.create_user("reviewer", email=EMAIL, mfa=False)
        db.session.commit()
    return EMAIL


def _actions(app: Flask, email: str = EMAIL) -> list[str]:
    with app.app_context():
        user_id = str(_user(email).id)
        return list(
            db.session.execute(
                db.select(AuditEvent.action)
                .where(AuditEvent.object_type == "user", AuditEvent.object_id == user_id)
                .order_by(AuditEvent.id)
            ).scalars()
        )


# --- login with the second factor ---------------------------------------------------------------


def test_password_alone_does_not_log_a_ministry_user_in(client, reviewer):
    response = _password(client)
    assert response.status_code == 302
    assert response.headers["Location"] == PENDING
    assert not _logged_in(client)
    assert client.get("/pruefung").status_code == 302


def test_second_factor_completes_the_login_and_a_code_works_once(app, client, reviewer):
    _password(client)
    code = _next_code(client, EMAIL)
    assert client.post(PENDING, data={"code": code}).headers["Location"] == "/"
    assert _logged_in(client)
    other = app.test_client()
    _password(other)
    replay = other.post(PENDING, data={"code": code})
    assert replay.status_code == 422
    assert "schon benutzt" in replay.get_data(as_text=True)
    assert not _logged_in(other)
    assert "login_succeeded" in _actions(app)


def test_wrong_codes_count_and_lock_the_source(app, client, reviewer):
    _password(client)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert client.post(PENDING, data={"code": "123456"}).status_code == 422
    refused = client.post(PENDING, data={"code": _next_code(client, EMAIL)})
    assert refused.status_code == 422
    assert "gesperrt" in refused.get_data(as_text=True)
    assert "login_locked" in _actions(app)


def test_pending_second_factor_expires(client, reviewer):
    with freeze_time(datetime.now(UTC)) as frozen:
        _password(client)
        frozen.tick(timedelta(minutes=6))
        response = client.post(PENDING, data={"code": _next_code(client, EMAIL)})
    assert response.headers["Location"] == "/auth/login"


def test_pending_page_without_password_goes_to_login(client):
    assert client.get(PENDING).headers["Location"] == "/auth/login"


# --- enrolment: required for ministry roles, optional for applicants ---------------------------


def test_ministry_user_without_second_factor_must_enrol_first(app, client, reviewer_without_mfa):
    assert _password(client).headers["Location"] == "/"
    for path in ("/", "/pruefung", "/auth/konto", "/haushalt"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == SETUP
    page = client.get(SETUP)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<svg" in html and "vorgeschrieben" in html
    secret = re.search(r'class="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    wrong = client.post(SETUP, data={"code": "000000"})
    assert wrong.status_code == 422
    confirmed = client.post(SETUP, data={"code": pyotp.TOTP(secret).now()})
    assert confirmed.status_code == 200
    codes = re.findall(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>", confirmed.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/pruefung").status_code == 200
    with app.app_context():
        user = _user()
        assert user.mfa_enabled and user.totp_secret == secret
        hashes = db.session.execute(
            db.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
        ).scalars()
        stored = list(hashes)
    assert len(stored) == 10
    assert all(h.startswith("$argon2id$") for h in stored)
    assert not any(c.replace("-", "") in h for c in codes for h in stored)
    assert "mfa_enabled" in _actions(app)


def test_recovery_code_logs_in_once(app, client, reviewer_without_mfa):
    _password(client)
    html = client.get(SETUP).get_data(as_text=True)
    secret = re.search(r'class="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    page = client.post(SETUP, data={"code": pyotp.TOTP(secret).now()}).get_data(as_text=True)
    code = re.findall(r"<code>([A-Z2-9-]{11})</code>", page)[3]
    first, second = app.test_client(), app.test_client()
    _password(first)
    assert first.post(PENDING, data={"code": code.lower()}).headers["Location"] == "/"
    _password(second)
    assert second.post(PENDING, data={"code": code}).status_code == 422
    assert "9 unbenutzte" in first.get("/auth/konto").get_data(as_text=True)


def test_applicant_second_factor_is_optional(app, applicant_client):
    assert applicant_client.get("/antraege").status_code == 200  # no gate
    account = applicant_client.get("/auth/konto").get_data(as_text=True)
    assert "Nicht eingerichtet" in account
    setup = applicant_client.get(SETUP)
    assert setup.status_code == 200
    assert "vorgeschrieben" not in setup.get_data(as_text=True)


def test_applicant_with_second_factor_needs_it_for_the_bank_account(app):
    client = _client_for(app, role="applicant", email="mfa@zittau.test-kp.de", mfa=True)
    data = {
        "holder": "Stadt Zittau",
        "iban": "DE89370400440532013000",
        "password": factories.PASSWORD,
    }
    refused = client.post("/kommune/bankverbindung", data=data)
    assert refused.status_code == 422
    assert "Der Code ist falsch" in refused.get_data(as_text=True)
    data["totp"] = _next_code(client, "mfa@zittau.test-kp.de")
    assert client.post("/kommune/bankverbindung", data=data).status_code == 302


# --- admin reset ---------------------------------------------------------------------------------


def test_admin_resets_a_lost_second_factor(app, admin_client, reviewer):
    reviewer_client = app.test_client()
    _password(reviewer_client)
    reviewer_client.post(PENDING, data={"code": _next_code(reviewer_client, EMAIL)})
    assert _logged_in(reviewer_client)
    with app.app_context():
        user_id = _user().id
    listing = admin_client.get("/auth/benutzer").get_data(as_text=True)
    assert EMAIL in listing
    url = f"/auth/benutzer/{user_id}/zweiter-faktor/zuruecksetzen"
    assert admin_client.post(url).status_code == 302
    assert not _logged_in(reviewer_client)  # every session of the user ended
    with app.app_context():
        assert not _user().mfa_enabled
        event = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == "mfa_reset")
        ).scalar_one()
        assert event.object_id == str(user_id)
    # Next login: password, then enrolment again.
    fresh = app.test_client()
    assert _password(fresh).headers["Location"] == "/"
    assert fresh.get("/pruefung").headers["Location"] == SETUP


def test_only_admins_reset_a_second_factor(app, reviewer_client, reviewer):
    with app.app_context():
        user_id = _user().id
    url = f"/auth/benutzer/{user_id}/zweiter-faktor/zuruecksetzen"
    assert reviewer_client.post(url).status_code == 403
    assert reviewer_client.get("/auth/benutzer").status_code == 403


# --- demo secret and CLI --------------------------------------------------------------------------


def test_fixed_demo_secret_only_in_development():
    assert Config.DEMO_TOTP_SECRET is None
    assert ProductionConfig.DEMO_TOTP_SECRET is None
    assert DevelopmentConfig.DEMO_TOTP_SECRET


def test_demo_secret_refused_without_the_development_setting(app_ctx, app, monkeypatch):
    user = factories.create_user("reviewer", mfa=False)
    monkeypatch.setitem(app.config, "DEMO_TOTP_SECRET", None)
    with pytest.raises(services.DomainError):
        mfa.set_demo_secret(user, "KOMMPRAEVDEMOKOMMPRAEVDEMO234567")


@pytest.mark.parametrize("command", ["payment-run", "import-statement"])
def test_cli_money_commands_need_the_acting_users_code(app, runner, tmp_path, command):
    with app.app_context():
        user = factories.create_user("finance", email="kasse@lpr.test-kp.de")
        db.session.commit()
        good = factories.totp_code(user)
    statement = tmp_path / "auszug.xml"
    statement.write_text("<kein-camt/>")
    args = (
        ["finance", "payment-run", "--execution-date", "2099-01-04", "--out", str(tmp_path / "r")]
        if command == "payment-run"
        else ["finance", "import-statement", str(statement)]
    )
    args += ["--as", "kasse@lpr.test-kp.de"]
    wrong = runner.invoke(args=[*args, "--totp", "000000"])
    assert wrong.exit_code == 1
    assert "Der Code ist falsch" in wrong.output
    right = runner.invoke(args=[*args, "--totp", good])
    assert "Der Code ist falsch" not in right.output
    with app.app_context():
        lock = services.lock_of(_user("kasse@lpr.test-kp.de"), "cli")
        assert lock is not None and lock.failures == 1


def test_renew_recovery_codes_needs_a_fresh_code_and_replaces_the_old_ones(app, reviewer_client):
    refused = reviewer_client.post(
        "/auth/konto/wiederherstellungscodes", data={"totp": "000000"}, follow_redirects=True
    )
    assert "Der Code ist falsch" in refused.get_data(as_text=True)
    code = _next_code(reviewer_client, reviewer_client.user_email)
    page = reviewer_client.post("/auth/konto/wiederherstellungscodes", data={"totp": code})
    assert page.status_code == 200
    codes = re.findall(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>", page.get_data(as_text=True))
    assert len(codes) == 10
    again = reviewer_client.post(
        "/auth/konto/wiederherstellungscodes",
        data={"totp": _next_code(reviewer_client, reviewer_client.user_email)},
    )
    newer = re.findall(r"<code>([A-Z2-9]{5}-[A-Z2-9]{5})</code>", again.get_data(as_text=True))
    assert not set(codes) & set(newer)
    with app.app_context():
        user = _user(reviewer_client.user_email)
        assert mfa.remaining_recovery_codes(user) == 10
        with pytest.raises(mfa.SecondFactorRejected):
            mfa.verify(user, codes[0], source="test")
    assert "mfa_recovery_codes_renewed" in _actions(app, reviewer_client.user_email)
