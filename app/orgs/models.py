"""Organisation model: the applicant bodies, with reference-data validity dates (R35)."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.db import TimestampMixin
from app.extensions import Model


class OrgKind(enum.StrEnum):
    """Legal form of an applicant (R3)."""

    GEMEINDE = "gemeinde"
    LANDKREIS = "landkreis"
    EIGENBETRIEB = "eigenbetrieb"


class Organisation(TimestampMixin, Model):
    """A Gemeinde, a Landkreis or an Eigenbetrieb of one of them.

    Gemeinden carry the 8-digit AGS and 12-digit ARS, Landkreise the 5-digit Kreis key. Reference
    rows are never edited in place when a municipality merges: the old row gets ``valid_to`` and a
    new row is added (R35).
    """

    __tablename__ = "organisation"
    __table_args__ = (
        UniqueConstraint("kind", "ags", "valid_from", name="uq_organisation_kind_ags_valid_from"),
        CheckConstraint("population IS NULL OR population >= 0", name="population_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrgKind] = mapped_column(
        Enum(OrgKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    name: Mapped[str] = mapped_column(String(200))
    ags: Mapped[str | None] = mapped_column(String(8), index=True)
    ars: Mapped[str | None] = mapped_column(String(12))
    population: Mapped[int | None]
    kreis_key: Mapped[str] = mapped_column(String(5), index=True)
    kreis_name: Mapped[str] = mapped_column(String(100))
    kreisfrei: Mapped[bool] = mapped_column(default=False)
    polizeidirektion: Mapped[str] = mapped_column(String(50), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    valid_from: Mapped[date]
    valid_to: Mapped[date | None]
    #: R35: the organisation that took over this one's territory after ``valid_to`` (a merger).
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    # Contact data the organisation maintains itself.
    address: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(254))

    parent: Mapped[Organisation | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    successor: Mapped[Organisation | None] = relationship(
        remote_side=[id], foreign_keys=[successor_id]
    )

    @property
    def display_name(self) -> str:
        """Name with its legal form for Landkreise ("Landkreis Görlitz")."""
        if self.kind is OrgKind.LANDKREIS:
            return f"Landkreis {self.name}"
        return self.name

    @property
    def letter_name(self) -> str:
        """The name as a letter addresses it: "Plauen, Stadt" → "Stadt Plauen",
        "Freiberg, Universitätsstadt" → "Universitätsstadt Freiberg", "Landkreis Görlitz"."""
        if self.kind is OrgKind.LANDKREIS:
            return f"Landkreis {self.name}"
        place, sep, form = self.name.rpartition(", ")
        return f"{form} {place}" if sep and form and " " not in form else self.name

    @property
    def address_lines(self) -> list[str]:
        """The postal address maintained by the organisation, one line each."""
        return [line.strip() for line in (self.address or "").splitlines() if line.strip()]

    def is_valid_on(self, day: date) -> bool:
        """Whether the reference row is in force on ``day`` (R35)."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)
