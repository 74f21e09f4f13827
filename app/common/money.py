"""Money helpers: integer cents inside, ``Decimal`` only to parse and format.

German input ("1.234,56", "1234,5", "1.234") and plain decimal points ("1234.56") are accepted.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.common.db import Cents

__all__ = [
    "AmountTooLarge",
    "Cents",
    "MoneyError",
    "format_eur",
    "format_plain",
    "from_decimal",
    "parse_eur",
    "percent_of",
    "to_decimal",
]

MAX_CENTS = 10**15  # 10 trillion euro: far beyond any grant, well inside BIGINT

_GERMAN = re.compile(r"^-?\d{1,3}(\.\d{3})*(,\d{1,2})?$|^-?\d+(,\d{1,2})?$")
_POINT = re.compile(r"^-?\d+(\.\d{1,2})?$")


class MoneyError(ValueError):
    """Raised for an amount that cannot be read as euro and cent."""


class AmountTooLarge(MoneyError):
    """Raised for an amount of ``MAX_CENTS`` or more ("Betrag zu groß", issue 14 finding 4)."""


#: Digits before the decimal separator that an amount below ``MAX_CENTS`` can have.
_MAX_EURO_DIGITS = len(str(MAX_CENTS // 100)) - 1


def parse_eur(text: str | None) -> Cents:
    """Parse a euro amount typed by a person into integer cents.

    :raises MoneyError: for anything that is not an amount with at most two decimals.
    """
    if text is None:
        raise MoneyError("empty")
    cleaned = text.strip().replace("€", "").replace("EUR", "").replace("\u00a0", "").strip()
    cleaned = cleaned.replace(" ", "")
    if not cleaned:
        raise MoneyError("empty")
    if _GERMAN.match(cleaned) and not (
        _POINT.match(cleaned) and "." in cleaned and len(cleaned.rsplit(".", 1)[1]) != 3
    ):
        normalised = cleaned.replace(".", "").replace(",", ".")
    elif _POINT.match(cleaned):
        normalised = cleaned
    else:
        raise MoneyError(cleaned)
    # 27+ digits would overflow Decimal's 28-digit context at the quantize: refuse by length.
    if len(normalised.lstrip("-").split(".")[0].lstrip("0")) > _MAX_EURO_DIGITS:
        raise AmountTooLarge(cleaned)
    try:
        value = Decimal(normalised)
    except InvalidOperation as exc:  # pragma: no cover - the regexes exclude this
        raise MoneyError(cleaned) from exc
    cents = from_decimal(value)
    if abs(cents) >= MAX_CENTS:
        raise AmountTooLarge(cleaned)
    return cents


def from_decimal(value: Decimal) -> Cents:
    """Decimal euro → integer cents (exact for at most two decimals, else half-up)."""
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_decimal(cents: Cents) -> Decimal:
    """Integer cents → Decimal euro with two places."""
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def format_plain(cents: Cents) -> str:
    """German number without currency sign: ``123456`` → ``"1.234,56"``."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}".replace(",", ".")
    return f"{sign}{grouped},{rest:02d}"


def format_eur(cents: Cents | None) -> str:
    """German display: ``123456`` → ``"1.234,56 €"`` (non-breaking space before the sign)."""
    if cents is None:
        return ""
    return f"{format_plain(cents)}\u00a0€"


def percent_of(part: Cents, whole: Cents) -> Decimal:
    """``part`` as a percentage of ``whole`` with two decimals (0 when ``whole`` is 0)."""
    if whole == 0:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)
