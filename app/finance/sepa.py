"""SEPA credit transfer files (``pain.001``) and the texts that go into them. Pure: no Flask
request, no database.

* :func:`transliterate` maps German text to the SEPA Latin character set
  (``a-z A-Z 0-9 / - ? : ( ) . , ' +`` and space): ä→ae, ö→oe, ü→ue, ß→ss, other accented
  letters to their base letter, € → ``EUR``, & → ``+``, anything else → space.
* :func:`end_to_end_id` and :func:`remittance` derive ``EndToEndId`` (≤ 35) and ``Ustrd`` (≤ 140)
  from the Kassenzeichen (R31, RULES §10.3).
* :func:`validate_iban` / :func:`validate_bic` check bank details with ``schwifty`` and raise
  :class:`BankDetailError` with a German message for the form field.
* :func:`build_pain001` writes a ``pain.001.001.09`` file (``pain.001.001.03`` as a configuration
  switch) and validates it against the ISO XSD before returning it (R32).
* :func:`parse_pain001_summary` reads ``NbOfTxs``, ``CtrlSum`` and the transactions back.

The XML is built with ``lxml`` rather than ``sepaxml.SepaTransfer``: sepaxml 2.7.0 invents its own
``MsgId`` (timestamp + random hex) and ``PmtInfId``, stamps ``CreDtTm`` with
``datetime.now()`` and writes an empty ``DbtrAgt/FinInstnId`` when no debtor BIC is known, which
the German GBIC subset refuses. Our ``MsgId`` must be the one recorded for the payment run
(never reused, R32), and the output should be deterministic. The ISO XSDs are taken from the
``sepaxml`` package (``sepaxml/schemas/<schema>.xsd``), which is pinned in ``requirements.txt``.

The German bank subset (GBIC, DFÜ-Abkommen Anlage 3) is stricter than ISO; the files written here
also satisfy it: ``NbOfTxs`` and ``CtrlSum`` at group and payment-information level, names ≤ 70,
``DbtrAgt`` is ``BICFI`` or ``Othr/Id`` = ``NOTPROVIDED``, amounts 0.01 … 999 999 999.99, no
``UETR``, no postal addresses.

Money is integer cents throughout; decimal strings are produced by integer ``divmod`` and read
back through :class:`~decimal.Decimal` only. No ``float`` is involved anywhere.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any, NamedTuple

from lxml import etree
from schwifty import BIC, IBAN
from schwifty import exceptions as schwifty_exc

__all__ = [
    "DEFAULT_SCHEMA",
    "MAX_AMOUNT_CENTS",
    "MAX_ID_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_REMITTANCE_LENGTH",
    "SUPPORTED_SCHEMAS",
    "BankDetailError",
    "Pain001Error",
    "Pain001SchemaError",
    "Pain001Summary",
    "Transfer",
    "build_pain001",
    "end_to_end_id",
    "parse_pain001_summary",
    "remittance",
    "transliterate",
    "validate_bic",
    "validate_iban",
]

DEFAULT_SCHEMA = "pain.001.001.09"
#: ``pain.001.001.03`` only as a configuration switch (RULES §10.1).
SUPPORTED_SCHEMAS = ("pain.001.001.09", "pain.001.001.03")

MAX_ID_LENGTH = 35  # MsgId, PmtInfId, EndToEndId (Max35Text)
MAX_NAME_LENGTH = 70  # Dbtr/Nm, Cdtr/Nm, InitgPty/Nm (EPC and GBIC)
MAX_REMITTANCE_LENGTH = 140  # RmtInf/Ustrd
#: Largest amount of one SEPA credit transfer: 999 999 999.99 EUR (EPC rulebook, GBIC XSD).
MAX_AMOUNT_CENTS = 99_999_999_999

_NOT_PROVIDED = "NOTPROVIDED"
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# --- character set -----------------------------------------------------------------------------

#: The SEPA Latin character set (EPC Implementation Guidelines, RULES §10.1).
SEPA_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ ")

_SEPA_TEXT_RE = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]*")

_TRANSLITERATION = str.maketrans(
    {
        # German
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ß": "ss",
        "\u1e9e": "SS",  # capital sharp s
        "€": "EUR",
        "&": "+",
        # letters without a Unicode decomposition (neighbours: Polish, Czech, Danish names)
        "æ": "ae",
        "Æ": "Ae",
        "œ": "oe",
        "Œ": "Oe",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ı": "i",
        # typographic dashes and apostrophes
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2015": "-",
        "\u2212": "-",  # minus sign
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
    }
)


def transliterate(text: str) -> str:
    """Convert ``text`` to the SEPA Latin character set.

    German umlauts and ß are spelled out (``"Kämmerei Görlitz – Straße"`` →
    ``"Kaemmerei Goerlitz - Strasse"``), other accented letters lose their accent (Unicode NFKD),
    ``€`` becomes ``EUR`` and ``&`` becomes ``+``; any other character outside the set becomes a
    space. Runs of whitespace collapse to one space; leading and trailing spaces are removed.
    The function is idempotent.
    """
    prepared = unicodedata.normalize("NFC", text).translate(_TRANSLITERATION)
    out: list[str] = []
    for char in prepared:
        if char in SEPA_CHARS:
            out.append(char)
            continue
        for part in unicodedata.normalize("NFKD", char).translate(_TRANSLITERATION):
            if part in SEPA_CHARS:
                out.append(part)
            elif not unicodedata.combining(part):
                out.append(" ")
    return " ".join("".join(out).split())


def _check_reference(value: str, label: str, max_length: int = MAX_ID_LENGTH) -> str:
    """Check an identifier (MsgId, EndToEndId, Kassenzeichen) and return it unchanged.

    Identifiers are not transliterated: they are matching keys and must arrive exactly as issued.
    Beyond the character set and the length, the EPC rules for references apply: no leading or
    trailing ``/``, no ``//``; we also refuse leading or trailing spaces.

    :raises ValueError: with a German message naming ``label``.
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"{label} fehlt.")
    if len(value) > max_length:
        raise ValueError(f"{label} ist länger als {max_length} Zeichen: {value!r}.")
    if not _SEPA_TEXT_RE.fullmatch(value):
        raise ValueError(f"{label} enthält Zeichen außerhalb des SEPA-Zeichensatzes: {value!r}.")
    if value != value.strip() or value.startswith("/") or value.endswith("/") or "//" in value:
        raise ValueError(
            f"{label} darf nicht mit Leerzeichen oder '/' beginnen oder enden und kein '//' "
            f"enthalten: {value!r}."
        )
    return value


