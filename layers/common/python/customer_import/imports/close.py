"""CloseJob: end a job that will not import (expired, cancelled or failed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..jobs import JobStatus
from ..ports import JobStore
from ..progress import ProgressBroadcaster
from .shared import JobAudit, error_reason, must_be_able_to_become


@dataclass(eq=False)
class CloseJob:
    jobs: JobStore
    broadcaster: ProgressBroadcaster
    audit: JobAudit

    def __call__(
        self, org_id: str, job_id: str, status: str, error: dict[str, Any] | None
    ) -> dict[str, Any]:
        """End a job that will not import: expired, cancelled or failed. Safe to repeat."""
        target = JobStatus(status)
        if target not in (JobStatus.EXPIRED, JobStatus.CANCELLED, JobStatus.FAILED):
            raise ValueError(f"close() ends jobs as expired, cancelled or failed, not {status}")
        job = self.jobs.get(org_id, job_id)
        if job.status is target:  # a retry of the step that ended it
            self.jobs.announce_unannounced(job)
            return {"status": str(job.status)}
        reasons = {
            JobStatus.EXPIRED: "Nobody decided in time: the import expired",
            JobStatus.CANCELLED: "Cancelled",
        }
        reason = job.reason or reasons.get(target) or f"Import failed: {error_reason(error or {})}"
        must_be_able_to_become(job, target)
        self.audit.record(job, f"import.{target}", "system", reason=reason)  # first, as in finalize
        job = self.jobs.transition(org_id, job_id, target, reason=reason)
        self.broadcaster.publish(job, "completed")
        return {"status": str(job.status)}
