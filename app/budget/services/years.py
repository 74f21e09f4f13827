"""Administration of budget years: open a year, VEs, Ausgabereste, vorläufige Haushaltsführung
(R13) and the Jahresabschluss."""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.budget.models import BudgetYear, Commitment, CommitmentAuthorisation
from app.budget.services.common import (
    _check_amount,
    _check_year,
    _closed_error,
    _expire_budget_rows,
    _missing_year_error,
    _rowcount,
    _year_exists,
)
from app.common.audit import record_event
from app.common.db import Cents
from app.common.errors import DomainError
from app.common.money import format_eur
from app.extensions import db

#: The package's logger name (``app.budget.services``), as before the split into modules.
logger = logging.getLogger(__package__)


def open_year(
    year: int,
    appropriation_cents: Cents,
    carryover_cents: Cents = 0,
    provisional: bool = False,
    *,
    actor_id: int | None = None,
) -> BudgetYear:
    """Open a Haushaltsjahr with its Ansatz and Ausgabereste.

    ``committed_cents`` starts with Σ of the commitments already made for this payout year under
    VEs of earlier years. The VE rows for the year are locked first, so an approval under such a
    VE cannot slip in between the sum and the insert (PostgreSQL; SQLite serialises writers).

    :raises DomainError: the year exists, a figure is out of range, or the commitments already
        made under VEs exceed Ansatz + Ausgabereste.
    """
    _check_year(year)
    _check_amount(appropriation_cents, "appropriation")
    _check_amount(carryover_cents, "carryover")
    if _year_exists(year):
        raise DomainError(
            _("Das Haushaltsjahr %(year)s ist bereits eröffnet.", year=year), field="year"
        )
    db.session.execute(
        select(CommitmentAuthorisation.id)
        .where(CommitmentAuthorisation.target_year == year)
        .order_by(CommitmentAuthorisation.budget_year)
        .with_for_update()
    ).all()
    committed = int(  # SUM(bigint) is NUMERIC on PostgreSQL
        db.session.execute(
            select(func.coalesce(func.sum(Commitment.amount_cents), 0)).where(
                Commitment.payout_year == year
            )
        ).scalar_one()
    )
    if committed > appropriation_cents + carryover_cents:
        raise DomainError(
            _(
                "Für %(year)s sind über Verpflichtungsermächtigungen bereits %(committed)s "
                "gebunden; Ansatz und Ausgabereste müssen mindestens diesen Betrag decken.",
                year=year,
                committed=format_eur(committed),
            ),
            field="appropriation",
            rule="R12",
        )
    budget_year = BudgetYear(
        year=year,
        appropriation_cents=appropriation_cents,
        carryover_cents=carryover_cents,
        committed_cents=committed,
        provisional=provisional,
        closed=False,
    )
    try:
        with db.session.begin_nested():
            db.session.add(budget_year)
    except IntegrityError:
        raise DomainError(
            _("Das Haushaltsjahr %(year)s ist bereits eröffnet.", year=year), field="year"
        ) from None
    record_event(
        "budget_year_opened",
        "budget_year",
        year,
        actor_id=actor_id,
        appropriation_cents=appropriation_cents,
        carryover_cents=carryover_cents,
        committed_cents=committed,
        provisional=provisional,
    )
    logger.info("budget_year_opened", extra={"budget_year": year})
    return budget_year


