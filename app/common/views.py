"""Small helpers that keep views thin: render a form page with the right status, and a success
message with a redirect."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template
from werkzeug.wrappers import Response


def render_form(template: str, forms: Any, **context: Any) -> tuple[str, int]:
    """Render ``template``; 422 when any of ``forms`` (one form or a sequence) carries errors, so
    a refused submission is never mistaken for a success (and ``@transactional`` rolls back)."""
    many = forms if isinstance(forms, list | tuple) else [forms]
    failed = any(form.errors for form in many)
    return render_template(template, **context), (422 if failed else 200)


def done(message: object, target: str) -> Response:
    """Flash ``message`` as a success and redirect to ``target``."""
    flash(str(message), "success")
    return redirect(target)
