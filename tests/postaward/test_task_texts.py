"""The daily job's task texts read English in the English UI (issue 11): each text it stores
matches a template of ``app.postaward.task_texts``."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask_babel import force_locale

from app.common.labels import stored
from app.extensions import db
from app.grants.models import ApplicationEvent, EventKind
from app.postaward import task_texts
from app.postaward.models import Notification
from app.postaward.services import deadlines
from app.postaward.services.deadlines import run_deadlines
from tests.postaward.test_deadlines import _vn_due, people  # noqa: F401 - fixture


def test_reason_labels_have_templates() -> None:
    assert set(task_texts.REASONS) == set(deadlines.REASON_LABELS.values())


def test_task_texts_of_the_daily_job_are_shown_in_english(app: Flask, people) -> None:  # noqa: F811
    _vn_due(people["applicant"])  # VN due → T11 task
    run_deadlines(date(2028, 12, 3))  # reminder before the deadline
    run_deadlines(date(2029, 1, 1))  # overdue (organisation and ministry)
    run_deadlines(date(2029, 1, 29))  # revocation check opened (T24)
    texts = [n.message for n in db.session.execute(db.select(Notification)).scalars()]
    texts += [
        e.message
        for e in db.session.execute(
            db.select(ApplicationEvent).where(ApplicationEvent.kind == EventKind.REMINDER)
        ).scalars()
    ]
    assert len(set(texts)) >= 4, texts
    with app.test_request_context():
        with force_locale("en"):
            english = {text: stored(text) for text in texts}
        with force_locale("de"):
            assert all(stored(text) == text for text in texts)
    untranslated = [t for t, e in english.items() if e == t]
    assert not untranslated, untranslated
    german = [e for e in english.values() if "Verwendungsnachweis" in e or "Bitte" in e]
    assert not german, german
