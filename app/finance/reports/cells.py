"""Frames with fixed dtypes and the conversion of single cell values (money, text) shared by the
writers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from app.finance.models import EntryKind
from app.finance.reports.columns import _FORMULA_START

# --- frames ---------------------------------------------------------------------------------------


def _frame(rows: Sequence[Sequence[Any]], columns: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Build a DataFrame with fixed dtypes: integers stay ``int64`` (never float), text and dates
    stay Python objects."""
    data: dict[str, Any] = {}
    by_column = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    for (name, kind), values in zip(columns, by_column, strict=True):
        if kind in ("int", "money"):
            data[name] = pd.Series([_strict_int(v, name) for v in values], dtype="int64")
        elif kind == "optint":
            data[name] = pd.array(
                [None if v is None else _strict_int(v, name) for v in values], dtype="Int64"
            )
        elif kind == "text":
            data[name] = pd.Series([None if v is None else str(v) for v in values], dtype=object)
        elif kind == "code":  # an enum member from the database → its value
            data[name] = pd.Series([_kind_value(v) for v in values], dtype=object)
        else:
            data[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(data, columns=[name for name, _kind in columns])


def _strict_int(value: Any, name: str) -> int:
    """An integer from the database (PostgreSQL sums may arrive as ``Decimal``): exact or error."""
    if isinstance(value, bool) or value is None:
        raise TypeError(f"{name}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    as_int = int(value)
    if as_int != value:
        raise TypeError(f"{name}: {value!r} is not a whole number of cents")
    return as_int


def _kind_value(kind: Any) -> str:
    return kind.value if isinstance(kind, EntryKind) else str(kind)


# --- cell values ----------------------------------------------------------------------------------


def is_money(column: str) -> bool:
    """Money columns are named ``*_cents`` (HOUSE-STYLE convention 5)."""
    return column.endswith("_cents")


def plain_name(column: str) -> str:
    """Header of a column in the plain CSV/JSON: money columns without ``_cents``."""
    return column[: -len("_cents")] if is_money(column) else column


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _cents(value: Any, column: str) -> int | None:
    """A money cell as ``int`` cents; floats are refused (they may have lost a cent already)."""
    if _missing(value):
        return None
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"{column}: money must be integer cents, not {type(value).__name__}")


def cents_text(cents: int, decimal_sep: str = ".") -> str:
    """Integer cents → exact decimal text: ``-123456`` → ``"-1234.56"`` (no float, no rounding)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{euros}{decimal_sep}{rest:02d}"


def neutralise(text: str) -> str:
    """Formula injection: a cell starting with ``= + - @``, tab, CR or NUL gets a leading ``'``."""
    return "'" + text if text.startswith(_FORMULA_START) else text
