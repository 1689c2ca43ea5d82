"""`Import Finished` (design §5.6): every way a job ends announces it once, after the ending is
stored; nothing else does; an ending the bus refused is announced when its step runs again.
Through the pipeline's steps on fakes."""

from __future__ import annotations

from typing import Any

import pytest
from customer_import.errors import TransientImportError
from customer_import.jobs import JobOptions, JobStatus
from customer_import.notifications import IMPORT_FINISHED, AnnouncingJobStore

from tests.fakes import World
from tests.unit.techman_files import customers, row, techman_csv
from tests.unit.test_pipeline import ORG, import_all, run_to_ready, uploaded


class RecordingBus:
    def __init__(self, world: World) -> None:
        self.world = world
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.refusals = 0  # how many of the next events the bus refuses

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        if self.refusals:
            self.refusals -= 1
            raise TransientImportError("EventBridge did not take the event: InternalFailure")
        # What a consumer reading the job on receiving the event would find
        stored = self.world.jobs.get(detail["org_id"], detail["job_id"])
        assert str(stored.status) == detail["status"]
        self.events.append((detail_type, detail))


def announcing(world: World) -> RecordingBus:
    bus = RecordingBus(world)
    world.pipeline.jobs = AnnouncingJobStore(world.jobs, bus)
    return bus


def prepared(world: World, count: int) -> str:
    """A file of `count` customers, validated and prepared to run without waiting."""
    job_id = uploaded(world, techman_csv(customers(count)), JobOptions(auto_run=True))
    world.pipeline.validate(ORG, job_id)
    world.pipeline.prepare(ORG, job_id)
    return job_id


def test_an_import_announces_its_end_once_and_nothing_before() -> None:
    # Given a pipeline whose job store announces endings
    world = World()
    bus = announcing(world)

    # When a file is imported through every step, Finalize run twice
    job_id = prepared(world, 3)
    import_all(world, job_id)
    world.pipeline.finalize(ORG, job_id)

    # Then one event said it completed, with its counts, after it was stored so
    [(detail_type, detail)] = bus.events
    assert detail_type == IMPORT_FINISHED
    assert (detail["job_id"], detail["status"], detail["counts"]["imported"]) == (
        job_id,
        "completed",
        3,
    )


def test_a_cancel_and_a_rejection_announce_theirs() -> None:
    # Given a job waiting for its decision, and a file that is no Techman export
    world = World()
    bus = announcing(world)
    waiting = run_to_ready(world, techman_csv(customers(2)))
    refused = uploaded(world, b"Name,Colour\nAnn,blue\n")

    # When the first is cancelled and the second validated
    world.pipeline.cancel(ORG, waiting, "alice")
    world.pipeline.validate(ORG, refused)

    # Then each ending was announced
    assert [(d["job_id"], d["status"]) for _, d in bus.events] == [
        (waiting, "cancelled"),
        (refused, "rejected"),
    ]


def test_an_ending_the_bus_refused_is_announced_when_finalize_runs_again() -> None:
    # Given an import whose Finalize stored its ending, then saw the bus refuse the event
    world = World()
    bus = announcing(world)
    job_id = prepared(world, 3)
    bus.refusals = 1
    with pytest.raises(TransientImportError):
        import_all(world, job_id)
    assert world.pipeline.job(ORG, job_id).status is JobStatus.COMPLETED
    assert bus.events == []

    # When the state machine's Retry runs Finalize again, and once more after that
    world.pipeline.finalize(ORG, job_id)
    world.pipeline.finalize(ORG, job_id)

    # Then the ending was announced once, by the second run
    [(_, detail)] = bus.events
    assert (detail["job_id"], detail["status"]) == (job_id, "completed")
    assert world.pipeline.job(ORG, job_id).announced_event_id == detail["event_id"]