def _check_instalment(instalment_number: int) -> int:
    """Return the instalment number if it is a positive ``int`` (not a ``bool``)."""
    if (
        isinstance(instalment_number, bool)
        or not isinstance(instalment_number, int)
        or instalment_number < 1
    ):
        raise ValueError(
            f"Die Ratennummer muss eine positive ganze Zahl sein: {instalment_number!r}."
        )
    return instalment_number


def end_to_end_id(kassenzeichen: str, instalment_number: int) -> str:
    """``EndToEndId`` of one payout instalment: ``"<Kassenzeichen>-R<n>"`` (R31).

    ``end_to_end_id("KP-2027-0042", 1) == "KP-2027-0042-R1"``.

    :raises ValueError: if the Kassenzeichen is empty or outside the SEPA character set, the
        instalment number is not positive, or the result is longer than 35 characters.
    """
    _check_reference(kassenzeichen, "Das Kassenzeichen")
    number = _check_instalment(instalment_number)
    return _check_reference(f"{kassenzeichen}-R{number}", "Die EndToEndId")


def remittance(
    kassenzeichen: str, aktenzeichen: str, instalment_number: int, recipient_ags: str
) -> str:
    """Unstructured remittance text (``Ustrd``) of a payout instalment (R31, RULES §10.3).

    ``"<Kassenzeichen> <Aktenzeichen> RL KommPraev Rate <n> <AGS>"``, transliterated to the SEPA
    character set and at most 140 characters long. It always starts with the Kassenzeichen (the
    key the recipient's cash office matches on). If the text is too long, the Aktenzeichen is
    shortened first so that the programme, the instalment and the AGS survive; only if that is not
    enough is the end cut off.

    :raises ValueError: for an invalid Kassenzeichen or instalment number.
    """
    kz = _check_reference(kassenzeichen, "Das Kassenzeichen")
    number = _check_instalment(instalment_number)
    file_no = transliterate(aktenzeichen)
    tail = transliterate(f"RL KommPraev Rate {number} {recipient_ags}")
    text = " ".join(part for part in (kz, file_no, tail) if part)
    if len(text) > MAX_REMITTANCE_LENGTH:
        room = MAX_REMITTANCE_LENGTH - len(kz) - len(tail) - 2  # two separating spaces
        file_no = file_no[: max(room, 0)].rstrip()
        text = " ".join(part for part in (kz, file_no, tail) if part)
    return text[:MAX_REMITTANCE_LENGTH].rstrip()


