"""Load the bundled reference data (419 Gemeinden, 10 Landkreise) idempotently (R3, R35)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult

from app.auth.models import Invitation, User
from app.common.audit import record_event
from app.extensions import db
from app.orgs.models import Organisation, OrgKind

DATA_FILE = Path(__file__).resolve().parent / "data" / "gemeinden_sachsen_zensus2022.csv"
#: Gebietsstand of the Zensus file.
ZENSUS_VALID_FROM = date(2022, 5, 15)
ATTRIBUTION = "Zensus 2022, Statistische Ämter des Bundes und der Länder, dl-de/by-2-0"

#: The 10 Saxon Landkreise (RULES.md §11): key, name, Polizeidirektion.
LANDKREISE: tuple[tuple[str, str, str], ...] = (
    ("14521", "Erzgebirgskreis", "Chemnitz"),
    ("14522", "Mittelsachsen", "Chemnitz"),
    ("14523", "Vogtlandkreis", "Zwickau"),
    ("14524", "Zwickau", "Zwickau"),
    ("14625", "Bautzen", "Görlitz"),
    ("14626", "Görlitz", "Görlitz"),
    ("14627", "Meißen", "Dresden"),
    ("14628", "Sächsische Schweiz-Osterzgebirge", "Dresden"),
    ("14729", "Leipzig", "Leipzig"),
    ("14730", "Nordsachsen", "Leipzig"),
)


@dataclass
class ImportResult:
    gemeinden_created: int = 0
    landkreise_created: int = 0
    unchanged: int = 0
    updated: int = 0


def read_gemeinden(path: Path = DATA_FILE) -> list[dict[str, str]]:
    """Rows of the bundled CSV as strings (no type guessing)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def import_reference_data(path: Path = DATA_FILE) -> ImportResult:
    """Insert missing reference rows and refresh changed attributes of existing ones.

    Rows are identified by (kind, key, valid_from); running the import twice changes nothing.
    """
    result = ImportResult()
    existing = {
        (o.kind, o.ags, o.valid_from): o
        for o in db.session.execute(
            db.select(Organisation).where(Organisation.kind != OrgKind.EIGENBETRIEB)
        ).scalars()
    }
    for kreis_key, name, pd in LANDKREISE:
        values = {
            "name": name,
            "kreis_key": kreis_key,
            "kreis_name": name,
            "kreisfrei": False,
            "polizeidirektion": pd,
            "ars": None,
            "population": None,
        }
        _upsert(existing, OrgKind.LANDKREIS, kreis_key, values, result, "landkreise_created")
    for row in read_gemeinden(path):
        if not row["ags8"].startswith("14"):
            raise ValueError(f"not a Saxon key: {row['ags8']}")
        values = {
            "name": row["place"],
            "ars": row["ags"],
            "population": int(row["population"]),
            "kreis_key": row["kreis_ags5"],
            "kreis_name": row["kreis_name"],
            "kreisfrei": row["kreisfrei"] == "1",
            "polizeidirektion": row["polizeidirektion"],
        }
        _upsert(existing, OrgKind.GEMEINDE, row["ags8"], values, result, "gemeinden_created")
    db.session.flush()
    return result


def _upsert(
    existing: dict[tuple[OrgKind, str | None, date], Organisation],
    kind: OrgKind,
    key: str,
    values: dict[str, object],
    result: ImportResult,
    counter: str,
) -> None:
    org = existing.get((kind, key, ZENSUS_VALID_FROM))
    if org is None:
        db.session.add(Organisation(kind=kind, ags=key, valid_from=ZENSUS_VALID_FROM, **values))
        setattr(result, counter, getattr(result, counter) + 1)
        return
    changed = False
    for attr, value in values.items():
        if getattr(org, attr) != value:
            setattr(org, attr, value)
            changed = True
    if changed:
        result.updated += 1
    else:
        result.unchanged += 1


