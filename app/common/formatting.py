"""Display helpers used by templates and PDFs (German formats; clock times per UI language).

Legal documents (Bescheid, submitted application) are rendered under ``force_locale("de")``."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import get_locale

from app.common.db import as_utc
from app.common.money import format_eur, format_plain

BERLIN = ZoneInfo("Europe/Berlin")


def eur(cents: int | None) -> str:
    """``123456`` → ``1.234,56 €``."""
    return format_eur(cents)


def eur_plain(cents: int | None) -> str:
    """``123456`` → ``1.234,56`` (for input fields)."""
    return "" if cents is None else format_plain(cents)


def date_de(value: date | datetime | None) -> str:
    """``date(2026, 10, 15)`` → ``15.10.2026``; a (UTC) datetime gives its date in Germany."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = as_utc(value).astimezone(BERLIN).date()  # type: ignore[union-attr]
    return value.strftime("%d.%m.%Y")


def _english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "en"


def datetime_de(value: datetime | None) -> str:
    """UTC datetime → local ``15.10.2026, 14:05 Uhr`` (English UI: ``15.10.2026, 14:05``)."""
    aware = as_utc(value)
    if aware is None:
        return ""
    pattern = "%d.%m.%Y, %H:%M" if _english() else "%d.%m.%Y, %H:%M Uhr"
    return aware.astimezone(BERLIN).strftime(pattern)


def count_de(number: int, one: str, many: str) -> str:
    """German count with the right noun for CLI reports: ``1 Buchung``, ``2 Buchungen``."""
    return f"{number} {one if number == 1 else many}"


def permille(value: int | None) -> str:
    """FTE share in per mille → German decimal: ``300`` → ``0,3``."""
    if value is None:
        return ""
    whole, rest = divmod(value, 1000)
    text = f"{whole},{rest:03d}".rstrip("0").rstrip(",")
    return text


def percent_bp(value: int | None) -> str:
    """Basis points → German percentage: ``8000`` → ``80,00 %`` (non-breaking space)."""
    if value is None:
        return ""
    whole, rest = divmod(abs(value), 100)
    sign = "-" if value < 0 else ""
    return f"{sign}{whole:,}".replace(",", ".") + f",{rest:02d}\u00a0%"


def urlencode_except(args: object, skip: str) -> str:
    """Query string of ``args`` (a MultiDict) without ``skip`` (for pagination links)."""
    from urllib.parse import urlencode

    items = getattr(args, "items", None)
    pairs = [(k, v) for k, v in (items(multi=True) if items else []) if k != skip]
    return urlencode(pairs)


def iban(value: str | None) -> str:
    """IBAN in groups of four as printed for people: ``DE89 3704 0044 0532 0130 00``."""
    compact = (value or "").replace(" ", "").upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