def _sepa_name(value: str, label: str) -> str:
    """Transliterate a party name and cut it to 70 characters; refuse an empty result."""
    name = transliterate(value)[:MAX_NAME_LENGTH].rstrip()
    if not name:
        raise Pain001Error(f"{label} fehlt.")
    return name


# --- bank details ------------------------------------------------------------------------------


class BankDetailError(ValueError):
    """An IBAN or BIC that cannot be used. ``str(error)`` is a German message for the form field;
    ``code`` is a stable key (``"empty"``, ``"checksum"``, ``"length"``, ``"country"``,
    ``"structure"``, ``"invalid"``) for callers that translate or log.
    """

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _compact(text: str) -> str:
    """Remove all whitespace (including non-breaking spaces) and upper-case."""
    return "".join(text.split()).upper()


def validate_iban(text: str) -> str:
    """Validate an IBAN typed by a person and return it compact and upper-case.

    ``validate_iban(" de89 3704 0044 0532 0130 00") == "DE89370400440532013000"``.

    Checks the country code, the country's length and BBAN structure and the ISO 7064 check
    digits (schwifty). The bank code is not looked up in a registry: a stale registry must not
    block a valid account.

    :raises BankDetailError: with a German message, e.g. "Die IBAN ist ungültig (Prüfziffer)."
    """
    compact = _compact(text or "")
    if not compact:
        raise BankDetailError("Bitte geben Sie eine IBAN an.", "empty")
    try:
        return str(IBAN(compact).compact)
    except schwifty_exc.InvalidCountryCode as exc:
        raise BankDetailError("Unbekanntes Länderkennzeichen.", "country") from exc
    except schwifty_exc.InvalidLength as exc:
        raise BankDetailError("Die IBAN hat eine falsche Länge.", "length") from exc
    except schwifty_exc.InvalidChecksumDigits as exc:
        raise BankDetailError("Die IBAN ist ungültig (Prüfziffer).", "checksum") from exc
    except schwifty_exc.InvalidStructure as exc:
        raise BankDetailError(
            "Die IBAN enthält ungültige Zeichen oder passt nicht zum Aufbau des Landes.",
            "structure",
        ) from exc
    except ValueError as exc:  # any other schwifty error
        raise BankDetailError("Die IBAN ist ungültig.", "invalid") from exc


_BIC_RE = re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")


def validate_bic(text: str) -> str:
    """Validate a BIC (8 or 11 characters) and return it compact and upper-case.

    The format is checked (ISO 9362, the ``BICFIDec2014Identifier`` pattern of the XSD) and the
    country code must exist; whether the BIC is in schwifty's bank registry is not required.

    :raises BankDetailError: with a German message.
    """
    compact = _compact(text or "")
    if not compact:
        raise BankDetailError("Bitte geben Sie einen BIC an.", "empty")
    try:
        bic = BIC(compact)
    except schwifty_exc.InvalidLength as exc:
        raise BankDetailError(
            "Der BIC hat eine falsche Länge (8 oder 11 Zeichen).", "length"
        ) from exc
    except schwifty_exc.InvalidCountryCode as exc:
        raise BankDetailError("Unbekanntes Länderkennzeichen.", "country") from exc
    except ValueError as exc:
        raise BankDetailError("Der BIC ist ungültig.", "structure") from exc
    value = str(bic)
    if not _BIC_RE.fullmatch(value):
        raise BankDetailError("Der BIC ist ungültig.", "structure")
    return value


