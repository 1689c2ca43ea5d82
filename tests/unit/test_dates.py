"""Telling day-first from month-first (design §5.8, `date_order: detect`), and the cleanup rules
that read a date in the order a profile gives (design §5.1, §5.8)."""

from __future__ import annotations

from datetime import date

import pytest
from customer_import.cleaning import (
    DAY_FIRST,
    ISO,
    MONTH_FIRST,
    CleanupError,
    numeric_date_reading,
    parse_bool,
    parse_date,
    parse_datetime,
)
from customer_import.sources.dates import DateOrderEvidence
from customer_import.sources.layout import DateOrder
from hypothesis import given
from hypothesis import strategies as st

# A file's columns: CustomerNumber, DateCreated, VehicleMOTDue.
POSITIONS = {"CustomerNumber": 0, "DateCreated": 1, "VehicleMOTDue": 2}


def evidence(*dates: tuple[str, str]) -> DateOrderEvidence:
    """The evidence of a file whose rows (from row 2) hold these DateCreated and VehicleMOTDue."""
    return DateOrderEvidence(POSITIONS).see_all(
        (row, [f"C{row}", created, mot_due]) for row, (created, mot_due) in enumerate(dates, 2)
    )


# ---- what the file's dates say --------------------------------------------------------------


@pytest.mark.parametrize("written", ["25/03/2021", "25.03.2021", "25-03-2021", "13/1/2021 09:30"])
def test_a_first_part_over_12_decides_day_first(written: str) -> None:
    # Given a file with ambiguous dates and one whose first part is over 12
    seen = evidence(("04/03/2021", ""), (written, ""), ("", "01/02/2022"))
    # When its dates are judged
    verdict = seen.verdict()
    # Then the file is day-first, nothing contradicts it and nothing is asked
    assert verdict.order is DateOrder.DAY_FIRST
    assert (verdict.contradiction, verdict.question) == (None, None)


@pytest.mark.parametrize("written", ["03/25/2021", "03.25.2021", "1/13/2021 09:30"])
def test_a_second_part_over_12_decides_month_first(written: str) -> None:
    # Given a file with ambiguous dates and one whose second part is over 12
    seen = evidence(("04/03/2021", ""), ("", written))
    # When its dates are judged
    verdict = seen.verdict()
    # Then the file is month-first, nothing contradicts it and nothing is asked
    assert verdict.order is DateOrder.MONTH_FIRST
    assert (verdict.contradiction, verdict.question) == (None, None)


def test_dates_written_both_ways_are_a_contradiction_naming_rows_of_each() -> None:
    # Given a file with a day-first date on row 3 and a month-first one on row 4
    seen = evidence(("04/03/2021", ""), ("25/03/2021", ""), ("", "03/25/2022"))
    # When its dates are judged
    verdict = seen.verdict()
    # Then there is no order, but a contradiction naming each row, column and value
    assert verdict.order is None
    assert verdict.question is None
    assert verdict.contradiction == (
        "The file writes its dates both ways: day-first on row 3 DateCreated '25/03/2021'; "
        "month-first on row 4 VehicleMOTDue '03/25/2022'. Correct the file, or give the "
        "profile a date_order"
    )


def test_a_contradiction_names_five_rows_of_a_kind_and_counts_the_rest() -> None:
    # Given a file with eight day-first dates (rows 2 to 9) and six month-first (rows 10 to 15)
    day_first = [(f"{day}/03/2021", "") for day in range(13, 21)]
    month_first = [(f"03/{day}/2021", "") for day in range(13, 19)]
    seen = evidence(*day_first, *month_first)
    # When its dates are judged
    contradiction = seen.verdict().contradiction
    # Then each kind names its first five rows and says how many more there are
    assert contradiction is not None
    named_day_first = ", ".join(f"row {r} DateCreated '{r + 11}/03/2021'" for r in range(2, 7))
    named_month_first = ", ".join(f"row {r} DateCreated '03/{r + 3}/2021'" for r in range(10, 15))
    assert f"day-first on {named_day_first} and 3 more;" in contradiction
    assert f"month-first on {named_month_first} and 1 more." in contradiction
    assert "row 7 " not in contradiction and "row 15 " not in contradiction


