"""The import job step by step, on in-memory fakes (no AWS, no moto)."""

from __future__ import annotations

import re
import uuid

import pytest
from customer_import.changes.rules import Mode
from customer_import.errors import (
    InvalidDecision,
    InvalidTransition,
    InvalidUpload,
    JobNotFound,
)
from customer_import.imports.run import JobRun
from customer_import.imports.staging import job_id_of_object
from customer_import.jobs import JobOptions, JobStatus
from customer_import.organisations import OrganisationProfile
from customer_import.ports import REASON_SUMMARY
from customer_import.profiles import checked_profile

from tests.fakes import World
from tests.unit.techman_files import HEADER, customers, row, techman_csv

ORG = "garage-1"


def uploaded(world: World, content: bytes, options: JobOptions | None = None) -> str:
    """Given a file uploaded through a presigned POST and its event registered."""
    upload = world.pipeline.create_upload(
        ORG, "main", "techman", "file.csv", options or JobOptions(), "alice"
    )
    world.objects.objects[upload.job.object_key] = content
    result = world.pipeline.register("bucket", upload.job.object_key, "seq", "execution-1")
    assert result == {"org_id": ORG, "job_id": upload.job.job_id, "duplicate": False}
    return upload.job.job_id


def run_to_ready(world: World, content: bytes) -> str:
    job_id = uploaded(world, content)
    assert world.pipeline.validate(ORG, job_id) == {"rejected": False}
    world.pipeline.prepare(ORG, job_id)
    world.pipeline.await_decision(ORG, job_id, "token-1")
    return job_id


def import_all(world: World, job_id: str) -> None:
    """The Map over the staged batches, then the one over the repeats, then Finalize."""
    job = world.pipeline.job(ORG, job_id)
    for manifest_key in (job.manifest_key, job.late_manifest_key):
        for batch in world.objects.get_json(manifest_key):
            world.pipeline.import_batch(ORG, job_id, batch)
    world.pipeline.finalize(ORG, job_id)


def test_upload_creates_a_pending_job_bound_to_an_exact_key() -> None:
    # Given a pipeline
    world = World()
    # When an admin asks to upload a file with an awkward name
    upload = world.pipeline.create_upload(
        ORG, "main", "techman", "../My Customers (2).csv", JobOptions(), "alice"
    )
    # Then the job is pending, and the key is under the organisation and job, with a safe name
    assert upload.job.status is JobStatus.PENDING
    assert upload.job.object_key == f"uploads/{ORG}/{upload.job.job_id}/My_Customers_2_.csv"
    assert upload.post["fields"]["key"] == upload.job.object_key


def test_the_upload_form_accepts_no_larger_file_than_the_organisation() -> None:
    # Given an organisation limited to 2 MB, and another on the product's limit
    world = World()
    world.organisations.put(OrganisationProfile(ORG, max_file_bytes=2 * 1_048_576))
    # When each asks to upload a file
    limited = world.pipeline.create_upload(ORG, "main", "techman", "f.csv", JobOptions(), "a")
    other = world.pipeline.create_upload("garage-2", "main", "techman", "f.csv", JobOptions(), "a")
    # Then each presigned POST's size range ends at its organisation's limit
    assert world.objects.upload_limits[limited.job.object_key] == 2 * 1_048_576
    assert (
        world.objects.upload_limits[other.job.object_key] == world.pipeline.settings.max_file_bytes
    )


def test_a_second_execution_for_the_same_upload_is_a_duplicate() -> None:
    # Given an upload registered by a first execution
    world = World()
    job_id = uploaded(world, techman_csv(customers(1)))
    key = world.pipeline.job(ORG, job_id).object_key
    # When S3/EventBridge deliver the event again and a second execution registers it
    again = world.pipeline.register("bucket", key, "seq", "execution-2")
    # Then it is told to stop, and the job still belongs to the first execution
    assert again["duplicate"] is True
    assert world.pipeline.job(ORG, job_id).execution_id == "execution-1"
    # And a retry of the first execution's own step is not a duplicate
    assert world.pipeline.register("bucket", key, "seq", "execution-1")["duplicate"] is False


