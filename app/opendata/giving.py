"""Open data of awarded grants in the 360Giving Data Standard 1.4.3 (§ 44a SäHO publicity).

Only what may be published: approved decisions (no drafts, no applications in review, no rejected
ones), the organisation as recipient (a public body: Gemeinde or Landkreis, no person), no bank
data, no names of staff. The amount is the one granted after reductions (the grant account's
``granted_cents`` where money has been committed, else the decision's amount); revoked grants and
grants the recipient renounced stay in the data and are marked (classification
``KommPraev-Status``), so that the publication does not silently change history.

Identifiers (org-id.guide has no register for German public bodies without a commercial or
association register entry; 360Giving's guidance for such organisations is a publisher-prefixed
identifier, see docs/opendata.md):

* grant: ``360G-KommPraev-<Aktenzeichen>`` (the application's reference, stable and unique);
* recipient: ``360G-KommPraev-AGS-<Amtlicher Gemeindeschlüssel>`` for Gemeinden and
  ``360G-KommPraev-KS-<Kreisschlüssel>`` for Landkreise, the AGS also as beneficiary location;
* funder: ``360G-KommPraev-SMI`` (Sächsisches Staatsministerium des Innern, Geschäftsstelle des
  Landespräventionsrates).

Money is integer cents; JSON numbers are written from the cents exactly (no float), the
spreadsheet form has the amount as decimal text (CSV) or an exact decimal cell (XLSX).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Select, and_, exists, func, select

from app.common.db import as_utc
from app.common.formatting import BERLIN
from app.extensions import db
from app.finance.models import GrantAccount
from app.grants.models import Application, Decision, DecisionStatus, Status
from app.orgs.models import Organisation, OrgKind
from app.postaward.models import RevocationCase

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
GRANT_SCHEMA_1_4_2 = (
    "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/"
    "360-giving-schema.json"
)
PREFIX = "360G-KommPraev"
FUNDER = {
    "id": f"{PREFIX}-SMI",
    "name": "Sächsisches Staatsministerium des Innern",
    "department": "Geschäftsstelle des Landespräventionsrates Sachsen",
}
PROGRAMME = {
    "code": "RL-KommPraev",
    "title": "RL KommPräv – Förderung Kommunaler Präventionsräte (Allianz Sichere Sächsische "
    "Kommunen)",
}
STATUS_VOCABULARY = "KommPraev-Status"
STATUS_TITLES = {"awarded": "bewilligt", "revoked": "widerrufen", "withdrawn": "Verzicht"}
#: Rows per page on the public list.
PAGE_SIZE = 50


@dataclass(frozen=True)
class AwardedGrant:
    """One published grant (only public facts)."""

    reference: str
    title: str
    purpose: str
    amount_cents: int
    award_date: date
    period_start: date
    period_end: date
    funding_year: int
    recipient_name: str
    recipient_kind: OrgKind
    ags: str | None
    kreis_key: str
    kreis_name: str
    status: str  # awarded / revoked / withdrawn

    @property
    def recipient_id(self) -> str:
        if self.recipient_kind is OrgKind.LANDKREIS or not self.ags:
            return f"{PREFIX}-KS-{self.kreis_key}"
        return f"{PREFIX}-AGS-{self.ags}"


@dataclass(frozen=True)
class GrantFilter:
    funding_year: int | None = None
    kreis_key: str | None = None


def _status(application_status: Status, revoked: bool) -> str:
    if revoked:
        return "revoked"
    if application_status is Status.WITHDRAWN:
        return "withdrawn"
    return "awarded"


_S = TypeVar("_S", bound="Select[*tuple[Any, ...]]")


def _approved(stmt: _S, f: GrantFilter) -> _S:
    """``stmt`` over approved decisions with their application, organisation and grant account,
    narrowed by the filter."""
    stmt = (
        stmt.select_from(Decision)
        .join(Application, Decision.application_id == Application.id)
        .join(Organisation, Application.organisation_id == Organisation.id)
        .outerjoin(GrantAccount, GrantAccount.application_id == Application.id)
        .where(Decision.status == DecisionStatus.APPROVED, Decision.decided_at.is_not(None))
    )
    if f.funding_year is not None:
        stmt = stmt.where(Application.funding_year == f.funding_year)
    if f.kreis_key:
        stmt = stmt.where(Organisation.kreis_key == f.kreis_key)
    return stmt


def awarded_grants(
    f: GrantFilter | None = None, *, limit: int | None = None, offset: int = 0
) -> list[AwardedGrant]:
    """Approved grants, newest award first — one SQL statement."""
    f = f or GrantFilter()
    revoked = exists().where(
        and_(
            RevocationCase.application_id == Application.id,
            RevocationCase.outcome == "revoked",
        )
    )
    stmt = select(
        Application.reference,
        Application.title,
        Decision.purpose,
        func.coalesce(GrantAccount.granted_cents, Decision.grant_cents),
        Decision.decided_at,
        Decision.period_start,
        Decision.period_end,
        Application.funding_year,
        Organisation.name,
        Organisation.kind,
        Organisation.ags,
        Organisation.kreis_key,
        Organisation.kreis_name,
        Application.status,
        revoked.label("revoked"),
    )
    stmt = _approved(stmt, f).order_by(Decision.decided_at.desc(), Application.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [
        AwardedGrant(
            reference=row[0] or "",
            title=row[1],
            purpose=row[2],
            amount_cents=int(row[3]),
            award_date=as_utc(row[4]).astimezone(BERLIN).date(),  # type: ignore[union-attr]
            period_start=row[5],
            period_end=row[6],
            funding_year=row[7],
            recipient_name=(f"Landkreis {row[8]}" if row[9] is OrgKind.LANDKREIS else row[8]),
            recipient_kind=row[9],
            ags=row[10],
            kreis_key=row[11],
            kreis_name=row[12],
            status=_status(row[13], bool(row[14])),
        )
        for row in db.session.execute(stmt).all()
    ]


def count_grants(f: GrantFilter) -> tuple[int, int]:
    """Number and total amount (cents) of the grants matching ``f`` — one SQL statement."""
    amount = func.coalesce(GrantAccount.granted_cents, Decision.grant_cents)
    stmt = _approved(select(func.count(Decision.id), func.coalesce(func.sum(amount), 0)), f)
    count, total = db.session.execute(stmt).one()
    return int(count), int(total)


def _amount(cents: int) -> str:
    """Placeholder that ``package_json`` turns into an exact JSON number."""
    return f"__CENTS_{cents}__"


_AMOUNT_RE = re.compile(r'"__CENTS_(-?\d+)__"')


def _number(match: re.Match[str]) -> str:
    cents = int(match.group(1))
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros}.{rest:02d}"


def grant_record(grant: AwardedGrant, *, modified: datetime) -> dict[str, Any]:
    """One grant in the 360Giving structure (amounts as placeholders, see ``package_json``)."""
    location = {
        "id": f"AGS-{grant.ags}" if grant.ags else f"KS-{grant.kreis_key}",
        "name": grant.recipient_name,
        "countryCode": "DE",
        "geoCode": grant.ags or grant.kreis_key,
    }
    return {
        "id": f"{PREFIX}-{grant.reference}",
        "title": grant.title,
        "description": grant.purpose or grant.title,
        "currency": "EUR",
        "amountAwarded": _amount(grant.amount_cents),
        "awardDate": grant.award_date.isoformat(),
        "plannedDates": [
            {"startDate": grant.period_start.isoformat(), "endDate": grant.period_end.isoformat()}
        ],
        "recipientOrganization": [
            {
                "id": grant.recipient_id,
                "name": grant.recipient_name,
                "addressRegion": grant.kreis_name,
                "addressCountry": "DE",
            }
        ],
        "beneficiaryLocation": [location],
        "locationScope": "GLS050",
        "fundingOrganization": [FUNDER],
        "grantProgramme": [PROGRAMME],
        "classifications": [
            {
                "vocabulary": STATUS_VOCABULARY,
                "code": grant.status,
                "title": STATUS_TITLES[grant.status],
            }
        ],
        "dateModified": modified.isoformat(),
    }


def package_json(grants: Sequence[AwardedGrant], *, modified: datetime) -> bytes:
    """The 360Giving JSON package (UTF-8). Amounts become JSON numbers with two decimals, written
    from the integer cents (never through a float)."""
    issued = modified
    package = {
        "version": "1.4",
        "title": "RL KommPräv – bewilligte Zuwendungen",
        "description": "Bewilligte Zuwendungen an Kommunen für die Koordinierungsstellen "
        "Kommunaler Präventionsräte im Freistaat Sachsen (RL KommPräv).",
        "issued": issued.isoformat(),
        "modified": issued.isoformat(),
        "identifier": f"{PREFIX}-{issued:%Y%m%d}",
        "publisher": {"identifier": FUNDER["id"], "name": FUNDER["name"]},
        "license": "https://www.govdata.de/dl-de/by-2-0",
        "grants": [grant_record(g, modified=issued) for g in grants],
    }
    text = json.dumps(package, ensure_ascii=False, indent=1)
    return _AMOUNT_RE.sub(_number, text).encode("utf-8")


#: The spreadsheet form (column titles of 360Giving's flattened template).
SPREADSHEET_COLUMNS = (
    "Identifier",
    "Title",
    "Description",
    "Currency",
    "Amount Awarded",
    "Award Date",
    "Planned Dates:Start Date",
    "Planned Dates:End Date",
    "Recipient Org:Identifier",
    "Recipient Org:Name",
    "Recipient Org:Region",
    "Recipient Org:Country",
    "Beneficiary Location:Name",
    "Beneficiary Location:Country Code",
    "Beneficiary Location:Geographic Code",
    "Location Scope",
    "Funding Org:Identifier",
    "Funding Org:Name",
    "Funding Org:Department",
    "Grant Programme:Code",
    "Grant Programme:Title",
    "Classifications:Vocabulary",
    "Classifications:Code",
    "Classifications:Title",
    "Last Modified",
)


def spreadsheet_rows(
    grants: Sequence[AwardedGrant], *, modified: datetime
) -> list[tuple[Any, ...]]:
    """Rows of the flattened form; the amount as an exact ``Decimal``."""
    rows = []
    for g in grants:
        rows.append(
            (
                f"{PREFIX}-{g.reference}",
                g.title,
                g.purpose or g.title,
                "EUR",
                Decimal(g.amount_cents).scaleb(-2),
                g.award_date.isoformat(),
                g.period_start.isoformat(),
                g.period_end.isoformat(),
                g.recipient_id,
                g.recipient_name,
                g.kreis_name,
                "DE",
                g.recipient_name,
                "DE",
                g.ags or g.kreis_key,
                "GLS050",
                FUNDER["id"],
                FUNDER["name"],
                FUNDER["department"],
                PROGRAMME["code"],
                PROGRAMME["title"],
                STATUS_VOCABULARY,
                g.status,
                STATUS_TITLES[g.status],
                modified.isoformat(),
            )
        )
    return rows


def spreadsheet_csv(grants: Sequence[AwardedGrant], *, modified: datetime) -> bytes:
    """CSV of the flattened form (comma, decimal point, UTF-8) as 360Giving tools read it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SPREADSHEET_COLUMNS)
    for row in spreadsheet_rows(grants, modified=modified):
        writer.writerow([f"{v:.2f}" if isinstance(v, Decimal) else _safe_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def _safe_cell(value: Any) -> Any:
    """Text starting like a formula is prefixed with an apostrophe (spreadsheet injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def spreadsheet_xlsx(grants: Sequence[AwardedGrant], *, modified: datetime) -> bytes:
    """XLSX of the flattened form: sheet "grants", amounts as exact numbers."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("grants")
    sheet.append(SPREADSHEET_COLUMNS)
    for row in spreadsheet_rows(grants, modified=modified):
        sheet.append([_safe_cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@cache
def _validator() -> Any:
    """A Draft 2020-12 validator of the package schema that resolves the grant schema offline
    (see ``schema/SOURCES.md`` for the two quirks). Formats are checked: the schema's dates are
    ``oneOf`` a date-time (RFC 3339, checked with ``rfc3339-validator``) or a plain date, so an
    unchecked date-time format would make every plain date match both."""
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    grant = json.loads((SCHEMA_DIR / "360-giving-schema.json").read_text(encoding="utf-8"))
    package = json.loads(
        (SCHEMA_DIR / "360-giving-package-schema.json").read_text(encoding="utf-8")
    )
    grant_resource = DRAFT202012.create_resource(grant)
    registry = Registry().with_resources(
        [
            (grant["$id"], grant_resource),
            (GRANT_SCHEMA_1_4_2, grant_resource),
            (package["$id"], DRAFT202012.create_resource(package)),
        ]
    )
    return Draft202012Validator(
        package, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def validation_errors(data: bytes) -> list[str]:
    """Schema errors of a JSON package (empty list: valid). Numbers are read as ``Decimal``."""
    document = json.loads(data, parse_float=Decimal)
    messages: list[str] = []
    for error in _validator().iter_errors(document):
        # A grant is ``oneOf`` (to an organisation | to an individual): name the reasons of the
        # organisation branch (the one this publication uses), not only "valid under none".
        causes = [e for e in error.context or () if list(e.relative_schema_path)[:1] == [0]]
        for cause in causes or [error]:
            path = "/".join(str(p) for p in cause.absolute_path)
            messages.append(f"{path}: {cause.message}")
    return list(dict.fromkeys(messages))
