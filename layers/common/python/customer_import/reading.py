"""Reading uploaded CSV files as streams: encoding and delimiter detection, records.

Nothing here holds a whole file: Validate looks at the head, Prepare streams the body.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

HEAD_BYTES = 64 * 1024
CHUNK_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t")

csv.field_size_limit(1024 * 1024)


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class UnreadableFile(Exception):
    """The file cannot be read as a CSV at all; the message says why."""


@dataclass(frozen=True)
class TextFormat:
    encoding: str
    delimiter: str


def detect_format(head: bytes) -> TextFormat:
    """Guess encoding and delimiter from the first bytes of a file."""
    if not head.strip(b"\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise UnreadableFile("The file is empty")
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


def _decoded_lines(stream: Readable, encoding: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    pending = ""
    while chunk := stream.read(CHUNK_BYTES):
        pending += decoder.decode(chunk)
        lines = pending.split("\n")
        pending = lines.pop()
        for line in lines:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def iter_records(stream: Readable, fmt: TextFormat) -> Iterator[tuple[int, list[str]]]:
    """Yield (row number, fields) for every record; the header is row 1, as in a spreadsheet.

    Quoted fields may hold delimiters, doubled quotes and newlines. Blank lines are skipped.
    """
    reader = csv.reader(_decoded_lines(stream, fmt.encoding), delimiter=fmt.delimiter)
    row_number = 0
    for record in reader:
        row_number += 1
        if row_number == 1 and record:
            record[0] = record[0].lstrip("\ufeff")
        if not any(field.strip() for field in record):
            continue
        yield row_number, record
