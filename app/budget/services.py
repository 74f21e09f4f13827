"""Budget services: open years, VE, Ausgabereste and the R13 flag; commit and release funds (R12).

Rules (RULES.md §6, R12, R13; RELIABILITY §4; HOUSE-STYLE conventions 7 and 8):

* Every change of a committed figure is **one guarded UPDATE** whose WHERE clause contains the cap
  (``committed + a <= cap``, ``committed - a >= 0``); ``rowcount != 1`` means refused. The CHECK
  constraints of the tables are the backstop. The same SQL holds the cap on SQLite (where the
  app's ``BEGIN IMMEDIATE`` listener serialises writers anyway) and on PostgreSQL (where the
  UPDATE takes the row lock and re-evaluates the WHERE clause on the newest row version).
* Rows are locked in one global order, so concurrent approvals, releases and ``open_year``
  cannot deadlock: the application row first (releases; the approval service's status
  transition), then per payout year ascending the VE rows aimed at that year (by granting year)
  before that year's ``budget_year`` row. ``open_year`` locks the VE rows aimed at the new year
  before it sums their commitments, so an approval under a VE cannot slip past the new row.
* Services flush but never commit (convention 7); ``commit_funds`` and ``release_funds`` run their
  writes in a SAVEPOINT, so a refused call leaves the caller's transaction as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError

from app.budget.models import (
    MAX_YEAR,
    MIN_YEAR,
    BudgetYear,
    Commitment,
    CommitmentAuthorisation,
    CommitmentKind,
)
from app.common.audit import record_event
from app.common.db import Cents
from app.common.errors import BudgetCapExceeded, DomainError, NotFound
from app.common.money import format_eur
from app.extensions import db
from app.grants.models import Application
from app.orgs.models import Organisation

logger = logging.getLogger(__name__)

#: Payout plan: payout year → amount in cents.
Plan = Mapping[int, int]


class BudgetYearBlocked(DomainError):
    """Approvals in the year are not possible: no budget, vorläufige Haushaltsführung or closed
    (R13)."""


# --- helpers ---------------------------------------------------------------------------------


def _check_year(year: int, field_name: str = "year") -> None:
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise DomainError(
            _(
                "Bitte geben Sie ein Haushaltsjahr zwischen %(low)s und %(high)s an.",
                low=MIN_YEAR,
                high=MAX_YEAR,
            ),
            field=field_name,
        )


def _check_amount(amount_cents: int, field_name: str) -> None:
    if not isinstance(amount_cents, int) or amount_cents < 0:
        raise DomainError(_("Der Betrag darf nicht negativ sein."), field=field_name)


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


def _rowcount(statement: Any) -> int:
    result: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        statement.execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def _expire_budget_rows() -> None:
    """Core UPDATEs bypass the identity map: expire cached budget rows so reads are fresh."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, BudgetYear | CommitmentAuthorisation):
            db.session.expire(obj)


def _year_exists(year: int) -> bool:
    return (
        db.session.execute(select(BudgetYear.year).where(BudgetYear.year == year)).first()
        is not None
    )


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


def _closed_error(year: int, field_name: str = "year") -> DomainError:
    return DomainError(
        _("Das Haushaltsjahr %(year)s ist abgeschlossen.", year=year), field=field_name
    )


def _missing_year_error(year: int, field_name: str = "year") -> DomainError:
    return DomainError(
        _("Für das Haushaltsjahr %(year)s ist kein Haushalt eröffnet.", year=year),
        field=field_name,
    )


# --- administration of budget years -------------------------------------------------------------


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


# --- commitments ---------------------------------------------------------------------------------


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


# --- read models ---------------------------------------------------------------------------------


def available(year: int) -> Cents:
    """Ansatz + Ausgabereste − committed for ``year`` (R12).

    :raises DomainError: no budget opened for the year.
    """
    value = db.session.execute(
        select(
            BudgetYear.appropriation_cents + BudgetYear.carryover_cents - BudgetYear.committed_cents
        ).where(BudgetYear.year == year)
    ).scalar_one_or_none()
    if value is None:
        raise _missing_year_error(year)
    return int(value)


@dataclass(frozen=True)
class AuthorisationLine:
    """One VE with its use."""

    budget_year: int
    target_year: int
    amount_cents: Cents
    committed_cents: Cents

    @property
    def available_cents(self) -> Cents:
        return self.amount_cents - self.committed_cents


