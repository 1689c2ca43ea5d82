"""The error-log CSV (design §5.5): row number, column, reason, then the row's original values.

Every cell is made safe to open in a spreadsheet, the header included (its column names come
from the file): a cell starting with `=`, `+`, `-`, `@`, tab or carriage return would be read
as a formula, so it gets a leading apostrophe. So does one whose first character after
leading whitespace is one of those, or their full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20), which spreadsheets
also read as formulas. Phone numbers such as `+447400123456` are escaped too: they are data,
never formulas.

Linear in the size of the log: its columns are the union of the failures' original columns,
collected in one pass (a row of 140,000 fields once made this quadratic).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from .ports import RowFailure

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_FULL_WIDTH_TRIGGERS = ("\uff1d", "\uff0b", "\uff0d", "\uff20")  # full-width = + - @


def spreadsheet_safe(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS) or text.lstrip().startswith(
        FORMULA_TRIGGERS + _FULL_WIDTH_TRIGGERS
    ):
        return "'" + text
    return text


def render_error_log(failures: Iterable[RowFailure]) -> str:
    ordered = sorted(failures, key=lambda f: (f.row, f.column))
    # A dict keeps the columns in the order first seen, and finds each in constant time.
    original_columns = list(dict.fromkeys(c for f in ordered for c in f.original))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["row", "column", "reason", *original_columns]
    writer.writerow([spreadsheet_safe(cell) for cell in header])
    for failure in ordered:
        cells = [failure.row, failure.column, failure.reason]
        cells += [failure.original.get(column, "") for column in original_columns]
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return out.getvalue()
