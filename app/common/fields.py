"""WTForms fields for German input: money in cents, dates as TT.MM.JJJJ, FTE as decimals."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from wtforms import StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app.common.formatting import date_de, permille
from app.common.money import AmountTooLarge, MoneyError, format_plain, parse_eur

#: Message for an amount of ``MAX_CENTS`` or more (issue 14 finding 4, issue 11).
TOO_LARGE = _l("Betrag zu groß – bitte prüfen Sie die Eingabe.")


def money_message(exc: MoneyError) -> str:
    """The German message for an amount that could not be read: too large, or not an amount."""
    if isinstance(exc, AmountTooLarge):
        return str(TOO_LARGE)
    return str(_l("Bitte geben Sie einen Betrag wie 1.234,56 ein."))


class MoneyField(StringField):
    """Euro amount typed the German way ("1.234,56"); ``data`` is integer cents or None."""

    def __init__(self, *args: Any, allow_negative: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allow_negative = allow_negative

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return format_plain(self.data) if isinstance(self.data, int) else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            cents = parse_eur(str(valuelist[0]))
        except MoneyError as exc:
            self.data = None
            raise ValueError(money_message(exc)) from None
        if cents < 0 and not self.allow_negative:
            self.data = None
            raise ValueError(_l("Der Betrag darf nicht negativ sein."))
        self.data = cents


class GermanDateField(StringField):
    """Date typed as TT.MM.JJJJ (ISO JJJJ-MM-TT also accepted); ``data`` is a ``date``."""

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return date_de(self.data) if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        if not text:
            self.data = None
            return
        for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
            try:
                parsed = datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a plain date
            except ValueError:
                continue
            if 1900 < parsed.year < 2200:
                self.data = parsed
                return
            self.data = None
            raise ValueError(_l("Bitte geben Sie ein Jahr zwischen 1901 und 2199 an."))
        self.data = None
        if _DATE_SHAPE.match(text):  # well-formed, but no such day (31.02.2027, 2027-13-01)
            raise ValueError(_l("Dieses Datum gibt es nicht. Bitte prüfen Sie Tag und Monat."))
        raise ValueError(_l("Bitte geben Sie ein Datum im Format TT.MM.JJJJ ein."))


_DATE_SHAPE = re.compile(r"^(\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{1,2}-\d{1,2})$")


def first_error(form: Any) -> str:
    """The first error message of a form (for the few actions that answer with a flash)."""
    for errors in form.errors.values():
        for error in errors:
            return str(error)
    return ""


_FTE = re.compile(r"^(0|1)([,.]\d{1,3})?$")


class FteField(StringField):
    """Share of a full-time post as a decimal ("0,5"); ``data`` is per mille (500)."""

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return permille(self.data) if isinstance(self.data, int) else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        if not text:
            self.data = None
            return
        if not _FTE.match(text):
            self.data = None
            raise ValueError(_l("Bitte geben Sie den Stellenanteil zwischen 0,001 und 1 an."))
        whole, _, frac = text.replace(",", ".").partition(".")
        value = int(whole) * 1000 + int((frac + "000")[:3])
        if not 0 < value <= 1000:
            self.data = None
            raise ValueError(_l("Bitte geben Sie den Stellenanteil zwischen 0,001 und 1 an."))
        self.data = value


def options(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """``SelectField`` choices from (value, label) pairs (WTForms 3.3 deprecates tuples).

    Lazy labels (``_l``) stay lazy, so that choices declared on a form class render in the
    language of each request (issue 11)."""
    return [
        SelectChoice(str(value), label if isinstance(label, LazyString) else str(label))
        for value, label in pairs
    ]


def optional_str(value: object) -> str:
    """``coerce`` for select fields with an empty option: a missing value is ``""``."""
    return "" if value is None else str(value)


_PERCENT = re.compile(r"^\d{1,3}([,.]\d{1,2})?$")


class PercentField(StringField):
    """A percentage typed as "81,5"; ``data`` is basis points (8150)."""

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if isinstance(self.data, int):
            return f"{self.data // 100},{self.data % 100:02d}"
        return ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]).strip().replace("%", "").strip() if valuelist else ""
        if not text:
            self.data = None
            return
        if not _PERCENT.match(text):
            self.data = None
            raise ValueError(_l("Bitte geben Sie einen Prozentsatz wie 81,50 ein."))
        whole, _, frac = text.replace(",", ".").partition(".")
        self.data = int(whole) * 100 + int((frac + "00")[:2])


_YEAR_LINE = re.compile(r"^\s*(\d{4})\s*[:=]\s*(.+?)\s*$")


class YearAmountsField(TextAreaField):
    """Lines "2027: 16.200,00"; ``data`` is ``{2027: 1620000}``."""

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if isinstance(self.data, dict):
            return "\n".join(f"{y}: {format_plain(a)}" for y, a in sorted(self.data.items()))
        return ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]) if valuelist else ""
        result: dict[int, int] = {}
        for raw in text.splitlines():
            if not raw.strip():
                continue
            match = _YEAR_LINE.match(raw)
            if not match:
                self.data = None
                raise ValueError(
                    _l("Bitte je Zeile „Jahr: Betrag“ angeben, z. B. 2027: 16.200,00.")
                )
            year = int(match.group(1))
            try:
                cents = parse_eur(match.group(2))
            except AmountTooLarge:
                self.data = None
                raise ValueError(TOO_LARGE) from None
            except MoneyError:
                self.data = None
                raise ValueError(
                    _l("Bitte je Zeile „Jahr: Betrag“ angeben, z. B. 2027: 16.200,00.")
                ) from None
            if year in result:
                self.data = None
                raise ValueError(_l("Jedes Haushaltsjahr darf nur einmal vorkommen."))
            result[year] = cents
        self.data = result or None