def test_erp_drops_become_jobs_of_their_profile_once_per_object() -> None:
    # Given the organisation's unattended update profile, and a file an ERP dropped in its folder
    world = World()
    world.profiles.put(
        checked_profile(ORG, "nightly", {"account": "erp", "mode": "update", "review": "auto"})
    )
    key = f"drops/{ORG}/nightly/customers.csv"
    world.objects.objects[key] = techman_csv(customers(1))
    # When the event arrives twice
    first = world.pipeline.register("bucket", key, "etag/seq", "execution-1")
    second = world.pipeline.register("bucket", key, "etag/seq", "execution-2")
    # Then one job exists, of the profile's account and mode, running without a person, and
    # the second event is a duplicate
    assert first["job_id"] == second["job_id"]
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    job = world.pipeline.job(ORG, first["job_id"])
    assert (job.account_id, job.options.mode, job.options.auto_run, job.options.profile) == (
        "erp",
        Mode.UPDATE,
        True,
        "nightly",
    )


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (f"drops/{ORG}/weekly/customers.csv", f"Organisation {ORG} has no import profile 'weekly'"),
        (f"drops/{ORG}/customers.csv", f"dropped straight under drops/{ORG}/, naming no import"),
    ],
)
def test_a_drop_without_its_profile_becomes_a_rejected_job_saying_why(
    key: str, reason: str
) -> None:
    # Given a file dropped in the folder of a profile the organisation lacks, or in none
    world = World()
    world.objects.objects[key] = techman_csv(customers(1))
    # When its execution registers and validates it
    registered = world.pipeline.register("bucket", key, "etag/seq", "execution-1")
    validated = world.pipeline.validate(ORG, registered["job_id"])
    # Then the job is rejected with the reason, audited, and its file never read
    assert validated == {"rejected": True}
    job = world.pipeline.job(ORG, registered["job_id"])
    assert job.status is JobStatus.REJECTED and reason in (job.reason or "")
    assert [e.action for e in world.audit.entries(ORG)] == ["import.rejected"]


def object_created(bucket: str, key: str) -> dict[str, object]:
    """An S3 `Object Created` event as EventBridge delivers it (only what matters here)."""
    return {"detail": {"bucket": {"name": bucket}, "object": {"key": key}}}


def test_the_starter_names_the_execution_after_the_job_that_register_finds() -> None:
    # Given an upload through a presigned POST, and a file an ERP dropped
    world = World()
    upload = world.pipeline.create_upload(ORG, "main", "techman", "f.csv", JobOptions(), "a")
    drop = f"drops/{ORG}/nightly/customers.csv"
    for key in (upload.job.object_key, drop):
        world.objects.objects[key] = techman_csv(customers(1))
        event = object_created("bucket", key)
        # When the starter starts the import of each, and the execution registers it
        started = world.pipeline.start_import("bucket", key, "etag/seq", event)
        registered = world.pipeline.register("bucket", key, "etag/seq", "execution-1")
        # Then both derive the one job id, which the execution's name carries after the org
        assert started["job_id"] == registered["job_id"]
        assert started["execution_name"] == f"{ORG}_{started['job_id']}"
        assert started["job_id"] == job_id_of_object("bucket", key, "etag/seq")
        assert world.workflow.started[started["execution_name"]] == event
    # And the upload's job is the one its key names
    assert world.workflow.started.keys() == {
        f"{ORG}_{upload.job.job_id}",
        f"{ORG}_{job_id_of_object('bucket', drop, 'etag/seq')}",
    }


def test_a_job_id_comes_from_the_uploads_key_or_from_the_dropped_object() -> None:
    # Given the key of an upload and the key of a drop
    job_id = str(uuid.uuid4())
    upload = f"uploads/{ORG}/{job_id}/f.csv"
    drop = f"drops/{ORG}/nightly/customers.csv"
    # Then an upload's job is in its key, whatever the object's version
    assert job_id_of_object("bucket", upload, "e1/s1") == job_id_of_object("b2", upload, "e2/s2")
    assert job_id_of_object("bucket", upload, "e1/s1") == job_id
    # And a drop's is the same for the same object, and another for another write of its key
    assert job_id_of_object("bucket", drop, "e1/s1") == job_id_of_object("bucket", drop, "e1/s1")
    assert job_id_of_object("bucket", drop, "e1/s1") != job_id_of_object("bucket", drop, "e2/s2")
    uuid.UUID(job_id_of_object("bucket", drop, "e1/s1"))  # a valid job id (and execution name)


