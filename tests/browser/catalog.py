"""The UI texts a journey expects, in the language it runs in: German texts are the msgids, the
English ones come from the project's catalog. A text without an English translation raises, so an
untranslated screen fails the English run instead of passing with German text."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

PO = Path(__file__).resolve().parents[2] / "app/translations/en/LC_MESSAGES/messages.po"


@cache
def _english() -> dict[str, str]:
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string
    }


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, german: str) -> str:
        if self.lang == "de":
            return german
        try:
            return _english()[german]
        except KeyError:
            raise AssertionError(f"no English translation for {german!r}") from None
