"""Encodings, delimiters and quoted fields, streamed."""

from __future__ import annotations

import codecs
import io

import pytest
from customer_import.reading import TextFormat, UnreadableFile, detect_format, iter_records

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
    import customer_import.reading as reading

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
