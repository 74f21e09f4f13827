"""Open data of awarded grants (360Giving 1.4.3): the package validates against the bundled
schema, only approved grants are published with their amount after reductions, revoked ones are
marked, nothing private leaks, and the public page and the CLI work."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest

from app.extensions import db
from app.finance.services import adjust
from app.grants.models import Status
from app.opendata import giving
from app.postaward.models import RevocationCase, RevocationReason
from tests import factories
from tests.finance.factories import IBAN, approved_grant, confirmed_account

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
ZITTAU, PIRNA, PLAUEN = "14626610", "14628270", "14523320"


@pytest.fixture
def published(app_ctx):
    """Two approved grants (Zittau with a confirmed bank account, Pirna reduced to 30.000 €), one
    application still in review (Plauen) and a draft."""
    zittau = factories.create_user("applicant", ags=ZITTAU, name="Zora Zittau-Person")
    pirna = factories.create_user("applicant", ags=PIRNA, name="Paul Pirna-Person")
    plauen = factories.create_user("applicant", ags=PLAUEN, name="Pia Plauen-Person")
    finance = factories.create_user("finance", name="Fritz Finanz-Person")
    first = approved_grant(zittau, grant_cents=4_000_000)
    confirmed_account(zittau, finance)
    second = approved_grant(pirna, grant_cents=4_000_001)
    adjust.reduce_granted(finance, second, 3_000_000)
    pending = factories.submitted_application(plauen)
    pending.title = "Noch nicht bewilligter Antrag Plauen"
    draft = factories.complete_application(plauen)
    draft.title = "Entwurf Plauen"
    db.session.flush()
    return {"first": first, "second": second, "pending": pending, "draft": draft}


def _package(grants=None) -> bytes:
    return giving.package_json(grants or giving.awarded_grants(), modified=NOW)


def test_package_validates_against_the_360giving_schema(published):
    data = _package()
    assert giving.validation_errors(data) == []
    package = json.loads(data, parse_float=Decimal)
    assert package["version"] == "1.4"
    ids = {g["id"] for g in package["grants"]}
    assert ids == {
        f"360G-KommPraev-{published['first'].reference}",
        f"360G-KommPraev-{published['second'].reference}",
    }


def test_validation_notices_a_broken_package(published):
    package = json.loads(_package())
    del package["grants"][0]["currency"]
    package["grants"][1]["awardDate"] = "01.02.2027"
    errors = giving.validation_errors(json.dumps(package).encode())
    assert any("currency" in e for e in errors), errors
    assert any(e.startswith("grants/1/awardDate") for e in errors), errors


def test_only_approved_grants_with_amount_after_reduction_are_published(published):
    package = json.loads(_package(), parse_float=Decimal)
    by_recipient = {g["recipientOrganization"][0]["id"]: g for g in package["grants"]}
    zittau = by_recipient[f"360G-KommPraev-AGS-{ZITTAU}"]
    pirna = by_recipient[f"360G-KommPraev-AGS-{PIRNA}"]
    # exact amounts from integer cents, never through a float
    assert zittau["amountAwarded"] == Decimal("40000.00")
    assert pirna["amountAwarded"] == Decimal("30000.00")
    assert b'"amountAwarded": 40000.00' in _package()
    decided = published["first"].status  # noqa: F841 - the award date is the approval's date
    assert zittau["currency"] == "EUR"
    assert zittau["awardDate"] == giving.awarded_grants()[0].award_date.isoformat()
    assert zittau["beneficiaryLocation"][0]["geoCode"] == ZITTAU
    assert zittau["fundingOrganization"][0]["id"] == "360G-KommPraev-SMI"
    assert zittau["grantProgramme"][0]["code"] == "RL-KommPraev"
    assert zittau["classifications"][0]["code"] == "awarded"


def test_revoked_grant_is_marked_not_dropped(published):
    application = published["first"]
    db.session.add(
        RevocationCase(
            application_id=application.id,
            reason=RevocationReason.MISUSE,
            previous_status=Status.RUNNING,
            facts_known_on=date(2027, 6, 1),
            closed_on=date(2027, 7, 1),
            outcome="revoked",
        )
    )
    db.session.flush()
    grants = {g.reference: g for g in giving.awarded_grants()}
    assert grants[application.reference].status == "revoked"
    assert grants[published["second"].reference].status == "awarded"
    package = json.loads(_package())
    codes = {g["id"]: g["classifications"][0]["code"] for g in package["grants"]}
    assert codes[f"360G-KommPraev-{application.reference}"] == "revoked"


def test_nothing_private_leaks(published):
    grants = giving.awarded_grants()
    texts = [
        _package(grants).decode(),
        giving.spreadsheet_csv(grants, modified=NOW).decode(),
    ]
    workbook = openpyxl.load_workbook(io.BytesIO(giving.spreadsheet_xlsx(grants, modified=NOW)))
    texts.append(
        " ".join(str(c) for row in workbook["grants"].iter_rows(values_only=True) for c in row)
    )
    for text in texts:
        assert IBAN not in text and "DE89" not in text
        for person in ("Zittau-Person", "Pirna-Person", "Plauen-Person", "Finanz-Person"):
            assert person not in text
        assert "Noch nicht bewilligter Antrag" not in text
        assert "Entwurf Plauen" not in text
        assert "@" not in text  # no e-mail addresses


def test_spreadsheet_form_has_exact_amounts(published):
    grants = giving.awarded_grants()
    rows = list(csv.DictReader(io.StringIO(giving.spreadsheet_csv(grants, modified=NOW).decode())))
    assert sorted(r["Amount Awarded"] for r in rows) == ["30000.00", "40000.00"]
    assert {r["Recipient Org:Identifier"] for r in rows} == {
        f"360G-KommPraev-AGS-{ZITTAU}",
        f"360G-KommPraev-AGS-{PIRNA}",
    }
    sheet = openpyxl.load_workbook(io.BytesIO(giving.spreadsheet_xlsx(grants, modified=NOW)))[
        "grants"
    ]
    header, *body = list(sheet.iter_rows(values_only=True))
    amount = header.index("Amount Awarded")
    assert sorted(row[amount] for row in body) == [30000, 40000]


def test_formula_like_titles_are_neutralised_in_spreadsheets(published):
    published["first"].title = '=HYPERLINK("http://x")'
    db.session.flush()
    text = giving.spreadsheet_csv(giving.awarded_grants(), modified=NOW).decode()
    assert "'=HYPERLINK" in text


def test_public_page_lists_grants_without_login(client, published, count_statements):
    with count_statements() as few:
        response = client.get("/foerderungen")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Geförderte Vorhaben" in html
    assert published["first"].title in html
    assert "Noch nicht bewilligter Antrag" not in html and "Entwurf Plauen" not in html
    assert "2 Zuwendungen" in html and "70.000,00" in html
    filtered = client.get(f"/foerderungen?kreis={published['first'].organisation.kreis_key}")
    assert "1 Zuwendung," in filtered.get_data(as_text=True)
    # more grants, same number of statements
    approved_grant(factories.create_user("applicant", ags="14511000"), grant_cents=2_000_000)
    db.session.flush()
    with count_statements() as many:
        client.get("/foerderungen")
    assert len(many) == len(few), (few, many)


def test_public_page_names_invalid_filters(client, published):
    html = client.get("/foerderungen?jahr=20x7&kreis=99999").get_data(as_text=True)
    assert "Das Förderjahr „20x7“ ist ungültig." in html
    assert "Der Landkreis „99999“ ist unbekannt." in html


def test_downloads_are_public_and_valid(client, published):
    response = client.get("/foerderungen/360giving.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert giving.validation_errors(response.data) == []
    assert "attachment" in response.headers["Content-Disposition"]
    assert client.get("/foerderungen/360giving.csv").status_code == 200
    xlsx = client.get("/foerderungen/360giving.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get("/foerderungen/360giving.xml").status_code == 404


def test_download_without_any_grant_is_404(client, app_ctx):
    assert client.get("/foerderungen/360giving.json").status_code == 404


def test_cli_export_writes_validated_files(runner, published, tmp_path):
    result = runner.invoke(args=["opendata", "export", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "2 Zuwendungen veröffentlicht" in result.output
    data = (tmp_path / "out" / "kommpraev-360giving.json").read_bytes()
    assert giving.validation_errors(data) == []
    assert (tmp_path / "out" / "kommpraev-360giving.csv").exists()
    assert (tmp_path / "out" / "kommpraev-360giving.xlsx").exists()