def test_an_event_delivered_twice_starts_one_execution() -> None:
    # Given an upload
    world = World()
    upload = world.pipeline.create_upload(ORG, "main", "techman", "f.csv", JobOptions(), "a")
    first = object_created("bucket", upload.job.object_key)
    again = {**first, "id": "another-delivery"}
    # When its event is delivered twice
    world.pipeline.start_import("bucket", upload.job.object_key, "etag/seq", first)
    world.pipeline.start_import("bucket", upload.job.object_key, "etag/seq", again)
    # Then one execution was asked for, by the job's name, with the first event
    assert world.workflow.started == {f"{ORG}_{upload.job.job_id}": first}


@pytest.mark.parametrize(
    "key",
    [
        f"uploads/{ORG}/not-a-job/f.csv",
        f"uploads/{ORG}/{str(uuid.uuid4()).upper()}/f.csv",
        "staging/x/manifest.json",
        f"uploads/{ORG}/f.csv",
    ],
)
def test_an_object_that_names_no_job_starts_nothing(key: str) -> None:
    # Given an object under no job (a key written by hand)
    world = World()
    # When its event arrives
    with pytest.raises(InvalidUpload):
        world.pipeline.start_import("bucket", key, "etag/seq", object_created("bucket", key))
    # Then no execution is started
    assert world.workflow.started == {}


def test_missing_required_columns_reject_the_job_naming_each_one() -> None:
    # Given a file without Email and Postcode
    world = World()
    header = [c for c in HEADER if c not in ("Email", "Postcode")]
    job_id = uploaded(world, techman_csv(customers(2), header))
    # When it is validated
    result = world.pipeline.validate(ORG, job_id)
    # Then the job is rejected and both columns are named
    job = world.pipeline.job(ORG, job_id)
    assert result == {"rejected": True}
    assert job.status is JobStatus.REJECTED
    assert job.missing_columns == ["Email", "Postcode"]
    assert job.reason == "Missing required columns: Email, Postcode"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "The file is empty"),
        (techman_csv([]), "The file has a header but no data rows"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20,
            "The file is not a text file (it holds binary data)",
        ),
    ],
)
def test_unusable_files_are_rejected_with_the_reason(content: bytes, reason: str) -> None:
    # Given an unusable file
    world = World()
    job_id = uploaded(world, content)
    # When it is validated
    world.pipeline.validate(ORG, job_id)
    # Then the job is rejected and says why
    job = world.pipeline.job(ORG, job_id)
    assert (job.status, job.reason) == (JobStatus.REJECTED, reason)


def test_prepare_stages_batches_of_100_and_a_manifest() -> None:
    # Given 250 customers, one of whom spans two rows with two vehicles
    world = World()
    rows = customers(250)
    rows[0]["VehicleRegistration"] = "ab12 cde"
    rows.insert(1, {**rows[0], "VehicleRegistration": "XY65ZZZ"})
    job_id = uploaded(world, techman_csv(rows))
    world.pipeline.validate(ORG, job_id)
    # When the file is prepared
    result = world.pipeline.prepare(ORG, job_id)
    # Then three batches of at most 100 customers are staged and listed in the manifest
    manifest = world.objects.get_json(result["manifest_key"])
    assert [b["customers"] for b in manifest] == [100, 100, 50]
    assert result["batches"] == 3 and result["auto_run"] is False
    first = world.objects.get_json(manifest[0]["key"])["customers"][0]
    assert [v["registration"] for v in first["vehicles"]] == ["AB12CDE", "XY65ZZZ"]
    # (each with its customer id, made once and not from the job: a batch run again
    # creates the same customer)
    assert uuid.UUID(first["customer_id"]).version == 4
    # And the job counts rows, customers and vehicles, and keeps a preview
    job = world.pipeline.job(ORG, job_id)
    assert (job.counter("rows"), job.counter("customers"), job.counter("vehicles")) == (251, 250, 2)
    assert len(world.objects.get_json(job.preview_key)["customers"]) == 100


