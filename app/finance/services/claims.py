"""Recovery claims: the money side of a revocation (T20, T21, R27, R28, R31).

A claim has its own Kassenzeichen, is posted to the ledger as a receivable, earns § 49a interest
from the date the Bescheid lost effect and is cleared when the refund arrives (by the statement
import or entered by finance), possibly in several parts: each payment settles costs, then
interest, then principal (§ 367 (1) BGB) and interest runs on the principal still open from the
day after each payment (docs/interest.md). Whether a paid claim closes the grant is decided
above this layer (``app.postaward.services.revocation``): this module only reports that the claim
is settled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, update

from app.auth.models import User
from app.common.audit import record_event
from app.common.errors import DomainError, InvalidTransition
from app.common.money import format_eur
from app.common.programme import (
    DUNNING_HANDOVER_DAYS,
    DUNNING_REMINDER_DAYS,
    DUNNING_SECOND_REMINDER_DAYS,
    INTEREST_DAY_COUNT,
)
from app.extensions import db
from app.finance.interest import (
    InterestError,
    Rate,
    apply_thresholds,
    assess_total,
    compute_interest,
    dunning_step_waived,
    recovery_waived,
)
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
    small_amount_waiver: bool,
) -> RecoveryClaim:
    """A recovery claim for ``principal_cents`` (> 0) with its own Kassenzeichen (R31); posted as a
    receivable unless the VVK 8.7 small-amount rule waives it (R28, then status WAIVED).
    ``small_amount_waiver`` says whether the revocation's case is one VVK 8.7 covers (the caller
    knows the reason, ``programme.RECOVERY_WAIVER_REASONS``)."""
    waived = recovery_waived(grant_cents, principal_cents) if small_amount_waiver else None
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


@dataclass(frozen=True, slots=True)
class InterestState:
    """R27/R28 interest of a claim up to a payment day: ``segment_cents`` accrued on the open
    principal since the last payment, ``accrued_cents`` the running total, ``charged_cents`` the
    part of it that is claimed (0 while VVK 8.8 or KLB 5 waive it)."""

    segment_cents: int
    accrued_cents: int
    charged_cents: int
    reason: str


def _rates() -> list[Rate]:
    return [
        Rate(r.valid_from, r.rate_bp)
        for r in db.session.execute(db.select(BaseRate).order_by(BaseRate.valid_from)).scalars()
    ]


def interest_state(claim: RecoveryClaim, paid_on: date) -> InterestState:
    """R27: § 49a interest on the principal still open, from the effective date (or the day after
    the last payment) up to and including ``paid_on`` (Zins-A Nr. 2.3), added to the interest
    accrued before; R28: charged only if the total exceeds 250 € (VVK 8.8) and not for a
    principal below 50 € paid within six months (KLB 5)."""
    if claim.interest_until is not None and paid_on < claim.interest_until:
        raise DomainError(
            f"Der Zahlungseingang liegt vor der zuletzt gebuchten Zahlung vom "
            f"{claim.interest_until:%d.%m.%Y}.",
            field="paid_on",
        )
    start = (
        claim.interest_until + timedelta(days=1)
        if claim.interest_until is not None
        else claim.effective_from
    )
    segment = 0
    if claim.principal_open_cents > 0:  # no interest on interest (§ 289 BGB)
        try:
            segment = compute_interest(
                claim.principal_open_cents,
                start,
                paid_on + timedelta(days=1),  # end is exclusive: the payment day bears interest
                _rates(),
                day_count=INTEREST_DAY_COUNT,
            ).total_cents
        except InterestError as exc:  # e.g. the base rate of a half-year is not maintained yet
            raise DomainError(
                f"Zinsen können nicht berechnet werden: {exc}", field="paid_on"
            ) from exc
    accrued = claim.interest_accrued_cents + segment
    assessed = apply_thresholds(
        assess_total(accrued),
        principal_cents=claim.principal_cents,
        due_on=claim.due_on,
        paid_on=paid_on,
    )
    return InterestState(segment, accrued, assessed.charged_cents, assessed.reason)


def interest_due(claim: RecoveryClaim, paid_on: date) -> tuple[int, str]:
    """R27/R28: the interest charged in total if a payment arrives on ``paid_on``; (cents,
    explanation)."""
    state = interest_state(claim, paid_on)
    return state.charged_cents, state.reason


def record_payment(
    actor: User | None, claim: RecoveryClaim, *, paid_on: date, paid_cents: int
) -> bool:
    """T21: a (partial) refund arrived. Interest accrues up to ``paid_on`` on the open principal
    (R27/R28); the payment settles costs, then interest, then principal (§ 367 (1) BGB) and adds
    to ``paid_cents``; the ledger books each part. Returns True when nothing is open any more
    (the claim is then PAID).

    Race-guarded: the claim row is locked and the update is conditional on the number of
    payments seen, so two payments booked at once cannot overwrite each other.

    :raises DomainError: amount ≤ 0, more than is open, a payment dated before the last one, or
        no base rate for the period.
    """
    if paid_cents <= 0:
        raise DomainError("Der Betrag muss größer als 0 € sein.", field="amount")
    db.session.refresh(claim, with_for_update=True)
    if claim.status is not ClaimStatus.OPEN:
        raise InvalidTransition("Diese Forderung ist bereits erledigt.")
    state = interest_state(claim, paid_on)
    costs_open = claim.costs_cents - claim.costs_paid_cents
    interest_open = state.charged_cents - claim.interest_paid_cents
    principal_open = claim.principal_open_cents
    open_total = costs_open + interest_open + principal_open
    if paid_cents > open_total:
        raise DomainError(
            f"Der Betrag übersteigt die offene Forderung von {format_eur(open_total)} "
            f"(Kosten, Zinsen bis {paid_on:%d.%m.%Y} und Hauptforderung).",
            field="amount",
        )
    costs_part = min(paid_cents, costs_open)
    interest_part = min(paid_cents - costs_part, interest_open)
    principal_part = paid_cents - costs_part - interest_part
    settled = paid_cents == open_total
    seen = claim.payment_count
    updated = db.session.execute(
        update(RecoveryClaim)
        .where(
            RecoveryClaim.id == claim.id,
            RecoveryClaim.status == ClaimStatus.OPEN,
            RecoveryClaim.payment_count == seen,
        )
        .values(
            paid_on=paid_on,
            paid_cents=(claim.paid_cents or 0) + paid_cents,
            costs_paid_cents=claim.costs_paid_cents + costs_part,
            interest_cents=state.charged_cents,
            interest_paid_cents=claim.interest_paid_cents + interest_part,
            principal_paid_cents=claim.principal_paid_cents + principal_part,
            interest_accrued_cents=state.accrued_cents,
            interest_until=paid_on,
            payment_count=seen + 1,
            status=ClaimStatus.PAID if settled else ClaimStatus.OPEN,
        )
        .execution_options(synchronize_session=False)
    )
    if updated.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidTransition(
            "Die Forderung wurde gleichzeitig geändert. Bitte laden Sie die Seite neu."
        )
    db.session.refresh(claim)
    lines = [ledger.Line(ledger.BANK_ACCOUNT, paid_cents, claim.application_id)]
    if costs_part:
        lines.append(
            ledger.Line(ledger.costs_account(paid_on.year), -costs_part, claim.application_id)
        )
    if interest_part:
        lines.append(
            ledger.Line(ledger.interest_account(paid_on.year), -interest_part, claim.application_id)
        )
    if principal_part:
        lines.append(
            ledger.Line(
                ledger.receivable_account(claim.kassenzeichen),
                -principal_part,
                claim.application_id,
            )
        )
    ledger.post_entry(
        kind=EntryKind.RECEIPT,
        posting_date=paid_on,
        fiscal_year=paid_on.year,
        description=f"Zahlungseingang Rückforderung {claim.kassenzeichen}",
        reference=claim.kassenzeichen,
        idempotency_key=f"receipt-{claim.id}-{seen + 1}",
        lines=lines,
        actor_id=actor.id if actor else None,
    )
    record_event(
        "recovery_payment",
        "recovery_claim",
        claim.id,
        actor_id=actor.id if actor else None,
        paid_on=paid_on.isoformat(),
        amount_cents=paid_cents,
        costs_cents=costs_part,
        interest_cents=interest_part,
        principal_cents=principal_part,
        interest_segment_cents=state.segment_cents,
        interest_charged_cents=state.charged_cents,
        settled=settled,
    )
    return settled


# --- dunning (F15; Kleinbeträge) --------------------------------------------------------------

#: Dunning levels of a claim (``RecoveryClaim.dunning_level``).
REMINDER, SECOND_REMINDER, HANDOVER = 1, 2, 3
_PERIOD_BEFORE = {
    REMINDER: DUNNING_REMINDER_DAYS,
    SECOND_REMINDER: DUNNING_SECOND_REMINDER_DAYS,
    HANDOVER: DUNNING_HANDOVER_DAYS,
}


def next_dunning_level(claim: RecoveryClaim, on: date) -> int | None:
    """F15: the dunning step due on ``on`` for an open claim — the reminder
    ``DUNNING_REMINDER_DAYS`` after the due date, the second reminder and the handover note each
    their period after the step before — or None."""
    if claim.status is not ClaimStatus.OPEN or claim.dunning_level >= HANDOVER:
        return None
    level = claim.dunning_level + 1
    since = claim.due_on if claim.dunning_level == 0 or claim.dunned_on is None else claim.dunned_on
    return level if on >= since + timedelta(days=_PERIOD_BEFORE[level]) else None


def dunning_refusal(claim: RecoveryClaim, level: int) -> str | None:
    """KLB: why the dunning step ``level`` does not happen for the amount open, or None — no
    reminder below 25 € for a public body (KLB 2.1), no enforcement below 25 € (KLB 3.1)."""
    arrears = claim.open_cents
    if not dunning_step_waived(level, arrears):
        return None
    if level < HANDOVER:
        return (
            f"Keine Mahnung: Der Rückstand von {format_eur(arrears)} ist ein Kleinbetrag "
            "(Kleinbetragsregelung Nr. 2.1)."
        )
    return (
        f"Keine Vollstreckung: Der Rückstand von {format_eur(arrears)} ist ein Kleinbetrag "
        "(Kleinbetragsregelung Nr. 3.1)."
    )


def advance_dunning(claim: RecoveryClaim, level: int, on: date) -> bool:
    """Record dunning step ``level`` on ``on`` (system actor, audited). Guarded: only from the
    level before and while the claim is open; False if another run or a payment came first."""
    updated = db.session.execute(
        update(RecoveryClaim)
        .where(
            RecoveryClaim.id == claim.id,
            RecoveryClaim.status == ClaimStatus.OPEN,
            RecoveryClaim.dunning_level == level - 1,
        )
        .values(dunning_level=level, dunned_on=on)
        .execution_options(synchronize_session=False)
    )
    if updated.rowcount != 1:  # type: ignore[attr-defined]
        return False
    db.session.refresh(claim)
    record_event(
        "recovery_dunning",
        "recovery_claim",
        claim.id,
        actor_id=None,
        level=level,
        on=on.isoformat(),
        open_cents=claim.open_cents,
    )
    return True


def dunning_status(claim: RecoveryClaim) -> str:
    """F15, shown to finance (template filter ``dunning_status``): ``"none"``, ``"reminder"``,
    ``"second_reminder"``, ``"handover"``, or ``"small"`` when the KLB limit stops the next
    step."""
    if claim.status is ClaimStatus.OPEN and claim.dunning_level < HANDOVER:
        if dunning_refusal(claim, claim.dunning_level + 1) is not None:
            return "small"
    return ("none", "reminder", "second_reminder", "handover")[claim.dunning_level]
