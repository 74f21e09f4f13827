"""Resources: authorisation matrix, cursor pagination, ETag, money fields, public figures."""

from __future__ import annotations

from typing import Any

import pytest

from app.extensions import db
from tests.api.conftest import PIRNA, ZITTAU, problem_of
from tests.factories import complete_application, create_user
from tests.finance.factories import approved_grant


@pytest.fixture
def world(app) -> dict[str, Any]:
    """Zittau: an approved grant and a draft; Pirna: a draft."""
    with app.app_context():
        zittau = create_user("applicant", ags=ZITTAU)
        pirna = create_user("applicant", ags=PIRNA)
        granted = approved_grant(zittau)
        draft = complete_application(zittau, funding_year=2028, documents=False)
        foreign = complete_application(pirna, documents=False)
        ids = {"granted": granted.id, "draft": draft.id, "foreign": foreign.id}
        db.session.commit()
        return {"zittau": zittau.id, "pirna": pirna.id, **ids}


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.data[:400]
    return {item["id"] for item in response.get_json()["items"]}


def test_applicant_sees_only_their_organisations_applications(app, api, make_token, world):
    headers = make_token(user_id=world["zittau"])
    assert _ids(api.get("/api/v1/applications", headers=headers)) == {
        world["granted"],
        world["draft"],
    }
    assert api.get(f"/api/v1/applications/{world['foreign']}", headers=headers).status_code == 404
    for sub in ("history", "decisions"):
        url = f"/api/v1/applications/{world['foreign']}/{sub}"
        assert api.get(url, headers=headers).status_code == 404
    detail = api.get(f"/api/v1/applications/{world['draft']}", headers=headers).get_json()
    assert detail["organisation_id"] != 0 and detail["lines"]


def test_ministry_sees_every_application(api, make_token, world):
    ids = _ids(api.get("/api/v1/applications", headers=make_token("reviewer")))
    assert {world["granted"], world["draft"], world["foreign"]} <= ids


def test_application_filters(app, api, make_token, world):
    headers = make_token(user_id=world["zittau"])
    assert _ids(api.get("/api/v1/applications?funding_year=2028", headers=headers)) == {
        world["draft"]
    }
    assert _ids(api.get("/api/v1/applications?status=consulted", headers=headers)) == {
        world["draft"]
    }
    assert api.get("/api/v1/applications?status=nonsense", headers=headers).status_code == 422


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("applicant", "/api/v1/ledger/entries", 403),
        ("applicant", "/api/v1/payment-runs", 403),
        ("applicant", "/api/v1/statements", 403),
        ("applicant", "/api/v1/budget-years", 403),
        ("reviewer", "/api/v1/ledger/entries", 403),
        ("reviewer", "/api/v1/budget-years", 200),
        ("finance", "/api/v1/ledger/entries", 200),
        ("finance", "/api/v1/payment-runs", 200),
        ("finance", "/api/v1/statements", 200),
        ("finance", "/api/v1/budget-years", 200),
        ("admin", "/api/v1/ledger/entries", 403),
    ],
)
def test_finance_matrix_follows_the_ui_roles(api, make_token, role, path, status):
    """Even with the ``read:finance`` scope a token never exceeds its user's roles."""
    scopes = ["read:finance", "read:applications", "read:reference"]
    response = api.get(path, headers=make_token(role, scopes=scopes))
    assert response.status_code == status
    if status == 403:
        problem_of(response)


def test_missing_scope_gives_403(api, make_token):
    response = api.get("/api/v1/organisations", headers=make_token(scopes=["read:applications"]))
    assert response.status_code == 403
    assert problem_of(response)["required_scope"] == "read:reference"


def test_decisions_with_payout_plan_and_instalments_in_cents_and_euros(app, api, make_token, world):
    headers = make_token(user_id=world["zittau"])
    decisions = api.get(f"/api/v1/applications/{world['granted']}/decisions", headers=headers)
    assert decisions.status_code == 200
    (decision,) = decisions.get_json()
    assert decision["grant_cents"] == 4_000_000 and decision["grant"] == "40000.00"
    assert sum(y["amount_cents"] for y in decision["payout_plan"]) == 4_000_000
    assert all(y["amount"] == f"{y['amount_cents'] / 100:.2f}" for y in decision["payout_plan"])
    history = api.get(f"/api/v1/applications/{world['granted']}/history", headers=headers)
    assert {e["kind"] for e in history.get_json()} >= {"submitted"}


def test_budget_years_cap_committed_available(api, make_token, world):
    years = api.get("/api/v1/budget-years", headers=make_token("finance")).get_json()
    year = next(y for y in years if y["year"] == 2027)
    assert year["cap_cents"] == year["appropriation_cents"] + year["carryover_cents"]
    assert year["available_cents"] == year["cap_cents"] - year["committed_cents"]
    assert year["committed_cents"] > 0 and year["available"].endswith(
        f".{year['available_cents'] % 100:02d}"
    )