def test_bad_rows_fail_alone_with_row_column_and_reason() -> None:
    # Given a file where one customer's phone cannot be normalised and one row is short
    world = World()
    content = techman_csv(
        [row("1", "Ann Ok"), row("2", "Bob Bad", Phone="12345"), row("3", "Cat Ok")]
    )
    content += b"4,Short Row\r\n"
    job_id = run_to_ready(world, content)
    # When it is imported
    world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    import_all(world, job_id)
    # Then the good customers are written, the bad ones counted as failed
    job = world.pipeline.job(ORG, job_id)
    assert job.status is JobStatus.COMPLETED_WITH_ERRORS
    assert (job.counter("imported"), job.counter("failed")) == (2, 2)
    # And the error log names the row, the column and the reason, then the original values
    log = world.objects.objects[job.error_log_key].decode()
    lines = log.splitlines()
    assert lines[0].startswith("row,column,reason,CustomerNumber,CustomerName,Phone")
    assert lines[1].startswith("3,Phone,Phone normalisation failed,2,Bob Bad,12345")
    assert lines[2].startswith("5,(row),Row has 2 fields; the header has 15,4,Short Row")


def test_decision_is_stored_and_only_a_reference_goes_back_through_the_token() -> None:
    # Given a job waiting for a decision, its customer 1001 repeating 1000's email
    world = World()
    rows = customers(3)
    rows[1]["Email"] = rows[0]["Email"]
    job_id = run_to_ready(world, techman_csv(rows))
    assert world.pipeline.job(ORG, job_id).status is JobStatus.READY
    # When the admin decides
    job = world.pipeline.submit_decision(ORG, job_id, "merge", {"1001": "create"}, "alice")
    # Then the decision is on the job and the token carries a reference only
    assert job.status is JobStatus.IMPORTING
    assert job.decision is not None and job.decision["default"] == "merge"
    assert world.workflow.successes == [("token-1", {"decision_ref": f"{ORG}/{job_id}"})]


def test_a_second_decision_is_refused_and_changes_nothing() -> None:
    # Given a job already decided
    world = World()
    job_id = run_to_ready(world, techman_csv(customers(3)))
    world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    # When someone decides again
    with pytest.raises(InvalidDecision, match="only accepted while it is ready"):
        world.pipeline.submit_decision(ORG, job_id, "create", None, "bob")
    # Then the first decision stands and the token was answered once
    assert world.pipeline.job(ORG, job_id).decision["default"] == "skip"
    assert len(world.workflow.successes) == 1


def test_unknown_decisions_are_refused() -> None:
    world = World()
    job_id = run_to_ready(world, techman_csv(customers(1)))
    with pytest.raises(InvalidDecision, match="use skip, merge or create"):
        world.pipeline.submit_decision(ORG, job_id, "maybe", None, "alice")
    with pytest.raises(InvalidDecision, match="for customer 1000"):
        world.pipeline.submit_decision(ORG, job_id, "skip", {"1000": "later"}, "alice")


def test_cancel_ends_a_ready_job_and_fails_the_token_by_name() -> None:
    # Given a job waiting for a decision
    world = World()
    job_id = run_to_ready(world, techman_csv(customers(1)))
    # When it is cancelled
    job = world.pipeline.cancel(ORG, job_id, "alice")
    # Then it is cancelled and the wait ends with the error the ASL catches
    assert job.status is JobStatus.CANCELLED
    assert world.workflow.failures == [("token-1", "JobCancelled", "Cancelled by alice")]
    # And a cancelled job cannot be decided
    with pytest.raises(InvalidDecision):
        world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")


