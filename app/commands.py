"""Application-wide CLI commands that span packages (the top layer, like routes).

``flask --app wsgi reference import``: the bundled municipalities and Landkreise (``app.orgs``)
and the reference tables of grants and finance (document types, TV-L caps, base rates).
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db
from app.grants.seed import seed_reference
from app.orgs.reference import ATTRIBUTION, MERGERS, apply_mergers, import_reference_data


@click.group("reference", cls=AppGroup)
def reference_cli() -> None:
    """Reference data (Gemeinden, Landkreise, document types, TV-L caps, base rates)."""


@reference_cli.command("import")
def import_command() -> None:
    """Import the 419 Gemeinden, 10 Landkreise and seed reference tables (idempotent)."""
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


@reference_cli.command("merge-municipalities")
def merge_command() -> None:
    """Apply the bundled municipality changes (R35, e.g. Jahnatal 01.01.2023); idempotent."""
    result = apply_mergers()
    db.session.commit()
    for merger in MERGERS:
        click.echo(
            f"{merger.on:%d.%m.%Y}: {' + '.join(merger.predecessor_ags)} → "
            f"{merger.successor_ags} {merger.successor_name}"
        )
    click.echo(
        f"Nachfolger neu: {result.created}, Vorgänger beendet: {result.closed}, "
        f"Konten übertragen: {result.users_moved}, unverändert: {result.unchanged}"
    )
