"""Jobs that never got going: failed, with a reason the user sees, instead of waiting forever.

A job waits in `pending` for its upload's start and in `validating` for its first step. If the
event that starts the import is lost (Lambda's asynchronous retries run out, EventBridge gives
up) or the execution dies before Validate moves the job on, nothing else will ever move it. A
scheduled sweep finds such jobs through the jobs table's sparse index of unsettled jobs (by
status and last change), never a scan, and fails each with its reason and an audit entry.
A failed job's `Import Finished` the bus refuses is offered again a few times in the same run;
what it still refuses is reported, as no later sweep finds a settled job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .audit import AuditEntry
from .backoff import retry_transient
from .errors import InvalidTransition, JobNotFound, TransientImportError
from .imports.shared import end_announced_later
from .jobs import Job, JobStatus
from .ports import AuditLog, JobStore
from .progress import ProgressBroadcaster

# The statuses a job waits in for something outside it; any later one has a step running it
# (with its own timeouts and the workflow's Catch) or is final.
UNSETTLED_STATUSES = (JobStatus.PENDING, JobStatus.VALIDATING)

# Well past every retry that could still start or move a job: EventBridge retries the start
# for an hour, Lambda's asynchronous queue keeps it an hour more, a presigned upload form
# expires within the hour, and Validate reads the head of the file in seconds.
STUCK_AFTER = timedelta(hours=3)

REASONS = {
    JobStatus.PENDING: (
        "The import never started: no upload arrived, or its start was lost, within {hours} "
        "hours. Upload the file again."
    ),
    JobStatus.VALIDATING: (
        "The import stopped while the file was being checked and did not go on within {hours} "
        "hours. Upload the file again."
    ),
}


# How often the sweep offers a job's ending to a bus that refuses it: it runs again only on
# jobs still unsettled, so an ending it failed to announce is reported instead.
ANNOUNCE_ATTEMPTS = 4


@dataclass(frozen=True)
class SweepResult:
    failed: tuple[tuple[str, str], ...]  # (org_id, job_id) of each job this sweep failed
    # Of those, the ones whose `Import Finished` the bus refused every time
    unannounced: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "failed": len(self.failed),
            "jobs": [{"org_id": org, "job_id": job} for org, job in self.failed],
            "unannounced": [{"org_id": org, "job_id": job} for org, job in self.unannounced],
        }


class StuckJobSweeper:
    def __init__(
        self,
        jobs: JobStore,
        audit: AuditLog,
        broadcaster: ProgressBroadcaster,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.jobs = jobs
        self.audit = audit
        self.broadcaster = broadcaster
        self.clock = clock
        self.sleep = sleep

    def sweep(self, stuck_after: timedelta = STUCK_AFTER) -> SweepResult:
        now = self.clock()
        cutoff = (now - stuck_after).isoformat(timespec="milliseconds")
        failed, unannounced = [], []
        for status in UNSETTLED_STATUSES:
            for org_id, job_id in self.jobs.unsettled(status, changed_before=cutoff):
                job = self._fail(org_id, job_id, status, cutoff, stuck_after, now)
                if job is None:
                    continue
                failed.append((org_id, job_id))
                if not self._announced(job):
                    unannounced.append((org_id, job_id))
        return SweepResult(tuple(failed), tuple(unannounced))

    def _fail(
        self,
        org_id: str,
        job_id: str,
        status: JobStatus,
        cutoff: str,
        stuck_after: timedelta,
        now: datetime,
    ) -> Job | None:
        """Fail one job found stuck in `status`; None if it moved on since it was found."""
        try:
            job = self.jobs.get(org_id, job_id)
        except JobNotFound:
            return None
        if job.status is not status or job.updated_at >= cutoff:
            return None
        hours = round(stuck_after.total_seconds() / 3600, 1)
        reason = REASONS[status].format(hours=f"{hours:g}")
        # The entry first, as Finalize and CloseJob do: a job that shows its outcome has it.
        self._audit(job, reason, now)
        try:
            job = end_announced_later(self.jobs, org_id, job_id, JobStatus.FAILED, reason=reason)
        except InvalidTransition:
            return None  # it moved on between the read and the write
        self.broadcaster.publish(job, "completed")
        return job

    def _announced(self, job: Job) -> bool:
        """Announce a failed job's ending if its transition could not: True once announced."""
        try:
            retry_transient(
                lambda: self.jobs.announce_unannounced(job),
                lambda exc: isinstance(exc, TransientImportError),
                attempts=ANNOUNCE_ATTEMPTS,
                sleep=self.sleep,
            )
        except TransientImportError:
            return False
        return True

    def _audit(self, job: Job, reason: str, now: datetime) -> None:
        self.audit.record(
            AuditEntry(
                org_id=job.org_id,
                job_id=job.job_id,
                action=f"import.{JobStatus.FAILED}",
                actor="system",
                at=now.isoformat(timespec="milliseconds"),
                job_created_at=job.created_at,
                details={
                    "file": job.file_name,
                    "source": job.source,
                    "mode": str(job.options.mode),
                    "reason": reason,
                    "stuck_in": str(job.status),
                },
            )
        )
