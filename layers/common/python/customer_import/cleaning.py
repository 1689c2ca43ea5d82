"""Field cleanup rules of design §5.1: phones, dates, booleans, emails, registrations.

Each function takes the raw cell and returns the clean value, or raises `CleanupError` when the
value cannot be used (the caller decides whether that fails the row or only warns).
"""

from __future__ import annotations

import functools
import json
import re
from datetime import date, datetime
from typing import Any

import phonenumbers
from dateutil import parser as date_parser
from dateutil import tz

DEFAULT_REGION = "GB"
DEFAULT_TIME_ZONE = "Europe/London"

_NUMERIC_DATE = re.compile(
    r"^(?P<first_part>\d{1,2})[/.-](?P<second_part>\d{1,2})[/.-](?P<year>\d{4})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


# Every character of Unicode's "format" category (Cf): invisible, yet part of the text: a BOM
# (U+FEFF) or zero-width space pasted into a customer number makes it another number.
# tests/unit/test_cleaning.py checks the list against `unicodedata`.
_FORMAT_CHARACTERS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
)
_INVISIBLE_IN_KEYS = re.compile(f"[{_FORMAT_CHARACTERS}]")
# Zero-width non-joiner and joiner (U+200C, U+200D) shape Persian and Indic names and emoji.
_INVISIBLE_IN_TEXT = re.compile(f"(?![\u200c\u200d])[{_FORMAT_CHARACTERS}]")


class CleanupError(ValueError):
    """A value that cannot be cleaned; `reason` is what the error log shows."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@functools.lru_cache(maxsize=16_384)
def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """Any usual UK way of writing a number -> E.164; empty -> None. Memoised: parsing is the
    costliest cleanup rule, and a file repeats a customer's numbers on each of its rows."""
    value = raw.strip()
    if not value:
        return None
    # "+44 (0)7700 900123": the bracketed trunk zero must go before parsing.
    candidate = value.replace("(0)", "")
    candidate = re.sub(r"^\s*00", "+", candidate)
    candidates = [candidate]
    digits = re.sub(r"\D", "", candidate)
    if not candidate.lstrip().startswith(("+", "0")) and digits:
        candidates.append("0" + digits)  # leading zero lost when the file went through Excel
    for text in candidates:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise CleanupError("Phone normalisation failed")


# How the numeric dates of a file are written (design §5.8): Techman writes them day-first.
DAY_FIRST, MONTH_FIRST, ISO = "day_first", "month_first", "iso"
_ORDERS = {
    DAY_FIRST: ("DD/MM/YYYY", "dates are read day-first, DD/MM/YYYY, never month-first"),
    MONTH_FIRST: ("MM/DD/YYYY", "dates are read month-first, MM/DD/YYYY, never day-first"),
}


