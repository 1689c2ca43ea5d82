"""A job's file as records, whatever its format: the one place that tells CSV from XLSX."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import TracebackType
from typing import IO

from .csv_files import (
    HEAD_BYTES,
    Readable,
    TextFormat,
    UnreadableFile,
    UnreadableRecord,
    detect_format,
    iter_records,
    readable,
)
from .layout import FileLayout
from .xlsx_files import check_workbook_head, iter_sheet_records, seekable


class SourceFile:
    """The records of one file, read as often as a step needs (Prepare reads twice): a CSV in
    its text format (None for a workbook, which has none). A workbook is copied once, as a ZIP is read from its end and an S3 body does not seek.
    Close it (or use `with`)."""

    def __init__(
        self,
        open_stream: Callable[[], Readable],
        layout: FileLayout,
        text_format: TextFormat | None,
        limit_bytes: int,
    ) -> None:
        self._open = open_stream
        self.layout = layout
        self._format = text_format
        self._limit = limit_bytes
        self._copy: IO[bytes] | None = None

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, fields) of every non-blank row, the header first (`iter_records`)."""
        if self.layout.format != "xlsx":
            assert self._format is not None, "a CSV file is read in the format Validate found"
            return iter_records(self._open(), self._format)
        if self._copy is None:
            self._copy = seekable(self._open(), self._limit)
        return iter_sheet_records(self._copy, self.layout.sheet)

    def close(self) -> None:
        if self._copy is not None:
            self._copy.close()
            self._copy = None

    def __enter__(self) -> SourceFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def header_of(stream: IO[bytes], is_workbook: bool, sheet: str | None = None) -> list[str]:
    """The header row of a seekable CSV or XLSX file (for a mapping to be suggested)."""
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    if is_workbook:
        check_workbook_head(head)
        records = iter_sheet_records(stream, sheet)
    else:
        records = iter_records(stream, detect_format(head))
    first = next(records, None)
    if first is None:
        raise UnreadableFile("The file has no header row")
    if isinstance(first[1], UnreadableRecord):
        raise UnreadableFile(f"The header row cannot be read: {first[1].reason}")
    return [readable(name) for name in first[1]]
