"""Hostile and awkward files through the real workflow on the local stack (issue 15).

Each file is uploaded through the HTTP API, runs through the real ASL and handlers, and is then
read back through the API: the job's counts, the customers stored and the error log must tell
the same story. Every customer of the file is imported, skipped or failed (and counted once),
the stored customers are the imported ones, and every failed customer is in the error log with
its reason. The cases are built here; the corpus of tests/corpus runs alongside.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from customer_import.access import CUSTOMERS_ACCESS, IMPORT_MANAGE
from customer_import_local.api_client import ApiClient, ApiError
from customer_import_local.tokens import local_token

from tests.e2e.test_http_api import FINAL, wait_for
from tests.unit.techman_files import HEADER, customers, row, techman_csv

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SKIPPED = ("skipped_duplicates", "skipped_user")


@dataclass(frozen=True)
class Case:
    content: bytes
    status: str  # the job's final status
    counts: dict[str, int] = field(default_factory=dict)  # those that matter for the case
    reason: str = ""  # a fragment of the rejection, or of an error-log reason
    stored: dict[str, str] = field(default_factory=dict)  # external number -> stored name


def _bytes_in_cp1252_after_a_utf8_head() -> bytes:
    rows = [row(str(n), f"Renée{n} Smith") for n in range(1000, 1700)]
    later = techman_csv([row("9999", "Bob Hall", Address1="£5 Street")], encoding="cp1252")
    return techman_csv(rows) + later.split(b"\r\n", 1)[1]


def _one_row_of_140000_fields() -> bytes:
    return techman_csv(customers(3)) + b",".join([b"4000", *([b"x"] * 139_999)]) + b"\r\n"


def _hostile_cases() -> dict[str, Case]:
    header_with_formulas = [*HEADER, '=HYPERLINK("http://evil.example","x")', "@SUM(1)"]
    return {
        "a 450 KB address, a 100,000-character address, a 3 KB name": Case(
            techman_csv(
                [
                    row("1", "Ann Lee"),
                    row("2", "Bob Hall", Address1="a" * 450_000),
                    row("3", "Cat Ng", Address1="b" * 100_000),
                    row("4", "D" * 3_000 + " Roe"),
                    row("5", "Eve Moss"),
                ]
            ),
            "completed_with_errors",
            {"customers": 5, "imported": 2, "failed": 3},
            "characters long; the limit is 200",
            {"1": "Ann Lee", "5": "Eve Moss"},
        ),
        "a row of 140,000 fields": Case(
            _one_row_of_140000_fields(),
            "completed_with_errors",
            {"customers": 4, "imported": 3, "failed": 1},
            "Row has 140,000 fields; the header has only 15",
        ),
        "a header of 140,000 columns": Case(
            ",".join([*HEADER, *(f"c{n}" for n in range(140_000))]).encode() + b"\r\n1\r\n",
            "rejected",
            reason="the limit is 500",
        ),
        "formulas in the header's unknown columns": Case(
            techman_csv(
                [
                    {**row("1", "Ann Lee"), header_with_formulas[-2]: "=1+1"},
                    {**row("2", "Bob Bad", Phone="12345"), "@SUM(1)": "@SUM(2)"},
                ],
                header_with_formulas,
            ),
            "completed_with_errors",
            {"customers": 2, "imported": 1, "failed": 1},
            "Phone normalisation failed",
        ),
        "an unclosed quote in row 4 before 47 more rows": Case(
            techman_csv(customers(50)).replace(b"Customer2 Person", b'"Customer2 Person', 1),
            "completed_with_errors",
            {"rows": 50, "customers": 50, "imported": 49, "failed": 1},
            "Unclosed quote starting on row 4",
        ),
        "100,000 rows of only delimiters": Case(
            techman_csv([]) + (b"," * (len(HEADER) - 1) + b"\r\n") * 100_000,
            "rejected",
            reason="The file has a header but no data rows",
        ),
        "a column named twice": Case(
            techman_csv([row("1")], [*HEADER, "Email"]),
            "rejected",
            reason="Columns named more than once in the header: Email",
        ),
        "a BOM and a zero-width space inside a CustomerNumber": Case(
            techman_csv(
                [
                    row("\ufeff536500", "Ann Lee", VehicleRegistration="AB12CDE"),
                    row("536\u200b500", "Ann Lee", VehicleRegistration="CD34EFG"),
                    row("7", "Bob Hall"),
                ]
            ),
            "completed",
            {"rows": 3, "customers": 2, "imported": 2, "failed": 0},
            stored={"536500": "Ann Lee", "7": "Bob Hall"},
        ),
        "a NUL in a name after the first 64 KB": Case(
            techman_csv(
                [
                    *(row(str(n), f"Person{n} Smith") for n in range(1000, 1600)),
                    row("9999", "Bad\x00Name", Email="bad@example.com"),
                ]
            ),
            "completed_with_errors",
            {"customers": 601, "imported": 600, "failed": 1},
            "NUL character",
        ),
        "Windows-1252 bytes after a UTF-8 head": Case(
            _bytes_in_cp1252_after_a_utf8_head(),
            "completed_with_errors",
            {"customers": 701, "imported": 700, "failed": 1},
            "(0xA3)",
        ),
    }


def _corpus_cases() -> dict[str, Case]:
    return {
        f"corpus {path.name}": Case(path.read_bytes(), "") for path in sorted(CORPUS.glob("*.csv"))
    }


CASES = {**_hostile_cases(), **_corpus_cases()}


def _run(api: ApiClient, tmp_path: Path, content: bytes) -> dict[str, Any]:
    path = tmp_path / f"{uuid.uuid4().hex[:6]}.csv"
    path.write_bytes(content)
    try:
        created = api.create_import(path.name, path.stat().st_size)
    except ApiError as refused:  # an empty file gets no upload at all
        return {"status": "rejected", "reason": refused.message}
    api.upload(created, path)
    job = wait_for(api, created["job_id"], {"ready"} | FINAL)
    if job["status"] == "ready":
        api.decide(created["job_id"], "skip")
        job = wait_for(api, created["job_id"], FINAL)
    return job


def _error_log(api: ApiClient, job_id: str, tmp_path: Path) -> list[dict[str, str]]:
    path = api.download_error_log(job_id, tmp_path / f"errors-{job_id}.csv")
    if path is None:
        return []
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _failed_customers_in(error_log: list[dict[str, str]]) -> int:
    """A failed customer has one line per problem, under its number; a row that could not be
    read is a customer of its own (whose it was cannot be told)."""
    numbers = {line["CustomerNumber"] for line in error_log if _belongs_to_a_customer(line)}
    return len(numbers) + sum(1 for line in error_log if not _belongs_to_a_customer(line))


def _belongs_to_a_customer(line: dict[str, str]) -> bool:
    return line["column"] != "(row)" and bool(line.get("CustomerNumber", "").strip())


@pytest.mark.parametrize("name", list(CASES))
def test_counts_stored_customers_and_error_log_agree(stack, tmp_path, name: str) -> None:
    case = CASES[name]
    api = ApiClient(
        stack.endpoints.api_url,
        local_token(f"org-{uuid.uuid4().hex[:8]}", "alice", (IMPORT_MANAGE, CUSTOMERS_ACCESS)),
    )
    # Given the file uploaded through the API into an organisation of its own
    # When it runs through the workflow (possible duplicates skipped)
    job = _run(api, tmp_path, case.content)
    stored = list(api.all_customers())
    # Then it ends as expected; a rejected file writes nothing and says why
    if case.status:
        assert job["status"] == case.status, job.get("reason")
    if job["status"] == "rejected":
        assert case.reason in (job["reason"] or "")
        assert stored == []
        return
    counts = job["counts"]
    assert {k: counts[k] for k in case.counts} == case.counts
    # And every customer of the file is imported, skipped or failed, once
    assert (
        counts["imported"] + counts["failed"] + sum(counts[k] for k in SKIPPED)
        == (counts["customers"])
    )
    # And the customers stored are the imported ones, read back through the API
    assert len(stored) == counts["imported"]
    for number, stored_name in case.stored.items():
        [customer] = api.customers(number)
        assert customer["name"] == stored_name
    # And the error log holds every failed customer, and none that was stored
    error_log = _error_log(api, job["job_id"], tmp_path)
    assert _failed_customers_in(error_log) == counts["failed"]
    stored_numbers = {c["external_customer_number"] for c in stored}
    assert not stored_numbers & {line.get("CustomerNumber") for line in error_log}
    if case.reason and error_log:
        assert any(case.reason in line["reason"] for line in error_log)
    # And no cell of the error log, its header included, would run as a formula
    if error_log:
        cells = [*error_log[0].keys(), *(v for line in error_log for v in line.values())]
        assert not [c for c in cells if c and c.lstrip()[:1] in "=+-@\uff1d\uff0b\uff0d\uff20"]
