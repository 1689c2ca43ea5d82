"""Jobs stuck in pending or validating are failed by the sweep, with a reason the user sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from customer_import.errors import TransientImportError
from customer_import.jobs import Job, JobStatus
from customer_import.notifications import AnnouncingJobStore
from customer_import.stuck_jobs import STUCK_AFTER, StuckJobSweeper

from tests.fakes import World

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _job(world: World, job_id: str, status: JobStatus, changed: datetime) -> None:
    at = changed.isoformat(timespec="milliseconds")
    world.jobs.create(
        Job(
            org_id="org-a",
            job_id=job_id,
            status=status,
            source="techman",
            account_id="main",
            file_name=f"{job_id}.csv",
            object_key=f"uploads/org-a/{job_id}/{job_id}.csv",
            created_at=at,
            updated_at=at,
        )
    )


def _sweeper(world: World) -> StuckJobSweeper:
    return StuckJobSweeper(world.jobs, world.audit, world.broadcaster, clock=lambda: NOW)


def test_jobs_unchanged_in_pending_or_validating_for_too_long_are_failed_with_a_reason() -> None:
    # Given a job pending and one validating since before the threshold
    world = World()
    long_ago = NOW - STUCK_AFTER - timedelta(minutes=1)
    _job(world, "never-started", JobStatus.PENDING, long_ago)
    _job(world, "stopped", JobStatus.VALIDATING, long_ago)
    # When the sweep runs
    result = _sweeper(world).sweep()
    # Then both are failed, each with the reason the user sees on the job
    assert sorted(job for _, job in result.failed) == ["never-started", "stopped"]
    never_started = world.jobs.get("org-a", "never-started")
    assert never_started.status is JobStatus.FAILED
    assert never_started.reason is not None
    assert never_started.reason.startswith("The import never started")
    assert "within 3 hours" in never_started.reason
    stopped = world.jobs.get("org-a", "stopped")
    assert stopped.status is JobStatus.FAILED
    assert stopped.reason is not None
    assert stopped.reason.startswith("The import stopped while the file was being checked")
    # And the audit log says so, by the system, with the status each was stuck in
    entries = {e.job_id: e for e in world.audit.entries("org-a")}
    assert entries["never-started"].action == "import.failed"
    assert entries["never-started"].actor == "system"
    assert entries["never-started"].details["stuck_in"] == "pending"
    assert entries["never-started"].details["reason"] == never_started.reason
    assert entries["stopped"].details["stuck_in"] == "validating"


def test_recent_and_moving_jobs_are_left_alone() -> None:
    # Given a job pending for less than the threshold, and old jobs in later statuses
    world = World()
    _job(world, "recent", JobStatus.PENDING, NOW - STUCK_AFTER + timedelta(minutes=1))
    long_ago = NOW - STUCK_AFTER - timedelta(hours=1)
    for status in (JobStatus.PREPARING, JobStatus.READY, JobStatus.IMPORTING, JobStatus.COMPLETED):
        _job(world, f"old-{status}", status, long_ago)
    # When the sweep runs
    result = _sweeper(world).sweep()
    # Then nothing is failed and nothing is written to the audit log
    assert result.failed == ()
    assert world.jobs.get("org-a", "recent").status is JobStatus.PENDING
    assert world.jobs.get("org-a", "old-ready").status is JobStatus.READY
    assert world.audit.entries("org-a") == []


def test_subscribers_hear_that_the_job_failed() -> None:
    # Given a stuck job that a connection follows
    world = World()
    _job(world, "stuck", JobStatus.PENDING, NOW - STUCK_AFTER - timedelta(minutes=1))
    world.connections.add("c1", "org-a", "alice")
    world.connections.subscribe("c1", "org-a", "stuck")
    # When the sweep fails it
    _sweeper(world).sweep()
    # Then the subscriber gets the final push with the reason
    [(connection, message)] = world.sender.sent
    assert connection == "c1"
    assert (message["type"], message["status"]) == ("completed", "failed")
    assert message["reason"].startswith("The import never started")


class RefusingBus:
    """A bus that refuses the next `refusals` events and keeps the rest."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.job_ids: list[str] = []

    def publish(self, _detail_type: str, detail: dict[str, Any]) -> None:
        if self.refusals:
            self.refusals -= 1
            raise TransientImportError("EventBridge did not take the event: InternalFailure")
        self.job_ids.append(detail["job_id"])


def test_an_ending_the_bus_refuses_is_announced_again_and_the_other_stuck_jobs_still_fail() -> None:
    # Given two stuck jobs, a bus that refuses the first ending once, and one that refuses
    # every attempt at the second
    world = World()
    long_ago = NOW - STUCK_AFTER - timedelta(minutes=1)
    _job(world, "first", JobStatus.PENDING, long_ago)
    _job(world, "second", JobStatus.VALIDATING, long_ago)
    bus = RefusingBus(refusals=1)
    jobs = AnnouncingJobStore(world.jobs, bus)
    sweeper = StuckJobSweeper(
        jobs, world.audit, world.broadcaster, clock=lambda: NOW, sleep=lambda _s: None
    )

    # When the sweep runs
    result = sweeper.sweep()

    # Then both jobs failed, and the refused ending was announced by a second attempt
    assert sorted(job for _, job in result.failed) == ["first", "second"]
    assert bus.job_ids == ["first", "second"]
    assert result.unannounced == ()

    # And an ending the bus keeps refusing is reported, the job failed all the same
    _job(world, "third", JobStatus.PENDING, long_ago)
    bus.refusals = 1_000
    result = sweeper.sweep()
    assert result.failed == (("org-a", "third"),)
    assert result.to_dict()["unannounced"] == [{"org_id": "org-a", "job_id": "third"}]
    assert world.jobs.get("org-a", "third").status is JobStatus.FAILED
