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
