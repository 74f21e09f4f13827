"""marshmallow schemas of the API resources (documented in the OpenAPI by flask-smorest).

Money: every amount appears twice, as integer cents (``…_cents``) and as a decimal string in
euros (``…`` without the suffix, e.g. ``"1234.56"``), see docs/money.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields, validate

from app.common.db import as_utc
from app.finance.models import EntryKind, InstalmentKind, InstalmentStatus, MatchStatus
from app.grants.models import (
    DecisionStatus,
    EventKind,
    FinancingType,
    LineCategory,
    Qualification,
    SmallGrantReason,
    Status,
)
from app.orgs.models import OrgKind
from app.postaward.models import ProofKind, ProofStatus

MAX_CENTS = 10**13  # far above any programme amount (a 100 bn € guard for input)


class Money(fields.String):
    """Integer cents from ``attribute`` rendered as a decimal euro string (``"-12.30"``)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return str(Decimal(int(value)).scaleb(-2))


class UtcDateTime(fields.DateTime):
    """An RFC 3339 timestamp with offset (SQLite returns naive UTC datetimes)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        result = super()._serialize(as_utc(value), attr, obj, **kwargs)
        return None if result is None else str(result)


def money(attribute: str, **kwargs: Any) -> Money:
    return Money(
        attribute=attribute,
        dump_only=True,
        metadata={"description": "Decimal euro amount", "pattern": r"^-?\d+\.\d{2}$"},
        **kwargs,
    )


class IdempotencyHeader(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Client-chosen unique key; a replay returns the stored response"},
    )


class CursorArgs(Schema):
    cursor = fields.String(
        load_default=None, validate=validate.Length(max=40), metadata={"description": "Opaque"}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class ApplicationListArgs(CursorArgs):
    status = fields.Enum(Status, by_value=True, load_default=None)
    funding_year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))


class OrganisationListArgs(CursorArgs):
    kind = fields.Enum(OrgKind, by_value=True, load_default=None)


class OrganisationSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.Enum(OrgKind, by_value=True, required=True)
    name = fields.String(required=True)
    ags = fields.String(allow_none=True)
    ars = fields.String(allow_none=True)
    population = fields.Integer(allow_none=True)
    kreis_key = fields.String()
    kreis_name = fields.String()
    kreisfrei = fields.Boolean()
    polizeidirektion = fields.String()
    parent_id = fields.Integer(allow_none=True)
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)


class PlanLineSchema(Schema):
    id = fields.Integer(allow_none=True, load_default=None)
    category = fields.Enum(LineCategory, by_value=True, required=True)
    description = fields.String(load_default="", validate=validate.Length(max=300))
    pay_group = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, 20))
    pay_step = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, 6))
    qualification = fields.Enum(Qualification, by_value=True, allow_none=True, load_default=None)
    fte_permille = fields.Integer(
        allow_none=True, load_default=None, validate=validate.Range(0, 1000)
    )
    months = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(0, 12))
    amount_cents = fields.Integer(required=True, validate=validate.Range(0, MAX_CENTS))
    amount = money("amount_cents")
    investive = fields.Boolean(load_default=False)
    in_kind = fields.Boolean(load_default=False)


class PlanSchema(Schema):
    """The financing plan of a draft (input of ``PUT …/plan``)."""

    lines = fields.List(
        fields.Nested(PlanLineSchema), required=True, validate=validate.Length(max=50)
    )
    own_share_cash_cents = fields.Integer(required=True, validate=validate.Range(0, MAX_CENTS))
    third_party_cents = fields.Integer(load_default=0, validate=validate.Range(0, MAX_CENTS))
    third_party_source = fields.String(load_default="", validate=validate.Length(max=300))
    requested_grant_cents = fields.Integer(required=True, validate=validate.Range(0, MAX_CENTS))
    small_grant_reason = fields.Enum(
        SmallGrantReason, by_value=True, allow_none=True, load_default=None
    )
    small_grant_note = fields.String(load_default="", validate=validate.Length(max=2000))


class ApplicationSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(allow_none=True)
    organisation_id = fields.Integer(required=True)
    funding_year = fields.Integer(required=True)
    status = fields.Enum(Status, by_value=True, required=True)
    title = fields.String()
    project_start = fields.Date(allow_none=True)
    project_end = fields.Date(allow_none=True)
    requested_grant_cents = fields.Integer()
    requested_grant = money("requested_grant_cents")
    own_share_cash_cents = fields.Integer()
    own_share_cash = money("own_share_cash_cents")
    third_party_cents = fields.Integer()
    third_party = money("third_party_cents")
    submitted_at = UtcDateTime(allow_none=True)
    updated_at = UtcDateTime()


class ApplicationDetailSchema(ApplicationSchema):
    purpose = fields.String()
    kpr_name = fields.String()
    third_party_source = fields.String()
    small_grant_reason = fields.Enum(SmallGrantReason, by_value=True, allow_none=True)
    small_grant_note = fields.String()
    lines = fields.List(fields.Nested(PlanLineSchema))


class EventSchema(Schema):
    id = fields.Integer()
    occurred_at = UtcDateTime()
    kind = fields.Enum(EventKind, by_value=True)
    message = fields.String()


class InstalmentSchema(Schema):
    id = fields.Integer()
    number = fields.Integer()
    kind = fields.Enum(InstalmentKind, by_value=True)
    percent = fields.Integer()
    amount_cents = fields.Integer()
    amount = money("amount_cents")
    budget_year = fields.Integer()
    status = fields.Enum(InstalmentStatus, by_value=True)
    due_since = fields.Date(allow_none=True)


class DecisionYearSchema(Schema):
    year = fields.Integer()
    amount_cents = fields.Integer()
    amount = money("amount_cents")


class DecisionSchema(Schema):
    id = fields.Integer()
    application_id = fields.Integer()
    status = fields.Enum(DecisionStatus, by_value=True)
    financing_type = fields.Enum(FinancingType, by_value=True)
    rate_bp = fields.Integer()
    eligible_base_cents = fields.Integer()
    eligible_base = money("eligible_base_cents")
    grant_cents = fields.Integer()
    grant = money("grant_cents")
    period_start = fields.Date()
    period_end = fields.Date()
    vn_deadline = fields.Date()
    decided_at = UtcDateTime(allow_none=True)
    payout_plan = fields.List(fields.Nested(DecisionYearSchema), attribute="years")
    instalments = fields.List(fields.Nested(InstalmentSchema))


class ProofSchema(Schema):
    """Status of one proof-of-use version (R16–R25); the report text is not exposed."""

    id = fields.Integer()
    application_id = fields.Integer()
    version = fields.Integer()
    kind = fields.Enum(ProofKind, by_value=True)
    status = fields.Enum(ProofStatus, by_value=True)
    submitted_at = UtcDateTime()
    check_due_on = fields.Date()
    completed_on = fields.Date(allow_none=True)
    checked_on = fields.Date(allow_none=True)
    audit_selected = fields.Boolean()
    final_eligible_cents = fields.Integer(allow_none=True)
    final_eligible = money("final_eligible_cents", allow_none=True)


class BudgetYearSchema(Schema):
    year = fields.Integer()
    appropriation_cents = fields.Integer()
    appropriation = money("appropriation_cents")
    carryover_cents = fields.Integer()
    carryover = money("carryover_cents")
    cap_cents = fields.Integer()
    cap = money("cap_cents")
    committed_cents = fields.Integer()
    committed = money("committed_cents")
    available_cents = fields.Integer()
    available = money("available_cents")
    provisional = fields.Boolean()
    closed = fields.Boolean()


class PostingSchema(Schema):
    id = fields.Integer()
    account = fields.String()
    amount_cents = fields.Integer()
    amount = money("amount_cents")
    application_id = fields.Integer(allow_none=True)


class JournalEntrySchema(Schema):
    id = fields.Integer()
    kind = fields.Enum(EntryKind, by_value=True)
    posting_date = fields.Date()
    fiscal_year = fields.Integer()
    description = fields.String()
    reference = fields.String()
    reverses_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime()
    postings = fields.List(fields.Nested(PostingSchema))


class PaymentRunSchema(Schema):
    id = fields.Integer()
    msg_id = fields.String()
    execution_date = fields.Date()
    schema = fields.String(attribute="schema", data_key="pain_schema")
    nb_of_txs = fields.Integer()
    ctrl_sum_cents = fields.Integer()
    ctrl_sum = money("ctrl_sum_cents")
    created_at = UtcDateTime()


class StatementSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    message_version = fields.String()
    statement_ref = fields.String()
    from_date = fields.Date(allow_none=True)
    to_date = fields.Date(allow_none=True)
    opening_balance_cents = fields.Integer(allow_none=True)
    opening_balance = money("opening_balance_cents", allow_none=True)
    closing_balance_cents = fields.Integer(allow_none=True)
    closing_balance = money("closing_balance_cents", allow_none=True)
    imported_at = UtcDateTime()
    reconciliation = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "Lines by state"}
    )


class StatementLineSchema(Schema):
    id = fields.Integer()
    line_no = fields.Integer()
    booking_date = fields.Date(allow_none=True)
    value_date = fields.Date(allow_none=True)
    amount_cents = fields.Integer()
    amount = money("amount_cents")
    credit_debit = fields.String()
    end_to_end_id = fields.String(allow_none=True)
    match_status = fields.Enum(MatchStatus, by_value=True)
    matched_order_id = fields.Integer(allow_none=True)


class StatementDetailSchema(StatementSchema):
    lines = fields.List(fields.Nested(StatementLineSchema))


class ProgrammeYearSchema(Schema):
    funding_year = fields.Integer()
    grants = fields.Integer()
    awarded_cents = fields.Integer()
    awarded = money("awarded_cents")


class ProgrammeSchema(Schema):
    years = fields.List(fields.Nested(ProgrammeYearSchema))


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """A cursor page of ``item``: ``{"items": [...], "next_cursor": "…" | null}``."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(allow_none=True, required=True),
        },
        name=name,
    )


OrganisationPage = page_schema(OrganisationSchema, "OrganisationPage")
ApplicationPage = page_schema(ApplicationSchema, "ApplicationPage")
JournalEntryPage = page_schema(JournalEntrySchema, "JournalEntryPage")
PaymentRunPage = page_schema(PaymentRunSchema, "PaymentRunPage")
StatementPage = page_schema(StatementSchema, "StatementPage")
