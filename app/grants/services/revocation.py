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
from typing import TYPE_CHECKING

from sqlalchemy import func, update

from app.auth.models import Role, User
from app.common.audit import record_event
from app.common.db import today
from app.common.errors import DomainError, InvalidTransition, NotPermitted
from app.common.money import format_eur
from app.extensions import db
from app.grants.models import (
    Application,
    EventKind,
    RevocationCase,
    RevocationReason,
    Status,
)
from app.grants.services.applications import add_event, notify_organisation, transition

if TYPE_CHECKING:
    from app.finance.models import RecoveryClaim

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
#: R26: the decision must be taken within a year of knowing the facts; warn at 10 months.
DECISION_MONTHS = 12
WARNING_MONTHS = 10


def publicity_cure_days() -> int:
    """R29: eight weeks to cure missing publicity (one constant, in ``proof``)."""
    from app.grants.services.proof import PUBLICITY_CURE_DAYS

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
        raise NotPermitted("Widerrufsprüfungen eröffnet die Bewilligungsbehörde.")
    if open_case(application) is not None:
        raise InvalidTransition("Für diese Zuwendung läuft bereits eine Widerrufsprüfung.")
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
        raise NotPermitted("Nur die Bewilligungsbehörde entscheidet über einen Widerruf.")
    if not note.strip():
        raise DomainError("Bitte begründen Sie, warum nicht widerrufen wird.", field="note")
    case = open_case(application)
    if case is None:
        raise InvalidTransition("Es läuft keine Widerrufsprüfung.")
    transition(application, [Status.REVOCATION_CHECK], case.previous_status)
    case.closed_on, case.outcome = today(), "no_revocation"
    case.note = (case.note + "\n" + note.strip()).strip()
    add_event(application, EventKind.REVOCATION_CLOSED, reviewer, message=note.strip())


def decision_deadline(case: RevocationCase) -> date:
    """R26: one year after the facts were fully known (§ 48 (4), § 49 (2) VwVfG)."""
    from app.grants.services.review import add_months

    return add_months(case.facts_known_on, DECISION_MONTHS)


def warning_date(case: RevocationCase) -> date:
    """R26: warn at ten months."""
    from app.grants.services.review import add_months

    return add_months(case.facts_known_on, WARNING_MONTHS)


def publicity_recovery_proposal(grant_cents: int) -> tuple[int, int]:
    """R29: after the cure period, a recovery of 5–15 % of the state funds is proposed."""
    return grant_cents * 5 // 100, grant_cents * 15 // 100


