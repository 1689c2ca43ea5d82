"""Reading uploaded CSV files as streams: encoding and delimiter detection, records.

Nothing here holds a whole file: Validate looks at the head, Prepare streams the body.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

HEAD_BYTES = 64 * 1024
CHUNK_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t")
MAX_LINE_CHARS = 2 * 1024 * 1024  # no real row comes near; a file with no line breaks does
# A quoted field may hold line breaks (an address, a note), but no real one holds this many: a
# record that runs on longer is a quote never closed. It also bounds how often a line is read.
MAX_RECORD_LINES = 100

csv.field_size_limit(1024 * 1024)

# Bytes the file's encoding cannot read become U+DC00 + byte (as "surrogateescape" does, for
# every byte value and every codec): a lone surrogate never comes out of a valid decode, so
# such a cell is told apart from one that genuinely holds U+FFFD, and its row can fail saying
# which bytes were wrong instead of storing a replacement character.
UNDECODABLE = "customer_import.undecodable"
_UNDECODABLE_MARK = re.compile("[\udc00-\udcff]")


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "".join(chr(0xDC00 + b) for b in exc.object[exc.start : exc.end]), exc.end


codecs.register_error(UNDECODABLE, _mark_undecodable)


def undecodable_bytes(text: str) -> bytes:
    """The bytes of `text` that its file's encoding could not read (empty when none)."""
    if text.isascii():  # the marks are surrogates; most cells are plain ASCII
        return b""
    return bytes(ord(ch) - 0xDC00 for ch in _UNDECODABLE_MARK.findall(text))


def readable(text: str) -> str:
    """`text` with each byte that could not be read shown as U+FFFD, for logs and messages."""
    if text.isascii():
        return text
    return _UNDECODABLE_MARK.sub("\ufffd", text)


_NON_ASCII = re.compile(rb"[\x80-\xff]")
# CRLF, LF, and a lone CR (Excel for Mac's "CSV (Macintosh)" ends records with CR alone).
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class UnreadableFile(Exception):
    """The file cannot be read as a CSV at all; the message says why."""


@dataclass(frozen=True)
class TextFormat:
    encoding: str
    delimiter: str


