"""The sample Techman export generator (design §5.1) used by `make demo` and the tests."""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections import Counter
from datetime import datetime
from itertools import groupby
from pathlib import Path

import phonenumbers
import pytest
from customer_import_local.sample import (
    CUSTOMER_COLUMNS,
    EXPORTED_COLUMNS,
    VEHICLE_COLUMNS,
    SampleSummary,
    write_techman_sample,
)
from dateutil import parser as date_parser
from hypothesis import given, settings
from hypothesis import strategies as st

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$")
BOOLEANS = {"True", "False", "true", "false", "Yes", "No", "1", "0", ""}
CURRENT_PLATE = re.compile(r"^[A-Z]{2}\d{2} ?[A-Z]{3}$")
PREFIX_PLATE = re.compile(r"^[A-Z]\d{1,3} ?[A-Z]{3}$")
DATE_COLUMNS = ("DateCreated", "LastVisit", "VehicleFirstRegistered", "VehicleMOTDue")


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        records = list(reader)
    assert all(len(record) == len(header) for record in records)
    return header, [dict(zip(header, record, strict=True)) for record in records]


def by_customer(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    return {number: list(group) for number, group in groupby(rows, lambda r: r["CustomerNumber"])}


def gb_number(raw: str) -> phonenumbers.PhoneNumber | None:
    """A valid GB number, also when Excel dropped the leading zero; None otherwise."""
    candidates = [raw]
    digits = re.sub(r"\D", "", raw)
    if not raw.startswith(("+", "0", "(")) and digits:
        candidates.append("0" + digits)
    for text in candidates:
        try:
            number = phonenumbers.parse(text, "GB")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
    return None


def is_vehicle_row(row: dict[str, str]) -> bool:
    return any(row[c] for c in VEHICLE_COLUMNS)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleSummary]:
    path = tmp_path_factory.mktemp("sample") / "techman_1000.csv"
    return path, write_techman_sample(path, 1000)


@pytest.fixture(scope="module")
def parsed(sample: tuple[Path, SampleSummary]) -> tuple[list[str], list[dict[str, str]]]:
    return read_rows(sample[0])


@pytest.fixture(scope="module")
def good_rows(
    sample: tuple[Path, SampleSummary], parsed: tuple[list[str], list[dict[str, str]]]
) -> list[dict[str, str]]:
    bad = set(sample[1].bad_customers)
    return [row for row in parsed[1] if row["CustomerNumber"] not in bad]


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    # Given two paths
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    # When the same sample is written twice
    summary_a = write_techman_sample(first, 200)
    summary_b = write_techman_sample(second, 200)
    # Then the files and the summaries are identical
    assert first.read_bytes() == second.read_bytes()
    assert summary_a == summary_b


def test_another_seed_gives_another_file(tmp_path: Path) -> None:
    # Given / When samples with two seeds
    write_techman_sample(tmp_path / "a.csv", 50, seed=1)
    write_techman_sample(tmp_path / "b.csv", 50, seed=2)
    # Then they differ
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "b.csv").read_bytes()


def test_summary_counts_match_the_file(
    sample: tuple[Path, SampleSummary], parsed: tuple[list[str], list[dict[str, str]]]
) -> None:
    # Given the default-sized sample's summary and its rows read back
    _, summary = sample
    _, rows = parsed
    # Then customers, rows and vehicles agree with the file
    assert summary.customers == 1000
    assert len({row["CustomerNumber"] for row in rows}) == summary.customers
    assert len(rows) == summary.rows
    assert sum(is_vehicle_row(row) for row in rows) == summary.vehicles
    assert summary.rows > summary.customers  # some customers have several vehicles


def test_header_has_every_required_and_optional_column(
    parsed: tuple[list[str], list[dict[str, str]]],
) -> None:
    # Given the header
    header, _ = parsed
    # Then it holds each column of design §5.1 once, customer columns before vehicle columns
    assert sorted(header) == sorted(EXPORTED_COLUMNS)
    assert header == list(CUSTOMER_COLUMNS + VEHICLE_COLUMNS)
    assert header[0] == "CustomerNumber"


