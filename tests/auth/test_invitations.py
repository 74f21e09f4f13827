"""Invitations (e-mailed, expiring, single-use links) and the operator CLI."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from app.auth import services
from app.auth.models import Invitation, Role, User
from app.auth.passwords import verify_password
from app.common.audit import AuditEvent
from app.common.mail import OutboxMessage
from app.extensions import db
from tests import factories
from tests.conftest import login
from tests.twin import bound_to_test_transaction, build_twin, dispose

INVITEE = "neu@zittau.test-kp.de"
NEW_PASSWORD = "Frühnebel-über-der-Neiße-am-Viadukt"  # noqa: S105 - test value
LINK_RE = re.compile(r"(https?://\S+/auth/einladung/([A-Za-z0-9_-]+))")
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


def _org_id(key: str) -> int:
    return factories.organisation(key).id


def _invite(client: FlaskClient, app: Flask, email: str = INVITEE, **data: str):
    with app.app_context():
        org = str(_org_id("14626610"))
    form = {"email": email, "role": "applicant", "organisation": org, **data}
    return client.post("/auth/einladen", data=form)


def _mail_to(email: str) -> OutboxMessage:
    return db.session.execute(db.select(OutboxMessage).filter_by(recipient=email)).scalar_one()


def _token_from_mail(app: Flask, email: str = INVITEE) -> str:
    with app.app_context():
        body = _mail_to(email).body
    match = LINK_RE.search(body)
    assert match, body
    assert match.group(1).startswith(app.config["PUBLIC_BASE_URL"])
    return match.group(2)


def _invitations(email: str) -> list[Invitation]:
    return list(db.session.execute(db.select(Invitation).filter_by(email=email)).scalars())


def _accept(client: FlaskClient, token: str, password: str = NEW_PASSWORD):
    return client.post(
        f"/auth/einladung/{token}",
        data={"name": "Nora Neu", "new_password": password, "confirm": password},
    )


def _issue(app: Flask, *, email: str = INVITEE) -> str:
    """An invitation from an admin, made through the service (no HTTP)."""
    with app.app_context():
        admin = factories.create_user("admin", email="einlader@lpr.test-kp.de")
        issued = services.invite(
            admin,
            email=email,
            role=Role.APPLICANT,
            organisation=factories.organisation(),
            base_url=app.config["PUBLIC_BASE_URL"],
        )
        db.session.commit()
        return issued.token


# --- inviting -------------------------------------------------------------------------------


def test_invite_admin_queues_mail_with_token_link(app, admin_client):
    response = _invite(admin_client, app)
    assert response.status_code == 302
    token = _token_from_mail(app)
    with app.app_context():
        mail = _mail_to(INVITEE)
        assert mail.subject == "Einladung zum Förderportal KommPräv"
        assert mail.sent_at is None
        (invitation,) = _invitations(INVITEE)
        # Only the hash of the token is stored.
        assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in repr(vars(invitation))
        assert invitation.role is Role.APPLICANT
        assert invitation.organisation_id == _org_id("14626610")
        assert invitation.accepted_at is None
        hours = app.config["INVITATION_VALID_HOURS"]
        delta = invitation.expires_at.replace(tzinfo=UTC) - invitation.created_at.replace(
            tzinfo=UTC
        )
        assert abs(delta - timedelta(hours=hours)) < timedelta(minutes=1)
        assert db.session.execute(
            db.select(AuditEvent).filter_by(action="user_invited", object_id=str(invitation.id))
        ).scalar_one()


def test_invite_admin_can_invite_ministry_staff_without_organisation(app, admin_client):
    response = _invite(admin_client, app, email="neu@lpr.test-kp.de", role="reviewer")
    assert response.status_code == 302
    token = _token_from_mail(app, "neu@lpr.test-kp.de")
    assert _accept(app.test_client(), token).status_code == 302
    with app.app_context():
        user = db.session.execute(
            db.select(User).filter_by(email="neu@lpr.test-kp.de")
        ).scalar_one()
        assert user.roles == {Role.REVIEWER}
        assert user.organisation_id is None


@pytest.mark.parametrize("organisation", ["", "99999999999", "²", "14626610", "-1", "1e3"])
def test_invite_malformed_organisation_is_a_form_error(app, admin_client, organisation):
    response = _invite(admin_client, app, organisation=organisation)
    assert response.status_code == 422
    assert "Bitte wählen Sie die Kommune." in response.get_data(as_text=True)
    with app.app_context():
        assert _invitations(INVITEE) == []


def test_invite_existing_account_is_refused(app, admin_client):
    response = _invite(admin_client, app, email=admin_client.user_email)
    assert response.status_code == 422
    assert "bereits ein Konto" in response.get_data(as_text=True)
    with app.app_context():
        assert _invitations(admin_client.user_email) == []


def test_invite_org_manager_may_invite_applicants_of_own_organisation(app, client):
    with app.app_context():
        factories.create_user(email="chefin@zittau.test-kp.de", ags="14626610", manager=True)
        db.session.commit()
        pirna = str(_org_id("14628270"))
    login(client, "chefin@zittau.test-kp.de", factories.PASSWORD)
    page = client.get("/auth/einladen")
    assert page.status_code == 200
    assert "Pirna" not in page.get_data(as_text=True)

    assert _invite(client, app).status_code == 302
    with app.app_context():
        (invitation,) = _invitations(INVITEE)
        assert invitation.organisation_id == _org_id("14626610")

    other_org = _invite(client, app, email="x@pirna.test-kp.de", organisation=pirna)
    assert other_org.status_code == 422
    assert "nicht einladen" in other_org.get_data(as_text=True)
    ministry_role = _invite(client, app, email="x@lpr.test-kp.de", role="admin")
    assert ministry_role.status_code == 422
    with app.app_context():
        assert _invitations("x@pirna.test-kp.de") == []
        assert _invitations("x@lpr.test-kp.de") == []
        assert (
            db.session.execute(
                db.select(OutboxMessage).filter(OutboxMessage.recipient.like("x@%"))
            ).first()
            is None
        )


def test_invite_non_manager_applicant_gets_403(app, applicant_client):
    assert applicant_client.get("/auth/einladen").status_code == 403
    assert _invite(applicant_client, app).status_code == 403
    with app.app_context():
        assert _invitations(INVITEE) == []


def test_invite_refusal_is_logged_as_authz_fail(app, applicant_client, caplog):
    caplog.set_level(logging.INFO)
    applicant_client.get("/auth/einladen")
    (record,) = [r for r in caplog.records if r.getMessage() == "authz_fail"]
    assert record.path == "/auth/einladen"
    with app.app_context():
        assert (
            record.user_id
            == db.session.execute(
                db.select(User.id).filter_by(email=applicant_client.user_email)
            ).scalar_one()
        )


def test_accept_invitation_token_is_masked_in_the_log(app, caplog):
    token = _issue(app)
    twin = build_twin(app, WTF_CSRF_ENABLED=True)
    caplog.set_level(logging.INFO)
    try:
        with bound_to_test_transaction(twin, app):
            response = _accept(twin.test_client(), token)  # no CSRF token: 400
    finally:
        dispose(twin)
    assert response.status_code == 400
    (record,) = [r for r in caplog.records if r.getMessage() == "input_validation_fail"]
    assert record.path == "/auth/einladung/<token>"
    assert all(token not in repr(vars(r)) for r in caplog.records)


def test_invite_reviewer_gets_403(app, reviewer_client):
    assert reviewer_client.get("/auth/einladen").status_code == 403
    assert _invite(reviewer_client, app).status_code == 403


def test_invite_anonymous_is_sent_to_login(app, client):
    response = _invite(client, app)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_invite_service_refuses_manager_of_other_organisation(app_ctx):
    manager = factories.create_user(email="chef@pirna.test-kp.de", ags="14628270", manager=True)
    with pytest.raises(services.NotPermitted):
        services.invite(
            manager,
            email=INVITEE,
            role=Role.APPLICANT,
            organisation=factories.organisation("14626610"),
            base_url="https://portal.example",
        )


# --- accepting ------------------------------------------------------------------------------


def test_accept_invitation_creates_account_and_logs_in(app, admin_client):
    _invite(admin_client, app)
    token = _token_from_mail(app)
    invitee = app.test_client()
    page = invitee.get(f"/auth/einladung/{token}")
    assert page.status_code == 200
    assert INVITEE in page.get_data(as_text=True)
    response = _accept(invitee, token)
    assert response.status_code == 302
    assert invitee.get("/auth/passwort").status_code == 200  # logged in
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=INVITEE)).scalar_one()
        assert user.name == "Nora Neu"
        assert user.roles == {Role.APPLICANT}
        assert user.organisation_id == _org_id("14626610")
        assert not user.is_org_manager
        assert verify_password(user.password_hash, NEW_PASSWORD)
        (invitation,) = _invitations(INVITEE)
        assert invitation.accepted_at is not None


def test_accept_invitation_token_works_once(app):
    token = _issue(app)
    assert _accept(app.test_client(), token).status_code == 302
    second = app.test_client()
    page = second.get(f"/auth/einladung/{token}")
    assert page.status_code == 404
    assert "ungültig oder abgelaufen" in page.get_data(as_text=True)
    reuse = _accept(second, token, "Ganz-andere-Passphrase-am-Kaisertrutz")
    assert reuse.status_code == 404
    assert second.get("/auth/passwort").status_code == 302
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email=INVITEE)).scalar_one()
        assert verify_password(user.password_hash, NEW_PASSWORD)  # not overwritten


def test_accept_invitation_expired_token_is_refused(app):
    hours = app.config["INVITATION_VALID_HOURS"]
    with freeze_time(T0) as frozen:
        token = _issue(app)
        frozen.move_to(T0 + timedelta(hours=hours) - timedelta(minutes=1))
        assert app.test_client().get(f"/auth/einladung/{token}").status_code == 200
        frozen.move_to(T0 + timedelta(hours=hours) + timedelta(minutes=1))
        late = app.test_client()
        assert late.get(f"/auth/einladung/{token}").status_code == 404
        assert _accept(late, token).status_code == 404
    with app.app_context():
        assert db.session.execute(db.select(User).filter_by(email=INVITEE)).first() is None


def test_accept_invitation_unknown_token_is_refused(client):
    assert client.get("/auth/einladung/erfunden").status_code == 404
    assert _accept(client, "erfunden").status_code == 404


def test_accept_invitation_weak_password_keeps_invitation_open(app):
    token = _issue(app)
    invitee = app.test_client()
    response = _accept(invitee, token, "Sachsen2026!")
    assert response.status_code == 422
    assert "zu leicht zu erraten" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(User).filter_by(email=INVITEE)).first() is None
    assert _accept(invitee, token).status_code == 302


def test_accept_invitation_revoked_token_is_refused(app):
    token = _issue(app)
    with app.app_context():
        (invitation,) = _invitations(INVITEE)
        invitation.revoked = True
        db.session.commit()
    assert app.test_client().get(f"/auth/einladung/{token}").status_code == 404


# --- CLI -----------------------------------------------------------------------------------


def _create_args(email: str, *extra: str) -> list[str]:
    return ["users", "create", email, "--role", "applicant", *extra, "--password-stdin"]


def test_users_create_reads_password_from_stdin(app, runner):
    result = runner.invoke(
        args=_create_args("cli@zittau.test-kp.de", "--organisation", "14626610"),
        input=NEW_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Benutzer cli@zittau.test-kp.de angelegt" in result.output
    assert NEW_PASSWORD not in result.output
    with app.app_context():
        user = db.session.execute(
            db.select(User).filter_by(email="cli@zittau.test-kp.de")
        ).scalar_one()
        assert user.roles == {Role.APPLICANT}
        assert user.organisation_id == _org_id("14626610")
        assert verify_password(user.password_hash, NEW_PASSWORD)  # no trailing newline kept
    assert login(app.test_client(), "cli@zittau.test-kp.de", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--organisation", "14626610"], "Sachsen2026!", "zu leicht zu erraten"),
        (["--organisation", "14626610"], "kurz", "mindestens 12 Zeichen"),
        (["--organisation", "99999999"], NEW_PASSWORD, "Keine gültige Kommune mit Schlüssel"),
        ([], NEW_PASSWORD, "Antragstellende gehören zu einer Kommune"),
    ],
)
def test_users_create_gives_clean_error(app, runner, args, password, message):
    result = runner.invoke(
        args=_create_args("fehler@zittau.test-kp.de", *args), input=password + "\n"
    )
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a ClickException, no traceback
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: ")
    assert message in result.output
    assert password not in result.output
    with app.app_context():
        assert (
            db.session.execute(db.select(User).filter_by(email="fehler@zittau.test-kp.de")).first()
            is None
        )


def test_users_create_duplicate_email_gives_clean_error(app, runner, applicant_client):
    result = runner.invoke(
        args=_create_args(applicant_client.user_email, "--organisation", "14626610"),
        input=NEW_PASSWORD + "\n",
    )
    assert result.exit_code == 1
    assert "bereits ein Konto" in result.output


def test_mail_outbox_prints_the_mail(app, runner):
    token = _issue(app)
    result = runner.invoke(args=["mail", "outbox"])
    assert result.exit_code == 0, result.output
    assert f"an {INVITEE} (nicht gesendet)" in result.output
    assert "Betreff: Einladung zum Förderportal KommPräv" in result.output
    assert f"/auth/einladung/{token}" in result.output
