"""XLSX workbooks read as records, with the contract of the CSV reader."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from collections.abc import Callable
from typing import IO, Any

import openpyxl
import pytest
from customer_import.sources.csv_files import UnreadableFile
from customer_import.sources.techman import TechmanRows, check_header
from customer_import.sources.xlsx_files import (
    ENCRYPTED_WORKBOOK,
    MACROS,
    MAX_SHARED_STRINGS_BYTES,
    OLE_SIGNATURE,
    SPOOL_BYTES,
    cell_text,
    check_workbook_head,
    iter_sheet_records,
    open_workbook,
    seekable,
)

from tests.unit.techman_files import HEADER, row


def xlsx(sheets: dict[str, list[list[Any]]], formats: dict[str, str] | None = None) -> io.BytesIO:
    """A workbook written by openpyxl; `formats` sets number formats in the first sheet."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for values in rows:
            sheet.append(values)  # an empty list leaves its row empty
    for coordinate, number_format in (formats or {}).items():
        book.worksheets[0][coordinate].number_format = number_format
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def rewritten(workbook: io.BytesIO, change: Callable[[str, bytes], bytes | None]) -> io.BytesIO:
    """The workbook's package with each part passed through `change` (None drops it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(workbook) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = change(name, source.read(name))
            if data is not None:
                target.writestr(name, data)
    out.seek(0)
    return out


def records(stream: IO[bytes], sheet: str | None = None) -> list[tuple[int, list[str]]]:
    return list(iter_sheet_records(stream, sheet))


def test_cells_read_as_the_cell_holds_them() -> None:
    # Given one row of every kind of cell Excel keeps
    kinds = {
        "date": dt.date(2021, 3, 4),
        "datetime": dt.datetime(2021, 3, 4, 10, 30),
        "midnight": dt.datetime(2021, 3, 4),
        "day_first_date": dt.datetime(2021, 3, 4),
        "zero_data": 123,
        "text_zeros": "00123",
        "float": 3.14,
        "sum": 0.1 + 0.2,
        "phone": 7700900123,
        "phone_float": 7700900123.0,
        "yes": True,
        "no": False,
        "formula": "=1+1",
        "error": "#N/A",
        "empty": None,
        "last": "x",
    }
    stream = xlsx(
        {"Sheet": [list(kinds), list(kinds.values())]}, {"D2": "dd/mm/yyyy", "E2": "00000"}
    )
    # When read
    [(_, header), (number, values)] = records(stream)
    # Then each cell reads as text the import understands, never as a serial number
    assert number == 2
    assert dict(zip(header, values, strict=True)) == {
        "date": "2021-03-04",
        "datetime": "2021-03-04T10:30:00",
        "midnight": "2021-03-04T00:00:00",  # its format shows a time: so does its text
        "day_first_date": "2021-03-04",
        "zero_data": "00123",
        "text_zeros": "00123",
        "float": "3.14",
        "sum": "0.3",
        "phone": "7700900123",
        "phone_float": "7700900123",
        "yes": "true",
        "no": "false",
        "formula": "",  # openpyxl writes no cached value, and formulas are never evaluated
        "error": "#N/A",
        "empty": "",
        "last": "x",
    }


@pytest.mark.parametrize(
    ("value", "number_format", "text"),
    [
        (-42, "00000", "-00042"),
        (123456, "000", "123456"),
        (12.5, "00000", "12.5"),  # not a whole number: its digits are kept
        (1e-05, "General", "1e-05"),
        (dt.time(10, 30), "h:mm", "10:30:00"),
        (dt.timedelta(hours=26, minutes=5), "[h]:mm:ss", "26:05:00"),
        (dt.datetime(2021, 3, 4), '"at" h:mm', "2021-03-04T00:00:00"),
        (dt.datetime(2021, 3, 4), '[$-409]d "hours" mmm', "2021-03-04"),
        (dt.datetime(2021, 3, 4, 0, 0, 5), "dd/mm/yyyy", "2021-03-04T00:00:05"),
    ],
)
def test_cell_text_keeps_what_the_cell_holds(value: object, number_format: str, text: str) -> None:
    # Given a value and its number format / When turned into text / Then nothing is lost
    assert cell_text(value, number_format) == text


def test_blank_rows_are_skipped_and_rows_keep_their_spreadsheet_numbers() -> None:
    # Given two empty rows before the header and blank rows between the data rows
    stream = xlsx({"Sheet": [[], [], ["A", "B"], ["1", "2"], [], [None, ""], ["3", "4"]]})
    # When read
    # Then the header keeps its real number, and so does every row after a gap
    assert records(stream) == [(3, ["A", "B"]), (4, ["1", "2"]), (7, ["3", "4"])]


def test_rows_take_the_header_width_and_keep_cells_beyond_it() -> None:
    # Given rows shorter than the header, with empty cells at the end, and with a value past it
    stream = xlsx(
        {"Sheet": [["A", "B", "C", None], ["1"], ["1", "2", "3", "", "  "], ["1", None, "", "x"]]}
    )
    # When read
    # Then short rows are data, empty trailing cells dropped, and the extra value kept
    assert records(stream) == [
        (1, ["A", "B", "C"]),
        (2, ["1", "", ""]),
        (3, ["1", "2", "3"]),
        (4, ["1", "", "", "x"]),
    ]


def test_a_wrong_stated_sheet_size_does_not_hide_cells() -> None:
    # Given a sheet whose <dimension> claims it is the single cell A1
    def shrink(name: str, data: bytes) -> bytes:
        return data.replace(b'<dimension ref="A1:B3"/>', b'<dimension ref="A1"/>')

    stream = rewritten(xlsx({"Sheet": [["A", "B"], ["1", "2"], ["3", "4"]]}), shrink)
    # When read / Then every row and column is there
    assert records(stream) == [(1, ["A", "B"]), (2, ["1", "2"]), (3, ["3", "4"])]


def test_a_sheet_is_chosen_by_name_ignoring_case() -> None:
    # Given a workbook whose customers are on its second sheet
    stream = xlsx({"Notes": [["read me"]], "Customers": [["Name"], ["Ann"]]})
    # When the first sheet and the named one are read
    # Then the default is the first sheet, and a name finds its sheet in any case
    assert records(stream) == [(1, ["read me"])]
    assert records(stream, "Customers") == [(1, ["Name"]), (2, ["Ann"])]
    assert records(stream, " customers") == [(1, ["Name"]), (2, ["Ann"])]


def test_an_unknown_sheet_is_refused_naming_the_sheets_there_are() -> None:
    # Given a workbook with two sheets, one with a quote in its name
    stream = xlsx({"Customers": [["Name"]], "Bob's": [["x"]]})
    # When a sheet it does not have is asked for
    with pytest.raises(UnreadableFile) as raised:
        records(stream, "Sheet1")
    # Then the message names the sheets it has
    assert str(raised.value) == (
        "The workbook has no sheet named 'Sheet1'; its sheets: 'Customers', \"Bob's\""
    )


def test_a_workbook_with_macros_is_refused() -> None:
    # Given a plain workbook given a VBA project, and one whose content type says macroEnabled
    plain = xlsx({"Sheet": [["A"]]})
    with_vba = io.BytesIO(plain.getvalue())
    with zipfile.ZipFile(with_vba, "a") as package:
        package.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 not run")

    def macro_type(name: str, data: bytes) -> bytes:
        return data.replace(
            b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
        )

    for stream in (with_vba, rewritten(plain, macro_type)):
        # When opened / Then refused, saying how to save it
        with pytest.raises(UnreadableFile, match=r"^The workbook holds macros") as raised:
            open_workbook(stream)
        assert str(raised.value) == MACROS


def test_a_password_protected_workbook_is_refused() -> None:
    # Given a compound file holding an EncryptionInfo stream: in its head, and far past it
    entry = "EncryptionInfo".encode("utf-16-le")
    near = OLE_SIGNATURE + b"\x00" * 500 + entry + b"\x00" * 2000
    far = OLE_SIGNATURE + b"\x00" * 300_000 + entry + b"\x00" * 2000
    # When checked / Then refused as password-protected, wherever the stream's name lies
    with pytest.raises(UnreadableFile, match="password-protected") as raised:
        check_workbook_head(near)
    assert str(raised.value) == ENCRYPTED_WORKBOOK
    for data in (near, far):
        with pytest.raises(UnreadableFile, match="password-protected"):
            open_workbook(io.BytesIO(data))


def test_an_old_xls_workbook_is_refused() -> None:
    # Given a compound file without encryption: an Excel 97-2003 workbook
    data = OLE_SIGNATURE + b"\x00" * 4000 + "Workbook".encode("utf-16-le")
    # When opened / Then refused, saying to save it as .xlsx
    with pytest.raises(UnreadableFile, match=r"Excel 97-2003 \.xls workbook: save it as \.xlsx"):
        open_workbook(io.BytesIO(data))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"CustomerNumber,CustomerName\r\n1,Ann\r\n", "not an XLSX workbook (it looks like text"),
        (b"", "The file is empty"),
        (b"PK\x03\x04 then nothing a zip needs", "The workbook is damaged"),
    ],
)
def test_what_is_not_a_workbook_is_refused(data: bytes, message: str) -> None:
    # Given a CSV, an empty file and a broken zip, offered as workbooks
    # When opened / Then refused, saying why
    with pytest.raises(UnreadableFile, match=message.replace("(", r"\(")):
        open_workbook(io.BytesIO(data))


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    # Given a ZIP archive of something else (a Word document, say)
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as package:
        package.writestr("[Content_Types].xml", b"<Types>wordprocessingml.document</Types>")
        package.writestr("word/document.xml", b"<document/>")
    # When opened / Then refused
    with pytest.raises(UnreadableFile, match="a ZIP archive but not an Excel workbook"):
        open_workbook(stream)


def test_a_sheet_damaged_part_way_fails_after_its_readable_rows() -> None:
    # Given a workbook whose sheet XML is cut off after its third row
    def cut(name: str, data: bytes) -> bytes:
        return data[: data.index(b'<row r="4"')] if name.endswith("sheet1.xml") else data

    stream = rewritten(xlsx({"Sheet": [["A"], ["1"], ["2"], ["3"], ["4"]]}), cut)
    seen: list[int] = []
    # When read
    with pytest.raises(UnreadableFile, match="The workbook is damaged after row 3"):
        for number, _ in iter_sheet_records(stream):
            seen.append(number)
    # Then the rows before the damage were read
    assert seen == [1, 2, 3]


def test_a_large_sheet_is_streamed_row_by_row() -> None:
    # Given a sheet of 20,000 data rows
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Big")
    sheet.append(["CustomerNumber", "CustomerName"])
    for n in range(20_000):
        sheet.append([n, f"Customer {n}"])
    stream = io.BytesIO()
    book.save(stream)
    # When the rows are taken one at a time
    rows = iter_sheet_records(stream)
    first = next(rows)
    count, last = 1, first
    for last in rows:  # noqa: B007 - the last one is the point
        count += 1
    # Then every row comes, with its spreadsheet number
    assert first == (1, ["CustomerNumber", "CustomerName"])
    assert count == 20_001
    assert last == (20_001, ["19999", "Customer 19999"])


def test_one_stream_can_be_read_twice_at_once_and_stays_the_callers() -> None:
    # Given one workbook stream, read in two passes at the same time (as Prepare does)
    stream = xlsx({"Sheet": [["A"], ["1"], ["2"]]})
    first, second = iter_sheet_records(stream), iter_sheet_records(stream)
    # When the passes take turns
    taken = [next(first), next(second), next(first), next(second), *first, *second]
    # Then each reads every row, and the stream is left open for its owner to close
    assert [number for number, _ in taken] == [1, 1, 2, 2, 3, 3]
    assert not stream.closed


def test_open_workbook_names_its_sheets_and_closes() -> None:
    # Given a workbook with two sheets
    stream = xlsx({"One": [["a"]], "Two": [["b"]]})
    # When opened and closed
    with open_workbook(stream) as workbook:
        names = workbook.sheet_names
        rows = list(workbook.records("Two"))
    # Then it named its sheets and read the chosen one
    assert names == ["One", "Two"]
    assert rows == [(1, ["b"])]


class _Body:
    """An S3 body: it reads, and nothing else."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    def read(self, size: int = -1, /) -> bytes:
        return self._stream.read(size)