def test_a_batch_recorded_twice_counts_once() -> None:
    # Given an imported batch
    world = World()
    job_id = run_to_ready(world, techman_csv(customers(150)))
    world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    batch = world.objects.get_json(world.pipeline.job(ORG, job_id).manifest_key)[0]
    world.pipeline.import_batch(ORG, job_id, batch)
    # When the same batch runs again (a retry after a crash)
    world.pipeline.import_batch(ORG, job_id, batch)
    # Then the same customers exist and the counters moved once
    job = world.pipeline.job(ORG, job_id)
    assert len(world.customers.customers) == 100
    assert (job.counter("imported"), job.counter("batches_done"), job.counter("processed")) == (
        100,
        1,
        100,
    )


def test_a_failed_batch_keeps_what_was_written_and_fails_the_rest_with_the_reason() -> None:
    # Given a batch of which one customer was written before its invocation crashed
    world = World()
    job_id = run_to_ready(world, techman_csv(customers(3)))
    world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    batch = world.objects.get_json(world.pipeline.job(ORG, job_id).manifest_key)[0]
    world.customers.crash_after_writes = 1
    with pytest.raises(TimeoutError):
        world.pipeline.import_batch(ORG, job_id, batch)
    world.customers.crash_after_writes = None
    error = {
        "Error": "TimeoutError",
        "Cause": '{"errorType": "TimeoutError", "errorMessage": "took too long"}',
    }
    # When the state machine's Catch records the failure
    world.pipeline.record_batch_failure(ORG, job_id, batch, error)
    world.pipeline.finalize(ORG, job_id)
    # Then the written customer counts as imported, the two others failed with the reason
    job = world.pipeline.job(ORG, job_id)
    assert (job.counter("imported"), job.counter("failed")) == (1, 2)
    assert job.status is JobStatus.COMPLETED_WITH_ERRORS
    log = world.objects.objects[job.error_log_key].decode()
    assert "Batch 00001 failed: TimeoutError: took too long" in log


def test_finalize_fails_the_rows_of_a_batch_that_left_no_outcome_naming_it() -> None:
    # Given 250 customers in three batches, of which the second left no outcome (its import
    # and the record of its failure both failed), after writing one of its customers
    world = World()
    job_id = run_to_ready(world, techman_csv(customers(250)))
    world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    first, lost, last = world.objects.get_json(world.pipeline.job(ORG, job_id).manifest_key)
    world.pipeline.import_batch(ORG, job_id, first)
    world.customers.crash_after_writes = world.customers.writes + 1
    with pytest.raises(TimeoutError):
        world.pipeline.import_batch(ORG, job_id, lost)
    world.customers.crash_after_writes = None
    world.pipeline.import_batch(ORG, job_id, last)
    # When Finalize runs
    world.pipeline.finalize(ORG, job_id)
    # Then the import went on: the lost batch's unwritten rows failed, naming it, and every
    # customer is counted once
    job = world.pipeline.job(ORG, job_id)
    assert job.status is JobStatus.COMPLETED_WITH_ERRORS
    assert (job.counter("imported"), job.counter("failed"), job.counter("processed")) == (
        151,
        99,
        250,
    )
    assert job.counter("batches_done") == job.counter("batches_total") == 3
    log = world.objects.objects[job.error_log_key].decode().splitlines()
    assert len(log) == 100
    assert all(f"Batch {lost['batch_id']} failed: BatchLeftNoOutcome" in line for line in log[1:])


def test_close_is_safe_to_repeat_and_keeps_the_first_reason() -> None:
    # Given a job that failed in Prepare
    world = World()
    job_id = uploaded(world, techman_csv(customers(1)))
    error = {"Error": "KeyError", "Cause": '{"errorType": "KeyError", "errorMessage": "x"}'}
    # When the failure is recorded twice (a retried FailJob state)
    world.pipeline.close(ORG, job_id, "failed", error)
    world.pipeline.close(ORG, job_id, "failed", error)
    # Then the job is failed with the reason
    job = world.pipeline.job(ORG, job_id)
    assert (job.status, job.reason) == (JobStatus.FAILED, "Import failed: KeyError: x")