def test_a_contradiction_of_exactly_five_of_a_kind_has_no_more() -> None:
    # Given five day-first dates and one month-first
    seen = evidence(*[(f"{day}/03/2021", "") for day in range(13, 18)], ("03/25/2021", ""))
    # When judged / Then no "more" is counted: all five are named
    contradiction = seen.verdict().contradiction
    assert contradiction is not None
    assert "more" not in contradiction
    assert "row 6 DateCreated '17/03/2021'; month-first on row 7" in contradiction


def test_only_ambiguous_dates_ask_with_both_readings() -> None:
    # Given a file none of whose dates has a part over 12
    seen = evidence(("04/03/2021", "01/02/2022"), ("11.12.2020", ""))
    # When its dates are judged
    verdict = seen.verdict()
    # Then no order is guessed: a question is asked, with the two orders to choose from
    assert (verdict.order, verdict.contradiction) == (None, None)
    question = verdict.question
    assert question is not None
    assert question == seen.question()
    assert question["question"] == "date_order"
    assert question["choices"] == ["day_first", "month_first"]
    assert "3 dates" in question["text"]
    assert "day-first or month-first" in question["text"]
    # And its examples show each value read both ways, where the file holds it
    assert question["examples"] == [
        {
            "row": 2,
            "column": "DateCreated",
            "value": "04/03/2021",
            "day_first": "2021-03-04",
            "month_first": "2021-04-03",
        },
        {
            "row": 2,
            "column": "VehicleMOTDue",
            "value": "01/02/2022",
            "day_first": "2022-02-01",
            "month_first": "2022-01-02",
        },
        {
            "row": 3,
            "column": "DateCreated",
            "value": "11.12.2020",
            "day_first": "2020-12-11",
            "month_first": "2020-11-12",
        },
    ]


def test_a_question_shows_at_most_five_examples_but_counts_every_date() -> None:
    # Given a file of eight ambiguous dates
    seen = evidence(*[(f"0{month}/0{month + 1}/2021", "") for month in range(1, 9)])
    # When judged / Then five are shown, and the text counts all eight
    question = seen.verdict().question
    assert question is not None
    assert len(question["examples"]) == 5
    assert "8 dates" in question["text"]


@pytest.mark.parametrize(
    "dates",
    [
        [("05/05/2021", ""), ("12.12.2020", "01/01/2022")],
        [("2021-03-04", "2022-12-01"), ("2021-03-04T10:00:00", "")],
        [("", ""), ("not a date", "04/2021"), ("05/05/2021", "2021-05-04")],
    ],
    ids=["equal-parts", "iso", "mixed-undecisive"],
)
def test_dates_that_read_the_same_either_way_decide_nothing_and_ask_nothing(
    dates: list[tuple[str, str]],
) -> None:
    # Given a file whose dates read the same day-first and month-first (equal parts, ISO,
    # empty or not numeric dates at all)
    seen = evidence(*dates)
    # When judged
    verdict = seen.verdict()
    # Then nothing is asked nor contradicted, and the file is read day-first
    assert verdict.order is DateOrder.DAY_FIRST
    assert (verdict.contradiction, verdict.question) == (None, None)
    # And no month-first warning is given
    assert seen.month_first_only() is None


def test_a_files_date_columns_are_judged_together() -> None:
    # Given a file whose VehicleMOTDue dates are all ambiguous, and one DateCreated day-first
    seen = evidence(("04/03/2021", "04/03/2022"), ("", "01/02/2023"), ("25/03/2021", ""))
    # When judged / Then DateCreated decides the order for VehicleMOTDue too: nothing is asked
    verdict = seen.verdict()
    assert verdict.order is DateOrder.DAY_FIRST
    assert verdict.question is None


