"""Read-only organisation look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_

from app.common.db import today
from app.common.security import MAX_ID
from app.extensions import db
from app.orgs.models import Organisation, OrgKind


def active_organisations(on: date | None = None) -> Sequence[Organisation]:
    """Organisations valid on ``on`` (default today), Landkreise first, then by name."""
    day = on or today()
    return (
        db.session.execute(
            db.select(Organisation)
            .where(Organisation.valid_from <= day)
            .where(or_(Organisation.valid_to.is_(None), Organisation.valid_to >= day))
            .order_by((Organisation.kind != OrgKind.LANDKREIS), Organisation.name)
        )
        .scalars()
        .all()
    )


def search_organisations(term: str, on: date | None = None) -> Sequence[Organisation]:
    """Organisations valid on ``on`` whose name contains ``term`` or whose AGS/Kreis key starts
    with it (case-insensitive); all of them for an empty term."""
    term = term.strip()[:100]
    if not term:
        return active_organisations(on)
    needle = term.casefold()
    return [
        org
        for org in active_organisations(on)
        if needle in org.display_name.casefold() or (org.ags or org.kreis_key).startswith(term)
    ]


def get_organisation(raw_id: str | None) -> Organisation | None:
    """Organisation by a (possibly empty or malformed) id from a form."""
    if not raw_id or not (raw_id.isascii() and raw_id.isdigit()) or not 0 < int(raw_id) <= MAX_ID:
        return None
    return db.session.get(Organisation, int(raw_id))


def by_key(key: str, on: date | None = None) -> Organisation | None:
    """The organisation valid on ``on`` with AGS (8 digits) or Kreis key (5 digits)."""
    day = on or today()
    return db.session.execute(
        db.select(Organisation)
        .where(Organisation.ags == key)
        .where(Organisation.valid_from <= day)
        .where(or_(Organisation.valid_to.is_(None), Organisation.valid_to >= day))
    ).scalar_one_or_none()
