"""Monitoring test data: consultations, KPR records and approved applications by AGS."""

from __future__ import annotations

from datetime import date

from app.budget import services as budget
from app.budget.models import BudgetYear
from app.extensions import db
from app.grants.models import Consultation, KprRecord, KprRecordKind, Status
from tests import factories
from tests.budget import helpers as h

ZITTAU = h.ZITTAU
PIRNA = h.PIRNA
SEIFHENNERSDORF = "14626530"


def consult(ags: str, held_on: date) -> Consultation:
    org = factories.organisation(ags)
    row = Consultation(organisation_id=org.id, held_on=held_on, adviser="Beraterin", notes="")
    db.session.add(row)
    db.session.flush()
    return row


def kpr(ags: str, dated: date, kind: KprRecordKind = KprRecordKind.RESOLUTION) -> None:
    org = factories.organisation(ags)
    db.session.add(KprRecord(organisation_id=org.id, kind=kind, dated=dated))
    db.session.flush()


def approved(ags: str, year: int = 2027, cents: int = 1_000_000) -> None:
    """An approved application of ``ags`` with its commitment in ``year``."""
    if db.session.get(BudgetYear, year) is None:
        budget.open_year(year, h.CAP)
    application = h.application(ags, submitted=False)
    budget.commit_funds(application.id, {year: cents}, approval_year=year, actor_id=h.approver().id)
    application.status = Status.APPROVED
    db.session.flush()
