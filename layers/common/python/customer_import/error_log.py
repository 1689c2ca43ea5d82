"""The error-log CSV (design §5.5): row number, column, reason, then the row's original values.

Every cell is made safe to open in a spreadsheet: a cell starting with `=`, `+`, `-`, `@`, tab
or carriage return would be read as a formula, so it gets a leading apostrophe. Phone numbers
such as `+447400123456` are escaped too: they are data, never formulas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from .ports import RowFailure

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def render_error_log(failures: Iterable[RowFailure]) -> str:
    ordered = sorted(failures, key=lambda f: (f.row, f.column))
    original_columns: list[str] = []
    for failure in ordered:
        for column in failure.original:
            if column not in original_columns:
                original_columns.append(column)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["row", "column", "reason", *original_columns])
    for failure in ordered:
        cells = [failure.row, failure.column, failure.reason]
        cells += [failure.original.get(column, "") for column in original_columns]
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return out.getvalue()
