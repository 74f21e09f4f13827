"""CSV (German and plain) and JSON writers, generic over the report frames; the ``iter_*``
variants write consecutive chunks of one frame."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from app.common.db import as_utc
from app.common.formatting import BERLIN
from app.finance.reports.cells import (
    _cents,
    _missing,
    cents_text,
    is_money,
    neutralise,
    plain_name,
)
from app.finance.reports.columns import LABELS_DE, value_de


def _text_cell(value: Any, *, german: bool, column: str) -> str:
    """A non-money cell as CSV text."""
    if _missing(value):
        return ""
    if isinstance(value, datetime):
        aware = as_utc(value)
        assert aware is not None  # noqa: S101 - _missing() excluded None
        if german:
            return aware.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")
        return aware.isoformat()
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y") if german else value.isoformat()
    if isinstance(value, str):
        shown = value_de(column, value) if german else value
        return neutralise(shown)
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return str(int(value))
    raise TypeError(f"{column}: unexpected {type(value).__name__} value")


def _csv_columns(df: pd.DataFrame, *, german: bool) -> list[list[str]]:
    sep = "," if german else "."
    out: list[list[str]] = []
    for column in df.columns:
        values = df[column].tolist()
        int64 = df[column].dtype == np.int64  # ``tolist`` gives Python ints, never missing
        if is_money(column):
            if int64:
                out.append([cents_text(v, sep) for v in values])
            else:
                out.append(
                    ["" if (c := _cents(v, column)) is None else cents_text(c, sep) for v in values]
                )
        elif int64:
            out.append([str(v) for v in values])
        else:
            out.append(_text_cells(values, german=german, column=column))
    return out


def _text_cells(values: list[Any], *, german: bool, column: str) -> list[str]:
    """``_text_cell`` of every value; texts and dates repeat a lot (accounts, names, posting
    dates), so their cell text is computed once per distinct value."""
    memo: dict[Any, str] = {}
    cells: list[str] = []
    append = cells.append
    for value in values:
        kind = type(value)
        if kind is str or kind is date:
            text = memo.get(value)
            if text is None:
                text = memo[value] = _text_cell(value, german=german, column=column)
            append(text)
        elif value is None:
            append("")
        else:
            append(_text_cell(value, german=german, column=column))
    return cells


def _csv_chunk(df: pd.DataFrame, *, german: bool, header: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=";" if german else ",",
        lineterminator="\r\n",  # RFC 4180; CR and LF inside a value are then quoted
        quoting=csv.QUOTE_MINIMAL,
    )
    if header:
        labels = [neutralise(LABELS_DE.get(c, c)) if german else plain_name(c) for c in df.columns]
        writer.writerow(labels)
    writer.writerows(zip(*_csv_columns(df, german=german), strict=True))
    text = buffer.getvalue()
    if german and header:
        return text.encode("utf-8-sig")
    return text.encode("utf-8")


def iter_csv(frames: Iterable[pd.DataFrame], *, german: bool) -> Iterator[bytes]:
    """CSV bytes of consecutive frames with the same columns (header once; BOM once)."""
    header = True
    for df in frames:
        yield _csv_chunk(df, german=german, header=header)
        header = False


def to_csv_de(df: pd.DataFrame) -> bytes:
    """German CSV for Excel: ``;``, decimal comma, ``TT.MM.JJJJ``, UTF-8 with BOM, CRLF."""
    return b"".join(iter_csv([df], german=True))


def to_csv_plain(df: pd.DataFrame) -> bytes:
    """Plain CSV for tools: ``,``, decimal point, ISO dates, UTF-8 without BOM, CRLF."""
    return b"".join(iter_csv([df], german=False))


def _json_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    columns = list(df.columns)
    lists = [df[c].tolist() for c in columns]
    records: list[dict[str, Any]] = []
    for values in zip(*lists, strict=True):
        record: dict[str, Any] = {}
        for column, value in zip(columns, values, strict=True):
            if is_money(column):
                cents = _cents(value, column)
                record[column] = cents
                record[plain_name(column)] = None if cents is None else cents_text(cents)
            elif _missing(value):
                record[column] = None
            elif isinstance(value, datetime):
                record[column] = as_utc(value).isoformat()  # type: ignore[union-attr]
            elif isinstance(value, date):
                record[column] = value.isoformat()
            elif isinstance(value, str | bool):
                record[column] = value
            elif isinstance(value, float):
                raise TypeError(f"{column}: unexpected float value")
            else:
                record[column] = int(value)
        records.append(record)
    return records


def iter_json(frames: Iterable[pd.DataFrame]) -> Iterator[bytes]:
    """A JSON array of row objects (one per line), built chunk by chunk."""
    first = True
    yield b"["
    for df in frames:
        lines = [json.dumps(r, ensure_ascii=False) for r in _json_records(df)]
        if not lines:
            continue
        body = ",\n".join(lines)
        yield (("\n" if first else ",\n") + body).encode("utf-8")
        first = False
    yield b"\n]\n"


def to_json(df: pd.DataFrame) -> bytes:
    """JSON for machines: money as integer cents and as decimal string, ISO dates, UTF-8."""
    return b"".join(iter_json([df]))
