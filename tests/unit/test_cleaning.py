"""Cleanup rules of design §5.1 that the skeleton already applies."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from customer_import import cleaning
from customer_import.cleaning import (
    CleanupError,
    clean_email,
    normalise_phone,
    normalise_registration,
    notification_preferences,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_int,
)
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    "written",
    [
        "07712 345678",
        "+44 (0)7712 345678",
        "0044 7712 345678",
        "7712345678",
        "07712345678",
        "+447712345678",
    ],
)
def test_uk_mobile_styles_all_give_the_same_e164(written: str) -> None:
    # Given a mobile number written in one of the usual UK styles, or with its zero lost in Excel
    # (design §5.1 uses 07700 900123, an Ofcom drama number that phonenumbers judges invalid;
    # issue 3 makes phonenumbers' validity the rule, so a real-plan number stands in)
    # When it is normalised, Then it is E.164
    assert normalise_phone(written) == "+447712345678"


@pytest.mark.parametrize("written", ["12345", "phone me", "07712 3456", "07700 900123"])
def test_numbers_that_cannot_be_normalised_fail_with_the_contract_reason(written: str) -> None:
    with pytest.raises(CleanupError, match=r"^Phone normalisation failed$"):
        normalise_phone(written)


def test_an_empty_phone_is_fine() -> None:
    assert normalise_phone("  ") is None


@given(st.integers(min_value=900000, max_value=900999))
def test_any_london_landline_in_any_style_normalises_the_same(local: int) -> None:
    # Given a valid London number (020 7946 0xxx) written with spaces, brackets or +44
    number = f"79460{local % 1000:03d}"
    expected = normalise_phone(f"020{number}")
    # Then every way of writing it gives the same E.164
    for written in (
        f"020 {number[:4]} {number[4:]}",
        f"(020) {number}",
        f"+44 20 {number}",
        f"0044 20{number}",
    ):
        assert normalise_phone(written) == expected
    assert expected == f"+4420{number}"


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("25/12/2020 10:00:00", "2020-12-25T10:00:00+00:00"),
        ("01/07/2021 09:30", "2021-07-01T09:30:00+01:00"),
        ("3/7/2019", "2019-07-03T00:00:00+01:00"),
    ],
)
def test_day_first_dates_become_iso_in_london_time(written: str, iso: str) -> None:
    assert parse_datetime(written) == iso


@given(
    st.dates(
        min_value=__import__("datetime").date(1950, 1, 1),
        max_value=__import__("datetime").date(2100, 12, 31),
    )
)
def test_a_day_first_date_is_never_read_month_first(day: object) -> None:
    # Given any date written DD/MM/YYYY
    written = f"{day.day:02d}/{day.month:02d}/{day.year}"  # type: ignore[attr-defined]
    # When parsed, Then the same calendar day comes back
    assert parse_date(written) == day.isoformat()  # type: ignore[attr-defined]


@pytest.mark.parametrize("written", ["31/02/2020", "13/13/2020", "tomorrow"])
def test_impossible_dates_are_refused(written: str) -> None:
    with pytest.raises(CleanupError):
        parse_datetime(written)


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("True", True),
        ("false", False),
        ("Yes", True),
        ("n", False),
        ("1", True),
        ("0", False),
        ("", None),
    ],
)
def test_booleans(written: str, value: bool | None) -> None:
    assert parse_bool(written) is value


def test_emails_are_trimmed_and_validated() -> None:
    assert clean_email("  Alice@Example.com ") == "Alice@Example.com"
    with pytest.raises(CleanupError, match="Invalid email"):
        clean_email("john.smith@")


def test_registrations_are_upper_case_without_spaces() -> None:
    assert normalise_registration(" ab12 cde ") == "AB12CDE"


def test_marketing_stays_off_unless_the_source_opts_in() -> None:
    assert notification_preferences('{"sms": true}', True, False) == {
        "sms": True,
        "marketing": False,
        "vehicle_reminders": True,
        "notifications": False,
    }
    assert notification_preferences('{"marketing": true}', None, None)["marketing"] is True


def test_a_month_first_date_is_refused_saying_dates_are_day_first() -> None:
    # Given a date a US-locale Excel wrote month-first
    # When parsed, Then it is refused, and the reason tells the person why
    with pytest.raises(
        CleanupError, match=r"^Impossible date: '12/25/2020' \(there is no month 25"
    ):
        parse_datetime("12/25/2020")


@pytest.mark.parametrize("written", ["inf", "-inf", "1e400", "nan", "12 miles"])
def test_numbers_that_are_not_whole_numbers_are_refused(written: str) -> None:
    with pytest.raises(CleanupError, match="Not a number"):
        parse_int(written)


def test_mileage_with_thousands_separators() -> None:
    assert parse_int(" 45,000 ") == 45000


def test_absurdly_nested_preferences_json_is_invalid_json_not_a_crash() -> None:
    with pytest.raises(CleanupError, match="not valid JSON"):
        notification_preferences("[" * 100_000, None, None)


def test_the_invisible_characters_removed_are_unicodes_format_characters() -> None:
    # Given every character of Unicode's "format" category, as this Python knows it
    format_characters = "".join(
        chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"
    )
    # When removed from a key and from a name
    # Then a key keeps none, a name keeps only the joiners written scripts need
    assert cleaning.strip_invisible("a" + format_characters + "b", keys=True) == "ab"
    assert cleaning.strip_invisible(format_characters, keys=False) == "\u200c\u200d"
    assert cleaning.strip_invisible("\ufeff536500", keys=True) == "536500"


@given(
    first=st.integers(0, 99),
    second=st.integers(0, 99),
    year=st.integers(0, 9999),
    time=st.one_of(st.none(), st.tuples(st.integers(0, 99), st.integers(0, 99))),
    separator=st.sampled_from("/.-"),
    order=st.sampled_from([cleaning.DAY_FIRST, cleaning.MONTH_FIRST]),
)
def test_the_quick_reading_of_a_numeric_date_agrees_with_parsing_it(
    first: int,
    second: int,
    year: int,
    time: tuple[int, int] | None,
    separator: str,
    order: str,
) -> None:
    # Given a numeric date as files write them, possible or not
    value = f"{first:02d}{separator}{second:02d}{separator}{year:04d}"
    if time is not None:
        value += f" {time[0]:02d}:{time[1]:02d}"
    # When the quick reading says which orders it reads in
    reading = cleaning.numeric_date_reading(value)
    assert reading is not None and reading[:2] == (first, second)
    reads = order in reading[2]
    # Then it says what parsing it says
    try:
        parsed = cleaning.parse_date(value, order) is not None
    except cleaning.CleanupError:
        parsed = False
    assert reads == parsed
