"""The daily deadline job (T11, R18, R19, R21, R24, R26, R29; T23, T24), its CLI and the task
page "Meine Aufgaben". Dates are passed explicitly (``on=``), so the tests need no frozen clock.

Grants come from ``tests.finance.factories.approved_grant`` (approved in 2027, waiver → FINAL,
Bescheid received 05.02.2027, grant period 01.01.–31.12.2027, 40.000 €).
"""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from app.common.mail import OutboxMessage
from app.extensions import db
from app.finance.models import Instalment, InstalmentKind, InstalmentStatus
from app.finance.services import claims
from app.finance.services.claims import dunning_status
from app.grants.models import Application, ApplicationEvent, EventKind, Status
from app.postaward.models import (
    Notification,
    ProofKind,
    ProofOfUse,
    ProofStatus,
    RevocationCase,
    RevocationReason,
)
from app.postaward.services import deadlines, revocation, start
from app.postaward.services.deadlines import run_deadlines
from tests import factories
from tests.finance.factories import approved_grant

ZITTAU, PIRNA = "14626610", "14628270"
NBSP = "\u00a0"


@pytest.fixture
def people(app_ctx):
    inactive = factories.create_user("applicant", ags=ZITTAU, email="alt@zittau.test-kp.de")
    inactive.active = False
    return {
        "applicant": factories.create_user("applicant", ags=ZITTAU, email="kpr@zittau.test-kp.de"),
        "colleague": factories.create_user("applicant", ags=ZITTAU, email="co@zittau.test-kp.de"),
        "other": factories.create_user("applicant", ags=PIRNA, email="kpr@pirna.test-kp.de"),
        "reviewer": factories.create_user("reviewer", email="pruefung@lpr.test-kp.de"),
        "finance": factories.create_user("finance", email="kasse@lpr.test-kp.de"),
    }


def _running(applicant) -> Application:
    application = approved_grant(applicant)
    start.notify_start(applicant, application, date(2026, 11, 2))
    assert application.status is Status.RUNNING
    return application


def _vn_due(applicant, on: date = date(2028, 1, 1)) -> Application:
    """A running grant moved to VN_DUE by the job (VN due 31.12.2028)."""
    application = _running(applicant)
    run_deadlines(on)
    assert application.status is Status.VN_DUE
    return application


