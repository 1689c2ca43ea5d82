"""An ERP's own file (source `mapped`, design §5.8) through the real Validate and Prepare steps on
the in-memory fakes: its headers mapped onto the canonical columns, its values read the way its
profile's layout says (phone region, yes/no words, date order), as CSV or XLSX."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from customer_import.errors import InvalidDecision
from customer_import.jobs import Job, JobOptions, JobStatus
from customer_import.sources.layout import DateOrder, FileLayout
from customer_import_local.erp_sample import HEADERS, german_csv, german_rows, german_xlsx

from tests.fakes import World
from tests.unit.test_corpus import staged_customers

ORG = "garage-de"
# The German ERP's headers onto the canonical columns (Land, Kundengruppe, Newsletter and
# Bemerkung are left unmapped).
GERMAN_COLUMNS = {
    "Kundennummer": "CustomerNumber",
    "Name": "CustomerName",
    "E-Mail": "Email",
    "Mobil": "Phone",
    "Telefon": "PhoneLandline",
    "Straße": "Address1",
    "PLZ": "Postcode",
    "Ort": "Town",
    "Gesperrt": "CustomerOnStop",
    "Angelegt am": "DateCreated",
}
IGNORED = "Unknown columns ignored: Land, Kundengruppe, Newsletter, Bemerkung"


def german_layout(**changes: Any) -> FileLayout:
    """The German ERP's profile layout: its mapping, German phones, ja/nein, dates detected."""
    settings: dict[str, Any] = {
        "source": "mapped",
        "columns": GERMAN_COLUMNS,
        "date_order": DateOrder.DETECT,
        "phone_region": "DE",
        "boolean_words": {"ja": True, "nein": False},
        **changes,
    }
    return FileLayout(**settings)


def uploaded(world: World, content: bytes, layout: FileLayout, file_name: str = "k.csv") -> str:
    """Given a mapped file uploaded through a presigned POST and its event registered."""
    upload = world.pipeline.create_upload(
        ORG, "main", "mapped", file_name, JobOptions(layout=layout), "alice"
    )
    world.objects.objects[upload.job.object_key] = content
    world.pipeline.register("bucket", upload.job.object_key, "seq", "execution-1")
    return upload.job.job_id


def validated_and_prepared(
    world: World, content: bytes, layout: FileLayout, file_name: str = "k.csv"
) -> tuple[Job, dict[str, Any]]:
    """The job once Validate passed it and Prepare ran, and what Prepare returned."""
    job_id = uploaded(world, content, layout, file_name)
    assert world.pipeline.validate(ORG, job_id) == {"rejected": False}
    result = world.pipeline.prepare(ORG, job_id)
    return world.pipeline.job(ORG, job_id), result


def preview_of(world: World, job: Job) -> dict[str, Any]:
    assert job.preview_key
    preview: dict[str, Any] = world.objects.get_json(job.preview_key)
    return preview


