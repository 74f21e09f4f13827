"""Load the bundled reference data (419 Gemeinden, 10 Landkreise) idempotently (R3, R35)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

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