def test_cursor_pagination_walks_every_row_once(api, make_token):
    headers = make_token("reviewer")
    seen: list[int] = []
    url = "/api/v1/municipalities?limit=100"
    pages = 0
    while url:
        body = api.get(url, headers=headers).get_json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        url = (
            f"/api/v1/municipalities?limit=100&cursor={body['next_cursor']}"
            if body["next_cursor"]
            else ""
        )
    assert pages > 1 and len(seen) == len(set(seen)) > 100
    assert seen == sorted(seen)


def test_limit_and_cursor_are_validated(api, make_token):
    headers = make_token("reviewer")
    assert api.get("/api/v1/organisations?limit=101", headers=headers).status_code == 422
    assert api.get("/api/v1/organisations?limit=0", headers=headers).status_code == 422
    response = api.get("/api/v1/organisations?cursor=%21%21", headers=headers)
    assert response.status_code == 400
    assert problem_of(response)["field"] == "cursor"


def test_etag_and_if_none_match_give_304_on_list_and_detail(api, make_token, world):
    headers = make_token("reviewer")
    for url in ("/api/v1/applications", f"/api/v1/applications/{world['draft']}"):
        first = api.get(url, headers=headers)
        etag = first.headers["ETag"]
        again = api.get(url, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304 and again.data == b""
        assert api.get(url, headers={**headers, "If-None-Match": '"other"'}).status_code == 200
        assert first.headers["Cache-Control"] == "private, no-cache"


def test_programme_figures_are_public_and_only_awarded_grants(api, world):
    response = api.get("/api/v1/programme")
    assert response.status_code == 200
    years = {y["funding_year"]: y for y in response.get_json()["years"]}
    assert years[2027]["grants"] == 1
    assert years[2027]["awarded_cents"] == 4_000_000 and years[2027]["awarded"] == "40000.00"
    assert 2028 not in years  # the draft is not published


def test_reference_organisation_detail(api, make_token):
    headers = make_token("applicant")
    first = api.get("/api/v1/organisations?limit=1", headers=headers).get_json()["items"][0]
    detail = api.get(f"/api/v1/organisations/{first['id']}", headers=headers)
    assert detail.get_json() == first
    problem_of(api.get("/api/v1/organisations/2147483647", headers=headers))


def test_lists_keep_a_constant_number_of_statements(app, api, make_token, count_statements):
    """A page costs the same statements with 1 or 4 applications (no N+1)."""
    headers = make_token("finance")

    def statements() -> int:
        with count_statements() as seen:
            assert api.get("/api/v1/applications?limit=100", headers=headers).status_code == 200
            assert api.get("/api/v1/statements", headers=headers).status_code == 200
        return len(seen)

    with app.app_context():
        user = create_user("applicant", ags=ZITTAU)
        complete_application(user, documents=False)
        db.session.commit()
    few = statements()
    with app.app_context():
        for ags in ("14628270", "14521020", "14612000"):
            complete_application(create_user("applicant", ags=ags), documents=False)
        db.session.commit()
    assert statements() == few


def test_proof_of_use_status_of_own_grant_only(app, api, make_token, world):
    """Proof-of-use status (issue 16): the recipient and the ministry see its versions; another
    organisation gets 404; amounts in cents and as decimal text."""
    from datetime import UTC, date, datetime

    from app.auth.models import User
    from app.common.db import simulated_now
    from app.grants.models import Application
    from app.postaward.models import ProofKind
    from app.postaward.services import proof as vn
    from app.postaward.services import start
    from tests.finance.factories import confirmed_account

    with app.app_context():
        application = db.session.get(Application, world["granted"])
        applicant = db.session.get(User, world["zittau"])
        confirmed_account(applicant, create_user("finance"))
        start.notify_start(applicant, application, date(2026, 11, 2))
        with simulated_now(datetime(2027, 2, 15, 9, 0, tzinfo=UTC)):
            vn.declare_purpose_fulfilled(applicant, application, date(2027, 2, 10))
        lines = {line.id: line.amount_cents for line in application.lines}
        vn.submit_proof(
            applicant,
            application,
            vn.ProofInput(
                kind=ProofKind.FINAL,
                report="Sachbericht",
                publicity_confirmed=True,
                publicity_note="",
                actuals=lines,
                actual_own_cents=application.own_share_cash_cents,
                actual_third_party_cents=0,
            ),
        )
        db.session.commit()
    url = f"/api/v1/applications/{world['granted']}/proofs"
    own = api.get(url, headers=make_token(user_id=world["zittau"]))
    assert own.status_code == 200, own.data[:300]
    [proof] = own.get_json()
    assert (proof["version"], proof["kind"], proof["status"]) == (1, "final", "received")
    assert proof["final_eligible_cents"] is None and proof["final_eligible"] is None
    assert "report" not in proof
    assert api.get(url, headers=make_token("reviewer")).status_code == 200
    assert api.get(url, headers=make_token(user_id=world["pirna"])).status_code == 404
