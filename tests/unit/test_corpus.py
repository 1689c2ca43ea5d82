"""The corpus of awkward Techman files (tests/corpus): each one through Validate and Prepare on
the in-memory fakes, against its expected outcome in tests/corpus/expected.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from customer_import.jobs import Job

from tests.fakes import World
from tests.unit.test_pipeline import ORG, uploaded

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (CORPUS / "expected.json").read_text(encoding="utf-8")
)["files"]


def _cases() -> list[Any]:
    cases = []
    for name, expected in sorted(EXPECTED.items()):
        marks = []
        if "xfail" in expected:
            marks.append(pytest.mark.xfail(reason=expected["xfail"], strict=True))
        cases.append(pytest.param(name, expected, id=name.removesuffix(".csv"), marks=marks))
    return cases


def test_every_corpus_file_has_an_expected_outcome_and_every_outcome_a_file() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.csv")) == sorted(EXPECTED)


def staged_customers(world: World, job: Job) -> dict[str, dict[str, Any]]:
    """The customers written to the staged batches, repeats of the file included, by
    CustomerNumber."""
    staged: dict[str, dict[str, Any]] = {}
    for manifest_key in (job.manifest_key, job.late_manifest_key):
        for batch in world.objects.get_json(manifest_key) if manifest_key else []:
            for customer in world.objects.get_json(batch["key"])["customers"]:
                staged[customer["external_customer_number"]] = customer
    return staged


def assert_customer(number: str, actual: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, want in expected.items():
        if key in ("addresses", "vehicles"):
            got = actual[key]
            assert len(got) == len(want), f"{number}: {key} {got}"
            for got_item, want_item in zip(got, want, strict=True):
                assert {k: got_item.get(k) for k in want_item} == want_item, f"{number}: {key}"
        elif key != "warnings":
            assert actual[key] == want, f"{number}: {key}"
    warnings = [(w["row"], w["column"], w["reason"]) for w in actual["warnings"]]
    want_warnings = expected.get("warnings", [])
    assert [(r, c) for r, c, _ in warnings] == [(r, c) for r, c, _ in want_warnings], number
    for (_, _, reason), (_, _, fragment) in zip(warnings, want_warnings, strict=True):
        assert fragment in reason, f"{number}: {reason!r} should say {fragment!r}"


@pytest.mark.parametrize(("name", "expected"), _cases())
def test_corpus_file(name: str, expected: dict[str, Any]) -> None:
    # Given the awkward file uploaded and registered as a Techman import
    world = World()
    job_id = uploaded(world, (CORPUS / name).read_bytes())

    # When it is validated, and prepared unless Validate rejected it
    world.pipeline.validate(ORG, job_id)
    if world.pipeline.job(ORG, job_id).status == "preparing":
        world.pipeline.prepare(ORG, job_id)
    job = world.pipeline.job(ORG, job_id)

    # Then the job ends Validate/Prepare in the expected status, saying why when rejected
    assert job.status == expected["status"], job.reason
    if expected["status"] == "rejected":
        assert job.reason == expected["reason"]
        assert job.missing_columns == expected.get("missing_columns", [])
        return
    # And encoding, delimiter and file-level warnings are recorded on the job
    for field in ("encoding", "delimiter"):
        if field in expected:
            assert getattr(job, field) == expected[field]
    assert job.warnings == expected.get("job_warnings", [])
    # And the whole file is counted
    counts = {name: job.counters.get(name) for name in expected["counts"]}
    assert counts == expected["counts"]
    # And every failing row is logged with its row number, column and reason
    row_errors = [
        [e["row"], e["column"], e["reason"]] for e in world.objects.get_json(job.row_errors_key)
    ]
    if "row_errors" in expected:
        assert row_errors == expected["row_errors"]
    # And the staged customers carry the cleaned values and their warnings
    staged = staged_customers(world, job)
    for number, want in expected.get("customers", {}).items():
        assert number in staged, f"customer {number} was not staged"
        assert_customer(number, staged[number], want)
    for number in expected.get("not_staged", []):
        assert number not in staged, f"customer {number} fails and must not be staged"
    # And problems that must be reported somewhere are
    reported = {(r, c) for r, c, _ in row_errors}
    reported |= {(w["row"], w["column"]) for c in staged.values() for w in c["warnings"]}
    for row, column in expected.get("reported", []):
        assert (row, column) in reported, f"row {row} {column} is reported nowhere"