def set_authorisation(
    budget_year: int,
    target_year: int,
    amount_cents: Cents,
    *,
    actor_id: int | None = None,
) -> CommitmentAuthorisation:
    """Create or change the VE that ``budget_year``'s budget law grants for ``target_year``.

    Lowering a VE below what is already committed under it is refused (guarded UPDATE).

    :raises DomainError: years out of order or range, the budget year is missing or closed, or
        the new amount is below the commitments already made under the VE.
    """
    _check_year(budget_year, "budget_year")
    _check_year(target_year, "target_year")
    _check_amount(amount_cents, "amount")
    if target_year <= budget_year:
        raise DomainError(
            _("Das Zieljahr einer Verpflichtungsermächtigung muss nach dem Haushaltsjahr liegen."),
            field="target_year",
        )
    row = db.session.execute(
        select(BudgetYear.closed).where(BudgetYear.year == budget_year)
    ).first()
    if row is None:
        raise _missing_year_error(budget_year, "budget_year")
    if row.closed:
        raise _closed_error(budget_year, "budget_year")
    where = (
        CommitmentAuthorisation.budget_year == budget_year,
        CommitmentAuthorisation.target_year == target_year,
    )
    existing = db.session.execute(select(CommitmentAuthorisation.id).where(*where)).first()
    if existing is None:
        ve = CommitmentAuthorisation(
            budget_year=budget_year,
            target_year=target_year,
            amount_cents=amount_cents,
            committed_cents=0,
        )
        try:
            with db.session.begin_nested():
                db.session.add(ve)
        except IntegrityError:
            raise DomainError(
                _("Die Verpflichtungsermächtigung wurde gleichzeitig angelegt; bitte erneut."),
                field="amount",
            ) from None
    else:
        changed = _rowcount(
            update(CommitmentAuthorisation)
            .where(*where, CommitmentAuthorisation.committed_cents <= amount_cents)
            .values(amount_cents=amount_cents)
        )
        if changed != 1:
            committed = db.session.execute(
                select(CommitmentAuthorisation.committed_cents).where(*where)
            ).scalar_one()
            raise DomainError(
                _(
                    "Unter der Verpflichtungsermächtigung %(year)s für %(target)s sind bereits "
                    "%(committed)s gebunden; sie kann nicht darunter gesenkt werden.",
                    year=budget_year,
                    target=target_year,
                    committed=format_eur(committed),
                ),
                field="amount",
                rule="R12",
            )
        _expire_budget_rows()
        ve = db.session.execute(select(CommitmentAuthorisation).where(*where)).scalar_one()
    record_event(
        "budget_authorisation_set",
        "budget_year",
        budget_year,
        actor_id=actor_id,
        target_year=target_year,
        amount_cents=amount_cents,
    )
    logger.info(
        "budget_authorisation_set", extra={"budget_year": budget_year, "target_year": target_year}
    )
    return ve


def _year_update_refused(year: int) -> DomainError | None:
    """Explain why a guarded UPDATE on an existing-or-not budget year matched no row."""
    row = db.session.execute(select(BudgetYear.closed).where(BudgetYear.year == year)).first()
    if row is None:
        return _missing_year_error(year)
    if row.closed:
        return _closed_error(year)
    return None


def set_carryover(year: int, carryover_cents: Cents, *, actor_id: int | None = None) -> None:
    """Set the approved Ausgabereste of a year (§ 45 SäHO).

    :raises DomainError: the year is missing or closed, or committed funds would exceed the cap.
    """
    _check_year(year)
    _check_amount(carryover_cents, "carryover")
    changed = _rowcount(
        update(BudgetYear)
        .where(
            BudgetYear.year == year,
            BudgetYear.closed.is_(False),
            BudgetYear.committed_cents <= BudgetYear.appropriation_cents + carryover_cents,
        )
        .values(carryover_cents=carryover_cents)
    )
    if changed != 1:
        raise _year_update_refused(year) or DomainError(
            _(
                "Die bereits gebundenen Mittel übersteigen Ansatz und Ausgabereste; die "
                "Ausgabereste können nicht so weit gesenkt werden.",
            ),
            field="carryover",
            rule="R12",
        )
    _expire_budget_rows()
    record_event(
        "budget_carryover_set",
        "budget_year",
        year,
        actor_id=actor_id,
        carryover_cents=carryover_cents,
    )


def set_provisional(year: int, flag: bool, *, actor_id: int | None = None) -> None:
    """Switch vorläufige Haushaltsführung on or off; while on, approvals are blocked (R13).

    :raises DomainError: the year is missing or closed.
    """
    _check_year(year)
    changed = _rowcount(
        update(BudgetYear)
        .where(BudgetYear.year == year, BudgetYear.closed.is_(False))
        .values(provisional=bool(flag))
    )
    if changed != 1:
        raise _year_update_refused(year) or _missing_year_error(year)
    _expire_budget_rows()
    record_event("budget_provisional_set", "budget_year", year, actor_id=actor_id, provisional=flag)


def close_year(year: int, *, actor_id: int | None = None) -> None:
    """Close a Haushaltsjahr (Jahresabschluss): afterwards neither commitments nor ledger
    postings with that fiscal year are accepted (``app.finance.services.ledger``).

    :raises DomainError: the year is missing or already closed.
    """
    _check_year(year)
    changed = _rowcount(
        update(BudgetYear)
        .where(BudgetYear.year == year, BudgetYear.closed.is_(False))
        .values(closed=True)
    )
    if changed != 1:
        raise _year_update_refused(year) or _missing_year_error(year)
    _expire_budget_rows()
    record_event("budget_year_closed", "budget_year", year, actor_id=actor_id)
