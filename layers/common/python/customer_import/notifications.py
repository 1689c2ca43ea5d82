"""`Import Finished` (design §5.6): when a job ends, an event on the stack's event bus tells
automation (the ERP that dropped the file) how it ended, without polling.

It is announced by the job store itself, once the transition to the final status is stored,
so every way a job ends (Finalize, CloseJob, Validate's rejection, a cancel, the stuck-jobs
sweep) announces it, and a consumer that reads the job on receiving the event finds it ended.
The job notes the ending it announced; when the bus refuses an event, the step fails
transiently, and its retry (Finalize, CloseJob, Validate) announces the ending it finds
unannounced: at least once, a repeat told apart by its `event_id`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from .imports.finalize import SUMMARY_COUNTERS
from .jobs import Job, JobStatus
from .ports import BatchOutcome, JobStore

EVENT_SOURCE = "customer-import"
IMPORT_FINISHED = "Import Finished"
# How an import ends (a rollback's end is not an import's).
FINISHED = frozenset(
    {
        JobStatus.COMPLETED,
        JobStatus.COMPLETED_WITH_ERRORS,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
        JobStatus.REJECTED,
        JobStatus.EXPIRED,
    }
)


class EventBus(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        """Put one event of the product's source; raise when the bus did not take it."""


def import_finished(job: Job) -> dict[str, Any]:
    """The event's detail: which job of which organisation, how it ended, its counts and
    where its error log is (a key of the upload bucket, or null)."""
    return {
        "job_id": job.job_id,
        "org_id": job.org_id,
        "profile": job.options.profile,
        "account": job.account_id,
        "file_name": job.file_name,
        "source": job.source,
        "mode": str(job.options.mode),
        "status": str(job.status),
        "reason": job.reason,
        "retries": job.counter("retries"),
        "counts": {name: job.counter(name) for name in SUMMARY_COUNTERS},
        "error_log_key": job.error_log_key,
        "finished_at": job.updated_at,
        # The same for the same ending: a consumer drops a second delivery by it.
        "event_id": _event_id(job),
    }


def _event_id(job: Job) -> str:
    return f"{job.job_id}:{job.status}:{job.counter('retries')}"


class AnnouncingJobStore:
    """A `JobStore` that announces each job's ending once the transition is stored."""

    def __init__(self, jobs: JobStore, bus: EventBus) -> None:
        self.jobs = jobs
        self.bus = bus

    def transition(self, org_id: str, job_id: str, to: JobStatus, **changes: Any) -> Job:
        job = self.jobs.transition(org_id, job_id, to, **changes)
        return self._announce(job) if to in FINISHED else job

    def announce_unannounced(self, job: Job) -> Job:
        if job.status in FINISHED and job.announced_event_id != _event_id(job):
            return self._announce(job)
        return job

    def _announce(self, job: Job) -> Job:
        """Publish the ending, then note it on the job: a step that fails in between is run
        again and announces it again (at least once; consumers drop repeats by `event_id`)."""
        detail = import_finished(job)
        self.bus.publish(IMPORT_FINISHED, detail)
        self.jobs.update(job.org_id, job.job_id, announced_event_id=detail["event_id"])
        return replace(job, announced_event_id=detail["event_id"])

    def create(self, job: Job) -> bool:
        return self.jobs.create(job)

    def get(self, org_id: str, job_id: str) -> Job:
        return self.jobs.get(org_id, job_id)

    def update(self, org_id: str, job_id: str, **changes: Any) -> Job:
        return self.jobs.update(org_id, job_id, **changes)

    def claim_execution(self, org_id: str, job_id: str, execution_id: str) -> bool:
        return self.jobs.claim_execution(org_id, job_id, execution_id)

    def record_batch(self, org_id: str, job_id: str, outcome: BatchOutcome) -> Job | None:
        return self.jobs.record_batch(org_id, job_id, outcome)

    def batch_outcomes(self, job_id: str) -> list[BatchOutcome]:
        return self.jobs.batch_outcomes(job_id)

    def unsettled(self, status: JobStatus, changed_before: str) -> list[tuple[str, str]]:
        return self.jobs.unsettled(status, changed_before)
