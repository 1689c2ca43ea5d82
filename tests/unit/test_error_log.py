"""The error log is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from customer_import.error_log import render_error_log, spreadsheet_safe
from customer_import.ports import RowFailure


def test_formula_triggers_are_escaped_phones_included() -> None:
    for value in ("=SUM(A1)", "+447400123456", "-1", "@cmd", "\tx", "\rx"):
        assert spreadsheet_safe(value) == "'" + value
    assert spreadsheet_safe("Alice") == "Alice"


def test_the_log_lists_row_column_reason_then_original_values() -> None:
    # Given failures whose original values start with formula characters
    failures = [
        RowFailure(
            7,
            "Phone",
            "Phone normalisation failed",
            {"CustomerName": "=HYPERLINK()", "Phone": "+44 nope"},
        ),
        RowFailure(3, "Email", "Invalid email address", {"CustomerName": "@Bob", "Email": "bob@"}),
    ]
    # When the log is written
    rows = list(csv.reader(io.StringIO(render_error_log(failures))))
    # Then rows come in file order, and no cell would run as a formula
    assert rows[0] == ["row", "column", "reason", "CustomerName", "Email", "Phone"]
    assert rows[1] == ["3", "Email", "Invalid email address", "'@Bob", "bob@", ""]
    assert rows[2] == ["7", "Phone", "Phone normalisation failed", "'=HYPERLINK()", "", "'+44 nope"]


def test_the_header_is_escaped_too_its_column_names_come_from_the_file() -> None:
    # Given a failure whose row had unknown columns named like formulas
    failure = RowFailure(
        2, "Phone", "Phone normalisation failed", {'=HYPERLINK("http://x")': "a", "@SUM(1)": "b"}
    )
    # When the log is written
    header = next(csv.reader(io.StringIO(render_error_log([failure]))))
    # Then no header cell would run as a formula
    assert header == ["row", "column", "reason", '\'=HYPERLINK("http://x")', "'@SUM(1)"]


def test_formulas_behind_whitespace_or_in_full_width_are_escaped() -> None:
    for value in ("  =1+1", " \t@cmd", "\n-2", "\uff1dSUM(A1)", "\uff0b1", "\uff0d1", "\uff20x"):
        assert spreadsheet_safe(value) == "'" + value
    for value in ("Ann = Bob", "a-b", "\uff21"):  # not at the start, or not a trigger
        assert spreadsheet_safe(value) == value


def test_a_failure_with_140000_original_columns_is_written_whole() -> None:
    # Given a row of 140,000 fields (the log once took minutes for it)
    original = {f"(extra {n})": "x" for n in range(140_000)}
    # When the log is written
    rows = list(csv.reader(io.StringIO(render_error_log([RowFailure(2, "(row)", "r", original)]))))
    # Then every column and value is there
    assert len(rows[0]) == len(rows[1]) == 140_003