# --- pain.001 ----------------------------------------------------------------------------------


class Pain001Error(ValueError):
    """Input that cannot go into a pain.001 file, or a pain.001 file that cannot be read."""


class Pain001SchemaError(Pain001Error):
    """The generated file does not validate against the XSD (``errors`` lists libxml2's lines)."""

    def __init__(self, message: str, errors: Sequence[str]) -> None:
        super().__init__(message)
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class Transfer:
    """One credit transfer (``CdtTrfTxInf``) of a payment run. ``amount_cents`` is an ``int``."""

    end_to_end_id: str
    creditor_name: str
    creditor_iban: str
    creditor_bic: str | None
    amount_cents: int
    remittance: str


class Pain001Summary(NamedTuple):
    """Group-header figures and transactions of a pain.001 file, as stated in the file."""

    nb_of_txs: int
    #: ``None`` when the file has no ``GrpHdr/CtrlSum`` (it is optional in the ISO schema).
    ctrl_sum_cents: int | None
    #: ``(EndToEndId, amount in cents)`` in document order.
    transactions: list[tuple[str, int]]


def _cents_to_decimal(cents: int) -> str:
    """Integer cents → ``"1234.56"`` by integer arithmetic (never through ``float``)."""
    if isinstance(cents, bool) or not isinstance(cents, int) or cents < 0:
        raise Pain001Error(f"Kein gültiger Centbetrag: {cents!r}.")
    euros, rest = divmod(cents, 100)
    return f"{euros}.{rest:02d}"


_DECIMAL_RE = re.compile(r"\d+(\.\d*)?|\.\d+")


def _decimal_to_cents(text: str | None, label: str) -> int:
    """``"1234.56"`` → ``123456`` via :class:`~decimal.Decimal`; refuses signs, exponents and
    fractions of a cent."""
    value = (text or "").strip()
    if not _DECIMAL_RE.fullmatch(value):
        raise Pain001Error(f"{label}: kein Dezimalbetrag: {value!r}.")
    try:
        cents = Decimal(value).scaleb(2)
    except InvalidOperation as exc:  # pragma: no cover - the regex excludes this
        raise Pain001Error(f"{label}: kein Dezimalbetrag: {value!r}.") from exc
    if cents != cents.to_integral_value():
        raise Pain001Error(f"{label}: Bruchteile eines Cents: {value!r}.")
    return int(cents)


def _namespace(schema: str) -> str:
    return f"urn:iso:std:iso:20022:tech:xsd:{schema}"


