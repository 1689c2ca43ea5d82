"""The Techman column contract and grouping of rows into customers."""

from __future__ import annotations

from customer_import.techman import REQUIRED_COLUMNS, TechmanRows, check_header, index_rows

from tests.unit.techman_files import HEADER, row


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
