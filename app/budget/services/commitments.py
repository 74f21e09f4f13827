"""Race-safe commitments (Festlegungen, R12) and releases: one guarded UPDATE per budget year
and VE row, in a SAVEPOINT of the caller's transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.budget.models import BudgetYear, Commitment, CommitmentAuthorisation, CommitmentKind
from app.budget.services.common import (
    BudgetYearBlocked,
    Plan,
    _check_year,
    _closed_error,
    _expire_budget_rows,
    _rowcount,
    _year_exists,
)
from app.common.audit import record_event
from app.common.errors import BudgetCapExceeded, DomainError, NotFound
from app.common.money import format_eur
from app.extensions import db
from app.grants.models import Application

#: The package's logger name (``app.budget.services``), as before the split into modules.
logger = logging.getLogger(__package__)

# --- checks --------------------------------------------------------------------------------------


def _validated_plan(plan: Plan) -> dict[int, int]:
    """Years ascending with positive amounts; zero amounts are dropped.

    :raises DomainError: a year out of range, a negative amount, or nothing to book.
    """
    amounts: dict[int, int] = {}
    for year in sorted(plan):
        amount = plan[year]
        _check_year(year, "plan")
        if not isinstance(amount, int) or amount < 0:
            raise DomainError(
                _("Der Betrag für %(year)s darf nicht negativ sein.", year=year), field="plan"
            )
        if amount:
            amounts[year] = amount
    if not amounts:
        raise DomainError(_("Der Auszahlungsplan enthält keinen Betrag."), field="plan")
    return amounts


def _ensure_application(application_id: int, *, lock: bool = False) -> None:
    """:raises NotFound: no such application."""
    query = select(Application.id).where(Application.id == application_id)
    if lock:
        query = query.with_for_update()  # PostgreSQL; SQLite serialises writers at BEGIN
    if db.session.execute(query).first() is None:
        raise NotFound(_("Der Antrag wurde nicht gefunden."))


def _ensure_open_for_approvals(approval_year: int) -> None:
    """Lock the approval year's row and check R13.

    :raises BudgetYearBlocked: no budget opened, vorläufige Haushaltsführung, or closed.
    """
    row = db.session.execute(
        select(BudgetYear.provisional, BudgetYear.closed)
        .where(BudgetYear.year == approval_year)
        .with_for_update()
    ).first()
    if row is None:
        raise BudgetYearBlocked(
            _(
                "Für das Haushaltsjahr %(year)s ist kein Haushalt eröffnet; "
                "Bewilligungen sind nicht möglich.",
                year=approval_year,
            ),
            rule="R13",
        )
    if row.provisional:
        raise BudgetYearBlocked(
            _(
                "Haushaltsjahr %(year)s: vorläufige Haushaltsführung – Bewilligungen sind bis "
                "zum Inkrafttreten des Haushaltsgesetzes gesperrt.",
                year=approval_year,
            ),
            rule="R13",
        )
    if row.closed:
        raise BudgetYearBlocked(
            _(
                "Das Haushaltsjahr %(year)s ist abgeschlossen; Bewilligungen sind nicht mehr "
                "möglich.",
                year=approval_year,
            ),
            rule="R13",
        )


def _increment_year(year: int, amount: int) -> int:
    """Guarded increment; 1 = booked, 0 = missing row or cap reached."""
    return _rowcount(
        update(BudgetYear)
        .where(
            BudgetYear.year == year,
            BudgetYear.committed_cents + amount
            <= BudgetYear.appropriation_cents + BudgetYear.carryover_cents,
        )
        .values(committed_cents=BudgetYear.committed_cents + amount)
    )


def _increment_authorisation(budget_year: int, target_year: int, amount: int) -> int:
    """Guarded increment of a VE; 1 = booked, 0 = no VE or VE exhausted."""
    return _rowcount(
        update(CommitmentAuthorisation)
        .where(
            CommitmentAuthorisation.budget_year == budget_year,
            CommitmentAuthorisation.target_year == target_year,
            CommitmentAuthorisation.committed_cents + amount
            <= CommitmentAuthorisation.amount_cents,
        )
        .values(committed_cents=CommitmentAuthorisation.committed_cents + amount)
    )


def _shortfalls(amounts: Mapping[int, int], approval_year: int) -> list[str]:
    """German description of every year the plan does not fit into, from current figures."""
    years = {
        row.year: row
        for row in db.session.execute(
            select(
                BudgetYear.year,
                BudgetYear.committed_cents,
                (BudgetYear.appropriation_cents + BudgetYear.carryover_cents).label("cap"),
            ).where(BudgetYear.year.in_(list(amounts)))
        )
    }
    ves = {
        row.target_year: row
        for row in db.session.execute(
            select(
                CommitmentAuthorisation.target_year,
                CommitmentAuthorisation.amount_cents,
                CommitmentAuthorisation.committed_cents,
            ).where(
                CommitmentAuthorisation.budget_year == approval_year,
                CommitmentAuthorisation.target_year.in_(list(amounts)),
            )
        )
    }
    messages: list[str] = []
    for year, amount in amounts.items():
        budget = years.get(year)
        if budget is not None and budget.committed_cents + amount > budget.cap:
            messages.append(
                _(
                    "Haushaltsjahr %(year)s: es fehlen %(missing)s",
                    year=year,
                    missing=format_eur(budget.committed_cents + amount - budget.cap),
                )
            )
        if year == approval_year:
            continue
        ve = ves.get(year)
        if ve is None:
            messages.append(
                _(
                    "Verpflichtungsermächtigung %(year)s für %(target)s fehlt "
                    "(benötigt: %(amount)s)",
                    year=approval_year,
                    target=year,
                    amount=format_eur(amount),
                )
            )
        elif ve.committed_cents + amount > ve.amount_cents:
            messages.append(
                _(
                    "Verpflichtungsermächtigung %(year)s für %(target)s: es fehlen %(missing)s",
                    year=approval_year,
                    target=year,
                    missing=format_eur(ve.committed_cents + amount - ve.amount_cents),
                )
            )
    return messages


def _cap_exceeded(
    amounts: Mapping[int, int], approval_year: int, refused: str
) -> BudgetCapExceeded:
    details = _shortfalls(amounts, approval_year) or [refused]
    return BudgetCapExceeded(
        _(
            "Die Bewilligung übersteigt die verfügbaren Haushaltsmittel: %(details)s.",
            details="; ".join(details),
        ),
        field="plan",
        rule="R12",
    )


def commit_funds(
    application_id: int,
    plan: Plan,
    *,
    approval_year: int,
    actor_id: int | None,
) -> list[Commitment]:
    """Bind the payout plan of an approval in the budget (Festlegung, R12; R13 checked first).

    Per payout year Z: Z == approval year → guarded increment of that ``budget_year`` row;
    Z > approval year → guarded increment of the VE (approval year → Z) and, once Z's budget is
    opened, of Z's row too. The guarded UPDATEs are the gate; the figures read for the error
    message are only an explanation. All in a SAVEPOINT of the caller's transaction; nothing is
    committed.

    :raises NotFound: no such application.
    :raises BudgetYearBlocked: approval year missing, provisional or closed (R13), or a later
        payout year already closed.
    :raises BudgetCapExceeded: a year or VE has not enough left; the message names each short
        year and the missing amount (R12).
    :raises DomainError: an invalid plan (negative amount, payout before the approval year, empty).
    """
    amounts = _validated_plan(plan)
    earliest = min(amounts)
    if earliest < approval_year:
        raise DomainError(
            _(
                "Das Auszahlungsjahr %(year)s liegt vor dem Bewilligungsjahr %(approval)s.",
                year=earliest,
                approval=approval_year,
            ),
            field="plan",
            rule="R12",
        )
    _ensure_application(application_id)
    _ensure_open_for_approvals(approval_year)
    later = [year for year in amounts if year > approval_year]
    if later:
        closed = db.session.execute(
            select(BudgetYear.year)
            .where(BudgetYear.year.in_(later), BudgetYear.closed.is_(True))
            .order_by(BudgetYear.year)
        ).scalar()
        if closed is not None:
            raise BudgetYearBlocked(
                _("Das Haushaltsjahr %(year)s ist abgeschlossen.", year=closed), field="plan"
            )

    failure: str | None = None
    with db.session.begin_nested() as savepoint:
        for year, amount in amounts.items():
            if year > approval_year and _increment_authorisation(approval_year, year, amount) != 1:
                failure = _(
                    "Verpflichtungsermächtigung %(year)s für %(target)s",
                    year=approval_year,
                    target=year,
                )
                break
            booked = _increment_year(year, amount)
            if booked != 1 and (year == approval_year or _year_exists(year)):
                failure = _("Haushaltsjahr %(year)s", year=year)
                break
        if failure is not None:
            savepoint.rollback()
        else:
            rows = [
                Commitment(
                    application_id=application_id,
                    payout_year=year,
                    authorised_in=None if year == approval_year else approval_year,
                    amount_cents=amount,
                    kind=CommitmentKind.APPROVAL,
                    created_by_id=actor_id,
                )
                for year, amount in amounts.items()
            ]
            db.session.add_all(rows)
    _expire_budget_rows()
    if failure is not None:
        logger.info(
            "budget_cap_exceeded",
            extra={"application_id": application_id, "budget_year": approval_year},
        )
        raise _cap_exceeded(amounts, approval_year, failure)
    record_event(
        "budget_committed",
        "application",
        application_id,
        actor_id=actor_id,
        approval_year=approval_year,
        plan={str(year): amount for year, amount in amounts.items()},
        total_cents=sum(amounts.values()),
    )
    logger.info(
        "budget_committed",
        extra={"application_id": application_id, "budget_year": approval_year},
    )
    return rows


def _held_by_source(application_id: int, years: Sequence[int]) -> dict[tuple[int, int | None], int]:
    """Net amount the application holds per (payout year, authorised_in)."""
    rows = db.session.execute(
        select(
            Commitment.payout_year,
            Commitment.authorised_in,
            func.sum(Commitment.amount_cents).label("net"),
        )
        .where(Commitment.application_id == application_id, Commitment.payout_year.in_(years))
        .group_by(Commitment.payout_year, Commitment.authorised_in)
    )
    return {(row.payout_year, row.authorised_in): int(row.net) for row in rows}


def committed_plan(application_id: int) -> dict[int, int]:
    """Net amount still bound for the application per payout year (years with a balance only)."""
    rows = db.session.execute(
        select(Commitment.payout_year, func.sum(Commitment.amount_cents).label("net"))
        .where(Commitment.application_id == application_id)
        .group_by(Commitment.payout_year)
        .order_by(Commitment.payout_year)
    )
    return {row.payout_year: int(row.net) for row in rows if row.net}


def _allocate(
    amounts: Mapping[int, int], held: Mapping[tuple[int, int | None], int]
) -> list[tuple[int, int | None, int]]:
    """Split each release over the sources the year was bound from.

    The approval-year part (``authorised_in`` NULL) goes first, then VEs, newest first.

    :raises DomainError: more would be released than the application holds for a year.
    """
    parts: list[tuple[int, int | None, int]] = []
    for year, amount in amounts.items():
        sources = sorted(
            ((source, net) for (payout, source), net in held.items() if payout == year and net > 0),
            key=lambda item: (item[0] is not None, -(item[0] or 0)),
        )
        total = sum(net for _source, net in sources)
        if amount > total:
            raise DomainError(
                _(
                    "Für das Haushaltsjahr %(year)s sind für diesen Antrag nur %(held)s gebunden; "
                    "%(amount)s können nicht freigegeben werden.",
                    year=year,
                    held=format_eur(total),
                    amount=format_eur(amount),
                ),
                field="plan",
            )
        rest = amount
        for source, net in sources:
            part = min(rest, net)
            if part:
                parts.append((year, source, part))
                rest -= part
            if not rest:
                break
    return parts


def release_funds(
    application_id: int,
    plan: Plan,
    *,
    kind: CommitmentKind,
    actor_id: int | None,
) -> list[Commitment]:
    """Release bound funds after a reduction or revocation: negative ledger rows and guarded
    decrements (``committed - a >= 0``) of the budget years and VEs they were bound from.

    Use ``committed_plan(application_id)`` as ``plan`` for a full revocation.

    :raises NotFound: no such application.
    :raises DomainError: ``kind`` is not a reduction/revocation, an invalid plan, more than the
        application holds, a closed year, or a figure that no longer matches the ledger (run
        ``flask budget check``).
    """
    if kind not in (CommitmentKind.REDUCTION, CommitmentKind.REVOCATION):
        raise DomainError(_("Freigaben sind nur als Kürzung oder Widerruf möglich."), field="kind")
    amounts = _validated_plan(plan)
    _ensure_application(application_id, lock=True)
    parts = _allocate(amounts, _held_by_source(application_id, list(amounts)))
    closed = (
        db.session.execute(
            select(BudgetYear.year).where(
                BudgetYear.year.in_(list(amounts)), BudgetYear.closed.is_(True)
            )
        )
        .scalars()
        .first()
    )
    if closed is not None:
        raise _closed_error(closed, "plan")

    inconsistent: str | None = None
    with db.session.begin_nested() as savepoint:
        for year, amount in amounts.items():
            for part_year, source, part in sorted(parts, key=lambda p: (p[0], p[1] or 0)):
                if part_year != year or source is None:
                    continue
                done = _rowcount(
                    update(CommitmentAuthorisation)
                    .where(
                        CommitmentAuthorisation.budget_year == source,
                        CommitmentAuthorisation.target_year == year,
                        CommitmentAuthorisation.committed_cents - part >= 0,
                    )
                    .values(committed_cents=CommitmentAuthorisation.committed_cents - part)
                )
                if done != 1:
                    inconsistent = _(
                        "Verpflichtungsermächtigung %(year)s für %(target)s",
                        year=source,
                        target=year,
                    )
                    break
            if inconsistent:
                break
            done = _rowcount(
                update(BudgetYear)
                .where(BudgetYear.year == year, BudgetYear.committed_cents - amount >= 0)
                .values(committed_cents=BudgetYear.committed_cents - amount)
            )
            if done != 1 and _year_exists(year):
                inconsistent = _("Haushaltsjahr %(year)s", year=year)
                break
        if inconsistent is not None:
            savepoint.rollback()
        else:
            rows = [
                Commitment(
                    application_id=application_id,
                    payout_year=year,
                    authorised_in=source,
                    amount_cents=-part,
                    kind=kind,
                    created_by_id=actor_id,
                )
                for year, source, part in parts
            ]
            db.session.add_all(rows)
    _expire_budget_rows()
    if inconsistent is not None:
        logger.error(
            "budget_release_inconsistent",
            extra={"application_id": application_id},
        )
        raise DomainError(
            _(
                "%(subject)s: die gebundenen Mittel stimmen nicht mit den Festlegungen überein; "
                "bitte die Haushaltsprüfung ausführen.",
                subject=inconsistent,
            ),
            field="plan",
        )
    record_event(
        "budget_released",
        "application",
        application_id,
        actor_id=actor_id,
        kind=kind.value,
        plan={str(year): amount for year, amount in amounts.items()},
        total_cents=sum(amounts.values()),
    )
    logger.info("budget_released", extra={"application_id": application_id})
    return rows
