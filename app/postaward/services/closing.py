"""Closing a grant whose money is settled (T19): one function, called after every step that can
settle the last instalment — a payment run, the final check (also when its reduction cancels the
final instalment), a revocation without anything to recover — and by the daily deadline job as a
safety net."""

from __future__ import annotations

from sqlalchemy import func

from app.extensions import db
from app.finance.models import Instalment, InstalmentStatus
from app.grants.models import Application, EventKind, Status
from app.grants.services.applications import add_event, transition
from app.postaward.models import ProofKind, ProofOfUse, ProofStatus


def close_if_settled(application: Application) -> bool:
    """T19: a checked grant whose instalments are all paid (or cancelled) is closed — never
    without a checked final proof of use (R18: a partial or provisional one is not enough)."""

    if application.status is not Status.VN_CHECKED:
        return False
    proof = db.session.execute(
        db.select(ProofOfUse)
        .where(ProofOfUse.application_id == application.id)
        .order_by(ProofOfUse.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    if proof is None or (proof.kind, proof.status) != (ProofKind.FINAL, ProofStatus.CHECKED):
        return False
    open_count = db.session.execute(
        db.select(func.count())
        .select_from(Instalment)
        .where(
            Instalment.application_id == application.id,
            Instalment.status.notin_([InstalmentStatus.PAID, InstalmentStatus.CANCELLED]),
        )
    ).scalar_one()
    if open_count:
        return False
    transition(application, [Status.VN_CHECKED], Status.CLOSED)
    add_event(application, EventKind.CLOSED, None)
    return True
