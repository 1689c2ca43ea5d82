"""The Techman column contract and grouping of rows into customers."""

from __future__ import annotations

from customer_import.techman import REQUIRED_COLUMNS, TechmanRows, check_header

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
