"""Basiszinssatz as reference data (R27): idempotent seed, admin maintenance on „Stammdaten“."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.common.audit import AuditEvent
from app.common.errors import DomainError, NotPermitted
from app.extensions import db
from app.finance.base_rates import BASE_RATE_SEED, load_rates, seed_base_rates
from app.finance.interest import compute_interest
from app.finance.models import BaseRate
from app.grants.seed import seed_reference
from app.grants.services import reference
from tests import factories


@pytest.fixture
def admin(app_ctx):
    return factories.create_user("admin")


def _rows() -> dict[date, tuple[int, str]]:
    return {
        r.valid_from: (r.rate_bp, r.source)
        for r in db.session.execute(db.select(BaseRate)).scalars()
    }


def _field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error-message" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert match, f"no error at field {field_id}"
    return match.group(1)


# --- seed --------------------------------------------------------------------------------------


def test_R27_seed_has_every_half_year_from_2019(app_ctx):
    rows = _rows()
    expected = {date(y, m, 1) for y in range(2019, 2027) for m in (1, 7)}
    assert expected <= set(rows)
    assert all(rows[date(y, m, 1)][0] == -88 for y in range(2019, 2023) for m in (1, 7))
    assert rows[date(2023, 1, 1)][0] == 162 and rows[date(2026, 1, 1)][0] == 127
    assert rows[date(2026, 7, 1)] == (152, BASE_RATE_SEED[-1][2])
    assert "(zu bestätigen)" in rows[date(2026, 7, 1)][1]
    assert all("(zu bestätigen)" not in src for d, (_, src) in rows.items() if d < date(2026, 7, 1))


def test_R27_seed_twice_adds_nothing(app_ctx):
    before = _rows()
    assert seed_base_rates() == 0  # the session fixture seeded already
    assert seed_reference()["base_rates"] == 0
    assert _rows() == before


def test_R27_seed_fills_a_missing_half_year_only(app_ctx):
    db.session.delete(db.session.get(BaseRate, date(2024, 7, 1)))
    db.session.flush()
    assert seed_base_rates() == 1
    assert _rows()[date(2024, 7, 1)][0] == 337


def test_R27_seed_never_overwrites_an_admin_correction(admin):
    reference.set_base_rate(admin, date(2026, 7, 1), 140, "Bundesanzeiger (Korrektur)")
    assert seed_base_rates() == 0
    assert _rows()[date(2026, 7, 1)] == (140, "Bundesanzeiger (Korrektur)")


def test_R27_seeded_table_feeds_the_calculation(app_ctx):
    # the worked example of tests/finance/test_interest.py, with the rates read from the table
    result = compute_interest(1_000_000, date(2023, 5, 15), date(2024, 2, 15), load_rates())
    assert result.total_cents == 60_056


# --- service -----------------------------------------------------------------------------------


def test_R27_admin_adds_a_half_year_and_it_is_audited(admin):
    row = reference.set_base_rate(admin, date(2027, 1, 1), -25, "  Bundesbank 12/2026 ")
    assert (row.rate_bp, row.source) == (-25, "Bundesbank 12/2026")
    event = db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == "base_rate_set")
    ).scalar_one()
    assert event.object_id == "2027-01-01" and event.actor_id == admin.id
    assert '"new_bp": -25' in event.details and '"old_bp": null' in event.details


def test_R27_service_refuses_other_days_implausible_rates_and_missing_sources(admin):
    with pytest.raises(DomainError, match="01.01. und 01.07.") as exc:
        reference.set_base_rate(admin, date(2027, 3, 15), 100, "x")
    assert exc.value.field == "valid_from"
    with pytest.raises(DomainError, match="ab 01.01.2002") as exc:
        reference.set_base_rate(admin, date(2001, 7, 1), 100, "x")
    assert exc.value.field == "valid_from"
    with pytest.raises(DomainError) as exc:
        reference.set_base_rate(admin, date(2027, 1, 1), 2_001, "x")
    assert exc.value.field == "rate"
    with pytest.raises(DomainError) as exc:
        reference.set_base_rate(admin, date(2027, 1, 1), 100, "  ")
    assert exc.value.field == "source"


def test_R27_only_admins_set_base_rates(app_ctx):
    finance = factories.create_user("finance")
    with pytest.raises(NotPermitted):
        reference.set_base_rate(finance, date(2027, 1, 1), 100, "Bundesbank")


# --- admin page --------------------------------------------------------------------------------


def test_R27_admin_page_lists_rates(admin_client):
    html = admin_client.get("/verwaltung/stammdaten").get_data(as_text=True)
    assert "Basiszinssatz (§ 247 BGB)" in html
    assert "01.07.2022" in html and "-0,88 %" in html and "4,12 %" in html  # −0.88 + 5
    assert "(zu bestätigen)" in html


def test_R27_admin_form_saves_a_negative_rate(admin_client):
    response = admin_client.post(
        "/verwaltung/basiszinssatz",
        data={"valid_from": "01.01.2027", "rate": "-0,88", "source": "Bundesanzeiger 12/2026"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#basiszinssatz")
    html = admin_client.get("/verwaltung/stammdaten").get_data(as_text=True)
    assert "01.01.2027" in html and "Bundesanzeiger 12/2026" in html


def test_R27_admin_form_corrects_an_existing_rate(admin_client, app):
    response = admin_client.post(
        "/verwaltung/basiszinssatz",
        data={"valid_from": "01.07.2026", "rate": "1,27", "source": "Bundesanzeiger 06/2026"},
    )
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(BaseRate, date(2026, 7, 1))
        assert (row.rate_bp, row.source) == (127, "Bundesanzeiger 06/2026")


def test_R27_admin_form_refuses_a_date_other_than_1_january_or_1_july(admin_client, app):
    response = admin_client.post(
        "/verwaltung/basiszinssatz",
        data={"valid_from": "15.03.2027", "rate": "1,27", "source": "Bundesbank"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "01.01. und 01.07." in _field_error(html, "valid_from")
    with app.app_context():
        assert db.session.get(BaseRate, date(2027, 3, 15)) is None


def test_R27_admin_form_refuses_a_rate_that_is_not_a_number(admin_client):
    response = admin_client.post(
        "/verwaltung/basiszinssatz",
        data={"valid_from": "01.01.2027", "rate": "abc", "source": "Bundesbank"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Bitte geben Sie einen Zinssatz wie -0,88 oder 1,27 ein." in _field_error(html, "rate")


def test_R27_admin_form_shows_all_errors_at_once(admin_client):
    response = admin_client.post(
        "/verwaltung/basiszinssatz", data={"valid_from": "15.03.2027", "rate": "abc"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "01.01. und 01.07." in _field_error(html, "valid_from")
    assert "Zinssatz wie -0,88" in _field_error(html, "rate")
    assert "Quelle" in _field_error(html, "source")


def test_R27_admin_form_requires_a_source(admin_client):
    response = admin_client.post(
        "/verwaltung/basiszinssatz", data={"valid_from": "01.01.2027", "rate": "1,27"}
    )
    assert response.status_code == 422
    assert "Quelle" in _field_error(response.get_data(as_text=True), "source")


@pytest.mark.parametrize(
    ("typed", "bp"), [("-0,88", -88), ("1,27", 127), ("3.62", 362), ("−1,5 %", -150), ("2", 200)]
)
def test_R27_signed_percent_field_parses_german_input(app, typed, bp):
    from app.grants.forms import BaseRateForm

    with app.test_request_context(
        method="POST", data={"valid_from": "01.01.2027", "rate": typed, "source": "x"}
    ):
        form = BaseRateForm()
        assert form.validate(), form.errors
        assert form.rate.data == bp


def test_R27_base_rate_form_is_forbidden_for_non_admins(reviewer_client, applicant_client):
    data = {"valid_from": "01.01.2027", "rate": "1,27", "source": "Bundesbank"}
    for client in (reviewer_client, applicant_client):
        assert client.post("/verwaltung/basiszinssatz", data=data).status_code == 403
        assert client.get("/verwaltung/stammdaten").status_code == 403
