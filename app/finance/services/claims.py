"""Recovery claims: the money side of a revocation (T20, T21, R27, R28, R31).

A claim has its own Kassenzeichen, is posted to the ledger as a receivable, earns § 49a interest
from the date the Bescheid lost effect and is cleared when the refund arrives (by the statement
import or entered by finance). Whether a paid claim closes the grant is decided above this layer
(``app.postaward.services.revocation``): this module only reports that the claim is settled.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from app.auth.models import User
from app.common.errors import DomainError, InvalidTransition
from app.common.programme import INTEREST_DAY_COUNT
from app.extensions import db
from app.finance.interest import InterestError, Rate, compute_interest, recovery_waived
from app.finance.models import BaseRate, ClaimStatus, EntryKind, GrantAccount, RecoveryClaim
from app.finance.services import ledger
from app.grants.models import Application

#: T20: a recovery claim is due 30 days after the revocation (*design*).
CLAIM_DUE_DAYS = 30


def create_claim(
    actor: User,
    application: Application,
    *,
    grant_cents: int,
    principal_cents: int,
    effective_from: date,
    reasons: str,
    on: date,
) -> RecoveryClaim:
    """A recovery claim for ``principal_cents`` (> 0) with its own Kassenzeichen (R31); posted as a
    receivable unless the VVK 8.7 small-amount rule waives it (R28, then status WAIVED)."""
    waived = recovery_waived(grant_cents, principal_cents)
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
        principal_cents=principal_cents,
        effective_from=effective_from,
        due_on=on + timedelta(days=CLAIM_DUE_DAYS),
        reasons=reasons,
        status=ClaimStatus.WAIVED if waived else ClaimStatus.OPEN,
        waiver_reason=waived or "",
        created_by_id=actor.id,
    )
    db.session.add(claim)
    db.session.flush()
    if not waived:
        ledger.post_entry(
            kind=EntryKind.RECOVERY,
            posting_date=on,
            fiscal_year=on.year,
            description=f"Rückforderung {application.reference}",
            reference=claim.kassenzeichen,
            idempotency_key=f"recovery-{claim.id}",
            lines=[
                ledger.Line(
                    ledger.receivable_account(claim.kassenzeichen), principal_cents, application.id
                ),
                ledger.Line(
                    ledger.recovered_account(on.year, account.kassenzeichen),
                    -principal_cents,
                    application.id,
                ),
            ],
            actor_id=actor.id,
        )
    return claim


def interest_due(claim: RecoveryClaim, paid_on: date) -> tuple[int, str]:
    """R27/R28: § 49a interest from the effective date to the payment date with the base rates
    maintained as reference data; (cents charged, explanation)."""
    rates = [
        Rate(r.valid_from, r.rate_bp)
        for r in db.session.execute(db.select(BaseRate).order_by(BaseRate.valid_from)).scalars()
    ]
    try:
        # Interest runs up to and including the payment day (Zins-A Nr. 2.3): end is exclusive.
        result = compute_interest(
            claim.principal_cents,
            claim.effective_from,
            paid_on + timedelta(days=1),
            rates,
            day_count=INTEREST_DAY_COUNT,
        )
    except InterestError as exc:  # e.g. the base rate of a half-year is not maintained yet
        raise DomainError(
            _l("Zinsen können nicht berechnet werden: %(exc)s", exc=exc), field="paid_on"
        ) from exc
    if not result.charged:
        return 0, result.reason
    return result.total_cents, result.reason


def record_payment(
    actor: User | None, claim: RecoveryClaim, *, paid_on: date, paid_cents: int
) -> bool:
    """T21: the refund arrived: interest is fixed (R27/R28) and the receivable cleared in the
    ledger. Returns True when principal and interest are paid (the claim is then PAID)."""
    if claim.status is not ClaimStatus.OPEN:
        raise InvalidTransition(_l("Diese Forderung ist bereits erledigt."))
    interest, _why = interest_due(claim, paid_on)
    claim.interest_cents = interest
    claim.paid_on, claim.paid_cents = paid_on, paid_cents
    principal_part = min(paid_cents, claim.principal_cents)
    interest_part = max(0, min(paid_cents - principal_part, interest))
    lines = [
        ledger.Line(ledger.BANK_ACCOUNT, principal_part + interest_part, claim.application_id),
        ledger.Line(
            ledger.receivable_account(claim.kassenzeichen), -principal_part, claim.application_id
        ),
    ]
    if interest_part:
        lines.append(
            ledger.Line(ledger.interest_account(paid_on.year), -interest_part, claim.application_id)
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
        return True
    return False
