"""Frozen submission snapshot: canonical JSON and a PDF copy, each with its sha256."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from flask_babel import force_locale

from app.auth.models import User
from app.grants import queries
from app.grants.labels import QUALIFICATION_LABELS, SMALL_GRANT_REASONS
from app.grants.models import Application
from app.grants.schemas import ApplicationSnapshotSchema, TotalsSchema
from app.grants.services.financing import PlanTotals


@dataclass(frozen=True)
class Snapshot:
    data_json: str
    data_sha256: str
    pdf: bytes
    pdf_sha256: str


def snapshot_data(
    application: Application,
    totals: PlanTotals,
    *,
    version: int,
    submitted_at: datetime,
    submitted_by: User,
) -> dict[str, object]:
    """The snapshot as a dict (money in integer cents)."""
    data: dict[str, object] = ApplicationSnapshotSchema().dump(application)
    data["version"] = version
    data["submitted_at"] = submitted_at.isoformat()
    data["submitted_by"] = {"id": submitted_by.id, "name": submitted_by.name}
    data["totals"] = TotalsSchema().dump(totals)
    return data


def render_pdf(html: str) -> bytes:
    """HTML → PDF with WeasyPrint (imported lazily: it is slow to import)."""
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())


def build_snapshot(
    application: Application,
    totals: PlanTotals,
    *,
    version: int,
    submitted_at: datetime,
    submitted_by: User,
) -> Snapshot:
    """Build JSON and PDF of the application as it is submitted now."""
    data = snapshot_data(
        application, totals, version=version, submitted_at=submitted_at, submitted_by=submitted_by
    )
    data_json = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)
    with force_locale("de"):  # a legal document: German whatever the UI language
        html = render_template(
            "grants/pdf/application.html",
            app=application,
            totals=totals,
            version=version,
            submitted_at=submitted_at,
            submitted_by=submitted_by,
            doc_types={t.code: t for t in queries.document_types()},
            qualification_labels=QUALIFICATION_LABELS,
            small_grant_reasons=SMALL_GRANT_REASONS,
            data_sha256=hashlib.sha256(data_json.encode()).hexdigest(),
        )
    pdf = render_pdf(html)
    return Snapshot(
        data_json=data_json,
        data_sha256=hashlib.sha256(data_json.encode()).hexdigest(),
        pdf=pdf,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
    )
