"""Grant account adjustments: the current grant and its reduction (R22, T26).

Reductions come from the proof-of-use recalculation and from revocations; this module does the
money side (instalments, budget release, ledger) and nothing about the grant's status.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from app.auth.models import User
from app.budget.models import CommitmentKind
from app.budget.services import release_funds
from app.common.db import today
from app.common.errors import InvalidTransition
from app.extensions import db
from app.finance.models import EntryKind, GrantAccount, Instalment, InstalmentStatus
from app.finance.services import ledger
from app.grants.models import Application, Decision, DecisionStatus


@dataclass(frozen=True)
class Reduction:
    old_grant_cents: int
    new_grant_cents: int
    overpaid_cents: int


def current_grant(application: Application) -> int:
    """The grant as it stands (after reductions); before the account exists, the approved one."""
    account = db.session.get(GrantAccount, application.id)
    if account is not None:
        return account.granted_cents
    decision = db.session.execute(
        db.select(Decision).where(
            Decision.application_id == application.id,
            Decision.status == DecisionStatus.APPROVED,
        )
    ).scalar_one()
    return decision.grant_cents


def reduce_granted(actor: User, application: Application, new_grant: int) -> Reduction:
    """Lower the grant (R22, T26): open instalments shrink (last first), freed budget and
    commitments are released and reversed in the ledger. What was already ordered beyond the new
    grant is returned as ``overpaid_cents``; opening a revocation check for it is the caller's
    business (``app.postaward``)."""
    account = db.session.get(GrantAccount, application.id)
    if account is None:
        raise InvalidTransition(_l("Für diesen Antrag gibt es keine Bewilligung."))
    old = account.granted_cents
    floor_cents = max(new_grant, account.ordered_cents)
    if floor_cents >= old:
        reduction = 0
    else:
        reduction = old - floor_cents
        db.session.execute(
            update(GrantAccount)
            .where(
                GrantAccount.application_id == application.id,
                GrantAccount.ordered_cents <= floor_cents,
            )
            .values(granted_cents=floor_cents)
            .execution_options(synchronize_session=False)
        )
        remaining = reduction
        open_rows = (
            db.session.execute(
                db.select(Instalment)
                .where(
                    Instalment.application_id == application.id,
                    Instalment.status.in_([InstalmentStatus.PLANNED, InstalmentStatus.DUE]),
                )
                .order_by(Instalment.number.desc())
            )
            .scalars()
            .all()
        )
        # R12: release exactly what is cut from each instalment's budget year, so that the
        # commitment per year stays equal to what the plan still pays in that year.
        plan: dict[int, int] = {}
        for instalment in open_rows:
            cut = min(remaining, instalment.amount_cents)
            instalment.amount_cents -= cut
            if instalment.amount_cents == 0:
                instalment.status = InstalmentStatus.CANCELLED
            if cut:
                plan[instalment.budget_year] = plan.get(instalment.budget_year, 0) + cut
            remaining -= cut
        if plan:
            release_funds(application.id, plan, kind=CommitmentKind.REDUCTION, actor_id=actor.id)
        kz = account.kassenzeichen
        for year, amount in sorted(plan.items()):
            ledger.post_entry(
                kind=EntryKind.REVERSAL,
                posting_date=today(),
                fiscal_year=year,
                description=f"Kürzung der Zuwendung {application.reference}",
                reference=kz,
                idempotency_key=f"reduction-{application.id}-{old}-{floor_cents}-{year}",
                lines=[
                    ledger.Line(ledger.budget_account(year), amount, application.id),
                    ledger.Line(ledger.committed_account(kz), -amount, application.id),
                ],
                actor_id=actor.id,
            )
    db.session.refresh(account)
    return Reduction(old, new_grant, max(0, account.ordered_cents - new_grant))
