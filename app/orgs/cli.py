"""``flask --app wsgi reference import``: load the bundled municipalities and Landkreise."""

from __future__ import annotations

import click

from app.extensions import db
from app.orgs import bp
from app.orgs.reference import ATTRIBUTION, import_reference_data


@bp.cli.command("import")
def import_command() -> None:
    """Import the 419 Gemeinden, 10 Landkreise and seed reference tables (idempotent)."""
    from app.grants.seed import seed_reference

    result = import_reference_data()
    seeded = seed_reference()
    db.session.commit()
    click.echo(
        f"Gemeinden neu: {result.gemeinden_created}, Landkreise neu: {result.landkreise_created}, "
        f"aktualisiert: {result.updated}, unverändert: {result.unchanged}"
    )
    click.echo(
        f"Dokumentarten neu: {seeded['document_types']}, "
        f"TV-L-Obergrenzen neu: {seeded['pay_scales']}, "
        f"Basiszinssätze neu: {seeded.get('base_rates', 0)}"
    )
    click.echo(f"Quelle: {ATTRIBUTION}")
