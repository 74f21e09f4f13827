"""``flask --app wsgi demo``: demo logins for every role and applications in several states."""

from __future__ import annotations

from datetime import UTC, date, datetime

import click

from app.auth import services as auth_services
from app.auth.models import Role, User
from app.budget import services as budget
from app.extensions import db
from app.finance.models import Instalment
from app.finance.services import payouts
from app.grants.models import Application, LineCategory, Qualification
from app.grants.services import applications as svc
from app.grants.services import review
from app.orgs import queries as org_queries
from app.postaward.services import start

DEMO_PASSWORD = "Lindenblüte-Elbufer-Morgentau-42"  # noqa: S105 - documented demo password

#: e-mail, name, roles, organisation key, manager
DEMO_USERS: tuple[tuple[str, str, tuple[Role, ...], str | None, bool], ...] = (
    ("admin@lpr.demo-sachsen.de", "Anna Admin", (Role.ADMIN,), None, False),
    ("pruefung@lpr.demo-sachsen.de", "Paul Prüfer", (Role.REVIEWER,), None, False),
    (
        "bewilligung@lpr.demo-sachsen.de",
        "Berta Bewilliger",
        (Role.APPROVER, Role.REVIEWER),
        None,
        False,
    ),
    ("kasse@lpr.demo-sachsen.de", "Karl Kasse", (Role.FINANCE,), None, False),
    ("kasse2@lpr.demo-sachsen.de", "Frieda Finanz", (Role.FINANCE,), None, False),
    ("kpr@zittau.demo-sachsen.de", "Zoe Zittau", (Role.APPLICANT,), "14626610", True),
    ("kpr@pirna.demo-sachsen.de", "Peter Pirna", (Role.APPLICANT,), "14628270", True),
    ("kpr@plauen.demo-sachsen.de", "Paula Plauen", (Role.APPLICANT,), "14523320", True),
    ("kpr@wurzen.demo-sachsen.de", "Willi Wurzen", (Role.APPLICANT,), "14729410", True),
    ("praevention@lk-goerlitz.demo-sachsen.de", "Greta Görlitz", (Role.APPLICANT,), "14626", True),
)

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]"
    b"/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _user(email: str) -> User:
    return db.session.execute(db.select(User).where(User.email == email)).scalar_one()


