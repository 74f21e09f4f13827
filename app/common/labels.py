"""Label registry: how codes of reference data read in the UI, per language (issue 11).

Reference data keeps its German name in the database (the legal wording, used in PDFs and the
cash office's files); the UI translates it at display through this registry, keyed by code. Each
package registers its labels as lazy strings (``lazy_gettext``, msgid = the German name), so the
English catalog carries the translation. Templates use the ``label`` filter::

    {{ t.code | label("document_type", t.label_de) }}

Texts a service *stores* (e.g. the reconciliation hint of a bank statement line) stay German in
the database; their templates are registered with ``register_stored`` (marked ``N_`` so that the
catalog carries them) and the ``stored`` filter shows them in the request's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import Enum

from flask_babel import get_locale, gettext

_REGISTRY: dict[str, dict[str, object]] = {}
#: Translated labels per (locale, kind, code): the catalogs are per-process constants, so a label
#: is translated once per process and language, not on every use (issue 13).
_TRANSLATED: dict[tuple[str, str, str], str] = {}
_STORED: list[tuple[re.Pattern[str], str]] = []
_PLACEHOLDER = re.compile(r"%\\\((\w+)\\\)s")


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark ``msgid`` for the catalog without translating it (stored texts stay German)."""
    return msgid


def register(kind: str, labels: Mapping[str, object]) -> None:
    """Add ``labels`` (code → lazy German label) under ``kind``."""
    _REGISTRY.setdefault(kind, {}).update(labels)
    _TRANSLATED.clear()


def label(code: object, kind: str, default: str | None = None) -> str:
    """The label of ``code`` (a string or an enum member) in the request's language.

    German shows ``default`` (the stored name) when given; other languages translate the
    registered label; unknown codes fall back to ``default``, else the code itself."""
    key = code.value if isinstance(code, Enum) else str(code)
    locale = get_locale()
    german = locale is None or locale.language == "de"
    if german and default is not None:
        return default
    cache_key = (str(locale), kind, key)
    cached = _TRANSLATED.get(cache_key)
    if cached is not None:
        return cached
    text = _REGISTRY.get(kind, {}).get(key)
    if text is not None:
        _TRANSLATED[cache_key] = result = str(text)
        return result
    return default if default is not None else key


def _english() -> bool:
    locale = get_locale()
    return locale is not None and locale.language != "de"


def register_stored(*msgids: str, groups: Mapping[str, Sequence[str]] | None = None) -> None:
    """Register templates (``%(name)s`` placeholders) of German texts that services store.

    ``groups`` limits a placeholder to known German values (e.g. reason labels that contain
    full stops themselves), so that a text splits into its parts unambiguously."""
    for msgid in msgids:

        def group(match: re.Match[str]) -> str:
            name = match.group(1)
            known = (groups or {}).get(name)
            body = "|".join(re.escape(v) for v in known) if known else ".*?"
            return f"(?P<{name}>{body})"

        # "%%" in a msgid with placeholders stands for the "%" of the stored text.
        pattern = _PLACEHOLDER.sub(group, re.escape(msgid).replace("%%", "%"))
        _STORED.append((re.compile(pattern, re.DOTALL), msgid))
    _STORED.sort(key=lambda item: -len(item[1]))  # the most specific template first


def stored(text: str | None) -> str:
    """A stored German text in the request's language: the registered template it matches,
    translated with its values (each value translated the same way); any other text (e.g. typed
    by a user) as the catalog has it, usually unchanged."""
    if not text or not _english():
        return text or ""
    for pattern, msgid in _STORED:
        match = pattern.fullmatch(text)
        if match:
            values = {k: stored(v) for k, v in match.groupdict().items()}
            return gettext(msgid, **values)
    return gettext(text)
