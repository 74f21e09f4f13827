"""An invitation may carry several roles (approver + reviewer), combinations are checked, and
the message says what really happened to the mail (issue 11)."""

from __future__ import annotations

import re

import pytest

from app.auth import services
from app.auth.models import Invitation, Role, User
from app.common.errors import DomainError
from app.extensions import db
from tests.auth.test_invitations import NEW_PASSWORD

LINK_RE = re.compile(r"/auth/einladung/([A-Za-z0-9_-]+)")


def _invite(client, email, roles):
    return client.post("/auth/einladen", data={"email": email, "role": roles, "organisation": ""})


def test_invitation_with_two_roles_creates_an_account_with_both(app, admin_client):
    page = admin_client.get("/auth/einladen").get_data(as_text=True)
    assert 'type="checkbox"' in page and 'name="role" type="checkbox" value="approver"' in page
    response = _invite(admin_client, "leitung@lpr.test-kp.de", ["approver", "reviewer"])
    assert response.status_code == 302
    with app.app_context():
        invitation = db.session.execute(
            db.select(Invitation).filter_by(email="leitung@lpr.test-kp.de")
        ).scalar_one()
        assert invitation.roles == [Role.APPROVER, Role.REVIEWER]
        from app.common.mail import OutboxMessage

        body = (
            db.session.execute(
                db.select(OutboxMessage).filter_by(recipient="leitung@lpr.test-kp.de")
            )
            .scalar_one()
            .body
        )
    token = LINK_RE.search(body).group(1)
    accepted = app.test_client().post(
        f"/auth/einladung/{token}",
        data={"name": "Leonie Leitung", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert accepted.status_code == 302
    with app.app_context():
        user = db.session.execute(
            db.select(User).filter_by(email="leitung@lpr.test-kp.de")
        ).scalar_one()
        assert user.roles == {Role.APPROVER, Role.REVIEWER}


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        (["finance", "approver"], "Haushalt/Kasse kann nicht zugleich prüfen oder bewilligen"),
        (["applicant", "reviewer"], "keine weitere Rolle"),
        ([], "Bitte wählen Sie mindestens eine Rolle."),
    ],
)
def test_invitation_role_combinations_are_checked_at_the_field(app, admin_client, roles, message):
    response = _invite(admin_client, "x@lpr.test-kp.de", roles)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="role-error"' in html and message in html
    with app.app_context():
        assert db.session.execute(db.select(Invitation)).first() is None


def test_role_combination_rule_in_the_service():
    services.check_role_combination([Role.APPROVER, Role.REVIEWER, Role.ADMIN])
    with pytest.raises(DomainError):
        services.check_role_combination([Role.FINANCE, Role.REVIEWER])


def test_invitation_message_does_not_claim_the_mail_was_sent_without_a_mail_server(
    app, admin_client
):
    assert not app.config.get("MAIL_SERVER")
    response = _invite(admin_client, "p@lpr.test-kp.de", ["reviewer"])
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "gesendet" not in html
    assert "nicht verschickt" in html and "Postausgang" in html


def test_invitation_message_with_a_mail_server_says_it_is_queued(app, admin_client, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    response = _invite(admin_client, "q@lpr.test-kp.de", ["reviewer"])
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "im Postausgang und wird mit dem nächsten Mailversand verschickt" in html
