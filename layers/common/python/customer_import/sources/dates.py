"""Telling day-first from month-first (design §5.8, `date_order: detect`).

`04/03/2021` is the 4th of March or the 3rd of April, and no single value says which. A whole
file usually does: one date with a first part over 12 (`25/03/2021`) is day-first, one with a
second part over 12 (`03/25/2021`) is month-first. An export writes its dates one way, so the
file's date columns are judged together; dates written both ways are an error naming rows of
each, and a file none of whose dates decides is asked about, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import cleaning
from .layout import DateOrder

DATE_COLUMNS = ("DateCreated", "LastVisit", "VehicleFirstRegistered", "VehicleMOTDue")
SAMPLES = 5  # of each kind, for messages and for the question's examples


_ORDERS = (DateOrder.DAY_FIRST, DateOrder.MONTH_FIRST)


@dataclass(frozen=True)
class DateSample:
    row: int
    column: str
    value: str

    def __str__(self) -> str:
        return f"row {self.row} {self.column} {self.value!r}"

    def readings(self) -> dict[str, Any]:
        """The value read both ways, for the person who decides."""
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            **{str(order): cleaning.parse_date(self.value, str(order)) for order in _ORDERS},
        }


@dataclass
class _Kind:
    count: int = 0
    samples: list[DateSample] = field(default_factory=list)

    def add(self, sample: DateSample) -> None:
        self.count += 1
        if len(self.samples) < SAMPLES:
            self.samples.append(sample)

    def named(self) -> str:
        more = f" and {self.count - len(self.samples):,} more" if self.count > SAMPLES else ""
        return ", ".join(map(str, self.samples)) + more


@dataclass(frozen=True)
class DateVerdict:
    """What the file's dates say: an order, a contradiction, or a question."""

    order: DateOrder | None
    contradiction: str | None = None
    question: dict[str, Any] | None = None


class DateOrderEvidence:
    """Collects, row by row, the dates that can only be read one way, and some that can be
    read both ways (the question's examples)."""

    def __init__(self, positions: dict[str, int], named: Callable[[str], str] = str) -> None:
        # Each column as the examples and errors name it (`ColumnCheck.named`).
        self._columns = [(named(c), positions[c]) for c in DATE_COLUMNS if c in positions]
        self._day_first, self._month_first, self._either = _Kind(), _Kind(), _Kind()

    def see(self, row: int, values: list[str]) -> None:
        for column, index in self._columns:
            if index >= len(values):
                continue
            # As the row reads it: invisible characters go (`techman.screen_cell`).
            value = cleaning.strip_invisible(values[index], keys=True).strip()
            reading = cleaning.numeric_date_reading(value)
            if reading is None:
                continue
            # A value no order reads (a day 0, a 25th hour) fails its own row, telling nothing.
            first, second, readable = reading
            sample = DateSample(row, column, value)
            if readable == {DateOrder.DAY_FIRST} and first > 12:
                self._day_first.add(sample)
            elif readable == {DateOrder.MONTH_FIRST} and second > 12:
                self._month_first.add(sample)
            elif len(readable) == 2 and first != second:
                self._either.add(sample)

    def see_all(self, records: Iterable[tuple[int, list[str]]]) -> DateOrderEvidence:
        for row, values in records:
            self.see(row, values)
        return self

    def verdict(self) -> DateVerdict:
        day, month = self._day_first, self._month_first
        if day.count and month.count:
            return DateVerdict(
                order=None,
                contradiction=(
                    f"The file writes its dates both ways: day-first on {day.named()}; "
                    f"month-first on {month.named()}. Correct the file, or give the profile "
                    "a date_order"
                ),
            )
        if day.count:
            return DateVerdict(DateOrder.DAY_FIRST)
        if month.count:
            return DateVerdict(DateOrder.MONTH_FIRST)
        if self._either.count:
            return DateVerdict(order=None, question=self.question())
        return DateVerdict(DateOrder.DAY_FIRST)  # every date reads the same either way

    def question(self) -> dict[str, Any]:
        either = self._either
        return {
            "question": "date_order",
            "text": (
                f"None of the file's {either.count:,} dates with two parts of 12 or less tells "
                "whether it is day-first or month-first: which does the file mean?"
            ),
            "choices": [str(DateOrder.DAY_FIRST), str(DateOrder.MONTH_FIRST)],
            "examples": [sample.readings() for sample in either.samples],
        }

    def month_first_only(self) -> str | None:
        """For a file that is day-first by contract (Techman): a warning when its dates only
        make sense month-first, or None."""
        if self._month_first.count and not self._day_first.count:
            return (
                f"Dates in this file only make sense month-first ({self._month_first.named()}); "
                "Techman writes them day-first, so those dates are left out (each row says so). "
                "Was the file saved by an Excel set to US English?"
            )
        return None
