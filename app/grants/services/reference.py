"""Admin maintenance of programme reference data: TV-L caps (R8), application windows (R2),
which document types are required (R4) and the Basiszinssatz (R27). Every change is audited."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from app.auth.models import Role, User
from app.common.audit import record_event
from app.common.errors import DomainError, NotPermitted
from app.common.programme import BASE_RATE_MAX_BP, BASE_RATE_MIN_BP, QUALIFICATION_CAP_GROUP
from app.extensions import db
from app.finance.interest import format_rate_bp, is_half_year_start
from app.finance.models import BaseRate
from app.grants.models import DocumentType, FundingYear, PayScale

CAP_GROUPS = tuple(sorted(set(QUALIFICATION_CAP_GROUP.values())))


def _ensure_admin(user: User) -> None:
    if not user.has_role(Role.ADMIN):
        raise NotPermitted(_l("Nur die Administration pflegt Stammdaten."))


def set_pay_scale(
    admin: User, *, year: int, pay_group: int, monthly_cents: int, source: str
) -> PayScale:
    """Create or change the monthly Stufe-3 cap of a TV-L group for a year (R8).

    :raises DomainError: unknown group, non-positive amount, missing source.
    """
    _ensure_admin(admin)
    if pay_group not in CAP_GROUPS:
        raise DomainError(_l("Obergrenzen gibt es nur für EG 7, 11, 14 und 15."), field="pay_group")
    if not 2000 <= year <= 2100:
        raise DomainError(_l("Bitte geben Sie ein gültiges Jahr an."), field="year")
    if monthly_cents <= 0:
        raise DomainError(_l("Der Betrag muss positiv sein."), field="monthly")
    if not source.strip():
        raise DomainError(
            _l("Bitte geben Sie die Quelle an (z. B. TV-L-Entgelttabelle ab …)."), field="source"
        )
    row = db.session.execute(
        db.select(PayScale).where(PayScale.year == year, PayScale.pay_group == pay_group)
    ).scalar_one_or_none()
    old = row.monthly_cap_cents if row else None
    if row is None:
        row = PayScale(
            year=year, pay_group=pay_group, monthly_cap_cents=monthly_cents, source=source.strip()
        )
        db.session.add(row)
    else:
        row.monthly_cap_cents = monthly_cents
        row.source = source.strip()
    db.session.flush()
    record_event(
        "pay_scale_set",
        "pay_scale",
        f"{year}-{pay_group}",
        actor_id=admin.id,
        old_cents=old,
        new_cents=monthly_cents,
        source=source.strip(),
    )
    return row


def set_window(
    admin: User,
    *,
    year: int,
    opens: date,
    closes: date,
    consultation_months: int | None = None,
) -> FundingYear:
    """Set the application window of a funding year (R2) and, optionally, how many months before
    submission a consultation counts (R1; None keeps the programme default).

    :raises DomainError: the window ends before it opens or does not precede the funding year.
    """
    _ensure_admin(admin)
    if consultation_months is not None and not 1 <= consultation_months <= 120:
        raise DomainError(
            "Bitte geben Sie 1 bis 120 Monate an.", field="consultation_months", rule="R1"
        )
    if closes < opens:
        raise DomainError(_l("Das Fristende liegt vor dem Fristbeginn."), field="closes")
    if closes.year > year:
        raise DomainError(_l("Die Antragsfrist muss vor dem Förderjahr enden."), field="closes")
    row = db.session.get(FundingYear, year)
    if row is None:
        row = FundingYear(year=year, window_opens=opens, window_closes=closes)
        db.session.add(row)
    else:
        row.window_opens, row.window_closes = opens, closes
    row.consultation_valid_months = consultation_months
    db.session.flush()
    record_event(
        "funding_window_set",
        "funding_year",
        year,
        actor_id=admin.id,
        opens=opens,
        closes=closes,
        consultation_months=consultation_months,
    )
    return row


def set_document_required(admin: User, code: str, required: bool) -> DocumentType:
    """Mark a document type as required or optional for submission (R4)."""
    _ensure_admin(admin)
    row = db.session.get(DocumentType, code)
    if row is None:
        raise DomainError(_l("Unbekannte Dokumentart."), field="code")
    row.required = required
    db.session.flush()
    record_event(
        "document_type_required", "document_type", code, actor_id=admin.id, required=required
    )
    return row


def set_base_rate(admin: User, valid_from: date, rate_bp: int, source: str) -> BaseRate:
    """Add or correct the Basiszinssatz (§ 247 BGB) of the half-year starting ``valid_from`` (R27).

    :raises DomainError: ``valid_from`` is not 1 January/1 July (from 2002 on), the rate is
        implausible (outside ±20 %), or the source is missing.
    """
    _ensure_admin(admin)
    if not is_half_year_start(valid_from):
        raise DomainError(
            _l("Der Basiszinssatz ändert sich nur zum 01.01. und 01.07. eines Jahres (§ 247 BGB)."),
            field="valid_from",
        )
    if not 2002 <= valid_from.year <= 2100:
        raise DomainError(
            _l("Bitte geben Sie ein Halbjahr ab 01.01.2002 an (§ 247 BGB gilt seit 2002)."),
            field="valid_from",
        )
    if not BASE_RATE_MIN_BP <= rate_bp <= BASE_RATE_MAX_BP:
        raise DomainError(
            _l("Bitte prüfen Sie den Zinssatz: zulässig ist der Bereich -20,00 % – 20,00 %."),
            field="rate",
        )
    source = source.strip()
    if not source or len(source) > 300:
        raise DomainError(
            _l(
                "Bitte geben Sie die Quelle an (höchstens 300 Zeichen, z. B. "
                "Bekanntmachung der Deutschen Bundesbank)."
            ),
            field="source",
        )
    row = db.session.get(BaseRate, valid_from)
    old = row.rate_bp if row else None
    if row is None:
        row = BaseRate(valid_from=valid_from, rate_bp=rate_bp, source=source)
        db.session.add(row)
    else:
        row.rate_bp, row.source = rate_bp, source
    db.session.flush()
    record_event(
        "base_rate_set",
        "base_rate",
        valid_from.isoformat(),
        actor_id=admin.id,
        old_bp=old,
        new_bp=rate_bp,
        new_percent=format_rate_bp(rate_bp),
        source=source,
    )
    return row