def test_subscribers_get_progress_and_gone_connections_are_forgotten() -> None:
    # Given two subscribers of a job, one of whom closed the tab
    world = World()
    job_id = run_to_ready(world, techman_csv(customers(1)))
    for connection in ("c1", "c2"):
        world.connections.add(connection, ORG, "alice")
        world.connections.subscribe(connection, ORG, job_id)
    world.sender.gone.add("c2")
    # When the job moves on
    world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    # Then the live one is told and the gone one is removed
    assert world.sender.sent[-1][0] == "c1"
    assert world.sender.sent[-1][1]["status"] == "importing"
    assert "c2" not in world.connections.connections


def test_a_job_of_another_organisation_cannot_be_decided_or_cancelled() -> None:
    # Given a job of one garage, waiting for a decision
    world = World()
    job_id = run_to_ready(world, techman_csv(customers(1)))
    # When another organisation tries to decide or cancel it, it does not exist for them
    with pytest.raises(JobNotFound):
        world.pipeline.submit_decision("other-garage", job_id, "skip", None, "mallory")
    with pytest.raises(JobNotFound):
        world.pipeline.cancel("other-garage", job_id, "mallory")
    # Then the job still waits for its own organisation
    assert world.pipeline.job(ORG, job_id).status is JobStatus.READY


def test_a_job_cannot_skip_states() -> None:
    # Given a job waiting for a decision
    world = World()
    job_id = run_to_ready(world, techman_csv(customers(1)))
    # When something tries to complete it without importing, it is refused
    with pytest.raises(InvalidTransition, match="is ready; it cannot become completed"):
        world.jobs.transition(ORG, job_id, JobStatus.COMPLETED)


def test_an_import_leaves_audit_entries_for_its_decision_and_outcome() -> None:
    # Given an import decided by alice, with one bad row
    world = World()
    job_id = run_to_ready(world, techman_csv([row("1", "Ann Ok"), row("2", "Bob Bad", Phone="1")]))
    world.pipeline.submit_decision(ORG, job_id, "merge", None, "alice")
    import_all(world, job_id)
    # When the organisation's audit log is read
    entries = world.audit.entries(ORG)
    # Then it says who decided what, and how the import ended, with its counts
    by_action = {e.action: e for e in entries}
    assert set(by_action) == {"import.decided", "import.completed_with_errors"}
    assert (by_action["import.decided"].actor, by_action["import.decided"].details["default"]) == (
        "alice",
        "merge",
    )
    done = by_action["import.completed_with_errors"].details
    assert (done["file"], done["source"], done["mode"], done["decision"]) == (
        "file.csv",
        "techman",
        "insert",
        "merge",
    )
    assert (done["counts"]["imported"], done["counts"]["failed"]) == (1, 1)
    assert "duration_s" in done


def test_finalize_run_again_after_it_ended_the_job_changes_nothing() -> None:
    # Given a finished import
    world = World()
    job_id = run_to_ready(world, techman_csv(customers(1)))
    world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    import_all(world, job_id)
    # When Step Functions runs Finalize again (its answer was lost)
    answer = world.pipeline.finalize(ORG, job_id)
    # Then the job stays completed, with one entry for its outcome
    assert (answer["status"], answer["counts"]["imported"]) == ("completed", 1)
    assert [e.action for e in world.audit.entries(ORG)].count("import.completed") == 1


def test_a_job_that_shows_its_outcome_has_its_audit_entry(monkeypatch) -> None:
    # Given an imported job whose final status cannot be written the first time
    world = World()
    job_id = run_to_ready(world, techman_csv(customers(1)))
    world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    for batch in world.objects.get_json(world.pipeline.job(ORG, job_id).manifest_key):
        world.pipeline.import_batch(ORG, job_id, batch)
    transition = world.jobs.transition

    def fails_once(*args: object, **kwargs: object) -> object:
        monkeypatch.setattr(world.jobs, "transition", transition)
        raise TimeoutError("DynamoDB did not answer")

    monkeypatch.setattr(world.jobs, "transition", fails_once)
    # When Finalize fails on it, and its retry succeeds
    with pytest.raises(TimeoutError):
        world.pipeline.finalize(ORG, job_id)
    after_failure = world.pipeline.job(ORG, job_id).status, world.audit.entries(ORG)
    world.pipeline.finalize(ORG, job_id)
    # Then the entry came before the status, and the retry did not write it again
    assert after_failure[0] is JobStatus.IMPORTING
    assert "import.completed" in [e.action for e in after_failure[1]]
    assert [e.action for e in world.audit.entries(ORG)].count("import.completed") == 1
    assert world.pipeline.job(ORG, job_id).status is JobStatus.COMPLETED


