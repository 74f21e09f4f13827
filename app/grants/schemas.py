"""marshmallow schemas: the frozen submission snapshot (JSON) of an application.

Example payload (abridged)::

    {"schema": "kommpraev.application/1", "reference": "LPR-KP-2027-00042", "version": 1,
     "applicant": {"name": "Zittau, Stadt", "ags": "14626610", "kind": "gemeinde"},
     "plan": {"lines": [{"category": "staff", "amount_cents": 4200000, ...}],
              "totals": {"total_expenditure_cents": 5000000, "eligible_cents": 5000000, ...}}}
"""

from __future__ import annotations

from marshmallow import Schema, fields


class PlanLineSchema(Schema):
    id = fields.Integer()
    position = fields.Integer()
    category = fields.Function(lambda ln: ln.category.value)
    description = fields.String()
    pay_group = fields.Integer(allow_none=True)
    pay_step = fields.Integer(allow_none=True)
    qualification = fields.Function(lambda ln: ln.qualification.value if ln.qualification else None)
    fte_permille = fields.Integer(allow_none=True)
    months = fields.Integer(allow_none=True)
    amount_cents = fields.Integer()
    investive = fields.Boolean()
    in_kind = fields.Boolean()


class DocumentRefSchema(Schema):
    id = fields.Integer()
    type_code = fields.String()
    plan_line_id = fields.Integer(allow_none=True)
    original_name = fields.String()
    content_type = fields.String()
    size_bytes = fields.Integer()
    sha256 = fields.String()


class TotalsSchema(Schema):
    total_expenditure_cents = fields.Integer()
    eligible_cents = fields.Integer()
    staff_cents = fields.Integer()
    running_cents = fields.Integer()
    investive_cents = fields.Integer()
    in_kind_cents = fields.Integer()
    own_cash_cents = fields.Integer()
    own_share_cents = fields.Integer()
    third_party_cents = fields.Integer()
    requested_grant_cents = fields.Integer()
    financing_total_cents = fields.Integer()
    difference_cents = fields.Integer()
    grant_rate_bp = fields.Integer(allow_none=True)
    own_share_rate_bp = fields.Integer(allow_none=True)


class ApplicationSnapshotSchema(Schema):
    """What the applicant submitted, as data (integers for money, ISO dates)."""

    schema = fields.Constant("kommpraev.application/1")
    id = fields.Integer()
    reference = fields.String()
    funding_year = fields.Integer()
    title = fields.String()
    purpose = fields.String()
    project_start = fields.Date()
    project_end = fields.Date()
    kpr_name = fields.String()
    kpr_established_on = fields.Date(allow_none=True)
    office_unit = fields.String()
    office_contact_name = fields.String()
    office_contact_email = fields.String()
    office_contact_phone = fields.String()
    office_tasks = fields.String()
    own_share_cash_cents = fields.Integer()
    third_party_cents = fields.Integer()
    third_party_source = fields.String()
    requested_grant_cents = fields.Integer()
    small_grant_reason = fields.Function(
        lambda a: a.small_grant_reason.value if a.small_grant_reason else None
    )
    small_grant_note = fields.String()
    is_late = fields.Boolean()
    late_justification = fields.String()
    applicant = fields.Function(
        lambda a: {
            "name": a.applicant_name_at_submission,
            "ags": a.applicant_ags_at_submission,
            "kind": a.organisation.kind.value,
            "kreis": a.organisation.kreis_name,
            "polizeidirektion": a.organisation.polizeidirektion,
        }
    )
    lines = fields.List(fields.Nested(PlanLineSchema))
    documents = fields.List(fields.Nested(DocumentRefSchema))
