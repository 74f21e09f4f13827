"""SEPA texts, bank details and pain.001 files (``app.finance.sepa``; R31, R32).

The module under test is pure, so these tests need no database: ``_db_transaction`` below
replaces the project-wide autouse fixture of ``tests/conftest.py`` for this module only. Fixture
files live in ``tests/finance/fixtures`` (provenance in ``SOURCES.md`` there).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from app.finance import sepa
from app.finance.sepa import (
    BankDetailError,
    Pain001Error,
    Pain001SchemaError,
    Transfer,
    build_pain001,
    end_to_end_id,
    parse_pain001_summary,
    remittance,
    transliterate,
    validate_bic,
    validate_iban,
)

FIXTURES = Path(__file__).parent / "fixtures"
SEPA_TEXT = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]*")
NS09 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
NS03 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"

# Valid IBANs (correct ISO 7064 check digits) and BICs.
IBAN_LANDESKASSE = "DE02120300000000202051"
IBAN_A = "DE89370400440532013000"
IBAN_B = "DE02500105170137075030"
IBAN_C = "DE12500105170648489890"
BIC_A = "COBADEFFXXX"


@pytest.fixture(autouse=True)
def _db_transaction() -> Iterator[None]:
    """Override the conftest fixture: these tests touch no database (and prove they need none)."""
    yield


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _iso_schema(schema: str = "pain.001.001.09") -> etree.XMLSchema:
    """The ISO XSD shipped in the pinned sepaxml package, loaded independently of the module."""
    xsd = resources.files("sepaxml").joinpath("schemas", f"{schema}.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(xsd, _parser()))


def _transfer(n: int, amount_cents: int, **changes: object) -> Transfer:
    kz = f"KP-2027-{n:04d}"
    base = Transfer(
        end_to_end_id=end_to_end_id(kz, 1),
        creditor_name=f"Große Kreisstadt Görlitz {n}",
        creditor_iban=(IBAN_A, IBAN_B, IBAN_C)[n % 3],
        creditor_bic=BIC_A if n % 2 else None,
        amount_cents=amount_cents,
        remittance=remittance(kz, f"SMI-3-2027/{n:04d}", 1, "14626110"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _build(payments: list[Transfer], **kwargs: object) -> bytes:
    args: dict[str, object] = {
        "msg_id": "KP-ZL-2027-0001",
        "created_at": datetime(2027, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
        "execution_date": date(2027, 3, 3),
        "debtor_name": "Landeskasse Sachsen – Zahlstelle Kamenz",
        "debtor_iban": IBAN_LANDESKASSE,
        "debtor_bic": "MARKDEF1850",
        "payments": payments,
    }
    args.update(kwargs)
    return build_pain001(**args)  # type: ignore[arg-type]


THREE = [_transfer(1, 1_000_000), _transfer(2, 123_457), _transfer(3, 1)]  # sum 1 123 458 cents


def _texts(xml: bytes, path: str, ns: str = NS09) -> list[str]:
    root = etree.fromstring(xml, _parser())
    return [e.text for e in root.iterfind(path.replace("{ns}", f"{{{ns}}}"))]


# --- transliteration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kämmerei Görlitz – Straße", "Kaemmerei Goerlitz - Strasse"),
        ("ÄÖÜ äöü ß", "AeOeUe aeoeue ss"),
        ("GROẞE", "GROSSE"),
        ("a\u0308rger", "aerger"),  # decomposed umlaut (a + combining diaeresis)
        ("Café Élysée, Ñandú, Å", "Cafe Elysee, Nandu, A"),
        ("Łódź Øresund Æble Œuvre", "Lodz Oresund Aeble Oeuvre"),
        ("100 €", "100 EUR"),
        ("Müller & Söhne", "Mueller + Soehne"),
        ("O’Brien — „Sicher leben“", "O'Brien - Sicher leben"),
        ("50% @home #1; a_b * c", "50 home 1 a b c"),
        ("  Tab\tand\nnew\u00a0line  ", "Tab and new line"),
        ("/-?:().,'+ ok", "/-?:().,'+ ok"),
        ("ﬁnal Ｘ ²", "final X 2"),
        ("", ""),
    ],
)
def test_transliterate_table(text, expected):
    assert transliterate(text) == expected


@given(st.text(max_size=200))
def test_transliterate_output_is_sepa_charset_collapsed_and_idempotent(text):
    out = transliterate(text)
    assert SEPA_TEXT.fullmatch(out)
    assert "  " not in out and out == out.strip()
    assert transliterate(out) == out


# --- R31: EndToEndId and remittance text -------------------------------------------------------


def test_R31_end_to_end_id_is_kassenzeichen_plus_instalment():
    assert end_to_end_id("KP-2027-0042", 1) == "KP-2027-0042-R1"
    assert end_to_end_id("KP-2027-0042", 12) == "KP-2027-0042-R12"


def test_R31_end_to_end_id_length_limit_35():
    assert len(end_to_end_id("K" * 32, 1)) == 35
    with pytest.raises(ValueError, match="35"):
        end_to_end_id("K" * 33, 1)
    with pytest.raises(ValueError, match="35"):
        end_to_end_id("KP-2027-" + "0" * 29, 1)  # a 40-character EndToEndId


@pytest.mark.parametrize(
    "kassenzeichen", ["", "KP_2027_0042", "KP-2027-Ö042", " KP-1", "KP-1 ", "/KP-1", "KP//1"]
)
def test_R31_end_to_end_id_refuses_bad_kassenzeichen(kassenzeichen):
    with pytest.raises(ValueError):
        end_to_end_id(kassenzeichen, 1)


@pytest.mark.parametrize("number", [0, -1, True, 1.0, "1"])
def test_R31_end_to_end_id_refuses_bad_instalment(number):
    with pytest.raises(ValueError):
        end_to_end_id("KP-2027-0042", number)


def test_R31_remittance_format_charset_and_length():
    text = remittance("KP-2027-0042", "SMI-3-2027/0042", 2, "14626110")
    assert text == "KP-2027-0042 SMI-3-2027/0042 RL KommPraev Rate 2 14626110"
    assert SEPA_TEXT.fullmatch(text) and len(text) <= 140


def test_R31_remittance_transliterates_aktenzeichen():
    text = remittance("KP-2027-0042", "Gö/Straße_12 §3", 1, "14626110")
    assert text == "KP-2027-0042 Goe/Strasse 12 3 RL KommPraev Rate 1 14626110"


def test_R31_remittance_too_long_keeps_kassenzeichen_and_ags():
    text = remittance("KP-2027-0042", "Aktenzeichen " + "Ä" * 200, 3, "14626110")
    assert len(text) == 140
    assert text.startswith("KP-2027-0042 Aktenzeichen Ae")
    assert text.endswith(" RL KommPraev Rate 3 14626110")
    assert SEPA_TEXT.fullmatch(text)


def test_R31_remittance_last_resort_cut_still_starts_with_kassenzeichen():
    text = remittance("KP-2027-0042", "AZ 1", 1, "9" * 200)
    assert len(text) == 140
    assert text.startswith("KP-2027-0042 RL KommPraev Rate 1 999")


@given(
    kz=st.from_regex(r"[A-Z]{2}-[0-9]{4}-[0-9]{1,20}", fullmatch=True),
    az=st.text(max_size=300),
    n=st.integers(min_value=1, max_value=99),
    ags=st.text(max_size=20),
)
def test_R31_remittance_property_starts_with_kassenzeichen_fits_140(kz, az, n, ags):
    text = remittance(kz, az, n, ags)
    assert text.startswith(kz + " ")
    assert len(text) <= 140
    assert SEPA_TEXT.fullmatch(text)


# --- IBAN and BIC ------------------------------------------------------------------------------


def test_validate_iban_returns_compact_upper_case():
    assert validate_iban(" de89 3704 0044\u00a00532 0130 00 ") == IBAN_A


@pytest.mark.parametrize(
    ("text", "message", "code"),
    [
        ("DE88 3704 0044 0532 0130 00", "Die IBAN ist ungültig (Prüfziffer).", "checksum"),
        ("DE89 3704 0044 0532 0130 0", "Die IBAN hat eine falsche Länge.", "length"),
        ("XX89 3704 0044 0532 0130 00", "Unbekanntes Länderkennzeichen.", "country"),
        ("DE89-3704-0044", "Die IBAN enthält ungültige Zeichen", "structure"),
        ("DE89 3704 0044 0532 0130 0A", "Die IBAN enthält ungültige Zeichen", "structure"),
        ("   ", "Bitte geben Sie eine IBAN an.", "empty"),
    ],
)
def test_validate_iban_german_messages(text, message, code):
    with pytest.raises(BankDetailError) as info:
        validate_iban(text)
    assert str(info.value).startswith(message)
    assert info.value.code == code
    assert isinstance(info.value, ValueError)


def test_validate_bic_accepts_8_and_11_characters():
    assert validate_bic("cobadeff") == "COBADEFF"
    assert validate_bic("COBA DE FF XXX") == "COBADEFFXXX"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("COBADEF", "Der BIC hat eine falsche Länge (8 oder 11 Zeichen)."),
        ("COBAXXFF", "Unbekanntes Länderkennzeichen."),
        ("COBADEF!", "Der BIC ist ungültig."),
        ("", "Bitte geben Sie einen BIC an."),
    ],
)
def test_validate_bic_german_messages(text, message):
    with pytest.raises(BankDetailError, match=re.escape(message)):
        validate_bic(text)


# --- pain.001: schema validity and content -----------------------------------------------------


def test_build_pain001_three_payments_validate_against_iso_xsd():
    xml = _build(THREE)
    schema = _iso_schema()
    assert schema.validate(etree.fromstring(xml, _parser())), schema.error_log
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


def test_iso_schema_accepts_the_fixture_that_german_banks_would_refuse():
    """The ISO XSD alone is not enough (GBIC subset: CtrlSum required, counts must match):
    the fixture validates against ISO, while our summary check exposes its count mismatch."""
    fixture = (FIXTURES / "pain.001.001.09_sebastienrousseau-pain001.xml").read_bytes()
    assert _iso_schema().validate(etree.fromstring(fixture, _parser()))
    summary = parse_pain001_summary(fixture)
    assert summary.ctrl_sum_cents is None and summary.nb_of_txs != len(summary.transactions)


def test_R32_nboftxs_and_ctrlsum_at_group_and_payment_level():
    xml = _build(THREE)
    for level in ("GrpHdr", "PmtInf"):
        assert _texts(xml, f"{{ns}}CstmrCdtTrfInitn/{{ns}}{level}/{{ns}}NbOfTxs") == ["3"]
        assert _texts(xml, f"{{ns}}CstmrCdtTrfInitn/{{ns}}{level}/{{ns}}CtrlSum") == ["11234.58"]
    assert _texts(xml, ".//{ns}InstdAmt") == ["10000.00", "1234.57", "0.01"]
    assert parse_pain001_summary(xml) == (
        3,
        1_123_458,
        [("KP-2027-0001-R1", 1_000_000), ("KP-2027-0002-R1", 123_457), ("KP-2027-0003-R1", 1)],
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=12))
def test_R32_roundtrip_exact_integer_cents_property(amounts):
    payments = [_transfer(i, cents) for i, cents in enumerate(amounts, start=1)]
    xml = _build(payments)
    nb, ctrl, txs = parse_pain001_summary(xml)
    assert nb == len(amounts)
    assert ctrl == sum(amounts)
    assert [cents for _, cents in txs] == amounts
    assert all(type(cents) is int for _, cents in txs) and type(ctrl) is int
    total = sum(amounts)
    expected = f"{total // 100}.{total % 100:02d}"
    assert _texts(xml, ".//{ns}CtrlSum") == [expected, expected]
    assert Decimal(expected) * 100 == total


def test_build_pain001_fixed_values_and_fields():
    xml = _build(THREE)
    root = etree.fromstring(xml, _parser())
    ns = {"p": NS09}
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=ns) == "KP-ZL-2027-0001"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CreDtTm", namespaces=ns) == (
        "2027-03-01T09:30:15+00:00"
    )
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", namespaces=ns)
    assert info.findtext("p:PmtInfId", namespaces=ns) == "KP-ZL-2027-0001"
    assert info.findtext("p:PmtMtd", namespaces=ns) == "TRF"
    assert info.findtext("p:PmtTpInf/p:SvcLvl/p:Cd", namespaces=ns) == "SEPA"
    assert info.findtext("p:ReqdExctnDt/p:Dt", namespaces=ns) == "2027-03-03"
    assert info.findtext("p:ChrgBr", namespaces=ns) == "SLEV"
    assert info.findtext("p:Dbtr/p:Nm", namespaces=ns) == "Landeskasse Sachsen - Zahlstelle Kamenz"
    assert info.findtext("p:DbtrAgt/p:FinInstnId/p:BICFI", namespaces=ns) == "MARKDEF1850"
    assert root.find(".//p:UETR", namespaces=ns) is None
    assert root.find(".//p:PstlAdr", namespaces=ns) is None
    txs = info.findall("p:CdtTrfTxInf", namespaces=ns)
    assert [t.findtext("p:PmtId/p:EndToEndId", namespaces=ns) for t in txs] == [
        "KP-2027-0001-R1",
        "KP-2027-0002-R1",
        "KP-2027-0003-R1",
    ]
    assert [t.find("p:CdtrAgt", namespaces=ns) is not None for t in txs] == [True, False, True]
    assert txs[0].findtext("p:Cdtr/p:Nm", namespaces=ns) == "Grosse Kreisstadt Goerlitz 1"
    assert txs[0].findtext("p:RmtInf/p:Ustrd", namespaces=ns) == (
        "KP-2027-0001 SMI-3-2027/0001 RL KommPraev Rate 1 14626110"
    )
    assert {t.find("p:Amt/p:InstdAmt", namespaces=ns).get("Ccy") for t in txs} == {"EUR"}


def test_build_pain001_without_debtor_bic_uses_notprovided():
    xml = _build(THREE, debtor_bic=None)
    assert _texts(xml, ".//{ns}DbtrAgt/{ns}FinInstnId/{ns}Othr/{ns}Id") == ["NOTPROVIDED"]
    assert _texts(xml, ".//{ns}DbtrAgt/{ns}FinInstnId/{ns}BICFI") == []


def test_build_pain001_names_cut_to_70_and_text_transliterated():
    long_name = "Zweckverband für Kriminalprävention im Landkreis Görlitz und Umgebung e. V. Ost"
    xml = _build([_transfer(1, 500, creditor_name=long_name)], debtor_name="Ä" * 80)
    (name,) = _texts(xml, ".//{ns}Cdtr/{ns}Nm")
    assert len(name) <= 70 and SEPA_TEXT.fullmatch(name)
    assert name.startswith("Zweckverband fuer Kriminalpraevention im Landkreis Goerlitz")
    assert all(len(n) == 70 for n in _texts(xml, ".//{ns}Dbtr/{ns}Nm"))
    for text in _texts(xml, ".//{ns}Nm") + _texts(xml, ".//{ns}Ustrd"):
        assert SEPA_TEXT.fullmatch(text)


def test_build_pain001_batch_booking_flag():
    assert _texts(_build(THREE), ".//{ns}BtchBookg") == ["false"]
    assert _texts(_build(THREE, batch_booking=True), ".//{ns}BtchBookg") == ["true"]


def test_build_pain001_is_deterministic():
    assert _build(THREE) == _build(THREE)


def test_build_pain001_legacy_schema_03_validates():
    xml = _build(THREE, schema="pain.001.001.03")
    schema = _iso_schema("pain.001.001.03")
    assert schema.validate(etree.fromstring(xml, _parser())), schema.error_log
    assert _texts(xml, ".//{ns}PmtInf/{ns}ReqdExctnDt", NS03) == ["2027-03-03"]
    assert _texts(xml, ".//{ns}DbtrAgt/{ns}FinInstnId/{ns}BIC", NS03) == ["MARKDEF1850"]
    assert parse_pain001_summary(xml).ctrl_sum_cents == 1_123_458


# --- pain.001: refusals ------------------------------------------------------------------------


def test_build_pain001_refuses_empty_payment_list():
    with pytest.raises(Pain001Error, match="ohne Zahlungen"):
        _build([])


def test_build_pain001_refuses_duplicate_end_to_end_id():
    payments = [_transfer(1, 100), _transfer(2, 200, end_to_end_id="KP-2027-0001-R1")]
    with pytest.raises(Pain001Error, match="Doppelte EndToEndId"):
        _build(payments)


@pytest.mark.parametrize("amount", [0, -1, -100_00])
def test_build_pain001_refuses_non_positive_amounts(amount):
    with pytest.raises(Pain001Error, match="positiv"):
        _build([_transfer(1, 100), _transfer(2, amount)])


@pytest.mark.parametrize("amount", [12.5, Decimal("12.50"), "1250", True])
def test_build_pain001_refuses_non_integer_amounts(amount):
    with pytest.raises(Pain001Error, match="ganzen Cent"):
        _build([_transfer(1, amount)])


def test_build_pain001_refuses_amount_above_sepa_maximum():
    _build([_transfer(1, sepa.MAX_AMOUNT_CENTS)])
    with pytest.raises(Pain001Error, match="999.999.999,99"):
        _build([_transfer(1, sepa.MAX_AMOUNT_CENTS + 1)])


def test_build_pain001_refuses_40_character_end_to_end_id():
    e2e = "KP-2027-" + "0" * 29 + "-R1"
    assert len(e2e) == 40
    with pytest.raises(ValueError, match="35"):
        _build([_transfer(1, 100, end_to_end_id=e2e)])


@pytest.mark.parametrize("msg_id", ["", "M" * 36, "Zahllauf_1", "Zahllauf Ä"])
def test_R32_build_pain001_refuses_bad_msg_id(msg_id):
    with pytest.raises(ValueError):
        _build(THREE, msg_id=msg_id)


def test_build_pain001_refuses_invalid_creditor_iban_with_context():
    with pytest.raises(Pain001Error, match=r"KP-2027-0002-R1: .*Prüfziffer") as info:
        _build([_transfer(1, 100), _transfer(2, 100, creditor_iban="DE88370400440532013000")])
    assert isinstance(info.value.__cause__, BankDetailError)


def test_build_pain001_refuses_invalid_debtor_bank_details():
    with pytest.raises(Pain001Error, match="Auftraggeber"):
        _build(THREE, debtor_iban="DE00")
    with pytest.raises(Pain001Error, match="Auftraggeber"):
        _build(THREE, debtor_bic="NOPE")


def test_build_pain001_refuses_remittance_over_140_and_empty():
    with pytest.raises(Pain001Error, match="140"):
        _build([_transfer(1, 100, remittance="ü" * 71)])  # 142 after transliteration
    with pytest.raises(Pain001Error, match="Verwendungszweck fehlt"):
        _build([_transfer(1, 100, remittance=" \t ")])


def test_build_pain001_refuses_unsupported_schema_and_bad_dates():
    with pytest.raises(Pain001Error, match="Schema"):
        _build(THREE, schema="pain.001.001.11")
    with pytest.raises(Pain001Error, match="execution_date"):
        _build(THREE, execution_date=datetime(2027, 3, 3, 12, 0))


def test_build_pain001_raises_when_the_xsd_rejects_the_file(monkeypatch):
    """The XSD check inside build_pain001 is live: a corrupted amount string is caught."""
    monkeypatch.setattr(sepa, "_cents_to_decimal", lambda cents: f"{cents}EUR")
    with pytest.raises(Pain001SchemaError) as info:
        _build(THREE)
    assert info.value.errors and "CtrlSum" in " ".join(info.value.errors)


# --- parse_pain001_summary ---------------------------------------------------------------------


def test_parse_pain001_summary_of_third_party_fixture_reveals_count_mismatch():
    fixture = (FIXTURES / "pain.001.001.09_sebastienrousseau-pain001.xml").read_bytes()
    nb, ctrl, txs = parse_pain001_summary(fixture)
    assert txs == [
        ("PaymentID6789", 15000),
        ("PaymentID4321", 30000),
        ("PaymentID1357", 25000),
        ("PaymentID2468", 17500),
        ("PaymentID4815", 22500),
    ]
    assert ctrl is None  # no GrpHdr/CtrlSum in this file
    assert nb == 2 != len(txs)  # R32 violated by the file: the summary makes it visible


def _doc(body: str, ns: str = NS09) -> bytes:
    return (
        f'<?xml version="1.0"?><Document xmlns="{ns}"><CstmrCdtTrfInitn>{body}'
        f"</CstmrCdtTrfInitn></Document>"
    ).encode()


def _tx(amount: str, ccy: str = "EUR") -> str:
    return (
        "<PmtInf><CdtTrfTxInf><PmtId><EndToEndId>E1</EndToEndId></PmtId>"
        f'<Amt><InstdAmt Ccy="{ccy}">{amount}</InstdAmt></Amt></CdtTrfTxInf></PmtInf>'
    )


def test_parse_pain001_summary_decimal_edge_cases():
    head = "<GrpHdr><NbOfTxs>1</NbOfTxs><CtrlSum>0.10</CtrlSum></GrpHdr>"
    assert parse_pain001_summary(_doc(head + _tx("0.1"))) == (1, 10, [("E1", 10)])
    assert parse_pain001_summary(_doc(head + _tx("12.300"))).transactions == [("E1", 1230)]
    assert parse_pain001_summary(_doc(head + _tx("999999999.99"))).transactions == [
        ("E1", 99_999_999_999)
    ]


@pytest.mark.parametrize(
    "xml",
    [
        _doc("<GrpHdr><NbOfTxs>1</NbOfTxs></GrpHdr>" + _tx("1.234")),  # fraction of a cent
        _doc("<GrpHdr><NbOfTxs>1</NbOfTxs></GrpHdr>" + _tx("-1.00")),
        _doc("<GrpHdr><NbOfTxs>1</NbOfTxs></GrpHdr>" + _tx("1e3")),
        _doc("<GrpHdr><NbOfTxs>1</NbOfTxs></GrpHdr>" + _tx("1.00", "CHF")),
        _doc("<GrpHdr><NbOfTxs>x</NbOfTxs></GrpHdr>"),
        _doc(
            "<GrpHdr><NbOfTxs>1</NbOfTxs></GrpHdr>",
            "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
        ),
        b"<Document>not closed",
    ],
)
def test_parse_pain001_summary_refuses_bad_input(xml):
    with pytest.raises(Pain001Error):
        parse_pain001_summary(xml)


def test_parse_pain001_summary_refuses_doctype_and_external_entities(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("4711")
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY x SYSTEM "file://{secret}">]>'
        f'<Document xmlns="{NS09}"><CstmrCdtTrfInitn><GrpHdr><NbOfTxs>&x;</NbOfTxs></GrpHdr>'
        "</CstmrCdtTrfInitn></Document>"
    ).encode()
    with pytest.raises(Pain001Error, match="DOCTYPE"):
        parse_pain001_summary(xml)


# --- no floats ---------------------------------------------------------------------------------


def test_sepa_module_uses_no_float():
    """Money never goes through float: no float literal, no ``float(...)`` in the module."""
    tree = ast.parse(Path(sepa.__file__).read_text(encoding="utf-8"))
    floats = [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Constant) and isinstance(node.value, float))
        or (isinstance(node, ast.Name) and node.id == "float")
    ]
    assert floats == []
