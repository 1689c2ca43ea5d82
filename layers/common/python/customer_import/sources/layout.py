"""How a job's file is laid out (design §5.8): its source, format and sheet, and for a
`mapped` file the mapping onto the canonical columns and the transforms of its values.

An import profile fixes it; the job keeps a copy, so a profile edited while the job runs
changes nothing of how its file is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import phonenumbers

from .. import cleaning
from .techman import KNOWN_COLUMNS, MAPPED_REQUIRED_COLUMNS

TECHMAN, MAPPED = "techman", "mapped"
SOURCES = (TECHMAN, MAPPED)
FORMATS = ("csv", "xlsx")
MAX_BOOLEAN_WORDS = 50


class DateOrder(StrEnum):
    DAY_FIRST = cleaning.DAY_FIRST
    MONTH_FIRST = cleaning.MONTH_FIRST
    ISO = cleaning.ISO
    # Decided from the file's dates; a person answers when none of them decides it.
    DETECT = "detect"


@dataclass(frozen=True)
class FileLayout:
    source: str = TECHMAN
    # File header -> canonical column (a `mapped` source only).
    columns: Mapping[str, str] = field(default_factory=dict)
    date_order: DateOrder = DateOrder.DAY_FIRST
    phone_region: str | None = None  # None: the organisation's
    boolean_words: Mapping[str, bool] = field(default_factory=dict)
    format: str = "csv"
    sheet: str | None = None  # XLSX: None is the first sheet

    @property
    def is_mapped(self) -> bool:
        return self.source == MAPPED

    def with_date_order(self, order: DateOrder) -> FileLayout:
        return replace(self, date_order=order)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "columns": dict(self.columns),
            "date_order": str(self.date_order),
            "phone_region": self.phone_region,
            "boolean_words": dict(self.boolean_words),
            "format": self.format,
            "sheet": self.sheet,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> FileLayout:
        data = data or {}
        return cls(
            source=str(data.get("source", TECHMAN)),
            columns=dict(data.get("columns") or {}),
            date_order=DateOrder(data.get("date_order", DateOrder.DAY_FIRST)),
            phone_region=data.get("phone_region"),
            boolean_words={str(k): bool(v) for k, v in (data.get("boolean_words") or {}).items()},
            format=str(data.get("format", "csv")),
            sheet=data.get("sheet"),
        )


def layout_problems(layout: FileLayout) -> list[str]:
    """Everything wrong with a layout, each named by its profile field."""
    problems: list[str] = []
    if layout.is_mapped:
        problems += _mapping_problems(layout.columns)
    elif layout.columns:
        problems.append("columns: only a mapped source maps columns (Techman's are fixed)")
    if not layout.is_mapped and layout.date_order is not DateOrder.DAY_FIRST:
        problems.append("date_order: Techman files are day-first by contract; only day_first")
    region = layout.phone_region
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        problems.append(f"phone_region: a region code such as GB or DE, not {region!r}")
    if len(layout.boolean_words) > MAX_BOOLEAN_WORDS:
        problems.append(f"boolean_words: at most {MAX_BOOLEAN_WORDS} words")
    for word in layout.boolean_words:
        if not word.strip() or word != word.strip().lower() or len(word) > 20:
            problems.append(
                f"boolean_words: {word!r} is not a word (lower case, trimmed, 1 to 20 characters)"
            )
    if layout.sheet is not None and layout.format != "xlsx":
        problems.append("sheet: only an xlsx file has sheets")
    return problems


def _mapping_problems(columns: Mapping[str, str]) -> list[str]:
    problems: list[str] = []
    known = {name.casefold(): name for name in KNOWN_COLUMNS}
    seen_headers: dict[str, str] = {}
    targets: dict[str, str] = {}
    for header, column in columns.items():
        if not header.strip() or len(header) > 200:
            problems.append(f"columns: {header!r} is not a header (1 to 200 characters)")
        if (folded := header.strip().casefold()) in seen_headers:
            problems.append(
                f"columns: {header!r} and {seen_headers[folded]!r} are one header "
                "(headers are matched ignoring case)"
            )
        seen_headers[folded] = header
        if column not in KNOWN_COLUMNS:
            hint = known.get(str(column).casefold())
            problems.append(
                f"columns: {header!r} maps to {column!r}, not a canonical column"
                + (f" (did you mean {hint!r}?)" if hint else "")
            )
        elif column in targets:
            problems.append(
                f"columns: {targets[column]!r} and {header!r} both map to {column}; "
                "map one header to each column"
            )
        else:
            targets[column] = header
    for required in MAPPED_REQUIRED_COLUMNS:
        if required not in targets:
            problems.append(f"columns: no header maps to {required}, which a mapped file needs")
    return problems