def _safe_parser() -> Any:
    """An lxml parser that loads no DTD, resolves no entities and never touches the network."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True
    )


@lru_cache(maxsize=len(SUPPORTED_SCHEMAS))
def _xml_schema(schema: str) -> Any:
    """The official ISO 20022 XSD for ``schema``, as bundled in the pinned ``sepaxml`` package."""
    xsd = resources.files("sepaxml").joinpath("schemas", f"{schema}.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(xsd, _safe_parser()))


def _validate(document: bytes, schema: str) -> None:
    """Validate ``document`` against the ISO XSD of ``schema``.

    :raises Pain001SchemaError: listing the validation errors.
    """
    xml_schema = _xml_schema(schema)
    tree = etree.fromstring(document, _safe_parser())
    if not xml_schema.validate(tree):
        errors = [f"line {e.line}: {e.message}" for e in xml_schema.error_log]
        raise Pain001SchemaError(
            f"Die erzeugte {schema}-Datei ist nicht schemagültig: {'; '.join(errors)}", errors
        )


def _sub(parent: Any, ns: str, tag: str, text: str | None = None, **attrib: str) -> Any:
    """Append ``<tag>`` (in namespace ``ns``) to ``parent`` and return it."""
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", attrib)
    if text is not None:
        element.text = text
    return element


def _path(parent: Any, ns: str, tags: str, text: str | None = None) -> Any:
    """Append a chain of elements ``"A/B/C"`` and set the text of the last one."""
    element = parent
    for tag in tags.split("/"):
        element = _sub(element, ns, tag)
    if text is not None:
        element.text = text
    return element


def _agent(parent: Any, ns: str, tag: str, bic: str | None, schema: str) -> None:
    """``DbtrAgt``/``CdtrAgt`` with ``BICFI`` (``BIC`` in .001.03) or ``Othr/Id NOTPROVIDED``."""
    fin = _path(parent, ns, f"{tag}/FinInstnId")
    if bic is not None:
        _sub(fin, ns, "BIC" if schema == "pain.001.001.03" else "BICFI", bic)
    else:
        _path(fin, ns, "Othr/Id", _NOT_PROVIDED)


@dataclass(frozen=True, slots=True)
class _CheckedTransfer:
    end_to_end_id: str
    creditor_name: str
    creditor_iban: str
    creditor_bic: str | None
    amount_cents: int
    remittance: str


def _check_transfer(transfer: Transfer) -> _CheckedTransfer:
    """Validate one transfer and return it with normalised names, IBAN and BIC."""
    e2e = _check_reference(transfer.end_to_end_id, "Die EndToEndId")
    amount = transfer.amount_cents
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise Pain001Error(f"{e2e}: Der Betrag muss in ganzen Cent (int) angegeben sein.")
    if amount <= 0:
        raise Pain001Error(f"{e2e}: Der Betrag muss positiv sein ({amount} Cent).")
    if amount > MAX_AMOUNT_CENTS:
        raise Pain001Error(f"{e2e}: Der Betrag übersteigt 999.999.999,99 EUR.")
    try:
        iban = validate_iban(transfer.creditor_iban)
        bic = None if transfer.creditor_bic is None else validate_bic(transfer.creditor_bic)
    except BankDetailError as exc:
        raise Pain001Error(f"{e2e}: Bankverbindung des Empfängers: {exc}") from exc
    text = transliterate(transfer.remittance)
    if not text:
        raise Pain001Error(f"{e2e}: Der Verwendungszweck fehlt.")
    if len(text) > MAX_REMITTANCE_LENGTH:
        raise Pain001Error(f"{e2e}: Der Verwendungszweck ist länger als 140 Zeichen.")
    return _CheckedTransfer(
        end_to_end_id=e2e,
        creditor_name=_sepa_name(transfer.creditor_name, f"{e2e}: Der Empfängername"),
        creditor_iban=iban,
        creditor_bic=bic,
        amount_cents=amount,
        remittance=text,
    )


def build_pain001(
    *,
    msg_id: str,
    created_at: datetime,
    execution_date: date,
    debtor_name: str,
    debtor_iban: str,
    debtor_bic: str | None,
    payments: Sequence[Transfer],
    schema: str = DEFAULT_SCHEMA,
    batch_booking: bool = False,
) -> bytes:
    """Build a SEPA credit transfer file (one ``PmtInf``) and return it as UTF-8 bytes.

    ``msg_id`` is the payment run's unique file id (≤ 35, never reused — the caller records it);
    it is also used as ``PmtInfId``. ``created_at`` becomes ``CreDtTm`` (to the second; pass an
    aware datetime to include the offset). ``debtor_*`` is the state cash office's account; it is
    also the initiating party. ``batch_booking=False`` asks the bank to book each transfer on its
    own, so the statement shows each ``EndToEndId`` (R33); ``True`` books one sum.

    Names are transliterated and cut to 70 characters; remittance texts are transliterated and
    must then fit 140 characters (use :func:`remittance`). ``NbOfTxs`` and ``CtrlSum`` are written
    at group and at payment-information level from the integer cents (R32). Fixed values:
    ``PmtMtd=TRF``, ``SvcLvl/Cd=SEPA``, ``ChrgBr=SLEV``, ``Ccy=EUR``; no ``UETR``.

    The result is validated against the ISO XSD of ``schema`` and read back with
    :func:`parse_pain001_summary` before it is returned.

    :raises Pain001Error: for an empty payment list, duplicate EndToEndIds, non-positive or
        non-integer amounts, invalid IBAN/BIC (message includes the EndToEndId), over-long ids or
        texts, an unsupported schema.
    :raises Pain001SchemaError: if the file does not validate against the XSD.
    """
    if schema not in SUPPORTED_SCHEMAS:
        raise Pain001Error(f"Nicht unterstütztes Schema: {schema!r}.")
    msg = _check_reference(msg_id, "Die MsgId")
    if not isinstance(created_at, datetime):
        raise Pain001Error("created_at muss ein datetime sein.")
    if isinstance(execution_date, datetime) or not isinstance(execution_date, date):
        raise Pain001Error("execution_date muss ein date (ohne Uhrzeit) sein.")
    if not payments:
        raise Pain001Error("Ein Zahlungslauf ohne Zahlungen kann nicht exportiert werden.")
    debtor = _sepa_name(debtor_name, "Der Name des Auftraggebers")
    try:
        dbtr_iban = validate_iban(debtor_iban)
        dbtr_bic = None if debtor_bic is None else validate_bic(debtor_bic)
    except BankDetailError as exc:
        raise Pain001Error(f"Bankverbindung des Auftraggebers: {exc}") from exc

    checked: list[_CheckedTransfer] = []
    seen: set[str] = set()
    for transfer in payments:
        item = _check_transfer(transfer)
        if item.end_to_end_id in seen:
            raise Pain001Error(f"Doppelte EndToEndId: {item.end_to_end_id!r}.")
        seen.add(item.end_to_end_id)
        checked.append(item)

    count = str(len(checked))
    total_cents = sum(item.amount_cents for item in checked)
    total = _cents_to_decimal(total_cents)

    ns = _namespace(schema)
    root = etree.Element(f"{{{ns}}}Document", nsmap={None: ns})
    initiation = _sub(root, ns, "CstmrCdtTrfInitn")

    header = _sub(initiation, ns, "GrpHdr")
    _sub(header, ns, "MsgId", msg)
    _sub(header, ns, "CreDtTm", created_at.replace(microsecond=0).isoformat())
    _sub(header, ns, "NbOfTxs", count)
    _sub(header, ns, "CtrlSum", total)
    _path(header, ns, "InitgPty/Nm", debtor)

    info = _sub(initiation, ns, "PmtInf")
    _sub(info, ns, "PmtInfId", msg)
    _sub(info, ns, "PmtMtd", "TRF")
    _sub(info, ns, "BtchBookg", "true" if batch_booking else "false")
    _sub(info, ns, "NbOfTxs", count)
    _sub(info, ns, "CtrlSum", total)
    _path(info, ns, "PmtTpInf/SvcLvl/Cd", "SEPA")
    if schema == "pain.001.001.03":
        _sub(info, ns, "ReqdExctnDt", execution_date.isoformat())
    else:
        _path(info, ns, "ReqdExctnDt/Dt", execution_date.isoformat())
    _path(info, ns, "Dbtr/Nm", debtor)
    _path(info, ns, "DbtrAcct/Id/IBAN", dbtr_iban)
    _agent(info, ns, "DbtrAgt", dbtr_bic, schema)
    _sub(info, ns, "ChrgBr", "SLEV")

    for item in checked:
        tx = _sub(info, ns, "CdtTrfTxInf")
        _path(tx, ns, "PmtId/EndToEndId", item.end_to_end_id)
        _sub(_sub(tx, ns, "Amt"), ns, "InstdAmt", _cents_to_decimal(item.amount_cents), Ccy="EUR")
        if item.creditor_bic is not None:
            _agent(tx, ns, "CdtrAgt", item.creditor_bic, schema)
        _path(tx, ns, "Cdtr/Nm", item.creditor_name)
        _path(tx, ns, "CdtrAcct/Id/IBAN", item.creditor_iban)
        _path(tx, ns, "RmtInf/Ustrd", item.remittance)

    # XML declaration with double quotes (lxml would write single quotes).
    document: bytes = _XML_DECLARATION + etree.tostring(
        root, xml_declaration=False, encoding="UTF-8", pretty_print=True
    )
    _validate(document, schema)

    summary = parse_pain001_summary(document)
    expected = [(item.end_to_end_id, item.amount_cents) for item in checked]
    if summary != (len(checked), total_cents, expected):  # pragma: no cover - defence in depth
        raise Pain001Error("Die erzeugte Datei stimmt nicht mit den Zahlungen überein (R32).")
    return document


def _text(element: Any, path: str, ns: str) -> str | None:
    found = element.find(path.replace("{ns}", f"{{{ns}}}"))
    return None if found is None else found.text


def parse_pain001_summary(xml: bytes) -> Pain001Summary:
    """Read ``GrpHdr/NbOfTxs``, ``GrpHdr/CtrlSum`` and every transaction's ``EndToEndId`` and
    ``InstdAmt`` (as integer cents) from a ``pain.001.001.*`` file.

    Values are reported as the file states them; checking that they agree is the caller's job
    (``nb_of_txs == len(transactions)``, ``ctrl_sum_cents == sum of amounts``). The parser loads
    no DTD, resolves no entities and does no network access; a document with a ``DOCTYPE`` is
    refused outright.

    :raises Pain001Error: for malformed XML, a DOCTYPE, a root that is not a pain.001
        ``Document``, missing elements, non-EUR amounts or amounts that are not whole cents.
    """
    try:
        root = etree.fromstring(xml, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise Pain001Error(f"Keine gültige XML-Datei: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise Pain001Error("XML-Dateien mit DOCTYPE werden nicht angenommen.")
    ns = etree.QName(root).namespace or ""
    if etree.QName(root).localname != "Document" or not ns.startswith(
        "urn:iso:std:iso:20022:tech:xsd:pain.001.001."
    ):
        raise Pain001Error("Die Datei ist keine pain.001-Nachricht.")

    nb_text = _text(root, "{ns}CstmrCdtTrfInitn/{ns}GrpHdr/{ns}NbOfTxs", ns)
    if nb_text is None or not nb_text.strip().isdigit():
        raise Pain001Error(f"GrpHdr/NbOfTxs fehlt oder ist keine Zahl: {nb_text!r}.")
    ctrl_text = _text(root, "{ns}CstmrCdtTrfInitn/{ns}GrpHdr/{ns}CtrlSum", ns)
    ctrl_sum = None if ctrl_text is None else _decimal_to_cents(ctrl_text, "GrpHdr/CtrlSum")

    transactions: list[tuple[str, int]] = []
    for tx in root.iterfind(f"{{{ns}}}CstmrCdtTrfInitn/{{{ns}}}PmtInf/{{{ns}}}CdtTrfTxInf"):
        e2e = _text(tx, "{ns}PmtId/{ns}EndToEndId", ns)
        if e2e is None:
            raise Pain001Error("Eine Transaktion hat keine EndToEndId.")
        amount = tx.find(f"{{{ns}}}Amt/{{{ns}}}InstdAmt")
        if amount is None:
            raise Pain001Error(f"{e2e}: Amt/InstdAmt fehlt.")
        if amount.get("Ccy") != "EUR":
            raise Pain001Error(f"{e2e}: Währung {amount.get('Ccy')!r} statt EUR.")
        transactions.append((e2e, _decimal_to_cents(amount.text, f"{e2e}: InstdAmt")))
    return Pain001Summary(int(nb_text.strip()), ctrl_sum, transactions)
