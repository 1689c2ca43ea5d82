"""The Techman column contract and grouping of rows into customers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from customer_import.jobs import Job
from customer_import.sources.csv_files import HEAD_BYTES
from customer_import.sources.techman import REQUIRED_COLUMNS, TechmanRows, check_header, index_rows

from tests.fakes import World
from tests.unit.techman_files import HEADER, customers, row, techman_csv
from tests.unit.test_pipeline import ORG, uploaded


def test_header_names_match_case_insensitively_in_any_order() -> None:
    # Given a header in lower case, padded, reversed, with an extra column
    header = [f"  {c.lower()} " for c in reversed(REQUIRED_COLUMNS)] + ["Loyalty Points"]
    # When checked
    check = check_header(header)
    # Then nothing is missing, and the unknown column is reported
    assert check.missing == []
    assert check.unknown == ["Loyalty Points"]


def test_every_missing_required_column_is_named() -> None:
    check = check_header(["CustomerNumber", "CustomerName"])
    assert check.missing == list(REQUIRED_COLUMNS[2:])


def test_rows_of_one_customer_become_one_customer_first_row_wins() -> None:
    # Given two rows for customer 7 that disagree on the email
    rows = TechmanRows(check_header(HEADER))
    first = row("7", "Ann Lee", VehicleRegistration="AB12 CDE")
    second = row("7", "Ann Lee", Email="other@example.com", VehicleRegistration="CD34EFG")
    for number, values in ((2, first), (3, second)):
        rows.add(number, [values[c] for c in HEADER])
    # When grouped
    [customer] = list(rows.customers())
    # Then one customer with two vehicles, the first email, and a warning naming the field
    assert customer.fields["email"] == "ann@example.com"
    assert [v["registration"] for v in customer.vehicles] == ["AB12CDE", "CD34EFG"]
    assert [(w.row, w.column) for w in customer.warnings] == [(3, "Email")]


def test_customers_stream_out_as_soon_as_their_last_row_is_read() -> None:
    # Given customer 1 on rows 2 and 5, with customers 2 and 3 between its rows
    lines = [
        (2, row("1", "Ann Lee", VehicleRegistration="AB12CDE")),
        (3, row("2", "Bob Hall")),
        (4, row("3", "Cy Dee")),
        (5, row("1", "Ann Lee", VehicleRegistration="CD34EFG")),
    ]
    records = [(1, list(HEADER))] + [(n, [v[c] for c in HEADER]) for n, v in lines]
    columns = check_header(HEADER)
    index = index_rows(columns, records, limit=100)
    pulled: list[int] = []

    def data_rows():  # type: ignore[no-untyped-def]
        for number, values in records[1:]:
            pulled.append(number)
            yield number, values

    rows = TechmanRows(columns, last_rows=index.last_rows)
    rows.read(data_rows())
    # When the customers are taken one by one
    seen = [(c, pulled[-1]) for c in rows.customers()]
    # Then each came as soon as its last row was read, customer 1 whole, with both vehicles
    assert [(c.external_customer_number, at) for c, at in seen] == [("2", 3), ("3", 4), ("1", 5)]
    assert [v["registration"] for v in seen[2][0].vehicles] == ["AB12CDE", "CD34EFG"]
    assert index.rows == 4


def test_the_first_pass_stops_counting_past_the_limit() -> None:
    records = [(1, list(HEADER))] + [(n, [row(str(n))[c] for c in HEADER]) for n in range(2, 50)]
    assert index_rows(check_header(HEADER), records, limit=10).rows == 11


# ---- hostile values (issue 15) ----------------------------------------------------------------


def _prepared(content: bytes) -> tuple[World, Job]:
    """Given a file uploaded, When Validate (and Prepare, unless rejected) ran."""
    world = World()
    job_id = uploaded(world, content)
    world.pipeline.validate(ORG, job_id)
    if world.pipeline.job(ORG, job_id).status == "preparing":
        world.pipeline.prepare(ORG, job_id)
    return world, world.pipeline.job(ORG, job_id)


def _row_errors(world: World, job: Job) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = world.objects.get_json(job.row_errors_key)
    return errors


def _staged(world: World, job: Job) -> dict[str, dict[str, Any]]:
    return {
        customer["external_customer_number"]: customer
        for batch in world.objects.get_json(job.manifest_key)
        for customer in world.objects.get_json(batch["key"])["customers"]
    }


@pytest.mark.parametrize(
    ("column", "limit"),
    [("CustomerName", 200), ("Email", 254), ("Phone", 50), ("Address1", 200), ("Town", 100)],
)
def test_a_value_over_its_column_limit_fails_the_customer_naming_column_and_limit(
    column: str, limit: int
) -> None:
    # Given customer 2 with a value one character over its column's limit, and 100,000 long
    long_value = "x" * (limit + 1)
    content = techman_csv([row("1"), row("2", **{column: long_value}), row("3", "Cat Ng")])
    # When prepared
    world, job = _prepared(content)
    # Then customer 2 fails, naming the column and the limit, and the others are staged
    [error] = _row_errors(world, job)
    assert (error["row"], error["column"]) == (3, column)
    assert error["reason"] == f"{column} is {limit + 1:,} characters long; the limit is {limit:,}"
    assert sorted(_staged(world, job)) == ["1", "3"]
    # And the original value is kept whole for the error log, and kept out of the preview
    assert error["original"][column] == long_value
    preview = world.objects.get_json(job.preview_key)["customers"]
    assert long_value not in json.dumps(preview)
    assert job.counter("failed") == 1


def test_an_oversized_value_on_a_later_row_fails_the_whole_customer() -> None:
    # Given customer 1 on two rows, the second with a 100,000-character vehicle model
    header = [*HEADER, "VehicleModel"]
    rows = [row("1", VehicleRegistration="AB12CDE"), row("1", VehicleRegistration="CD34EFG")]
    rows[1]["VehicleModel"] = "M" * 100_000
    # When prepared
    world, job = _prepared(techman_csv(rows, header))
    # Then the customer fails (its record would be written without that vehicle otherwise),
    # on the row that holds the value, with that row's original values
    [error] = _row_errors(world, job)
    assert (error["row"], error["column"]) == (3, "VehicleModel")
    assert error["original"]["VehicleModel"] == "M" * 100_000
    assert _staged(world, job) == {}


def test_a_huge_value_in_a_column_the_import_ignores_fails_its_row_too() -> None:
    # Given a "Notes" column (unknown to Techman) holding 450 KB in one row
    header = [*HEADER, "Notes"]
    rows = [row("1"), {**row("2", "Bob Hall"), "Notes": "n" * 450_000}]
    # When prepared
    world, job = _prepared(techman_csv(rows, header))
    # Then that row fails naming the column and the limit; the other is staged
    [error] = _row_errors(world, job)
    assert error["column"] == "Notes"
    assert "the limit is 4,000" in error["reason"]
    assert sorted(_staged(world, job)) == ["1"]


def test_invisible_characters_are_removed_from_keys_and_names_with_a_warning() -> None:
    # Given customer 536500 written once with a BOM and once with a zero-width space inside,
    # and a Persian name whose zero-width non-joiner belongs to it
    rows = [
        row("\ufeff536500", "Ann\u200b Lee", VehicleRegistration="AB12CDE"),
        row("536500", "Ann Lee", VehicleRegistration="CD34EFG"),
        row("7", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", Email="m@example.com"),
    ]
    # When prepared
    world, job = _prepared(techman_csv(rows))
    staged = _staged(world, job)
    # Then both rows are one customer, under the number as typed, with a clean name
    assert sorted(staged) == ["536500", "7"]
    customer = staged["536500"]
    assert customer["name"] == "Ann Lee"
    assert len(customer["vehicles"]) == 2
    # And each removal is a warning naming the row, the column and the character
    warned = [(w["row"], w["column"], w["reason"]) for w in customer["warnings"]]
    assert (
        2,
        "CustomerNumber",
        "CustomerNumber held invisible characters (U+FEFF); they were removed",
    ) in warned
    assert (
        2,
        "CustomerName",
        "CustomerName held invisible characters (U+200B); they were removed",
    ) in warned
    # And the joiner a written name needs stays
    assert staged["7"]["name"] == "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert staged["7"]["warnings"] == []


def test_a_nul_in_a_value_fails_its_row_even_after_the_head() -> None:
    # Given a NUL inside a name, after the first 64 KB Validate looks at
    rows = [row(str(n), f"Person{n} Smith") for n in range(1000, 1600)]
    rows.append(row("9999", "Bad\x00Name", Email="bad@example.com"))
    content = techman_csv(rows)
    assert content.index(b"\x00") > HEAD_BYTES
    # When prepared
    world, job = _prepared(content)
    # Then that row fails saying why, and the name is stored nowhere
    [error] = _row_errors(world, job)
    assert error["column"] == "CustomerName"
    assert "NUL" in error["reason"]
    assert "9999" not in _staged(world, job)
    assert job.counter("customers") == 601


def test_windows_1252_bytes_after_a_utf8_head_fail_their_rows_naming_the_bytes() -> None:
    # Given a file whose head is real UTF-8 (é), and a later row with a Windows-1252 £
    rows = [row(str(n), f"Renée{n} Smith") for n in range(1000, 1700)]
    later = techman_csv([row("9999", "Bob Hall", Address1="£5 Street")], encoding="cp1252")
    content = techman_csv(rows) + later.split(b"\r\n", 1)[1]
    assert content.index(b"\xa35") > HEAD_BYTES
    # When prepared
    world, job = _prepared(content)
    # Then that row fails naming the column and the byte, and no U+FFFD is stored
    [error] = _row_errors(world, job)
    assert error["column"] == "Address1"
    assert "0xA3" in error["reason"]
    assert error["original"]["Address1"] == "\ufffd5 Street"
    assert "9999" not in _staged(world, job)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (
            [*HEADER, " customername "],
            "Columns named more than once in the header: CustomerName (columns 2, 16). "
            "Keep one of each",
        ),
        (
            [*HEADER, *(f"Extra{n}" for n in range(490))],
            "The header has 505 columns; the limit is 500",
        ),
    ],
)
def test_headers_that_cannot_be_used_are_rejected_at_validate(
    header: list[str], reason: str
) -> None:
    # When a file with that header is validated
    _, job = _prepared(techman_csv([row("1")], header))
    # Then it is rejected, saying why
    assert (job.status, job.reason) == ("rejected", reason)


def test_a_header_longer_than_the_head_is_rejected_naming_the_limit() -> None:
    # Given a header line of 140,000 fields (1.5 MB, more than the head Validate reads)
    content = ",".join([*HEADER, *(f"c{n}" for n in range(140_000))]).encode() + b"\r\n1\r\n"
    # When validated
    _, job = _prepared(content)
    # Then it is rejected at Validate, naming the limit
    assert job.status == "rejected"
    assert job.reason.startswith("The header has more than ")
    assert job.reason.endswith("columns in its first 64 KB; the limit is 500")


def test_rows_of_only_delimiters_are_no_data_rows_however_many() -> None:
    # Given a header and 100,000 rows of only delimiters (far past Validate's head)
    content = techman_csv([]) + (b"," * (len(HEADER) - 1) + b"\r\n") * 100_000
    # When validated and prepared
    _, job = _prepared(content)
    # Then it is rejected as a header-only file is
    assert (job.status, job.reason) == ("rejected", "The file has a header but no data rows")


def test_an_unclosed_quote_fails_one_row_and_the_rows_after_it_count() -> None:
    # Given 50 customers, the name of the third (row 4) opening a quote that nothing closes
    content = techman_csv(customers(50)).replace(b"Customer2 Person", b'"Customer2 Person', 1)
    # When prepared
    world, job = _prepared(content)
    # Then row 4 fails saying so, and every other row is read and counted
    [error] = _row_errors(world, job)
    assert (error["row"], error["column"]) == (4, "(row)")
    assert error["reason"].startswith("Unclosed quote starting on row 4")
    assert error["original"]["CustomerNumber"] == "1002"
    counts = {name: job.counter(name) for name in ("rows", "customers", "failed")}
    assert counts == {"rows": 50, "customers": 50, "failed": 1}
    assert len(_staged(world, job)) == 49


def test_columns_with_the_same_unknown_name_or_none_keep_every_value_for_the_error_log() -> None:
    # Given two "Notes" columns and an unnamed one, in a row that fails
    header = [*HEADER, "Notes", "Notes", ""]
    values = [*(row("1", Phone="12345")[c] for c in HEADER), "first", "second", "third"]
    content = techman_csv([], header) + ",".join(values).encode() + b"\r\n"
    # When prepared
    world, job = _prepared(content)
    # Then each value is in the failure's original values under a name of its own
    [error] = _row_errors(world, job)
    assert {k: v for k, v in error["original"].items() if k not in HEADER} == {
        "Notes": "first",
        "Notes (column 17)": "second",
        "(unnamed) (column 18)": "third",
    }


@pytest.mark.parametrize("header_name", ["CustomerId", " customerid ", "CUSTOMERID"])
def test_a_customer_id_column_is_staged_as_the_internal_customer_id(header_name: str) -> None:
    # Given a file with a CustomerId column (in any case, padded) naming customer 1 in
    # capitals, and customer 2 without one
    header = [*HEADER, header_name]
    customer_id = "0b7e5f4c-3c1d-4c36-9b8e-4f1b2a6d9e01"
    rows = [row("1", CustomerId=customer_id.upper()), row("2", "Bob Hall")]
    content = techman_csv([{header_name: r.pop("CustomerId", ""), **r} for r in rows], header)
    # When prepared
    world, job = _prepared(content)
    # Then customer 1 is staged with its id as we write them, customer 2 without one
    staged = _staged(world, job)
    assert staged["1"]["internal_customer_id"] == customer_id
    assert staged["2"]["internal_customer_id"] is None
    # And the preview shows it
    preview = world.objects.get_json(job.preview_key)["customers"]
    assert {c.get("internal_customer_id") for c in preview} == {customer_id, None}


def test_a_customer_id_that_is_not_a_uuid_fails_its_row_naming_the_column() -> None:
    # Given customer 2 whose CustomerId is not a UUID
    header = [*HEADER, "CustomerId"]
    content = techman_csv([row("1"), row("2", "Bob Hall", CustomerId="12345")], header)
    # When prepared
    world, job = _prepared(content)
    # Then customer 2 fails, naming the column and why, and customer 1 is staged
    [error] = _row_errors(world, job)
    assert (error["row"], error["column"]) == (3, "CustomerId")
    assert error["reason"] == "CustomerId '12345' is not a customer id (a UUID)"
    assert sorted(_staged(world, job)) == ["1"]