@dataclass(frozen=True)
class RegionTotal:
    """Committed funds of one Landkreis / kreisfreie Stadt or Polizeidirektion."""

    name: str
    committed_cents: Cents


@dataclass(frozen=True)
class YearOverview:
    """Figures of one budget year for the overview page and ``flask budget show``."""

    year: int
    appropriation_cents: Cents
    carryover_cents: Cents
    committed_cents: Cents
    provisional: bool
    closed: bool
    #: VEs granted by this year's budget law (for later years).
    authorisations: list[AuthorisationLine] = field(default_factory=list)
    #: VEs of earlier years that bind this year.
    inbound: list[AuthorisationLine] = field(default_factory=list)
    by_kreis: list[RegionTotal] = field(default_factory=list)
    by_polizeidirektion: list[RegionTotal] = field(default_factory=list)

    @property
    def cap_cents(self) -> Cents:
        return self.appropriation_cents + self.carryover_cents

    @property
    def available_cents(self) -> Cents:
        return self.cap_cents - self.committed_cents


def _region_totals(column: Any, years: Sequence[int] | None) -> dict[int, list[RegionTotal]]:
    total = func.sum(Commitment.amount_cents)
    query = (
        select(Commitment.payout_year, column.label("name"), total.label("total"))
        .join(Application, Application.id == Commitment.application_id)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .group_by(Commitment.payout_year, column)
        .having(total != 0)
        .order_by(Commitment.payout_year, total.desc(), column)
    )
    if years is not None:
        query = query.where(Commitment.payout_year.in_(list(years)))
    result: dict[int, list[RegionTotal]] = {}
    for row in db.session.execute(query):
        result.setdefault(row.payout_year, []).append(RegionTotal(row.name, int(row.total)))
    return result


def budget_overview(years: Sequence[int] | None = None) -> list[YearOverview]:
    """All (or the given) budget years with VEs and committed funds per Landkreis and per
    Polizeidirektion. Four SQL statements whatever the number of years and commitments."""
    year_query = select(BudgetYear).order_by(BudgetYear.year)
    ve_query = select(CommitmentAuthorisation).order_by(
        CommitmentAuthorisation.budget_year, CommitmentAuthorisation.target_year
    )
    if years is not None:
        year_query = year_query.where(BudgetYear.year.in_(list(years)))
        ve_query = ve_query.where(
            (CommitmentAuthorisation.budget_year.in_(list(years)))
            | (CommitmentAuthorisation.target_year.in_(list(years)))
        )
    budget_years = db.session.execute(year_query).scalars().all()
    lines = [
        AuthorisationLine(ve.budget_year, ve.target_year, ve.amount_cents, ve.committed_cents)
        for ve in db.session.execute(ve_query).scalars()
    ]
    by_kreis = _region_totals(Organisation.kreis_name, years)
    by_pd = _region_totals(Organisation.polizeidirektion, years)
    return [
        YearOverview(
            year=by.year,
            appropriation_cents=by.appropriation_cents,
            carryover_cents=by.carryover_cents,
            committed_cents=by.committed_cents,
            provisional=by.provisional,
            closed=by.closed,
            authorisations=[line for line in lines if line.budget_year == by.year],
            inbound=[line for line in lines if line.target_year == by.year],
            by_kreis=by_kreis.get(by.year, []),
            by_polizeidirektion=by_pd.get(by.year, []),
        )
        for by in budget_years
    ]


def year_overview(year: int) -> YearOverview:
    """One budget year's figures.

    :raises DomainError: no budget opened for the year.
    """
    found = budget_overview([year])
    if not found:
        raise _missing_year_error(year)
    return found[0]


# --- self-check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    """One violated budget invariant."""

    subject: str
    problem: str
    expected: int | None = None
    actual: int | None = None

    def __str__(self) -> str:
        if self.expected is None or self.actual is None:
            return f"{self.subject}: {self.problem}"
        return _(
            "%(subject)s: %(problem)s (erwartet %(expected)s, gespeichert %(actual)s)",
            subject=self.subject,
            problem=self.problem,
            expected=format_eur(self.expected),
            actual=format_eur(self.actual),
        )