@click.command("demo")
def demo_command() -> None:
    """Create demo users and applications (refuses to run twice)."""
    if db.session.execute(db.select(User.id).where(User.email == DEMO_USERS[0][0])).first():
        raise click.ClickException("Die Demodaten sind bereits angelegt.")
    for email, name, roles, key, manager in DEMO_USERS:
        org = org_queries.by_key(key) if key else None
        if key and org is None:
            raise click.ClickException("Bitte zuerst 'flask --app wsgi reference import'.")
        auth_services.create_user(
            email=email,
            name=name,
            password=DEMO_PASSWORD,
            roles=list(roles),
            organisation=org,
            is_org_manager=manager,
        )

    for year in (2026, 2027):
        budget.open_year(year, 130_000_000)
    budget.set_authorisation(2026, 2027, 100_000_000)
    budget.set_authorisation(2026, 2028, 80_000_000)
    budget.set_authorisation(2027, 2028, 80_000_000)

    reviewer = _user("pruefung@lpr.demo-sachsen.de")
    approver = _user("bewilligung@lpr.demo-sachsen.de")
    in_window = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)

    def submitted(email: str, title: str, grant_cents: int, consulted: date) -> Application:
        user = _user(email)
        svc.record_consultation(
            reviewer,
            user.organisation,  # type: ignore[arg-type]
            held_on=consulted,
            adviser="Paul Prüfer",
            notes="Beratung zur Koordinierungsstelle",
        )
        app = svc.create_application(user, 2027)
        _fill(app, user, title=title, grant_cents=grant_cents)
        for code in ("project_description", "financing_plan", "not_started"):
            svc.add_document(app, user, type_code=code, data=MINIMAL_PDF, filename=f"{code}.pdf")
        staff = next(line for line in app.lines if line.category is LineCategory.STAFF)
        svc.add_document(
            app,
            user,
            type_code="qualification_proof",
            data=MINIMAL_PDF,
            filename="qualifikation.pdf",
            plan_line_id=staff.id,
        )
        svc.submit_application(app, user, now=in_window)
        return app

    # Zittau: approved in November 2026, waiver recorded → final (bestandskräftig).
    zittau = submitted(
        "kpr@zittau.demo-sachsen.de",
        "Koordinierungsstelle KPR Zittau 2027",
        4_050_000,
        date(2026, 9, 8),
    )
    review.start_review(reviewer, zittau)
    decision = review.prepare_decision(
        reviewer, zittau, review.proposal(zittau, 2026), approval_year=2026
    )
    review.approve(approver, decision, now=datetime(2026, 11, 16, 10, 0, tzinfo=UTC))
    review.record_waiver(reviewer, zittau, date(2026, 11, 20))
    # Zittau's bank account (confirmed by finance), start notified, first instalment ordered by
    # Karl Kasse and waiting for Frieda Finanz's release (four eyes).

    zoe, kasse = _user("kpr@zittau.demo-sachsen.de"), _user("kasse@lpr.demo-sachsen.de")
    account = payouts.submit_bank_account(
        zoe,
        password=DEMO_PASSWORD,
        holder="Stadt Zittau",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
    )
    payouts.confirm_bank_account(kasse, account)
    start.notify_start(zoe, zittau, date(2026, 11, 23))
    first = db.session.execute(
        db.select(Instalment).where(Instalment.application_id == zittau.id, Instalment.number == 1)
    ).scalar_one()
    payouts.prepare_order(kasse, first, idempotency_key="demo-zittau-rate-1")

    # Plauen: decision prepared by the reviewer, waiting for the approver (four eyes).
    plauen = submitted(
        "kpr@plauen.demo-sachsen.de",
        "KPR Plauen – Koordinierungsstelle",
        3_800_000,
        date(2026, 9, 15),
    )
    review.start_review(reviewer, plauen)
    review.prepare_decision(reviewer, plauen, review.proposal(plauen, 2026), approval_year=2026)

    # Wurzen: the reviewer asked for changes.
    wurzen = submitted(
        "kpr@wurzen.demo-sachsen.de", "Präventionsrat Wurzen", 3_500_000, date(2026, 9, 3)
    )
    review.start_review(reviewer, wurzen)
    review.request_changes(
        reviewer,
        wurzen,
        sections=["finance"],
        due_on=None,
        message="Bitte erläutern Sie die Sachausgaben für die Befragung.",
    )

    # Landkreis Görlitz: consulted draft, documents still missing.
    goerlitz = _user("praevention@lk-goerlitz.demo-sachsen.de")
    svc.record_consultation(
        reviewer,
        goerlitz.organisation,  # type: ignore[arg-type]
        held_on=date(2026, 9, 22),
        adviser="Paul Prüfer",
        notes="",
    )
    draft = svc.create_application(goerlitz, 2027)
    _fill(
        draft, goerlitz, title="Kreispräventionsrat Görlitz – Koordinierung", grant_cents=3_000_000
    )

    # Pirna: draft without consultation.
    svc.create_application(_user("kpr@pirna.demo-sachsen.de"), 2027)
    db.session.commit()
    click.echo("Demodaten angelegt. Anmeldungen (Passwort für alle: " + DEMO_PASSWORD + "):")
    for email, name, roles, _key, _m in DEMO_USERS:
        click.echo(f"  {email:45} {name:18} {', '.join(r.value for r in roles)}")


def _fill(app: Application, user: User, *, title: str, grant_cents: int) -> None:
    svc.update_fields(
        app,
        user,
        {
            "title": title,
            "purpose": "Aufbau und Betrieb der Koordinierungsstelle des Kommunalen "
            "Präventionsrates (Lagebild, Sicherheitsbefragung, Projektsteuerung nach "
            "Beccaria-Standards).",
            "project_start": date(2027, 1, 1),
            "project_end": date(2027, 12, 31),
        },
        svc.GENERAL_FIELDS,
    )
    svc.update_fields(
        app,
        user,
        {
            "kpr_name": "Kommunaler Präventionsrat",
            "kpr_established_on": date(2021, 3, 1),
            "office_unit": "Ordnungsamt, Stabsstelle Prävention",
            "office_contact_name": user.name,
            "office_contact_email": user.email,
            "office_tasks": "Geschäftsführung des KPR, Netzwerkarbeit, Öffentlichkeitsarbeit.",
        },
        svc.KPR_FIELDS,
    )
    svc.save_plan(
        app,
        user,
        lines=[
            svc.LineInput(
                category=LineCategory.STAFF,
                description="Koordinator/in (0,5 VZÄ)",
                amount_cents=3_000_000,
                pay_group=11,
                pay_step=3,
                qualification=Qualification.UNIVERSITY_APPLIED,
                fte_permille=500,
                months=12,
            ),
            svc.LineInput(
                category=LineCategory.RUNNING,
                description="Sicherheitsbefragung",
                amount_cents=1_200_000,
            ),
            svc.LineInput(
                category=LineCategory.RUNNING,
                description="Öffentlichkeitsarbeit",
                amount_cents=300_000,
            ),
            svc.LineInput(
                category=LineCategory.STAFF,
                description="Steuerung KPR durch Ordnungsamtsleitung (Eigenleistung)",
                amount_cents=0 + 500_000,
                in_kind=True,
            ),
        ],
        own_share_cash_cents=5_000_000 - 500_000 - grant_cents,
        third_party_cents=0,
        third_party_source="",
        requested_grant_cents=grant_cents,
        small_grant_reason=None,
        small_grant_note="",
    )