def test_columns_that_are_not_date_columns_are_not_judged() -> None:
    # Given a file whose CustomerNumber looks like a month-first date, and dates day-first
    seen = DateOrderEvidence(POSITIONS).see_all([(2, ["03/25/2021", "25/03/2021", ""])])
    # When judged / Then only the date column counts
    assert seen.verdict().order is DateOrder.DAY_FIRST


def test_a_row_shorter_than_the_header_is_judged_on_what_it_holds() -> None:
    # Given a row cut short before its VehicleMOTDue, with its DateCreated month-first
    seen = DateOrderEvidence(POSITIONS).see_all([(2, ["C1", "03/25/2021"]), (3, ["C2"])])
    # When judged / Then the row's dates count and the missing cells are not read
    assert seen.verdict().order is DateOrder.MONTH_FIRST


def test_a_file_without_date_columns_is_read_day_first() -> None:
    # Given a file with no date column at all
    seen = DateOrderEvidence({"CustomerNumber": 0}).see_all([(2, ["03/25/2021"])])
    # When judged / Then there is nothing to judge: day-first, nothing asked
    assert seen.verdict().order is DateOrder.DAY_FIRST
    assert seen.verdict().question is None


@pytest.mark.parametrize("impossible", ["00/05/2021", "05/00/2021", "04/03/2021 25:00"])
def test_an_impossible_ambiguous_date_does_not_stop_the_question(impossible: str) -> None:
    # Given a file of ambiguous dates, one of them impossible whichever way it is read
    seen = evidence(("04/03/2021", ""), (impossible, ""))
    # When its dates are judged
    verdict = seen.verdict()
    # Then the question is still asked (the impossible date fails its own row later)
    assert verdict.question is not None
    assert verdict.question["examples"][0]["value"] == "04/03/2021"


def test_a_date_behind_an_invisible_character_counts_as_the_row_reads_it() -> None:
    # Given a day-first date behind a zero-width space (the row reads it as 25/03/2021) and a
    # month-first date
    seen = evidence(("\u200b25/03/2021", ""), ("03/25/2021", ""))
    # When judged / Then the file writes its dates both ways
    assert seen.verdict().contradiction is not None


# ---- the warning for a day-first-by-contract file ---------------------------------------------


def test_month_first_only_warns_when_dates_only_make_sense_month_first() -> None:
    # Given a (Techman) file whose dates are month-first and none day-first
    seen = evidence(("03/25/2021", "04/03/2021"), ("", "12/31/2022"))
    # When asked for its warning
    warning = seen.month_first_only()
    # Then it names the month-first dates and says they are left out
    assert warning is not None
    assert warning.startswith(
        "Dates in this file only make sense month-first (row 2 DateCreated '03/25/2021', "
        "row 3 VehicleMOTDue '12/31/2022')"
    )
    assert "left out" in warning
    assert "US English" in warning


@pytest.mark.parametrize(
    "dates",
    [
        [("25/03/2021", ""), ("03/25/2021", "")],  # both: the contradiction is for detect
        [("25/03/2021", "")],  # day-first only
        [("04/03/2021", "")],  # ambiguous only
        [],  # no dates
    ],
    ids=["both", "day-first", "ambiguous", "none"],
)
def test_month_first_only_says_nothing_unless_only_month_first_dates(
    dates: list[tuple[str, str]],
) -> None:
    assert evidence(*dates).month_first_only() is None


# ---- the parts of a numeric date ------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "parts"),
    [
        ("25/03/2021", (25, 3)),
        (" 3.25.2021 14:30 ", (3, 25)),
        ("1-2-2021", (1, 2)),
        ("2021-03-25", None),
        ("25/03/21", None),
        ("", None),
    ],
)
def test_numeric_date_parts(written: str, parts: tuple[int, int] | None) -> None:
    reading = numeric_date_reading(written)
    assert (reading[:2] if reading else None) == parts


# ---- cleanup in the profile's order ---------------------------------------------------------


