"""Issue 14, finding 5: every free-text field has a length limit with a German message.

Walks every ``FlaskForm`` subclass of the app: each ``StringField``/``TextAreaField`` (and their
subclasses, except the parsing fields of ``app.common.fields``, whose input is checked by their
own pattern) carries a ``Length(max=…)`` validator.
"""

from __future__ import annotations

import importlib
import pkgutil

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

import app as app_package
from app.common import fields as common_fields
from app.grants.forms import SignedPercentField

PARSED = (
    common_fields.MoneyField,
    common_fields.GermanDateField,
    common_fields.FteField,
    common_fields.PercentField,
    common_fields.YearAmountsField,
    SignedPercentField,
)


def _form_classes() -> list[type[FlaskForm]]:
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        if module.name.endswith((".forms", "_forms")) or module.name.endswith("forms"):
            importlib.import_module(module.name)
    seen: list[type[FlaskForm]] = []
    todo = list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("app.") and cls not in seen:
            seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


def test_every_text_field_has_a_length_limit(app_ctx):
    missing = []
    classes = _form_classes()
    assert len(classes) > 20
    for cls in classes:
        for name in dir(cls):
            unbound = getattr(cls, name)
            field_class = getattr(unbound, "field_class", None)
            if not isinstance(field_class, type) or not issubclass(
                field_class, (StringField, TextAreaField)
            ):
                continue
            if issubclass(field_class, PARSED):
                continue
            validators = unbound.kwargs.get("validators") or (
                unbound.args[1] if len(unbound.args) > 1 else []
            )
            if not any(isinstance(v, Length) and v.max and v.max > 0 for v in validators):
                missing.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert missing == [], "\n".join(missing)
