"""Withdrawal by the recipient after approval (*Verzicht*, T22).

The recipient may renounce an approved grant at any time before it is settled. Nothing more is
paid: orders that have not gone to the bank are cancelled, open instalments are cancelled and the
commitments of the years not paid are released (``finance.services.adjust``). What was already
paid is claimed back like after a total revocation (T20/T21): a recovery claim with its own
Kassenzeichen, § 49a interest from the day the Bescheid lost effect — the day of the withdrawal
(R27, VVK 8.5) — and the R28 limits. With money to claim the grant goes to RECOVERY (RULES.md
T22: "if money was paid → RECOVERY instead"), otherwise to WITHDRAWN. A grant in a revocation
check or already in recovery cannot be renounced (the authority decides first).
"""

from __future__ import annotations

from datetime import date

from app.auth.models import Role, User
from app.common.audit import record_event
from app.common.db import today
from app.common.errors import DomainError, NotPermitted
from app.extensions import db
from app.finance.models import ClaimStatus, RecoveryClaim
from app.finance.services import adjust, claims, payouts
from app.grants.models import AWARDED_STATUSES, Application, EventKind, Status
from app.grants.services.applications import add_event, notify_organisation, transition
from app.postaward.services.revocation import paid_out_cents

#: T22: the recipient can renounce the grant in every state after approval until it is closed.
RENOUNCEABLE = sorted(AWARDED_STATUSES)


def withdraw_grant(
    user: User, application: Application, *, reason: str, confirmed: bool, on: date | None = None
) -> RecoveryClaim | None:
    """T22: the recipient renounces the grant. The status changes first (guarded UPDATE, so a
    double click or a concurrent revocation check cannot run it twice); then orders, instalments
    and commitments are settled and a claim is raised for what was paid. Returns the claim.

    :raises NotPermitted: not a user of the recipient organisation;
    :raises DomainError: the consequences were not confirmed (field ``confirm``);
    :raises InvalidTransition: the grant is not (or no longer) in a renounceable state.
    """
    if not (user.has_role(Role.APPLICANT) and user.organisation_id == application.organisation_id):
        raise NotPermitted("Nur die Zuwendungsempfängerin kann auf die Zuwendung verzichten.")
    if not confirmed:
        raise DomainError(
            "Bitte bestätigen Sie den Verzicht und die Pflicht, ausgezahlte Beträge mit Zinsen "
            "zu erstatten.",
            field="confirm",
        )
    on = on or today()
    note = reason.strip()
    transition(application, RENOUNCEABLE, Status.WITHDRAWN)
    payouts.cancel_unsent_orders(user, application.id, "Verzicht der Zuwendungsempfängerin")
    paid = paid_out_cents(application)
    grant = adjust.current_grant(application)
    adjust.reduce_granted(user, application, 0)  # cancels open instalments, releases budget
    add_event(application, EventKind.WITHDRAWN, user, message=note, paid_cents=paid, on=on)
    record_event(
        "grant_withdrawn",
        "application",
        application.id,
        actor_id=user.id,
        paid_cents=paid,
        on=on.isoformat(),
    )
    if paid <= 0:
        return None
    claim = claims.create_claim(
        user,
        application,
        grant_cents=grant,
        principal_cents=paid,
        effective_from=on,  # § 49a (1) VwVfG: the Bescheid lost effect with the Verzicht
        reasons="Verzicht der Zuwendungsempfängerin" + (f": {note}" if note else ""),
        on=on,
        small_amount_waiver=False,  # R28: VVK 8.7 covers revocation reasons, not a Verzicht
    )
    if claim.status is not ClaimStatus.WAIVED:
        transition(application, [Status.WITHDRAWN], Status.RECOVERY)
        notify_organisation(
            application,
            "Rückforderung nach Verzicht",
            f"Sie haben auf die Zuwendung {application.reference} verzichtet. Bereits ausgezahlte "
            f"Beträge sind zu erstatten (Kassenzeichen {claim.kassenzeichen}, fällig am "
            f"{claim.due_on:%d.%m.%Y}). Zinsen nach § 49a VwVfG werden bis zum Zahlungseingang "
            "berechnet.\n",
        )
    db.session.flush()
    return claim
