"""XLSX writer (openpyxl, write-only and streamed): German headers, money as exact numeric
cells, summary sheets."""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.common.formatting import BERLIN
from app.finance.reports.cells import _cents, _missing, cents_text, is_money, neutralise
from app.finance.reports.columns import (
    DATE_FORMAT,
    LABELS_DE,
    MAX_XLSX_CENTS,
    MONEY_FORMAT,
    SUMMARY_BY_KREIS,
    value_de,
)

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

_BOLD = Font(bold=True)
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(title: str) -> str:
    return _SHEET_TITLE_BAD.sub("-", title)[:31] or "Tabelle"


def _width(column: str) -> float:
    label = LABELS_DE.get(column, column)
    if is_money(column):
        return max(16, min(len(label), 24) + 2)
    if column in ("description", "purpose", "recipient", "account"):
        return 42
    return max(10, min(len(label) + 2, 30))


def _xlsx_text(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", neutralise(text))


def _money_cell(ws: WriteOnlyWorksheet, cents: int) -> WriteOnlyCell:
    """A numeric cell whose stored value is the exact decimal text of ``cents``.

    openpyxl would write a ``Decimal`` via ``"%.16g"`` (a float conversion); here the cell holds
    the decimal string and is typed as a number, so the XML says ``<v>1234.56</v>`` exactly.
    """
    if abs(cents) >= MAX_XLSX_CENTS:
        raise ValueError("Betrag zu groß für eine exakte Darstellung in Excel.")
    cell = WriteOnlyCell(ws, value=cents_text(cents))
    cell.data_type = "n"
    cell.number_format = MONEY_FORMAT
    return cell


def _xlsx_column(ws: WriteOnlyWorksheet, column: str, values: list[Any]) -> list[Any]:
    """The cells of one column (money columns as exact numeric cells)."""
    if is_money(column):
        return [None if (c := _cents(v, column)) is None else _money_cell(ws, c) for v in values]
    return [_xlsx_cell(ws, column, v) for v in values]


def _xlsx_cell(ws: WriteOnlyWorksheet, column: str, value: Any) -> Any:
    if _missing(value):
        return None
    if isinstance(value, datetime):
        local = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        cell = WriteOnlyCell(ws, value=local.astimezone(BERLIN).replace(tzinfo=None))
        cell.number_format = "DD.MM.YYYY HH:MM"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, str):
        return _xlsx_text(value_de(column, value))
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"{column}: unexpected {type(value).__name__} value")


def _write_sheet(
    wb: Workbook,
    title: str,
    frames: pd.DataFrame | Iterable[pd.DataFrame],
    progress: Callable[[int], None] | None = None,
) -> None:
    ws = wb.create_sheet(_sheet_title(title))
    chunks: Iterator[pd.DataFrame] = iter([frames] if isinstance(frames, pd.DataFrame) else frames)
    first = next(chunks, None)
    if first is None:
        return
    columns = list(first.columns)
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = _width(column)
    ws.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=_xlsx_text(LABELS_DE.get(column, column)))
        cell.font = _BOLD
        header.append(cell)
    ws.append(header)
    rows = 0
    for df in _chain(first, chunks):
        cells = [_xlsx_column(ws, c, df[c].tolist()) for c in columns]
        for row in zip(*cells, strict=True):
            ws.append(list(row))
        rows += len(df)
        if progress is not None:
            progress(len(df))
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(columns), 1))}{rows + 1}"


def _chain(first: pd.DataFrame, rest: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    yield first
    yield from rest


def write_xlsx(
    out: IO[bytes],
    sheets: Mapping[str, pd.DataFrame | Iterable[pd.DataFrame]],
    summary: pd.DataFrame | None = None,
    *,
    summary_title: str = SUMMARY_BY_KREIS,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write a workbook (streamed, write-only) to ``out``: one sheet per entry of ``sheets``
    (a frame or an iterable of frame chunks), then the ``summary`` sheet."""
    wb = Workbook(write_only=True)
    try:
        for title, frames in sheets.items():
            _write_sheet(wb, title, frames, progress)
        if summary is not None:
            _write_sheet(wb, summary_title, summary)
    except BaseException:
        _abort(wb)
        raise
    wb.save(out)


def _abort(wb: Workbook) -> None:
    """Close the half-written sheets of a failed export (their streaming writers and temporary
    files), so that nothing fails later when the workbook is garbage-collected."""
    for ws in wb.worksheets:
        with contextlib.suppress(Exception):
            if not ws.closed:
                ws.close()
            writer = getattr(ws, "_writer", None)
            if writer is not None:
                writer.cleanup()


def to_xlsx(
    sheets: Mapping[str, pd.DataFrame],
    summary: pd.DataFrame | None = None,
    *,
    summary_title: str = SUMMARY_BY_KREIS,
) -> bytes:
    """An XLSX workbook with one sheet per frame plus an optional summary sheet."""
    buffer = io.BytesIO()
    write_xlsx(buffer, sheets, summary, summary_title=summary_title)
    return buffer.getvalue()


def _spooled(write: Callable[[IO[bytes]], None], block: int = 1 << 16) -> Iterator[bytes]:
    """Run ``write`` into a spooled temporary file (memory up to 8 MiB, then disk) and yield it."""
    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as tmp:
        write(tmp)
        tmp.seek(0)
        while chunk := tmp.read(block):
            yield chunk
