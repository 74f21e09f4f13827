"""Self-check of the cached budget figures against the commitment ledger (``flask budget
check``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.budget.models import BudgetYear, Commitment, CommitmentAuthorisation
from app.common.money import format_eur
from app.extensions import db


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
