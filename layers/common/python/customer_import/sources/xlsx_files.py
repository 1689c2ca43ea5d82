"""Reading uploaded XLSX workbooks as streams of records: the twin of `csv_files`.

`iter_sheet_records` keeps `csv_files.iter_records`' contract (spreadsheet row numbers, blank
rows skipped, header first), so the sources read a workbook as they read a CSV. openpyxl reads
in read-only mode, one row at a time, and with cached values only: formulas are never evaluated.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.cell.read_only import ReadOnlyCell

from .csv_files import CHUNK_BYTES, HEAD_BYTES, Readable, UnreadableFile

ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")  # the compound file of .xls and encryption
# Office encrypts an .xlsx into a compound file holding this stream next to the package.
ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
SPOOL_BYTES = 8 * 1024 * 1024  # a seekable copy stays in memory up to this size
# read_only streams the sheets but loads the shared strings whole: a bound on their XML keeps
# a small upload that inflates to gigabytes (a zip bomb) from exhausting memory.
MAX_SHARED_STRINGS_BYTES = 128 * 1024 * 1024
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
# Excel's last row. A row number past it comes from a crafted file, and openpyxl would count up
# to it one empty row at a time: reading stops there.
EXCEL_MAX_ROWS = 1_048_576

ENCRYPTED_WORKBOOK = "The workbook is password-protected: save it again without a password"
MACROS = (
    "The workbook holds macros (.xlsm); save it as a plain .xlsx workbook: "
    "macros are never run nor kept"
)
# Errors openpyxl lets through from a damaged package or sheet.
_DAMAGED = (KeyError, IndexError, ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)
_ZERO_PADDED = re.compile(r"0+")
# Quoted text, [colours]/[$-locales] and escaped characters in a number format show no time.
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_TIME_CODES = re.compile(r"[hs]|am/pm|a/p", re.IGNORECASE)


def check_workbook_head(head: bytes) -> None:
    """Raise `UnreadableFile` unless the first bytes of a file can start an XLSX workbook."""
    if not head:
        raise UnreadableFile("The file is empty")
    if head.startswith(OLE_SIGNATURE):
        if ENCRYPTION_INFO in head:
            raise UnreadableFile(ENCRYPTED_WORKBOOK)
        raise UnreadableFile("The file is an Excel 97-2003 .xls workbook: save it as .xlsx")
    if not head.startswith(ZIP_SIGNATURE):
        hint = "" if b"\x00" in head[:4096] else " (it looks like text: is it a CSV file?)"
        raise UnreadableFile(f"The file is not an XLSX workbook{hint}")


def seekable(stream: Readable, limit_bytes: int) -> IO[bytes]:
    """A seekable copy of `stream` (an S3 body does not seek; a ZIP is read from its end),
    in memory while small, on disk beyond. The caller closes it."""
    copy: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    size = 0
    while chunk := stream.read(CHUNK_BYTES):
        size += len(chunk)
        if size > limit_bytes:
            copy.close()
            raise UnreadableFile(f"The file is over {limit_bytes:,} bytes, the limit")
        copy.write(chunk)
    copy.seek(0)
    return copy


class Workbook:
    """An open workbook: close it (or use `with`), as read-only mode keeps its archive open."""

    def __init__(self, book: Any) -> None:
        self._book = book

    @property
    def sheet_names(self) -> list[str]:
        return [str(sheet.title) for sheet in self._book.worksheets]

    def records(self, sheet: str | None = None) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) for every non-blank row of `sheet` (default: the first), the
        first one being the header; each row holds at least the header's number of cells."""
        worksheet = self._worksheet(sheet)
        # The size a sheet states may be wrong (other tools write it): read every cell there is.
        worksheet.reset_dimensions()
        width = last = 0
        try:
            for cells in worksheet.iter_rows(max_row=EXCEL_MAX_ROWS):
                values = [_cell_text(cell) for cell in cells]
                while values and not values[-1].strip():
                    values.pop()  # formatting leaves empty cells at the end of rows
                if not values:
                    continue
                last = next(int(c.row) for c in cells if isinstance(c, ReadOnlyCell))
                width = width or len(values)  # the header's
                values.extend([""] * (width - len(values)))
                yield last, values
        except (*_DAMAGED, ParseError) as exc:
            raise UnreadableFile(
                f"The workbook is damaged after row {last}: {type(exc).__name__}: {exc}"
            ) from exc

    def _worksheet(self, sheet: str | None) -> Any:
        worksheets = list(self._book.worksheets)
        if not worksheets:
            raise UnreadableFile("The workbook has no sheets")
        if sheet is None:
            return worksheets[0]
        by_title = {str(worksheet.title): worksheet for worksheet in worksheets}
        if sheet in by_title:
            return by_title[sheet]
        # Excel's sheet names are unique ignoring case, so this finds one sheet at most.
        folded = {title.strip().casefold(): ws for title, ws in by_title.items()}
        if (found := folded.get(sheet.strip().casefold())) is not None:
            return found
        names = ", ".join(repr(name) for name in self.sheet_names)
        raise UnreadableFile(f"The workbook has no sheet named {sheet!r}; its sheets: {names}")

    def close(self) -> None:
        self._book.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_workbook(stream: IO[bytes]) -> Workbook:
    """Open a seekable XLSX stream, refusing what is not a plain workbook (`UnreadableFile`)."""
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    # The compound file's directory may lie anywhere in it: look through the whole file.
    if head.startswith(OLE_SIGNATURE) and _holds(stream, ENCRYPTION_INFO):
        raise UnreadableFile(ENCRYPTED_WORKBOOK)
    check_workbook_head(head)
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            _check_package(archive)
    except _DAMAGED as exc:
        raise UnreadableFile(f"The workbook is damaged: {exc}") from exc
    stream.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "unsupported extension" and the like
            book = load_workbook(stream, read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # openpyxl raises anything at all for a damaged workbook
        raise UnreadableFile(f"The workbook cannot be read: {type(exc).__name__}: {exc}") from exc
    return Workbook(book)


def iter_sheet_records(
    stream: IO[bytes], sheet: str | None = None
) -> Iterator[tuple[int, list[str]]]:
    """`csv_files.iter_records` for a workbook's sheet (default: the first), opened and closed
    here. One stream may be read by several of these at once (the rows in two passes)."""
    with open_workbook(stream) as workbook:
        yield from workbook.records(sheet)


def _holds(stream: IO[bytes], needle: bytes) -> bool:
    stream.seek(0)
    tail = b""
    while chunk := stream.read(CHUNK_BYTES):
        if needle in tail + chunk:
            return True
        tail = chunk[-(len(needle) - 1) :]
    return False


def _check_package(archive: zipfile.ZipFile) -> None:
    names = {name.lower() for name in archive.namelist()}
    types = b""
    if "[content_types].xml" in names:
        with archive.open("[Content_Types].xml") as part:
            types = part.read(MAX_CONTENT_TYPES_BYTES).lower()
    # An .xlsb's content type says macroEnabled whether or not it holds any: ask this first.
    if "xl/workbook.bin" in names or b"sheet.binary." in types:
        raise UnreadableFile("The file is an Excel binary .xlsb workbook: save it as .xlsx")
    if any(name.endswith("vbaproject.bin") for name in names) or b"macroenabled" in types:
        raise UnreadableFile(MACROS)
    if b"spreadsheetml.sheet.main+xml" not in types and b"spreadsheetml.template.main" not in types:
        raise UnreadableFile("The file is a ZIP archive but not an Excel workbook")
    # A part's stated size is a true bound: zipfile reads no further than it.
    parts = archive.infolist()
    text = sum(p.file_size for p in parts if p.filename.lower().endswith("sharedstrings.xml"))
    if text > MAX_SHARED_STRINGS_BYTES:
        raise UnreadableFile(
            f"The workbook's text takes {text:,} bytes unpacked; the limit is "
            f"{MAX_SHARED_STRINGS_BYTES:,}: split it into smaller workbooks"
        )


def _cell_text(cell: Any) -> str:
    value = cell.value
    if value is None or isinstance(value, str):
        return value or ""
    return cell_text(value, str(cell.number_format))  # a style lookup: only when it matters


def cell_text(value: object, number_format: str = "General") -> str:
    """A cell's value as text, as the cell holds it (never a date's serial number)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps every number as a float: 7700900123, not ...123.0
    if isinstance(value, int):
        if _ZERO_PADDED.fullmatch(number_format):
            # A customer number or postcode typed as a number, shown with its leading zeros.
            return f"{value:0{len(number_format) + (value < 0)}d}"
        return str(value)
    if isinstance(value, float):
        return f"{value:.15g}"  # Excel's 15 digits: 0.1 + 0.2 reads 0.3, as the cell shows
    if isinstance(value, dt.datetime):
        if value.time() == dt.time() and not _shows_time(number_format):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # an elapsed-time format such as [h]:mm:ss
        minutes, seconds = divmod(round(abs(value.total_seconds())), 60)
        sign = "-" if value < dt.timedelta() else ""
        return f"{sign}{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"
    return str(value)


def _shows_time(number_format: str) -> bool:
    return bool(_TIME_CODES.search(_FORMAT_LITERALS.sub("", number_format)))