def test_a_retried_import_announces_its_new_ending_even_if_the_bus_refused_it_first() -> None:
    # Given an import that ended with a customer the database refused, announced
    world = World()
    bus = announcing(world)
    job_id = run_to_ready(world, techman_csv([row("1", "Ann Ok"), row("2", "Bob Refused")]))
    world.customers.failing_numbers.add("2")
    world.pipeline.submit_decision(ORG, job_id, "skip", None, "alice")
    import_all(world, job_id)
    [(_, first)] = bus.events
    assert first["status"] == "completed_with_errors"

    # When it is retried with the database back, and the bus refuses the retry's ending once
    world.customers.failing_numbers.clear()
    world.pipeline.retry_failed(ORG, job_id, "alice")
    prepared = world.pipeline.stage_retry(ORG, job_id, 1)
    for batch in world.objects.get_json(prepared["manifest_key"]):
        world.pipeline.import_batch(ORG, job_id, batch)
    bus.refusals = 1
    with pytest.raises(TransientImportError):
        world.pipeline.finalize(ORG, job_id)
    world.pipeline.finalize(ORG, job_id)

    # Then the retry's ending is announced too, once, with an id of its own
    assert [d["event_id"] for _, d in bus.events] == [first["event_id"], f"{job_id}:completed:1"]


def test_a_closed_job_whose_end_the_bus_refused_is_announced_when_close_runs_again() -> None:
    # Given a job waiting for its decision, whose close (it expired) the bus refused to announce
    world = World()
    bus = announcing(world)
    job_id = run_to_ready(world, techman_csv(customers(2)))
    bus.refusals = 1
    with pytest.raises(TransientImportError):
        world.pipeline.close(ORG, job_id, "expired", None)

    # When CloseJob runs again
    world.pipeline.close(ORG, job_id, "expired", None)

    # Then the job's end was announced once
    assert [(d["job_id"], d["status"]) for _, d in bus.events] == [(job_id, "expired")]


def test_a_cancel_the_bus_refused_still_ends_the_wait_and_cancel_job_announces_it() -> None:
    # Given a job waiting for its decision, and a bus that refuses the next event
    world = World()
    bus = announcing(world)
    job_id = run_to_ready(world, techman_csv(customers(2)))
    bus.refusals = 1

    # When a person cancels it
    job = world.pipeline.cancel(ORG, job_id, "alice")

    # Then it is cancelled, the wait ends with the error the ASL catches, and it is audited,
    # though nothing was announced yet
    assert job.status is JobStatus.CANCELLED
    assert world.workflow.failures == [("token-1", "JobCancelled", "Cancelled by alice")]
    audited = [e.action for e in world.audit.entries(ORG) if e.job_id == job_id]
    assert audited == ["import.cancelled"]
    assert bus.events == []

    # And the state machine's CancelJob, which that error leads to, announces it once
    world.pipeline.close(ORG, job_id, "cancelled", {"Error": "JobCancelled"})
    world.pipeline.close(ORG, job_id, "cancelled", {"Error": "JobCancelled"})
    assert [(d["job_id"], d["status"]) for _, d in bus.events] == [(job_id, "cancelled")]


def test_a_cancel_whose_own_write_is_throttled_changes_nothing() -> None:
    # Given a job waiting for its decision, and a job store that is throttling
    world = World()
    announcing(world)
    job_id = run_to_ready(world, techman_csv(customers(2)))
    jobs = world.pipeline.jobs

    def throttled(*_args: Any, **_changes: Any) -> Any:
        raise TransientImportError("DynamoDB is throttling")

    world.pipeline.jobs.transition = throttled  # type: ignore[method-assign]

    # When a person cancels it
    with pytest.raises(TransientImportError):
        world.pipeline.cancel(ORG, job_id, "alice")

    # Then the job still waits, and the wait was not ended
    assert jobs.get(ORG, job_id).status is JobStatus.READY
    assert world.workflow.failures == []


def test_a_rejection_the_bus_refused_is_announced_and_audited_when_validate_runs_again() -> None:
    # Given a file that is no Techman export, whose rejection the bus refuses to announce
    world = World()
    bus = announcing(world)
    job_id = uploaded(world, b"Name,Colour\nAnn,blue\n")
    bus.refusals = 1
    with pytest.raises(TransientImportError):
        world.pipeline.validate(ORG, job_id)

    # When Validate runs again
    assert world.pipeline.validate(ORG, job_id) == {"rejected": True}

    # Then the rejection was announced once, and audited once
    assert [(d["job_id"], d["status"]) for _, d in bus.events] == [(job_id, "rejected")]
    audited = [e.action for e in world.audit.entries(ORG) if e.job_id == job_id]
    assert audited.count("import.rejected") == 1