def test_month_first_reads_the_month_first() -> None:
    # Given a month-first date, with and without a time
    # When read month-first / Then it is the 25th of March (GMT then, in London)
    assert parse_datetime("03/25/2021", "Europe/London", MONTH_FIRST) == (
        "2021-03-25T00:00:00+00:00"
    )
    assert parse_datetime("3/25/2021 14:30", "Europe/London", MONTH_FIRST) == (
        "2021-03-25T14:30:00+00:00"
    )
    assert parse_date("04/03/2021", MONTH_FIRST) == "2021-04-03"


def test_month_first_refuses_a_day_first_date_saying_it_reads_month_first() -> None:
    # Given a date that only makes sense day-first
    # When read month-first / Then it is refused: there is no month 25, and dates are month-first
    with pytest.raises(CleanupError) as raised:
        parse_datetime("25/03/2021", "Europe/London", MONTH_FIRST)
    assert raised.value.reason == (
        "Impossible date: '25/03/2021' (there is no month 25; dates are read month-first, "
        "MM/DD/YYYY, never day-first)"
    )


def test_day_first_still_refuses_a_month_first_date() -> None:
    with pytest.raises(CleanupError, match=r"there is no month 25; dates are read day-first"):
        parse_datetime("03/25/2021", "Europe/London", DAY_FIRST)


def test_a_date_not_written_as_expected_names_the_expected_form() -> None:
    with pytest.raises(CleanupError, match=r"^Not a date: 'March 25' \(expected MM/DD/YYYY\)$"):
        parse_datetime("March 25", "Europe/London", MONTH_FIRST)


def test_iso_takes_only_iso_dates() -> None:
    # Given a profile whose file writes ISO dates
    # When a numeric day-first date is read / Then it is refused, saying what was expected
    with pytest.raises(CleanupError) as raised:
        parse_datetime("25/03/2021", "Europe/London", ISO)
    assert raised.value.reason == "Not a date: '25/03/2021' (expected YYYY-MM-DD)"
    with pytest.raises(CleanupError, match=r"expected YYYY-MM-DD"):
        parse_date("04/03/2021", ISO)
    # And an ISO date is taken, with or without a time
    assert parse_datetime("2021-03-25", "Europe/London", ISO) == "2021-03-25T00:00:00+00:00"
    assert parse_datetime("2021-07-01T09:15:00", "Europe/London", ISO) == (
        "2021-07-01T09:15:00+01:00"
    )
    assert parse_date("2021-03-25", ISO) == "2021-03-25"


@pytest.mark.parametrize("order", [DAY_FIRST, MONTH_FIRST, ISO])
def test_an_empty_date_is_unset_in_any_order(order: str) -> None:
    assert parse_datetime("  ", "Europe/London", order) is None
    assert parse_date("", order) is None


def test_a_profiles_boolean_words_add_to_the_english_ones() -> None:
    # Given a profile's words ja/nein
    words = frozenset({("ja", True), ("nein", False)})
    # When read / Then they mean yes and no, in any case, and the English words still do
    assert parse_bool("ja", words) is True
    assert parse_bool(" Nein ", words) is False
    assert parse_bool("JA", words) is True
    assert parse_bool("Yes", words) is True
    assert parse_bool("0", words) is False
    assert parse_bool("", words) is None
    # And any other word is refused, naming it
    with pytest.raises(CleanupError, match=r"^Not a yes/no value: 'vielleicht'$"):
        parse_bool("vielleicht", words)


def test_boolean_words_are_only_the_profiles() -> None:
    # Given no words of a profile / When "ja" is read / Then it is refused
    with pytest.raises(CleanupError, match=r"^Not a yes/no value: 'ja'$"):
        parse_bool("ja")


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)))
def test_a_date_reads_the_same_written_either_way_in_its_order(day: date) -> None:
    # Given any valid date, written DD.MM.YYYY and MM/DD/YYYY
    day_first = f"{day.day:02d}.{day.month:02d}.{day.year:04d}"
    month_first = f"{day.month:02d}/{day.day:02d}/{day.year:04d}"
    # When each is read in its own order / Then both are the same ISO date
    assert parse_date(day_first, DAY_FIRST) == day.isoformat()
    assert parse_date(month_first, MONTH_FIRST) == day.isoformat()
