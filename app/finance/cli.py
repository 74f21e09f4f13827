"""Finance commands.

``flask --app wsgi finance payment-run --execution-date 2027-02-01 --out run.xml --as EMAIL
--totp CODE``
``flask --app wsgi finance payment-run-file RUN_ID|MSGID --out run.xml``
``flask --app wsgi finance export-beancount --year 2027 --out ledger.beancount``
``flask --app wsgi finance export-ledger --year 2027 --format csv|csv-plain|xlsx|json --out FILE``
``flask --app wsgi finance export-monitoring --year 2027 --format xlsx --out FILE``
``flask --app wsgi finance export-grant --kassenzeichen KP-2027-0001 --format xlsx --out FILE``
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import date, datetime
from pathlib import Path

import click

from app.auth import mfa
from app.auth.models import User
from app.budget.models import MAX_YEAR, MIN_YEAR
from app.common.errors import DomainError
from app.common.formatting import count_de, date_de
from app.common.money import format_eur
from app.extensions import db
from app.finance import exports, queries, reports
from app.finance.blueprint import bp
from app.postaward.services import settlement

_AS_OPTION = click.option(
    "--as", "email", required=True, help="E-Mail der ausführenden Kassenkraft."
)
_TOTP_OPTION = click.option(
    "--totp",
    required=True,
    prompt="Code aus der Authenticator-App",
    help="Aktueller Code des zweiten Faktors der ausführenden Person.",
)


def _acting_user(email: str, totp: str) -> User:
    """The user named by ``--as``, re-authenticated with the second factor (issue 14): commands
    that move money need the acting person's current code, like the web forms. A wrong code
    counts as a failed login (source ``cli``) and is committed."""
    user = db.session.execute(
        db.select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"Unbekannter Benutzer {email}.")
    try:
        mfa.step_up(user, totp, source="cli")
    except mfa.SecondFactorRejected as exc:
        db.session.commit()
        raise click.ClickException(exc.message) from exc
    return user


def _reserve_file(out: Path) -> Path:
    """Create an empty, uniquely named temp file next to ``out`` *before* the transaction, so a
    missing or read-only directory is refused before anything is committed. It stays empty
    until the run is committed: a process killed before the commit leaves no payable file."""
    try:
        fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    except OSError as exc:
        raise click.ClickException(
            f"Die Datei {out} kann nicht angelegt werden: {exc.strerror}."
        ) from exc
    os.close(fd)
    return Path(name)


def _publish_file(partial: Path, out: Path, content: bytes) -> None:
    """Write, fsync and atomically rename ``partial`` to ``out`` (after the commit)."""
    try:
        with partial.open("wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        partial.replace(out)
        directory = os.open(out.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@bp.cli.command("payment-run")
@click.option("--execution-date", required=True, help="Ausführungsdatum JJJJ-MM-TT.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Zieldatei für die pain.001-XML (erscheint erst nach dem Speichern des Laufs).",
)
@_AS_OPTION
@_TOTP_OPTION
def payment_run_command(execution_date: str, out: Path, email: str, totp: str) -> None:
    """Collect released payout orders into a pain.001.001.09 file (one transaction).

    Issue 14, finding 1: the file appears only after the run is committed (temp file in the
    same directory, fsync, rename). Killed before the commit: no run, no file, the orders stay
    released. Killed after it: the run is stored and ``payment-run-file`` writes it again.
    """
    user = _acting_user(email, totp)
    try:
        day = date.fromisoformat(execution_date)
    except ValueError as exc:
        raise click.ClickException("Datum bitte als JJJJ-MM-TT angeben.") from exc
    partial = _reserve_file(out)
    try:
        run = settlement.create_payment_run(user, execution_date=day)
        db.session.commit()
    except DomainError as exc:
        partial.unlink(missing_ok=True)
        raise click.ClickException(exc.message) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    try:
        _publish_file(partial, out, run.xml)
    except OSError as exc:
        raise click.ClickException(
            f"Zahlungslauf {run.msg_id} (Nr. {run.id}) ist gespeichert, aber die Datei konnte "
            f"nicht geschrieben werden ({exc.strerror}). Erneut abrufen mit: "
            f"flask finance payment-run-file {run.id} --out DATEI"
        ) from exc
    click.echo(
        f"Zahlungslauf {run.msg_id} (Nr. {run.id}): "
        f"{count_de(run.nb_of_txs, 'Überweisung', 'Überweisungen')}, "
        f"{format_eur(run.ctrl_sum_cents)} → {out}"
    )


@bp.cli.command("payment-run-file")
@click.argument("run_ref")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Zieldatei für die gespeicherte pain.001-XML.",
)
def payment_run_file_command(run_ref: str, out: Path) -> None:
    """Write the stored pain.001 file of a payment run again (RUN_REF: number or MsgId)."""
    run = queries.payment_run_by_ref(run_ref.strip())
    if run is None:
        raise click.ClickException(f"Unbekannter Zahlungslauf {run_ref}.")
    if hashlib.sha256(run.xml).hexdigest() != run.sha256:
        raise click.ClickException(
            f"Die gespeicherte Datei des Zahlungslaufs {run.msg_id} ist beschädigt (SHA-256)."
        )
    _publish_file(_reserve_file(out), out, run.xml)
    click.echo(f"Zahlungslauf {run.msg_id} (Nr. {run.id}), SHA-256 {run.sha256} → {out}")


@bp.cli.command("export-beancount")
@click.option(
    "--year",
    type=click.IntRange(MIN_YEAR, MAX_YEAR),
    default=None,
    help="Haushaltsjahr (ohne Angabe: alle Jahre).",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Zieldatei für das Hauptbuch im beancount-Format.",
)
def export_beancount_command(year: int | None, out: Path) -> None:
    """Export the ledger (journal entries with postings) as a beancount file (read-only)."""
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        count = exports.write_beancount(fh, year)
    scope = f"Haushaltsjahr {year}" if year is not None else "alle Haushaltsjahre"
    click.echo(f"Hauptbuch ({scope}): {count_de(count, 'Buchung', 'Buchungen')} → {out}")


@bp.cli.command("import-statement")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_AS_OPTION
@_TOTP_OPTION
def import_statement_command(file: Path, email: str, totp: str) -> None:
    """Import a camt.053 statement and reconcile it (importing it twice changes nothing)."""
    user = _acting_user(email, totp)
    try:
        result = settlement.import_statement(user, file.read_bytes(), file.name)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    for ref in result.duplicates:
        click.echo(f"Kontoauszug {ref} war bereits eingelesen – nichts geändert.")
    for zero in result.zero_amount:
        day = date_de(zero.booking_date) if zero.booking_date else "–"
        click.echo(
            f"Kontoauszug {zero.statement_ref}, Buchung {zero.line_no} "
            f"({zero.entry_ref or '–'}, {day}) lautet auf 0,00 € und wurde nicht übernommen."
        )
    click.echo(
        f"{count_de(len(result.statements), 'Auszug', 'Auszüge')}, "
        f"{count_de(result.lines, 'Buchung', 'Buchungen')}: "
        f"{result.matched} zugeordnet, {result.open} offen."
    )


# --- reports: ledger, monitoring list (R34), grant statement (formats: app.finance.reports) ------

_FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(reports.FORMATS),
    help="csv = deutsch für Excel (;, Dezimalkomma), csv-plain = technisch (,, Punkt), xlsx, json.",
)
_OUT_OPTION = click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Zieldatei (ohne Angabe: <art>-<jahr>-<zeitstempel>.<endung> im aktuellen Verzeichnis).",
)


def _parse_day(text: str | None, option: str) -> date | None:
    if text is None or not text.strip():
        return None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()  # noqa: DTZ007 - a plain date
        except ValueError:
            continue
    raise click.BadParameter(
        "Datum bitte als JJJJ-MM-TT oder TT.MM.JJJJ angeben.", param_hint=option
    )


def _write_export(export: reports.ExportFile, out: Path | None) -> Path:
    """Write the chunks to ``out`` (default: the export's file name) via a ``.part`` file."""
    target = out or Path(export.filename)
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as fh:
            for chunk in export.chunks:
                fh.write(chunk)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


@bp.cli.command("export-ledger")
@click.option(
    "--year",
    type=click.IntRange(MIN_YEAR, MAX_YEAR),
    default=None,
    help="Haushaltsjahr (ohne Angabe: alle Jahre).",
)
@click.option("--from", "date_from", default=None, help="Buchungsdatum ab (JJJJ-MM-TT).")
@click.option("--to", "date_to", default=None, help="Buchungsdatum bis (JJJJ-MM-TT).")
@_FORMAT_OPTION
@_OUT_OPTION
@click.option(
    "--chunk-rows",
    type=click.IntRange(100, 1_000_000),
    default=reports.CHUNK_ROWS,
    show_default=True,
    help="Buchungszeilen je Block (begrenzt den Speicherbedarf).",
)
def export_ledger_command(
    year: int | None,
    date_from: str | None,
    date_to: str | None,
    fmt: str | None,
    out: Path | None,
    chunk_rows: int,
) -> None:
    """Export the ledger (one row per posting), streamed in chunks, with a progress bar."""
    start, end = _parse_day(date_from, "--from"), _parse_day(date_to, "--to")
    if start is not None and end is not None and start > end:
        raise click.BadParameter("Das Enddatum liegt vor dem Anfang.", param_hint="--to")
    total = reports.ledger_row_count(year, start, end)
    with click.progressbar(length=total, label="Hauptbuch exportieren") as bar:
        export = reports.ledger_export(
            fmt or "csv",
            year=year,
            date_from=start,
            date_to=end,
            chunk_rows=chunk_rows,
            progress=bar.update,
        )
        target = _write_export(export, out)
    scope = reports.ledger_scope(year, start, end)
    click.echo(f"Hauptbuch ({scope}): {total} Buchungszeilen → {target}")


@bp.cli.command("export-monitoring")
@click.option("--year", type=click.IntRange(MIN_YEAR, MAX_YEAR), required=True)
@_FORMAT_OPTION
@_OUT_OPTION
def export_monitoring_command(year: int, fmt: str | None, out: Path | None) -> None:
    """Export the Haushaltsüberwachungsliste of a budget year (R34, VVK 9.2)."""
    target = _write_export(reports.monitoring_export(year, fmt or "xlsx"), out)
    click.echo(f"Haushaltsüberwachungsliste {year} → {target}")


@bp.cli.command("export-grant")
@click.option("--kassenzeichen", required=True, help="z. B. KP-2027-0001")
@_FORMAT_OPTION
@_OUT_OPTION
def export_grant_command(kassenzeichen: str, fmt: str | None, out: Path | None) -> None:
    """Export the account statement of one grant (running balance per account)."""
    try:
        export = reports.grant_export(kassenzeichen.strip().upper(), fmt or "xlsx")
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    target = _write_export(export, out)
    click.echo(f"Kontoauszug {kassenzeichen.strip().upper()} → {target}")
