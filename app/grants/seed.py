"""Reference seeds that operators may later edit: document types and TV-L caps (R4, R8).

Seeding is idempotent and never overwrites what an admin has changed.
"""

from __future__ import annotations

from app.common.programme import PAY_SCALE_SEED, PAY_SCALE_SOURCES
from app.extensions import db
from app.finance.base_rates import seed_base_rates
from app.grants.models import DocumentType, PayScale

#: code, German label, English label, required, per staff line, rule reference.
DOCUMENT_TYPES: tuple[tuple[str, str, str, bool, bool, str], ...] = (
    (
        "project_description",
        "Projektbeschreibung (nach Beccaria-Standards)",
        "Project description (Beccaria standards)",
        True,
        False,
        "R4, RL VI.3 a",
    ),
    (
        "financing_plan",
        "Ausgaben- und Finanzierungsplan (unterschrieben)",
        "Expenditure and financing plan (signed)",
        True,
        False,
        "R4, RL VI.3 b",
    ),
    (
        "qualification_proof",
        "Qualifikationsnachweis",
        "Proof of qualification",
        True,
        True,
        "R4, RL VI.3 c",
    ),
    (
        "not_started",
        "Erklärung, dass mit dem Projekt noch nicht begonnen wurde",
        "Declaration that the project has not started",
        True,
        False,
        "R4, VVK 3.3.1",
    ),
    (
        "municipal_statement",
        "Gemeindewirtschaftliche Stellungnahme",
        "Statement on municipal finances",
        False,
        False,
        "VVK 3.3.1",
    ),
    (
        "input_tax",
        "Erklärung zum Vorsteuerabzug",
        "Input-tax declaration",
        False,
        False,
        "VVK 3.3.3",
    ),
    (
        "kpr_resolution",
        "Beschluss zur Gründung des KPR",
        "Council resolution founding the KPR",
        False,
        False,
        "Verwaltungspraxis (ZIT)",
    ),
    (
        "cooperation",
        "Kooperationsvereinbarung mit Polizeidirektion und LPR",
        "Cooperation agreement with police directorate and LPR",
        False,
        False,
        "Verwaltungspraxis (KV)",
    ),
    ("other", "Sonstiges Dokument", "Other document", False, False, "RL VI.3"),
)


def seed_reference() -> dict[str, int]:
    """Insert missing document types, TV-L cap rows and Basiszinssätze; returns how many were
    added."""
    added = {"document_types": 0, "pay_scales": 0, "base_rates": 0}
    existing_types = set(db.session.execute(db.select(DocumentType.code)).scalars())
    for position, (code, de, en, required, per_line, rule) in enumerate(DOCUMENT_TYPES):
        if code not in existing_types:
            db.session.add(
                DocumentType(
                    code=code,
                    label_de=de,
                    label_en=en,
                    required=required,
                    per_staff_line=per_line,
                    position=position,
                    rule=rule,
                )
            )
            added["document_types"] += 1
    existing_caps = {
        (y, g) for y, g in db.session.execute(db.select(PayScale.year, PayScale.pay_group))
    }
    for year, groups in PAY_SCALE_SEED.items():
        for group, cents in groups.items():
            if (year, group) not in existing_caps:
                db.session.add(
                    PayScale(
                        year=year,
                        pay_group=group,
                        monthly_cap_cents=cents,
                        source=PAY_SCALE_SOURCES[year],
                    )
                )
                added["pay_scales"] += 1
    added["base_rates"] = seed_base_rates()
    db.session.flush()
    return added
