"""Exports of the programme dashboard (issue 15): one German CSV per figure table (``;``,
decimal comma, money from integer cents, UTF-8 with BOM, CRLF) and the one-page PDF
"Programmbericht"."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

from flask_babel import gettext as _

from app.common.formatting import eur_plain, permille
from app.finance.reports.cells import neutralise
from app.monitoring.queries import ProgrammeFigures

Table = tuple[list[str], list[list[str]]]


def _months(fig: ProgrammeFigures) -> Table:
    return [_("Monat"), _("Neu"), _("Insgesamt")], [
        [p.month.strftime("%m.%Y"), str(p.added), str(p.total)] for p in fig.consulted_by_month
    ]


def _years(fig: ProgrammeFigures) -> Table:
    return [
        _("Förderjahr"),
        _("Eingereicht"),
        _("Bewilligt"),
        _("Abgelehnt"),
        _("Geförderte Koordinierungsstellen"),
        _("Stellenanteile (VZÄ)"),
    ], [
        [
            str(y.year),
            str(y.submitted),
            str(y.approved),
            str(y.rejected),
            str(y.offices),
            permille(y.fte_permille) or "0",
        ]
        for y in fig.years
    ]


def _money(fig: ProgrammeFigures) -> Table:
    return [
        _("Haushaltsjahr"),
        _("Ansatz und Ausgabereste (EUR)"),
        _("Bewilligt (EUR)"),
        _("Ausgezahlt (EUR)"),
        _("Zurückgezahlt (EUR)"),
    ], [
        [
            str(m.year),
            eur_plain(m.cap_cents),
            eur_plain(m.approved_cents),
            eur_plain(m.paid_cents),
            eur_plain(m.recovered_cents),
        ]
        for m in fig.money
    ]


def _regions(attr: str) -> Callable[[ProgrammeFigures], Table]:
    def table(fig: ProgrammeFigures) -> Table:
        return [
            _("Bereich"),
            _("Beratene Kommunen"),
            _("KPR gegründet"),
            _("Geförderte Anträge"),
            _("Bewilligt (EUR)"),
            _("Ausgezahlt (EUR)"),
        ], [
            [
                r.name,
                str(r.consulted),
                str(r.kpr),
                str(r.approved),
                eur_plain(r.approved_cents),
                eur_plain(r.paid_cents),
            ]
            for r in getattr(fig, attr)
        ]

    return table


#: URL name of each table → its builder.
TABLES: dict[str, Callable[[ProgrammeFigures], Table]] = {
    "beratungen": _months,
    "foerderjahre": _years,
    "mittel": _money,
    "kreise": _regions("by_kreis"),
    "polizeidirektionen": _regions("by_pd"),
}


def csv_de(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """German CSV for Excel; header and label column neutralised against formula injection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    writer.writerows([neutralise(row[0]), *row[1:]] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def table_csv(name: str, fig: ProgrammeFigures) -> bytes:
    header, rows = TABLES[name](fig)
    return csv_de(header, rows)