def test_a_body_that_cannot_seek_is_copied_up_to_its_limit() -> None:
    # Given a workbook larger than what stays in memory, as a body that cannot seek
    stream = xlsx({"Sheet": [["A"], ["1"]]})
    with zipfile.ZipFile(stream, "a") as package:  # a picture that does not compress
        package.writestr("xl/media/image1.png", random.Random(0).randbytes(SPOOL_BYTES))
    data = stream.getvalue()
    # When copied within the limit, and over it
    with seekable(_Body(data), limit_bytes=len(data)) as copy:
        rows = records(copy)
        copy.seek(0)
        assert copy.read() == data
    # Then the copy is read as the workbook, and a body over the limit is refused
    assert rows == [(1, ["A"]), (2, ["1"])]
    with pytest.raises(UnreadableFile, match="over 1,000 bytes"):
        seekable(_Body(data), limit_bytes=1000)


def test_a_techman_workbook_reads_like_its_csv_with_the_same_row_numbers() -> None:
    # Given a Techman export in a workbook: typed cells, a blank row, a bad email on row 5
    # and a row with a value past the header on row 6
    def typed(number: int, **overrides: str) -> list[Any]:
        values: list[Any] = [row(str(number), **overrides)[c] for c in HEADER]
        values[HEADER.index("CustomerNumber")] = number  # a number, not text
        values[HEADER.index("Phone")] = 7712000000 + number  # its leading zero lost, as in Excel
        values[HEADER.index("CustomerOnStop")] = False
        values[HEADER.index("DateCreated")] = dt.datetime(2020, 12, 25, 10)
        return values

    stream = xlsx(
        {
            "Customers": [
                list(HEADER),
                typed(1),
                typed(1, VehicleRegistration="AB12 CDE"),
                [],
                typed(2, Email="not an email"),
                [*typed(3), "", "beyond"],
            ]
        }
    )
    # When its records go through the Techman rows, as a CSV's do
    data = iter_sheet_records(stream, "Customers")
    _, header = next(data)
    columns = check_header(header)
    rows = TechmanRows(columns)
    for number, values in data:
        rows.add(number, values)
    customers = {c.external_customer_number: c for c in rows.customers()}
    # Then the cells clean up as text would, and every problem names the spreadsheet's row
    assert columns.missing == []
    assert customers["1"].rows == [2, 3]
    assert customers["1"].fields["phone"] == "+447712000001"
    assert customers["1"].fields["credit_hold"] is False
    assert customers["1"].fields["date_created"] == "2020-12-25T10:00:00+00:00"
    assert [(e.row, e.column) for e in customers["2"].errors] == [(5, "Email")]
    [(issue, _)] = rows.malformed
    assert (issue.row, issue.reason) == (
        6,
        f"Row has {len(HEADER) + 2} fields; the header has only {len(HEADER)}",
    )