def test_customers_are_numbered_upwards_with_consecutive_rows(
    parsed: tuple[list[str], list[dict[str, str]]],
) -> None:
    # Given the rows grouped by customer number in file order
    _, rows = parsed
    groups = by_customer(rows)
    # Then each number appears in one block, the numbers ascend from the first one
    assert len(groups) == 1000
    assert [int(n) for n in groups] == list(range(100001, 101001))
    vehicle_counts = Counter()
    for customer_rows in groups.values():
        # And the customer columns repeat identically on each of the customer's rows
        customer_cells = {tuple(row[c] for c in CUSTOMER_COLUMNS) for row in customer_rows}
        assert len(customer_cells) == 1
        vehicles = [row for row in customer_rows if is_vehicle_row(row)]
        if vehicles:
            assert len(vehicles) == len(customer_rows)
        else:  # a customer without a vehicle has one row with empty vehicle cells
            assert len(customer_rows) == 1
        vehicle_counts[len(vehicles)] += 1
    # And most customers have one vehicle, some none, two or three
    assert set(vehicle_counts) == {0, 1, 2, 3}
    assert vehicle_counts.most_common(1)[0][0] == 1


def test_first_customer_number_makes_overlapping_or_separate_files(tmp_path: Path) -> None:
    # Given a file of 100001-100200 and one of 100151-100350 with the same seed
    write_techman_sample(tmp_path / "a.csv", 200, bad_customers=0)
    write_techman_sample(tmp_path / "b.csv", 200, bad_customers=0, first_customer_number=100151)
    a = by_customer(read_rows(tmp_path / "a.csv")[1])
    b = by_customer(read_rows(tmp_path / "b.csv")[1])
    # Then they share exactly the 50 numbers 100151-100200
    shared = set(a) & set(b)
    assert shared == {str(n) for n in range(100151, 100201)}
    # And a shared number is the same customer in both files
    for number in shared:
        for column in ("CustomerName", "Email", "Phone", "Postcode", "VehicleRegistration"):
            assert [r[column] for r in a[number]] == [r[column] for r in b[number]]


def test_phones_of_good_customers_are_valid_gb_numbers(good_rows: list[dict[str, str]]) -> None:
    # Given the rows of the customers without a deliberate defect
    phones = [row["Phone"] for row in good_rows if row["Phone"]]
    landlines = [row["PhoneLandline"] for row in good_rows if row["PhoneLandline"]]
    # Then every phone is a valid GB number, mobiles in Phone and landlines in PhoneLandline
    for raw in phones:
        number = gb_number(raw)
        assert number is not None, raw
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE, raw
    for raw in landlines:
        number = gb_number(raw)
        assert number is not None, raw
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE, raw
    # And the usual UK ways of writing them all occur, empty landlines too
    assert any(re.fullmatch(r"07\d{3} \d{6}", p) for p in phones)
    assert any(re.fullmatch(r"07\d{9}", p) for p in phones)
    assert any(p.startswith("+44 (0)7") for p in phones)
    assert any(p.startswith("+44 7") for p in phones)
    assert any(p.startswith("0044 7") for p in phones)
    assert any(re.fullmatch(r"7\d{9}", p) for p in phones)  # leading zero lost in Excel
    assert any(p.startswith("(0") for p in landlines)
    assert any(not row["PhoneLandline"] for row in good_rows)


def test_emails_of_good_customers_are_empty_or_valid(good_rows: list[dict[str, str]]) -> None:
    # Given the emails of the customers without a deliberate defect
    emails = [row["Email"] for row in good_rows]
    # Then each is empty or a valid address, and both kinds occur
    assert all(not e or EMAIL.match(e) for e in emails), [
        e for e in emails if e and not EMAIL.match(e)
    ]
    assert "" in emails
    assert sum(bool(e) for e in emails) > len(emails) * 0.8


def test_bad_customers_carry_exactly_one_defect(
    sample: tuple[Path, SampleSummary], parsed: tuple[list[str], list[dict[str, str]]]
) -> None:
    # Given the customers the summary calls bad
    _, summary = sample
    groups = by_customer(parsed[1])
    # Then there are as many as asked for, spread through the file
    assert len(summary.bad_customers) == 12
    assert len(set(summary.bad_customers)) == 12
    positions = sorted(list(groups).index(n) for n in summary.bad_customers)
    assert positions[0] < 1000 // 6 and positions[-1] > 1000 * 5 // 6
    for number in summary.bad_customers:
        row = groups[number][0]
        defects = [
            column
            for column in ("Phone", "PhoneLandline")
            if row[column] and gb_number(row[column]) is None
        ]
        if row["Email"] and not EMAIL.match(row["Email"]):
            defects.append("Email")
        # And each has exactly one phone that cannot be normalised or one invalid email
        assert len(defects) == 1, (number, row["Phone"], row["PhoneLandline"], row["Email"])


