"""Shared pieces of the budget services: the plan type, the R13 error, argument checks, the
guarded-UPDATE row count and the usual error messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import CursorResult, select

from app.budget.models import MAX_YEAR, MIN_YEAR, BudgetYear, CommitmentAuthorisation
from app.common.errors import DomainError
from app.extensions import db

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


def _closed_error(year: int, field_name: str = "year") -> DomainError:
    return DomainError(
        _("Das Haushaltsjahr %(year)s ist abgeschlossen.", year=year), field=field_name
    )


def _missing_year_error(year: int, field_name: str = "year") -> DomainError:
    return DomainError(
        _("Für das Haushaltsjahr %(year)s ist kein Haushalt eröffnet.", year=year),
        field=field_name,
    )
