"""Open-data commands.

``flask --app wsgi opendata export --out DIR`` writes the 360Giving package (JSON, validated
against the bundled schema) and its spreadsheet form (CSV, XLSX) for a publishing job.
"""

from __future__ import annotations

from pathlib import Path

import click

from app.common.db import utcnow
from app.opendata import giving
from app.opendata.blueprint import bp


@bp.cli.command("export")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Zielverzeichnis (wird angelegt).",
)
def export_command(out: Path) -> None:
    """Write kommpraev-360giving.{json,csv,xlsx}; refuses an invalid or empty package."""
    grants = giving.awarded_grants()
    if not grants:
        raise click.ClickException("Es gibt noch keine bewilligten Zuwendungen.")
    now = utcnow()
    package = giving.package_json(grants, modified=now)
    errors = giving.validation_errors(package)
    if errors:
        raise click.ClickException("Das 360Giving-Paket ist ungültig:\n" + "\n".join(errors[:20]))
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "json": package,
        "csv": giving.spreadsheet_csv(grants, modified=now),
        "xlsx": giving.spreadsheet_xlsx(grants, modified=now),
    }
    for ext, data in files.items():
        target = out / f"kommpraev-360giving.{ext}"
        partial = target.with_suffix(f".{ext}.part")
        partial.write_bytes(data)
        partial.replace(target)
        click.echo(f"{target} ({len(data)} Bytes)")
    click.echo(f"{len(grants)} Zuwendungen veröffentlicht (360Giving 1.4, Schema geprüft).")