def paid_out_cents(application: Application) -> int:
    """Σ released/sent/reconciled payout orders (money that left the state)."""
    from app.finance.models import OrderStatus, PayoutOrder

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
    Kassenzeichen (R31), posted as a receivable — unless VVK 8.7 waives it (R28).

    :raises DomainError: reasons missing, decision deadline passed (R26), amount invalid.
    """
    from app.finance.interest import recovery_waived
    from app.finance.models import ClaimStatus, EntryKind, GrantAccount, RecoveryClaim
    from app.finance.services import ledger
    from app.grants.services.proof import current_grant, reduce_grant

    if not approver.has_role(Role.APPROVER):
        raise NotPermitted("Über den Widerruf entscheidet die Bewilligung.")
    if not reasons.strip():
        raise DomainError("Ein Widerruf muss begründet werden.", field="reasons")
    on = on or today()
    case = open_case(application)
    if case is None or application.status is not Status.REVOCATION_CHECK:
        raise InvalidTransition("Ein Widerruf setzt eine Widerrufsprüfung voraus.")
    if on > decision_deadline(case):  # R26 (§ 48 (4), § 49 (2) VwVfG)
        raise DomainError(
            f"Die Widerrufsfrist ist am {decision_deadline(case):%d.%m.%Y} abgelaufen (ein Jahr "
            "nach Kenntnis der Tatsachen).",
            field="reasons",
        )
    grant = current_grant(application)
    if not 0 <= new_grant_cents < grant:
        raise DomainError(
            "Der neue Zuwendungsbetrag muss unter der bisherigen Zuwendung "
            f"({format_eur(grant)}) liegen.",
            field="new_grant",
        )
    paid = paid_out_cents(application)
    _cancel_open_orders(approver, application)
    reduce_grant(approver, application, new_grant_cents)  # may not open a nested check
    transition(application, [Status.REVOCATION_CHECK], Status.RECOVERY)
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
        return None
    waived = recovery_waived(grant, principal)
    account = db.session.get(GrantAccount, application.id)
    assert account is not None  # noqa: S101 - an approved grant has an account
    number = (
        int(
            db.session.execute(
                db.select(func.count())
                .select_from(RecoveryClaim)
                .where(RecoveryClaim.application_id == application.id)
            ).scalar_one()
        )
        + 1
    )
    claim = RecoveryClaim(
        application_id=application.id,
        kassenzeichen=f"{account.kassenzeichen}-RF{number}",
        principal_cents=principal,
        effective_from=effective_from,
        due_on=on + timedelta(days=30),
        reasons=reasons.strip(),
        status=ClaimStatus.WAIVED if waived else ClaimStatus.OPEN,
        waiver_reason=waived or "",
        created_by_id=approver.id,
    )
    db.session.add(claim)
    db.session.flush()
    if not waived:
        year = on.year
        ledger.post_entry(
            kind=EntryKind.RECOVERY,
            posting_date=on,
            fiscal_year=year,
            description=f"Rückforderung {application.reference}",
            reference=claim.kassenzeichen,
            idempotency_key=f"recovery-{claim.id}",
            lines=[
                ledger.Line(
                    ledger.receivable_account(claim.kassenzeichen), principal, application.id
                ),
                ledger.Line(
                    ledger.recovered_account(year, account.kassenzeichen),
                    -principal,
                    application.id,
                ),
            ],
            actor_id=approver.id,
        )
        _notify_claim(application, claim)
    else:
        transition(application, [Status.RECOVERY], Status.CLOSED)
    return claim


def _cancel_open_orders(actor: User, application: Application) -> None:
    """Orders not yet released are cancelled before a revocation (nothing more is paid); their
    instalments become open again so that the reduction can cancel them."""
    from app.finance.models import Instalment, InstalmentStatus, OrderStatus, PayoutOrder

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
    from app.finance.models import GrantAccount
    from app.finance.models import PayoutOrder as Order

    ordered = int(
        db.session.execute(
            db.select(func.coalesce(func.sum(Order.amount_cents), 0)).where(
                Order.application_id == application.id,
                Order.status.in_(
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


def interest_due(claim: RecoveryClaim, paid_on: date) -> tuple[int, str]:
    """R27/R28: § 49a interest from the effective date to the payment date with the base rates
    maintained as reference data; (cents charged, explanation)."""
    from app.finance.interest import Rate, compute_interest
    from app.finance.models import BaseRate

    rates = [
        Rate(r.valid_from, r.rate_bp)
        for r in db.session.execute(db.select(BaseRate).order_by(BaseRate.valid_from)).scalars()
    ]
    from app.finance.config import INTEREST_DAY_COUNT

    # Interest runs up to and including the payment day (Zins-A Nr. 2.3): end is exclusive.
    from app.finance.interest import InterestError

    try:
        result = compute_interest(
            claim.principal_cents,
            claim.effective_from,
            paid_on + timedelta(days=1),
            rates,
            day_count=INTEREST_DAY_COUNT,
        )
    except InterestError as exc:  # e.g. the base rate of a half-year is not maintained yet
        raise DomainError(f"Zinsen können nicht berechnet werden: {exc}", field="paid_on") from exc
    if not result.charged:
        return 0, result.reason
    return result.total_cents, result.reason


def record_claim_payment(
    actor: User | None, claim: RecoveryClaim, *, paid_on: date, paid_cents: int
) -> None:
    """T21: the refund arrived (reconciliation or finance): interest is fixed (R27/R28), the
    receivable is cleared and the grant closes when principal and interest are paid."""
    from app.finance.models import ClaimStatus, EntryKind
    from app.finance.services import ledger

    if claim.status is not ClaimStatus.OPEN:
        raise InvalidTransition("Diese Forderung ist bereits erledigt.")
    interest, _why = interest_due(claim, paid_on)
    claim.interest_cents = interest
    claim.paid_on, claim.paid_cents = paid_on, paid_cents
    application = db.session.get(Application, claim.application_id)
    assert application is not None  # noqa: S101 - foreign key
    principal_part = min(paid_cents, claim.principal_cents)
    interest_part = max(0, min(paid_cents - principal_part, interest))
    lines = [
        ledger.Line(ledger.BANK_ACCOUNT, principal_part + interest_part, application.id),
        ledger.Line(
            ledger.receivable_account(claim.kassenzeichen), -principal_part, application.id
        ),
    ]
    if interest_part:
        lines.append(
            ledger.Line(ledger.interest_account(paid_on.year), -interest_part, application.id)
        )
    ledger.post_entry(
        kind=EntryKind.RECEIPT,
        posting_date=paid_on,
        fiscal_year=paid_on.year,
        description=f"Zahlungseingang Rückforderung {claim.kassenzeichen}",
        reference=claim.kassenzeichen,
        idempotency_key=f"receipt-{claim.id}-{paid_on}",
        lines=lines,
        actor_id=actor.id if actor else None,
    )
    if paid_cents >= claim.principal_cents + interest:
        claim.status = ClaimStatus.PAID
        if application.status is Status.RECOVERY:
            transition(application, [Status.RECOVERY], Status.CLOSED)
        add_event(
            application,
            EventKind.RECOVERY_PAID,
            actor,
            kassenzeichen=claim.kassenzeichen,
            interest_cents=interest,
        )


def open_claims() -> list[RecoveryClaim]:
    from app.finance.models import ClaimStatus, RecoveryClaim

    return list(
        db.session.execute(
            db.select(RecoveryClaim)
            .where(RecoveryClaim.status == ClaimStatus.OPEN)
            .order_by(RecoveryClaim.due_on)
        ).scalars()
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
