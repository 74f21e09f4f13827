"""Bank statements (``camt.053``) read into plain dataclasses. Pure: no Flask request, no
database.

* :func:`parse_statement` reads a ``camt.053.001.08`` (current, DK from November 2025) or
  ``camt.053.001.02`` (legacy, for historical files) bank-to-customer statement and returns one
  :class:`Statement` per ``Stmt``, with its :class:`Entry` bookings (``Ntry``) and their
  :class:`Transaction` details (``TxDtls``). The version is taken from the root namespace; any
  other message (camt.052, camt.054, pain.001, other camt.053 versions) is refused.
* :func:`statement_fingerprint` and :func:`file_sha256` feed the duplicate guard (R33, RULES §10.2:
  account + ``Stmt/Id`` + ``ElctrncSeqNb`` + file hash).

Safety (ASVS 1.5.1, RELIABILITY §2 "XML parsing", test plan 19): the size limit is checked before
anything is parsed; any ``DOCTYPE`` or ``ENTITY`` declaration is refused (before parsing for ASCII
files, and from the parsed document info for any other encoding); the lxml parser resolves no
entities, loads no DTD, never touches the network and keeps libxml2's limits on huge documents
(``huge_tree=False``). Every problem surfaces as :class:`CamtError` with a German message.

Parsing is lenient where real bank files are sloppy (they are often not schema-valid; elements out
of order, the ``.08`` ``Pty`` wrapper missing or present) and strict only where the data would
become unusable: a missing or malformed amount, currency, credit/debit indicator, entry status or
statement id is an error.

Money is integer cents throughout: amount texts go through :class:`~decimal.Decimal` and
``to_integral_exact`` with the ``Inexact`` trap set, so a fraction of a cent is refused rather
than rounded. No ``float`` is involved anywhere.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l
from lxml import etree

__all__ = [
    "DEFAULT_MAX_BYTES",
    "NS_CAMT053_02",
    "NS_CAMT053_08",
    "SUPPORTED_MESSAGES",
    "CamtError",
    "Entry",
    "Statement",
    "Transaction",
    "file_sha256",
    "parse_statement",
    "statement_fingerprint",
]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

_ISO_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
NS_CAMT053_08 = _ISO_PREFIX + "camt.053.001.08"
NS_CAMT053_02 = _ISO_PREFIX + "camt.053.001.02"
#: Root namespace → message name. camt.053.001.08 is the current format (RULES §10.2);
#: camt.053.001.02 was switched off on 01.11.2025 and is read for historical files only.
SUPPORTED_MESSAGES = {NS_CAMT053_08: "camt.053.001.08", NS_CAMT053_02: "camt.053.001.02"}

_NOT_PROVIDED = "NOTPROVIDED"
_CREDIT = "CRDT"
_DEBIT = "DBIT"
#: Bank transaction sub-family "returned transfer" (ISO external code list, e.g. PMNT/ICDT/RRTN).
_RETURN_SUB_FAMILY = "RRTN"
_OPENING_CODES = ("OPBD", "PRCD")  # booked opening balance; PRCD = previous closing (MT940 style)
_CLOSING_CODE = "CLBD"

_AMOUNT_RE = re.compile(r"[0-9]{1,18}(\.[0-9]{1,18})?")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_DATE_RE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")
_DATETIME_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
#: Declarations that may only appear in a DTD; refused before parsing.
_FORBIDDEN_MARKUP = (b"<!DOCTYPE", b"<!ENTITY")


class CamtError(ValueError):
    """A bank statement file that cannot or must not be read. ``str(error)`` reads in the
    language of the request (German outside one)."""


@dataclass(frozen=True, slots=True)
class Transaction:
    """One transaction of a booking (``TxDtls``); an entry without ``TxDtls`` gets one
    transaction built from the entry itself (amount, no references).

    ``amount_cents`` is the transaction amount (``TxDtls/Amt`` in .08, ``AmtDtls/TxAmt/Amt`` in
    either version); a single-transaction entry without one uses the entry amount. It is ``None``
    only when a batch entry has several ``TxDtls`` and one of them states no amount.
    """

    amount_cents: int | None
    #: ``None`` when missing or ``NOTPROVIDED``.
    end_to_end_id: str | None
    instruction_id: str | None
    #: ``Ustrd`` lines, then ``Strd/CdtrRefInf/Ref`` and ``Strd/AddtlRmtInf``, joined with a space.
    remittance: str
    #: The other party: the creditor of an outgoing booking, the debtor of an incoming one.
    counterparty_name: str | None
    counterparty_iban: str | None
    #: ``RtrInf/Rsn/Cd`` (or ``Prtry``), e.g. ``"AC04"``.
    return_reason: str | None
    #: ``RtrInf`` present, or bank transaction sub-family ``RRTN``.
    is_return: bool
    currency: str
    #: ``TxDtls/CdtDbtInd`` (.08), else the entry's indicator.
    credit_debit: str
    account_servicer_ref: str | None
    #: ISO code ``"PMNT/ICDT/ESCT"`` if given, else the proprietary code (e.g. ``"NTRF+020"``);
    #: falls back to the entry's code.
    bank_tx_code: str | None


@dataclass(frozen=True, slots=True)
class Entry:
    """One booking on the statement (``Ntry``). ``amount_cents`` is positive; the direction is
    ``credit_debit`` (``"CRDT"`` money in, ``"DBIT"`` money out)."""

    #: ``NtryRef`` (optional in the schema).
    entry_ref: str | None
    amount_cents: int
    currency: str
    credit_debit: str
    #: ``RvslInd``: the entry reverses an earlier booking. A reversed debit is booked as CRDT.
    reversal: bool
    #: ``"BOOK"``, ``"PDNG"``, ``"INFO"``, … (``Sts/Cd`` in .08, ``Sts`` in .02).
    status: str
    booking_date: date | None
    value_date: date | None
    #: ISO code ``"PMNT/ICDT/ESCT"`` if given, else the proprietary code; an empty entry-level
    #: ``BkTxCd`` falls back to the first transaction's code.
    bank_tx_code: str | None
    transactions: list[Transaction]
    #: The transaction amounts do not add up to the entry amount (or one is missing or in another
    #: currency). The transactions are kept; the booking needs a human look.
    split_mismatch: bool
    account_servicer_ref: str | None
    #: ``BkTxCd/Prtry/Cd`` of the entry (German GVC such as ``"NTRF+166"``), else of the first
    #: transaction.
    bank_tx_code_proprietary: str | None
    #: ``NtryDtls/Btch``: for a batch booking the ``PmtInfId``/``MsgId`` of our payment file.
    batch_msg_id: str | None
    batch_pmt_inf_id: str | None
    batch_nb_of_txs: int | None
    #: ``AddtlNtryInf`` (booking text such as "SEPA-Überweisung").
    additional_info: str | None


@dataclass(frozen=True, slots=True)
class Statement:
    """One account statement (``Stmt``). Balances are signed cents: CRDT positive, DBIT
    negative; ``None`` if the statement has no such balance."""

    #: ``Acct/Id/IBAN``; ``None`` if the account is identified otherwise (see ``account_id``).
    account_iban: str | None
    #: ``Acct/Ccy`` (optional in the schema).
    currency: str | None
    statement_id: str
    electronic_seq_nb: str | None
    legal_seq_nb: str | None
    created_at: datetime | None
    #: Calendar days (as written, in the bank's offset) of ``FrToDt/FrDtTm`` and ``ToDtTm``.
    from_date: date | None
    to_date: date | None
    #: ``OPBD``, else ``PRCD`` (previous closing booked).
    opening_balance_cents: int | None
    #: ``CLBD``.
    closing_balance_cents: int | None
    entries: list[Entry]
    #: IBAN, or ``Acct/Id/Othr/Id`` when there is no IBAN. Used by the fingerprint.
    account_id: str
    #: ``GrpHdr/MsgId`` of the file.
    message_id: str | None
    #: ``"camt.053.001.08"`` or ``"camt.053.001.02"``.
    message_version: str
    #: ``StmtPgntn/PgNb``: a statement split across files keeps Id and sequence number.
    page_number: int | None
    #: Opening balance + booked entries == closing balance; ``None`` if it cannot be checked
    #: (a balance missing, or entries in another currency than the balances).
    balances_match: bool | None
    #: German notes for the import report (split mismatches, balance differences, …).
    warnings: list[str]
    #: ``FrToDt/FrDtTm`` and ``FrToDt/ToDtTm`` with time and offset.
    from_datetime: datetime | None
    to_datetime: datetime | None


# --- helpers -----------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _path(ns: str, path: str) -> str:
    """``"A/B"`` → ``"{ns}A/{ns}B"`` for ``find``/``findall``."""
    return "/".join(f"{{{ns}}}{tag}" for tag in path.split("/"))


def _find(element: Any, ns: str, path: str) -> Any:
    return None if element is None else element.find(_path(ns, path))


def _findall(element: Any, ns: str, path: str) -> list[Any]:
    return [] if element is None else element.findall(_path(ns, path))


def _text(element: Any, ns: str, path: str) -> str | None:
    """Stripped text at ``path`` below ``element``; ``None`` if missing or blank."""
    found = _find(element, ns, path)
    if found is None or found.text is None:
        return None
    value: str = found.text.strip()
    return value or None


def _compact(value: str | None) -> str | None:
    """IBANs: remove all whitespace, upper-case."""
    if value is None:
        return None
    return "".join(value.split()).upper() or None


def _short(value: str) -> str:
    return value if len(value) <= 40 else value[:40] + "…"


def _to_cents(text: str | None, label: str) -> int:
    """``"1234.5"`` → ``123450``: :class:`Decimal`, ``× 100``, ``to_integral_exact`` with the
    ``Inexact`` trap set. Refuses signs, exponents, non-ASCII digits and fractions of a cent."""
    value = (text or "").strip()
    if not _AMOUNT_RE.fullmatch(value):
        raise CamtError(
            _l(
                "%(label)s: kein gültiger Betrag: %(value)s.",
                label=label,
                value=repr(_short(value)),
            )
        )
    with localcontext() as ctx:
        ctx.prec = 60
        ctx.traps[Inexact] = True
        try:
            return int((Decimal(value) * 100).to_integral_exact())
        except Inexact as exc:
            raise CamtError(
                _l(
                    "%(label)s: Bruchteile eines Cents sind nicht zulässig: %(value)s.",
                    label=label,
                    value=repr(value),
                )
            ) from exc
        except InvalidOperation as exc:  # pragma: no cover - the regex excludes this
            raise CamtError(
                _l("%(label)s: kein gültiger Betrag: %(value)s.", label=label, value=repr(value))
            ) from exc


def _amount(element: Any, label: str) -> tuple[int, str]:
    """An ``Amt``-like element with a ``Ccy`` attribute → ``(cents, currency)``."""
    currency = (element.get("Ccy") or "").strip()
    if not _CURRENCY_RE.fullmatch(currency):
        raise CamtError(
            _l(
                "%(label)s: Währung fehlt oder ist ungültig: %(currency)s.",
                label=label,
                currency=repr(_short(currency)),
            )
        )
    return _to_cents(element.text, label), currency


def _credit_debit(value: str | None, label: str) -> str:
    if value not in (_CREDIT, _DEBIT):
        raise CamtError(
            _l(
                "%(label)s: CdtDbtInd muss CRDT oder DBIT sein, nicht %(value)s.",
                label=label,
                value=repr(value),
            )
        )
    return value


def _bool(value: str | None, label: str) -> bool:
    if value is None:
        return False
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise CamtError(
        _l("%(label)s: kein Wahrheitswert: %(value)s.", label=label, value=repr(_short(value)))
    )


def _date(value: str | None, label: str) -> date | None:
    if value is None:
        return None
    match = _DATE_RE.fullmatch(value)
    if match is None:
        raise CamtError(
            _l("%(label)s: kein gültiges Datum: %(value)s.", label=label, value=repr(_short(value)))
        )
    try:
        return date.fromisoformat(match.group(1))
    except ValueError as exc:
        raise CamtError(
            _l("%(label)s: kein gültiges Datum: %(value)s.", label=label, value=repr(value))
        ) from exc


def _datetime(value: str | None, label: str) -> datetime | None:
    if value is None:
        return None
    if not _DATETIME_RE.fullmatch(value):
        raise CamtError(
            _l(
                "%(label)s: kein gültiger Zeitpunkt: %(value)s.",
                label=label,
                value=repr(_short(value)),
            )
        )
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise CamtError(
            _l("%(label)s: kein gültiger Zeitpunkt: %(value)s.", label=label, value=repr(value))
        ) from exc


def _date_choice(element: Any, ns: str, label: str) -> date | None:
    """``DateAndDateTime2Choice``: ``Dt`` or ``DtTm`` (the local calendar day of the latter)."""
    if element is None:
        return None
    day = _text(element, ns, "Dt")
    if day is not None:
        return _date(day, label)
    moment = _datetime(_text(element, ns, "DtTm"), label)
    return None if moment is None else moment.date()


def _positive_int(value: str | None, label: str) -> int | None:
    if value is None:
        return None
    if not value.isascii() or not value.isdigit():
        raise CamtError(
            _l("%(label)s: keine Zahl: %(value)s.", label=label, value=repr(_short(value)))
        )
    return int(value)


def _bank_tx_code(element: Any, ns: str) -> tuple[str | None, str | None, str | None]:
    """``BkTxCd`` → ``(display code, proprietary code, sub-family)``."""
    domain = _text(element, ns, "Domn/Cd")
    family = _text(element, ns, "Domn/Fmly/Cd")
    sub_family = _text(element, ns, "Domn/Fmly/SubFmlyCd")
    proprietary = _text(element, ns, "Prtry/Cd")
    iso = "/".join(part for part in (domain, family, sub_family) if part) or None
    return iso or proprietary, proprietary, sub_family


# --- parsing -----------------------------------------------------------------------------------


def _parser() -> Any:
    """lxml parser that resolves no entities, loads no DTD, never uses the network and keeps
    libxml2's size and depth limits (``huge_tree=False``)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def _parse_root(data: bytes, max_bytes: int) -> Any:
    """Size and DTD checks, then a safe parse. Returns the root element."""
    if not isinstance(data, bytes):
        raise CamtError(_l("Der Kontoauszug muss als Bytes übergeben werden."))
    if len(data) > max_bytes:
        raise CamtError(
            _l(
                "Die Datei ist zu groß (%(data)s Bytes; erlaubt sind höchstens "
                "%(max_bytes)s Bytes).",
                data=len(data),
                max_bytes=max_bytes,
            )
        )
    if not data.strip():
        raise CamtError(_l("Die Datei ist leer."))
    if any(marker in data for marker in _FORBIDDEN_MARKUP):
        raise CamtError(
            _l(
                "XML-Dateien mit DOCTYPE- oder ENTITY-Deklaration werden aus "
                "Sicherheitsgründen nicht angenommen."
            )
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise CamtError(
            _l(
                "Die Datei ist kein wohlgeformtes XML (Zeile %(lineno)s): %(msg)s",
                lineno=exc.lineno,
                msg=exc.msg,
            )
        ) from exc
    except (etree.ParseError, ValueError) as exc:
        raise CamtError(_l("Die Datei ist kein lesbares XML: %(exc)s", exc=exc)) from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.system_url:
        # Reached for encodings the byte check above cannot see (e.g. UTF-16).
        raise CamtError(
            _l(
                "XML-Dateien mit DOCTYPE- oder ENTITY-Deklaration werden aus "
                "Sicherheitsgründen nicht angenommen."
            )
        )
    return root


def _message_namespace(root: Any) -> str:
    """The root namespace if the document is a supported camt.053 message."""
    qname = etree.QName(root)
    ns = qname.namespace or ""
    if qname.localname == "Document" and ns in SUPPORTED_MESSAGES:
        return ns
    if ns.startswith(_ISO_PREFIX):
        name = ns[len(_ISO_PREFIX) :]
    else:
        name = f"{{{ns}}}{qname.localname}" if ns else qname.localname
    raise CamtError(
        _l(
            "Die Nachricht %(name)s wird nicht unterstützt; erwartet wird ein "
            "Kontoauszug camt.053.001.08 (oder camt.053.001.02 für ältere Dateien).",
            name=repr(_short(name)),
        )
    )


def _own_text(element: Any) -> str:
    return (element.text or "").strip()


def _remittance(element: Any, ns: str) -> str:
    parts = [_own_text(line) for line in _findall(element, ns, "Ustrd")]
    for structured in _findall(element, ns, "Strd"):
        parts.extend(_own_text(ref) for ref in _findall(structured, ns, "CdtrRefInf/Ref"))
        parts.extend(_own_text(line) for line in _findall(structured, ns, "AddtlRmtInf"))
    return " ".join(part for part in parts if part)


def _party(parties: Any, ns: str, role: str) -> tuple[str | None, str | None]:
    """Name and IBAN of ``Dbtr``/``Cdtr``: ``.08`` wraps the party in ``Pty`` (or ``Agt``),
    ``.02`` does not; both layouts are accepted in both versions."""
    party = _find(parties, ns, role)
    name = (
        _text(party, ns, "Pty/Nm")
        or _text(party, ns, "Nm")
        or _text(party, ns, "Agt/FinInstnId/Nm")
    )
    return name, _compact(_text(parties, ns, f"{role}Acct/Id/IBAN"))


def _counterparty(
    parties: Any, ns: str, *, outgoing: bool, own_iban: str | None
) -> tuple[str | None, str | None]:
    """The creditor of an outgoing payment, the debtor of an incoming one. If the bank lists our
    own account on that side (roles copied from the original in returns, or swapped), the other
    side is taken."""
    if parties is None:
        return None, None
    first, second = ("Cdtr", "Dbtr") if outgoing else ("Dbtr", "Cdtr")
    name, iban = _party(parties, ns, first)
    if own_iban is not None and iban == own_iban:
        other_name, other_iban = _party(parties, ns, second)
        if other_iban != own_iban and (other_name or other_iban):
            return other_name, other_iban
    return name, iban


@dataclass(frozen=True, slots=True)
class _EntryContext:
    ns: str
    label: str
    amount_cents: int
    currency: str
    credit_debit: str
    reversal: bool
    bank_tx_code: str | None
    sub_family: str | None
    single: bool
    own_iban: str | None


def _transaction(tx: Any, ctx: _EntryContext) -> Transaction:
    ns, label = ctx.ns, ctx.label
    amount_element = _find(tx, ns, "Amt")
    if amount_element is None:
        amount_element = _find(tx, ns, "AmtDtls/TxAmt/Amt")
    amount: int | None
    if amount_element is not None:
        amount, currency = _amount(amount_element, f"{label}, Einzelumsatz")
    elif ctx.single:
        amount, currency = ctx.amount_cents, ctx.currency
    else:
        amount, currency = None, ctx.currency
    credit_debit = ctx.credit_debit
    tx_indicator = _text(tx, ns, "CdtDbtInd")
    if tx_indicator is not None:
        credit_debit = _credit_debit(tx_indicator, f"{label}, Einzelumsatz")

    code, _proprietary, sub_family = _bank_tx_code(_find(tx, ns, "BkTxCd"), ns)
    return_info = _find(tx, ns, "RtrInf")
    is_return = return_info is not None or _RETURN_SUB_FAMILY in (sub_family, ctx.sub_family)
    # Reversals and returns keep the parties of the original payment: use its direction.
    outgoing = (ctx.credit_debit == _DEBIT) != (ctx.reversal or is_return)
    name, iban = _counterparty(
        _find(tx, ns, "RltdPties"), ns, outgoing=outgoing, own_iban=ctx.own_iban
    )
    end_to_end = _text(tx, ns, "Refs/EndToEndId")
    if end_to_end is not None and end_to_end.upper() == _NOT_PROVIDED:
        end_to_end = None
    return Transaction(
        amount_cents=amount,
        end_to_end_id=end_to_end,
        instruction_id=_text(tx, ns, "Refs/InstrId"),
        remittance=_remittance(_find(tx, ns, "RmtInf"), ns),
        counterparty_name=name,
        counterparty_iban=iban,
        return_reason=_text(return_info, ns, "Rsn/Cd") or _text(return_info, ns, "Rsn/Prtry"),
        is_return=is_return,
        currency=currency,
        credit_debit=credit_debit,
        account_servicer_ref=_text(tx, ns, "Refs/AcctSvcrRef"),
        bank_tx_code=code or ctx.bank_tx_code,
    )


def _from_entry(ctx: _EntryContext) -> Transaction:
    """The one transaction of an entry that has no ``TxDtls``."""
    return Transaction(
        amount_cents=ctx.amount_cents,
        end_to_end_id=None,
        instruction_id=None,
        remittance="",
        counterparty_name=None,
        counterparty_iban=None,
        return_reason=None,
        is_return=ctx.sub_family == _RETURN_SUB_FAMILY,
        currency=ctx.currency,
        credit_debit=ctx.credit_debit,
        account_servicer_ref=None,
        bank_tx_code=ctx.bank_tx_code,
    )


def _split_mismatch(
    entry_cents: int, currency: str, indicator: str, txs: list[Transaction]
) -> bool:
    total = 0
    for tx in txs:
        if tx.amount_cents is None or tx.currency != currency:
            return True
        total += tx.amount_cents if tx.credit_debit == indicator else -tx.amount_cents
    return total != entry_cents


def _status(entry: Any, ns: str, label: str) -> str:
    """``Sts/Cd`` or ``Sts/Prtry`` (.08), or the text of ``Sts`` (.02)."""
    status = _text(entry, ns, "Sts/Cd") or _text(entry, ns, "Sts/Prtry") or _text(entry, ns, "Sts")
    if status is None:
        raise CamtError(_l("%(label)s: Der Buchungsstatus (Sts) fehlt.", label=label))
    return status


def _entry(entry: Any, ns: str, label: str, own_iban: str | None) -> Entry:
    amount_element = _find(entry, ns, "Amt")
    if amount_element is None:
        raise CamtError(_l("%(label)s: Der Betrag (Amt) fehlt.", label=label))
    amount, currency = _amount(amount_element, label)
    credit_debit = _credit_debit(_text(entry, ns, "CdtDbtInd"), label)
    reversal = _bool(_text(entry, ns, "RvslInd"), f"{label}, RvslInd")
    code, proprietary, sub_family = _bank_tx_code(_find(entry, ns, "BkTxCd"), ns)
    details = _findall(entry, ns, "NtryDtls")
    tx_elements = [tx for part in details for tx in _findall(part, ns, "TxDtls")]
    batch = next((b for part in details for b in _findall(part, ns, "Btch")), None)
    ctx = _EntryContext(
        ns=ns,
        label=label,
        amount_cents=amount,
        currency=currency,
        credit_debit=credit_debit,
        reversal=reversal,
        bank_tx_code=code,
        sub_family=sub_family,
        single=len(tx_elements) == 1,
        own_iban=own_iban,
    )
    if tx_elements:
        transactions = [_transaction(tx, ctx) for tx in tx_elements]
        mismatch = _split_mismatch(amount, currency, credit_debit, transactions)
    else:
        transactions, mismatch = [_from_entry(ctx)], False
    if code is None and tx_elements:  # e.g. an empty entry-level <BkTxCd/> (German .02 files)
        code = transactions[0].bank_tx_code
        proprietary = _bank_tx_code(_find(tx_elements[0], ns, "BkTxCd"), ns)[1]
    return Entry(
        entry_ref=_text(entry, ns, "NtryRef"),
        amount_cents=amount,
        currency=currency,
        credit_debit=credit_debit,
        reversal=reversal,
        status=_status(entry, ns, label),
        booking_date=_date_choice(_find(entry, ns, "BookgDt"), ns, f"{label}, BookgDt"),
        value_date=_date_choice(_find(entry, ns, "ValDt"), ns, f"{label}, ValDt"),
        bank_tx_code=code,
        transactions=transactions,
        split_mismatch=mismatch,
        account_servicer_ref=_text(entry, ns, "AcctSvcrRef"),
        bank_tx_code_proprietary=proprietary,
        batch_msg_id=_text(batch, ns, "MsgId"),
        batch_pmt_inf_id=_text(batch, ns, "PmtInfId"),
        batch_nb_of_txs=_positive_int(_text(batch, ns, "NbOfTxs"), f"{label}, Btch/NbOfTxs"),
        additional_info=_text(entry, ns, "AddtlNtryInf"),
    )


def _balances(
    stmt: Any, ns: str, label: str
) -> tuple[tuple[int, str] | None, tuple[int, str] | None]:
    """Signed ``(cents, currency)`` of the opening (OPBD, else PRCD) and closing (CLBD) balance."""
    found: dict[str, tuple[int, str]] = {}
    for balance in _findall(stmt, ns, "Bal"):
        code = _text(balance, ns, "Tp/CdOrPrtry/Cd")
        if code not in (*_OPENING_CODES, _CLOSING_CODE) or code in found:
            continue
        amount_element = _find(balance, ns, "Amt")
        if amount_element is None:
            raise CamtError(_l("%(label)s: Saldo %(code)s ohne Betrag.", label=label, code=code))
        cents, currency = _amount(amount_element, f"{label}, Saldo {code}")
        sign = _credit_debit(_text(balance, ns, "CdtDbtInd"), f"{label}, Saldo {code}")
        found[code] = (cents if sign == _CREDIT else -cents, currency)
    opening = next((found[code] for code in _OPENING_CODES if code in found), None)
    return opening, found.get(_CLOSING_CODE)


def _check_balances(
    opening: tuple[int, str] | None,
    closing: tuple[int, str] | None,
    entries: list[Entry],
    warnings: list[str],
    label: str,
) -> bool | None:
    if opening is None or closing is None:
        return None
    booked = [e for e in entries if e.status == "BOOK"]
    currencies = {opening[1], closing[1]} | {e.currency for e in booked}
    if len(currencies) != 1:
        warnings.append(
            f"{label}: Der Saldenabgleich ist nicht möglich: Salden und Buchungen haben "
            f"verschiedene Währungen ({', '.join(sorted(currencies))})."
        )
        return None
    total = sum(e.amount_cents if e.credit_debit == _CREDIT else -e.amount_cents for e in booked)
    if opening[0] + total == closing[0]:
        return True
    warnings.append(
        f"{label}: Anfangssaldo ({opening[0]} Cent) plus Buchungen ({total} Cent) ergibt nicht den "
        f"Endsaldo ({closing[0]} Cent)."
    )
    return False


def _statement(stmt: Any, ns: str, message_id: str | None) -> Statement:
    statement_id = _text(stmt, ns, "Id")
    if statement_id is None:
        raise CamtError(_l("Ein Kontoauszug hat keine Kennung (Stmt/Id)."))
    label = f"Kontoauszug {statement_id}"
    iban = _compact(_text(stmt, ns, "Acct/Id/IBAN"))
    account_id = iban or _text(stmt, ns, "Acct/Id/Othr/Id")
    if account_id is None:
        raise CamtError(_l("%(label)s: Die Kontonummer (Acct/Id) fehlt.", label=label))
    entries = [
        _entry(element, ns, f"{label}, Buchung {number}", iban)
        for number, element in enumerate(_findall(stmt, ns, "Ntry"), start=1)
    ]
    warnings = [
        f"{label}, Buchung {number}: Die Einzelumsätze ergeben nicht den Buchungsbetrag."
        for number, entry in enumerate(entries, start=1)
        if entry.split_mismatch
    ]
    opening, closing = _balances(stmt, ns, label)
    balances_match = _check_balances(opening, closing, entries, warnings, label)
    period_start = _datetime(_text(stmt, ns, "FrToDt/FrDtTm"), f"{label}, FrDtTm")
    period_end = _datetime(_text(stmt, ns, "FrToDt/ToDtTm"), f"{label}, ToDtTm")
    return Statement(
        account_iban=iban,
        currency=_text(stmt, ns, "Acct/Ccy"),
        statement_id=statement_id,
        electronic_seq_nb=_text(stmt, ns, "ElctrncSeqNb"),
        legal_seq_nb=_text(stmt, ns, "LglSeqNb"),
        created_at=_datetime(_text(stmt, ns, "CreDtTm"), f"{label}, CreDtTm"),
        from_date=None if period_start is None else period_start.date(),
        to_date=None if period_end is None else period_end.date(),
        opening_balance_cents=None if opening is None else opening[0],
        closing_balance_cents=None if closing is None else closing[0],
        entries=entries,
        account_id=account_id,
        message_id=message_id,
        message_version=SUPPORTED_MESSAGES[ns],
        page_number=_positive_int(_text(stmt, ns, "StmtPgntn/PgNb"), f"{label}, PgNb"),
        balances_match=balances_match,
        warnings=warnings,
        from_datetime=period_start,
        to_datetime=period_end,
    )


def parse_statement(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Statement]:
    """Read a ``camt.053.001.08`` or ``camt.053.001.02`` file; one :class:`Statement` per
    ``Stmt``, in document order.

    The file is refused before parsing if it is larger than ``max_bytes`` or contains a
    ``DOCTYPE``/``ENTITY`` declaration; the parser resolves no entities, loads no DTD and uses no
    network. The message version is detected from the root namespace.

    :raises CamtError: with a German message for an oversized, empty or malformed file (with the
        line number), a DTD, an unsupported message ("… wird nicht unterstützt"), or missing or
        malformed amounts, currencies, indicators, dates or identifiers.
    """
    root = _parse_root(data, max_bytes)
    ns = _message_namespace(root)
    body = _find(root, ns, "BkToCstmrStmt")
    if body is None:
        raise CamtError(_l("Die Datei enthält kein BkToCstmrStmt-Element."))
    statements = _findall(body, ns, "Stmt")
    if not statements:
        raise CamtError(_l("Die Datei enthält keinen Kontoauszug (Stmt)."))
    message_id = _text(body, ns, "GrpHdr/MsgId")
    return [_statement(stmt, ns, message_id) for stmt in statements]


def statement_fingerprint(statement: Statement) -> str:
    """Key of the duplicate guard (R33): SHA-256 (hex) over account (IBAN or other id),
    ``Stmt/Id``, ``ElctrncSeqNb`` and the page number (``StmtPgntn/PgNb``, so the pages of a
    statement split across files do not collide). The message version and the file bytes are
    not part of it: the same statement delivered again, in a new file, has the same fingerprint.
    """
    key = json.dumps(
        [
            "camt.053/v1",
            statement.account_id,
            statement.statement_id,
            statement.electronic_seq_nb,
            statement.page_number,
        ],
        ensure_ascii=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def file_sha256(data: bytes) -> str:
    """SHA-256 (hex) of the file as uploaded; the second half of the duplicate guard."""
    return hashlib.sha256(data).hexdigest()
