"""Programme milestones (issue 15): recorded once with the municipality that reached them, sent
to the press/LPR addresses through the outbox, shown on the dashboard."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.common.mail import OutboxMessage
from app.extensions import db
from app.monitoring.models import MilestoneEvent, MilestoneKind
from app.monitoring.services import record_milestones
from tests.monitoring import helpers as m

AGS = ["14626610", "14628270", "14626530", "14511000", "14612000"]


@pytest.fixture
def small_thresholds(monkeypatch):
    monkeypatch.setitem(
        __import__("app.common.programme", fromlist=["x"]).MILESTONE_THRESHOLDS,
        "consulted",
        (2, 4),
    )


def test_milestone_is_recorded_once_with_the_municipality(app_ctx, small_thresholds):
    m.consult(AGS[0], date(2020, 1, 5))
    m.consult(AGS[0], date(2020, 1, 6))  # a second consultation of the same municipality
    m.consult(AGS[1], date(2020, 2, 1))
    m.consult(AGS[2], date(2021, 1, 18))
    new = record_milestones(date(2021, 12, 31), ["presse@smi.sachsen.de"])
    assert [(e.kind, e.threshold, e.organisation.ags, e.reached_on) for e in new] == [
        (MilestoneKind.CONSULTED, 2, AGS[1], date(2020, 2, 1))
    ]
    assert record_milestones(date(2021, 12, 31), ["presse@smi.sachsen.de"]) == []  # idempotent
    m.consult(AGS[3], date(2021, 1, 18))
    new = record_milestones(date(2021, 12, 31), ["presse@smi.sachsen.de"])
    assert [(e.threshold, e.organisation.ags) for e in new] == [(4, AGS[3])]
    mails = db.session.execute(select(OutboxMessage)).scalars().all()
    assert len(mails) == 2 and all(x.recipient == "presse@smi.sachsen.de" for x in mails)
    assert "4. beratene Kommune: Stadt Chemnitz am 18.01.2021" in mails[1].subject
    assert db.session.execute(select(db.func.count()).select_from(MilestoneEvent)).scalar() == 2


def test_milestone_respects_the_reporting_date(app_ctx, small_thresholds):
    m.consult(AGS[0], date(2020, 1, 5))
    m.consult(AGS[1], date(2020, 3, 1))
    assert record_milestones(date(2020, 2, 28)) == []
    assert [e.reached_on for e in record_milestones(date(2020, 3, 1))] == [date(2020, 3, 1)]


def test_deadline_job_records_milestones(app, runner, small_thresholds):
    with app.app_context():
        m.consult(AGS[0], date(2020, 1, 5))
        m.consult(AGS[1], date(2020, 3, 1))
        db.session.commit()
    result = runner.invoke(args=["postaward", "run-deadlines", "--today", "2026-12-01"])
    assert result.exit_code == 0, result.output
    assert "Meilenstein: consulted 2" in result.output


def test_dashboard_lists_the_milestones(reviewer_client, app, small_thresholds):
    with app.app_context():
        m.consult(AGS[0], date(2020, 1, 5))
        m.consult(AGS[1], date(2020, 3, 1))
        record_milestones(date(2020, 3, 1))
        db.session.commit()
    html = reviewer_client.get("/programm").get_data(as_text=True)
    assert (
        "2. beratene Kommune: Stadt Pirna, Landkreis Sächsische Schweiz" in html
        and "01.03.2020" in html
    )


def test_dashboard_shows_only_milestones_reached_by_the_stichtag(
    reviewer_client, app, small_thresholds
):
    with app.app_context():
        m.consult(AGS[0], date(2020, 1, 5))
        m.consult(AGS[1], date(2020, 3, 1))
        record_milestones(date(2020, 3, 1))
        db.session.commit()
    html = reviewer_client.get("/programm?stichtag=2020-02-01").get_data(as_text=True)
    assert "2. beratene Kommune" not in html
