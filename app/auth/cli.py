"""Operator commands: ``flask --app wsgi users create …`` and ``flask --app wsgi mail …``."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.auth import services
from app.auth.models import Role
from app.common.errors import DomainError
from app.common.mail import OutboxMessage, deliver_pending
from app.extensions import db
from app.orgs import queries as org_queries

users_cli = AppGroup("users", help="Manage user accounts.")
mail_cli = AppGroup("mail", help="Outgoing mail (outbox).")


def _read_password(from_stdin: bool) -> str:
    """Password from a hidden prompt, or the first line of stdin; never from argv."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Passwort", hide_input=True, confirmation_prompt=True))


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Role; repeat for several.",
)
@click.option("--organisation", "ags", default=None, help="AGS (8 digits) or Kreis key (5).")
@click.option("--name", default=None, help="Display name (default: the e-mail address).")
@click.option("--manager", is_flag=True, help="May invite colleagues of the organisation.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(
    email: str,
    roles: tuple[str, ...],
    ags: str | None,
    name: str | None,
    manager: bool,
    password_stdin: bool,
) -> None:
    """Create a user; the password is prompted for (or read from stdin)."""
    organisation = None
    if ags:
        organisation = org_queries.by_key(ags)
        if organisation is None:
            raise click.ClickException(f"Keine gültige Kommune mit Schlüssel {ags}.")
    password = _read_password(password_stdin)
    try:
        user = services.create_user(
            email=email,
            name=name or email,
            password=password,
            roles=[Role(r) for r in roles],
            organisation=organisation,
            is_org_manager=manager,
        )
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"Benutzer {user.email} angelegt (id {user.id}).")


@mail_cli.command("outbox")
@click.option("--limit", default=20, show_default=True)
def outbox_command(limit: int) -> None:
    """Show the newest mails in the outbox (development: nothing is sent)."""
    rows = db.session.execute(
        db.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    ).scalars()
    for message in rows:
        state = "gesendet" if message.sent_at else "nicht gesendet"
        click.echo(
            f"--- #{message.id} an {message.recipient} ({state})\n"
            f"Betreff: {message.subject}\n\n{message.body}"
        )


@mail_cli.command("send")
def send_command() -> None:
    """Send pending outbox mails over SMTP (needs MAIL_SERVER)."""
    count = deliver_pending()
    db.session.commit()
    click.echo(f"{count} E-Mail(s) gesendet.")