def detect_format(head: bytes) -> TextFormat:
    """Guess encoding and delimiter from the first bytes of a file.

    "utf-8" means the head was valid UTF-8, possibly because it was plain ASCII; reading the
    body then falls back to Windows-1252 if the first non-ASCII bytes are not UTF-8 (see
    `Utf8OrCp1252Decoder`).
    """
    if not head.strip(b"\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise UnreadableFile("The file is empty")
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
        raise UnreadableFile(
            "The file is an Excel workbook, not a CSV file: save it as CSV, or import it with "
            'a profile whose format is "xlsx"'
        )
    encoding = _detect_encoding(head)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    if _looks_binary(text):
        raise UnreadableFile("The file is not a text file (it holds binary data)")
    header_line = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = {d: header_line.count(d) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: counts[d]) if any(counts.values()) else ","
    return TextFormat(encoding=encoding, delimiter=delimiter)


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise UnreadableFile("The file is not a text file (it holds binary data)")
    try:
        # final=False: the head may end in the middle of a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252"  # Excel on Windows: £, é and curly quotes in one byte each
    return "utf-8"


def _looks_binary(text: str) -> bool:
    control = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t")
    return control > 8


class Utf8OrCp1252Decoder:
    """An incremental decoder for a file whose head gave no reason to doubt UTF-8.

    Plain ASCII passes through undecided. The first non-ASCII byte sequence decides for the
    rest of the file: valid UTF-8 keeps UTF-8 (a later invalid byte is then genuine damage, and
    is marked as undecodable for its row to fail); invalid UTF-8 means an Excel export in Windows-1252 whose first £ or é
    came after the head, and everything from there on is read as Windows-1252.
    """

    def __init__(self) -> None:
        self._undecided = b""  # the start of a possible multi-byte character, held back
        self._decoder: codecs.IncrementalDecoder | None = None
        self.encoding: str | None = None  # "utf-8" or "cp1252" once decided

    def decode(self, data: bytes, final: bool = False) -> str:
        if self._decoder is not None:
            return self._decoder.decode(data, final)
        data = self._undecided + data
        self._undecided = b""
        first = _NON_ASCII.search(data)
        if first is None:
            return data.decode("ascii")
        start = first.start()
        # A UTF-8 character is at most 4 bytes: the first one is decided within 4 bytes.
        window = data[start : start + 4]
        try:
            text, _ = codecs.utf_8_decode(window, "strict", final)
        except UnicodeDecodeError as exc:
            # Invalid at its first byte: not UTF-8. Invalid later: a real character came first.
            self.encoding = "utf-8" if exc.start > 0 else "cp1252"
        else:
            if not text:  # the data ends inside a possible character: wait for more
                self._undecided = data[start:]
                return data[:start].decode("ascii")
            self.encoding = "utf-8"
        self._decoder = codecs.getincrementaldecoder(self.encoding)(errors=UNDECODABLE)
        return self._decoder.decode(data, final)


def _decoder(encoding: str) -> Utf8OrCp1252Decoder | codecs.IncrementalDecoder:
    if codecs.lookup(encoding).name == "utf-8":
        return Utf8OrCp1252Decoder()
    return codecs.getincrementaldecoder(encoding)(errors=UNDECODABLE)


class _LineTooLong(Exception):
    pass


def _decoded_lines(stream: Readable, encoding: str) -> Iterator[str]:
    """Lines with their line breaks, decoded chunk by chunk.

    In hand at any time: one chunk, and the start of the line it ends in (at most
    `MAX_LINE_CHARS`: a file that never breaks its lines is not read whole).
    """
    decoder = _decoder(encoding)
    pending: list[str] = []  # the start of a line whose end is still to come
    pending_chars = 0
    while chunk := stream.read(CHUNK_BYTES):
        text = decoder.decode(chunk)
        if "\n" not in text and "\r" not in text:
            pending.append(text)
            pending_chars += len(text)
            if pending_chars > MAX_LINE_CHARS:
                raise _LineTooLong
            continue
        text = "".join(pending) + text
        # A CR at the end of a chunk may be the first half of a CRLF: keep it for the next.
        carry = "\r" if text.endswith("\r") else ""
        if carry:
            text = text[:-1]
        if text.count("\r") == text.count("\r\n"):  # CRLF or LF: the quick way
            lines = text.split("\n")
            rest = lines.pop() + carry
            for line in lines:
                yield line + "\n"
        else:
            parts = _LINE_BREAK.split(text)
            rest = parts.pop() + carry
            for i in range(0, len(parts), 2):
                yield parts[i] + parts[i + 1]
        pending, pending_chars = [rest], len(rest)
    last = "".join(pending) + decoder.decode(b"", final=True)
    if last:
        yield last


class UnreadableRecord(list[str]):
    """The fields of a row that could not be read as CSV, and why: iterating the records
    yields it in the row's place, and reading goes on with the next row."""

    def __init__(self, fields: list[str], reason: str) -> None:
        super().__init__(fields)
        self.reason = reason


class _RecordLines:
    """The lines csv reads, keeping those of the record being read: when an unclosed quote ran
    a record on over the rows after it, they are read again, as rows of their own."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._again: deque[str] = deque()
        self.record: list[str] = []

    def __iter__(self) -> _RecordLines:
        return self

    def __next__(self) -> str:
        if len(self.record) >= MAX_RECORD_LINES:
            raise StopIteration  # csv ends the record here; the next record reads on
        line = self._again.popleft() if self._again else next(self._lines)
        self.record.append(line)
        return line

    def next_record(self) -> None:
        self.record = []

    def read_again(self, lines: list[str]) -> None:
        self._again.extendleft(reversed(lines))


def iter_records(stream: Readable, fmt: TextFormat) -> Iterator[tuple[int, list[str]]]:
    """Yield (row number, fields) for every record; the header is row 1, as in a spreadsheet.

    Quoted fields may hold delimiters, doubled quotes and newlines. Blank lines (and lines of
    only delimiters) are skipped. A row that cannot be read is yielded as an
    `UnreadableRecord` saying why: a quote never closed fails its own row alone (the rows it
    ran on are read again as rows of their own), and so does a field over csv's limit. Raises
    `UnreadableFile` when the file has no line breaks at all.
    """
    lines = _RecordLines(_decoded_lines(stream, fmt.encoding))
    reader = csv.reader(lines, delimiter=fmt.delimiter)
    row_number = 0
    width: int | None = None  # the header's
    try:
        while True:
            lines.next_record()
            try:
                record: list[str] = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                record = UnreadableRecord(_fields_of(lines.record[0], fmt), _csv_problem(exc))
            row_number += 1
            spanned = lines.record
            if not isinstance(record, UnreadableRecord) and (
                len(spanned) > 1 and width is not None and len(record) != width
            ):
                record = UnreadableRecord(
                    _fields_of(spanned[0], fmt),
                    f"Unclosed quote starting on row {row_number}: its field ran on over the "
                    f"next {len(spanned) - 1} lines, which are read as rows of their own",
                )
            if isinstance(record, UnreadableRecord):
                lines.read_again(spanned[1:])
            if row_number == 1 and record:
                record[0] = record[0].lstrip("\ufeff")
                width = len(record)
            if not any(field.strip() for field in record) and not isinstance(
                record, UnreadableRecord
            ):
                continue
            yield row_number, record
    except _LineTooLong:
        raise UnreadableFile(
            f"Row {row_number + 1} runs over {MAX_LINE_CHARS // 1_048_576} MB without a line "
            "break: this does not look like a CSV export"
        ) from None


def _fields_of(line: str, fmt: TextFormat) -> list[str]:
    """A line's own fields, read without the lines after it (its original values)."""
    try:
        return next(csv.reader(io.StringIO(line), delimiter=fmt.delimiter), [])
    except csv.Error:
        return [line.rstrip("\r\n")]


def _csv_problem(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return (
            f"The row has a field longer than {csv.field_size_limit() // 1024} KB: "
            "probably a quote that is never closed"
        )
    return f"The row cannot be read as CSV: {exc}"
