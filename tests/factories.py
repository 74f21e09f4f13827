"""Test data builders. They add to the current session and flush; the per-test transaction
rolls everything back."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, date, datetime
from typing import Any

import pyotp

from app.auth.models import Role, User
from app.auth.services import create_user as service_create_user
from app.demo import MINIMAL_PDF
from app.extensions import db
from app.grants.models import Application, LineCategory, Qualification, Status
from app.grants.services import applications as svc
from app.orgs import queries as org_queries
from app.orgs.models import Organisation
from config import DEMO_TOTP_SECRET_DEV

PASSWORD = "Lindenblüte-Elbufer-Morgentau-42"  # noqa: S105 - test password
#: TOTP secret of every test user with a second factor (ministry users get one by default).
TOTP_SECRET = DEMO_TOTP_SECRET_DEV
_seq = itertools.count(1)


def organisation(key: str = "14626610") -> Organisation:
    org = org_queries.by_key(key)
    assert org is not None, key
    return org


def create_user(
    role: str = "applicant",
    ags: str | None = None,
    email: str | None = None,
    name: str = "Test Nutzerin",
    manager: bool = False,
    roles: list[str] | None = None,
    mfa: bool | None = None,
) -> User:
    """A user with ``PASSWORD``; ministry users (and applicants with ``mfa=True``) have a
    confirmed second factor with ``TOTP_SECRET`` (``mfa=False``: none, to test enrolment)."""
    role_list = [Role(r) for r in (roles or [role])]
    org = organisation(ags or "14626610") if Role.APPLICANT in role_list else None
    user = service_create_user(
        email=email or f"user{next(_seq)}@test-kp.de",
        name=name,
        password=PASSWORD,
        roles=role_list,
        organisation=org,
        is_org_manager=manager,
    )
    if mfa or (mfa is None and user.mfa_required):
        user.totp_secret = TOTP_SECRET
        user.totp_confirmed_at = datetime(2026, 1, 1, tzinfo=UTC)
    return user


def totp_code(user: User, now: float | None = None) -> str:
    """A code the app accepts next for ``user``: the earliest step within the accepted drift
    (±1 step) above the last used one (no replay). The previous step is used only while at
    least 5 s of the current step remain, so that the server, checking a moment later, still
    accepts it."""
    moment = time.time() if now is None else now
    current = int(moment) // 30
    lowest = current - 1 if moment % 30 < 25 else current
    step = max(lowest, (user.totp_last_step or -1) + 1)
    if step > current + 1:  # three logins of one user within 30 s: wait for the next step
        time.sleep(30 - time.time() % 30 + 0.1)
        return totp_code(user)
    return pyotp.TOTP(user.totp_secret or TOTP_SECRET).at(step * 30)


def consultation(
    org: Organisation, reviewer: User | None = None, held_on: date = date(2026, 9, 1)
) -> None:
    reviewer = reviewer or create_user("reviewer")
    svc.record_consultation(reviewer, org, held_on=held_on, adviser="Beraterin", notes="")


def complete_application(
    user: User,
    *,
    funding_year: int = 2027,
    grant_cents: int = 4_000_000,
    documents: bool = True,
    project_start: date = date(2027, 1, 1),
) -> Application:
    """A consulted application that passes every submission rule (R1–R9)."""
    assert user.organisation is not None
    if not svc.queries.consultations_of(user.organisation.id):
        consultation(user.organisation)
    app = svc.create_application(user, funding_year)
    svc.update_fields(
        app,
        user,
        {
            "title": "Koordinierungsstelle",
            "purpose": "Zweck",
            "project_start": project_start,
            "project_end": date(project_start.year, 12, 31),
        },
        svc.GENERAL_FIELDS,
    )
    svc.update_fields(app, user, {"office_unit": "Ordnungsamt"}, svc.KPR_FIELDS)
    # 50.000 € by default; larger grants get a plan of grant / 0.8 (an 80 % funding rate).
    total = max(5_000_000, -(-grant_cents * 10 // 8))
    svc.save_plan(
        app,
        user,
        lines=[
            svc.LineInput(
                category=LineCategory.STAFF,
                description="Koordination",
                amount_cents=2_500_000,
                pay_group=11,
                pay_step=3,
                qualification=Qualification.UNIVERSITY_APPLIED,
                fte_permille=500,
                months=12,
            ),
            svc.LineInput(
                category=LineCategory.RUNNING,
                description="Befragung",
                amount_cents=total - 2_500_000,
            ),
        ],
        own_share_cash_cents=total - grant_cents,
        third_party_cents=0,
        third_party_source="",
        requested_grant_cents=grant_cents,
        small_grant_reason=None,
        small_grant_note="",
    )
    if documents:
        attach_required_documents(app, user)
    return app


def attach_required_documents(app: Application, user: User) -> None:
    for code in ("project_description", "financing_plan", "not_started"):
        svc.add_document(app, user, type_code=code, data=MINIMAL_PDF, filename=f"{code}.pdf")
    for line in app.lines:
        if line.is_grant_funded_staff:
            svc.add_document(
                app,
                user,
                type_code="qualification_proof",
                data=MINIMAL_PDF,
                filename="q.pdf",
                plan_line_id=line.id,
            )


IN_WINDOW = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)


def submitted_application(user: User, **kwargs: Any) -> Application:
    app = complete_application(user, **kwargs)
    svc.submit_application(app, user, now=IN_WINDOW)
    assert app.status is Status.SUBMITTED
    return app


def flush() -> None:
    db.session.flush()
