"""Milestones of the programme (issue 15): the n-th consulted municipality and the n-th KPR.

Detected after a consultation is recorded and by the daily deadline job; recorded once per
(kind, threshold) with the municipality that reached it (idempotent: a second run adds nothing)
and announced to the configured press/LPR addresses through the outbox. Never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.common.audit import record_event
from app.common.formatting import date_de
from app.common.mail import queue_mail
from app.common.programme import MILESTONE_THRESHOLDS
from app.extensions import db
from app.grants.models import Consultation, KprRecord, KprRecordKind
from app.monitoring.models import MilestoneEvent, MilestoneKind
from app.orgs.models import Organisation, OrgKind


def _order_reached(kind: MilestoneKind, until: date) -> list[tuple[int, date]]:
    """(organisation id, first date) in the order the organisations reached ``kind`` (one
    statement); ties on the same day are ordered by the row id of their first record."""
    if kind is MilestoneKind.CONSULTED:
        model, day = Consultation, Consultation.held_on
        query = select(model.organisation_id, func.min(day), func.min(model.id))
    else:
        model, day = KprRecord, KprRecord.dated  # type: ignore[assignment]
        query = select(model.organisation_id, func.min(day), func.min(model.id)).where(
            KprRecord.kind == KprRecordKind.RESOLUTION
        )
    rows = db.session.execute(query.where(day <= until).group_by(model.organisation_id)).all()
    return [(org, first) for org, first, _id in sorted(rows, key=lambda r: (r[1], r[2]))]


def record_milestones(until: date, recipients: Sequence[str] = ()) -> list[MilestoneEvent]:
    """Record every milestone reached up to ``until`` that is not yet recorded and queue one
    mail per new milestone to each of ``recipients``. Returns the new events."""
    known = {
        (kind, threshold)
        for kind, threshold in db.session.execute(
            select(MilestoneEvent.kind, MilestoneEvent.threshold)
        )
    }
    new: list[MilestoneEvent] = []
    for kind in MilestoneKind:
        thresholds = [n for n in MILESTONE_THRESHOLDS[kind.value] if (kind, n) not in known]
        if not thresholds:
            continue
        reached = _order_reached(kind, until)
        for n in thresholds:
            if n <= len(reached):
                org_id, day = reached[n - 1]
                event = MilestoneEvent(
                    kind=kind, threshold=n, reached_on=day, organisation_id=org_id
                )
                db.session.add(event)
                new.append(event)
    if new:
        db.session.flush()
        for event in new:
            record_event(
                "milestone.reached",
                "milestone_event",
                event.id,
                actor_id=None,
                kind=event.kind.value,
                threshold=event.threshold,
                organisation_id=event.organisation_id,
            )
            _announce(event, recipients)
    return new


def milestone_text(event: MilestoneEvent) -> str:
    org: Organisation = event.organisation
    where = org.letter_name
    if org.kind is OrgKind.GEMEINDE and not org.kreisfrei:
        where = f"{where}, {_('Landkreis')} {org.kreis_name}"
    if event.kind is MilestoneKind.CONSULTED:
        return _(
            "%(n)s. beratene Kommune: %(org)s am %(day)s",
            n=event.threshold,
            org=where,
            day=date_de(event.reached_on),
        )
    return _(
        "%(n)s. Kommunaler Präventionsrat: %(org)s am %(day)s",
        n=event.threshold,
        org=where,
        day=date_de(event.reached_on),
    )


def _announce(event: MilestoneEvent, recipients: Iterable[str]) -> None:
    with force_locale("de"):  # press releases are German
        text = milestone_text(event)
        subject = _("Meilenstein im Förderprogramm KommPräv: %(text)s", text=text)
        body = _(
            "Das Förderprogramm Kommunale Kriminalprävention hat einen Meilenstein erreicht:\n\n"
            "%(text)s\n\nDiese Nachricht wurde vom Förderportal KommPräv erzeugt.",
            text=text,
        )
    for recipient in recipients:
        queue_mail(recipient, subject, body)


def milestones() -> list[MilestoneEvent]:
    """Recorded milestones, newest first, with their organisations (one statement)."""
    return list(
        db.session.execute(
            select(MilestoneEvent)
            .join(MilestoneEvent.organisation)
            .options(db.contains_eager(MilestoneEvent.organisation))
            .order_by(MilestoneEvent.reached_on.desc(), MilestoneEvent.id.desc())
        ).scalars()
    )
