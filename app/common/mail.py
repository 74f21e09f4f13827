"""Outgoing mail: every message is kept in the outbox table; sent by SMTP when configured.

In development no SMTP server is configured, so messages stay in the outbox, readable with
``flask --app wsgi mail outbox`` or on the admin page "Postausgang".
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.common.db import utcnow
from app.extensions import Model, db

logger = logging.getLogger(__name__)


class OutboxMessage(Model):
    """A mail as it was (or would have been) sent."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


def queue_mail(recipient: str, subject: str, body: str) -> OutboxMessage:
    """Store a mail in the outbox (same transaction as the act that causes it)."""
    message = OutboxMessage(recipient=recipient, subject=subject, body=body)
    db.session.add(message)
    return message


def deliver_pending(limit: int = 100) -> int:
    """Send unsent outbox mails over SMTP (no-op without ``MAIL_SERVER``). Returns the count."""
    server = current_app.config.get("MAIL_SERVER")
    if not server:
        return 0
    pending = db.session.execute(
        db.select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).limit(limit)
    ).scalars()
    sent = 0
    with smtplib.SMTP(server, current_app.config["MAIL_PORT"], timeout=30) as smtp:
        if current_app.config["MAIL_USE_TLS"]:
            smtp.starttls()
        if current_app.config.get("MAIL_USERNAME"):
            smtp.login(current_app.config["MAIL_USERNAME"], current_app.config["MAIL_PASSWORD"])
        for message in pending:
            mail = EmailMessage()
            mail["From"] = current_app.config["MAIL_SENDER"]
            mail["To"] = message.recipient
            mail["Subject"] = message.subject
            mail.set_content(message.body)
            smtp.send_message(mail)
            message.sent_at = utcnow()
            sent += 1
    logger.info("mail_delivered", extra={"count": sent})
    return sent