def self_check() -> list[Mismatch]:
    """Compare the cached figures with the commitment ledger (RELIABILITY §3.5, §4).

    Checks: ``budget_year.committed`` == Σ commitments of the payout year and ≤ cap;
    ``commitment_authorisation.committed`` == Σ commitments under it and ≤ amount; no
    same-year commitment without its budget year; no application holding a negative balance.
    """
    problems: list[Mismatch] = []
    per_year = (
        select(Commitment.payout_year, func.sum(Commitment.amount_cents).label("total"))
        .group_by(Commitment.payout_year)
        .subquery()
    )
    for row in db.session.execute(
        select(
            BudgetYear.year,
            BudgetYear.committed_cents,
            (BudgetYear.appropriation_cents + BudgetYear.carryover_cents).label("cap"),
            func.coalesce(per_year.c.total, 0).label("ledger"),
        )
        .outerjoin(per_year, per_year.c.payout_year == BudgetYear.year)
        .order_by(BudgetYear.year)
    ):
        subject = _("Haushaltsjahr %(year)s", year=row.year)
        if row.committed_cents != row.ledger:
            problems.append(
                Mismatch(
                    subject,
                    _("gebundene Mittel weichen von der Summe der Festlegungen ab"),
                    int(row.ledger),
                    int(row.committed_cents),
                )
            )
        if row.committed_cents > row.cap:
            problems.append(
                Mismatch(
                    subject,
                    _("gebundene Mittel übersteigen Ansatz und Ausgabereste"),
                    int(row.cap),
                    int(row.committed_cents),
                )
            )
    orphan = db.session.execute(
        select(Commitment.payout_year, func.sum(Commitment.amount_cents).label("total"))
        .where(
            Commitment.authorised_in.is_(None),
            Commitment.payout_year.not_in(select(BudgetYear.year)),
        )
        .group_by(Commitment.payout_year)
        .order_by(Commitment.payout_year)
    )
    for row in orphan:
        problems.append(
            Mismatch(
                _("Haushaltsjahr %(year)s", year=row.payout_year),
                _("Festlegungen ohne eröffnetes Haushaltsjahr"),
                0,
                int(row.total),
            )
        )
    per_ve = (
        select(
            Commitment.authorised_in,
            Commitment.payout_year,
            func.sum(Commitment.amount_cents).label("total"),
        )
        .where(Commitment.authorised_in.is_not(None))
        .group_by(Commitment.authorised_in, Commitment.payout_year)
        .subquery()
    )
    for row in db.session.execute(
        select(
            CommitmentAuthorisation.budget_year,
            CommitmentAuthorisation.target_year,
            CommitmentAuthorisation.amount_cents,
            CommitmentAuthorisation.committed_cents,
            func.coalesce(per_ve.c.total, 0).label("ledger"),
        )
        .outerjoin(
            per_ve,
            (per_ve.c.authorised_in == CommitmentAuthorisation.budget_year)
            & (per_ve.c.payout_year == CommitmentAuthorisation.target_year),
        )
        .order_by(CommitmentAuthorisation.budget_year, CommitmentAuthorisation.target_year)
    ):
        subject = _(
            "Verpflichtungsermächtigung %(year)s für %(target)s",
            year=row.budget_year,
            target=row.target_year,
        )
        if row.committed_cents != row.ledger:
            problems.append(
                Mismatch(
                    subject,
                    _("gebundene Mittel weichen von der Summe der Festlegungen ab"),
                    int(row.ledger),
                    int(row.committed_cents),
                )
            )
        if row.committed_cents > row.amount_cents:
            problems.append(
                Mismatch(
                    subject,
                    _("gebundene Mittel übersteigen die Ermächtigung"),
                    int(row.amount_cents),
                    int(row.committed_cents),
                )
            )
    negative = db.session.execute(
        select(
            Commitment.application_id,
            Commitment.payout_year,
            func.sum(Commitment.amount_cents).label("total"),
        )
        .group_by(Commitment.application_id, Commitment.payout_year, Commitment.authorised_in)
        .having(func.sum(Commitment.amount_cents) < 0)
        .order_by(Commitment.application_id, Commitment.payout_year)
    )
    for row in negative:
        problems.append(
            Mismatch(
                _(
                    "Antrag %(id)s, Haushaltsjahr %(year)s",
                    id=row.application_id,
                    year=row.payout_year,
                ),
                _("mehr freigegeben als gebunden"),
                0,
                int(row.total),
            )
        )
    return problems
