"""Label registry: how codes of reference data read in the UI, per language (issue 11).

Reference data keeps its German name in the database (the legal wording, used in PDFs and the
cash office's files); the UI translates it at display through this registry, keyed by code. Each
package registers its labels as lazy strings (``lazy_gettext``, msgid = the German name), so the
English catalog carries the translation. Templates use the ``label`` filter::

    {{ t.code | label("document_type", t.label_de) }}
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from flask_babel import get_locale

_REGISTRY: dict[str, dict[str, object]] = {}


def register(kind: str, labels: Mapping[str, object]) -> None:
    """Add ``labels`` (code → lazy German label) under ``kind``."""
    _REGISTRY.setdefault(kind, {}).update(labels)


def label(code: object, kind: str, default: str | None = None) -> str:
    """The label of ``code`` (a string or an enum member) in the request's language.

    German shows ``default`` (the stored name) when given; other languages translate the
    registered label; unknown codes fall back to ``default``, else the code itself."""
    key = code.value if isinstance(code, Enum) else str(code)
    locale = get_locale()
    german = locale is None or locale.language == "de"
    if german and default is not None:
        return default
    text = _REGISTRY.get(kind, {}).get(key)
    if text is not None:
        return str(text)
    return default if default is not None else key
