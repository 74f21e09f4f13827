"""API endpoints: thin views over ``app.api.queries`` and the existing services."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.api import queries
from app.api.core import api, api_user, bp, problem, requires
from app.api.models import ApiIdempotency
from app.api.schemas import (
    ApplicationDetailSchema,
    ApplicationListArgs,
    ApplicationPage,
    BudgetYearSchema,
    CursorArgs,
    DecisionSchema,
    EventSchema,
    IdempotencyHeader,
    JournalEntryPage,
    JournalEntrySchema,
    OrganisationListArgs,
    OrganisationPage,
    OrganisationSchema,
    PaymentRunPage,
    PaymentRunSchema,
    PlanSchema,
    ProgrammeSchema,
    ProofSchema,
    StatementDetailSchema,
    StatementPage,
)
from app.auth.decorators import public
from app.auth.models import Role
from app.common.audit import record_event
from app.common.errors import InvalidTransition, NotPermitted
from app.common.tx import transactional
from app.extensions import csrf, db
from app.grants.models import Application
from app.grants.services.applications import LineInput, save_plan
from app.orgs.models import OrgKind

FINANCE_ROLES = (Role.FINANCE,)
BUDGET_ROLES = (Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.ADMIN)
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
NOT_FOUND = {404: {"description": "Not found (or not visible)"}}

csrf.exempt(bp)


def _not_found() -> Exception:
    return problem(404, _l("Die Ressource gibt es nicht oder sie ist nicht sichtbar."))


def _page_args(args: dict[str, Any]) -> tuple[str | None, int]:
    return args.get("cursor"), int(args.get("limit", 50))


def _paged(fetch: Any, *args: Any) -> queries.Page:
    try:
        return fetch(*args)
    except queries.BadCursor:
        raise problem(400, _l("Ungültiger Cursor."), field="cursor") from None


@bp.after_request
def _conditional(response: Response) -> Response:
    """Strong ETag over the body of every successful GET; ``If-None-Match`` → 304. Token
    responses may be cached privately but must be revalidated."""
    if request.method == "GET" and response.status_code == 200 and not response.direct_passthrough:
        response.add_etag()
        response.make_conditional(request)
    if request.headers.get("Authorization"):
        response.headers["Cache-Control"] = "private, no-cache"
        response.vary.add("Authorization")
    response.vary.add("Accept-Language")
    return response


# --- documentation (public) -------------------------------------------------------------------


@public
def docs() -> ResponseReturnValue:
    """The endpoints of the OpenAPI document as a server-rendered page (no script, no CDN)."""
    spec = api.spec.to_dict()
    operations = [
        (path, method.upper(), op)
        for path, item in spec.get("paths", {}).items()
        for method, op in item.items()
        if method in {"get", "put", "post", "delete", "patch"}
    ]
    return render_template("api/docs.html", operations=operations, spec=spec)


FlaskBlueprint.add_url_rule(bp, "/docs", view_func=docs)  # a page, not part of the OpenAPI


# --- reference data ---------------------------------------------------------------------------


@bp.route("/organisations")
@bp.arguments(OrganisationListArgs, location="query")
@bp.response(200, OrganisationPage)
@bp.doc(security=SECURITY)
@requires("read:reference")
def organisations(args: dict[str, Any]) -> Any:
    """Organisations (Gemeinden, Landkreise, Eigenbetriebe): reference data."""
    return _paged(queries.organisations, args.get("kind"), *_page_args(args))


@bp.route("/municipalities")
@bp.arguments(CursorArgs, location="query")
@bp.response(200, OrganisationPage)
@bp.doc(security=SECURITY)
@requires("read:reference")
def municipalities(args: dict[str, Any]) -> Any:
    """Municipalities (Gemeinden) with AGS."""
    return _paged(queries.organisations, OrgKind.GEMEINDE, *_page_args(args))


@bp.route("/organisations/<int:organisation_id>")
@bp.response(200, OrganisationSchema)
@bp.alt_response(404, description="Not found", success=False)
@bp.doc(security=SECURITY)
@requires("read:reference")
def organisation(organisation_id: int) -> Any:
    """One organisation."""
    row = queries.organisation(organisation_id)
    if row is None:
        raise _not_found()
    return row


# --- applications -----------------------------------------------------------------------------


@bp.route("/applications")
@bp.arguments(ApplicationListArgs, location="query")
@bp.response(200, ApplicationPage)
@bp.doc(security=SECURITY)
@requires("read:applications")
def applications(args: dict[str, Any]) -> Any:
    """Applications visible to the token's user (applicants: their organisation's)."""
    return _paged(
        queries.applications,
        api_user(),
        args.get("status"),
        args.get("funding_year"),
        *_page_args(args),
    )


def _application(application_id: int) -> Application:
    row = queries.application(api_user(), application_id)
    if row is None:
        raise _not_found()
    return row


@bp.route("/applications/<int:application_id>")
@bp.response(200, ApplicationDetailSchema)
@bp.alt_response(404, description="Not found", success=False)
@bp.doc(security=SECURITY)
@requires("read:applications")
def application(application_id: int) -> Any:
    """One application with its financing plan."""
    return _application(application_id)


@bp.route("/applications/<int:application_id>/history")
@bp.response(200, EventSchema(many=True))
@bp.alt_response(404, description="Not found", success=False)
@bp.doc(security=SECURITY)
@requires("read:applications")
def application_history(application_id: int) -> Any:
    """Status history (internal notes only for ministry staff)."""
    return queries.events(api_user(), _application(application_id))


@bp.route("/applications/<int:application_id>/decisions")
@bp.response(200, DecisionSchema(many=True))
@bp.alt_response(404, description="Not found", success=False)
@bp.doc(security=SECURITY)
@requires("read:applications")
def application_decisions(application_id: int) -> Any:
    """Decisions and grants with payout plan per year and instalments."""
    return queries.decisions(_application(application_id))


@bp.route("/applications/<int:application_id>/proofs")
@bp.response(200, ProofSchema(many=True))
@bp.alt_response(404, description="Not found", success=False)
@bp.doc(security=SECURITY)
@requires("read:applications")
def application_proofs(application_id: int) -> Any:
    """Proof-of-use versions with their status (newest first)."""
    return queries.proofs(_application(application_id))


def _request_hash() -> str:
    return hashlib.sha256(
        b"PUT " + request.path.encode() + b"\n" + request.get_data(cache=True)
    ).hexdigest()


def _stored(record: ApiIdempotency) -> Response:
    response = current_app.response_class(
        record.body, status=record.status, mimetype="application/json"
    )
    response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.route("/applications/<int:application_id>/plan", methods=["PUT"])
@bp.arguments(PlanSchema)
@bp.arguments(IdempotencyHeader, location="headers")
@bp.response(200, ApplicationDetailSchema)
@bp.alt_response(404, description="Not found", success=False)
@bp.alt_response(
    409, description="Not editable, or the key is used by another request", success=False
)
@bp.alt_response(422, description="Invalid plan", success=False)
@bp.alt_response(428, description="Idempotency-Key missing", success=False)
@bp.doc(security=SECURITY)
@requires("write:applications", Role.APPLICANT)
@transactional
def put_plan(plan: dict[str, Any], headers: dict[str, Any], application_id: int) -> Any:
    """Replace the financing plan of a draft (applicants). Requires ``Idempotency-Key``: a
    replay with the same key and body returns the stored response."""
    key = headers.get("idempotency_key")
    if not key:
        raise problem(428, _l("Der Header Idempotency-Key ist erforderlich."))
    user, digest = api_user(), _request_hash()
    if (stored := _replay(user.id, key, digest)) is not None:
        return stored
    application = _application(application_id)
    try:
        save_plan(application, user, **_plan_input(plan))
    except NotPermitted as exc:
        raise problem(403, exc.message) from None
    except InvalidTransition as exc:
        raise problem(409, exc.message) from None
    return _saved(application, user.id, key, digest)


def _plan_input(plan: dict[str, Any]) -> dict[str, Any]:
    """The arguments of ``save_plan`` from the validated request body."""
    return {
        "lines": [LineInput(**line) for line in plan["lines"]],
        "own_share_cash_cents": plan["own_share_cash_cents"],
        "third_party_cents": plan["third_party_cents"],
        "third_party_source": plan["third_party_source"],
        "requested_grant_cents": plan["requested_grant_cents"],
        "small_grant_reason": plan["small_grant_reason"],
        "small_grant_note": plan["small_grant_note"],
    }


def _replay(user_id: int, key: str, digest: str) -> Response | None:
    """The stored response of an earlier request with this ``Idempotency-Key``, or None for a new
    key; 409 when the key was used for another request."""
    stored = queries.idempotency_record(user_id, key)
    if stored is None:
        return None
    if stored.request_hash != digest:
        raise problem(409, _l("Dieser Idempotency-Key wurde für eine andere Anfrage verwendet."))
    return _stored(stored)


def _saved(application: Application, user_id: int, key: str, digest: str) -> Response:
    """The answer to a saved plan, stored under the key (flushed) for replays and audited; 409
    when a parallel request holds the key."""
    db.session.flush()
    db.session.refresh(application)
    body = json.dumps(ApplicationDetailSchema().dump(application), ensure_ascii=False)
    db.session.add(
        ApiIdempotency(user_id=user_id, key=key, request_hash=digest, status=200, body=body)
    )
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise problem(409, _l("Dieser Idempotency-Key wird gerade verwendet.")) from None
    record_event(
        "api_plan_saved",
        "application",
        application.id,
        actor_id=user_id,
        token_id=g.api_token.id,
        idempotency_key=key,
    )
    return current_app.response_class(body, status=200, mimetype="application/json")


# --- finance ----------------------------------------------------------------------------------


@bp.route("/budget-years")
@bp.response(200, BudgetYearSchema(many=True))
@bp.doc(security=SECURITY)
@requires("read:finance", *BUDGET_ROLES)
def budget_years() -> Any:
    """Budget years: cap (appropriation + carry-over), committed, available."""
    return queries.budget_years()


@bp.route("/budget-years/<int:year>")
@bp.response(200, BudgetYearSchema)
@bp.alt_response(404, description="Not found", success=False)
@bp.doc(security=SECURITY)
@requires("read:finance", *BUDGET_ROLES)
def budget_year(year: int) -> Any:
    """One budget year."""
    row = queries.budget_year(year)
    if row is None:
        raise _not_found()
    return row


@bp.route("/ledger/entries")
@bp.arguments(CursorArgs, location="query")
@bp.response(200, JournalEntryPage)
@bp.doc(security=SECURITY)
@requires("read:finance", *FINANCE_ROLES)
def journal_entries(args: dict[str, Any]) -> Any:
    """Journal entries with their postings."""
    return _paged(queries.journal_entries, *_page_args(args))


@bp.route("/ledger/entries/<int:entry_id>")
@bp.response(200, JournalEntrySchema)
@bp.alt_response(404, description="Not found", success=False)
@bp.doc(security=SECURITY)
@requires("read:finance", *FINANCE_ROLES)
def journal_entry(entry_id: int) -> Any:
    """One journal entry with its postings."""
    row = queries.journal_entry(entry_id)
    if row is None:
        raise _not_found()
    return row


@bp.route("/payment-runs")
@bp.arguments(CursorArgs, location="query")
@bp.response(200, PaymentRunPage)
@bp.doc(security=SECURITY)
@requires("read:finance", *FINANCE_ROLES)
def payment_runs(args: dict[str, Any]) -> Any:
    """Payment runs (metadata)."""
    return _paged(queries.payment_runs, *_page_args(args))


@bp.route("/payment-runs/<int:run_id>")
@bp.response(200, PaymentRunSchema)
@bp.alt_response(404, description="Not found", success=False)
@bp.doc(security=SECURITY)
@requires("read:finance", *FINANCE_ROLES)
def payment_run(run_id: int) -> Any:
    """One payment run."""
    row = queries.payment_run(run_id)
    if row is None:
        raise _not_found()
    return row


@bp.route("/payment-runs/<int:run_id>/pain.001.xml")
@bp.response(
    200,
    {"format": "binary", "type": "string"},
    content_type="application/xml",
    description="The pain.001 file",
)
@bp.alt_response(404, description="Not found", success=False)
@bp.doc(security=SECURITY)
@requires("read:finance", *FINANCE_ROLES)
def payment_run_xml(run_id: int) -> Any:
    """The pain.001 credit-transfer file of a payment run."""
    row = queries.payment_run(run_id)
    if row is None:
        raise _not_found()
    response = current_app.response_class(bytes(row.xml), mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{row.msg_id}.xml"'
    return response


@bp.route("/statements")
@bp.arguments(CursorArgs, location="query")
@bp.response(200, StatementPage)
@bp.doc(security=SECURITY)
@requires("read:finance", *FINANCE_ROLES)
def statements(args: dict[str, Any]) -> Any:
    """Imported bank statements with the reconciliation state of their lines."""
    return _paged(queries.statements, *_page_args(args))


@bp.route("/statements/<int:statement_id>")
@bp.response(200, StatementDetailSchema)
@bp.alt_response(404, description="Not found", success=False)
@bp.doc(security=SECURITY)
@requires("read:finance", *FINANCE_ROLES)
def statement(statement_id: int) -> Any:
    """One statement with its lines and their match state."""
    row = queries.statement(statement_id)
    if row is None:
        raise _not_found()
    return row


# --- public -----------------------------------------------------------------------------------


@bp.route("/programme")
@bp.response(200, ProgrammeSchema)
@public
def programme() -> Any:
    """Public programme figures per funding year (awarded grants, after reductions)."""
    return {"years": queries.programme_figures()}