def _notifications(kind: str | None = None, application: Application | None = None):
    query = db.select(Notification).order_by(Notification.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    if application is not None:
        query = query.where(Notification.application_id == application.id)
    return db.session.execute(query).scalars().all()


def _count(model) -> int:
    return db.session.execute(db.select(sa.func.count()).select_from(model)).scalar_one()


def _mails_since(first_id: int) -> list[OutboxMessage]:
    return (
        db.session.execute(
            db.select(OutboxMessage).where(OutboxMessage.id > first_id).order_by(OutboxMessage.id)
        )
        .scalars()
        .all()
    )


def _last_mail_id() -> int:
    return db.session.execute(
        db.select(sa.func.coalesce(sa.func.max(OutboxMessage.id), 0))
    ).scalar()


def _proof(application: Application, **fields) -> ProofOfUse:
    """Insert a proof of use directly (the proof service is written elsewhere)."""
    values = {
        "version": 1,
        "kind": ProofKind.FINAL,
        "status": ProofStatus.RECEIVED,
        "report": "Sachbericht",
        "check_due_on": date(2028, 3, 1),
    }
    values.update(fields)
    proof = ProofOfUse(application_id=application.id, **values)
    db.session.add(proof)
    db.session.flush()
    return proof


def _set_status(application: Application, status: Status) -> None:
    application.status = status
    db.session.flush()


# --- T11 and R21 --------------------------------------------------------------------------------


def test_T11_period_end_moves_a_running_grant_to_vn_due_and_tells_the_organisation(people):
    application = _running(people["applicant"])
    before = _last_mail_id()
    assert run_deadlines(date(2027, 12, 31)).vn_due == []  # period ends that day: not yet
    assert application.status is Status.RUNNING

    report = run_deadlines(date(2028, 1, 1))
    assert report.vn_due == [application.reference]
    assert application.status is Status.VN_DUE
    assert application.purpose_fulfilled_on == date(2027, 12, 31)
    assert application.vn_due_on == date(2028, 12, 31)
    (note,) = _notifications(deadlines.VN_DUE)
    assert note.dedupe_key == f"vn-due:{application.id}:2028-12-31"
    assert (note.organisation_id, note.for_ministry) == (application.organisation_id, False)
    assert note.due_on == date(2028, 12, 31) and "31.12.2028" in note.message
    recipients = sorted(m.recipient for m in _mails_since(before))
    assert recipients == ["co@zittau.test-kp.de", "kpr@zittau.test-kp.de"]  # active, own org
    assert report.notifications == {deadlines.VN_DUE: 1} and report.mails == 2
    kinds = db.session.execute(
        db.select(ApplicationEvent.kind).where(ApplicationEvent.application_id == application.id)
    ).scalars()
    assert EventKind.PURPOSE_FULFILLED in set(kinds)


def test_R21_vn_deadline_is_the_earlier_of_purpose_and_period_end_plus_one_year(people):
    application = _running(people["applicant"])
    application.purpose_fulfilled_on = date(2027, 6, 30)  # reported earlier, still running
    run_deadlines(date(2028, 1, 1))
    assert application.status is Status.VN_DUE
    assert application.purpose_fulfilled_on == date(2027, 6, 30)
    assert application.vn_due_on == date(2028, 6, 30)


def test_R21_reminder_28_days_before_the_vn_deadline(people):
    application = _vn_due(people["applicant"])
    run_deadlines(date(2028, 12, 2))  # 29 days before 31.12.2028
    assert _notifications(deadlines.VN_REMINDER) == []
    before = _last_mail_id()
    report = run_deadlines(date(2028, 12, 3))
    (note,) = _notifications(deadlines.VN_REMINDER)
    assert note.dedupe_key == f"vn-reminder:{application.id}:2028-12-31"
    assert note.message.startswith("Verwendungsnachweis fällig am 31.12.2028")
    assert not note.for_ministry and note.organisation_id == application.organisation_id
    assert report.notifications[deadlines.VN_REMINDER] == 1
    assert {m.recipient for m in _mails_since(before)} == {
        "kpr@zittau.test-kp.de",
        "co@zittau.test-kp.de",
    }
    run_deadlines(date(2028, 12, 31))  # the deadline day itself is not overdue
    assert _notifications(deadlines.VN_OVERDUE) == []


def test_R21_overdue_reminder_then_T24_revocation_check_after_28_days(people):
    application = _vn_due(people["applicant"])
    before = _last_mail_id()
    run_deadlines(date(2029, 1, 1))
    org_note, ministry_note = _notifications(deadlines.VN_OVERDUE)
    assert org_note.dedupe_key == f"vn-overdue:{application.id}:2028-12-31"
    assert ministry_note.dedupe_key == f"vn-overdue-lpr:{application.id}:2028-12-31"
    assert org_note.message.startswith("Verwendungsnachweis überfällig")
    assert (org_note.for_ministry, ministry_note.for_ministry) == (False, True)
    assert ministry_note.organisation_id is None
    assert org_note.due_on == ministry_note.due_on == date(2029, 1, 28)
    recipients = {m.recipient for m in _mails_since(before)}
    assert {"kpr@zittau.test-kp.de", "pruefung@lpr.test-kp.de"} <= recipients
    assert "kasse@lpr.test-kp.de" not in recipients and "kpr@pirna.test-kp.de" not in recipients

    run_deadlines(date(2029, 1, 27))
    assert application.status is Status.VN_DUE
    report = run_deadlines(date(2029, 1, 28))  # vn_due_on + 28 days
    assert application.status is Status.REVOCATION_CHECK
    case = revocation.open_case(application)
    assert (case.reason, case.facts_known_on) == (RevocationReason.VN_OVERDUE, date(2029, 1, 28))
    assert case.previous_status is Status.VN_DUE
    assert report.revocation_checks == [(application.reference, RevocationReason.VN_OVERDUE)]
    (opened,) = _notifications(deadlines.REVOCATION_OPENED)
    assert opened.dedupe_key == f"revocation-opened:{case.id}" and opened.for_ministry


def test_R21_a_late_overdue_reminder_still_gives_four_weeks_before_the_check(people):
    application = _vn_due(people["applicant"])
    run_deadlines(date(2029, 3, 1))  # the job did not run for two months
    assert application.status is Status.VN_DUE  # reminded now, not revoked at once
    (org_note, _ministry) = _notifications(deadlines.VN_OVERDUE)
    assert org_note.due_on == date(2029, 3, 28)
    run_deadlines(date(2029, 3, 27))
    assert application.status is Status.VN_DUE
    run_deadlines(date(2029, 3, 28))
    assert revocation.open_case(application).facts_known_on == date(2029, 3, 28)


def test_R21_a_check_closed_without_revocation_is_not_reopened_for_the_same_facts(people):
    application = _vn_due(people["applicant"])
    run_deadlines(date(2029, 1, 1))
    run_deadlines(date(2029, 1, 28))
    revocation.close_without_revocation(people["reviewer"], application, "VN angekündigt")
    assert application.status is Status.VN_DUE
    report = run_deadlines(date(2029, 1, 29))
    assert application.status is Status.VN_DUE and report.revocation_checks == []
    assert _count(RevocationCase) == 1


# --- R18 ----------------------------------------------------------------------------------------


def test_R18_completeness_check_due_within_7_days_is_a_ministry_task(people):
    application = _vn_due(people["applicant"])
    _set_status(application, Status.VN_RECEIVED)
    first = _proof(application, check_due_on=date(2028, 3, 1))
    run_deadlines(date(2028, 2, 22))  # 8 days before
    assert _notifications(deadlines.VN_CHECK_DUE) == []
    before = _last_mail_id()
    run_deadlines(date(2028, 2, 23))
    (note,) = _notifications(deadlines.VN_CHECK_DUE)
    assert note.dedupe_key == f"vn-check-due:{first.id}:2028-03-01"
    assert note.for_ministry and note.organisation_id is None
    assert note.message.startswith("Vollständigkeitsprüfung fällig bis 01.03.2028")
    recipients = {m.recipient for m in _mails_since(before)}
    assert "pruefung@lpr.test-kp.de" in recipients
    assert not recipients & {"kasse@lpr.test-kp.de", "kpr@zittau.test-kp.de"}

    # Re-submission restarts the clock: a new task for the new version only.
    first.status = ProofStatus.INCOMPLETE
    second = _proof(application, version=2, check_due_on=date(2028, 4, 10))
    run_deadlines(date(2028, 4, 12))  # passed
    notes = _notifications(deadlines.VN_CHECK_DUE)
    assert [n.dedupe_key for n in notes] == [
        f"vn-check-due:{first.id}:2028-03-01",
        f"vn-check-due:{second.id}:2028-04-10",
    ]
    assert "Frist überschritten" in notes[1].message


# --- R19 ----------------------------------------------------------------------------------------


def test_R19_final_instalment_alert_at_five_months_and_when_overdue(people):
    application = _vn_due(people["applicant"])
    _set_status(application, Status.VN_CHECKED)
    application.final_payment_due_on = date(2028, 9, 1)  # VN complete on 01.03.2028
    final = db.session.execute(
        db.select(Instalment).where(
            Instalment.application_id == application.id, Instalment.kind == InstalmentKind.FINAL
        )
    ).scalar_one()
    final.status = InstalmentStatus.PAID
    run_deadlines(date(2028, 9, 5))
    assert _notifications(deadlines.FINAL_PAYMENT_OVERDUE) == []  # paid: nothing to alert

    final.status = InstalmentStatus.PLANNED
    run_deadlines(date(2028, 7, 31))
    assert _notifications(deadlines.FINAL_PAYMENT_ALERT) == []
    before = _last_mail_id()
    run_deadlines(date(2028, 8, 1))  # five months after completeness
    (alert,) = _notifications(deadlines.FINAL_PAYMENT_ALERT)
    assert alert.dedupe_key == f"final-payment-alert:{application.id}:2028-09-01"
    assert alert.for_ministry and alert.due_on == date(2028, 9, 1)
    recipients = {m.recipient for m in _mails_since(before)}
    assert {"kasse@lpr.test-kp.de", "pruefung@lpr.test-kp.de"} <= recipients
    assert "kpr@zittau.test-kp.de" not in recipients

    run_deadlines(date(2028, 9, 1))
    assert _notifications(deadlines.FINAL_PAYMENT_OVERDUE) == []
    run_deadlines(date(2028, 9, 2))
    (overdue,) = _notifications(deadlines.FINAL_PAYMENT_OVERDUE)
    assert overdue.dedupe_key == f"final-payment-overdue:{application.id}:2028-09-01"


# --- R24 / T23 ----------------------------------------------------------------------------------


def test_R24_no_start_within_365_days_of_receipt_opens_a_revocation_check(people):
    application = approved_grant(people["applicant"])  # FINAL, Bescheid received 05.02.2027
    assert application.notified_on == date(2027, 2, 5)
    run_deadlines(date(2028, 2, 5))  # notified_on + 365 days: still in time
    assert application.status is Status.FINAL
    report = run_deadlines(date(2028, 2, 6))
    assert application.status is Status.REVOCATION_CHECK
    case = revocation.open_case(application)
    assert (case.reason, case.facts_known_on) == (RevocationReason.NO_START, date(2028, 2, 5))
    assert case.previous_status is Status.FINAL and case.opened_by_id is None
    assert report.revocation_checks == [(application.reference, RevocationReason.NO_START)]
    assert _notifications(deadlines.REVOCATION_OPENED)[0].due_on == date(2029, 2, 5)


def test_R24_a_started_grant_is_not_checked(people):
    application = _running(people["applicant"])
    application.notified_on = date(2026, 1, 1)
    report = run_deadlines(date(2027, 6, 1))
    assert application.status is Status.RUNNING and report.revocation_checks == []


# --- R26 ----------------------------------------------------------------------------------------


def test_R26_warning_at_ten_months_and_alert_after_one_year(people):
    application = approved_grant(people["applicant"])
    run_deadlines(date(2028, 2, 6))  # R24: facts known 05.02.2028
    case = revocation.open_case(application)
    assert revocation.warning_date(case) == date(2028, 12, 5)
    run_deadlines(date(2028, 12, 4))
    assert _notifications(deadlines.REVOCATION_WARNING) == []
    before = _last_mail_id()
    run_deadlines(date(2028, 12, 5))
    (warning,) = _notifications(deadlines.REVOCATION_WARNING)
    assert warning.dedupe_key == f"revocation-warning:{case.id}"
    assert warning.message.startswith("Widerrufsfrist endet am 05.02.2029")
    assert warning.for_ministry and warning.due_on == date(2029, 2, 5)
    assert "pruefung@lpr.test-kp.de" in {m.recipient for m in _mails_since(before)}

    run_deadlines(date(2029, 2, 5))  # last day of the decision period
    assert _notifications(deadlines.REVOCATION_EXPIRED) == []
    run_deadlines(date(2029, 2, 6))
    (expired,) = _notifications(deadlines.REVOCATION_EXPIRED)
    assert expired.dedupe_key == f"revocation-expired:{case.id}"
    assert expired.message.startswith("Widerrufsfrist abgelaufen")
    assert len(_notifications(deadlines.REVOCATION_WARNING)) == 1


# --- R29 ----------------------------------------------------------------------------------------


def test_R29_publicity_not_cured_opens_a_check_with_a_5_to_15_percent_proposal(people):
    application = _vn_due(people["applicant"])
    _set_status(application, Status.VN_COMPLETE)
    _proof(
        application,
        status=ProofStatus.COMPLETE,
        publicity_confirmed=False,
        publicity_cure_until=date(2028, 5, 1),
    )
    run_deadlines(date(2028, 5, 1))  # last day of the cure period
    assert application.status is Status.VN_COMPLETE
    report = run_deadlines(date(2028, 5, 2))
    assert application.status is Status.REVOCATION_CHECK
    case = revocation.open_case(application)
    assert (case.reason, case.facts_known_on) == (RevocationReason.PUBLICITY, date(2028, 5, 1))
    assert case.previous_status is Status.VN_COMPLETE
    # 5–15 % of 40.000,00 €
    assert f"2.000,00{NBSP}€ bis 6.000,00{NBSP}€" in case.note
    assert f"40.000,00{NBSP}€" in case.note
    assert report.revocation_checks == [(application.reference, RevocationReason.PUBLICITY)]
    run_deadlines(date(2028, 5, 3))
    assert _count(RevocationCase) == 1


def test_R29_confirmed_publicity_in_the_latest_proof_opens_nothing(people):
    application = _vn_due(people["applicant"])
    _set_status(application, Status.VN_COMPLETE)
    _proof(application, status=ProofStatus.INCOMPLETE, publicity_cure_until=date(2028, 5, 1))
    _proof(application, version=2, status=ProofStatus.COMPLETE, publicity_confirmed=True)
    run_deadlines(date(2028, 6, 1))
    assert application.status is Status.VN_COMPLETE and _count(RevocationCase) == 0


# --- idempotency and CLI ------------------------------------------------------------------------


def test_run_deadlines_twice_on_the_same_day_sends_each_reminder_once(people):
    overdue = _vn_due(people["other"])  # VN due 31.12.2028
    run_deadlines(date(2029, 1, 1))  # overdue reminder (Nachfrist until 28.01.2029)
    running = _running(people["applicant"])  # T11 and an overdue reminder on the day
    not_started = approved_grant(people["colleague"])  # R24
    day = date(2029, 2, 10)

    first = run_deadlines(day)
    assert running.status is Status.VN_DUE
    assert overdue.status is Status.REVOCATION_CHECK
    assert not_started.status is Status.REVOCATION_CHECK
    assert first.notifications == {
        deadlines.VN_DUE: 1,
        deadlines.VN_OVERDUE: 2,
        deadlines.REVOCATION_OPENED: 2,
        deadlines.REVOCATION_EXPIRED: 1,  # no start since 05.02.2028: a year is over already
    }
    assert first.mails > 0
    counts = (_count(Notification), _count(OutboxMessage), _count(ApplicationEvent))
    cases = _count(RevocationCase)

    second = run_deadlines(day)
    assert (_count(Notification), _count(OutboxMessage), _count(ApplicationEvent)) == counts
    assert _count(RevocationCase) == cases
    assert second.total_notifications == 0 and second.mails == 0
    assert second.vn_due == [] and second.revocation_checks == [] and second.skipped == []
    keys = db.session.execute(db.select(Notification.dedupe_key)).scalars().all()
    assert len(keys) == len(set(keys))


def test_cli_run_deadlines_prints_the_report_in_german(people, runner):
    application = _running(people["applicant"])
    result = runner.invoke(args=["postaward", "run-deadlines", "--today", "2028-02-01"])
    assert result.exit_code == 0, result.output
    assert "Fristenlauf zum 01.02.2028" in result.output
    assert "1 Zuwendung(en) mit fälligem Verwendungsnachweis" in result.output
    assert application.reference in result.output
    assert "vn_due: 1" in result.output and "E-Mail(s) in den Postausgang" in result.output
    db.session.expire_all()
    assert db.session.get(Application, application.id).status is Status.VN_DUE
    again = runner.invoke(args=["postaward", "run-deadlines", "--today", "2028-02-01"])
    assert again.exit_code == 0 and "0 neue Aufgabe(n)" in again.output


def test_cli_run_deadlines_refuses_a_bad_date(runner):
    result = runner.invoke(args=["postaward", "run-deadlines", "--today", "1.2.2028"])
    assert result.exit_code == 2 and "JJJJ-MM-TT" in result.output


# --- task page ----------------------------------------------------------------------------------


def _user(email):
    from app.auth.models import User

    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


@pytest.fixture
def tasks(app, applicant_client):
    """Zittau (the applicant client's organisation): a running grant (T11 notice for the
    organisation) and a final one without start (R24: revocation task for the ministry)."""
    with app.app_context():
        user = _user(applicant_client.user_email)
        running = _running(user)
        final = approved_grant(user)
        run_deadlines(date(2028, 2, 10))
        org_note = _notifications(deadlines.VN_DUE, running)[0]
        ministry_note = _notifications(deadlines.REVOCATION_OPENED, final)[0]
        data = {
            "running": running.id,
            "final": final.id,
            "org_note": org_note.id,
            "ministry_note": ministry_note.id,
            "org_message": org_note.message,
        }
        db.session.commit()
    return data


def test_task_page_shows_the_organisation_its_own_open_notifications(
    app, tasks, applicant_client, other_applicant_client
):
    html = applicant_client.get("/aufgaben").get_data(as_text=True)
    assert "Meine Aufgaben" in html
    assert "Verwendungsnachweis (Sachbericht" in html and "31.12.2028" in html
    assert f'href="/antraege/{tasks["running"]}"' in html
    assert "Widerrufsprüfung eröffnet" not in html  # ministry task
    assert f'action="/aufgaben/{tasks["org_note"]}/erledigt"' in html
    other = other_applicant_client.get("/aufgaben")
    assert other.status_code == 200
    assert "Keine offenen Aufgaben." in other.get_data(as_text=True)


def test_task_page_shows_ministry_tasks_to_reviewers_with_a_link_to_the_review(
    app, tasks, reviewer_client
):
    response = reviewer_client.get("/aufgaben")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Widerrufsprüfung eröffnet" in html and "kein Vorhabenbeginn" in html
    assert f'href="/pruefung/{tasks["final"]}"' in html
    assert "Zittau" in html
    assert "Verwendungsnachweis (Sachbericht" not in html  # the organisation's notice


def test_task_page_finance_sees_payment_alerts_only(app, tasks):
    from tests.conftest import _client_for

    finance_client = _client_for(app, role="finance", email="kasse2@lpr.test-kp.de")
    html = finance_client.get("/aufgaben").get_data(as_text=True)
    assert "Keine offenen Aufgaben." in html


def test_task_done_marks_the_notification_and_hides_it(app, tasks, applicant_client):
    response = applicant_client.post(f"/aufgaben/{tasks['org_note']}/erledigt")
    assert response.status_code == 302 and response.headers["Location"].endswith("/aufgaben")
    with app.app_context():
        assert db.session.get(Notification, tasks["org_note"]).done_at is not None
    html = applicant_client.get("/aufgaben").get_data(as_text=True)
    assert "Verwendungsnachweis (Sachbericht" not in html
    assert applicant_client.post(f"/aufgaben/{tasks['org_note']}/erledigt").status_code == 302


def test_task_done_on_a_notification_the_user_may_not_see_is_404(
    app, tasks, applicant_client, other_applicant_client, reviewer_client
):
    assert other_applicant_client.post(f"/aufgaben/{tasks['org_note']}/erledigt").status_code == 404
    assert applicant_client.post(f"/aufgaben/{tasks['ministry_note']}/erledigt").status_code == 404
    assert reviewer_client.post(f"/aufgaben/{tasks['org_note']}/erledigt").status_code == 404
    assert applicant_client.post("/aufgaben/999999/erledigt").status_code == 404
    with app.app_context():
        for key in ("org_note", "ministry_note"):
            assert db.session.get(Notification, tasks[key]).done_at is None


def test_nav_shows_the_open_task_count(app, tasks, applicant_client):
    html = applicant_client.get("/antraege").get_data(as_text=True)
    assert 'href="/aufgaben"' in html
    assert '<span class="tag">1<span class="visually-hidden"> offen</span></span>' in html


def test_public_pages_and_healthz_do_not_count_tasks(
    app, tasks, applicant_client, count_statements
):
    for url in ("/datenquellen", "/healthz"):
        with count_statements() as seen:
            assert applicant_client.get(url).status_code == 200
        assert not [s for s in seen if "notification" in s.lower()], url


def _more_tasks(app, applicant_email: str, n: int) -> None:
    """n more open notifications for the applicant's organisation and n for the ministry, each
    on its own application (of different organisations for the ministry)."""
    with app.app_context():
        user = _user(applicant_email)
        others = [
            factories.create_user("applicant", ags=ags, email=f"more{i}-{ags}@test-kp.de")
            for i, ags in enumerate([PIRNA, "14523320", "14729410"] * n)
        ][:n]
        for i in range(n):
            own = factories.complete_application(user)
            foreign = factories.complete_application(others[i])
            db.session.add_all(
                [
                    Notification(
                        dedupe_key=f"test-org:{own.id}",
                        kind=deadlines.VN_REMINDER,
                        application_id=own.id,
                        organisation_id=own.organisation_id,
                        due_on=date(2028, 3, i + 1),
                        message=f"Erinnerung {i}",
                    ),
                    Notification(
                        dedupe_key=f"test-lpr:{foreign.id}",
                        kind=deadlines.VN_CHECK_DUE,
                        application_id=foreign.id,
                        for_ministry=True,
                        due_on=date(2028, 3, i + 1),
                        message=f"Prüfung {i}",
                    ),
                ]
            )
        db.session.commit()


def test_task_page_uses_a_constant_number_of_statements(
    app, tasks, applicant_client, reviewer_client, count_statements
):
    clients = (applicant_client, reviewer_client)
    few = []
    for client in clients:
        with count_statements() as seen:
            assert client.get("/aufgaben").status_code == 200
        few.append(len(seen))
    _more_tasks(app, applicant_client.user_email, 6)
    many = []
    for client in clients:
        with count_statements() as seen:
            html = client.get("/aufgaben").get_data(as_text=True)
        assert "Erinnerung 5" in html or "Prüfung 5" in html
        many.append(len(seen))
    assert many == few, (few, many)


def test_T19_deadline_job_closes_a_checked_and_settled_grant_as_safety_net(people):
    application = _running(people["applicant"])
    _proof(application, status=ProofStatus.CHECKED)
    _set_status(application, Status.VN_CHECKED)
    for instalment in db.session.execute(
        sa.select(Instalment).where(Instalment.application_id == application.id)
    ).scalars():
        instalment.status = InstalmentStatus.PAID
    db.session.flush()
    run_deadlines(date(2028, 1, 1))
    db.session.refresh(application)
    assert application.status is Status.CLOSED
    run_deadlines(date(2028, 1, 2))  # idempotent
    open_one = _running(people["other"])
    _proof(open_one, status=ProofStatus.CHECKED)
    _set_status(open_one, Status.VN_CHECKED)
    run_deadlines(date(2028, 1, 3))
    db.session.refresh(open_one)
    assert open_one.status is Status.VN_CHECKED  # instalments still open


# --- dunning of recovery claims (T21, R28 Kleinbeträge; issue 12 F15) ---------------------------


def _claim(people, principal_cents: int):
    """An open recovery claim created 01.06.2026, due 01.07.2026 (interest from 05.01.2026)."""
    application = approved_grant(people["applicant"])
    application.status = Status.RECOVERY
    return claims.create_claim(
        people["finance"],
        application,
        grant_cents=4_000_000,
        principal_cents=principal_cents,
        effective_from=date(2026, 1, 5),
        reasons="zweckwidrig",
        on=date(2026, 6, 1),
        small_amount_waiver=False,
    )


def test_T21_dunning_reminder_second_reminder_and_handover_after_their_periods(people):
    from app.common.audit import AuditEvent

    claim = _claim(people, 100_000)
    assert claim.due_on == date(2026, 7, 1)
    assert run_deadlines(date(2026, 7, 14)).dunned == []  # 13 days after the due date
    first = _last_mail_id()
    report = run_deadlines(date(2026, 7, 15))  # 14 days (DUNNING_REMINDER_DAYS)
    assert report.dunned == [f"{claim.kassenzeichen}: Mahnung"]
    assert (claim.dunning_level, claim.dunned_on, dunning_status(claim)) == (
        1,
        date(2026, 7, 15),
        "reminder",
    )
    [note] = _notifications(deadlines.DUNNING_REMINDER)
    assert note.organisation_id is not None and note.due_on == date(2026, 7, 29)
    mails = _mails_since(first)
    assert sorted(m.recipient for m in mails) == ["co@zittau.test-kp.de", "kpr@zittau.test-kp.de"]
    assert mails[0].subject == f"Mahnung: Rückforderung {claim.kassenzeichen}"
    assert f"1.000,00{NBSP}€" in mails[0].body and "29.07.2026" in mails[0].body
    # idempotent: the same day again, and the days before the next period, do nothing
    assert run_deadlines(date(2026, 7, 15)).dunned == []
    assert run_deadlines(date(2026, 7, 28)).dunned == []
    assert len(_mails_since(first)) == 2
    assert run_deadlines(date(2026, 7, 29)).dunned == [f"{claim.kassenzeichen}: Zweite Mahnung"]
    assert claim.dunning_level == 2 and dunning_status(claim) == "second_reminder"
    assert run_deadlines(date(2026, 8, 11)).dunned == []
    first = _last_mail_id()
    report = run_deadlines(date(2026, 8, 12))
    assert report.dunned == [f"{claim.kassenzeichen}: Abgabe an die Vollstreckung"]
    assert claim.dunning_level == 3 and dunning_status(claim) == "handover"
    [handover] = _notifications(deadlines.DUNNING_HANDOVER)
    assert handover.for_ministry
    assert "kasse@lpr.test-kp.de" in {m.recipient for m in _mails_since(first)}
    assert run_deadlines(date(2026, 9, 30)).dunned == []  # nothing after the handover
    levels = db.session.execute(
        db.select(AuditEvent.details).where(AuditEvent.action == "recovery_dunning")
    ).scalars()
    assert [json.loads(d)["level"] for d in levels] == [1, 2, 3]


def test_T21_a_paid_claim_is_not_dunned(people):
    claim = _claim(people, 100_000)
    claims.record_payment(people["finance"], claim, paid_on=date(2026, 7, 10), paid_cents=100_000)
    assert run_deadlines(date(2026, 7, 15)).dunned == []
    assert claim.dunning_level == 0


def test_R28_small_amounts_are_not_dunned(people):
    # KLB 2.1: no reminder below 25 € for a public body — 24,99 € open is not dunned, 25,00 € is.
    small = _claim(people, 2_499)
    report = run_deadlines(date(2026, 7, 15))
    assert report.dunned == [] and small.kassenzeichen in report.not_dunned[0]
    assert small.dunning_level == 0 and dunning_status(small) == "small"
    assert _notifications(deadlines.DUNNING_REMINDER) == []
    at_limit = _claim(people, 2_500)
    assert run_deadlines(date(2026, 7, 16)).dunned == [f"{at_limit.kassenzeichen}: Mahnung"]


def test_R28_no_handover_to_enforcement_below_25_euro(people):
    claim = _claim(people, 10_000)  # 100 €
    run_deadlines(date(2026, 7, 15))
    run_deadlines(date(2026, 7, 29))
    assert claim.dunning_level == 2
    # 80 € paid on 05.08.2026 (interest far below 250 €: not charged) → 20 € open (< 25 €, KLB 3.1)
    claims.record_payment(people["finance"], claim, paid_on=date(2026, 8, 5), paid_cents=8_000)
    assert claim.open_cents == 2_000
    report = run_deadlines(date(2026, 8, 12))
    assert report.dunned == [] and "Vollstreckung" in report.not_dunned[0]
    assert claim.dunning_level == 2 and dunning_status(claim) == "small"
    assert _notifications(deadlines.DUNNING_HANDOVER) == []


def test_T21_finance_sees_the_dunning_state_on_the_claim_list_and_the_grant(app):
    from tests.conftest import _client_for

    finance = _client_for(app, role="finance", email="kasse2@lpr.test-kp.de")
    with app.app_context():
        people = {
            "applicant": factories.create_user("applicant", ags=ZITTAU),
            "finance": factories.create_user("finance"),
        }
        claim = _claim(people, 100_000)
        small = _claim(people, 2_000)
        run_deadlines(date(2026, 7, 15))
        application_id, small_kz = claim.application_id, small.kassenzeichen
        db.session.commit()
    dashboard = finance.get("/kasse").get_data(as_text=True)
    assert "Mahnung vom 15.07.2026" in dashboard
    assert "keine Mahnung (Kleinbetrag)" in dashboard
    assert f"20,00{NBSP}€" in dashboard and small_kz in dashboard
    detail = finance.get(f"/antraege/{application_id}").get_data(as_text=True)
    assert "Mahnung vom 15.07.2026" in detail


def test_R30_reminder_28_days_before_the_ngo_proof_deadline(people):
    application = _running(people["applicant"])
    decision = db.session.execute(
        sa.select(deadlines.Decision).where(deadlines.Decision.application_id == application.id)
    ).scalar_one()
    decision.pass_through_allowed = True
    decision.pass_through_recipient = "Präventionsverein Zittau e. V."
    run_deadlines(date(2028, 1, 1))  # period ended 31.12.2027 → NGO proof due 30.06.2028
    assert application.status is Status.VN_DUE
    run_deadlines(date(2028, 6, 1))
    assert _notifications(deadlines.NGO_PROOF_DUE) == []
    run_deadlines(date(2028, 6, 2))
    (note,) = _notifications(deadlines.NGO_PROOF_DUE)
    assert note.due_on == date(2028, 6, 30) and "Präventionsverein" in note.message
    run_deadlines(date(2028, 6, 3))  # idempotent
    assert len(_notifications(deadlines.NGO_PROOF_DUE)) == 1