@dataclass(frozen=True)
class Merger:
    """A change of territory (R35): the predecessors end the day before ``on``; the successor
    (a new AGS) starts on ``on`` in the same Kreis."""

    on: date
    successor_ags: str
    successor_ars: str
    successor_name: str
    predecessor_ags: tuple[str, ...]
    source: str


#: Municipality changes since the Zensus Gebietsstand (15.05.2022), applied by
#: ``flask reference merge-municipalities``.
MERGERS: tuple[Merger, ...] = (
    Merger(
        on=date(2023, 1, 1),
        successor_ags="14522275",
        successor_ars="145220275275",
        successor_name="Jahnatal",
        predecessor_ags=("14522450", "14522620"),
        source="BKG VG5000 31.12.2023 (WSK 2023-01-01); Ostrau + Zschaitz-Ottewig → Jahnatal",
    ),
)


@dataclass
class MergerResult:
    created: int = 0  # successor rows added
    closed: int = 0  # predecessor rows given valid_to and successor
    users_moved: int = 0
    unchanged: int = 0


def apply_merger(merger: Merger, result: MergerResult | None = None) -> MergerResult:
    """Apply one merger idempotently (R35). The predecessors keep their rows, names and history
    (consultations, applications, grants and ledger stay attached to them) and get
    ``valid_to = on - 1 day`` and ``successor_id``; the successor row starts on ``on``, with the
    summed population; the predecessors' user accounts move to the successor, which is the
    applicant from then on. Running it again changes nothing."""
    result = result or MergerResult()
    olds = (
        db.session.execute(
            db.select(Organisation)
            .where(Organisation.kind == OrgKind.GEMEINDE)
            .where(Organisation.ags.in_(merger.predecessor_ags))
            .where(Organisation.valid_from < merger.on)
            .order_by(Organisation.ags)
        )
        .scalars()
        .all()
    )
    if {o.ags for o in olds} != set(merger.predecessor_ags):
        raise ValueError(f"predecessors missing: {merger.predecessor_ags}")
    new = db.session.execute(
        db.select(Organisation).where(
            Organisation.kind == OrgKind.GEMEINDE,
            Organisation.ags == merger.successor_ags,
            Organisation.valid_from == merger.on,
        )
    ).scalar_one_or_none()
    if new is None:
        first = olds[0]
        new = Organisation(
            kind=OrgKind.GEMEINDE,
            ags=merger.successor_ags,
            ars=merger.successor_ars,
            name=merger.successor_name,
            population=sum(o.population or 0 for o in olds),
            kreis_key=first.kreis_key,
            kreis_name=first.kreis_name,
            kreisfrei=first.kreisfrei,
            polizeidirektion=first.polizeidirektion,
            valid_from=merger.on,
        )
        db.session.add(new)
        db.session.flush()
        result.created += 1
    last_day = merger.on - timedelta(days=1)
    for old in olds:
        if old.valid_to == last_day and old.successor_id == new.id:
            result.unchanged += 1
            continue
        old.valid_to = last_day
        old.successor_id = new.id
        result.closed += 1
    moved: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        db.update(User)
        .where(User.organisation_id.in_([o.id for o in olds]))
        .values(organisation_id=new.id)
    )
    result.users_moved += moved.rowcount or 0
    db.session.execute(
        db.update(Invitation)
        .where(Invitation.organisation_id.in_([o.id for o in olds]))
        .values(organisation_id=new.id)
    )
    if result.closed or moved.rowcount:
        record_event(
            "organisation.merged",
            "organisation",
            new.id,
            actor_id=None,
            predecessors=list(merger.predecessor_ags),
            on=merger.on,
            source=merger.source,
        )
    db.session.flush()
    return result


def apply_mergers(mergers: tuple[Merger, ...] = MERGERS) -> MergerResult:
    """Apply every bundled municipality change (idempotent)."""
    result = MergerResult()
    for merger in mergers:
        apply_merger(merger, result)
    return result
