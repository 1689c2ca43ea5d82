"""Encodings, delimiters and quoted fields, streamed."""

from __future__ import annotations

import codecs
import csv
import io

import customer_import.sources.csv_files as reading
import pytest
from customer_import.sources.csv_files import (
    CHUNK_BYTES,
    DELIMITERS,
    HEAD_BYTES,
    TextFormat,
    UnreadableFile,
    UnreadableRecord,
    Utf8OrCp1252Decoder,
    detect_format,
    iter_records,
    readable,
    undecodable_bytes,
)
from hypothesis import assume, given
from hypothesis import strategies as st

TEXT = 'Name;Town\r\n"Café £5; “quoted”";Leeds\r\n"two\r\nlines";York\r\n'


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
        (TEXT.encode("cp1252"), "cp1252"),
    ],
)
def test_encodings_are_detected_and_read_back_exactly(data: bytes, encoding: str) -> None:
    # Given the same text in one of the encodings UK exports come in
    fmt = detect_format(data[:64])
    # Then encoding and delimiter are found and every field reads back as written
    assert fmt == TextFormat(encoding, ";")
    records = list(iter_records(io.BytesIO(data), fmt))
    assert records == [
        (1, ["Name", "Town"]),
        (2, ["Café £5; “quoted”", "Leeds"]),
        (3, ["two\r\nlines", "York"]),
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters(delimiter: str) -> None:
    assert (
        detect_format(f"a{delimiter}b{delimiter}c\r\n1{delimiter}2{delimiter}3".encode()).delimiter
        == delimiter
    )


def test_reading_in_small_chunks_gives_the_same_records(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given chunks so small that multi-byte characters and quoted newlines straddle them
    monkeypatch.setattr(reading, "CHUNK_BYTES", 3)
    data = TEXT.encode("utf-8")
    # Then the records are the same as with one big read
    assert (
        list(iter_records(io.BytesIO(data), TextFormat("utf-8", ";")))[1][1][0]
        == "Café £5; “quoted”"
    )


@pytest.mark.parametrize(
    ("head", "reason"),
    [(b"", "The file is empty"), (b"\x00\x01\x02PK\x03\x04" * 10, "not a text file")],
)
def test_unreadable_files(head: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFile, match=reason):
        detect_format(head)


# ---- Windows-1252 after a plain-ASCII head ----------------------------------------------------

PLAIN = "Name,Town\r\n" + "Ann Lee,Leeds\r\n" * 5000  # ~75 KB of ASCII: more than the head


def test_windows_1252_after_an_ascii_head_is_read_as_windows_1252() -> None:
    # Given an Excel export in Windows-1252 whose first £ and é come after the 64 KiB head
    data = (PLAIN + "Renée “Bee” O\u2019Neill,£5 Town\r\n").encode("cp1252")
    assert data.index(b"\xe9") > HEAD_BYTES
    # When its head is detected (UTF-8, as far as the head can tell) and the file is read
    fmt = detect_format(data[:HEAD_BYTES])
    records = list(iter_records(io.BytesIO(data), fmt))
    # Then nothing is lost: the late characters read as Windows-1252, not as U+FFFD
    assert fmt.encoding == "utf-8"
    assert records[-1] == (5002, ["Renée “Bee” O\u2019Neill", "£5 Town"])
    assert len(records) == 5002


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 4096])
def test_the_switch_to_windows_1252_does_not_depend_on_chunk_boundaries(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # Given chunks of any size, so that the first non-ASCII byte may come in any position
    monkeypatch.setattr(reading, "CHUNK_BYTES", chunk)
    data = "a,b\r\nx,£1\r\ny,é\r\n".encode("cp1252")
    # When read as a UTF-8 file (plain ASCII head)
    records = list(iter_records(io.BytesIO(data), TextFormat("utf-8", ",")))
    # Then every chunking gives the same records
    assert records == [(1, ["a", "b"]), (2, ["x", "£1"]), (3, ["y", "é"])]


def test_real_utf8_followed_by_a_broken_byte_stays_utf8_and_marks_the_byte() -> None:
    # Given a UTF-8 file with a real multi-byte character in its head, then, after the head,
    # one stray Windows-1252 byte
    data = ("Name,Town\r\nRenée,Leeds\r\n" + PLAIN[11:]).encode() + b"Bob,\xa35 Town\r\n"
    data += "Zoë,York\r\n".encode()
    assert data.index(b"\xa3") > HEAD_BYTES
    # When read
    records = list(iter_records(io.BytesIO(data), detect_format(data[:HEAD_BYTES])))
    # Then UTF-8 is kept (the file is genuinely broken) and the stray byte is marked as one
    # that could not be read, not silently replaced: its row can fail saying which byte it was
    assert records[1] == (2, ["Renée", "Leeds"])
    assert records[-2:] == [(5003, ["Bob", "\udca35 Town"]), (5004, ["Zoë", "York"])]
    assert undecodable_bytes(records[-2][1][1]) == b"\xa3"
    assert readable(records[-2][1][1]) == "\ufffd5 Town"
    assert undecodable_bytes("Zoë \ufffd") == b""  # a genuine U+FFFD is text


def test_utf8_after_an_ascii_head_stays_utf8() -> None:
    # Given a UTF-8 file whose first é comes after the head
    data = (PLAIN + "Renée,Leeds\r\n").encode("utf-8")
    # When read, Then the é is UTF-8's
    assert list(iter_records(io.BytesIO(data), detect_format(data[:HEAD_BYTES])))[-1][1] == [
        "Renée",
        "Leeds",
    ]


@pytest.mark.parametrize(
    ("pieces", "text", "encoding"),
    [
        ([b"ab", b"\xc3", b"\xa9", b"\xa3"], "abé\udca3", "utf-8"),  # é split, then damage
        ([b"ab", b"\xe2\x80", b"\x9c"], "ab“", "utf-8"),  # a 3-byte character in two reads
        ([b"ab", b"\xe9", b"e"], "abée", "cp1252"),  # é then ASCII: not UTF-8
        ([b"ab\xa3"], "ab£", "cp1252"),  # a continuation byte cannot start a character
        ([b"ab\xc3"], "abÃ", "cp1252"),  # the file ends inside a would-be character
        ([b"plain", b" ascii"], "plain ascii", None),  # undecided, and that is fine
    ],
)
def test_the_utf8_or_windows_1252_decoder(
    pieces: list[bytes], text: str, encoding: str | None
) -> None:
    decoder = Utf8OrCp1252Decoder()
    decoded = "".join(decoder.decode(piece) for piece in pieces) + decoder.decode(b"", True)
    assert (decoded, decoder.encoding) == (text, encoding)


# ---- line endings and streaming -------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 2, 5, CHUNK_BYTES])
def test_lone_cr_line_endings_are_read_as_records(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # Given Excel for Mac's CR-only line endings, with a CR inside a quoted field too
    monkeypatch.setattr(reading, "CHUNK_BYTES", chunk)
    data = b'Name,Town\rAnn,Leeds\r"Bob\rHall",York\r'
    # When read, Then each CR ends a record, except the quoted one
    assert [r for _, r in iter_records(io.BytesIO(data), TextFormat("utf-8", ","))] == [
        ["Name", "Town"],
        ["Ann", "Leeds"],
        ["Bob\rHall", "York"],
    ]


def test_crlf_split_across_chunks_is_one_line_break(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a CRLF whose CR ends one chunk and whose LF starts the next
    monkeypatch.setattr(reading, "CHUNK_BYTES", 4)
    data = b"a,b\r\nc,d\r\n"
    # Then no blank record and no stray CR appear
    assert list(iter_records(io.BytesIO(data), TextFormat("utf-8", ","))) == [
        (1, ["a", "b"]),
        (2, ["c", "d"]),
    ]


class CountingStream:
    """A stream that remembers how much was read from it."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)
        self.bytes_read = 0

    def read(self, size: int = -1, /) -> bytes:
        assert size > 0, "a whole-file read"
        chunk = self._stream.read(size)
        self.bytes_read += len(chunk)
        return chunk


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_records_are_streamed_never_the_whole_file(encoding: str) -> None:
    # Given a file several chunks long
    data = ("Name,Town\r\n" + "Ann Lee,Leeds\r\n" * (3 * CHUNK_BYTES // 10)).encode(encoding)
    stream = CountingStream(data)
    # When the first records are taken
    records = iter_records(stream, TextFormat(encoding, ","))
    assert next(records) == (1, ["Name", "Town"])
    assert next(records) == (2, ["Ann Lee", "Leeds"])
    # Then only the first chunk has been read, in bounded reads
    assert stream.bytes_read == CHUNK_BYTES < len(data)
    # And reading on gives every record
    assert sum(1 for _ in records) == 3 * CHUNK_BYTES // 10 - 1


def test_an_unclosed_quote_fails_its_own_row_and_the_rows_after_it_are_read() -> None:
    # Given a file whose row 4 opens a quote that nothing closes, then 47 good rows
    good = [f"{n},Town{n},x" for n in range(5, 52)]
    data = 'Name,Town,Notes\r\nAnn,Leeds,x\r\nBob,York,x\r\nCat,"Hull,x\r\n' + "\r\n".join(good)
    # When read
    records = list(iter_records(io.BytesIO(data.encode()), TextFormat("utf-8", ",")))
    # Then row 4 alone is unreadable, saying so, with its own fields as they were
    [broken] = [values for _, values in records if isinstance(values, UnreadableRecord)]
    assert broken.reason.startswith("Unclosed quote starting on row 4:")
    assert list(broken) == ["Cat", "Hull,x\r\n"]
    # And every row after it is read as the row it is, numbered as in a spreadsheet
    assert [n for n, _ in records] == list(range(1, 52))
    assert records[-1] == (51, ["51", "Town51", "x"])


def test_a_quote_never_closed_over_a_long_file_fails_its_row_alone() -> None:
    # Given a file where row 3 opens a quote that nothing closes, over more than 1 MB
    data = b'Name,Town\r\nAnn,Leeds\r\n"Bob,York\r\n' + b"Cat,Hull\r\n" * 120_000
    # When read
    records = iter_records(io.BytesIO(data), TextFormat("utf-8", ","))
    # Then row 3 is unreadable, saying why, after at most MAX_RECORD_LINES lines
    assert [next(records), next(records)] == [(1, ["Name", "Town"]), (2, ["Ann", "Leeds"])]
    number, broken = next(records)
    assert (number, type(broken)) == (3, UnreadableRecord)
    assert broken.reason.startswith("Unclosed quote starting on row 3:")
    # And the rows after it are read, each once
    assert sum(1 for _ in records) == 120_000


def test_a_field_over_the_csv_limit_fails_its_row_alone() -> None:
    # Given row 3 holding a quoted field of more than 1 MB on one line
    data = b'Name,Town\r\nAnn,Leeds\r\n"' + b"x" * 1_100_000 + b'",York\r\nCat,Hull\r\n'
    # When read
    records = list(iter_records(io.BytesIO(data), TextFormat("utf-8", ",")))
    # Then row 3 is unreadable, naming the limit, and row 4 is read
    number, broken = records[2]
    assert (number, type(broken)) == (3, UnreadableRecord)
    assert "longer than 1024 KB" in broken.reason
    assert records[3] == (4, ["Cat", "Hull"])


def test_a_quoted_field_with_line_breaks_and_the_right_fields_is_one_row() -> None:
    # Given a quoted address over three lines in a row with the header's fields
    data = b'Name,Address,Town\r\nAnn,"1 High St\r\nFlat 2\r\nBack door",Leeds\r\nBob,x,York\r\n'
    # When read, Then it is one row, and the next row keeps its number
    assert list(iter_records(io.BytesIO(data), TextFormat("utf-8", ","))) == [
        (1, ["Name", "Address", "Town"]),
        (2, ["Ann", "1 High St\r\nFlat 2\r\nBack door", "Leeds"]),
        (3, ["Bob", "x", "York"]),
    ]


def test_rows_of_only_delimiters_are_blank() -> None:
    data = b"Name,Town\r\n" + b",\r\n" * 1000 + b" , \r\n"
    assert list(iter_records(io.BytesIO(data), TextFormat("utf-8", ","))) == [(1, ["Name", "Town"])]


# ---- round trip ---------------------------------------------------------------------------------

cells = st.text(alphabet=st.sampled_from(list("ab Z09,;\t\"'\r\n£é\u2019“”")), max_size=8)


@given(
    rows=st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=6),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
    newline=st.sampled_from(["\r\n", "\n", "\r"]),
    delimiter=st.sampled_from(DELIMITERS),
    quote_all=st.booleans(),
    chunk=st.integers(min_value=1, max_value=64),
)
def test_what_csv_writes_reads_back_in_any_encoding_line_ending_and_chunking(
    rows: list[list[str]],
    encoding: str,
    newline: str,
    delimiter: str,
    quote_all: bool,
    chunk: int,
) -> None:
    # Given rows written by a CSV writer (quoting newlines whatever the line ending when asked to)
    if not quote_all:
        assume(not any("\r" in c or "\n" in c for row in rows for c in row))
    out = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    csv.writer(out, delimiter=delimiter, lineterminator=newline, quoting=quoting).writerows(
        [["h1", "h2", "h3"], *rows]
    )
    data = out.getvalue().encode(encoding)
    if encoding == "cp1252":  # read as a file whose head was plain ASCII: found out later
        first = next((c for c in out.getvalue() if ord(c) > 127), None)
        assume(first != "é")  # é then two punctuation bytes can be valid UTF-8 by chance
        encoding = "utf-8"
    # When read back in chunks of any size
    original = reading.CHUNK_BYTES
    reading.CHUNK_BYTES = chunk
    try:
        records = [r for _, r in iter_records(io.BytesIO(data), TextFormat(encoding, delimiter))]
    finally:
        reading.CHUNK_BYTES = original
    # Then every non-blank row comes back exactly
    assert records == [["h1", "h2", "h3"]] + [r for r in rows if any(c.strip() for c in r)]


def test_a_file_without_line_breaks_is_not_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a long file with no line break at all after its header
    monkeypatch.setattr(reading, "MAX_LINE_CHARS", 1000)
    monkeypatch.setattr(reading, "CHUNK_BYTES", 100)
    stream = CountingStream(b"Name,Town\r\n" + b"x," * 100_000)
    # When read, Then reading stops once the line is too long to be a row, saying so
    with pytest.raises(UnreadableFile, match=r"^Row 2 runs over \d+ MB without a line break"):
        list(iter_records(stream, TextFormat("utf-8", ",")))
    assert stream.bytes_read < 2000
