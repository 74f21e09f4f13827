"""The readable version comparison: German labels, "14.000,00 € → 12.500,00 €", percentages,
German dates and enum labels, never raw keys, cents or basis points."""

from __future__ import annotations

import copy
import re

import pytest

from app.common.formatting import percent_bp
from app.grants.schemas import ApplicationSnapshotSchema, PlanLineSchema, TotalsSchema
from app.grants.services import compare

STAFF = {
    "id": 11,
    "position": 0,
    "category": "staff",
    "description": "Koordinator/in",
    "pay_group": 11,
    "pay_step": 3,
    "qualification": "university_applied",
    "fte_permille": 500,
    "months": 12,
    "amount_cents": 1400000,
    "investive": False,
    "in_kind": False,
}
RUNNING = {
    "id": 12,
    "position": 1,
    "category": "running",
    "description": "Druckkosten",
    "amount_cents": 50000,
    "investive": False,
    "in_kind": False,
}
OLD = {
    "schema": "kommpraev.application/1",
    "id": 1,
    "reference": "LPR-KP-2027-00001",
    "version": 1,
    "submitted_at": "2026-10-01T10:00:00+00:00",
    "submitted_by": {"id": 3, "name": "A"},
    "title": "Koordinierungsstelle",
    "project_start": "2027-01-01",
    "project_end": "2027-12-31",
    "small_grant_reason": None,
    "requested_grant_cents": 1160000,
    "applicant": {"name": "Zittau, Stadt", "kind": "gemeinde"},
    "lines": [STAFF, RUNNING],
    "documents": [{"id": 5, "type_code": "job_description", "original_name": "stelle.pdf"}],
    "totals": {"grant_rate_bp": 8000, "eligible_cents": 1450000, "requested_grant_cents": 1160000},
}


@pytest.fixture
def new(app_ctx):
    return copy.deepcopy(OLD)


def _diff(new):
    return compare.readable_diff(OLD, new, {"job_description": "Stellenbeschreibung"})


def _texts(changes):
    return [f"{c.label}: {c.old} → {c.new}".replace("\u00a0", " ") for c in changes]


def test_plan_line_amount_reads_as_line_label_and_euros(new):
    new["lines"][0]["amount_cents"] = 1250000
    assert _texts(_diff(new)) == ["Personalkosten Koordinator/in: 14.000,00 € → 12.500,00 €"]


def test_rates_are_percentages_and_dates_german(new):
    new["totals"]["grant_rate_bp"] = 7525
    new["project_end"] = "2027-06-30"
    assert _texts(_diff(new)) == [
        "Projektende: 31.12.2027 → 30.06.2027",
        "Fördersatz: 80,00 % → 75,25 %",
    ]


def test_enums_by_label_and_fte_as_decimal(new):
    new["lines"][0]["qualification"] = "university"
    new["lines"][0]["fte_permille"] = 750
    new["small_grant_reason"] = "local_event"
    texts = _texts(_diff(new))
    assert "Personalkosten Koordinator/in – Stellenanteil: 0,5 VZÄ → 0,75 VZÄ" in texts
    assert any(
        t.startswith("Personalkosten Koordinator/in – Qualifikation: Abgeschlossene Fach")
        for t in texts
    )
    assert any(t.startswith("Ausnahmegrund (RL V.6): — → Projekt, das sich") for t in texts)


def test_added_and_removed_lines_and_documents(new):
    new["lines"] = [STAFF, {**RUNNING, "id": 13, "description": "Flyer", "amount_cents": 20000}]
    new["documents"].append({"id": 6, "type_code": "job_description", "original_name": "neu.pdf"})
    changes = _diff(new)
    assert _texts(changes) == [
        "Sachkosten Druckkosten (entfernt): 500,00 € → —",
        "Sachkosten Flyer (neue Position): — → 200,00 €",
        "Stellenbeschreibung: — → neu.pdf",
    ]
    assert [c.section for c in changes] == ["Finanzierungsplan", "Finanzierungsplan", "Dokumente"]


def test_no_raw_keys_cents_or_basis_points(new):
    new["requested_grant_cents"] = 1000000
    new["totals"]["requested_grant_cents"] = 1000000  # shown once, as the top-level field
    new["applicant"]["kind"] = "landkreis"
    text = " ".join(_texts(_diff(new)))
    assert "Beantragte Zuwendung: 11.600,00 € → 10.000,00 €" in text
    assert "Art der Kommune: Gemeinde → Landkreis" in text
    assert not re.search(r"_cents|_bp|\b1000000\b|landkreis\b", text)
    assert text.count("Beantragte Zuwendung") == 1


def test_identical_versions_have_no_changes(new):
    assert _diff(new) == []


def test_every_snapshot_field_has_a_label():
    """A field added to the snapshot schema must get a German label here (or be ignored)."""
    top = set(ApplicationSnapshotSchema().fields) - {"applicant"}
    known = set(compare.FIELDS) | compare.IGNORED
    assert top <= known, top - known
    assert {f"totals.{k}" for k in TotalsSchema().fields} <= known
    assert set(PlanLineSchema().fields) - {"id", "position"} <= set(compare.LINE_FIELDS)


def test_percent_bp_formats_basis_points_as_german_percentages():
    assert percent_bp(8000) == "80,00\u00a0%"
    assert percent_bp(7525) == "75,25\u00a0%"
    assert percent_bp(-88) == "-0,88\u00a0%"
    assert percent_bp(123456) == "1.234,56\u00a0%"
    assert percent_bp(None) == ""


def test_diff_labels_follow_the_request_language(app):
    """Qualifications and document types in the comparison read in the UI language."""
    from flask_babel import force_locale

    from app.grants import queries
    from app.grants.services import compare

    with app.test_request_context(), force_locale("en"):
        assert compare._qualification("university_applied").startswith("Completed")
        labels = queries.document_labels()
        assert labels["project_description"] != "Projektbeschreibung (nach Beccaria-Standards)"
    with app.test_request_context(), force_locale("de"):
        assert compare._qualification("university_applied").startswith("Abgeschlossene")
