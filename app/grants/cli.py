"""``flask --app wsgi grants …``: commands for cron around decisions."""

from __future__ import annotations

from datetime import date

import click

from app.extensions import db
from app.grants.blueprint import bp
from app.grants.services.review import finalize_due


@bp.cli.command("finalize")
@click.option("--today", "on", default=None, help="Stichtag JJJJ-MM-TT (Standard: heute).")
def finalize_command(on: str | None) -> None:
    """Make approved grants final whose remedy period is over (T8; idempotent, for cron)."""
    day = date.fromisoformat(on) if on else None
    done = finalize_due(day)
    db.session.commit()
    click.echo(f"{len(done)} Bescheid(e) bestandskräftig.")
    for application in done:
        click.echo(f"  {application.reference} bestandskräftig seit {application.final_on}")
