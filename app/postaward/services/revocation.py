"""Revocation checks and revocation decisions with recovery claims (T20, T23–T27; R24, R26,
R28, R29).

A revocation check remembers the status it interrupted; it ends either with "no revocation"
(back to that status, T27) or with a partial/total revocation (T26) that creates a recovery
claim with its own Kassenzeichen, posted to the ledger as a receivable and matched by the
reconciliation when the money arrives (T21).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, update

from app.auth.models import Role, User
from app.common.audit import record_event
from app.common.dates import add_months
from app.common.db import today
from app.common.errors import DomainError, InvalidTransition, NotPermitted
from app.common.money import format_eur
from app.common.programme import (
    PUBLICITY_CURE_DAYS,
    RECOVERY_WAIVER_REASONS,
    REVOCATION_DECISION_MONTHS,
    REVOCATION_WARNING_MONTHS,
)
from app.extensions import db
from app.finance.models import (
    ClaimStatus,
    GrantAccount,
    Instalment,
    InstalmentStatus,
    OrderStatus,
    PayoutOrder,
    RecoveryClaim,
)
from app.finance.services import adjust, claims
from app.grants.models import Application, EventKind, Status
from app.grants.services.applications import add_event, notify_organisation, transition
from app.postaward.models import RevocationCase, RevocationReason
from app.postaward.services.closing import close_if_settled

logger = logging.getLogger(__name__)

#: T23–T25: states from which a revocation check can be opened.
CHECKABLE = (
    Status.FINAL,
    Status.RUNNING,
    Status.VN_DUE,
    Status.VN_RECEIVED,
    Status.VN_INCOMPLETE,
    Status.VN_COMPLETE,
    Status.VN_AUDIT,
    Status.VN_CHECKED,
)


def publicity_cure_days() -> int:
    """R29: eight weeks to cure missing publicity (``programme.PUBLICITY_CURE_DAYS``)."""
    return PUBLICITY_CURE_DAYS


def open_case(application: Application) -> RevocationCase | None:
    return db.session.execute(
        db.select(RevocationCase).where(
            RevocationCase.application_id == application.id, RevocationCase.closed_on.is_(None)
        )
    ).scalar_one_or_none()


def open_check(
    application: Application,
    *,
    reason: RevocationReason,
    facts_known_on: date,
    actor: User | None,
    note: str = "",
) -> RevocationCase:
    """Move the grant into REVOCATION_CHECK (T23 no start, T24 VN overdue, T25 by a reviewer).

    :raises InvalidTransition: not in a checkable state or a check is already open.
    """
    if actor is not None and not actor.has_role(Role.REVIEWER, Role.APPROVER):
        raise NotPermitted(_l("Widerrufsprüfungen eröffnet die Bewilligungsbehörde."))
    if open_case(application) is not None:
        raise InvalidTransition(_l("Für diese Zuwendung läuft bereits eine Widerrufsprüfung."))
    previous = application.status
    transition(application, list(CHECKABLE), Status.REVOCATION_CHECK)
    case = RevocationCase(
        application_id=application.id,
        reason=reason,
        previous_status=previous,
        facts_known_on=facts_known_on,
        note=note.strip(),
        opened_by_id=actor.id if actor else None,
        # R29: a reviewer's publicity finding starts the eight-week cure period; the deadline
        # job opens its check only after that period, so no second one is granted.
        cure_deadline=(
            facts_known_on + timedelta(days=publicity_cure_days())
            if reason is RevocationReason.PUBLICITY and actor is not None
            else None
        ),
    )
    db.session.add(case)
    db.session.flush()
    add_event(
        application,
        EventKind.REVOCATION_CHECK,
        actor,
        internal=False,
        reason=reason.value,
        facts_known_on=facts_known_on,
        message=note.strip(),
    )
    return case


def close_without_revocation(reviewer: User, application: Application, note: str) -> None:
    """T27: no revocation; the grant returns to the status the check interrupted."""
    if not reviewer.has_role(Role.REVIEWER, Role.APPROVER):
        raise NotPermitted(_l("Nur die Bewilligungsbehörde entscheidet über einen Widerruf."))
    if not note.strip():
        raise DomainError(_l("Bitte begründen Sie, warum nicht widerrufen wird."), field="note")
    case = open_case(application)
    if case is None:
        raise InvalidTransition(_l("Es läuft keine Widerrufsprüfung."))
    transition(application, [Status.REVOCATION_CHECK], case.previous_status)
    case.closed_on, case.outcome = today(), "no_revocation"
    case.note = (case.note + "\n" + note.strip()).strip()
    add_event(application, EventKind.REVOCATION_CLOSED, reviewer, message=note.strip())


def decision_deadline(case: RevocationCase) -> date:
    """R26: one year after the facts were fully known (§ 48 (4), § 49 (2) VwVfG)."""
    return add_months(case.facts_known_on, REVOCATION_DECISION_MONTHS)


def warning_date(case: RevocationCase) -> date:
    """R26: warn at ten months."""
    return add_months(case.facts_known_on, REVOCATION_WARNING_MONTHS)


def publicity_recovery_proposal(grant_cents: int) -> tuple[int, int]:
    """R29: after the cure period, a recovery of 5–15 % of the state funds is proposed."""
    return grant_cents * 5 // 100, grant_cents * 15 // 100


def paid_out_cents(application: Application) -> int:
    """Σ released/sent/reconciled payout orders (money that left the state)."""
    return int(
        db.session.execute(
            db.select(func.coalesce(func.sum(PayoutOrder.amount_cents), 0)).where(
                PayoutOrder.application_id == application.id,
                PayoutOrder.status.in_(
                    [OrderStatus.RELEASED, OrderStatus.IN_RUN, OrderStatus.RECONCILED]
                ),
            )
        ).scalar_one()
    )


# --- revocation decision and recovery claim (T20, T26, T21) -------------------------------------


def revoke(
    approver: User,
    application: Application,
    *,
    new_grant_cents: int,
    reasons: str,
    effective_from: date,
    on: date | None = None,
) -> RecoveryClaim | None:
    """T26/T20: revoke partially (``new_grant_cents`` > 0) or totally (0) with reasons and the
    date the Bescheid loses effect. Open instalments are cancelled or reduced, unpaid budget is
    released; what was paid beyond the new grant becomes a recovery claim with its own
    Kassenzeichen (R31), posted as a receivable — unless VVK 8.7 waives it (R28), which it does
    only for the check's reasons in ``programme.RECOVERY_WAIVER_REASONS`` (not for misuse or
    wrong data).

    :raises DomainError: reasons missing, decision deadline passed (R26), amount invalid.
    """
    if not approver.has_role(Role.APPROVER):
        raise NotPermitted(_l("Über den Widerruf entscheidet die Bewilligung."))
    if not reasons.strip():
        raise DomainError(_l("Ein Widerruf muss begründet werden."), field="reasons")
    on = on or today()
    case = open_case(application)
    if case is None or application.status is not Status.REVOCATION_CHECK:
        raise InvalidTransition(_l("Ein Widerruf setzt eine Widerrufsprüfung voraus."))
    if on > decision_deadline(case):  # R26 (§ 48 (4), § 49 (2) VwVfG)
        raise DomainError(
            _l(
                "Die Widerrufsfrist ist am %(case)s abgelaufen (ein Jahr nach Kenntnis "
                "der Tatsachen).",
                case=format(decision_deadline(case), "%d.%m.%Y"),
            ),
            field="reasons",
        )
    grant = adjust.current_grant(application)
    if not 0 <= new_grant_cents < grant:
        raise DomainError(
            _l(
                "Der neue Zuwendungsbetrag muss unter der bisherigen Zuwendung (%(grant)s) liegen.",
                grant=format_eur(grant),
            ),
            field="new_grant",
        )
    paid = paid_out_cents(application)
    _cancel_open_orders(approver, application)
    reduce_grant(approver, application, new_grant_cents)  # may not open a nested check
    case.closed_on, case.outcome = on, "revoked"
    add_event(
        application,
        EventKind.REVOKED,
        approver,
        message=reasons.strip(),
        new_grant_cents=new_grant_cents,
        effective_from=effective_from,
    )
    principal = paid - new_grant_cents
    if principal <= 0:
        _settle_without_claim(application, case, new_grant_cents)
        return None
    transition(application, [Status.REVOCATION_CHECK], Status.RECOVERY)
    claim = claims.create_claim(
        approver,
        application,
        grant_cents=grant,
        principal_cents=principal,
        effective_from=effective_from,
        reasons=reasons.strip(),
        on=on,
        # R28: the VVK 8.7 small-amount waiver only for the cases VVK 8.2.1/8.2.3/8.2.4
        small_amount_waiver=case.reason.value in RECOVERY_WAIVER_REASONS,
    )
    if claim.status is ClaimStatus.WAIVED:
        transition(application, [Status.RECOVERY], Status.CLOSED)
    else:
        _notify_claim(application, claim)
    return claim


def _settle_without_claim(
    application: Application, case: RevocationCase, new_grant_cents: int
) -> None:
    """T21 with nothing to recover: a total revocation closes the grant at once; a partial one
    returns it to the status the check interrupted (the rest of the grant is still paid out),
    and a checked grant whose money is then settled closes (T19)."""
    if new_grant_cents == 0:
        transition(application, [Status.REVOCATION_CHECK], Status.CLOSED)
        add_event(application, EventKind.CLOSED, None, message="Nichts zurückzufordern.")
        return
    transition(application, [Status.REVOCATION_CHECK], case.previous_status)
    close_if_settled(application)


def _cancel_open_orders(actor: User, application: Application) -> None:
    """Orders not yet released are cancelled before a revocation (nothing more is paid); their
    instalments become open again so that the reduction can cancel them."""
    db.session.execute(
        update(Instalment)
        .where(
            Instalment.id.in_(
                db.select(PayoutOrder.instalment_id).where(
                    PayoutOrder.application_id == application.id,
                    PayoutOrder.status == OrderStatus.PREPARED,
                )
            )
        )
        .values(status=InstalmentStatus.DUE)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(PayoutOrder)
        .where(
            PayoutOrder.application_id == application.id, PayoutOrder.status == OrderStatus.PREPARED
        )
        .values(status=OrderStatus.CANCELLED, note="Widerruf")
        .execution_options(synchronize_session=False)
    )

    ordered = int(
        db.session.execute(
            db.select(func.coalesce(func.sum(PayoutOrder.amount_cents), 0)).where(
                PayoutOrder.application_id == application.id,
                PayoutOrder.status.in_(
                    [
                        OrderStatus.PREPARED,
                        OrderStatus.RELEASED,
                        OrderStatus.IN_RUN,
                        OrderStatus.RECONCILED,
                    ]
                ),
            )
        ).scalar_one()
    )
    db.session.execute(
        update(GrantAccount)
        .where(GrantAccount.application_id == application.id)
        .values(ordered_cents=ordered)
        .execution_options(synchronize_session=False)
    )
    record_event(
        "orders_cancelled_for_revocation", "application", application.id, actor_id=actor.id
    )


def reduce_grant(actor: User, application: Application, new_grant: int) -> int:
    """Lower the grant (R22 recalculation, T26 revocation): the money side is done by
    ``finance.services.adjust``; if more was already paid, a revocation check for the
    overpayment is opened. Returns the overpaid amount (0 if none)."""
    reduction = adjust.reduce_granted(actor, application, new_grant)
    add_event(
        application,
        EventKind.RECALCULATED,
        actor,
        old_grant_cents=reduction.old_grant_cents,
        new_grant_cents=new_grant,
        overpaid_cents=reduction.overpaid_cents,
    )
    if reduction.overpaid_cents and application.status is not Status.REVOCATION_CHECK:
        open_check(
            application,
            reason=RevocationReason.RECALCULATION,
            facts_known_on=today(),
            actor=None,
            note=f"Überzahlung {format_eur(reduction.overpaid_cents)} nach Neuberechnung",
        )
    return reduction.overpaid_cents


def record_claim_payment(
    actor: User | None, claim: RecoveryClaim, *, paid_on: date, paid_cents: int
) -> bool:
    """T21: a refund arrived, in full or in part (entered by finance): the money side is booked
    by ``finance.services.claims`` (costs → interest → principal, R27); a settled claim closes
    the grant. Returns True when the claim is settled."""
    if claims.record_payment(actor, claim, paid_on=paid_on, paid_cents=paid_cents):
        close_recovered(actor, claim)
        return True
    return False


def close_recovered(actor: User | None, claim: RecoveryClaim) -> None:
    """T21: principal and interest of ``claim`` are paid: a grant in RECOVERY closes."""
    application = db.session.get(Application, claim.application_id)
    assert application is not None  # noqa: S101 - foreign key
    if application.status is Status.RECOVERY:
        transition(application, [Status.RECOVERY], Status.CLOSED)
    add_event(
        application,
        EventKind.RECOVERY_PAID,
        actor,
        kassenzeichen=claim.kassenzeichen,
        interest_cents=claim.interest_cents,
    )


def _notify_claim(application: Application, claim: RecoveryClaim) -> None:
    notify_organisation(
        application,
        "Rückforderung",
        f"zur Zuwendung {application.reference} wird ein Betrag von "
        f"{format_eur(claim.principal_cents)} zurückgefordert (fällig am "
        f"{claim.due_on:%d.%m.%Y}). Bitte überweisen Sie ihn unter Angabe des "
        f"Kassenzeichens {claim.kassenzeichen}. Zinsen nach § 49a VwVfG werden bis zum "
        "Zahlungseingang berechnet.\n",
    )