def test_rejections_and_cancellations_are_audited() -> None:
    world = World()
    rejected = uploaded(world, b"")
    world.pipeline.validate(ORG, rejected)
    cancelled = run_to_ready(world, techman_csv(customers(1)))
    world.pipeline.cancel(ORG, cancelled, "bob")
    actions = {(e.job_id, e.action, e.actor) for e in world.audit.entries(ORG)}
    assert (rejected, "import.rejected", "alice") in actions
    assert (cancelled, "import.cancelled", "bob") in actions


def test_retry_imports_only_the_rows_that_failed_to_be_written() -> None:
    # Given an import where the database refused one customer and one row failed its cleanup
    world = World()
    job_id = run_to_ready(
        world,
        techman_csv([row("1", "Ann Ok"), row("2", "Bob Refused"), row("3", "Cy Bad", Phone="1")]),
    )
    world.customers.failing_numbers.add("2")
    world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    import_all(world, job_id)
    assert world.pipeline.job(ORG, job_id).counters["failed"] == 2
    # When the database is back and the admin retries
    world.customers.failing_numbers.clear()
    read: list[str] = []
    get_json = world.objects.get_json
    world.objects.get_json = lambda key: read.append(key) or get_json(key)  # type: ignore[method-assign]
    job = world.pipeline.retry_failed(ORG, job_id, "alice")
    # Then an execution is started for it at once: the request read no staged object
    assert job.status is JobStatus.IMPORTING
    assert read == []
    [(name, execution_input)] = world.workflow.started.items()
    assert name == f"{ORG}_{job_id}-retry-1"
    assert execution_input == {"retry": 1, "job": {"org_id": ORG, "job_id": job_id}}
    # When that execution's first step stages the retry
    prepared = world.pipeline.stage_retry(ORG, job_id, execution_input["retry"])
    # Then only the refused customer is staged again
    manifest = world.objects.get_json(prepared["manifest_key"])
    assert [b["customers"] for b in manifest] == [1]
    assert world.objects.get_json(prepared["late_manifest_key"]) == []
    # When that execution runs its batches and finalizes
    for batch in manifest:
        world.pipeline.import_batch(ORG, job_id, batch)
    world.pipeline.finalize(ORG, job_id)
    # Then the refused customer is imported, the counts moved, and the error log keeps only
    # the row that needs fixing in the file
    job = world.pipeline.job(ORG, job_id)
    assert (job.status, job.counter("imported"), job.counter("failed")) == (
        "completed_with_errors",
        2,
        1,
    )
    log = world.objects.objects[job.error_log_key].decode().splitlines()
    assert len(log) == 2 and log[1].startswith("4,Phone,Phone normalisation failed")
    # And the audit log has both outcomes, the retry's with its own counts
    by_action = {e.action: e for e in world.audit.entries(ORG)}
    assert {"import.completed_with_errors", "import.retry-1"} <= set(by_action)
    retried = by_action["import.retry-1.completed_with_errors"].details["counts"]
    assert (retried["imported"], retried["failed"]) == (2, 1)


def test_retry_refuses_when_no_row_failed_to_be_written() -> None:
    # Given an import whose only failure is a row the cleanup rejected
    world = World()
    job_id = run_to_ready(world, techman_csv([row("1", "Ann Ok"), row("2", "Cy Bad", Phone="1")]))
    world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    import_all(world, job_id)
    # When someone retries, they are told to fix the file instead, and nothing starts
    with pytest.raises(InvalidTransition, match="fix the rows in the error log"):
        world.pipeline.retry_failed(ORG, job_id, "alice")
    assert world.workflow.started == {}


