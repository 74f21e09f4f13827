"""``flask --app wsgi demo``: demo logins for every role and applications in every state.

All dates are derived from today (Europe/Berlin), so every state described in the README is
reachable on any day: the history is generated step by step under a simulated clock
(``app.common.db.simulated_now``), so events, documents and dates tell one consistent story.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import click
from flask import current_app
from flask_migrate import upgrade

from app.auth import mfa
from app.auth import services as auth_services
from app.auth.models import Role, User
from app.budget import services as budget
from app.common.db import BERLIN, simulated_now, today, utcnow
from app.common.programme import default_window
from app.extensions import db
from app.finance.models import Instalment
from app.finance.services import payouts
from app.grants.models import (
    Application,
    Consultation,
    KprRecord,
    KprRecordKind,
    LineCategory,
    Qualification,
)
from app.grants.seed import seed_reference
from app.grants.services import applications as svc
from app.grants.services import review
from app.monitoring.services import record_milestones
from app.orgs import queries as org_queries
from app.orgs.models import OrgKind
from app.orgs.reference import import_reference_data
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
    (
        "leitung@lpr.demo-sachsen.de",
        "Leonie Leitung",
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


#: Postal addresses of the demo organisations (their town halls), used in the Bescheid.
DEMO_ADDRESSES = {
    "14626610": "Markt 1\n02763 Zittau",
    "14628270": "Am Markt 1/2\n01796 Pirna",
    "14523320": "Unterer Graben 1\n08523 Plauen",
    "14729410": "Friedrich-Ebert-Straße 2\n04808 Wurzen",
    "14626": "Bahnhofstraße 24\n02826 Görlitz",
}

#: The recipient IBAN of the demo (Zittau); the state cash office's debtor IBAN differs (config).
DEMO_RECIPIENT_IBAN = "DE89370400440532013000"


def _user(email: str) -> User:
    return db.session.execute(db.select(User).where(User.email == email)).scalar_one()


@contextmanager
def _at(day: date, hour: int = 10, minute: int = 0) -> Iterator[datetime]:
    """Run a step as if it happened on ``day`` at ``hour:minute`` Berlin time (never later
    than now)."""
    moment = datetime.combine(day, time(hour, minute), tzinfo=BERLIN).astimezone(UTC)
    moment = min(moment, utcnow() - timedelta(minutes=5))
    with simulated_now(moment):
        yield moment


@dataclass(frozen=True)
class DemoCalendar:
    """The dates of the demo story, derived from ``today``.

    ``current`` is the funding year running today (Zittau's grant); ``cycle`` is the funding year
    whose application window opened most recently (Plauen, Wurzen: submitted in that window);
    ``next_year`` is the funding year a municipality can still apply for today (Görlitz, Pirna):
    in its window, or late with a justification and a project start at least 42 days away (R2).
    """

    today: date
    current: int
    cycle: int
    next_year: int
    next_in_window: bool

    @classmethod
    def for_day(cls, day: date) -> DemoCalendar:
        window_start = date(day.year, 8, 31)
        cycle = day.year + 1 if day > window_start else day.year
        opens, closes = default_window(day.year + 1)
        in_window = opens <= day <= closes
        next_year = day.year + 1 if in_window or day > closes else day.year
        return cls(day, day.year, cycle, next_year, in_window)

    def cycle_submission(self, days_after_opening: int) -> date:
        opens, closes = default_window(self.cycle)
        return min(opens + timedelta(days=days_after_opening), closes, self.today)

    @property
    def late_start(self) -> date:
        """Project start of a late application made today (≥ 42 days, R2)."""
        return max(date(self.next_year, 1, 1), self.today + timedelta(days=60))


@click.command("demo")
@click.option("--reset", is_flag=True, help="Datenbank leeren und Demodaten neu anlegen.")
@click.option("--yes", is_flag=True, help="Ohne Rückfrage zurücksetzen.")
def demo_command(reset: bool, yes: bool) -> None:
    """Create demo users and applications for every state (dates relative to today)."""
    if reset:
        if not current_app.config.get("DEMO_RESET_ALLOWED"):
            raise click.ClickException("Zurücksetzen ist nur in der Entwicklung erlaubt.")
        if not yes:
            click.confirm(
                "Alle Daten dieser Datenbank löschen und die Demo neu anlegen?", abort=True
            )
        _reset_database()
    elif db.session.execute(db.select(User.id).where(User.email == DEMO_USERS[0][0])).first():
        click.echo(
            "Die Demodaten sind bereits angelegt. Neu anlegen: flask --app wsgi demo --reset"
        )
        return
    create_demo_data(today())
    db.session.commit()
    click.echo("Demodaten angelegt. Anmeldungen (Passwort für alle: " + DEMO_PASSWORD + "):")
    for email, name, roles, _key, _m in DEMO_USERS:
        click.echo(f"  {email:45} {name:18} {', '.join(r.value for r in roles)}")
    if secret := current_app.config.get("DEMO_TOTP_SECRET"):
        click.echo(
            f"Zweiter Faktor der Ministeriumskonten (TOTP-Schlüssel, nur Entwicklung): {secret}"
        )


def _reset_database() -> None:
    """Drop every table (append-only tables cannot be emptied row by row, and a downgrade
    would trip over the data), migrate again and reload the reference data."""
    db.session.remove()
    engine = db.engine
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, or it is ignored
            tables = [
                row[0]
                for row in cursor.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                ).fetchall()
            ]
            for table in tables:
                cursor.execute(f'DROP TABLE IF EXISTS "{table}"')
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
        finally:
            raw.close()
    else:
        with engine.begin() as conn:
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()
    upgrade()
    import_reference_data()
    seed_reference()
    db.session.commit()


def create_demo_data(day: date) -> None:
    """Every README state, dated relative to ``day`` (flushes; the caller commits)."""
    cal = DemoCalendar.for_day(day)
    with _at(day - timedelta(days=400), 8):
        for email, name, roles, key, manager in DEMO_USERS:
            org = org_queries.by_key(key) if key else None
            if key and org is None:
                raise click.ClickException("Bitte zuerst 'flask --app wsgi reference import'.")
            user = auth_services.create_user(
                email=email,
                name=name,
                password=DEMO_PASSWORD,
                roles=list(roles),
                organisation=org,
                is_org_manager=manager,
            )
            secret = current_app.config.get("DEMO_TOTP_SECRET")
            if secret and user.mfa_required:  # development only: a documented fixed secret
                mfa.set_demo_secret(user, secret)
            if org is not None and key in DEMO_ADDRESSES:
                org.address = DEMO_ADDRESSES[key]
        for year in range(cal.current - 1, cal.current + 2):
            budget.open_year(year, 130_000_000)
        for year in range(cal.current - 1, cal.current + 2):
            budget.set_authorisation(year, year + 1, 100_000_000)
            budget.set_authorisation(year, year + 2, 80_000_000)
    _history(cal)
    _zittau(cal)
    _plauen_and_wurzen(cal)
    _goerlitz_and_pirna(cal)
    record_milestones(cal.today)


def _submitted(
    email: str, title: str, grant_cents: int, funding_year: int, consulted: date, submitted: date
) -> Application:
    """A complete application, consulted and submitted on the given days."""
    user, reviewer = _user(email), _user("pruefung@lpr.demo-sachsen.de")
    with _at(consulted, 10):
        svc.record_consultation(
            reviewer,
            user.organisation,  # type: ignore[arg-type]
            held_on=consulted,
            adviser="Paul Prüfer",
            notes="Beratung zur Koordinierungsstelle",
        )
    with _at(submitted, 8, 30):
        app = svc.create_application(user, funding_year)
        _fill(
            app,
            user,
            title=title,
            grant_cents=grant_cents,
            start=date(funding_year, 1, 1),
            end=date(funding_year, 12, 31),
        )
        _documents(app, user)
    with _at(submitted, 9, 30) as moment:
        svc.submit_application(app, user, now=moment)
    return app


def _documents(app: Application, user: User) -> None:
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


def _zittau(cal: DemoCalendar) -> None:
    """Zittau: the grant of the running year — approved in the autumn before, final by waiver,
    bank account confirmed, project start notified, first instalment ordered by Karl Kasse and
    waiting for the second person's release (Frieda Finanz)."""
    year = cal.current
    opens, _closes = default_window(year)
    zittau = _submitted(
        "kpr@zittau.demo-sachsen.de",
        f"Koordinierungsstelle KPR Zittau {year}",
        4_050_000,
        year,
        consulted=opens - timedelta(days=14),
        submitted=opens + timedelta(days=31),
    )
    reviewer, approver = (
        _user("pruefung@lpr.demo-sachsen.de"),
        _user("bewilligung@lpr.demo-sachsen.de"),
    )
    with _at(opens + timedelta(days=50), 9):
        review.start_review(reviewer, zittau)
    with _at(opens + timedelta(days=65), 11):
        decision = review.prepare_decision(
            reviewer, zittau, review.proposal(zittau, year - 1), approval_year=year - 1
        )
    with _at(opens + timedelta(days=77), 10) as moment:
        review.approve(approver, decision, now=moment)
    with _at(opens + timedelta(days=81), 9):
        review.record_waiver(reviewer, zittau, opens + timedelta(days=81))
    zoe, kasse = _user("kpr@zittau.demo-sachsen.de"), _user("kasse@lpr.demo-sachsen.de")
    with _at(opens + timedelta(days=85), 14):
        account = payouts.submit_bank_account(
            zoe,
            password=DEMO_PASSWORD,
            holder="Stadt Zittau",
            iban=DEMO_RECIPIENT_IBAN,
            bic="COBADEFFXXX",
        )
    with _at(opens + timedelta(days=86), 9):
        payouts.confirm_bank_account(kasse, account)
    started = min(date(year, 1, 2), cal.today)
    with _at(started, 9):
        start.notify_start(zoe, zittau, started)
    with _at(min(started + timedelta(days=1), cal.today), 11):
        first = db.session.execute(
            db.select(Instalment).where(
                Instalment.application_id == zittau.id, Instalment.number == 1
            )
        ).scalar_one()
        payouts.prepare_order(kasse, first, idempotency_key="demo-zittau-rate-1")


def _plauen_and_wurzen(cal: DemoCalendar) -> None:
    """Plauen: decision prepared, waiting for an approver (four eyes). Wurzen: changes requested
    with a deadline. Both submitted in the most recent application window."""
    reviewer = _user("pruefung@lpr.demo-sachsen.de")
    plauen_day = cal.cycle_submission(14)
    plauen = _submitted(
        "kpr@plauen.demo-sachsen.de",
        "KPR Plauen – Koordinierungsstelle",
        3_800_000,
        cal.cycle,
        consulted=plauen_day - timedelta(days=10),
        submitted=plauen_day,
    )
    with _at(min(plauen_day + timedelta(days=7), cal.today), 10):
        review.start_review(reviewer, plauen)
    with _at(min(plauen_day + timedelta(days=14), cal.today), 15):
        approval_year = today().year
        review.prepare_decision(
            reviewer, plauen, review.proposal(plauen, approval_year), approval_year=approval_year
        )
    wurzen_day = cal.cycle_submission(7)
    wurzen = _submitted(
        "kpr@wurzen.demo-sachsen.de",
        "Präventionsrat Wurzen",
        3_500_000,
        cal.cycle,
        consulted=wurzen_day - timedelta(days=20),
        submitted=wurzen_day,
    )
    with _at(min(wurzen_day + timedelta(days=10), cal.today), 10):
        review.start_review(reviewer, wurzen)
    with _at(min(wurzen_day + timedelta(days=12), cal.today), 14):
        review.request_changes(
            reviewer,
            wurzen,
            sections=["finance"],
            due_on=cal.today + timedelta(days=21),
            message="Bitte erläutern Sie die Sachausgaben für die Befragung.",
        )


def _goerlitz_and_pirna(cal: DemoCalendar) -> None:
    """Landkreis Görlitz: consulted draft that can be submitted today (in the window, or late
    with its justification already written). Pirna: a draft without consultation."""
    reviewer = _user("pruefung@lpr.demo-sachsen.de")
    goerlitz = _user("praevention@lk-goerlitz.demo-sachsen.de")
    with _at(cal.today - timedelta(days=14), 10):
        svc.record_consultation(
            reviewer,
            goerlitz.organisation,  # type: ignore[arg-type]
            held_on=cal.today - timedelta(days=14),
            adviser="Paul Prüfer",
            notes="Beratung zum Kreispräventionsrat",
        )
    with _at(cal.today - timedelta(days=3), 9):
        draft = svc.create_application(goerlitz, cal.next_year)
        start_on = date(cal.next_year, 1, 1) if cal.next_in_window else cal.late_start
        _fill(
            draft,
            goerlitz,
            title="Kreispräventionsrat Görlitz – Koordinierung",
            grant_cents=3_000_000,
            start=start_on,
            end=date(cal.next_year, 12, 31),
        )
        if not cal.next_in_window:
            draft.late_justification = (
                "Der Kreistag hat die Einrichtung des Kreispräventionsrates erst nach dem Ende "
                "der Antragsfrist beschlossen; die Koordinierungsstelle soll zum Projektbeginn "
                "besetzt werden."
            )
        _documents(draft, goerlitz)
    with _at(cal.today - timedelta(days=2), 9):
        svc.create_application(_user("kpr@pirna.demo-sachsen.de"), cal.next_year)


def _fill(
    app: Application, user: User, *, title: str, grant_cents: int, start: date, end: date
) -> None:
    svc.update_fields(
        app,
        user,
        {
            "title": title,
            "purpose": "Aufbau und Betrieb der Koordinierungsstelle des Kommunalen "
            "Präventionsrates (Lagebild, Sicherheitsbefragung, Projektsteuerung nach "
            "Beccaria-Standards).",
            "project_start": start,
            "project_end": end,
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
                description="Steuerung des KPR durch die Ordnungsamtsleitung",
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


#: The programme's story (SMI press release 20.01.2021): the 100th municipality consulted by the
#: LPR Geschäftsstelle was Seifhennersdorf (Landkreis Görlitz) on 18.01.2021; by then KPRs were
#: founded in 19 municipalities.
HUNDREDTH = ("14626530", date(2021, 1, 18))
HISTORY_START = date(2019, 2, 1)
KPR_BY_PRESS_RELEASE = 19
DEMO_APPLICANT_KEYS = frozenset(key for _e, _n, _r, key, _m in DEMO_USERS if key)


def _spread(start: date, end: date, n: int) -> list[date]:
    """``n`` dates evenly from ``start`` to ``end`` (inclusive ends, integer days)."""
    span = (end - start).days
    return [start + timedelta(days=span * i // max(n - 1, 1)) for i in range(n)]


def _history(cal: DemoCalendar) -> None:
    """Consultations since 2019 (99 before Seifhennersdorf, then it as the 100th, then 60 more),
    KPR council resolutions (19 by 20.01.2021, more later) and cooperation agreements; every
    demo applicant's own consultation stays the latest of its organisation (R1)."""
    gemeinden = sorted(
        (
            o
            for o in org_queries.active_organisations(cal.today)
            if o.kind is OrgKind.GEMEINDE
            and o.ags not in DEMO_APPLICANT_KEYS
            and o.ags != HUNDREDTH[0]
        ),
        key=lambda o: hashlib.sha256((o.ags or "").encode()).hexdigest(),  # spread over Saxony
    )
    seifhennersdorf = org_queries.by_key(HUNDREDTH[0], cal.today)
    if seifhennersdorf is None:
        raise click.ClickException("Bitte zuerst 'flask --app wsgi reference import'.")
    before = _spread(HISTORY_START, HUNDREDTH[1] - timedelta(days=3), 99)
    after = _spread(HUNDREDTH[1] + timedelta(days=20), cal.today - timedelta(days=60), 60)
    plan = list(zip(gemeinden[:99], before, strict=True))
    plan.append((seifhennersdorf, HUNDREDTH[1]))
    plan += list(zip(gemeinden[99:159], after, strict=True))
    for org, held_on in plan:
        db.session.add(
            Consultation(
                organisation_id=org.id,
                held_on=held_on,
                adviser="Geschäftsstelle LPR",
                notes="Erstberatung Kommunale Kriminalprävention",
            )
        )
    # KPR resolutions: every fourth consulted municipality, about five months after the talk.
    founded = [(org, held_on + timedelta(days=150)) for org, held_on in plan[::4]]
    early = [item for item in founded if item[1] <= date(2021, 1, 20)][:KPR_BY_PRESS_RELEASE]
    late = [item for item in founded if item[1] > date(2021, 1, 20) and item[1] < cal.today]
    for index, (org, dated) in enumerate(early + late):
        db.session.add(
            KprRecord(organisation_id=org.id, kind=KprRecordKind.RESOLUTION, dated=dated)
        )
        if index % 2 == 0:
            db.session.add(
                KprRecord(
                    organisation_id=org.id,
                    kind=KprRecordKind.COOPERATION,
                    dated=dated + timedelta(days=60),
                    partner=f"Polizeidirektion {org.polizeidirektion}",
                )
            )
    db.session.flush()
