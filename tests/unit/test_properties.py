"""Property-based tests of the cleanup rules of design §5.1 (phones, dates, booleans).

Each property says what must hold for every value of a kind, then lets Hypothesis look for a
counter-example; the example counts stay at Hypothesis' default so the suite stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Any

import phonenumbers
import pytest
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

# ---- phones ---------------------------------------------------------------------------------


def _valid_gb(area: str, subscriber: str) -> bool:
    number = phonenumbers.parse(f"0{area}{subscriber}", "GB")
    return phonenumbers.is_valid_number(number)


# A GB number as (area code without its trunk 0, subscriber digits).
mobiles = st.builds(
    lambda second, rest: (f"7{second}{rest[:2]}", rest[2:]),
    st.sampled_from("456789"),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
).filter(lambda parts: _valid_gb(*parts))
# Ofcom's drama ranges, which phonenumbers judges valid: 0113 496 0xxx, 0161 496 0xxx, 020 7946 0xxx.
landlines = st.one_of(
    st.builds(lambda n: ("113", f"4960{n:03d}"), st.integers(0, 999)),
    st.builds(lambda n: ("161", f"4960{n:03d}"), st.integers(0, 999)),
    st.builds(lambda n: ("20", f"79460{n:03d}"), st.integers(0, 999)),
)
gb_numbers = st.one_of(mobiles, landlines)


@st.composite
def spaced(draw: st.DrawFn, digits: str) -> str:
    """The digits with spaces or hyphens between any of them (never inside a prefix)."""
    out = digits[0]
    for digit in digits[1:]:
        out += draw(st.sampled_from(["", "", "", " ", "-"])) + digit
    return out


@st.composite
def written_in_a_uk_style(draw: st.DrawFn, area: str, subscriber: str) -> str:
    gap = draw(st.sampled_from([" ", "", "  "]))
    national = area + subscriber
    style = draw(
        st.sampled_from(["national", "+44", "+44 (0)", "0044", "brackets", "hyphens", "zero lost"])
    )
    if style == "national":
        text = "0" + draw(spaced(national))
    elif style == "+44":
        text = "+44" + gap + draw(spaced(national))
    elif style == "+44 (0)":
        text = "+44" + gap + "(0)" + draw(st.sampled_from([" ", ""])) + draw(spaced(national))
    elif style == "0044":
        text = "0044" + gap + draw(spaced(national))
    elif style == "brackets":
        text = f"(0{area})" + draw(st.sampled_from([" ", ""])) + draw(spaced(subscriber))
    elif style == "hyphens":
        text = f"0{area}-{subscriber[:3]}-{subscriber[3:]}"
    else:  # the cell went through Excel as a number: no leading zero, no spaces
        text = national
    padding = st.sampled_from(["", " ", "\t"])
    return draw(padding) + text + draw(padding)


@st.composite
def gb_number_and_a_way_of_writing_it(draw: st.DrawFn) -> tuple[str, str]:
    area, subscriber = draw(gb_numbers)
    return f"+44{area}{subscriber}", draw(written_in_a_uk_style(area, subscriber))


@given(gb_number_and_a_way_of_writing_it())
def test_any_valid_gb_number_in_any_uk_style_normalises_to_the_same_e164(
    case: tuple[str, str],
) -> None:
    # Given a valid GB mobile or landline, written in one of the usual UK styles
    e164, written = case
    # When it is normalised
    # Then it is the number's E.164 form, whatever the style
    assert normalise_phone(written) == e164


# ---- dates ----------------------------------------------------------------------------------

days = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
times = st.times()


def _two_or_one(value: int, leading_zero: bool) -> str:
    return f"{value:02d}" if leading_zero else str(value)


@st.composite
def day_first(draw: st.DrawFn, day: date, moment: time | None) -> str:
    zeros = draw(st.booleans())
    separator = draw(st.sampled_from(["/", "/", ".", "-"]))
    text = separator.join(
        [_two_or_one(day.day, zeros), _two_or_one(day.month, zeros), str(day.year)]
    )
    if moment is None:
        return text
    clock = f"{_two_or_one(moment.hour, draw(st.booleans()))}:{moment.minute:02d}"
    if draw(st.booleans()):
        clock += f":{moment.second:02d}"
    return f"{text} {clock}"


@given(st.data(), days, st.none() | times)
def test_any_day_first_date_parses_to_the_same_calendar_day(
    data: st.DataObject, day: date, moment: time | None
) -> None:
    # Given a date written day-first, with or without time, seconds and leading zeros
    written = data.draw(day_first(day, moment))
    # When it is parsed
    iso = parse_datetime(written)
    # Then the calendar day is the one written (never read month-first), and so is the time
    assert iso is not None
    assert iso[:10] == day.isoformat()
    assert parse_date(written) == day.isoformat()
    if moment is not None:
        assert iso[11:16] == f"{moment.hour:02d}:{moment.minute:02d}"


@given(days.filter(lambda d: d.day > 12))
def test_a_month_first_date_is_refused_never_read_month_first(day: date) -> None:
    # Given a date written month-first (12/25/2020), impossible as day-first
    written = f"{day.month:02d}/{day.day:02d}/{day.year}"
    # When it is parsed, Then it is refused rather than silently read month-first
    with pytest.raises(CleanupError):
        parse_datetime(written)


# ---- booleans -------------------------------------------------------------------------------

WORDS = {"true": True, "yes": True, "y": True, "1": True}
WORDS |= {"false": False, "no": False, "n": False, "0": False}


@st.composite
def any_casing(draw: st.DrawFn, word: str) -> str:
    return "".join(c.upper() if draw(st.booleans()) else c for c in word)


whitespace = st.text(alphabet=" \t\u00a0", max_size=3)


@given(st.data(), st.sampled_from(sorted(WORDS)), whitespace, whitespace)
def test_accepted_yes_no_words_map_right_in_any_case_and_padding(
    data: st.DataObject, word: str, before: str, after: str
) -> None:
    written = before + data.draw(any_casing(word)) + after
    assert parse_bool(written) is WORDS[word]


@given(whitespace)
def test_an_empty_yes_no_cell_is_unset(blank: str) -> None:
    assert parse_bool(blank) is None


@given(st.text().filter(lambda s: s.strip().lower() not in WORDS and s.strip()))
def test_anything_else_is_not_a_yes_no_value(written: str) -> None:
    with pytest.raises(CleanupError, match="Not a yes/no value"):
        parse_bool(written)


# ---- garbage --------------------------------------------------------------------------------

NORMALISERS: dict[str, Callable[[str], Any]] = {
    "normalise_phone": normalise_phone,
    "parse_datetime": parse_datetime,
    "parse_date": parse_date,
    "parse_bool": parse_bool,
    "clean_email": clean_email,
    "normalise_registration": normalise_registration,
    "parse_int": parse_int,
    "notification_preferences": lambda raw: notification_preferences(raw, None, None),
}
# Plain text, and text made of the characters the parsers look at, so that they get further.
garbage = st.one_of(
    st.text(),
    st.text(alphabet="0123456789+()/:-.,T eE{}[]\"'@\u00a0\u0663", max_size=40),
    st.from_regex(r"\A\d{1,2}/\d{1,2}/\d{4}[ T].{0,12}\Z"),
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}.{0,20}\Z"),
    st.sampled_from(["inf", "-inf", "nan", "1e400", "[" * 5000, "+44 (0)", "(0)", "00"]),
)


@pytest.mark.parametrize("name", sorted(NORMALISERS))
@given(raw=garbage)
def test_garbage_never_crashes_a_normaliser(name: str, raw: str) -> None:
    # Given any string at all, When a normaliser gets it, Then it cleans it or says why not
    try:
        NORMALISERS[name](raw)
    except CleanupError as exc:
        assert exc.reason