def test_text_that_inflates_past_its_limit_is_refused_before_it_is_loaded() -> None:
    # Given a small workbook whose shared strings unpack to more than the limit (a zip bomb)
    stream = xlsx({"Sheet": [["A"]]})
    with (
        zipfile.ZipFile(stream, "a", compression=zipfile.ZIP_DEFLATED) as package,
        package.open("xl/sharedStrings.xml", "w") as part,
    ):
        for _ in range(MAX_SHARED_STRINGS_BYTES // SPOOL_BYTES + 1):
            part.write(b" " * SPOOL_BYTES)
    # When opened / Then refused, saying how big its text is
    assert len(stream.getvalue()) < 2 * 1024 * 1024
    with pytest.raises(UnreadableFile, match="The workbook's text takes 142,606,336 bytes"):
        open_workbook(stream)


def test_rows_past_excels_last_row_are_not_counted_up_to() -> None:
    # Given a crafted sheet with a row numbered far past Excel's last row
    def far_row(name: str, data: bytes) -> bytes:
        far = b'<row r="99999999999"><c r="A99999999999" t="inlineStr"><is><t>x</t></is></c></row>'
        return data.replace(b"</sheetData>", far + b"</sheetData>")

    stream = rewritten(xlsx({"Sheet": [["A"], ["1"]]}), far_row)
    # When read / Then reading stops at Excel's last row instead of counting empty rows to it
    assert records(stream) == [(1, ["A"]), (2, ["1"])]