def comparable(customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A preview's customers without what differs between two readings of one file: the ids
    made up for them, and the original cells (a CSV's `22.05.2021` is an XLSX's date cell)."""
    return [
        {k: v for k, v in customer.items() if k not in ("customer_id", "changes")}
        for customer in customers
    ]


def test_a_german_erp_csv_is_read_through_its_mapping() -> None:
    # Given the German ERP's CSV export of five customers (Windows-1252, `;`, TT.MM.JJJJ), the
    # first in Dresden (a postcode with a leading zero) and the second on stop ("ja")
    rows = german_rows(5)
    rows[0][6:8] = ["01067", "Dresden"]
    rows[1][11] = "ja"
    world = World()
    job_id = uploaded(world, german_csv(rows), german_layout())

    # When it is validated
    assert world.pipeline.validate(ORG, job_id) == {"rejected": False}
    # Then Validate passes it, having found its encoding and delimiter, and names the columns
    # the mapping leaves out
    job = world.pipeline.job(ORG, job_id)
    assert job.status is JobStatus.PREPARING
    assert (job.encoding, job.delimiter) == ("cp1252", ";")
    assert job.warnings == [IGNORED]

    # When it is prepared
    result = world.pipeline.prepare(ORG, job_id)
    job = world.pipeline.job(ORG, job_id)
    # Then five customers are staged, nothing asked and nothing failing
    assert result["rejected"] is False
    assert result["needs_confirmation"] is False
    assert job.counters["customers"] == 5
    assert job.counters["rows_failing"] == 0
    staged = staged_customers(world, job)
    assert sorted(staged) == [f"K-{10000 + n}" for n in range(1, 6)]
    for row in rows:
        customer = staged[row[0]]
        # And each is read through the mapping: name and email as written,
        assert (customer["name"], customer["email"]) == (row[1], row[2])
        # its phones German numbers in E.164,
        assert customer["phone"] == "+49" + row[3].replace(" ", "")[1:]
        assert customer["landline"] == "+49" + row[4].replace(" ", "")[1:]
        # its address with the postcode as written (leading zeros kept),
        address = customer["addresses"][0]
        assert (address["line1"], address["postcode"], address["town"]) == (row[5], row[6], row[7])
        # credit hold from ja/nein,
        assert customer["credit_hold"] is (row[11] == "ja")
        # and its date created read day-first
        created: date = row[10]
        assert customer["date_created"][:10] == created.isoformat()
        assert customer["warnings"] == []
    assert staged["K-10001"]["addresses"][0]["postcode"] == "01067"
    assert [staged[n]["credit_hold"] for n in sorted(staged)] == [False, True, False, False, False]
    # And the job records the order its dates were found in
    assert job.options.layout.date_order is DateOrder.DAY_FIRST
    assert job.options.layout.columns == GERMAN_COLUMNS


def test_a_mapped_files_row_errors_name_its_own_headers() -> None:
    # Given the German export whose second customer's email is no address
    rows = german_rows(2)
    rows[1][HEADERS.index("E-Mail")] = "nicht-gueltig"
    world = World()
    # When it is prepared
    job, _ = validated_and_prepared(world, german_csv(rows), german_layout())
    # Then the failure names the row and the column as the file names it, with its column
    [failing] = [c for c in preview_of(world, job)["customers"] if c["errors"]]
    assert [(e["row"], e["column"]) for e in failing["errors"]] == [(3, "E-Mail (Email)")]


def test_a_mapped_file_lacking_a_required_mapped_header_is_rejected_naming_it() -> None:
    # Given the German export with its Name column renamed, so no header maps to CustomerName
    text = german_csv(german_rows(2)).decode("cp1252")
    header, rest = text.split("\r\n", 1)
    content = (header.replace(";Name;", ";Kundenname;") + "\r\n" + rest).encode("cp1252")
    world = World()
    job_id = uploaded(world, content, german_layout())
    # When it is validated
    assert world.pipeline.validate(ORG, job_id) == {"rejected": True}
    # Then it is rejected, naming the missing column by the file's header and its column
    job = world.pipeline.job(ORG, job_id)
    assert job.status is JobStatus.REJECTED
    assert job.reason == "Missing required columns: Name (CustomerName)"
    assert job.missing_columns == ["Name (CustomerName)"]


def test_the_same_rows_as_xlsx_prepare_to_the_same_customers(tmp_path: Path) -> None:
    # Given the same German rows as the ERP's CSV and as its workbook (sheet "Kunden")
    rows = german_rows(5)
    path = tmp_path / "kunden.xlsx"
    german_xlsx(rows, path)
    from_csv, from_xlsx = World(), World()
    # When each is validated and prepared, the workbook with format xlsx and its sheet
    csv_job, _ = validated_and_prepared(from_csv, german_csv(rows), german_layout())
    xlsx_job, result = validated_and_prepared(
        from_xlsx,
        path.read_bytes(),
        german_layout(format="xlsx", sheet="Kunden"),
        "kunden.xlsx",
    )
    # Then the workbook passes Validate with the same warning (and no text format of its own)
    assert result["rejected"] is False
    assert (xlsx_job.encoding, xlsx_job.delimiter) == (None, None)
    assert xlsx_job.warnings == [IGNORED]
    # And its customers are the CSV's, field by field (its ISO date cells deciding nothing,
    # it is read day-first too)
    csv_preview, xlsx_preview = preview_of(from_csv, csv_job), preview_of(from_xlsx, xlsx_job)
    assert len(xlsx_preview["customers"]) == 5
    assert comparable(xlsx_preview["customers"]) == comparable(csv_preview["customers"])
    assert xlsx_preview["counts"] == csv_preview["counts"]
    assert xlsx_job.options.layout.date_order is DateOrder.DAY_FIRST


def _macro_workbook(tmp_path: Path) -> bytes:
    """The German workbook given a VBA project, as an .xlsm holds."""
    path = tmp_path / "kunden.xlsx"
    german_xlsx(german_rows(2), path)
    workbook = io.BytesIO(path.read_bytes())
    with zipfile.ZipFile(workbook, "a") as package:
        package.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 never run")
    return workbook.getvalue()


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (
            lambda _: german_csv(german_rows(2)),
            "The file is not an XLSX workbook (it looks like text: is it a CSV file?)",
        ),
        (
            lambda _: (
                bytes.fromhex("D0CF11E0A1B11AE1")
                + b"\x00" * 500
                + "EncryptionInfo".encode("utf-16-le")
                + b"\x00" * 2000
            ),
            "The workbook is password-protected: save it again without a password",
        ),
        (
            _macro_workbook,
            "The workbook holds macros (.xlsm); save it as a plain .xlsx workbook: "
            "macros are never run nor kept",
        ),
    ],
    ids=["csv", "password-protected", "macros"],
)
def test_an_xlsx_upload_that_is_no_plain_workbook_is_rejected_saying_so(
    tmp_path: Path, make: Any, reason: str
) -> None:
    # Given an upload of the German profile's xlsx format that is a CSV, an encrypted
    # compound file or a workbook with macros
    world = World()
    job_id = uploaded(world, make(tmp_path), german_layout(format="xlsx"), "kunden.xlsx")
    # When it is validated
    assert world.pipeline.validate(ORG, job_id) == {"rejected": True}
    # Then it is rejected saying what the file is, and nothing is missing
    job = world.pipeline.job(ORG, job_id)
    assert job.status is JobStatus.REJECTED
    assert job.reason == reason
    assert job.missing_columns == []


def test_an_undecided_file_asks_and_the_answer_reads_it_again() -> None:
    # Given the German export whose dates all have a day of 12 or less, its order detected
    rows = german_rows(5, ambiguous_dates=True)
    world = World()
    job_id = uploaded(world, german_csv(rows), german_layout())
    assert world.pipeline.validate(ORG, job_id) == {"rejected": False}

    # When it is prepared
    result = world.pipeline.prepare(ORG, job_id)
    # Then Prepare stops at a question: nothing staged, a person needed
    assert result["rejected"] is False
    assert result["needs_confirmation"] is True
    assert (result["manifest_key"], result["batches"]) == (None, 0)
    job = world.pipeline.job(ORG, job_id)
    assert job.status is JobStatus.PREPARING
    assert job.manifest_key is None
    assert job.options.layout.date_order is DateOrder.DETECT
    # And the job's reason is the question, which the preview holds with examples read both ways
    preview = preview_of(world, job)
    question = preview["question"]
    assert job.reason == question["text"]
    assert "day-first or month-first" in question["text"]
    assert question["choices"] == ["day_first", "month_first"]
    assert preview["customers"] == []
    assert preview["counts"] == {"rows": 5}
    assert question["examples"]
    for example in question["examples"]:
        assert example["column"] == "Angelegt am (DateCreated)"
        written: date = rows[example["row"] - 2][10]
        assert example["value"] == written.strftime("%d.%m.%Y")
        assert example["day_first"] == written.isoformat()
        assert example["month_first"] == date(written.year, written.day, written.month).isoformat()

    # When the state machine waits for the answer, and a decision comes without a date order
    world.pipeline.await_decision(ORG, job_id, "token-1")
    with pytest.raises(InvalidDecision, match=r"Answer with date_order day_first or month_first"):
        world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    # Then it is refused and the job still waits
    assert world.pipeline.job(ORG, job_id).status is JobStatus.READY
    assert world.workflow.successes == []

    # When the answer is month-first
    answered = world.pipeline.submit_decision(
        ORG, job_id, None, None, "alice", date_order="month_first"
    )
    # Then the job is preparing again with the order set, its question gone, and the waiting
    # execution told to read the file again
    assert answered.status is JobStatus.PREPARING
    job = world.pipeline.job(ORG, job_id)
    assert job.status is JobStatus.PREPARING
    assert job.options.layout.date_order is DateOrder.MONTH_FIRST
    assert (job.reason, job.preview_key) == (None, None)
    assert world.workflow.successes == [
        ("token-1", {"decision_ref": f"{ORG}/{job_id}", "read_again": True})
    ]

    # When it is prepared again
    again = world.pipeline.prepare(ORG, job_id)
    # Then it stages the five customers, their dates read month-first
    assert again["rejected"] is False
    assert again["needs_confirmation"] is False
    job = world.pipeline.job(ORG, job_id)
    assert job.counters["customers"] == 5
    assert job.options.layout.date_order is DateOrder.MONTH_FIRST
    staged = staged_customers(world, job)
    assert len(staged) == 5
    for row in rows:
        written = row[10]
        month_first = date(written.year, written.day, written.month)
        assert staged[row[0]]["date_created"][:10] == month_first.isoformat()
    assert "question" not in preview_of(world, job)
    # And at least one of them differs from the day-first reading (the answer mattered)
    assert any(row[10].day != row[10].month for row in rows)


def test_an_answer_outside_the_choices_is_refused() -> None:
    # Given a job asking how its dates are written, waiting for the answer
    world = World()
    job_id = uploaded(world, german_csv(german_rows(5, ambiguous_dates=True)), german_layout())
    world.pipeline.validate(ORG, job_id)
    world.pipeline.prepare(ORG, job_id)
    world.pipeline.await_decision(ORG, job_id, "token-1")
    # When answered "iso" / Then refused, and the job still waits
    with pytest.raises(InvalidDecision, match=r"Answer with date_order day_first or month_first"):
        world.pipeline.submit_decision(ORG, job_id, None, None, "alice", date_order="iso")
    assert world.pipeline.job(ORG, job_id).status is JobStatus.READY
    assert world.workflow.successes == []


def test_a_date_order_for_a_job_that_asks_nothing_is_refused() -> None:
    # Given a German file whose dates decided their order, prepared and waiting for a decision
    world = World()
    job, _ = validated_and_prepared(world, german_csv(german_rows(2)), german_layout())
    world.pipeline.await_decision(ORG, job.job_id, "token-1")
    # When decided with a date order / Then refused: there was no question
    with pytest.raises(InvalidDecision, match=r"asks no question about its dates"):
        world.pipeline.submit_decision(
            ORG, job.job_id, "skip", None, "alice", date_order="month_first"
        )
    assert world.pipeline.job(ORG, job.job_id).status is JobStatus.READY


def test_a_file_writing_its_dates_both_ways_is_rejected_naming_both_rows() -> None:
    # Given a German file whose row 2 is written day-first and row 3 month-first
    rows = german_rows(3, ambiguous_dates=True)
    rows[0][10] = "25.03.2021"
    rows[1][10] = "03/25/2021"
    world = World()
    job_id = uploaded(world, german_csv(rows), german_layout())
    assert world.pipeline.validate(ORG, job_id) == {"rejected": False}
    # When it is prepared
    result = world.pipeline.prepare(ORG, job_id)
    # Then it is rejected, naming a row of each way, and nothing is staged
    assert result["rejected"] is True
    job = world.pipeline.job(ORG, job_id)
    assert job.status is JobStatus.REJECTED
    assert job.reason == (
        "The file writes its dates both ways: day-first on row 2 Angelegt am (DateCreated) "
        "'25.03.2021'; month-first on row 3 Angelegt am (DateCreated) '03/25/2021'. Correct "
        "the file, or give the profile a date_order"
    )
    assert job.manifest_key is None


def test_a_profiles_fixed_order_is_not_second_guessed() -> None:
    # Given the German export with the profile's date order fixed at month-first
    rows = german_rows(2)
    world = World()
    # When it is prepared
    job, result = validated_and_prepared(
        world, german_csv(rows), german_layout(date_order=DateOrder.MONTH_FIRST)
    )
    # Then nothing is asked: its day-first dates are each refused with a warning, month-first
    assert result["needs_confirmation"] is False
    staged = staged_customers(world, job)
    for row in rows:
        customer = staged[row[0]]
        assert customer["date_created"] is None
        [warning] = customer["warnings"]
        # (named as the file names the column, and the column it maps to)
        assert warning["column"] == "Angelegt am (DateCreated)"
        assert "dates are read month-first" in warning["reason"]
    assert job.options.layout.date_order is DateOrder.MONTH_FIRST


def test_an_undecided_file_with_an_impossible_date_still_asks() -> None:
    # Given the German export of ambiguous dates, one of them written 00.05.2021
    rows = german_rows(3, ambiguous_dates=True)
    rows[0][10] = "00.05.2021"
    world = World()
    job_id = uploaded(world, german_csv(rows), german_layout())
    assert world.pipeline.validate(ORG, job_id) == {"rejected": False}
    # When it is prepared
    result = world.pipeline.prepare(ORG, job_id)
    # Then Prepare asks how its dates are written, as for any undecided file
    assert result["needs_confirmation"] is True
    assert "question" in preview_of(world, world.pipeline.job(ORG, job_id))
