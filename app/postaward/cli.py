"""``flask --app wsgi postaward …``: the daily deadline job (cron)."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app

from app.common.db import today
from app.extensions import db
from app.monitoring.services import record_milestones
from app.postaward.blueprint import bp
from app.postaward.services.deadlines import run_deadlines


@bp.cli.command("run-deadlines")
@click.option("--today", "on", default=None, help="Stichtag JJJJ-MM-TT (Standard: heute).")
def run_deadlines_command(on: str | None) -> None:
    """Daily deadline job (cron, e.g. 5:30): VN due/overdue (T11, R21, T24), completeness checks
    (R18), final instalment (R19), no start (R24), publicity (R29), revocation deadlines (R26);
    programme milestones (issue 15).

    One transaction; idempotent (a second run on the same day creates nothing).
    """
    try:
        day = date.fromisoformat(on) if on else today()
    except ValueError as exc:
        raise click.BadParameter("Bitte als JJJJ-MM-TT angeben.", param_hint="--today") from exc
    report = run_deadlines(day)
    milestones = record_milestones(day, current_app.config["MILESTONE_RECIPIENTS"])
    db.session.commit()
    for line in report.lines():
        click.echo(line)
    for event in milestones:
        click.echo(f"Meilenstein: {event.kind.value} {event.threshold}")