def test_a_batch_record_keeps_failure_summaries_and_the_error_log_the_whole_rows() -> None:
    # Given a refused customer whose staged row holds 300 KB of values, and a long reason
    world = World()
    job_id = run_to_ready(world, techman_csv([row("1", "Ann Ok"), row("2", "Bob Refused")]))
    [batch] = world.objects.get_json(world.pipeline.job(ORG, job_id).manifest_key)
    staged = world.objects.get_json(batch["key"])
    staged["customers"][1]["originals"][0]["Notes"] = "x" * 300_000
    world.objects.put_json(batch["key"], staged)
    world.customers.failing_numbers.add("2")
    world.customers.failure_reason = "Write failed: " + "why " * 1000
    world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    # When the batch is imported and the job finalized
    import_all(world, job_id)
    # Then the batch's record holds the row, column and a bounded reason, not the values
    [outcome] = world.jobs.batch_outcomes(job_id)
    [summary] = outcome.failures
    assert (summary.row, summary.column, summary.original) == (3, "(customer)", {})
    assert len(summary.reason) == REASON_SUMMARY
    # And the error log still shows the whole row and reason, kept aside in an object
    assert outcome.failures_key is not None
    job = world.pipeline.job(ORG, job_id)
    log = world.objects.objects[job.error_log_key].decode()
    assert "x" * 300_000 in log and "why " * 1000 in log


@pytest.mark.parametrize(
    ("org_id", "label"),
    [
        ("garage-1", "garage-1"),
        ("Smith & Sons: Garage/Leeds", "Smith-Sons-Garage-Leeds"),
        ("org_with_underscores", "org-with-underscores"),
        ("a" * 200, "a" * 31),
        ("££", "org"),
    ],
)
def test_execution_names_carry_the_organisation_within_step_functions_limits(
    org_id: str, label: str
) -> None:
    # Given a job of an organisation whose id may hold any character and be of any length
    job_id = str(uuid.uuid4())
    # When its executions are named
    name = JobRun.first().execution_name(org_id, job_id)
    retry = JobRun.retry(99_999).execution_name(org_id, job_id)
    # Then each says the organisation, then the job, in at most 80 letters, digits, - and _
    assert name == f"{label}_{job_id}"
    assert retry == f"{name}-retry-99999"
    assert len(retry) <= 80
    assert re.fullmatch(r"[A-Za-z0-9_-]+", retry)
    # And the same job always gets the same name (an event delivered again starts nothing)
    assert JobRun.first().execution_name(org_id, job_id) == name


def test_a_row_recovered_by_the_tenth_retry_leaves_the_error_log() -> None:
    # Given an import where the database refused one customer, and nine retries refused it too
    world = World()
    job_id = run_to_ready(
        world,
        techman_csv([row("1", "Ann Ok"), row("2", "Bob Refused"), row("3", "Cy Bad", Phone="1")]),
    )
    world.customers.failing_numbers.add("2")
    world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    import_all(world, job_id)

    def retry() -> None:
        world.pipeline.retry_failed(ORG, job_id, "alice")
        attempt = world.pipeline.job(ORG, job_id).counter("retries")
        prepared = world.pipeline.stage_retry(ORG, job_id, attempt)
        for batch in world.objects.get_json(prepared["manifest_key"]):
            world.pipeline.import_batch(ORG, job_id, batch)
        world.pipeline.finalize(ORG, job_id)

    for _ in range(9):
        retry()
    # When the database is back and the tenth retry writes it ("r10-…" batches)
    world.customers.failing_numbers.clear()
    retry()
    # Then the error log keeps only the row that needs fixing in the file: the tenth retry's
    # recovery counts after the second's to ninth's failures
    job = world.pipeline.job(ORG, job_id)
    assert (job.counter("retries"), job.counter("imported"), job.counter("failed")) == (10, 2, 1)
    log = world.objects.objects[job.error_log_key or ""].decode().splitlines()
    assert [line.split(",")[0] for line in log[1:]] == ["4"]
