"""Money parsing and formatting: integer cents in, German text out, never floats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.common.money import (
    MAX_CENTS,
    AmountTooLarge,
    MoneyError,
    format_eur,
    format_plain,
    parse_eur,
    to_decimal,
)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1.234,56", 123456),
        ("1234,56", 123456),
        ("1234,5", 123450),
        ("1.234", 123400),
        ("1234.56", 123456),
        ("1234", 123400),
        ("0,01", 1),
        ("12.345.678,90", 1234567890),
        (" 1.234,56 € ", 123456),
        ("1 234,56", 123456),
        ("-5,00", -500),
    ],
)
def test_parse_eur_accepts_german_and_point_decimals(text, cents):
    assert parse_eur(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "1.2345", "12,345", "1e5", "0x10", "1..2"])
def test_parse_eur_rejects_garbage(text):
    with pytest.raises(MoneyError):
        parse_eur(text)


def test_format_eur_german():
    assert format_eur(123456) == "1.234,56\u00a0€"
    assert format_eur(-5) == "-0,05\u00a0€"
    assert format_eur(0) == "0,00\u00a0€"
    assert to_decimal(123456) == Decimal("1234.56")


@given(st.integers(min_value=0, max_value=10**13))
def test_format_then_parse_round_trips_exactly(cents):
    assert parse_eur(format_plain(cents)) == cents
    assert parse_eur(format_eur(cents)) == cents


def test_no_float_or_numeric_money_columns(app):
    """RELIABILITY test 5: every *_cents column is BIGINT; no Float/Numeric columns at all."""
    import sqlalchemy as sa

    from app.extensions import db

    for table in db.metadata.tables.values():
        for column in table.columns:
            assert not isinstance(column.type, sa.Float | sa.Numeric), f"{table.name}.{column.name}"
            if column.name.endswith("_cents"):
                assert isinstance(column.type, sa.BigInteger), f"{table.name}.{column.name}"


@pytest.mark.parametrize(
    "text",
    [
        "1" * 27,
        "9" * 40 + ",99",
        "-" + "9" * 30,
        "1.000.000.000.000.000.000.000.000,00",
        "9" * 5000,
        "10000000000000",
        "10.000.000.000.000,00",
    ],
)
def test_amounts_of_10_trillion_or_more_are_too_large_not_an_error(text):
    """Issue 14, finding 4: 27+ digits overflowed Decimal's 28-digit context (a 500)."""
    with pytest.raises(AmountTooLarge):
        parse_eur(text)


def test_largest_amount_and_leading_zeros_still_parse():
    assert parse_eur("9999999999999,99") == MAX_CENTS - 1
    assert parse_eur("0" * 40 + "1,50") == 150


def test_money_field_says_betrag_zu_gross_at_the_field(app):
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict

    from app.common.fields import MoneyField, YearAmountsField

    class AmountForm(FlaskForm):
        amount = MoneyField("Betrag")
        years = YearAmountsField("Jahre")

    with app.test_request_context(headers={"Accept-Language": "de"}):
        form = AmountForm(
            formdata=MultiDict({"amount": "1" * 27, "years": "2027: " + "9" * 30}),
            meta={"csrf": False},
        )
        assert not form.validate()
        assert [str(e) for e in form.amount.errors] == [
            "Betrag zu groß – bitte prüfen Sie die Eingabe."
        ]
        assert [str(e) for e in form.years.errors] == [
            "Betrag zu groß – bitte prüfen Sie die Eingabe."
        ]
