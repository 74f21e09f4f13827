"""``flask --app wsgi budget ...``: open budget years, set VE, Ausgabereste and the R13 flag,
show a year and run the self-check. One transaction per command, committed at its end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from app.budget import services as svc
from app.budget.blueprint import bp
from app.budget.models import MAX_YEAR, MIN_YEAR
from app.common.errors import DomainError
from app.common.money import AmountTooLarge, MoneyError, format_eur, parse_eur
from app.extensions import db

YEAR = click.IntRange(MIN_YEAR, MAX_YEAR)


def _money(text: str, option: str) -> int:
    """Parse "1300000.00" or "1.300.000,00" into cents.

    :raises click.BadParameter: not an amount, or negative.
    """
    try:
        cents = parse_eur(text)
    except AmountTooLarge:
        raise click.BadParameter(f"Betrag zu groß: „{text[:40]}“.", param_hint=option) from None
    except MoneyError:
        raise click.BadParameter(
            f"„{text}“ ist kein Betrag (z. B. 1300000.00 oder 1.300.000,00).", param_hint=option
        ) from None
    if cents < 0:
        raise click.BadParameter("Der Betrag darf nicht negativ sein.", param_hint=option)
    return cents


@contextmanager
def _unit_of_work() -> Iterator[None]:
    """Commit when the block succeeds; roll back and exit 1 with the message on a DomainError."""
    try:
        yield
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def _line(label: str, cents: int) -> str:
    return f"  {label:<32}{format_eur(cents):>20}"


@bp.cli.command("open")
@click.argument("year", type=YEAR)
@click.option("--cap", required=True, help="Ansatz in Euro, z. B. 1300000.00 oder 1.300.000,00.")
@click.option("--carryover", default="0", show_default=True, help="Ausgabereste in Euro.")
@click.option("--provisional", is_flag=True, help="Vorläufige Haushaltsführung (R13).")
def open_command(year: int, cap: str, carryover: str, provisional: bool) -> None:
    """Open budget YEAR with its Ansatz (annual cap)."""
    appropriation = _money(cap, "--cap")
    carry = _money(carryover, "--carryover")
    with _unit_of_work():
        budget_year = svc.open_year(year, appropriation, carry, provisional)
    click.echo(
        f"Haushaltsjahr {year} eröffnet: Ansatz {format_eur(appropriation)}, "
        f"Ausgabereste {format_eur(carry)}, "
        f"bereits gebunden {format_eur(budget_year.committed_cents)}"
        + (", vorläufige Haushaltsführung" if provisional else "")
        + "."
    )


@bp.cli.command("show")
@click.argument("year", type=YEAR)
def show_command(year: int) -> None:
    """Show cap, carry-over, committed, available and the VEs of budget YEAR."""
    with _unit_of_work():
        overview = svc.year_overview(year)
    flags = []
    if overview.provisional:
        flags.append("vorläufige Haushaltsführung – Bewilligungen gesperrt")
    if overview.closed:
        flags.append("abgeschlossen")
    click.echo(f"Haushaltsjahr {year}" + (f" ({', '.join(flags)})" if flags else ""))
    click.echo(_line("Ansatz", overview.appropriation_cents))
    click.echo(_line("Ausgabereste", overview.carryover_cents))
    click.echo(_line("Obergrenze", overview.cap_cents))
    click.echo(_line("Gebunden", overview.committed_cents))
    click.echo(_line("Verfügbar", overview.available_cents))
    if overview.inbound:
        click.echo("  Darin gebunden über VE früherer Jahre:")
        for line in overview.inbound:
            click.echo(_line(f"  VE {line.budget_year}", line.committed_cents))
    click.echo("  Verpflichtungsermächtigungen für Folgejahre:")
    if not overview.authorisations:
        click.echo("    keine")
    for line in overview.authorisations:
        click.echo(
            f"    {line.target_year}: Ermächtigung {format_eur(line.amount_cents)}, "
            f"gebunden {format_eur(line.committed_cents)}, "
            f"verfügbar {format_eur(line.available_cents)}"
        )


@bp.cli.command("set-ve")
@click.argument("year", type=YEAR)
@click.option("--for", "target_year", type=YEAR, required=True, help="Zieljahr der VE.")
@click.option("--amount", required=True, help="Betrag in Euro.")
def set_ve_command(year: int, target_year: int, amount: str) -> None:
    """Set the Verpflichtungsermächtigung of budget YEAR for a later year."""
    cents = _money(amount, "--amount")
    with _unit_of_work():
        svc.set_authorisation(year, target_year, cents)
    click.echo(
        f"Verpflichtungsermächtigung {year} für {target_year}: {format_eur(cents)} gespeichert."
    )


@bp.cli.command("set-carryover")
@click.argument("year", type=YEAR)
@click.option("--amount", required=True, help="Ausgabereste in Euro.")
def set_carryover_command(year: int, amount: str) -> None:
    """Set the approved Ausgabereste of budget YEAR."""
    cents = _money(amount, "--amount")
    with _unit_of_work():
        svc.set_carryover(year, cents)
    click.echo(f"Ausgabereste {year}: {format_eur(cents)} gespeichert.")


@bp.cli.command("set-provisional")
@click.argument("year", type=YEAR)
@click.option("--on/--off", "flag", default=None, help="Vorläufige Haushaltsführung an/aus.")
def set_provisional_command(year: int, flag: bool | None) -> None:
    """Switch vorläufige Haushaltsführung (R13) of budget YEAR on or off."""
    if flag is None:
        raise click.UsageError("Bitte --on oder --off angeben.")
    with _unit_of_work():
        svc.set_provisional(year, flag)
    state = "an – Bewilligungen gesperrt" if flag else "aus"
    click.echo(f"Haushaltsjahr {year}: vorläufige Haushaltsführung {state}.")


@bp.cli.command("close")
@click.argument("year", type=YEAR)
def close_command(year: int) -> None:
    """Close budget YEAR: no further commitments or ledger postings for it."""
    with _unit_of_work():
        svc.close_year(year)
    click.echo(f"Haushaltsjahr {year} abgeschlossen.")


@bp.cli.command("check")
def check_command() -> None:
    """Self-check: cached committed figures against the commitment ledger; exit 1 on mismatch."""
    problems = svc.self_check()
    db.session.rollback()
    if problems:
        click.echo(f"Haushaltsprüfung: {len(problems)} Abweichung(en):", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        click.get_current_context().exit(1)
    click.echo("Haushaltsprüfung: keine Abweichungen.")