@pytest.mark.parametrize("count", [0, 1, 30])
def test_the_number_of_bad_customers_is_honoured(tmp_path: Path, count: int) -> None:
    # Given / When a sample asking for `count` bad customers
    summary = write_techman_sample(tmp_path / "s.csv", 60, bad_customers=count)
    # Then that many distinct customers of the file are reported
    numbers = {row["CustomerNumber"] for row in read_rows(tmp_path / "s.csv")[1]}
    assert len(set(summary.bad_customers)) == count
    assert set(summary.bad_customers) <= numbers


def test_more_bad_customers_than_customers_is_refused(tmp_path: Path) -> None:
    # Given / When / Then
    with pytest.raises(ValueError, match="bad_customers"):
        write_techman_sample(tmp_path / "s.csv", 5, bad_customers=6)


def test_dates_are_day_first_and_some_could_not_be_month_first(
    parsed: tuple[list[str], list[dict[str, str]]],
) -> None:
    # Given every date cell
    _, rows = parsed
    values = {row[c] for row in rows for c in DATE_COLUMNS if row[c]}
    days = []
    for value in values:
        # Then it is D/M/YYYY with an optional time, and dateutil reads it day-first
        match = DAY_FIRST.match(value)
        assert match, value
        day, month, year = (int(g) for g in match.groups()[:3])
        parsed_value = date_parser.parse(value, dayfirst=True)
        assert (parsed_value.day, parsed_value.month, parsed_value.year) == (day, month, year)
        days.append(day)
    # And some days exceed 12, so a month-first reading would fail or be wrong
    assert any(day > 12 for day in days)
    # And all the styles occur: seconds, no time, single-digit day or month without seconds
    assert any(re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", v) for v in values)
    assert any(re.fullmatch(r"\d{2}/\d{2}/\d{4}", v) for v in values)
    assert any(
        re.fullmatch(r"\d/\d{1,2}/\d{4} \d{2}:\d{2}|\d{1,2}/\d/\d{4} \d{2}:\d{2}", v)
        for v in values
    )


def test_customers_visited_after_they_were_created(
    parsed: tuple[list[str], list[dict[str, str]]],
) -> None:
    # Given customers with both dates
    for row in parsed[1]:
        if row["LastVisit"]:
            # Then the last visit is not before the creation
            created = date_parser.parse(row["DateCreated"], dayfirst=True)
            visited = date_parser.parse(row["LastVisit"], dayfirst=True)
            assert visited.date() >= created.date()
            assert visited <= datetime(2026, 11, 22, 23, 59)


def test_flags_and_preferences_look_like_techman(
    parsed: tuple[list[str], list[dict[str, str]]],
) -> None:
    # Given the boolean, group and preference cells
    _, rows = parsed
    flags = [
        row[c]
        for row in rows
        for c in (
            "CustomerOnStop",
            "VehicleRemindersEnabled",
            "NotificationsEnabled",
            "AccountCustomer",
            "VATRegistered",
        )
    ]
    # Then booleans are mostly True/False with a few other spellings and empty cells
    assert set(flags) <= BOOLEANS
    assert sum(f in ("True", "False") for f in flags) > len(flags) * 0.8
    assert {"Yes", "No", "1", "0", ""} & set(flags) == {"Yes", "No", "1", "0", ""}
    assert {row["CustomerGroupName"] for row in rows} == {"Retail", "Trade", "Fleet", "Account"}
    # And preferences are empty or a JSON object of booleans
    preferences = [row["NotificationPreferences"] for row in rows]
    assert "" in preferences
    for value in filter(None, preferences):
        loaded = json.loads(value)
        assert set(loaded) == {"sms", "email", "marketing"}
        assert all(isinstance(v, bool) for v in loaded.values())


def test_people_and_companies_have_uk_addresses(
    parsed: tuple[list[str], list[dict[str, str]]],
) -> None:
    # Given the customers
    _, rows = parsed
    customers = [group[0] for group in by_customer(rows).values()]
    # Then there are people with a title and companies without one
    assert sum(bool(c["Title"]) for c in customers) > len(customers) / 2
    assert any(c["CustomerName"].endswith((" Ltd", " LLP")) and not c["Title"] for c in customers)
    assert any(" & " in c["CustomerName"] for c in customers)
    # And every postcode looks like a UK postcode, towns and delivery addresses are filled
    for c in customers:
        assert re.fullmatch(r"[A-Z]{1,2}\d{1,2} ?\d[A-Z]{2}", c["Postcode"].upper()), c["Postcode"]
        assert c["Address1"] and c["Town"]
    assert any(c["DeliveryAddress1"] and c["DeliveryPostcode"] for c in customers)


def test_vehicles_have_uk_plates_vins_and_mileage(
    parsed: tuple[list[str], list[dict[str, str]]],
) -> None:
    # Given the vehicle rows
    vehicles = [row for row in parsed[1] if is_vehicle_row(row)]
    plates = [row["VehicleRegistration"] for row in vehicles]
    # Then plates are UK formats, some lower case or without the space
    for plate in plates:
        upper = plate.upper()
        assert CURRENT_PLATE.match(upper) or PREFIX_PLATE.match(upper), plate
    assert any(p != p.upper() for p in plates)
    assert any(" " not in p for p in plates)
    for row in vehicles:
        # And VINs have 17 characters without I, O or Q; mileage is a whole number
        assert re.fullmatch(r"[A-HJ-NPR-Z0-9]{17}", row["VehicleVIN"]), row["VehicleVIN"]
        assert row["VehicleMake"] and row["VehicleModel"]
        assert row["VehicleMileage"] == "" or row["VehicleMileage"].isdigit()


def test_file_is_utf8_without_bom_with_crlf_line_endings(
    sample: tuple[Path, SampleSummary], parsed: tuple[list[str], list[dict[str, str]]]
) -> None:
    # Given the raw bytes
    path, summary = sample
    data = path.read_bytes()
    _, rows = parsed
    # Then there is no BOM, the text is UTF-8 and holds characters outside ASCII
    assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8")
    assert any(ord(ch) > 127 for ch in text)
    # And every record ends in CRLF; the only bare LF is the one inside a quoted address
    assert data.endswith(b"\r\n")
    assert data.count(b"\r\n") == summary.rows + 1
    embedded = [row for row in rows if "\n" in row["Address2"]]
    assert len({row["CustomerNumber"] for row in embedded}) == 1
    assert data.count(b"\n") - data.count(b"\r\n") == len(embedded)
    assert not any("\n" in v for row in rows for c, v in row.items() if c != "Address2")
    # And quoted fields with commas occur
    assert any("," in row["Address1"] or "," in row["CustomerName"] for row in rows)


def test_omitted_columns_are_left_out(tmp_path: Path) -> None:
    # Given / When a sample without the Email column
    path = tmp_path / "no_email.csv"
    summary = write_techman_sample(path, 100, omit_columns=("Email",))
    # Then the header and every row lack it, and the bad customers are still there
    header, rows = read_rows(path)
    assert "Email" not in header
    assert len(header) == len(EXPORTED_COLUMNS) - 1
    assert len(rows) == summary.rows
    assert len(summary.bad_customers) == 12


def test_an_unknown_column_to_omit_is_refused(tmp_path: Path) -> None:
    # Given / When / Then
    with pytest.raises(ValueError, match="Emial"):
        write_techman_sample(tmp_path / "s.csv", 10, bad_customers=0, omit_columns=("Emial",))


@settings(max_examples=25, deadline=None)
@given(
    customers=st.integers(min_value=0, max_value=40),
    seed=st.integers(min_value=0, max_value=2**32),
    bad_share=st.floats(min_value=0, max_value=1),
)
def test_any_small_sample_matches_its_summary(customers: int, seed: int, bad_share: float) -> None:
    # Given any small sample
    bad = int(customers * bad_share)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "s.csv"
        # When it is written
        summary = write_techman_sample(path, customers, seed=seed, bad_customers=bad)
        header, rows = read_rows(path)
    # Then the summary describes the file
    assert len(header) == len(EXPORTED_COLUMNS)
    assert summary.rows == len(rows)
    assert summary.customers == len({row["CustomerNumber"] for row in rows}) == customers
    assert summary.vehicles == sum(is_vehicle_row(row) for row in rows)
    assert len(summary.bad_customers) == bad


@pytest.mark.slow
def test_full_demo_sample_has_5500_customers(tmp_path: Path) -> None:
    # Given the demo size
    path = tmp_path / "techman_5500.csv"
    # When it is written
    summary = write_techman_sample(path, 5500)
    # Then it holds 5,500 customers, as `make demo` promises
    assert summary.customers == 5500
    assert len(read_rows(path)[1]) == summary.rows
