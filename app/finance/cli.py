"""``flask --app wsgi finance payment-run --execution-date 2027-02-01 --out run.xml --as EMAIL``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from app.auth.models import User
from app.common.errors import DomainError
from app.common.money import format_eur
from app.extensions import db
from app.finance import bp
from app.finance.services import payouts


@bp.cli.command("payment-run")
@click.option("--execution-date", required=True, help="Ausführungsdatum JJJJ-MM-TT.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Zieldatei für die pain.001-XML.",
)
@click.option("--as", "email", required=True, help="E-Mail der ausführenden Kassenkraft.")
def payment_run_command(execution_date: str, out: Path, email: str) -> None:
    """Collect released payout orders into a pain.001.001.09 file (one transaction)."""
    user = db.session.execute(
        db.select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"Unbekannter Benutzer {email}.")
    try:
        day = date.fromisoformat(execution_date)
    except ValueError as exc:
        raise click.ClickException("Datum bitte als JJJJ-MM-TT angeben.") from exc
    try:
        run = payouts.create_payment_run(user, execution_date=day)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    out.write_bytes(run.xml)
    db.session.commit()
    click.echo(
        f"Zahlungslauf {run.msg_id}: {run.nb_of_txs} Überweisungen, "
        f"{format_eur(run.ctrl_sum_cents)} → {out}"
    )
