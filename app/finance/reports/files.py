"""Export files: file names, the streamed ledger and the ``ExportFile`` of each report that the
CLI and the download routes hand out."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO

import pandas as pd

from app.common.db import as_utc, utcnow
from app.common.formatting import BERLIN
from app.finance.reports.columns import (
    CHUNK_ROWS,
    FORMATS,
    MIME_TYPES,
    SUMMARY_BY_ACCOUNT,
    SUMMARY_BY_KREIS,
)
from app.finance.reports.csv_json import iter_csv, iter_json, to_csv_de, to_csv_plain, to_json
from app.finance.reports.ledger import (
    account_totals_frame,
    application_id_for,
    grant_statement_frame,
    iter_ledger_frames,
)
from app.finance.reports.monitoring import monitoring_frame, monitoring_summary
from app.finance.reports.xlsx import _spooled, to_xlsx, write_xlsx

#: The package's logger name (``app.finance.reports``), as before the split into modules.
logger = logging.getLogger(__package__)


@dataclass(frozen=True)
class ExportFile:
    """A file to download or write: name, MIME type and its bytes as chunks (lazy for the
    ledger, which streams from the database while the chunks are consumed)."""

    filename: str
    mimetype: str
    chunks: Iterator[bytes]


_SCOPE_BAD = re.compile(r"[^A-Za-z0-9_-]+")


def export_filename(kind: str, scope: str, fmt: str, *, now: datetime | None = None) -> str:
    """``<kind>-<scope>-<JJJJMMTT>T<HHMMSS>.<ext>`` (local time), e.g.
    ``ledger-2027-20261124T101500.csv``; the plain CSV ends in ``-plain.csv``."""
    _check_format(fmt)
    stamp = (as_utc(now) or utcnow()).astimezone(BERLIN).strftime("%Y%m%dT%H%M%S")
    safe_scope = _SCOPE_BAD.sub("_", scope).strip("_") or "alle"
    suffix = {"csv": ".csv", "csv-plain": "-plain.csv", "xlsx": ".xlsx", "json": ".json"}[fmt]
    return f"{kind}-{safe_scope}-{stamp}{suffix}"


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"Unbekanntes Format {fmt!r} (erlaubt: {', '.join(FORMATS)}).")


def ledger_scope(
    year: int | None = None, date_from: date | None = None, date_to: date | None = None
) -> str:
    """File-name scope of a ledger export: ``2027``, ``20270101-20270331``, ``alle`` …"""
    parts = [] if year is None else [str(year)]
    if date_from is not None or date_to is not None:
        parts.append(
            f"{date_from.strftime('%Y%m%d') if date_from else 'anfang'}-"
            f"{date_to.strftime('%Y%m%d') if date_to else 'ende'}"
        )
    return "-".join(parts) or "alle"


def iter_ledger_csv(
    year: int | None = None,
    fmt: str = "csv",
    chunk_rows: int = CHUNK_ROWS,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """Stream the ledger as CSV (``fmt`` ``csv`` = German, ``csv-plain``) in chunks of
    ``chunk_rows`` postings; ``progress`` gets the number of rows of each chunk."""
    if fmt not in ("csv", "csv-plain"):
        raise ValueError(f"iter_ledger_csv: kein CSV-Format: {fmt!r}")
    frames = iter_ledger_frames(year, date_from, date_to, chunk_rows=chunk_rows)
    yield from iter_csv(_reporting(frames, progress), german=fmt == "csv")


def iter_ledger_json(
    year: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """Stream the ledger as a JSON array in chunks of ``chunk_rows`` postings."""
    frames = iter_ledger_frames(year, date_from, date_to, chunk_rows=chunk_rows)
    yield from iter_json(_reporting(frames, progress))


def _reporting(
    frames: Iterable[pd.DataFrame], progress: Callable[[int], None] | None
) -> Iterator[pd.DataFrame]:
    for df in frames:
        yield df
        if progress is not None:
            progress(len(df))


def ledger_export(
    fmt: str,
    *,
    year: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    now: datetime | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
) -> ExportFile:
    """The ledger file in ``fmt``; CSV and JSON stream from the database, XLSX is written
    streamed into a spooled temporary file (sheet ``Hauptbuch …`` plus ``Summen je Konto``)."""
    name = export_filename("ledger", ledger_scope(year, date_from, date_to), fmt, now=now)
    chunks: Iterator[bytes]
    if fmt in ("csv", "csv-plain"):
        chunks = iter_ledger_csv(
            year, fmt, chunk_rows, date_from=date_from, date_to=date_to, progress=progress
        )
    elif fmt == "json":
        chunks = iter_ledger_json(
            year, chunk_rows, date_from=date_from, date_to=date_to, progress=progress
        )
    else:
        title = "Hauptbuch" + (f" {year}" if year is not None else "")

        def write(out: IO[bytes]) -> None:
            totals = account_totals_frame(year, date_from, date_to)
            frames = iter_ledger_frames(year, date_from, date_to, chunk_rows=chunk_rows)
            write_xlsx(
                out,
                {title: frames},
                totals,
                summary_title=SUMMARY_BY_ACCOUNT,
                progress=progress,
            )

        chunks = _spooled(write)
    logger.info("finance_export_ledger", extra={"format": fmt, "budget_year": year})
    return ExportFile(name, MIME_TYPES[fmt], chunks)


def render(
    df: pd.DataFrame,
    fmt: str,
    *,
    sheet_title: str,
    summary: pd.DataFrame | None = None,
    summary_title: str = SUMMARY_BY_KREIS,
) -> bytes:
    """One frame in ``fmt`` (the summary is used by XLSX only)."""
    _check_format(fmt)
    if fmt == "csv":
        return to_csv_de(df)
    if fmt == "csv-plain":
        return to_csv_plain(df)
    if fmt == "json":
        return to_json(df)
    return to_xlsx({sheet_title: df}, summary, summary_title=summary_title)


def monitoring_export(year: int, fmt: str, *, now: datetime | None = None) -> ExportFile:
    """The Haushaltsüberwachungsliste of ``year`` (R34); XLSX adds ``Zusammenfassung je
    Landkreis``."""
    _check_format(fmt)
    df = monitoring_frame(year)
    body = render(
        df,
        fmt,
        sheet_title=f"Überwachungsliste {year}",
        summary=monitoring_summary(df) if fmt == "xlsx" else None,
    )
    logger.info(
        "finance_export_monitoring", extra={"format": fmt, "budget_year": year, "rows": len(df)}
    )
    name = export_filename("monitoring", str(year), fmt, now=now)
    return ExportFile(name, MIME_TYPES[fmt], iter([body]))


def grant_export(kassenzeichen: str, fmt: str, *, now: datetime | None = None) -> ExportFile:
    """The account statement of the grant with ``kassenzeichen``; XLSX adds ``Summen je Konto``.

    :raises NotFound: unknown Kassenzeichen.
    """
    _check_format(fmt)
    application_id = application_id_for(kassenzeichen)
    df = grant_statement_frame(application_id)
    kz = kassenzeichen.strip()
    body = render(
        df,
        fmt,
        sheet_title=f"Kontoauszug {kz}",
        summary=account_totals_frame(application_id=application_id) if fmt == "xlsx" else None,
        summary_title=SUMMARY_BY_ACCOUNT,
    )
    logger.info(
        "finance_export_grant",
        extra={"format": fmt, "application_id": application_id, "rows": len(df)},
    )
    return ExportFile(export_filename("grant", kz, fmt, now=now), MIME_TYPES[fmt], iter([body]))
