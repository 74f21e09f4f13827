"""One place that cleans what people type (issue 14, finding 4; ASVS 5.0 1.2/2.2).

Every request's query string and form values lose the C0 control characters (NUL included; tab,
line feed and carriage return stay) and DEL, and a value of only whitespace becomes empty, before
any view, form or query sees them —
PostgreSQL refuses NUL in text, and none of these characters belongs in a name, a comment or a
filter. A path segment with such a character names nothing: 404. File names also lose the
invisible bidi and zero-width characters that can disguise an extension (``visible_text``;
``Bericht\u202efdp.exe`` shows as "Berichtexe.pdf", finding 5) when stored and, through the
``visible`` template filter, when shown.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, abort, request
from werkzeug.datastructures import ImmutableMultiDict

#: C0 controls except tab, line feed, carriage return; and DEL.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Bidi embeddings/overrides/isolates, zero-width characters, soft hyphen and the BOM.
_INVISIBLE = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def clean_text(value: str) -> str:
    """``value`` without C0 control characters (tab and line breaks kept) and DEL."""
    return _CONTROL.sub("", value)


def has_control(value: str) -> bool:
    return _CONTROL.search(value) is not None


def visible_text(value: str) -> str:
    """``value`` without control, bidi and zero-width characters (for names shown as they are)."""
    return _INVISIBLE.sub("", _CONTROL.sub("", value))


def _clean_value(value: str) -> str:
    """Controls removed; a value of only whitespace is empty (so ``InputRequired`` refuses it
    instead of a custom field turning it into ``None`` behind the validator's back)."""
    value = clean_text(value)
    return value if value.strip() else ""


def _cleaned(data: Any) -> ImmutableMultiDict[str, str] | None:
    """A cleaned copy of a ``MultiDict`` of strings, or None when nothing needs cleaning."""
    pairs = list(data.items(multi=True))
    cleaned = [(clean_text(k), _clean_value(v)) for k, v in pairs]
    return None if cleaned == pairs else ImmutableMultiDict(cleaned)


def register_input_cleaning(app: Flask) -> None:
    """Install the path check, the query/form cleaning and the ``visible`` template filter."""
    app.add_template_filter(visible_text, "visible")

    @app.url_value_preprocessor
    def _refuse_control_in_path(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        for value in (values or {}).values():
            if isinstance(value, str) and has_control(value):
                abort(404)

    @app.before_request
    def _clean_query_and_form() -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]
        args = _cleaned(req.args)
        if args is not None:
            req.__dict__["args"] = args
            req.__dict__.pop("values", None)
        if req.method in ("POST", "PUT", "PATCH"):
            form = _cleaned(req.form)
            if form is not None:
                req.__dict__["form"] = form
                req.__dict__.pop("values", None)