@functools.lru_cache(maxsize=16_384)
def parse_datetime(
    raw: str, time_zone: str = DEFAULT_TIME_ZONE, order: str = DAY_FIRST
) -> str | None:
    """`DD/MM/YYYY[ HH:MM[:SS]]` (month-first with `order=MONTH_FIRST`), or ISO -> ISO 8601
    with the zone's offset. Memoised: a file repeats its customers' dates on every row.

    Never the other order: read day-first, `12/25/2020` is refused (there is no month 25),
    not read as Christmas. With `order=ISO` only ISO dates are taken.
    """
    value = raw.strip()
    if not value:
        return None
    zone = tz.gettz(time_zone)
    match = _NUMERIC_DATE.match(value) if order != ISO else None
    try:
        if match:
            moment = _numeric_moment(match, value, order)
        elif _ISO_DATE.match(value):
            moment = date_parser.isoparse(value)
        else:
            expected = "YYYY-MM-DD" if order == ISO else _ORDERS[order][0]
            raise CleanupError(f"Not a date: {value!r} (expected {expected})")
    except CleanupError:
        raise
    except (ValueError, OverflowError) as exc:
        raise CleanupError(f"Impossible date: {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()


def numeric_date_reading(value: str) -> tuple[int, int, frozenset[str]] | None:
    """A `NN/NN/YYYY[ HH:MM[:SS]]` date's first two parts (`.` and `-` separate them too) and
    the orders `parse_datetime` reads it in (`DAY_FIRST`, `MONTH_FIRST`; none for a day 0);
    None for any other form. Found without building zoned moments: Prepare asks it of every
    date of a file, to learn how the file writes them."""
    match = _NUMERIC_DATE.match(value.strip())
    if match is None:
        return None
    orders = []
    for order in (DAY_FIRST, MONTH_FIRST):
        try:
            _numeric_moment(match, value, order)
        except (CleanupError, ValueError, OverflowError):
            continue
        orders.append(order)
    return int(match["first_part"]), int(match["second_part"]), frozenset(orders)


def _numeric_moment(match: re.Match[str], value: str, order: str) -> datetime:
    first, second, year, hour, minute, seconds = (int(part or 0) for part in match.groups())
    day, month = (first, second) if order == DAY_FIRST else (second, first)
    if month > 12 >= day:
        raise CleanupError(
            f"Impossible date: {value!r} (there is no month {month}; {_ORDERS[order][1]})"
        )
    return datetime(year, month, day, hour, minute, seconds)


def parse_date(raw: str, order: str = DAY_FIRST) -> str | None:
    """A date -> ISO `YYYY-MM-DD` (vehicle dates carry no time)."""
    moment = parse_datetime(raw, DEFAULT_TIME_ZONE, order)
    return None if moment is None else date.fromisoformat(moment[:10]).isoformat()


def parse_bool(raw: str, words: frozenset[tuple[str, bool]] = frozenset()) -> bool | None:
    """Yes/no in the usual English words, or in the words an import profile adds
    (`{("ja", True), ("nein", False)}`)."""
    value = raw.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    for word, meaning in words:
        if value == word:
            return meaning
    raise CleanupError(f"Not a yes/no value: {raw.strip()!r}")


def clean_email(raw: str) -> str | None:
    """Stored as given (trimmed); the lower-cased form is only for matching."""
    value = raw.strip()
    if not value:
        return None
    if not _EMAIL.match(value):
        raise CleanupError(f"Invalid email address: {value!r}")
    return value


def strip_invisible(text: str, *, keys: bool) -> str:
    """`text` without invisible format characters; `keys=False` keeps the joiners that
    written names need."""
    if text.isascii():  # every format character is outside ASCII
        return text
    return (_INVISIBLE_IN_KEYS if keys else _INVISIBLE_IN_TEXT).sub("", text)


def normalise_registration(raw: str) -> str | None:
    value = re.sub(r"\s+", "", raw).upper()
    return value or None


def parse_int(raw: str) -> int | None:
    value = raw.strip().replace(",", "")
    if not value:
        return None
    try:
        return int(float(value))
    except (ValueError, OverflowError) as exc:  # OverflowError: "inf", "1e400"
        raise CleanupError(f"Not a number: {raw.strip()!r}") from exc


def notification_preferences(
    raw_json: str, reminders: bool | None, notifications: bool | None
) -> dict[str, Any]:
    """Combine the JSON column with the two flags; marketing stays off unless opted in."""
    prefs: dict[str, Any] = {}
    if raw_json.strip():
        try:
            loaded = json.loads(raw_json)
        except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: "[[[[…"
            raise CleanupError("NotificationPreferences is not valid JSON") from exc
        if not isinstance(loaded, dict):
            raise CleanupError("NotificationPreferences is not a JSON object")
        prefs.update(loaded)
    prefs["marketing"] = prefs.get("marketing") is True
    if reminders is not None:
        prefs["vehicle_reminders"] = reminders
    if notifications is not None:
        prefs["notifications"] = notifications
    return prefs
